"""Refunds: staff refunds go through Stripe's Refund API (full or partial) and are
recorded on the order; refunds made in the Stripe Dashboard, or failing there, reach
the order through refund events (signed by the tests: localstripe sends none)."""
import pytest
import sqlalchemy as sa

from core.money import Money
from plugins.orders import services as orders
from plugins.orders.models import Note
from plugins.payments_stripe.provider import recording_external_refund

from .conftest import assert_error, deliver, placed
from .stripe_fake import make_event

SUCCEEDED = "payment_intent.succeeded"


@pytest.fixture
def paid(stripe_buyer, stripe_plugin, testapp):
    """An order of 25.00 paid at localstripe, its success delivered: (order, intent)."""
    order = placed(stripe_buyer)
    intent = stripe_plugin.pay(order["payment"]["client_secret"].split("_secret_")[0])
    assert deliver(testapp, make_event(SUCCEEDED, intent)).json["outcome"] == "paid"
    return order, intent


def refunded_at_stripe(stripe_plugin, intent):
    return sorted(refund["amount"] for refund in stripe_plugin.refunds(intent["id"]))


def test_a_partial_then_full_refund_go_through_stripe(paid, desk, stripe_plugin, buyer):
    order, intent = paid
    answer = desk.act(order["number"], "refund", {"amount": "5.00", "note": "one chipped"}).json
    assert (answer["refunded"], answer["refundable"]) == ("5.00", "20.00")
    (refund,) = answer["refunds"]
    assert refund["provider"] == "stripe" and refund["provider_amount"] == "5.00"
    (at_stripe,) = stripe_plugin.refunds(intent["id"])
    assert refund["reference"] == at_stripe["id"] and at_stripe["amount"] == 500
    assert at_stripe["metadata"] == {"order_number": order["number"]}
    answer = desk.act(order["number"], "refund", {"note": "all of it"}).json
    assert (answer["refunded"], answer["refundable"]) == ("25.00", "0.00")
    assert refunded_at_stripe(stripe_plugin, intent) == [500, 2000]
    assert answer["payments"][0]["refunded"] == "25.00"
    assert buyer.order(order["number"]).json["refunded"] == "25.00"


def test_a_refund_is_sent_with_an_idempotency_key_of_the_order_and_the_refund(
        paid, desk, stripe_plugin, monkeypatch):
    from plugins.payments_stripe import gateway

    sent = []
    real = gateway.create_refund
    monkeypatch.setattr(gateway, "create_refund", lambda request, params, key: (
        sent.append((params, key)), real(request, params, key))[1])
    order, intent = paid
    desk.act(order["number"], "refund", {"amount": "5.00"})
    desk.act(order["number"], "refund", {"amount": "1.50"})
    assert [key for _params, key in sent] == [
        f"emporium:{order['number']}:refund:1:500", f"emporium:{order['number']}:refund:2:150"]
    assert sent[0][0] == {"payment_intent": intent["id"], "amount": 500,
                          "metadata": {"order_number": order["number"]}}


def test_cancelling_a_paid_order_refunds_it_at_stripe(paid, buyer, stripe_plugin):
    order, intent = paid
    seen = buyer.cancel(order["number"]).json
    assert seen["status"] == "refunded" and seen["refunded"] == "25.00"
    assert refunded_at_stripe(stripe_plugin, intent) == [2500]


def test_a_refund_stripe_refuses_changes_nothing(paid, desk, stripe_plugin, monkeypatch):
    order, _intent = paid
    # Stripe refuses to refund a payment that took no money ("Cannot refund a failed
    # payment."): the refund is pointed at such a PaymentIntent
    other = stripe_plugin.client.v1.payment_intents.create(params={"amount": 100,
                                                                   "currency": "eur"})

    from plugins.payments_stripe import gateway

    real = gateway.create_refund
    monkeypatch.setattr(gateway, "create_refund", lambda request, params, key: real(
        request, dict(params, payment_intent=other.id), key))
    response = desk.act(order["number"], "refund", {"amount": "5.00"}, status=422)
    assert_error(response, 422, "stripe_refused")
    seen = desk.get(order["number"]).json
    assert (seen["refunded"], seen["refunds"]) == ("0.00", [])


def test_a_refund_while_stripe_is_down_changes_nothing(paid, desk, stripe_settings):
    from .stripe_fake import free_port

    order, _intent = paid
    stripe_settings(api_base=f"http://127.0.0.1:{free_port()}", timeout_seconds=1)
    response = desk.act(order["number"], "refund", {"amount": "5.00"}, status=503)
    assert_error(response, 503, "stripe_unavailable")
    assert desk.get(order["number"]).json["refunded"] == "0.00"


@pytest.fixture
def card_order(stripe_buyer, stripe_plugin, testapp, staff, dbsession, install_plugin):
    """An order of 25.00, 10.00 from a gift card and 15.00 to pay with Stripe:
    (order, cards, code)."""
    from tests.plugins.giftcards.conftest import Cards

    install_plugin("giftcards")
    cards = Cards(testapp, staff, dbsession)
    code = cards.issue("10.00")
    order = placed(stripe_buyer, gift_card_codes=[code])
    assert (order["tender_total"], order["amount_due"]) == ("10.00", "15.00")
    return order, cards, code


@pytest.fixture
def paid_with_a_card(card_order, stripe_plugin, testapp):
    """``card_order`` paid at localstripe: (order, intent, cards, code)."""
    order, cards, code = card_order
    intent = stripe_plugin.pay(order["payment"]["client_secret"].split("_secret_")[0])
    assert deliver(testapp, make_event(SUCCEEDED, intent)).json["outcome"] == "paid"
    return order, intent, cards, code


def test_a_refund_the_gift_card_covers_asks_nothing_of_stripe(paid_with_a_card, desk,
                                                             stripe_plugin):
    order, intent, cards, code = paid_with_a_card
    answer = desk.act(order["number"], "refund", {"amount": "4.00"}).json
    assert (answer["refunds"][0]["provider_amount"], answer["payments"][0]["refunded"]) == (
        "0.00", "0.00")
    assert cards.balance(code) == 400
    assert stripe_plugin.refunds(intent["id"]) == []
    # 6.00 left on the card's tender, 4.00 from Stripe
    answer = desk.act(order["number"], "refund", {"amount": "10.00"}).json
    assert cards.balance(code) == 1000
    assert refunded_at_stripe(stripe_plugin, intent) == [400]
    assert answer["payments"][0]["refunded"] == "4.00"


def test_a_late_payment_goes_back_to_stripe_not_to_the_gift_card(
        card_order, testapp, staff, buyer, stripe_plugin, monkeypatch):
    from plugins.payments_stripe.provider import StripeProvider

    order, cards, code = card_order
    testapp.put_json("/api/v1/admin/plugins/orders/settings", {"refund_on_cancel": False},
                     headers=staff.headers)
    # cancelled without asking Stripe, as if Stripe had taken the money just after
    monkeypatch.setattr(StripeProvider, "cancel", lambda self, order, request: None)
    buyer.cancel(order["number"])
    monkeypatch.undo()
    intent = stripe_plugin.pay(order["payment"]["client_secret"].split("_secret_")[0])
    assert deliver(testapp, make_event(SUCCEEDED, intent)).json["outcome"] == "late_refunded"
    assert refunded_at_stripe(stripe_plugin, intent) == [1500]
    assert cards.balance(code) == 0  # the card's 10.00 waits for staff, as the order says
    seen = buyer.order(order["number"]).json
    assert (seen["status"], seen["paid"], seen["refunded"]) == ("cancelled", "25.00", "15.00")


# --- refunds made or failed at Stripe -----------------------------------------------------------


def test_a_refund_made_in_the_dashboard_is_recorded_once(paid, testapp, desk, stripe_plugin,
                                                         buyer):
    order, intent = paid
    refund = stripe_plugin.refund(intent["id"], 300)  # in Stripe's Dashboard
    answer = deliver(testapp, make_event("refund.created", refund)).json
    assert answer["outcome"] == "refund_recorded" and answer["order_number"] == order["number"]
    seen = desk.get(order["number"]).json
    assert seen["refunded"] == "3.00"
    (recorded,) = seen["refunds"]
    assert (recorded["provider"], recorded["reference"], recorded["provider_amount"]) == (
        "stripe", refund["id"], "3.00")
    # no second refund was asked of Stripe
    assert refunded_at_stripe(stripe_plugin, intent) == [300]
    # the charge's event about the same refund finds it known
    charge = stripe_plugin.intent(intent["id"])["latest_charge"]
    answer = deliver(testapp, make_event("charge.refunded", charge)).json
    assert answer["outcome"] == "refund_known"
    assert desk.get(order["number"]).json["refunded"] == "3.00"
    assert buyer.order(order["number"]).json["status"] == "processing"


def test_a_dashboard_refund_is_recorded_as_stripe_s_not_the_gift_card_s(
        paid_with_a_card, testapp, desk, stripe_plugin):
    order, intent, cards, code = paid_with_a_card
    refund = stripe_plugin.refund(intent["id"], 300)  # in Stripe's Dashboard
    assert deliver(testapp, make_event("refund.created", refund)).json["outcome"] == \
        "refund_recorded"
    seen = desk.get(order["number"]).json
    (recorded,) = seen["refunds"]
    assert (recorded["provider_amount"], recorded["tenders"]) == ("3.00", [])
    assert seen["payments"][0]["refunded"] == "3.00"
    assert cards.balance(code) == 0
    assert refunded_at_stripe(stripe_plugin, intent) == [300]


def test_a_refund_event_for_a_refund_of_the_shop_finds_it_known(paid, testapp, desk,
                                                                stripe_plugin):
    order, intent = paid
    desk.act(order["number"], "refund", {"amount": "5.00"})
    (refund,) = stripe_plugin.refunds(intent["id"])
    for event_type in ("refund.created", "charge.refund.updated", "refund.updated"):
        answer = deliver(testapp, make_event(event_type, refund)).json
        assert answer["outcome"] == "refund_known"
    assert desk.get(order["number"]).json["refunded"] == "5.00"


def test_a_refund_event_naming_only_the_charge_is_traced_to_its_payment(paid, testapp, desk,
                                                                        stripe_plugin):
    order, intent = paid
    refund = stripe_plugin.refund(intent["id"], 700)
    answer = deliver(testapp, make_event("refund.created", dict(refund, payment_intent=None)))
    assert answer.json["outcome"] == "refund_recorded"
    assert desk.get(order["number"]).json["refunded"] == "7.00"


def test_a_refund_that_failed_at_stripe_gets_a_staff_note(paid, testapp, stripe_plugin, desk,
                                                          task_ctx, dbsession):
    order, intent = paid
    # recorded here, but Stripe gave nothing back: as when Stripe fails a refund later
    ctx = task_ctx()
    found = orders.find_order(ctx.dbsession, order["number"], lock=True)
    with recording_external_refund("re_failed_later"):
        orders.refund(ctx, found, amount=Money(400, "EUR"), note="test")
    ctx.tm.commit()
    failed = {"id": "re_failed_later", "object": "refund", "amount": 400,
              "payment_intent": intent["id"], "status": "failed",
              "failure_reason": "expired_or_canceled_card"}
    answer = deliver(testapp, make_event("refund.failed", failed)).json
    assert answer["outcome"] == "refund_mismatch"
    dbsession.expire_all()
    (note,) = dbsession.scalars(sa.select(Note.body)).all()
    assert "0.00 EUR refunded" in note and "4.00 EUR" in note
    assert desk.get(order["number"]).json["refunded"] == "4.00"


def test_refund_events_about_unknown_payments_are_ignored(testapp, stripe_plugin):
    for obj in ({"id": "re_1", "object": "refund", "payment_intent": "pi_nobody", "amount": 1},
                {"id": "re_2", "object": "refund"}):
        answer = deliver(testapp, make_event("refund.created", obj)).json
        assert answer["outcome"] == "unknown_payment"


def test_a_refund_event_about_a_charge_stripe_does_not_know_is_ignored(testapp, stripe_plugin):
    obj = {"id": "re_3", "object": "refund", "charge": "ch_not_at_this_stripe", "amount": 1}
    answer = deliver(testapp, make_event("refund.created", obj)).json
    assert answer["outcome"] == "unknown_payment"
