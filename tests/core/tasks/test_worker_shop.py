"""The shop's background work done by a real worker on Redis: an order's e-mails, caught
by a real SMTP server, and the effects of the periodic jobs (failing unpaid orders,
the staff's low-stock alert, the sweep for lost notifications).

This process serves the API and only sends tasks; the worker (conftest.py) runs them.
"""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.notifications import QUEUED, SENT, Notification
from plugins.catalog import inventory
from plugins.orders.models import Order
from tests.core.notifications.smtp import parts

from .conftest import wait_until

pytestmark = pytest.mark.slow

API = "/api/v1"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical Street", "city": "London",
           "postal_code": "N1 9GU", "country": "GB"}


class Counter:
    """The staff's order desk and a product of their own, through the API."""

    def __init__(self, shop):
        self.shop = shop
        self.staff = shop.user(staff=True, name="Staff")
        self.api = shop.client(self.staff)

    def product(self, name, price, stock):
        sku = f"W-{uuid.uuid4().hex[:10]}"
        self.api.post_json(f"{API}/products", {"name": name, "variants": [
            {"sku": sku, "price": price, "stock": stock}]}, status=201)
        with self.shop.registry["dbsession_factory"]() as session:
            return session.scalar(sa.text("SELECT id FROM catalog_variant WHERE sku = :sku"),
                                  {"sku": sku}), sku

    def act(self, number, action, body=None):
        return self.api.post_json(f"{API}/admin/orders/{number}/{action}", body or {}).json


def place_order(shop, customer, variant_id, quantity):
    api = shop.client(customer)
    api.post_json(f"{API}/cart/items", {"variant_id": variant_id, "quantity": quantity},
                  status=201)
    return api.post_json(f"{API}/orders", {"shipping_address": ADDRESS}, status=201,
                         headers={"Idempotency-Key": uuid.uuid4().hex}).json


def mail_to(catcher, address, count):
    """The ``count`` messages to ``address``, waiting for the worker to send them."""
    wait_until(lambda: len(catcher.to(address)) >= count, 60, f"{count} mails to {address}")
    return catcher.to(address)


def test_an_orders_life_mails_its_customer_through_smtp(shop, catcher):
    desk = Counter(shop)
    variant_id, sku = desk.product("Worker Mug", "12.50", 100)
    customer = shop.user(name="Ada")
    order = place_order(shop, customer, variant_id, 2)
    number = order["number"]
    assert order["status"] == "payment_pending"

    [placed] = mail_to(catcher, customer.email, 1)
    assert placed["From"] == "Worker Shop <shop@example.com>"
    assert placed["To"] == customer.email
    assert placed["Subject"] == f"Your order {number} at Emporium"
    body = parts(placed)
    assert set(body) == {"text/plain", "text/html"}
    assert f"2 x Worker Mug ({sku})" in body["text/plain"]
    assert f"Total: {order['total']} EUR" in body["text/plain"]
    assert f"<b>Total: {order['total']} EUR</b>" in body["text/html"]

    desk.act(number, "mark-paid")  # processing: no mail
    link = "https://tracking.example/parcel?id=JJD0001"
    shipped = desk.act(number, "ship", {"carrier": "DHL", "tracking_number": "JJD0001",
                                        "tracking_url": link})
    assert shipped["shipments"][0]["tracking_url"] == link
    [_, shipped_mail] = mail_to(catcher, customer.email, 2)
    assert shipped_mail["Subject"] == f"Your order {number} is on its way"
    body = parts(shipped_mail)
    assert "Tracking number: JJD0001" in body["text/plain"]
    assert f"Follow it: {link}" in body["text/plain"]
    assert f'<a href="{link.replace("&", "&amp;")}">Follow your parcel</a>' in body["text/html"]

    desk.act(number, "deliver")
    [*_, delivered] = mail_to(catcher, customer.email, 3)
    assert delivered["Subject"] == f"Your order {number} was delivered"

    refunded = desk.act(number, "refund", {"amount": "7.25", "note": "one mug chipped"})
    assert refunded["refunded"] == "7.25"
    [*_, refund_mail] = mail_to(catcher, customer.email, 4)
    assert refund_mail["Subject"] == f"A refund of 7.25 EUR on your order {number}"
    body = parts(refund_mail)
    assert f"We refunded 7.25 EUR on your order {number}." in body["text/plain"]
    assert "<b>7.25 EUR</b>" in body["text/html"]
    # every message went to the customer alone, and every row says sent
    assert catcher.to(desk.staff.email) == []
    def states():  # the worker commits each just after the server took the message
        with shop.registry["db_engine"].connect() as connection:
            return connection.execute(
                sa.select(Notification.template, Notification.state)
                .where(Notification.recipient == customer.email)
                .order_by(Notification.id)).all()

    wait_until(lambda: {state for _, state in states()} == {SENT}, 20, "every mail marked sent")
    assert [template for template, _ in states()] == [
        "orders/order_placed", "orders/order_shipped", "orders/order_delivered",
        "orders/order_refunded"]


def test_the_worker_fails_an_order_never_paid_and_releases_its_stock(shop, catcher):
    desk = Counter(shop)
    variant_id, _ = desk.product("Worker Vase", "30.00", 100)
    customer = shop.user(name="Bo")
    number = place_order(shop, customer, variant_id, 3)["number"]
    mail_to(catcher, customer.email, 1)  # order placed
    # placed eight days ago: past the week a manual payment is given
    with shop.registry["dbsession_factory"]() as session, session.begin():
        session.execute(sa.update(Order).where(Order.number == number)
                        .values(placed_at=utcnow() - dt.timedelta(days=8)))

    assert shop.run("orders.fail_stale") == {"failed": [number]}
    assert shop.run("orders.fail_stale") == {"failed": []}  # idempotent
    assert desk.api.get(f"{API}/admin/orders/{number}").json["status"] == "failed"
    with shop.registry["dbsession_factory"]() as session:
        assert inventory.level(session, variant_id).reserved == 0
    [_, failed] = mail_to(catcher, customer.email, 2)
    assert failed["Subject"] == f"Your order {number} could not be completed"


def test_the_worker_tells_every_staff_member_of_low_stock_once(shop, catcher):
    desk = Counter(shop)
    variant_id, sku = desk.product("Worker Lamp", "45.00", 2)
    staff = [desk.staff, shop.user(staff=True, name="Buyer")]
    answer = shop.run("catalog.low_stock_alert")
    assert sku in answer["alerted"]
    for member in staff:
        [alert] = mail_to(catcher, member.email, 1)
        assert alert["Subject"].startswith("Low stock: ")
        assert f"{sku}  Worker Lamp: 2 available" in parts(alert)["text/plain"]
    assert sku not in shop.run("catalog.low_stock_alert")["alerted"]  # told already
    desk.api.post_json(f"{API}/variants/{variant_id}/stock", {"change": 10,
                                                              "reason": "delivery"})
    assert shop.run("catalog.low_stock_alert")["forgotten"] == 1
    assert all(len(catcher.to(member.email)) == 1 for member in staff)


def test_the_worker_sends_a_notification_whose_task_was_lost(shop, catcher):
    # queued an hour ago, and its task never reached the broker
    with shop.registry["dbsession_factory"]() as session, session.begin():
        lost = Notification(template="tasker/hello", recipient="lost@example.com",
                            subject="Lost and found", body_text="Here at last.",
                            message_id=f"<{uuid.uuid4().hex}@example.com>", state=QUEUED,
                            attempts=0, next_attempt_at=utcnow() - dt.timedelta(hours=1))
        session.add(lost)
        session.flush()
        lost_id = lost.id
    assert shop.run("core.resend_stuck_notifications") == {"resent": [lost_id], "failed": []}
    [message] = mail_to(catcher, "lost@example.com", 1)
    assert message["Subject"] == "Lost and found"

    def state():
        with shop.registry["db_engine"].connect() as connection:
            return connection.execute(sa.select(Notification.state, Notification.resends)
                                      .where(Notification.id == lost_id)).one()

    assert wait_until(lambda: state() == (SENT, 1), 10, "the notification marked sent")
