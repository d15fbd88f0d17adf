"""Fixtures of the gift card tests: the plugin installed for each test, cards issued
through the staff API, a product sold as gift cards, and the buyers and order desk of
the order tests (tests/plugins/orders/conftest.py)."""
import pytest
import sqlalchemy as sa

from plugins.giftcards import codes
from plugins.giftcards.models import GiftCard, GiftCardProduct, LedgerEntry
from tests.plugins.orders.conftest import (  # noqa: F401  (fixtures and helpers used here)
    ADDRESS, API, assert_error, buyer, ctx, desk, error_codes, mail_dir, make_buyer, mug,
    red, stock)

NAME = "giftcards"


@pytest.fixture(autouse=True)
def giftcards(install_plugin):
    """The plugin (not installed by default) installed and enabled for each test."""
    install_plugin(NAME)


class Cards:
    """Gift cards issued as staff does, and what the database holds about them."""

    def __init__(self, testapp, staff, dbsession):
        self.testapp = testapp
        self.headers = staff.headers
        self.dbsession = dbsession

    def issue(self, amount="50.00", status=201, **body):
        """A new card's code (or the response, with ``count`` or an error ``status``)."""
        response = self.testapp.post_json(f"{API}/admin/gift-cards",
                                          dict(body, amount=amount), headers=self.headers,
                                          status=status)
        if status != 201 or "count" in body:
            return response
        return response.json["items"][0]["code"]

    def card(self, code):
        self.dbsession.expire_all()
        return self.dbsession.scalars(sa.select(GiftCard).where(
            GiftCard.code_hash == codes.digest(codes.normalize(code)))).one()

    def balance(self, code):
        return self.card(code).balance

    def ledger(self, code):
        """``[(kind, amount, balance_after)]`` of the card, oldest first."""
        card = self.card(code)
        return [(e.kind, e.amount, e.balance_after) for e in self.dbsession.scalars(
            sa.select(LedgerEntry).where(LedgerEntry.card_id == card.id)
            .order_by(LedgerEntry.id))]

    def staff_get(self, code, status=200):
        return self.testapp.get(f"{API}/admin/gift-cards/{self.card(code).id}",
                                headers=self.headers, status=status)

    def patch(self, code, status=200, **body):
        return self.testapp.patch_json(f"{API}/admin/gift-cards/{self.card(code).id}", body,
                                       headers=self.headers, status=status)

    def adjust(self, code, amount, note="correction", status=200):
        return self.testapp.post_json(f"{API}/admin/gift-cards/{self.card(code).id}/adjust",
                                      {"amount": amount, "note": note}, headers=self.headers,
                                      status=status)


@pytest.fixture
def cards(testapp, staff, dbsession):
    return Cards(testapp, staff, dbsession)


@pytest.fixture
def gift_product(make_product, testapp, staff, dbsession):
    """A catalog product sold as gift cards: variants of 25.00 and 50.00, 100 of each."""
    product = make_product("Gift card", variants=[
        {"price": "25.00", "stock": 100, "options": {"Value": "25"}},
        {"price": "50.00", "stock": 100, "options": {"Value": "50"}}])
    testapp.put_json(f"{API}/admin/gift-cards/products/{product.id}", {},
                     headers=staff.headers)
    assert dbsession.get(GiftCardProduct, product.id) is not None
    return product


def checkout_body(*codes_, **more):
    return dict({"shipping_address": ADDRESS, "gift_card_codes": list(codes_)}, **more)
