"""Points under concurrency, on PostgreSQL, with real threads against a database of their
own whose transactions really commit: a balance never goes below zero and always equals
its ledger, whatever orders, staff adjustments and expiry workers do at once."""
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
from plugins.catalog import services as catalog
from plugins.catalog.schemas import ProductBody
from plugins.loyalty import services
from plugins.loyalty.models import Account, Entry

from .conftest import ADDRESS, API, RULES

pytestmark = postgresql_only


class Shop:
    """The application on its own database, with loyalty installed, and helpers that
    commit."""

    def __init__(self, registry, app):
        self.registry = registry
        self.app = app
        self.sessions = registry["dbsession_factory"]

    def in_context(self, work):
        """Run ``work(ctx)`` in a transaction of its own, as a task does."""
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(self.sessions, manager)
            ctx = TaskContext(self.registry, dbsession, manager,
                              self.registry["plugins"].current(), None)
            return work(ctx)

    def variant(self, stock=1000):
        with self.sessions() as session, session.begin():
            body = ProductBody().load({"name": "Mug", "variants": [
                {"sku": f"MUG-{uuid.uuid4().hex[:10]}", "price": "12.50", "stock": stock}]})
            product = catalog.create_product(session, body, "EUR")
            session.flush()
            return product.variants[0].id

    def user(self, staff=False):
        with self.sessions() as session, session.begin():
            user = create_user(session, f"u-{uuid.uuid4().hex[:10]}@example.com",
                               "correct horse battery", staff=staff)
            session.flush()
            token, _ = issue_access_token(self.registry.settings, user)
            return user.id, {"Authorization": f"Bearer {token}"}

    def grant(self, user_id, points, months=None):
        def work(ctx):
            rules = services.Rules.of(ctx)
            if months is not None:
                rules = services.Rules(**dict(vars(rules), expiry_months=months))
            services.adjust(ctx.dbsession, rules, user_id, points, "a start")
        self.in_context(work)

    def client(self):
        return webtest.TestApp(self.app, extra_environ={"HTTP_HOST": "shop.test"})

    def balance_and_ledger(self, user_id):
        with self.sessions() as session:
            held = session.scalar(sa.select(Account.balance).where(Account.user_id == user_id))
            entries = session.execute(sa.select(Entry.kind, Entry.points, Entry.balance_after)
                                      .where(Entry.user_id == user_id)
                                      .order_by(Entry.id)).all()
        running = 0
        for _, points, after in entries:
            running += points
            assert after == running >= 0, entries
        assert held == running, (held, entries)
        return held, [(kind, points) for kind, points, _ in entries]


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory):
    registry, app = standalone_app(make_database(), tmp_path_factory.mktemp("mail"), install=["loyalty"], settings={"loyalty": RULES})
    assert registry["plugins"].current().is_enabled("loyalty")
    yield Shop(registry, app)
    registry["db_engine"].dispose()


def test_thirty_debits_of_one_balance_take_exactly_what_is_there(shop):
    """The debit an order makes at placement, thirty times at once on one account."""
    user_id, _ = shop.user()
    shop.grant(user_id, 1000)

    def spend(_):
        try:
            shop.in_context(lambda ctx: services._move(ctx.dbsession, user_id, -100,
                                                       "redeemed"))
            return "spent"
        except services.InsufficientPoints:
            return "refused"

    results = race(spend, list(range(30)))
    assert results.count("spent") == 10 and results.count("refused") == 20
    held, entries = shop.balance_and_ledger(user_id)
    assert held == 0 and entries.count(("redeemed", -100)) == 10


def test_orders_and_staff_racing_for_the_same_points_never_overdraw(shop):
    """Ten customers with 1000 points each; for each, at once: an order paying with all
    1000 points and two staff adjustments taking 600. One of the three wins."""
    variant_id = shop.variant()
    _, staff_headers = shop.user(staff=True)
    customers = []
    for _ in range(10):
        user_id, headers = shop.user()
        shop.grant(user_id, 1000)
        shop.client().post_json(f"{API}/cart/items", {"variant_id": variant_id, "quantity": 2},
                                headers=headers)
        customers.append((user_id, headers))

    def order(customer):
        return shop.client().post_json(
            f"{API}/orders", {"shipping_address": ADDRESS, "loyalty_points": 1000},
            headers=dict(customer[1], **{"Idempotency-Key": uuid.uuid4().hex}), status="*")

    def take(customer):
        return shop.client().post_json(
            f"{API}/admin/loyalty/accounts/{customer[0]}/adjustments",
            {"points": -600, "reason": "race"}, headers=staff_headers, status="*")

    jobs = [(order, c) for c in customers] + [(take, c) for c in customers] * 2
    responses = race(lambda job: job[0](job[1]), jobs)
    assert {r.status_int for r in responses} == {201, 422}
    for response in responses:
        if response.status_int == 422:
            assert response.json["error"]["code"] in (
                "loyalty_insufficient_points", "checkout_invalid"), response.json
    for (user_id, _), placed, first, second in zip(
            customers, responses[:10], responses[10:20], responses[20:]):
        won = [r for r in (placed, first, second) if r.status_int == 201]
        assert len(won) == 1, [r.status_int for r in (placed, first, second)]
        held, entries = shop.balance_and_ledger(user_id)
        taken = 1000 if placed.status_int == 201 else 600
        assert held == 1000 - taken >= 0
        if placed.status_int == 201:
            assert placed.json["tenders"][0]["amount"] == "10.00"
            assert entries == [("adjusted", 1000), ("redeemed", -1000)]
        else:
            assert entries == [("adjusted", 1000), ("adjusted", -600)]


def test_two_expiry_workers_expire_each_account_once(shop):
    users = []
    for index in range(20):
        user_id, _ = shop.user()
        shop.grant(user_id, 100 + index, months=1)
        users.append(user_id)
    # a month and a bit later, two workers run the job at the same moment
    later = utcnow() + dt.timedelta(days=40)
    results = race(lambda _: shop.in_context(
        lambda ctx: services.expire_due(ctx.dbsession, now=later)), [1, 2])
    expired = dict(results[0] + results[1])
    assert len(results[0]) + len(results[1]) == len(expired)  # no account twice
    for index, user_id in enumerate(users):
        assert expired[user_id] == 100 + index
        held, entries = shop.balance_and_ledger(user_id)
        assert held == 0 and entries == [("adjusted", 100 + index), ("expired", -100 - index)]
    assert race(lambda _: shop.in_context(
        lambda ctx: services.expire_due(ctx.dbsession, now=later)), [1, 2]) == [[], []]


def test_expiry_racing_orders_and_earnings_keeps_every_balance_whole(shop):
    """While a worker expires old points, customers spend and earn: every balance stays
    the sum of its ledger and never below zero."""
    variant_id = shop.variant()
    _, staff_headers = shop.user(staff=True)
    customers = []
    for _ in range(8):
        user_id, headers = shop.user()
        shop.grant(user_id, 500, months=1)  # these expire in the race
        shop.grant(user_id, 800)  # these do not
        shop.client().post_json(f"{API}/cart/items", {"variant_id": variant_id, "quantity": 2},
                                headers=headers)
        customers.append((user_id, headers))
    later = utcnow() + dt.timedelta(days=40)

    def work(job):
        kind, customer = job
        if kind == "expire":
            return shop.in_context(lambda ctx: services.expire_due(ctx.dbsession, now=later))
        if kind == "order":
            return shop.client().post_json(
                f"{API}/orders", {"shipping_address": ADDRESS, "loyalty_points": 1200},
                headers=dict(customer[1], **{"Idempotency-Key": uuid.uuid4().hex}),
                status="*").status_int
        return shop.client().post_json(
            f"{API}/admin/loyalty/accounts/{customer[0]}/adjustments",
            {"points": 25, "reason": "bonus"}, headers=staff_headers, status="*").status_int

    jobs = [("expire", None)] * 2 + [("order", c) for c in customers] + \
        [("bonus", c) for c in customers]
    results = race(work, jobs)
    assert all(status == 201 for status in results[10:]), results  # bonuses always land
    for (user_id, _), status in zip(customers, results[2:10]):
        held, entries = shop.balance_and_ledger(user_id)
        kinds = [kind for kind, _ in entries]
        assert kinds.count("expired") <= 1 and held >= 0
        if status == 201:  # the order spent 1200 (the oldest 500 first): nothing expires
            assert "expired" not in kinds and held == 500 + 800 + 25 - 1200
        else:  # expiry took the 500 first: 825 is too little for the order
            assert status == 422 and held == 800 + 25 and ("expired", -500) in entries
