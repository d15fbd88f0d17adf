"""The webhook under concurrency, on PostgreSQL, with real threads against a database of
its own whose transactions really commit: one Stripe event delivered many times at once
is applied once; several events, the reconciliation and refund events racing on one
order move it once and record a refund once."""
import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.testing import postgresql_only, race
from plugins.catalog.models import StockMovement
from plugins.payments_stripe import services

from .shop import Shop
from .stripe_fake import body_of, make_event, sign

pytestmark = postgresql_only

SUCCEEDED = "payment_intent.succeeded"
WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory, localstripe):
    # no webhooks from localstripe here: the tests deliver every event themselves, at once
    shop = Shop.open(make_database(), tmp_path_factory.mktemp("mail"), localstripe,
                     serve=False)
    yield shop
    shop.close()


def deliver(shop, body, signature):
    return shop.client().post(WEBHOOK, params=body, headers={"Stripe-Signature": signature},
                              content_type="application/json", status="*")


def commits(shop, variant_id):
    with shop.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).where(
            StockMovement.variant_id == variant_id, StockMovement.kind == "commit"))


def paid_order(shop, localstripe, quantity=1):
    variant_id = shop.product(stock=10)
    order = shop.place(variant_id, quantity)
    intent = localstripe.pay(order["intent_id"])
    assert intent["status"] == "succeeded"
    return variant_id, order, intent


def test_one_event_delivered_ten_times_at_once_is_applied_once(shop, localstripe):
    variant_id, order, intent = paid_order(shop, localstripe, quantity=2)
    event = make_event(SUCCEEDED, intent)
    body = body_of(event)
    signature = sign(body)
    responses = race(lambda _: deliver(shop, body, signature), list(range(10)))
    assert [r.status_int for r in responses] == [200] * 10, [r.text for r in responses]
    answers = [r.json for r in responses]
    assert sum(not a["duplicate"] for a in answers) == 1
    assert {a["outcome"] for a in answers} == {"paid"}
    assert shop.events(event_id=event["id"]) == [(event["id"], SUCCEEDED, "paid")]
    assert shop.history(order["number"]) == ["payment_pending", "processing"]
    assert shop.level(variant_id) == (8, 0)
    assert commits(shop, variant_id) == 1


def test_ten_events_of_one_success_at_once_move_the_order_once(shop, localstripe):
    variant_id, order, intent = paid_order(shop, localstripe)
    bodies = [body_of(make_event(SUCCEEDED, intent)) for _ in range(10)]
    responses = race(lambda body: deliver(shop, body, sign(body)), bodies)
    outcomes = sorted(r.json["outcome"] for r in responses)
    assert outcomes == ["already_paid"] * 9 + ["paid"], [r.text for r in responses]
    assert shop.history(order["number"]) == ["payment_pending", "processing"]
    assert commits(shop, variant_id) == 1


def test_the_webhook_and_two_reconcilers_at_once_move_the_order_once(shop, localstripe):
    variant_id, order, intent = paid_order(shop, localstripe)
    body = body_of(make_event(SUCCEEDED, intent))
    later = utcnow() + dt.timedelta(minutes=11)

    def work(kind):
        if kind == "webhook":
            return deliver(shop, body, sign(body)).json["outcome"]
        report = shop.in_context(lambda ctx: services.reconcile(ctx, now=later))
        return report["results"].get(order["number"], "not checked")

    outcomes = race(work, ["webhook", "reconcile", "reconcile"])
    assert outcomes.count("paid") == 1, outcomes
    assert set(outcomes) <= {"paid", "already_paid", "not checked"}, outcomes
    assert shop.history(order["number"]) == ["payment_pending", "processing"]
    assert commits(shop, variant_id) == 1


def test_refund_events_of_one_dashboard_refund_at_once_record_it_once(shop, localstripe):
    _variant_id, order, intent = paid_order(shop, localstripe, quantity=2)
    body = body_of(make_event(SUCCEEDED, intent))
    assert deliver(shop, body, sign(body)).json["outcome"] == "paid"
    refund = localstripe.refund(intent["id"], 300)  # made in Stripe's Dashboard
    charge = localstripe.intent(intent["id"])["latest_charge"]
    bodies = [body_of(make_event("refund.created", refund)),
              body_of(make_event("charge.refunded", charge)),
              body_of(make_event("refund.updated", refund)),
              body_of(make_event("charge.refund.updated", refund))]
    responses = race(lambda body: deliver(shop, body, sign(body)), bodies)
    outcomes = sorted(r.json["outcome"] for r in responses)
    assert outcomes == ["refund_known"] * 3 + ["refund_recorded"], [r.text for r in responses]
    assert shop.payment(order["number"]) == ("paid", 2500, 300)
    assert len(localstripe.refunds(intent["id"])) == 1


def test_a_customer_cancelling_while_the_payment_is_reported_ends_paid(shop, localstripe):
    # whichever runs first, Stripe has the money: the cancel is refused (409), the order
    # is paid once
    variant_id, order, intent = paid_order(shop, localstripe)
    body = body_of(make_event(SUCCEEDED, intent))

    def work(kind):
        if kind == "webhook":
            return deliver(shop, body, sign(body)).json["outcome"]
        return shop.client().post_json(f"/api/v1/orders/{order['number']}/cancel", {},
                                       headers=order["headers"], status="*").status_int

    assert race(work, ["webhook", "cancel"]) == ["paid", 409]
    assert shop.history(order["number"]) == ["payment_pending", "processing"]
    assert shop.level(variant_id) == (9, 0)
