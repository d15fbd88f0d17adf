"""Shipping under concurrency, on PostgreSQL, with real threads against a database of its
own whose transactions really commit: no unit ships twice, an order moves to shipped and
to delivered once, an area belongs to one zone however many staff create zones at once."""
import uuid

import pytest
import sqlalchemy as sa

from core.security import create_user, issue_access_token
from core.testing import postgresql_only, race, standalone_app
from plugins.orders import services as orders
from plugins.orders.models import Order, Shipment, StatusChange
from plugins.shipping.models import ShippingArea, ShippingShipment, ShippingShipmentItem
from tests.plugins.orders.test_concurrency import Shop

from .conftest import API, GB

pytestmark = postgresql_only


class ShippingShop(Shop):
    def staff(self):
        with self.sessions() as session, session.begin():
            user = create_user(session, f"s-{uuid.uuid4().hex[:10]}@example.com",
                               "correct horse battery", staff=True)
            session.flush()
            token, _ = issue_access_token(self.registry.settings, user)
        return {"Authorization": f"Bearer {token}"}

    def paid_order(self, variant_id, quantity):
        headers = self.buyer_with_cart(variant_id, quantity)
        number = self.client().post_json(
            f"{API}/orders", {"shipping_address": GB, "shipping_method": "standard"},
            headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex})).json["number"]
        self.in_context(lambda ctx: orders.mark_paid(
            ctx, orders.find_order(ctx.dbsession, number, lock=True)))
        return number

    def post(self, headers, path, body):
        return self.client().post_json(f"{API}{path}", body, headers=headers, status="*")

    def order_id(self, number):
        with self.sessions() as session:
            return session.scalar(sa.select(Order.id).where(Order.number == number))

    def shipped_units(self, number):
        with self.sessions() as session:
            return session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(ShippingShipmentItem.quantity), 0))
                .join(ShippingShipment).where(ShippingShipment.order_id ==
                                              self.order_id(number)))

    def moves(self, number, to_status):
        with self.sessions() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(StatusChange).where(
                StatusChange.order_id == self.order_id(number),
                StatusChange.to_status == to_status))

    def status(self, number):
        with self.sessions() as session:
            return session.scalar(sa.select(Order.status).where(Order.number == number))


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory):
    registry, app = standalone_app(make_database(), tmp_path_factory.mktemp("mail"), install=["shipping"])
    shop = ShippingShop(registry, app)
    shop.staff_headers = shop.staff()
    zone = shop.post(shop.staff_headers, "/shipping/zones",
                     {"name": "UK", "areas": [{"country": "GB"}]}).json
    shop.post(shop.staff_headers, f"/shipping/zones/{zone['id']}/methods", {
        "code": "standard", "name": "Standard", "kind": "flat", "price": "4.90",
        "min_days": 2, "max_days": 4})
    yield shop
    registry["db_engine"].dispose()


def test_twenty_parcels_of_one_unit_for_ten_units_ship_ten(shop):
    number = shop.paid_order(shop.product(stock=10), 10)
    item = shop.client().get(f"{API}/admin/orders/{number}",
                             headers=shop.staff_headers).json["items"][0]["id"]
    staff = [shop.staff() for _ in range(20)]
    responses = race(lambda headers: shop.post(
        headers, f"/shipping/orders/{number}/shipments",
        {"items": [{"item_id": item, "quantity": 1}]}), staff)
    statuses = sorted(r.status_int for r in responses)
    assert statuses.count(201) == 10, statuses
    assert all(r.json["error"]["code"] in ("already_shipped", "quantity_exceeds_remaining")
               for r in responses if r.status_int != 201)
    assert shop.shipped_units(number) == 10
    assert shop.status(number) == "shipped"
    assert shop.moves(number, "shipped") == 1
    with shop.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Shipment).where(
            Shipment.order_id == shop.order_id(number))) == 1


def test_shipping_everything_at_once_twice_ships_once(shop):
    number = shop.paid_order(shop.product(stock=5), 3)
    responses = race(lambda headers: shop.post(
        headers, f"/shipping/orders/{number}/shipments", {"carrier": "DHL"}),
        [shop.staff_headers] * 10)
    assert sorted(r.status_int for r in responses) == [201] + [409] * 9
    assert shop.shipped_units(number) == 3 and shop.moves(number, "shipped") == 1


def test_the_order_desk_and_shipping_racing_ship_each_unit_once(shop):
    number = shop.paid_order(shop.product(stock=5), 4)
    item = shop.client().get(f"{API}/admin/orders/{number}",
                             headers=shop.staff_headers).json["items"][0]["id"]
    calls = [("/admin/orders/{}/ship", {"carrier": "UPS"})] * 3 + [
        ("/shipping/orders/{}/shipments", {"items": [{"item_id": item, "quantity": 1}]})] * 6
    responses = race(lambda call: shop.post(shop.staff_headers, call[0].format(number),
                                            call[1]), calls)
    assert all(r.status_int in (200, 201, 409, 422) for r in responses), \
        [r.text for r in responses]
    assert shop.shipped_units(number) == 4
    assert shop.status(number) == "shipped" and shop.moves(number, "shipped") == 1


def test_parcels_delivered_at_once_deliver_the_order_once(shop):
    number = shop.paid_order(shop.product(stock=5), 4)
    item = shop.client().get(f"{API}/admin/orders/{number}",
                             headers=shop.staff_headers).json["items"][0]["id"]
    for _ in range(4):
        shop.post(shop.staff_headers, f"/shipping/orders/{number}/shipments",
                  {"items": [{"item_id": item, "quantity": 1}]})
    shipments = shop.client().get(f"{API}/shipping/orders/{number}/shipments",
                                  headers=shop.staff_headers).json["shipments"]
    paths = [f"/shipping/orders/{number}/shipments/{s['id']}/deliver" for s in shipments] * 3
    responses = race(lambda path: shop.post(shop.staff_headers, path, {}), paths)
    assert sorted(r.status_int for r in responses) == [200] * 4 + [409] * 8
    assert shop.status(number) == "delivered" and shop.moves(number, "delivered") == 1


def test_an_area_claimed_by_many_zones_at_once_goes_to_one(shop):
    responses = race(lambda n: shop.post(shop.staff_headers, "/shipping/zones", {
        "name": f"France {n}", "areas": [{"country": "FR"}, {"country": "MC"}]}),
        list(range(10)))
    assert sorted(r.status_int for r in responses) == [201] + [409] * 9
    assert {r.json["error"]["code"] for r in responses if r.status_int == 409} <= {
        "area_taken", "conflict"}
    with shop.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ShippingArea).where(
            ShippingArea.country == "FR")) == 1


def test_one_method_code_for_many_creations_at_once(shop):
    zone = shop.post(shop.staff_headers, "/shipping/zones",
                     {"name": "Benelux", "areas": [{"country": "BE"}]}).json
    responses = race(lambda n: shop.post(
        shop.staff_headers, f"/shipping/zones/{zone['id']}/methods",
        {"code": "benelux", "name": f"Benelux {n}", "kind": "flat", "price": "6.00",
         "min_days": 1, "max_days": 2}), list(range(10)))
    assert sorted(r.status_int for r in responses) == [201] + [409] * 9
