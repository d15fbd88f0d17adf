"""Shipping at checkout: the options and prices a quote shows for addresses in and out of
zones, weight from the catalog's variants, free thresholds after discounts, and the
chosen method checked again when the order is placed."""
import sqlalchemy as sa

from core.money import Money
from core.plugins import hookimpl
from plugins.orders.models import Order
from plugins.shipping.models import ShippingMethod

from .conftest import API, DE, GB, HAWAII, JP, OHIO, assert_error, error_codes, options


def test_a_quote_offers_the_zones_methods_at_their_prices(shipping, uk, buyer, red):
    buyer.add(red, 2)
    quote = buyer.quote({"shipping_address": GB}).json
    assert [(o["code"], o["name"], o["price"], o["min_days"], o["max_days"])
            for o in quote["shipping_options"]] == [
        ("standard", "Standard", "4.90", 2, 4), ("express", "Express", "9.90", 1, 1)]
    assert error_codes(quote) == ["shipping_method_required"]
    quote = buyer.quote({"shipping_address": GB, "shipping_method": "express"}).json
    assert quote["errors"] == [] and quote["shipping_method"] == "express"
    assert (quote["subtotal"], quote["shipping"], quote["total"]) == ("25.00", "9.90", "34.90")


def test_a_saved_address_is_served_like_a_typed_one(shipping, uk, buyer, red, testapp):
    buyer.add(red, 1)
    saved = testapp.post_json(f"{API}/users/me/addresses", dict(GB, country="gb"),
                              headers=buyer.headers).json
    quote = buyer.quote({"address_id": saved["id"], "shipping_method": "standard"}).json
    assert quote["errors"] == [] and quote["shipping"] == "4.90"


def test_an_address_no_zone_serves_is_a_quote_error_and_a_422(shipping, uk, buyer, red,
                                                               dbsession):
    buyer.add(red, 1)
    quote = buyer.quote({"shipping_address": DE}).json
    assert quote["shipping_options"] == [] and quote["shipping"] == "0.00"
    assert quote["errors"] == [{"code": "shipping_unavailable", "field": "shipping_address",
                                "country": "DE",
                                "message": "We do not ship to this address (DE)."}]
    refused = buyer.place({"shipping_address": DE, "shipping_method": "standard"},
                          status=422)
    assert_error(refused, 422, "checkout_invalid")
    assert "shipping_unavailable" in [e["code"] for e in refused.json["error"]["errors"]]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_no_address_is_one_quote_error(shipping, uk, buyer, red, orders_settings):
    buyer.add(red, 1)
    # the orders plugin asks for it already: shipping does not repeat it
    assert error_codes(buyer.quote({})) == ["address_required"]
    # a shop whose orders need no address still needs one to ship
    orders_settings(require_shipping_address=False)
    quote = buyer.quote({}).json
    assert error_codes(quote) == ["address_required"]
    assert quote["errors"][0]["field"] == "shipping_address"
    assert quote["shipping_options"] == []
    assert_error(buyer.place({}, status=422), 422, "checkout_invalid")


def test_a_region_zone_beats_the_country_and_the_rest_of_the_world(shipping, uk, buyer, red):
    us = shipping.zone("United States", ["US"])
    shipping.method(us, "ground", price="5.00")
    islands = shipping.zone("Hawaii and Alaska", ["US:HI", "US:Hawaii", "US:AK"])
    shipping.method(islands, "island", price="15.00", min_days=5, max_days=9)
    world = shipping.zone("World", ["*"])
    shipping.method(world, "world", price="25.00")
    buyer.add(red, 1)
    assert options(buyer.quote({"shipping_address": OHIO})) == {"ground": "5.00"}
    assert options(buyer.quote({"shipping_address": HAWAII})) == {"island": "15.00"}
    hawaii_by_name = dict(HAWAII, state="hawaii")
    assert options(buyer.quote({"shipping_address": hawaii_by_name})) == {"island": "15.00"}
    assert options(buyer.quote({"shipping_address": JP})) == {"world": "25.00"}
    assert options(buyer.quote({"shipping_address": DE})) == {"world": "25.00"}
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "4.90",
                                                              "express": "9.90"}
    # an inactive zone is as if it were not there: Hawaii falls back to the country
    shipping.call("patch", f"/shipping/zones/{islands['id']}", {"is_active": False})
    assert options(buyer.quote({"shipping_address": HAWAII})) == {"ground": "5.00"}


def test_weight_tiers_read_the_variants_weights(shipping, buyer, make_product,
                                                shipping_settings):
    heavy, light, unknown = make_product("Anvil", variants=[
        {"price": "10.00", "stock": 50, "weight_grams": 500, "options": {"Size": "S"}},
        {"price": "1.00", "stock": 50, "weight_grams": 1, "options": {"Size": "XS"}},
        {"price": "1.00", "stock": 50, "options": {"Size": "?"}}]).variants
    zone = shipping.zone("UK", ["GB"])
    shipping.method(zone, "parcel", kind="weight", tiers=[
        {"from": 0, "price": "4.00"}, {"from": 1001, "price": "6.00"},
        {"from": 3001, "price": "9.00"}])
    shipping.method(zone, "letter", price="2.00", max_weight_grams=1000)

    def quoted():
        return options(buyer.quote({"shipping_address": GB}))

    buyer.add(heavy.id, 2)  # 1000 g
    assert quoted() == {"parcel": "4.00", "letter": "2.00"}
    buyer.add(light.id, 1)  # 1001 g
    assert quoted() == {"parcel": "6.00"}
    buyer.add(heavy.id, 4)  # 3001 g
    assert quoted() == {"parcel": "9.00"}
    # a variant without a weight counts the setting's default
    cart = buyer.testapp.get(f"{API}/cart", headers=buyer.headers).json
    for item in cart["items"]:
        buyer.testapp.delete(f"{API}/cart/items/{item['id']}", headers=buyer.headers)
    buyer.add(unknown.id, 3)
    assert quoted() == {"parcel": "4.00", "letter": "2.00"}
    shipping_settings(default_weight_grams=400)  # 1200 g
    assert quoted() == {"parcel": "6.00"}


def test_a_cart_no_method_takes_is_a_quote_error(shipping, buyer, make_product):
    variant = make_product("Piano", variants=[{"price": "900.00", "stock": 3,
                                               "weight_grams": 250_000}]).variants[0]
    zone = shipping.zone("UK", ["GB"])
    shipping.method(zone, "parcel", price="9.00", max_weight_grams=30_000)
    buyer.add(variant.id, 1)
    quote = buyer.quote({"shipping_address": GB}).json
    assert error_codes(quote) == ["no_shipping_method"]
    assert quote["errors"][0]["weight_grams"] == 250_000
    assert_error(buyer.place({"shipping_address": GB, "shipping_method": "parcel"},
                             status=422), 422, "checkout_invalid")


def test_value_tiers_and_free_thresholds(shipping, buyer, red):
    zone = shipping.zone("UK", ["GB"])
    shipping.method(zone, "standard", price="4.90", free_over="50.00")
    shipping.method(zone, "economy", kind="value", position=1, tiers=[
        {"from": "0", "price": "3.90"}, {"from": "37.50", "price": "1.90"}])
    shipping.method(zone, "free", kind="free", free_over="62.50", position=2)

    buyer.add(red, 2)  # 25.00
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "4.90",
                                                              "economy": "3.90"}
    buyer.add(red, 1)  # 37.50: the second tier starts here
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "4.90",
                                                              "economy": "1.90"}
    buyer.add(red, 1)  # 50.00: free from here
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "0.00",
                                                              "economy": "1.90"}
    buyer.add(red, 1)  # 62.50: the free method is offered from here
    assert options(buyer.quote({"shipping_address": GB})) == {
        "standard": "0.00", "economy": "1.90", "free": "0.00"}


class TakesOneEuro:
    """A discount of 1.00 on every order (as a coupon plugin would give)."""

    @hookimpl
    def checkout_discounts(self, checkout):
        return [{"source": "test", "code": "ONE", "amount": Money(100, checkout.currency)}]


def test_thresholds_read_the_order_value_after_discounts(shipping, buyer, red,
                                                         register_hooks):
    zone = shipping.zone("UK", ["GB"])
    shipping.method(zone, "standard", price="4.90", free_over="50.00")
    buyer.add(red, 4)  # 50.00
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "0.00"}
    register_hooks(TakesOneEuro())
    quote = buyer.quote({"shipping_address": GB, "shipping_method": "standard"}).json
    assert quote["discount_total"] == "1.00"
    assert options(quote) == {"standard": "4.90"} and quote["total"] == "53.90"


def test_an_order_cannot_leave_without_a_method(shipping, buyer, red, register_hooks,
                                               dbsession):
    # the only method is free from 50.00; a discount takes the order below it after
    # the address was checked: the quote offers nothing, the order is refused
    zone = shipping.zone("UK", ["GB"])
    shipping.method(zone, "free", kind="free", free_over="50.00")
    register_hooks(TakesOneEuro())
    buyer.add(red, 4)
    quote = buyer.quote({"shipping_address": GB}).json
    assert quote["shipping_options"] == []
    assert_error(buyer.place({"shipping_address": GB}, status=422), 422,
                 "no_shipping_method")
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_the_chosen_method_is_checked_again_when_the_order_is_placed(shipping, uk, buyer,
                                                                     red, dbsession):
    buyer.add(red, 1)
    body = {"shipping_address": GB, "shipping_method": "express"}
    assert buyer.quote(body).json["errors"] == []
    express = dbsession.scalars(sa.select(ShippingMethod).where(
        ShippingMethod.code == "express")).one()
    shipping.patch_method({"id": express.id}, {"is_active": False})
    refused = buyer.place(body, status=422)
    assert_error(refused, 422, "checkout_invalid")
    assert [e["code"] for e in refused.json["error"]["errors"]] == ["unknown_shipping_method"]
    assert refused.json["error"]["fields"] == {
        "shipping_method": ["There is no shipping method 'express' for this order."]}
    refused = buyer.place(dict(body, shipping_method="teleport"), status=422)
    assert_error(refused, 422, "checkout_invalid")
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert_error(buyer.place({"shipping_address": GB}, status=422), 422, "checkout_invalid")
    order = buyer.place(dict(body, shipping_method="standard")).json
    assert order["shipping_method"] == {"code": "standard", "name": "Standard",
                                        "price": "4.90"}
    assert (order["shipping"], order["total"]) == ("4.90", "17.40")


def test_an_order_keeps_its_shipping_when_the_method_changes(shipping, uk, buyer, red):
    buyer.add(red, 1)
    number = buyer.place({"shipping_address": GB, "shipping_method": "standard"}).json[
        "number"]
    method = next(m for m in shipping.call("get", f"/shipping/zones/{uk['id']}").json[
        "methods"] if m["code"] == "standard")
    shipping.patch_method(method, {"price": "99.00", "name": "Renamed"})
    shipping.call("delete", f"/shipping/zones/{uk['id']}", status=204)
    order = buyer.order(number).json
    assert order["shipping_method"] == {"code": "standard", "name": "Standard",
                                        "price": "4.90"}
    assert order["fulfillment"]["status"] == "unshipped"


def test_methods_in_another_currency_are_not_offered(shipping, uk, buyer, red, dbsession):
    dbsession.execute(sa.update(ShippingMethod).where(ShippingMethod.code == "express")
                      .values(currency="USD"))
    dbsession.flush()
    buyer.add(red, 1)
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "4.90"}
    listed = buyer.testapp.get(f"{API}/shipping/methods", params={"country": "GB"}).json
    assert [m["code"] for m in listed["items"]] == ["standard"]


def test_a_disabled_plugin_offers_nothing_and_its_routes_are_404(shipping, uk, buyer, red,
                                                                 plugin_lifecycle, testapp):
    buyer.add(red, 1)
    plugin_lifecycle("disable", "shipping")
    quote = buyer.quote({"shipping_address": DE}).json
    assert quote["shipping_options"] == [] and quote["errors"] == []
    testapp.get(f"{API}/shipping/methods", params={"country": "GB"}, status=404)
    order = buyer.place({"shipping_address": DE}).json
    assert "fulfillment" not in order and order["shipping"] == "0.00"
    plugin_lifecycle("enable", "shipping")
    assert options(buyer.quote({"shipping_address": GB})) == {"standard": "4.90",
                                                              "express": "9.90"}


# --- GET /shipping/methods ---------------------------------------------------------------


def test_the_storefront_lists_the_methods_for_a_country(shipping, uk, testapp):
    us = shipping.zone("US", ["US"])
    shipping.method(us, "ground", kind="weight", max_weight_grams=30_000, tiers=[
        {"from": 0, "price": "5.00"}, {"from": 2001, "price": "8.50"}])
    islands = shipping.zone("Hawaii", ["US:HI"])
    shipping.method(islands, "island", kind="value", free_over="100.00", tiers=[
        {"from": "0", "price": "15.00"}, {"from": "49.99", "price": "12.00"}])
    shipping.method(islands, "hidden", price="1.00", is_active=False)
    listed = testapp.get(f"{API}/shipping/methods", params={"country": "gb"}).json
    assert listed["country"] == "GB" and listed["zone"] == {"id": uk["id"],
                                                            "name": "United Kingdom"}
    assert [(m["code"], m["kind"], m["price"], m["min_days"], m["max_days"], m["currency"])
            for m in listed["items"]] == [("standard", "flat", "4.90", 2, 4, "EUR"),
                                         ("express", "flat", "9.90", 1, 1, "EUR")]
    assert "id" not in listed["items"][0] and "is_active" not in listed["items"][0]
    ground = testapp.get(f"{API}/shipping/methods", params={"country": "US"}).json["items"]
    assert ground == [{"code": "ground", "name": "Ground", "kind": "weight", "price": None,
                       "tiers": [{"from": 0, "price": "5.00"}, {"from": 2001, "price": "8.50"}],
                       "free_over": None, "max_weight_grams": 30_000, "min_days": 2,
                       "max_days": 4, "currency": "EUR"}]
    island = testapp.get(f"{API}/shipping/methods",
                         params={"country": "US", "region": "hi"}).json
    assert island["zone"]["name"] == "Hawaii" and island["region"] == "hi"
    assert [(m["code"], m["tiers"], m["free_over"]) for m in island["items"]] == [
        ("island", [{"from": "0.00", "price": "15.00"}, {"from": "49.99", "price": "12.00"}],
         "100.00")]
    nowhere = testapp.get(f"{API}/shipping/methods", params={"country": "DE"}).json
    assert nowhere["zone"] is None and nowhere["items"] == []


def test_the_storefront_list_refuses_bad_queries(shipping, testapp):
    for params in ({}, {"country": ""}, {"country": "XX"}, {"country": "*"},
                   {"country": "GBR"}, {"country": "GB", "region": "x" * 101},
                   {"country": "GB", "other": "1"}, {"country": "\x00"}):
        response = testapp.get(f"{API}/shipping/methods", params=params, status=400)
        assert response.json["error"]["code"] in ("invalid", "bad_request", "invalid_url")


def test_a_free_shipping_coupon_makes_every_option_free(shipping, uk, buyer, red, install_plugin,
                                                        testapp, staff):
    install_plugin("coupons")
    testapp.post_json(f"{API}/admin/coupons", {"code": "SHIPFREE", "kind": "free_shipping"},
                      headers=staff.headers, status=201)
    buyer.add(red, 2)
    quote = buyer.quote({"shipping_address": GB, "shipping_method": "express",
                         "coupon_codes": ["SHIPFREE"]}).json
    assert quote["errors"] == []
    assert [o["price"] for o in quote["shipping_options"]] == ["0.00", "0.00"]
    assert (quote["shipping"], quote["total"]) == ("0.00", "25.00")
