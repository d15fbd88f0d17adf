"""The checkout pipeline and POST /checkout/quote: every phase, exact sums, nothing written."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.money import Money
from plugins.orders import checkout as pipeline
from plugins.orders.models import Order

from .conftest import ADDRESS, API, error_codes

QUOTE_FIELDS = {"subtotal", "discounts", "shipping_options", "shipping", "tax", "total",
                "tenders", "amount_due", "currency", "errors"}


def cents(value):
    return Money.from_decimal(value, "EUR").amount


def assert_adds_up(quote):
    total = (cents(quote["subtotal"]) - sum(cents(d["amount"]) for d in quote["discounts"])
             + cents(quote["shipping"]) + cents(quote["tax"]))
    assert total == cents(quote["total"])
    assert cents(quote["amount_due"]) == total - sum(cents(t["amount"])
                                                     for t in quote["tenders"])
    assert sum(cents(i["discount"]) for i in quote["items"]) == cents(quote["discount_total"])


def test_a_quote_prices_the_cart_from_the_catalog(buyer, red, blue):
    buyer.add(red, 2)
    buyer.add(blue, 1)
    quote = buyer.quote({"shipping_address": ADDRESS}).json
    assert QUOTE_FIELDS <= set(quote)
    assert quote["subtotal"] == "38.00" and quote["total"] == "38.00"
    assert quote["amount_due"] == "38.00" and quote["currency"] == "EUR"
    assert quote["discounts"] == quote["tenders"] == quote["shipping_options"] == []
    assert quote["errors"] == []
    assert [(i["variant_id"], i["quantity"], i["unit_price"]) for i in quote["items"]] == [
        (red, 2, "12.50"), (blue, 1, "13.00")]


def test_a_quote_says_what_is_missing_and_writes_nothing(buyer, red, dbsession):
    assert error_codes(buyer.quote()) == ["cart_empty", "address_required"]
    buyer.add(red, 1)
    quote = buyer.quote().json
    assert error_codes(quote) == ["address_required"]
    assert quote["errors"][0]["field"] == "shipping_address"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_guest_may_ask_for_a_quote_with_the_cart_token(testapp, red):
    added = testapp.post_json(f"{API}/cart/items", {"variant_id": red, "quantity": 3})
    token = added.headers["X-Cart-Token"]
    quote = testapp.post_json(f"{API}/checkout/quote", {"shipping_address": ADDRESS},
                              headers={"X-Cart-Token": token}).json
    assert quote["subtotal"] == "37.50" and quote["errors"] == []
    anonymous = testapp.post_json(f"{API}/checkout/quote", {}).json
    assert error_codes(anonymous)[0] == "cart_empty"
    assert testapp.post_json(f"{API}/checkout/quote", {"address_id": 1},
                             status=400).json["error"]["fields"]["address_id"]


def test_saved_addresses_of_the_customer_only(buyer, make_buyer, red, testapp):
    saved = testapp.post_json(f"{API}/users/me/addresses", ADDRESS, headers=buyer.headers)
    buyer.add(red, 1)
    assert buyer.quote({"address_id": saved.json["id"]}).json["errors"] == []
    other = make_buyer()
    other.add(red, 1)
    response = other.quote({"address_id": saved.json["id"]}, status=400)
    assert response.json["error"]["fields"] == {
        "address_id": ["You have no saved address with this id."]}
    response = buyer.quote({"address_id": saved.json["id"], "shipping_address": ADDRESS},
                           status=400)
    assert "address_id" in response.json["error"]["fields"]


@pytest.mark.parametrize("body", [
    {"coupon_codes": "TENOFF"},
    {"coupon_codes": [""]},
    {"coupon_codes": ["X"] * 21},
    {"loyalty_points": -1},
    {"loyalty_points": 1.5},
    {"loyalty_points": "many"},
    {"shipping_address": {"name": "A", "line1": "x", "city": "y", "country": "ZZ"}},
    {"shipping_address": {"name": "A\x00", "line1": "x", "city": "y", "country": "DE"}},
    {"shipping_address": "Main Street 1"},
    {"shipping_method": 7},
    {"surprise": True},
])
def test_bad_quote_bodies_are_400(buyer, red, body):
    buyer.add(red, 1)
    response = buyer.quote(body, status=400)
    assert response.json["error"]["code"] == "invalid"


# --- with a plugin in every phase ----------------------------------------------------------


def test_every_phase_takes_part_and_the_sums_add_up_exactly(buyer, red, blue, probe):
    probe.card("GC1", 2000)
    buyer.add(red, 2)
    buyer.add(blue, 1)
    quote = buyer.quote({"shipping_address": ADDRESS, "shipping_method": "express",
                         "coupon_codes": ["LINE5", "TENOFF"], "gift_card_codes": ["GC1"]}).json
    assert quote["errors"] == []
    assert quote["subtotal"] == "38.00"
    assert [(d["source"], d["code"], d["amount"]) for d in quote["discounts"]] == [
        ("checkout_probe", "LINE5", "5.00"), ("checkout_probe", "TENOFF", "3.80")]
    # TENOFF is spread over what is left of the lines (20.00 and 13.00), to the cent
    assert [(i["discount"], i["tax"]) for i in quote["items"]] == [("7.30", "3.54"),
                                                                  ("1.50", "2.30")]
    assert quote["shipping_options"] == [
        {"code": "standard", "name": "Standard", "price": "4.90", "min_days": 2, "max_days": 4},
        {"code": "express", "name": "Express", "price": "9.90", "min_days": 1, "max_days": 1}]
    assert quote["shipping_method"] == "express" and quote["shipping"] == "9.90"
    assert quote["taxes"] == [{"source": "checkout_probe", "name": "VAT", "rate": "0.20",
                               "amount": "7.82"}]
    assert quote["total"] == "46.92"
    assert quote["tenders"] == [{"source": "checkout_probe", "code": "GC1", "amount": "20.00"}]
    assert quote["amount_due"] == "26.92"
    assert_adds_up(quote)
    assert probe.balance("GC1") == 2000  # a quote spends nothing


def test_plugin_errors_reach_the_quote(buyer, red, probe):
    buyer.add(red, 1)
    quote = buyer.quote({"shipping_address": ADDRESS, "coupon_codes": ["NOPE"],
                         "gift_card_codes": ["NOCARD"], "shipping_method": "teleport"}).json
    # validation first (the orders plugin's checks, then the plugins'), then shipping
    assert error_codes(quote) == ["coupon_invalid", "gift_card_unknown",
                                  "unknown_shipping_method"]
    coupon = next(e for e in quote["errors"] if e["code"] == "coupon_invalid")
    assert coupon["coupon"] == "NOPE" and coupon["field"] == "coupon_codes"
    quote = buyer.quote({"shipping_address": ADDRESS}).json
    assert error_codes(quote) == ["shipping_method_required"]


def test_a_gift_card_never_pays_more_than_is_due(buyer, red, probe):
    probe.card("BIG", 100000)
    probe.card("SMALL", 100)
    buyer.add(red, 1)
    quote = buyer.quote({"shipping_address": ADDRESS, "shipping_method": "standard",
                         "gift_card_codes": ["SMALL", "BIG"]}).json
    # 12.50 + 4.90 shipping + 20 % = 20.88
    assert quote["total"] == "20.88"
    assert [t["amount"] for t in quote["tenders"]] == ["1.00", "19.88"]
    assert quote["amount_due"] == "0.00"
    assert_adds_up(quote)


# --- the pipeline without HTTP ----------------------------------------------------------------


class Hooks:
    """A stand-in hook relay: each hook calls the given functions in turn."""

    class Impl:
        def __init__(self, name, function):
            self.plugin_name, self.function = name, function
            self.argnames = ("checkout",)
            self.hookwrapper = self.wrapper = False

    class Caller:
        def __init__(self, impls, firstresult=False):
            self.impls, self.firstresult = impls, firstresult

        def get_hookimpls(self):
            return list(reversed(self.impls))  # pluggy calls the list from its end

        def __call__(self, checkout):
            for impl in self.impls:
                result = impl.function(checkout)
                if result is not None:
                    return result

    def __init__(self, **hooks):
        for name in ("checkout_validate", "checkout_price_lines", "checkout_discounts",
                     "checkout_shipping_options", "checkout_tax", "checkout_tenders"):
            impls = [self.Impl(f"p{n}", f) for n, f in enumerate(hooks.get(name, []))]
            setattr(self, name, self.Caller(impls))


def run_pipeline(lines, **hooks):
    def price(checkout):
        return [pipeline.Line(index=0, variant_id=n + 1, quantity=q,
                              unit_price=Money(p, "EUR")) for n, (p, q) in enumerate(lines)]

    hooks.setdefault("checkout_price_lines", [price])
    checkout = pipeline.Checkout(request=None, dbsession=None, currency="EUR")
    relay = Hooks(**hooks)
    for phase in pipeline.PHASES:
        phase(checkout, relay)
    return checkout


def test_discounts_never_take_a_line_below_zero_and_see_earlier_ones():
    seen = []

    def first(checkout):
        return [{"amount": Money(800, "EUR"), "code": "A"}]

    def second(checkout):
        seen.append(checkout.discount_total)
        return [{"amount": Money(10_000, "EUR"), "code": "B"},
                {"lines": {1: Money(99, "EUR")}, "code": "C"}]

    checkout = run_pipeline([(333, 1), (667, 1)], checkout_discounts=[first, second])
    assert seen == [Money(800, "EUR")]
    assert [d["amount"].amount for d in checkout.discounts] == [800, 200, 0]
    assert checkout.total.is_zero()
    assert [line.net.amount for line in checkout.lines] == [0, 0]
    assert [line.discount.amount for line in checkout.lines] == [333, 667]


def test_order_discounts_are_allocated_to_the_cent():
    checkout = run_pipeline([(100, 1), (100, 1), (100, 1)], checkout_discounts=[
        lambda c: [{"amount": Money(100, "EUR")}]])
    assert [line.discount.amount for line in checkout.lines] == [34, 33, 33]
    assert checkout.discount_total.amount == 100 and checkout.total.amount == 200


def test_tenders_of_later_plugins_see_what_is_still_due():
    due = []

    def gift(checkout):
        due.append(checkout.amount_due.amount)
        return [{"amount": Money(700, "EUR")}]

    checkout = run_pipeline([(1000, 1)], checkout_tenders=[gift, gift, gift])
    assert due == [1000, 300, 0]
    assert [t["amount"].amount for t in checkout.tenders] == [700, 300]
    assert checkout.amount_due.is_zero()


@pytest.mark.parametrize("answer", [
    [{"amount": 5}],
    [{"amount": Money(5, "USD")}],
    [{"amount": Money(-5, "EUR")}],
    [{"lines": {7: Money(5, "EUR")}}],
    {"amount": Money(5, "EUR")},
    ["five"],
])
def test_a_plugin_answering_nonsense_is_named(answer):
    with pytest.raises(pipeline.PluginAnswerError, match="plugin p0"):
        run_pipeline([(1000, 1)], checkout_discounts=[lambda c: answer])


def test_tax_rates_are_decimals():
    checkout = run_pipeline([(1000, 2)], checkout_tax=[
        lambda c: [{"name": "VAT", "rate": "0.07", "amount": c.subtotal.percentage(7)}]])
    assert checkout.taxes[0]["rate"] == Decimal("0.07")
    assert checkout.tax.amount == 140 and checkout.lines[0].tax.amount == 140
