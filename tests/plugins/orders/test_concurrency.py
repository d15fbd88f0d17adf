"""Orders under concurrency, on PostgreSQL, with real threads against a database of their
own whose transactions really commit: no oversell, one order per key or cart, one
restock per cancellation, one failure per stale order with two workers."""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
import transaction
import webtest

from core.db import get_tm_session, utcnow
from core.security import create_user, issue_access_token
from core.tasks import TaskContext
from core.testing import postgresql_only, race, standalone_app
from plugins.catalog import inventory, services as catalog
from plugins.catalog.models import StockMovement
from plugins.catalog.schemas import ProductBody
from plugins.orders import services
from plugins.orders.models import Order, OrderLine

from .conftest import ADDRESS, API

pytestmark = postgresql_only


class Shop:
    """The application on its own database, and helpers that commit."""

    def __init__(self, registry, app):
        self.registry = registry
        self.app = app
        self.sessions = registry["dbsession_factory"]

    def product(self, stock):
        with self.sessions() as session, session.begin():
            body = ProductBody().load({"name": "Limited", "variants": [
                {"sku": f"LTD-{uuid.uuid4().hex[:10]}", "price": "10.00", "stock": stock}]})
            product = catalog.create_product(session, body, "EUR")
            session.flush()
            return product.variants[0].id

    def customer(self):
        with self.sessions() as session, session.begin():
            user = create_user(session, f"c-{uuid.uuid4().hex[:10]}@example.com",
                               "correct horse battery")
            session.flush()
            token, _ = issue_access_token(self.registry.settings, user)
        return {"Authorization": f"Bearer {token}"}

    def client(self):
        return webtest.TestApp(self.app, extra_environ={"HTTP_HOST": "shop.test"})

    def buyer_with_cart(self, variant_id, quantity=1):
        headers = self.customer()
        self.client().post_json(f"{API}/cart/items", {"variant_id": variant_id,
                                                      "quantity": quantity}, headers=headers)
        return headers

    def place(self, headers, key=None, status="*"):
        return self.client().post_json(
            f"{API}/orders", {"shipping_address": ADDRESS},
            headers=dict(headers, **{"Idempotency-Key": key or uuid.uuid4().hex}),
            status=status)

    def level(self, variant_id):
        with self.sessions() as session:
            return inventory.level(session, variant_id)

    def movements(self, variant_id, kind):
        with self.sessions() as session:
            return session.scalar(sa.select(sa.func.count()).where(
                StockMovement.variant_id == variant_id, StockMovement.kind == kind))

    def orders_of(self, variant_id):
        with self.sessions() as session:
            return session.scalar(sa.select(sa.func.count(sa.distinct(OrderLine.order_id)))
                                  .where(OrderLine.variant_id == variant_id))

    def in_context(self, work):
        """Run ``work(ctx)`` in a transaction of its own, as a task does."""
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(self.sessions, manager)
            ctx = TaskContext(self.registry, dbsession, manager,
                              self.registry["plugins"].current(), None)
            return work(ctx)


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory):
    registry, app = standalone_app(make_database(), tmp_path_factory.mktemp("mail"))
    yield Shop(registry, app)
    registry["db_engine"].dispose()


def test_fifty_orders_for_ten_units_make_ten_orders(shop):
    variant_id = shop.product(stock=10)
    buyers = [shop.buyer_with_cart(variant_id) for _ in range(50)]
    responses = race(shop.place, buyers)
    statuses = sorted(r.status_int for r in responses)
    assert statuses == [201] * 10 + [422] * 40, statuses
    for response in responses:
        if response.status_int == 422:
            assert response.json["error"]["code"] in ("checkout_invalid", "insufficient_stock")
    level = shop.level(variant_id)
    assert (level.on_hand, level.reserved, level.available) == (10, 10, 0)
    assert shop.orders_of(variant_id) == 10
    assert shop.movements(variant_id, "reserve") == 10


def test_a_double_submit_with_one_key_makes_one_order(shop):
    variant_id = shop.product(stock=10)
    headers = shop.buyer_with_cart(variant_id, quantity=2)
    key = uuid.uuid4().hex
    responses = race(lambda _: shop.place(headers, key), list(range(10)))
    assert sorted({r.status_int for r in responses}) in ([201], [200, 201])
    assert sum(r.status_int == 201 for r in responses) == 1
    assert len({r.json["number"] for r in responses}) == 1
    assert shop.orders_of(variant_id) == 1
    assert shop.level(variant_id).reserved == 2


def test_a_double_submit_with_new_keys_still_makes_one_order(shop):
    variant_id = shop.product(stock=10)
    headers = shop.buyer_with_cart(variant_id, quantity=3)
    responses = race(lambda _: shop.place(headers), list(range(10)))
    assert sorted(r.status_int for r in responses) == [201] + [422] * 9
    assert shop.orders_of(variant_id) == 1
    assert shop.level(variant_id).reserved == 3


def _cancel(shop, number, headers):
    return shop.client().post_json(f"{API}/orders/{number}/cancel", {}, headers=headers,
                                   status="*")


def test_concurrent_cancellations_restock_once(shop):
    variant_id = shop.product(stock=5)
    headers = shop.buyer_with_cart(variant_id, quantity=3)
    paid = shop.place(headers, status=201).json["number"]
    shop.in_context(lambda ctx: services.mark_paid(
        ctx, services.find_order(ctx.dbsession, paid, lock=True)))
    assert shop.level(variant_id).on_hand == 2
    responses = race(lambda _: _cancel(shop, paid, headers), list(range(10)))
    assert sorted(r.status_int for r in responses) == [200] + [409] * 9
    level = shop.level(variant_id)
    assert (level.on_hand, level.reserved) == (5, 0)
    assert shop.movements(variant_id, "restock") == 1

    headers = shop.buyer_with_cart(variant_id, quantity=4)
    unpaid = shop.place(headers, status=201).json["number"]
    responses = race(lambda _: _cancel(shop, unpaid, headers), list(range(10)))
    assert sorted(r.status_int for r in responses) == [200] + [409] * 9
    level = shop.level(variant_id)
    assert (level.on_hand, level.reserved) == (5, 0)
    assert shop.movements(variant_id, "release") == 1


def test_two_workers_fail_each_stale_order_once(shop):
    variant_id = shop.product(stock=30)
    numbers = [shop.place(shop.buyer_with_cart(variant_id), status=201).json["number"]
               for _ in range(20)]
    assert shop.level(variant_id).reserved == 20
    later = utcnow() + dt.timedelta(days=8)
    failed = race(lambda _: shop.in_context(
        lambda ctx: services.fail_stale_orders(ctx, now=later)), [1, 2])
    both = failed[0] + failed[1]
    # every stale order (the earlier tests' unpaid ones too) failed, and each once
    assert len(both) == len(set(both)) and set(numbers) <= set(both)
    assert shop.level(variant_id).reserved == 0
    assert shop.movements(variant_id, "release") == 20
    with shop.sessions() as session:
        statuses = set(session.scalars(sa.select(Order.status).where(
            Order.number.in_(numbers))))
    assert statuses == {"failed"}
