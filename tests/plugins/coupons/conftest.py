"""Fixtures of the coupon tests: the coupons plugin installed for the test, the staff's
coupon API, and the orders tests' buyers, desk and products (tests/plugins/orders)."""
import pytest
import sqlalchemy as sa

from tests.plugins.orders.conftest import (  # noqa: F401  (fixtures used by these tests)
    ADDRESS, API, assert_error, blue, buyer, ctx, desk, mail_dir, make_buyer, mug, red, stock)

COUPONS = f"{API}/admin/coupons"


def quote_errors(quote):
    """``{coupon as sent: error code}`` of a quote's coupon errors."""
    quote = quote if isinstance(quote, dict) else quote.json
    return {e["coupon"]: e["code"] for e in quote["errors"] if e.get("field") == "coupon_codes"}


def discounts(quote):
    """``{code: amount}`` of a quote's or an order's discounts."""
    quote = quote if isinstance(quote, dict) else quote.json
    return {d["code"]: d["amount"] for d in quote["discounts"]}


class CouponDesk:
    """The staff's coupon API."""

    def __init__(self, testapp, staff):
        self.testapp = testapp
        self.headers = staff.headers

    def create(self, status=201, **body):
        body.setdefault("kind", "percentage")
        if body["kind"] == "percentage":
            body.setdefault("percent", "10")
        return self.testapp.post_json(COUPONS, body, headers=self.headers, status=status)

    def make(self, code, **body):
        """A coupon with ``code``; its JSON."""
        return self.create(code=code, **body).json

    def get(self, coupon_id, status=200):
        return self.testapp.get(f"{COUPONS}/{coupon_id}", headers=self.headers, status=status)

    def patch(self, coupon_id, status=200, **body):
        return self.testapp.patch_json(f"{COUPONS}/{coupon_id}", body, headers=self.headers,
                                       status=status)

    def list(self, status=200, **params):
        return self.testapp.get(COUPONS, params=params, headers=self.headers, status=status)

    def deactivate(self, coupon_id, status=200):
        return self.testapp.post_json(f"{COUPONS}/{coupon_id}/deactivate", {},
                                      headers=self.headers, status=status)

    def generate(self, coupon_id, status=201, **body):
        return self.testapp.post_json(f"{COUPONS}/{coupon_id}/codes", body,
                                      headers=self.headers, status=status)

    def codes(self, coupon_id, status=200, **params):
        return self.testapp.get(f"{COUPONS}/{coupon_id}/codes", params=params,
                                headers=self.headers, status=status)

    def csv(self, coupon_id, status=200, **params):
        return self.testapp.get(f"{COUPONS}/{coupon_id}/codes.csv", params=params,
                                headers=self.headers, status=status)

    def uses(self, coupon_id, status=200, **params):
        return self.testapp.get(f"{COUPONS}/{coupon_id}/redemptions", params=params,
                                headers=self.headers, status=status)


@pytest.fixture
def coupons(install_plugin, testapp, staff):
    """The coupons plugin installed for this test; the staff's coupon API."""
    install_plugin("coupons")
    return CouponDesk(testapp, staff)


@pytest.fixture
def coupon_row(dbsession):
    """``coupon_row(id)``: the Coupon as the database has it now."""
    from plugins.coupons.models import Coupon

    def read(coupon_id):
        dbsession.expire_all()
        return dbsession.scalars(sa.select(Coupon).where(Coupon.id == coupon_id)).one()

    return read
