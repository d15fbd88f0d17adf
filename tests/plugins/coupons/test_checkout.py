"""Coupons at checkout: what they take off (rounding, spreading, scope, stacking) and every
reason a code is refused, on quotes and orders."""
import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.plugins import hookimpl
from plugins.coupons.models import Redemption
from plugins.orders.models import Order

from .conftest import ADDRESS, discounts, quote_errors


def body(*codes, **more):
    return {"shipping_address": ADDRESS, "coupon_codes": list(codes), **more}


def items(quote):
    return [(i["variant_id"], i["discount"]) for i in quote["items"]]


# --- what a coupon takes off -----------------------------------------------------------------


def test_a_percentage_coupon_is_spread_over_the_lines_and_the_code_is_any_case(
        coupons, buyer, red, blue):
    coupons.make("save10", percent="10")  # stored as SAVE10
    buyer.add(red, 2)
    buyer.add(blue, 1)
    quote = buyer.quote(body("  Save10 ")).json
    assert quote["errors"] == []
    assert quote["discounts"] == [{"source": "coupons", "code": "SAVE10", "name": "10 % off",
                                   "amount": "3.80"}]
    # 25.00 and 13.00 of 38.00: 2.50 and 1.30
    assert items(quote) == [(red, "2.50"), (blue, "1.30")]
    assert quote["total"] == "34.20" and quote["discount_total"] == "3.80"


def test_a_percentage_is_rounded_once_half_away_from_zero(coupons, buyer, blue):
    coupons.make("EIGHTH", percent="12.5", name="An eighth off")
    buyer.add(blue, 1)
    quote = buyer.quote(body("EIGHTH")).json
    # 12.5 % of 13.00 is 1.625: 1.63
    assert discounts(quote) == {"EIGHTH": "1.63"}
    assert quote["discounts"][0]["name"] == "An eighth off"


def test_the_shares_of_the_lines_add_up_to_the_discount_exactly(coupons, buyer,
                                                                make_product):
    products = [make_product(variants=[{"price": "3.33", "stock": 5}]) for _ in range(3)]
    for product in products:
        buyer.add(product.variants[0].id, 1)
    coupons.make("HALF", percent="50")
    quote = buyer.quote(body("HALF")).json
    # 50 % of 9.99 is 4.995: 5.00, over three equal lines by largest remainder
    assert discounts(quote) == {"HALF": "5.00"}
    assert [i["discount"] for i in quote["items"]] == ["1.67", "1.67", "1.66"]


def test_a_fixed_amount_never_exceeds_what_it_applies_to(coupons, buyer, red, blue,
                                                         make_product):
    coupons.make("FIFTY", kind="fixed_amount", amount="50.00")
    buyer.add(red, 1)
    quote = buyer.quote(body("FIFTY")).json
    assert discounts(quote) == {"FIFTY": "12.50"} and quote["total"] == "0.00"

    cheap = make_product(variants=[{"price": "4.00", "stock": 5}])
    coupons.make("CHEAP20", kind="fixed_amount", amount="20", applies_to="products",
                 product_ids=[cheap.id])
    buyer.add(cheap.variants[0].id, 1)
    quote = buyer.quote(body("CHEAP20")).json
    assert discounts(quote) == {"CHEAP20": "4.00"}
    assert [i["discount"] for i in quote["items"]] == ["0.00", "4.00"]


def test_category_scope_covers_the_categories_below(coupons, buyer, make_category,
                                                    make_product):
    kitchen = make_category("Kitchen")
    cups = make_category("Cups", parent=kitchen)
    garden = make_category("Garden")
    cup = make_product("Cup", category=cups, variants=[{"price": "8.00", "stock": 5}])
    hose = make_product("Hose", category=garden, variants=[{"price": "20.00", "stock": 5}])
    loose = make_product("Loose", variants=[{"price": "5.00", "stock": 5}])
    for product in (cup, hose, loose):
        buyer.add(product.variants[0].id, 1)
    coupons.make("KITCHEN25", percent="25", applies_to="categories",
                 category_ids=[kitchen.id])
    quote = buyer.quote(body("KITCHEN25")).json
    assert discounts(quote) == {"KITCHEN25": "2.00"}
    assert [i["discount"] for i in quote["items"]] == ["2.00", "0.00", "0.00"]


def test_product_scope(coupons, buyer, red, blue, mug, make_product):
    other = make_product(variants=[{"price": "10.00", "stock": 5}])
    buyer.add(red, 1)
    buyer.add(other.variants[0].id, 1)
    coupons.make("MUGS", percent="20", applies_to="products", product_ids=[mug.id])
    quote = buyer.quote(body("MUGS")).json
    assert discounts(quote) == {"MUGS": "2.50"}
    assert [i["discount"] for i in quote["items"]] == ["2.50", "0.00"]


def test_stacking_takes_fixed_amounts_first_whatever_the_order_sent(coupons, buyer, red,
                                                                    blue):
    coupons.make("FIVE", kind="fixed_amount", amount="5.00", combinable=True)
    coupons.make("TEN", percent="10", combinable=True)
    buyer.add(red, 2)
    buyer.add(blue, 1)
    for codes in (("FIVE", "TEN"), ("TEN", "FIVE")):
        quote = buyer.quote(body(*codes)).json
        assert quote["errors"] == []
        # 38.00 - 5.00 = 33.00, then 10 %: 3.30
        assert discounts(quote) == {"FIVE": "5.00", "TEN": "3.30"}
        assert [d["code"] for d in quote["discounts"]] == ["FIVE", "TEN"]
        assert quote["total"] == "29.70"
        assert sum(int(i["discount"].replace(".", "")) for i in quote["items"]) == 830


def test_stacked_coupons_never_take_more_than_the_order(coupons, buyer, red):
    coupons.make("A30", kind="fixed_amount", amount="30", combinable=True)
    coupons.make("B30", kind="fixed_amount", amount="30", combinable=True)
    buyer.add(red, 2)  # 25.00
    quote = buyer.quote(body("A30", "B30")).json
    assert discounts(quote) == {"A30": "25.00", "B30": "0.00"}
    assert quote["total"] == "0.00"


# --- free shipping -----------------------------------------------------------------------------


class FlatShipping:
    """A shipping plugin of one test: standard 4.90, free with a free-shipping coupon."""

    @hookimpl
    def checkout_shipping_options(self, checkout):
        free = checkout.extra.get("coupons", {}).get("free_shipping")
        price = checkout.zero if free else checkout.money(490)
        return [{"code": "standard", "name": "Standard", "price": price, "min_days": 2,
                 "max_days": 3}]


def test_free_shipping_tells_shipping_plugins_and_shows_on_the_quote(coupons, buyer, red,
                                                                     register_hooks):
    register_hooks(FlatShipping())
    coupons.make("SHIPFREE", kind="free_shipping")
    buyer.add(red, 1)
    assert buyer.quote(body(shipping_method="standard")).json["shipping"] == "4.90"
    quote = buyer.quote(body("SHIPFREE", shipping_method="standard")).json
    assert quote["errors"] == []
    assert quote["shipping"] == "0.00" and quote["total"] == "12.50"
    assert quote["discounts"] == [{"source": "coupons", "code": "SHIPFREE",
                                   "name": "Free shipping", "amount": "0.00"}]


# --- why a code is refused ------------------------------------------------------------------


def test_unknown_codes(coupons, buyer, red):
    buyer.add(red, 1)
    quote = buyer.quote(body("NOPE", "not a code!")).json
    assert quote_errors(quote) == {"NOPE": "coupon_unknown", "not a code!": "coupon_unknown"}
    error = quote["errors"][0]
    assert error["reason"] == "unknown" and error["message"] == "There is no coupon NOPE."
    assert quote["discounts"] == []


def test_inactive_not_started_and_expired(coupons, buyer, red):
    now = utcnow()
    off = coupons.make("OFF")
    coupons.deactivate(off["id"])
    coupons.make("LATER", starts_at=(now + dt.timedelta(days=2)).isoformat())
    coupons.make("GONE", starts_at=(now - dt.timedelta(days=9)).isoformat(),
                 ends_at=(now - dt.timedelta(days=1)).isoformat())
    coupons.make("NOW", starts_at=(now - dt.timedelta(days=1)).isoformat(),
                 ends_at=(now + dt.timedelta(days=1)).isoformat(), combinable=True)
    buyer.add(red, 1)
    quote = buyer.quote(body("OFF", "LATER", "GONE", "NOW")).json
    assert quote_errors(quote) == {"OFF": "coupon_inactive", "LATER": "coupon_not_started",
                                   "GONE": "coupon_expired"}
    assert discounts(quote) == {"NOW": "1.25"}
    later = next(e for e in quote["errors"] if e["coupon"] == "LATER")
    assert later["starts_at"] and "can be used from" in later["message"]


def test_minimum_subtotal(coupons, buyer, red):
    coupons.make("BIG", percent="10", min_subtotal="25.00")
    buyer.add(red, 1)
    quote = buyer.quote(body("BIG")).json
    assert quote_errors(quote) == {"BIG": "coupon_minimum_not_met"}
    assert quote["errors"][0]["minimum"] == "25.00"
    buyer.add(red, 1)  # 25.00: enough
    assert discounts(buyer.quote(body("BIG"))) == {"BIG": "2.50"}


def test_nothing_eligible(coupons, buyer, red, make_product, make_category):
    other = make_product(variants=[{"price": "10.00", "stock": 5}])
    empty = make_category("Empty")
    coupons.make("OTHER", applies_to="products", product_ids=[other.id])
    coupons.make("EMPTYCAT", applies_to="categories", category_ids=[empty.id])
    buyer.add(red, 1)
    quote = buyer.quote(body("OTHER", "EMPTYCAT")).json
    assert quote_errors(quote) == {"OTHER": "coupon_not_eligible",
                                   "EMPTYCAT": "coupon_not_eligible"}


def test_not_combinable(coupons, buyer, red, blue):
    coupons.make("SOLO", percent="10")
    coupons.make("MIXA", percent="5", combinable=True)
    coupons.make("MIXB", kind="fixed_amount", amount="1", combinable=True)
    buyer.add(red, 2)
    # the first code sent wins over one that does not combine
    quote = buyer.quote(body("SOLO", "MIXA")).json
    assert quote_errors(quote) == {"MIXA": "coupon_not_combinable"}
    assert quote["errors"][0]["with_coupon"] == "SOLO"
    assert discounts(quote) == {"SOLO": "2.50"}
    quote = buyer.quote(body("MIXA", "SOLO")).json
    assert quote_errors(quote) == {"SOLO": "coupon_not_combinable"}
    assert discounts(buyer.quote(body("MIXA", "MIXB"))) == {"MIXB": "1.00", "MIXA": "1.20"}


def test_two_codes_of_one_coupon_count_once(coupons, buyer, red):
    coupon = coupons.make("CAMPAIGN", combinable=True)
    first, second = coupons.generate(coupon["id"], count=2).json["codes"]
    buyer.add(red, 1)
    quote = buyer.quote(body(first, second, "campaign")).json
    assert quote_errors(quote) == {second: "coupon_not_combinable",
                                   "campaign": "coupon_not_combinable"}
    assert discounts(quote) == {first: "1.25"}


def test_too_many_coupons(coupons, buyer, red, testapp, staff):
    testapp.put_json("/api/v1/admin/plugins/coupons/settings", {"max_coupons_per_order": 2},
                     headers=staff.headers)
    for code in ("C1", "C2", "C3"):
        coupons.make(code, percent="1", combinable=True)
    buyer.add(red, 1)
    quote = buyer.quote(body("C1", "C2", "C3")).json
    assert quote_errors(quote) == {"C3": "coupon_too_many"}
    assert set(discounts(quote)) == {"C1", "C2"}


def test_used_up_coupons_and_codes(coupons, buyer, make_buyer, red):
    once = coupons.make("ONCE", usage_limit=1)
    campaign = coupons.make(None)
    [code] = coupons.generate(campaign["id"], count=1).json["codes"]
    first = make_buyer()
    first.add(red, 1)
    first.place(body("ONCE"))
    first.add(red, 1)
    first.place(body(code))
    buyer.add(red, 1)
    quote = buyer.quote(body("ONCE", code)).json
    assert quote_errors(quote) == {"ONCE": "coupon_limit_reached",
                                   code: "coupon_limit_reached"}
    assert coupons.get(once["id"]).json["uses"] == 1


def test_per_customer_limit(coupons, buyer, make_buyer, red, testapp):
    coupons.make("WELCOME", per_customer_limit=1)
    buyer.add(red, 1)
    buyer.place(body("WELCOME"))
    buyer.add(red, 1)
    quote = buyer.quote(body("WELCOME")).json
    assert quote_errors(quote) == {"WELCOME": "coupon_customer_limit_reached"}
    assert "once per customer" in quote["errors"][0]["message"]
    other = make_buyer()
    other.add(red, 1)
    assert quote_errors(other.quote(body("WELCOME"))) == {}
    # a guest's quote cannot tell; placing the order (signed in) will
    added = testapp.post_json("/api/v1/cart/items", {"variant_id": red, "quantity": 1})
    guest = testapp.post_json("/api/v1/checkout/quote", body("WELCOME"),
                              headers={"X-Cart-Token": added.headers["X-Cart-Token"]}).json
    assert discounts(guest) == {"WELCOME": "1.25"}


def test_placing_an_order_with_a_refused_code_is_422_and_writes_nothing(coupons, buyer, red,
                                                                        dbsession, stock):
    coupons.make("GOOD")
    buyer.add(red, 1)
    response = buyer.place(body("GOOD", "BAD"), status=422)
    error = response.json["error"]
    assert error["code"] == "checkout_invalid"
    assert [(e["code"], e["coupon"]) for e in error["errors"]] == [("coupon_unknown", "BAD")]
    assert error["fields"] == {"coupon_codes": ["There is no coupon BAD."]}
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 0
    assert stock(red).reserved == 0


@pytest.mark.parametrize("codes", [["x" * 65], [""], [None], [1], "SAVE"])
def test_malformed_coupon_codes_are_400(coupons, buyer, red, codes):
    buyer.add(red, 1)
    response = buyer.quote({"shipping_address": ADDRESS, "coupon_codes": codes}, status=400)
    assert any(key.startswith("coupon_codes") for key in response.json["error"]["fields"])


def test_a_disabled_plugin_applies_nothing(coupons, buyer, red, plugin_lifecycle):
    coupons.make("SAVE10")
    plugin_lifecycle("disable", "coupons")
    buyer.add(red, 1)
    quote = buyer.quote(body("SAVE10")).json
    assert quote["discounts"] == [] and quote["errors"] == []
    coupons.list(status=404)
