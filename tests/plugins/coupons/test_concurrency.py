"""Coupon limits under concurrency, on PostgreSQL, with real threads against a database of
their own whose transactions really commit: with a limit of N, exactly N orders get
the coupon however many are placed at once, in total, per code and per customer; uses
given back by cancellations are counted once; staff setting a limit while orders run
leaves the count exact."""
import uuid

import pytest
import sqlalchemy as sa
import transaction
import webtest

from core.api.errors import Unprocessable
from core.db import get_tm_session
from core.security import create_user, issue_access_token
from core.testing import postgresql_only, race, standalone_app
from plugins.catalog import services as catalog
from plugins.catalog.schemas import ProductBody
from plugins.coupons import redemptions
from plugins.coupons import services as coupons
from plugins.coupons.checkout import Applied
from plugins.coupons.models import Coupon, CustomerUse, Redemption
from plugins.orders.models import Order

from .conftest import ADDRESS, API, COUPONS

pytestmark = postgresql_only

BASE = {"name": "", "applies_to": "all", "combinable": False, "is_active": True}


class Shop:
    """The application on its own database, with the coupons plugin, and helpers that
    commit."""

    def __init__(self, registry, app):
        self.registry = registry
        self.app = app
        self.sessions = registry["dbsession_factory"]
        self.variant_id = self.product(stock=10_000)
        self.staff = self.user(staff=True)
        self.pool = []  # customers, shared by the tests (making one hashes a password)

    def product(self, stock):
        with self.sessions() as session, session.begin():
            body = ProductBody().load({"name": "Plenty", "variants": [
                {"sku": f"PL-{uuid.uuid4().hex[:10]}", "price": "10.00", "stock": stock}]})
            product = catalog.create_product(session, body, "EUR")
            session.flush()
            return product.variants[0].id

    def user(self, staff=False):
        with self.sessions() as session, session.begin():
            user = create_user(session, f"u-{uuid.uuid4().hex[:10]}@example.com",
                               "correct horse battery", staff=staff)
            session.flush()
            token, _ = issue_access_token(self.registry.settings, user)
            headers = {"Authorization": f"Bearer {token}"}
            headers["user_id"] = str(user.id)
        return headers

    def coupon(self, code=None, **rules):
        with self.sessions() as session, session.begin():
            coupon = coupons.create_coupon(session, dict(BASE, code=code, kind="percentage",
                                                         percent=1000, **rules), "EUR")
            return coupon.id

    def client(self):
        return webtest.TestApp(self.app, extra_environ={"HTTP_HOST": "shop.test"})

    @staticmethod
    def auth(headers):
        return {k: v for k, v in headers.items() if k != "user_id"}

    def buyer(self, headers=None):
        headers = headers or self.user()
        self.client().post_json(f"{API}/cart/items", {"variant_id": self.variant_id,
                                                      "quantity": 1},
                                headers=self.auth(headers))
        return headers

    def buyers(self, count):
        """``count`` customers, each with something in the cart."""
        while len(self.pool) < count:
            self.pool.append(self.user())
        return [self.buyer(headers) for headers in self.pool[:count]]

    def place(self, headers, codes=()):
        return self.client().post_json(
            f"{API}/orders", {"shipping_address": ADDRESS, "coupon_codes": list(codes)},
            headers=dict(self.auth(headers), **{"Idempotency-Key": uuid.uuid4().hex}),
            status="*")

    def cancel(self, headers, number):
        return self.client().post_json(f"{API}/orders/{number}/cancel", {},
                                       headers=self.auth(headers), status="*")

    def generate(self, coupon_id, count):
        return self.client().post_json(f"{COUPONS}/{coupon_id}/codes", {"count": count},
                                       headers=self.auth(self.staff)).json["codes"]

    def row(self, coupon_id):
        with self.sessions() as session:
            return session.get(Coupon, coupon_id)

    def active_uses(self, coupon_id):
        with self.sessions() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
                Redemption.coupon_id == coupon_id, Redemption.released_at.is_(None)))


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory):
    registry, app = standalone_app(make_database(), tmp_path_factory.mktemp("mail"), install=["coupons"])
    yield Shop(registry, app)
    registry["db_engine"].dispose()


REFUSED = ("checkout_invalid", "coupon_limit_reached")


def test_a_limit_of_n_lets_exactly_n_orders_through(shop):
    coupon_id = shop.coupon("RUSH5", usage_limit=5)
    buyers = shop.buyers(40)
    responses = race(lambda headers: shop.place(headers, ["RUSH5"]), buyers)
    statuses = sorted(r.status_int for r in responses)
    assert statuses == [201] * 5 + [422] * 35, statuses
    assert {r.json["error"]["code"] for r in responses if r.status_int == 422} <= set(REFUSED)
    assert all(r.json["discounts"][0]["code"] == "RUSH5" for r in responses
               if r.status_int == 201)
    assert shop.row(coupon_id).times_used == 5
    assert shop.active_uses(coupon_id) == 5


def test_a_single_use_code_is_used_once(shop):
    coupon_id = shop.coupon()
    [code] = shop.generate(coupon_id, 1)
    buyers = shop.buyers(20)
    responses = race(lambda headers: shop.place(headers, [code]), buyers)
    assert sorted(r.status_int for r in responses) == [201] + [422] * 19
    assert shop.active_uses(coupon_id) == 1


def test_a_coupon_without_a_limit_lets_every_order_through(shop):
    coupon_id = shop.coupon("OPENHOUSE", per_customer_limit=1)
    buyers = shop.buyers(30)
    responses = race(lambda headers: shop.place(headers, ["OPENHOUSE"]), buyers)
    assert [r.status_int for r in responses] == [201] * 30, [
        r.json for r in responses if r.status_int != 201][:2]
    assert shop.active_uses(coupon_id) == 30


def test_cancellations_and_new_orders_at_once_keep_the_count(shop):
    coupon_id = shop.coupon("SWAP", usage_limit=5)
    everyone = shop.buyers(20)
    first, newcomers = everyone[:5], everyone[5:]
    numbers = [shop.place(headers, ["SWAP"]).json["number"] for headers in first]
    assert shop.row(coupon_id).times_used == 5
    work = [("cancel", headers, number) for headers, number in zip(first, numbers)] + \
        [("place", headers, None) for headers in newcomers]
    responses = race(lambda job: shop.cancel(job[1], job[2]) if job[0] == "cancel"
                     else shop.place(job[1], ["SWAP"]), work)
    assert [r.status_int for r in responses[:5]] == [200] * 5
    placed = sum(r.status_int == 201 for r in responses[5:])
    assert placed <= 5
    row = shop.row(coupon_id)
    assert row.times_used == shop.active_uses(coupon_id) == placed


def test_staff_setting_a_limit_while_orders_run_counts_them_all(shop):
    coupon_id = shop.coupon("LATELIMIT")
    buyers = shop.buyers(20)

    def work(job):
        if job is None:
            return shop.client().patch_json(f"{COUPONS}/{coupon_id}", {"usage_limit": 12},
                                            headers=shop.auth(shop.staff), status="*")
        return shop.place(job, ["LATELIMIT"])

    responses = race(work, [None] + buyers)
    patched, orders = responses[0], responses[1:]
    placed = sum(r.status_int == 201 for r in orders)
    uses = shop.active_uses(coupon_id)
    assert uses == placed
    if patched.status_int == 200:
        # every order counted, before or after the limit: never more than 12
        assert placed == 12 and shop.row(coupon_id).times_used == 12
    else:  # more than 12 orders were through before the limit came
        assert patched.json["error"]["code"] == "usage_limit_below_uses"
        assert placed == 20


def test_one_customer_never_passes_the_per_customer_limit(shop):
    """A customer has one cart, so their orders never run at once through the API; the
    customer's counter holds on its own when recording runs at once anyway."""
    coupon_id = shop.coupon("TWICE", per_customer_limit=2)
    headers = shop.user()
    user_id = int(headers["user_id"])
    numbers = []
    for _ in range(8):
        shop.buyer(headers)
        numbers.append(shop.place(headers).json["number"])
    with shop.sessions() as session:
        order_ids = list(session.scalars(sa.select(Order.id).where(Order.number.in_(numbers))))
        code_id = session.scalar(sa.text("SELECT id FROM coupons_code WHERE code = 'TWICE'"))
    applied = Applied(coupon_id=coupon_id, code_id=code_id, code="TWICE", sent="TWICE",
                      name="", kind="percentage", percent_hundredths=1000, amount=None,
                      combinable=False, code_limited=False, product_ids=None)

    def record(order_id):
        manager = transaction.TransactionManager(explicit=True)
        try:
            with manager:
                dbsession = get_tm_session(shop.sessions, manager)
                order = dbsession.get(Order, order_id)
                redemptions.record(dbsession, order, [applied], {})
            return "recorded"
        except Unprocessable as exc:
            return exc.code

    results = race(record, order_ids)
    assert sorted(results) == ["coupon_customer_limit_reached"] * 6 + ["recorded"] * 2
    with shop.sessions() as session:
        assert session.scalar(sa.select(CustomerUse.times_used).where(
            CustomerUse.coupon_id == coupon_id, CustomerUse.user_id == user_id)) == 2
    assert shop.active_uses(coupon_id) == 2
