"""End to end: the app served by waitress, the real stripe library paying at localstripe,
and localstripe's own signed webhooks delivered over HTTP to the app."""
import json
import time

import pytest

from plugins.payments_stripe import services

from .shop import Shop
from .stripe_fake import DECLINED_CARD, sign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory, localstripe):
    shop = Shop.open(make_database(), tmp_path_factory.mktemp("mail"), localstripe)
    yield shop
    shop.close()


def test_a_card_payment_reaches_processing_by_webhook_once_and_is_refunded(shop, localstripe):
    variant_id = shop.product(stock=10)
    order = shop.place(variant_id, quantity=2)
    assert order["status"] == "payment_pending" and order["amount_due"] == "25.00"
    assert shop.level(variant_id) == (10, 2)
    assert localstripe.pay(order["intent_id"])["status"] == "succeeded"
    shop.wait_for_status(order["number"], "processing")
    time.sleep(1.5)  # would a second delivery come?
    (event,) = shop.events(order["number"])
    assert event[1:] == ("payment_intent.succeeded", "paid")
    assert shop.history(order["number"]) == ["payment_pending", "processing"]
    assert shop.level(variant_id) == (8, 0)
    assert shop.payment(order["number"]) == ("paid", 2500, 0)

    # the same event delivered again, as Stripe retries: read back from localstripe,
    # signed anew, posted over HTTP
    stored = localstripe.client.v1.events.retrieve(event[0]).to_dict()
    assert stored["data"]["object"]["id"] == order["intent_id"]
    body = json.dumps(stored).encode()
    status, answer = shop.post_webhook(body, sign(body))
    assert (status, answer["duplicate"], answer["outcome"]) == (200, True, "paid")
    assert shop.history(order["number"]) == ["payment_pending", "processing"]

    # staff refunds part, then the rest, through Stripe
    staff = shop.user(staff=True)
    client = shop.client()
    number = order["number"]
    client.post_json(f"/api/v1/admin/orders/{number}/refund", {"amount": "10.00"},
                     headers=staff)
    answer = client.post_json(f"/api/v1/admin/orders/{number}/refund", {}, headers=staff).json
    assert answer["refunded"] == "25.00"
    refunds = sorted(r["amount"] for r in localstripe.refunds(order["intent_id"]))
    assert refunds == [1000, 1500]
    assert shop.payment(number) == ("paid", 2500, 2500)


def test_a_declined_card_fails_the_order_by_webhook(shop, localstripe):
    variant_id = shop.product(stock=3)
    order = shop.place(variant_id, quantity=3)
    assert shop.level(variant_id) == (3, 3)
    intent = localstripe.pay(order["intent_id"], card=DECLINED_CARD)
    assert intent["status"] == "requires_payment_method"
    shop.wait_for_status(order["number"], "failed")
    assert shop.level(variant_id) == (3, 0)
    assert [e[1:] for e in shop.events(order["number"])] == [
        ("payment_intent.payment_failed", "failed")]
    assert localstripe.intent(order["intent_id"])["status"] == "canceled"


def test_a_webhook_signed_with_another_secret_changes_nothing_and_reconciliation_catches_up(
        shop, localstripe):
    variant_id = shop.product(stock=5)
    order = shop.place(variant_id)
    shop.app.answers.clear()
    shop.receive_webhooks(secret="whsec_someone_elses_secret")
    try:
        localstripe.pay(order["intent_id"])
        deadline = time.monotonic() + 20
        while 400 not in shop.app.answers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert 400 in shop.app.answers  # localstripe's delivery was refused
    finally:
        shop.receive_webhooks()
    assert shop.status(order["number"]) == "payment_pending"
    assert shop.events(order["number"]) == []
    # the webhook is lost for good; the periodic job asks Stripe
    import datetime as dt

    from core.db import utcnow

    report = shop.in_context(lambda ctx: services.reconcile(
        ctx, now=utcnow() + dt.timedelta(minutes=11)))
    assert report["results"][order["number"]] == "paid"
    assert shop.status(order["number"]) == "processing"
    assert shop.history(order["number"]) == ["payment_pending", "processing"]
    assert shop.level(variant_id) == (4, 0)
