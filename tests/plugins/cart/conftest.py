"""Fixtures of the cart tests: products from the catalog's factories, and shoppers that
call the cart API the way a storefront does."""
import pytest

from tests.plugins.catalog.conftest import (  # noqa: F401  (fixtures shared with the catalog)
    make_category, make_product)

API = "/api/v1"
TOKEN = "X-Cart-Token"


class Shopper:
    """A storefront client: a guest keeping the X-Cart-Token it was given, or a customer
    (``auth``: the Bearer header)."""

    def __init__(self, testapp, auth=None):
        self.testapp = testapp
        self.auth = dict(auth or {})
        self.token = None

    def headers(self):
        headers = dict(self.auth)
        if self.token:
            headers[TOKEN] = self.token
        return headers

    def _keep(self, response):
        if response.headers.get(TOKEN):
            self.token = response.headers[TOKEN]
        return response

    def get(self, status=200):
        return self._keep(self.testapp.get(f"{API}/cart", headers=self.headers(),
                                           status=status))

    def add(self, variant_id, quantity=1, status=201):
        return self._keep(self.testapp.post_json(
            f"{API}/cart/items", {"variant_id": variant_id, "quantity": quantity},
            headers=self.headers(), status=status))

    def set(self, item_id, quantity, status=200):
        return self._keep(self.testapp.patch_json(
            f"{API}/cart/items/{item_id}", {"quantity": quantity}, headers=self.headers(),
            status=status))

    def remove(self, item_id, status=200):
        return self._keep(self.testapp.delete(f"{API}/cart/items/{item_id}",
                                              headers=self.headers(), status=status))


@pytest.fixture
def guest(testapp):
    return Shopper(testapp)


@pytest.fixture
def shopper(testapp):
    """``shopper(user)``: the cart API as that signed-in user."""
    return lambda user: Shopper(testapp, user.headers)


@pytest.fixture
def cart_settings(testapp, staff):
    """``cart_settings(max_lines=2, ...)``: store the cart plugin's settings."""
    def store(**values):
        testapp.put_json(f"{API}/admin/plugins/cart/settings", values, headers=staff.headers)

    return store


@pytest.fixture
def mug(make_product):
    """A product with two variants: Red (12.50, 10 in stock) and Blue (13.00, 2)."""
    return make_product("Mug", variants=[
        {"price": "12.50", "stock": 10, "options": {"Colour": "Red"}},
        {"price": "13.00", "stock": 2, "options": {"Colour": "Blue"}}],
        images=[{"url": "https://cdn.example.com/mug.jpg"}])


def items(response):
    return {item["variant_id"]: item["quantity"] for item in response.json["items"]}
