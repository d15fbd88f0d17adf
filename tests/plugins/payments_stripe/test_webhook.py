"""The webhook: signed events about real PaymentIntents at localstripe, delivered to the
app, each applied once; forged, tampered, expired and replayed deliveries refused or
ignored with nothing changed."""
import json
import time

import pytest
import sqlalchemy as sa

from plugins.orders.models import Note
from plugins.payments_stripe.models import WebhookEvent

from .conftest import API, NAME, assert_error, deliver, placed
from .stripe_fake import DECLINED_CARD, body_of, free_port, make_event, sign

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"


def intent_id(order):
    return order["payment"]["client_secret"].split("_secret_")[0]


def levels(stock, variant_id):
    level = stock(variant_id)
    return level.on_hand, level.reserved


def events(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(sa.select(WebhookEvent).order_by(WebhookEvent.id)).all()


def notes(dbsession):
    dbsession.expire_all()
    return [note.body for note in dbsession.scalars(sa.select(Note).order_by(Note.id))]


def statuses(buyer, number):
    return [entry["to"] for entry in buyer.order(number).json["status_history"]]


@pytest.fixture
def order(stripe_buyer, stripe_plugin):
    """An order of two red mugs (25.00) waiting for its Stripe payment."""
    return placed(stripe_buyer)


@pytest.fixture
def paid_intent(order, stripe_plugin):
    """The order's PaymentIntent, paid with a card at localstripe (no webhook came yet)."""
    intent = stripe_plugin.pay(intent_id(order))
    assert intent["status"] == "succeeded"
    return intent


# --- the payment succeeded ------------------------------------------------------------------


def test_a_signed_success_pays_the_order_once(testapp, order, paid_intent, buyer, stock, red,
                                              dbsession):
    assert levels(stock, red) == (10, 2)
    event = make_event(SUCCEEDED, paid_intent)
    answer = deliver(testapp, event).json
    assert answer == {"received": True, "duplicate": False, "event_id": event["id"],
                      "type": SUCCEEDED, "outcome": "paid", "order_number": order["number"]}
    seen = buyer.order(order["number"]).json
    assert seen["status"] == "processing" and seen["paid"] == "25.00"
    assert seen["payment"] == {"provider": "stripe", "status": "paid", "client_secret": None,
                               "instructions": "", "amount": "25.00"}
    assert levels(stock, red) == (8, 0)
    # Stripe delivers it again (a lost answer, a retry): nothing changes
    again = deliver(testapp, event).json
    assert again["duplicate"] is True and again["outcome"] == "paid"
    assert statuses(buyer, order["number"]) == ["payment_pending", "processing"]
    assert levels(stock, red) == (8, 0)
    (record,) = events(dbsession)
    assert (record.event_id, record.type, record.object_id, record.order_number,
            record.outcome) == (event["id"], SUCCEEDED, paid_intent["id"], order["number"],
                                "paid")
    assert record.created_at is not None and record.livemode is False


def test_another_event_for_a_paid_order_changes_nothing(testapp, order, paid_intent, buyer,
                                                        stock, red):
    deliver(testapp, make_event(SUCCEEDED, paid_intent))
    answer = deliver(testapp, make_event(SUCCEEDED, paid_intent)).json
    assert answer["duplicate"] is False and answer["outcome"] == "already_paid"
    assert statuses(buyer, order["number"]) == ["payment_pending", "processing"]
    assert levels(stock, red) == (8, 0)


def test_a_success_for_another_amount_is_not_accepted(testapp, order, paid_intent, buyer,
                                                      dbsession, stock, red):
    tampered = dict(paid_intent, amount=1, amount_received=1)
    answer = deliver(testapp, make_event(SUCCEEDED, tampered)).json
    assert answer["outcome"] == "amount_mismatch"
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    assert levels(stock, red) == (10, 2)
    (note,) = notes(dbsession)
    assert paid_intent["id"] in note and "0.01 EUR" in note


def test_a_success_in_another_currency_is_not_accepted(testapp, order, paid_intent, buyer):
    answer = deliver(testapp, make_event(SUCCEEDED, dict(paid_intent, currency="usd"))).json
    assert answer["outcome"] == "amount_mismatch"
    assert buyer.order(order["number"]).json["status"] == "payment_pending"


def test_a_success_without_a_readable_amount_is_not_accepted(testapp, order, paid_intent,
                                                             buyer):
    answer = deliver(testapp, make_event(SUCCEEDED, dict(paid_intent, amount="2500",
                                                         amount_received=None))).json
    assert answer["outcome"] == "amount_mismatch"
    assert buyer.order(order["number"]).json["status"] == "payment_pending"


def test_events_about_unknown_payments_are_answered_and_ignored(testapp, stripe_plugin,
                                                                dbsession):
    for obj in ({"id": "pi_unknown0000000", "object": "payment_intent", "amount": 100,
                 "currency": "eur", "status": "succeeded"},
                {"id": 42}, {}, {"id": "x" * 1000}):
        answer = deliver(testapp, make_event(SUCCEEDED, obj)).json
        assert answer["outcome"] == "unknown_payment" and answer["order_number"] is None
    assert [e.outcome for e in events(dbsession)] == ["unknown_payment"] * 4


def test_other_event_types_are_recorded_and_not_handled(testapp, order, stripe_plugin):
    intent = stripe_plugin.intent(intent_id(order))
    answer = deliver(testapp, make_event("payment_intent.created", intent)).json
    assert answer["outcome"] == "not_handled" and answer["order_number"] == order["number"]
    answer = deliver(testapp, make_event("customer.created", {"id": "cus_1"})).json
    assert answer["outcome"] == "not_handled" and answer["order_number"] is None


# --- the payment failed -----------------------------------------------------------------------


def test_a_declined_card_fails_the_order_and_releases_its_stock(testapp, order, buyer,
                                                                stripe_plugin, stock, red):
    intent = stripe_plugin.pay(intent_id(order), card=DECLINED_CARD)
    assert intent["status"] == "requires_payment_method" and intent["last_payment_error"]
    answer = deliver(testapp, make_event(FAILED, intent)).json
    assert answer["outcome"] == "failed"
    seen = buyer.order(order["number"]).json
    assert seen["status"] == "failed" and seen["payment"]["status"] == "cancelled"
    assert seen["status_history"][-1]["note"] == "Stripe: Your card was declined."
    assert levels(stock, red) == (10, 0)
    # the intent can no longer be paid for a failed order
    assert stripe_plugin.intent(intent["id"])["status"] == "canceled"


def test_a_failure_after_the_success_is_ignored(testapp, order, paid_intent, buyer,
                                               stripe_plugin):
    deliver(testapp, make_event(SUCCEEDED, paid_intent))
    failed = dict(paid_intent, status="requires_payment_method",
                  last_payment_error={"message": "declined"})
    assert deliver(testapp, make_event(FAILED, failed)).json["outcome"] == "ignored"
    assert buyer.order(order["number"]).json["status"] == "processing"


def test_a_failure_reported_while_the_money_arrived_does_not_fail_the_order(
        testapp, order, paid_intent, buyer, stock, red):
    # out of order: the first card was declined, the second one paid; Stripe's failure
    # event arrives first. Stripe says the intent succeeded: the order keeps waiting
    failed = dict(paid_intent, status="requires_payment_method",
                  last_payment_error={"message": "declined"})
    assert deliver(testapp, make_event(FAILED, failed)).json["outcome"] == "refused"
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    assert deliver(testapp, make_event(SUCCEEDED, paid_intent)).json["outcome"] == "paid"
    assert levels(stock, red) == (8, 0)


def test_an_intent_cancelled_at_stripe_fails_the_order(testapp, order, buyer, stripe_plugin):
    intent = stripe_plugin.client.v1.payment_intents.cancel(intent_id(order)).to_dict()
    answer = deliver(testapp, make_event("payment_intent.canceled", intent)).json
    assert answer["outcome"] == "failed"
    seen = buyer.order(order["number"]).json
    assert seen["status"] == "failed"
    assert seen["status_history"][-1]["note"] == "Stripe: cancelled at Stripe"


def test_a_customer_cancelling_cancels_the_intent(order, buyer, stripe_plugin):
    assert buyer.cancel(order["number"]).json["status"] == "cancelled"
    assert stripe_plugin.intent(intent_id(order))["status"] == "canceled"


def test_a_customer_cannot_cancel_an_order_stripe_has_the_money_for(order, paid_intent, buyer,
                                                                    stock, red):
    response = buyer.cancel(order["number"], status=409)
    assert_error(response, 409, "stripe_payment_succeeded")
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    assert levels(stock, red) == (10, 2)


def test_a_payment_arriving_after_the_order_failed_is_given_back(
        testapp, order, paid_intent, buyer, stripe_plugin, monkeypatch, dbsession):
    # the race the provider's cancel cannot close: Stripe took the money just after the
    # order failed. Here the order fails without asking Stripe, as if it had been then
    from plugins.payments_stripe.provider import StripeProvider

    monkeypatch.setattr(StripeProvider, "cancel", lambda self, order, request: None)
    intent_now = dict(paid_intent, status="requires_payment_method",
                      last_payment_error={"message": "declined"})
    assert deliver(testapp, make_event(FAILED, intent_now)).json["outcome"] == "failed"
    monkeypatch.undo()
    answer = deliver(testapp, make_event(SUCCEEDED, paid_intent)).json
    assert answer["outcome"] == "late_refunded"
    seen = buyer.order(order["number"]).json
    assert seen["status"] == "failed"
    assert (seen["paid"], seen["refunded"]) == ("25.00", "25.00")
    (refund,) = stripe_plugin.refunds(paid_intent["id"])
    assert refund["amount"] == 2500


def test_a_late_payment_is_left_to_staff_when_the_setting_says_so(
        testapp, order, paid_intent, buyer, stripe_plugin, stripe_settings, monkeypatch,
        dbsession):
    from plugins.payments_stripe.provider import StripeProvider

    stripe_settings(refund_late_payments=False)
    monkeypatch.setattr(StripeProvider, "cancel", lambda self, order, request: None)
    buyer.cancel(order["number"])
    monkeypatch.undo()
    answer = deliver(testapp, make_event(SUCCEEDED, paid_intent)).json
    assert answer["outcome"] == "late"
    seen = buyer.order(order["number"]).json
    assert (seen["status"], seen["paid"], seen["refunded"]) == ("cancelled", "25.00", "0.00")
    assert stripe_plugin.refunds(paid_intent["id"]) == []
    assert any("refund it" in note for note in notes(dbsession))


# --- refused deliveries -----------------------------------------------------------------------


@pytest.fixture
def success(order, paid_intent):
    return make_event(SUCCEEDED, paid_intent)


def assert_unchanged(buyer, order, dbsession):
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    assert events(dbsession) == []


def test_a_forged_signature_is_refused(testapp, success, order, buyer, dbsession):
    response = deliver(testapp, success, secret="whsec_not_the_shops", status=400)
    assert_error(response, 400, "invalid_signature")
    assert_unchanged(buyer, order, dbsession)


@pytest.mark.parametrize("header", [False, "", "garbage", "t=abc,v1=00", "v1=00",
                                    "t=1700000000", "t=1700000000,v0=00"])
def test_a_missing_or_malformed_signature_is_refused(testapp, success, order, buyer, dbsession,
                                                     header):
    response = deliver(testapp, success, header=header, status=400)
    assert_error(response, 400, "invalid_signature")
    assert_unchanged(buyer, order, dbsession)


def test_an_expired_signature_is_refused(testapp, success, order, buyer, dbsession):
    # a delivery captured six minutes ago and replayed now
    response = deliver(testapp, success, timestamp=int(time.time()) - 360, status=400)
    assert_error(response, 400, "invalid_signature")
    assert_unchanged(buyer, order, dbsession)


def test_the_tolerance_is_a_setting(testapp, success, order, buyer, stripe_settings):
    stripe_settings(webhook_tolerance_seconds=600)
    deliver(testapp, success, timestamp=int(time.time()) - 360)
    assert buyer.order(order["number"]).json["status"] == "processing"


def test_a_body_changed_after_signing_is_refused(testapp, success, order, buyer, dbsession):
    body = body_of(success)
    header = sign(body)
    tampered = body.replace(b'"amount": 2500', b'"amount": 2501')
    assert tampered != body
    response = deliver(testapp, success, header=header, body=tampered, status=400)
    assert_error(response, 400, "invalid_signature")
    assert_unchanged(buyer, order, dbsession)


def test_a_replayed_delivery_changes_nothing(testapp, success, order, buyer, stock, red):
    body = body_of(success)
    header = sign(body)
    first = deliver(testapp, success, header=header, body=body).json
    replayed = deliver(testapp, success, header=header, body=body).json
    assert (first["duplicate"], replayed["duplicate"]) == (False, True)
    assert statuses(buyer, order["number"]) == ["payment_pending", "processing"]
    assert levels(stock, red) == (8, 0)


@pytest.mark.parametrize("body", [b"", b"not json", b"\xff\xfe", b"[]", b"42", b"{}",
                                  b'{"id": "evt_1", "type": "payment_intent.succeeded"}',
                                  b'{"id": "evt_1", "type": 7, "data": {"object": {}}}',
                                  b'{"id": "", "type": "x", "data": {"object": {}}}',
                                  b'{"id": "evt_1", "type": "x", "data": []}',
                                  b'{"id": "evt_1", "type": "x", "data": {"object": []}}',
                                  b'{"object": "v2.core.event", "id": "evt_1"}'])
def test_a_signed_body_that_is_no_event_is_refused(testapp, stripe_plugin, dbsession, body):
    response = deliver(testapp, None, body=body, status=400)
    assert_error(response, 400, "invalid_payload")
    assert events(dbsession) == []


def test_without_a_webhook_secret_events_wait(testapp, success, order, buyer, dbsession,
                                              stripe_settings):
    stripe_settings(webhook_secret=None)
    response = deliver(testapp, success, status=503)
    assert_error(response, 503, "stripe_not_configured")
    assert_unchanged(buyer, order, dbsession)


def test_the_webhook_is_404_while_the_plugin_is_disabled(testapp, success, order, buyer,
                                                         plugin_lifecycle, dbsession):
    plugin_lifecycle("disable", NAME)
    assert_error(deliver(testapp, success, status=404), 404, "not_found")
    assert events(dbsession) == []


def test_stripe_down_while_applying_an_event_answers_503_and_the_retry_applies_it(
        testapp, order, buyer, stripe_plugin, stripe_settings, dbsession, stock, red):
    intent = stripe_plugin.pay(intent_id(order), card=DECLINED_CARD)
    event = make_event(FAILED, intent)
    stripe_settings(api_base=f"http://127.0.0.1:{free_port()}", timeout_seconds=1)
    response = deliver(testapp, event, status=503)
    assert_error(response, 503, "stripe_unavailable")
    assert_unchanged(buyer, order, dbsession)
    stripe_settings(api_base=stripe_plugin.url)
    assert deliver(testapp, event).json["outcome"] == "failed"
    assert levels(stock, red) == (10, 0)


def test_the_webhook_is_in_the_openapi_document(testapp, stripe_plugin):
    document = testapp.get(f"{API}/openapi.json").json
    operation = document["paths"]["/api/v1/payments/stripe/webhook"]["post"]
    assert "Stripe-Signature" in operation["description"]


def test_the_answer_is_json_even_for_a_huge_body(testapp, stripe_plugin):
    body = json.dumps({"pad": "x" * (2 * 1024 * 1024)}).encode()
    response = deliver(testapp, None, body=body, status=413)
    assert response.json["error"]["code"] == "payload_too_large"


def test_money_taken_in_another_amount_is_given_back_when_the_order_is_cancelled(
        testapp, order, buyer, stripe_plugin, dbsession, stock, red):
    # someone changed the PaymentIntent's amount at Stripe before it was paid
    stripe_plugin.client.v1.payment_intents.update(intent_id(order), params={"amount": 1000})
    intent = stripe_plugin.pay(intent_id(order))
    assert intent["status"] == "succeeded"
    assert deliver(testapp, make_event(SUCCEEDED, intent)).json["outcome"] == "amount_mismatch"
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    # the customer gives up on it: the order is cancelled and what Stripe took goes back
    assert buyer.cancel(order["number"]).json["status"] == "cancelled"
    (refund,) = stripe_plugin.refunds(intent["id"])
    assert refund["amount"] == 1000
    assert levels(stock, red) == (10, 0)
    assert any(refund["id"] in note for note in notes(dbsession))


def test_the_dashboard_shows_what_needs_attention(testapp, staff, order, paid_intent):
    from tests.core.admin.conftest import Admin

    deliver(testapp, make_event(SUCCEEDED, dict(paid_intent, amount=1, amount_received=1)))
    admin = Admin(testapp)
    admin.login(staff)
    page = admin.get("/admin")
    widget = next(w for w in page.html.select(".widget")
                  if w.find("h2").get_text() == "Stripe payments")
    text = widget.get_text(" ", strip=True)
    assert "Webhook events (24 h) 1" in text
    assert "Orders waiting for a card payment 1" in text
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in widget.select("tbody tr")]
    assert [row[1:] for row in rows] == [[SUCCEEDED, "amount mismatch", order["number"]]]
