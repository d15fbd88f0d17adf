"""Fixtures of the shipping tests: the plugin installed for the test, a staff client of
its API that makes zones and methods, and the orders tests' buyers, desk and products
(imported from tests/plugins/orders/conftest.py)."""
import pytest
import sqlalchemy as sa

from core.notifications import Notification
from tests.plugins.orders.conftest import (  # noqa: F401  (fixtures used by these tests)
    ADDRESS, API, Buyer, Desk, assert_error, blue, buyer, desk, error_codes, mail_dir,
    make_buyer, mug, orders_settings, red, stock)

GB = ADDRESS  # London
DE = {"name": "Grace Hopper", "line1": "Unter den Linden 1", "city": "Berlin",
      "postal_code": "10117", "country": "DE"}
HAWAII = {"name": "Ada", "line1": "1 Beach Road", "city": "Honolulu", "state": "HI",
          "postal_code": "96801", "country": "US"}
OHIO = dict(HAWAII, city="Columbus", state="OH", postal_code="43004")
JP = {"name": "Ada", "line1": "1-1 Chiyoda", "city": "Tokyo", "postal_code": "100-0001",
      "country": "JP"}


class Shipping:
    """The staff's side of the shipping API."""

    def __init__(self, testapp, staff):
        self.testapp = testapp
        self.headers = staff.headers

    def call(self, method, path, body=None, status=200):
        kwargs = {"headers": self.headers, "status": status}
        if method in ("post", "patch", "put"):
            return getattr(self.testapp, f"{method}_json")(f"{API}{path}", body or {},
                                                           **kwargs)
        return getattr(self.testapp, method)(f"{API}{path}", **kwargs)

    def zone(self, name="Zone", areas=("GB",), status=201, **more):
        body = {"name": name, "areas": [
            {"country": a.split(":")[0], "region": a.partition(":")[2]} if isinstance(a, str)
            else a for a in areas], **more}
        return self.call("post", "/shipping/zones", body, status=status).json

    def method(self, zone, code, status=201, **body):
        body = {"code": code, "name": body.pop("name", code.title()), "kind": "flat",
                "min_days": 2, "max_days": 4, **body}
        if body["kind"] == "flat":
            body.setdefault("price", "4.90")
        zone_id = zone["id"] if isinstance(zone, dict) else zone
        return self.call("post", f"/shipping/zones/{zone_id}/methods", body,
                         status=status).json

    def patch_method(self, method, body, status=200):
        return self.call("patch", f"/shipping/methods/{method['id']}", body, status=status)

    def ship(self, number, body=None, status=201):
        return self.call("post", f"/shipping/orders/{number}/shipments", body or {},
                         status=status)

    def shipments(self, number, status=200):
        return self.call("get", f"/shipping/orders/{number}/shipments", status=status)

    def deliver(self, number, shipment_id, status=200):
        return self.call("post", f"/shipping/orders/{number}/shipments/{shipment_id}/deliver",
                         {}, status=status)


@pytest.fixture
def shipping(install_plugin, testapp, staff):
    """The shipping plugin installed and enabled for this test; its staff API."""
    install_plugin("shipping")
    return Shipping(testapp, staff)


@pytest.fixture
def shipping_settings(testapp, staff):
    def store(**values):
        testapp.put_json(f"{API}/admin/plugins/shipping/settings", values,
                         headers=staff.headers)

    return store


@pytest.fixture
def uk(shipping):
    """A zone for GB with a flat "standard" (4.90, 2-4 days) and "express" (9.90, 1 day)."""
    zone = shipping.zone("United Kingdom", ["GB"])
    shipping.method(zone, "standard", price="4.90")
    shipping.method(zone, "express", price="9.90", min_days=1, max_days=1, position=1)
    return zone


@pytest.fixture
def paid_order(make_order, buyer, uk):
    """``paid_order({variant_id: quantity})``: the number of a paid order of ``buyer``
    shipped with "standard" to GB."""
    def place(items):
        return make_order(items=list(items.items()), customer=buyer.user,
                          shipping_address=GB, shipping_method="standard").number

    return place


@pytest.fixture
def mails(dbsession):
    """``mails(template)``: the notifications queued with that template, oldest first."""
    def sent(template):
        dbsession.expire_all()
        return list(dbsession.scalars(sa.select(Notification).where(
            Notification.template == template).order_by(Notification.id)))

    return sent


def options(quote):
    """``{code: price}`` of a quote's shipping options (a response or its JSON)."""
    quote = quote if isinstance(quote, dict) else quote.json
    return {option["code"]: option["price"] for option in quote["shipping_options"]}
