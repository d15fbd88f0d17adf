"""Fixtures of the order tests: buyers that use the cart, checkout and order API the way a
storefront does, the staff's order desk, the checkout_probe test plugin, and a mail
folder per test. Products, users and plugin installs come from the kit
(core.testing: make_product, make_user, install_plugin)."""
import itertools
import uuid

import pytest
import sqlalchemy as sa

from plugins.catalog import inventory

API = "/api/v1"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical Street", "city": "London",
           "postal_code": "N1 9GU", "country": "GB"}
PROBE = "checkout_probe"

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def mail_dir(registry, tmp_path):
    """Mail goes to a folder of this test, never to var/mail."""
    settings = registry.settings
    before = settings.get("emporium.mail_dir")
    settings["emporium.mail_dir"] = str(tmp_path / "mail")
    yield tmp_path / "mail"
    if before is None:
        settings.pop("emporium.mail_dir", None)
    else:
        settings["emporium.mail_dir"] = before


def new_key():
    return f"key-{next(_keys)}-{uuid.uuid4().hex[:8]}"


class Buyer:
    """A signed-in customer using the storefront API."""

    def __init__(self, testapp, user):
        self.testapp = testapp
        self.user = user
        self.headers = dict(user.headers)

    def add(self, variant_id, quantity=1, status=201):
        return self.testapp.post_json(f"{API}/cart/items",
                                      {"variant_id": variant_id, "quantity": quantity},
                                      headers=self.headers, status=status)

    def quote(self, body=None, status=200):
        return self.testapp.post_json(f"{API}/checkout/quote", body or {},
                                      headers=self.headers, status=status)

    def place(self, body=None, key=None, status=201, headers=None):
        body = {"shipping_address": ADDRESS} if body is None else body
        all_headers = dict(self.headers, **(headers or {}))
        if key is not False:
            all_headers["Idempotency-Key"] = key or new_key()
        return self.testapp.post_json(f"{API}/orders", body, headers=all_headers,
                                      status=status)

    def orders(self, status=200, **params):
        return self.testapp.get(f"{API}/orders", params=params, headers=self.headers,
                                status=status)

    def order(self, number, status=200):
        return self.testapp.get(f"{API}/orders/{number}", headers=self.headers, status=status)

    def cancel(self, number, status=200):
        return self.testapp.post_json(f"{API}/orders/{number}/cancel", {},
                                      headers=self.headers, status=status)


class Desk:
    """The staff's order desk."""

    def __init__(self, testapp, staff):
        self.testapp = testapp
        self.headers = staff.headers

    def get(self, number, status=200):
        return self.testapp.get(f"{API}/admin/orders/{number}", headers=self.headers,
                                status=status)

    def list(self, expect=200, **params):
        return self.testapp.get(f"{API}/admin/orders", params=params, headers=self.headers,
                                status=expect)

    def act(self, number, action, body=None, status=200):
        return self.testapp.post_json(f"{API}/admin/orders/{number}/{action}", body or {},
                                      headers=self.headers, status=status)


@pytest.fixture
def buyer(testapp, customer):
    return Buyer(testapp, customer)


@pytest.fixture
def make_buyer(testapp, make_user):
    """Another signed-in customer."""
    return lambda: Buyer(testapp, make_user())


@pytest.fixture
def desk(testapp, staff):
    return Desk(testapp, staff)


@pytest.fixture
def mug(make_product):
    """A product with two variants: Red (12.50, 10 in stock) and Blue (13.00, 2)."""
    return make_product("Mug", variants=[
        {"price": "12.50", "stock": 10, "options": {"Colour": "Red"}},
        {"price": "13.00", "stock": 2, "options": {"Colour": "Blue"}}],
        images=[{"url": "https://cdn.example.com/mug.jpg"}])


@pytest.fixture
def red(mug):
    return mug.variants[0].id


@pytest.fixture
def blue(mug):
    return mug.variants[1].id


@pytest.fixture
def stock(dbsession):
    """``stock(variant_id)``: the variant's StockLevel (on_hand, reserved, available)."""
    def level(variant_id):
        dbsession.expire_all()
        return inventory.level(dbsession, variant_id)

    return level


@pytest.fixture
def orders_settings(testapp, staff):
    def store(**values):
        testapp.put_json(f"{API}/admin/plugins/orders/settings", values, headers=staff.headers)

    return store


@pytest.fixture
def probe(install_plugin, dbsession):
    """The checkout_probe plugin installed; ``probe.card(code, balance)`` makes a gift card."""
    from tests.fixtures.plugins.checkout_probe import hooks
    from tests.fixtures.plugins.checkout_probe.models import ProbeCard, ProbeLedger

    install_plugin(PROBE)
    hooks.EVENTS.clear()
    hooks.PAYMENTS.clear()

    class Probe:
        events = hooks.EVENTS
        payments = hooks.PAYMENTS

        @staticmethod
        def card(code, balance):
            dbsession.add(ProbeCard(code=code, balance=balance))
            dbsession.flush()

        @staticmethod
        def balance(code):
            dbsession.expire_all()
            return dbsession.scalar(sa.select(ProbeCard.balance).where(ProbeCard.code == code))

        @staticmethod
        def ledger(code):
            dbsession.expire_all()
            return list(dbsession.scalars(sa.select(ProbeLedger.change)
                                          .where(ProbeLedger.code == code)
                                          .order_by(ProbeLedger.id)))

    yield Probe
    hooks.EVENTS.clear()
    hooks.PAYMENTS.clear()


@pytest.fixture
def ctx(registry, db_connection):
    """A request-like context with a transaction of its own (what a webhook view or a task
    passes to the services), inside the test's rolled-back one."""
    import transaction

    from core.db import get_tm_session
    from core.tasks import TaskContext

    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    dbsession = get_tm_session(registry["dbsession_factory"], manager)
    yield TaskContext(registry, dbsession, manager, registry["plugins"].current(), None)
    manager.abort()


def error_codes(quote):
    """The codes of a quote's errors (a response or its JSON)."""
    quote = quote if isinstance(quote, dict) else quote.json
    return [error["code"] for error in quote["errors"]]


def assert_error(response, status, code):
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    assert response.json["error"]["code"] == code, response.json
    assert response.json["error"]["message"]
