"""Prices and availability come from the catalog at every read; problems are flagged,
never silently dropped."""
from core.plugins import hookimpl
from plugins.catalog import inventory
from plugins.catalog import services as catalog

from .conftest import API


def by_variant(response):
    return {item["variant_id"]: item for item in response.json["items"]}


def test_price_changes_show_at_the_next_read(guest, mug, dbsession):
    red, blue = mug.variants
    guest.add(red.id, 2)
    guest.add(blue.id, 1)
    catalog.update_variant(dbsession, red, {"price": "10.00"}, "EUR")
    cart = guest.get().json
    assert by_variant(guest.get())[red.id]["unit_price"] == "10.00"
    assert by_variant(guest.get())[red.id]["line_total"] == "20.00"
    assert cart["subtotal"] == "33.00"


def test_the_client_cannot_send_a_price(guest, mug):
    guest.testapp.post_json(f"{API}/cart/items", {"variant_id": mug.variants[0].id,
                                                  "quantity": 1, "unit_price": "0.01"},
                            status=400)


def test_stock_falling_below_the_quantity_is_flagged(guest, mug, dbsession):
    red, blue = mug.variants
    guest.add(red.id, 4)
    guest.add(blue.id, 2)
    inventory.reserve(dbsession, red.id, 8)  # 2 left for a cart holding 4
    inventory.reserve(dbsession, blue.id, 2)  # none left
    response = guest.get()
    lines = by_variant(response)
    assert (lines[red.id]["available"], lines[red.id]["available_quantity"],
            lines[red.id]["problems"]) == (False, 2, ["insufficient_stock"])
    assert (lines[blue.id]["available"], lines[blue.id]["available_quantity"],
            lines[blue.id]["problems"]) == (False, 0, ["out_of_stock"])
    assert response.json["has_problems"] is True
    # the lines stay, with their quantities, and still count in the subtotal
    assert (lines[red.id]["quantity"], lines[blue.id]["quantity"]) == (4, 2)
    assert response.json["subtotal"] == "76.00"
    # lowering the quantity to what is available clears the flag
    fixed = guest.set(lines[red.id]["id"], 2).json
    assert [i["problems"] for i in fixed["items"]] == [[], ["out_of_stock"]]


def test_a_deactivated_product_is_flagged_not_dropped(guest, mug, dbsession):
    red = mug.variants[0]
    guest.add(red.id, 1)
    catalog.update_product(dbsession, mug, {"is_active": False})
    (item,) = guest.get().json["items"]
    assert (item["available"], item["available_quantity"], item["problems"]) == (
        False, 0, ["unavailable"])
    catalog.update_product(dbsession, mug, {"is_active": True})
    assert guest.get().json["items"][0]["problems"] == []


def test_a_lowered_line_limit_is_flagged(guest, mug, cart_settings):
    red = mug.variants[0]
    guest.add(red.id, 6)
    cart_settings(max_quantity_per_line=5)
    (item,) = guest.get().json["items"]
    assert item["problems"] == ["quantity_above_limit"] and item["available"] is False


def test_a_price_in_another_currency_is_flagged_and_left_out_of_the_subtotal(
        guest, mug, dbsession, testapp, staff):
    red, blue = mug.variants
    guest.add(red.id, 1)
    guest.add(blue.id, 1)
    red.currency = "USD"  # the shop changed its currency after the product was made
    dbsession.flush()
    response = guest.get()
    assert by_variant(response)[red.id]["problems"] == ["currency_mismatch"]
    assert by_variant(response)[red.id]["currency"] == "USD"
    assert response.json["subtotal"] == "13.00" and response.json["currency"] == "EUR"
    assert guest.add(red.id, 1, status=422).json["error"]["code"] == "variant_unavailable"


class AddsFields:
    @hookimpl
    def serialize(self, kind, obj, data):
        if kind == "cart.cart":
            return {"points": obj.subtotal.amount // 100, "subtotal": "overwritten?"}
        if kind == "cart.item":
            return {"gift_wrap": obj.sku.endswith("-0")}
        return None


def test_other_plugins_add_fields_to_the_cart(guest, mug, registry):
    guest.add(mug.variants[0].id, 2)
    pm = registry["plugins"].pm
    plugin = AddsFields()
    pm.register(plugin, name="test_cart_fields")
    try:
        cart = guest.get().json
    finally:
        pm.unregister(plugin)
    assert (cart["points"], cart["subtotal"]) == (25, "25.00")  # adds, never overwrites
    assert cart["items"][0]["gift_wrap"] is True
