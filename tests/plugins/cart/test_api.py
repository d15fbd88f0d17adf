"""The cart endpoints of api.md, for guests and customers, and every way to get them wrong."""
import datetime as dt

import sqlalchemy as sa

from plugins.cart import services
from plugins.cart.models import Cart, CartItem

from .conftest import API, TOKEN, Shopper, items

ITEM_KEYS = {"id", "variant_id", "product_id", "name", "sku", "options", "quantity",
             "unit_price", "line_total"}


def test_no_cart_is_an_empty_cart_and_nothing_is_created(guest, dbsession):
    response = guest.get()
    assert response.json == {
        "id": None, "items": [], "subtotal": "0.00", "currency": "EUR", "item_count": 0,
        "line_count": 0, "has_problems": False, "expires_at": None, "updated_at": None}
    assert TOKEN not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Cart)) == 0


def test_guest_flow(guest, mug, dbsession):
    red, blue = mug.variants
    first = guest.add(red.id, 2)
    token = first.headers[TOKEN]
    assert len(token) >= 32
    cart = first.json
    assert cart["id"] and cart["currency"] == "EUR" and cart["subtotal"] == "25.00"
    (item,) = cart["items"]
    assert set(item) >= ITEM_KEYS
    assert {k: item[k] for k in ITEM_KEYS - {"id"}} == {
        "variant_id": red.id, "product_id": mug.id, "name": "Mug", "sku": red.sku,
        "options": {"Colour": "Red"}, "quantity": 2, "unit_price": "12.50",
        "line_total": "25.00"}
    assert (item["available"], item["available_quantity"], item["problems"]) == (True, 10, [])
    assert cart["expires_at"] > cart["updated_at"]

    # later requests send the token; the answer does not hand out a new one
    again = guest.add(red.id, 3)
    assert TOKEN not in again.headers
    assert again.json["id"] == cart["id"] and items(again) == {red.id: 5}
    both = guest.add(blue.id, 1).json
    assert (both["subtotal"], both["item_count"], both["line_count"]) == ("75.50", 6, 2)
    assert [i["variant_id"] for i in both["items"]] == [red.id, blue.id]  # oldest first

    changed = guest.set(item["id"], 1).json
    assert items_of(changed) == {red.id: 1, blue.id: 1} and changed["subtotal"] == "25.50"
    removed = guest.remove(item["id"]).json
    assert items_of(removed) == {blue.id: 1} and removed["subtotal"] == "13.00"
    assert guest.get().json == removed

    # the token is kept only as its hash
    stored = dbsession.scalars(sa.select(Cart).where(Cart.id == cart["id"])).one()
    assert stored.token_hash == services.hash_token(token) != token
    assert stored.user_id is None


def items_of(cart):
    return {item["variant_id"]: item["quantity"] for item in cart["items"]}


def test_customer_uses_their_own_cart_and_ignores_a_guest_token(testapp, shopper, customer,
                                                                guest, mug):
    red, blue = mug.variants
    guest.add(blue.id, 1)
    me = shopper(customer)
    me.token = guest.token  # a cart token beside a Bearer token is not used
    first = me.add(red.id, 1)
    assert TOKEN not in first.headers
    assert items(first) == {red.id: 1}
    assert first.json["expires_at"] is None
    assert items(me.get()) == {red.id: 1}
    assert items(guest.get()) == {blue.id: 1}
    # a customer's next add goes to the same cart
    assert me.add(red.id, 1).json["id"] == first.json["id"]


def test_an_expired_access_token_is_401_not_an_empty_cart(testapp, mug):
    response = testapp.get(f"{API}/cart", headers={"Authorization": "Bearer not-a-token"},
                           status=401)
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    testapp.post_json(f"{API}/cart/items", {"variant_id": mug.variants[0].id, "quantity": 1},
                      headers={"Authorization": "Bearer not-a-token"}, status=401)


def test_a_deactivated_customer_gets_no_new_cart(shopper, customer, dbsession, mug):
    customer.is_active = False
    dbsession.flush()
    shopper(customer).add(mug.variants[0].id, 1, status=401)


def test_bad_or_expired_tokens_are_no_cart_and_the_next_write_starts_a_fresh_one(
        testapp, guest, mug, dbsession):
    red = mug.variants[0]
    guest.add(red.id, 1)
    for bad in ("x", "é" * 40, "A" * 43, guest.token + "!", "A" * 500):
        other = Shopper(testapp)
        other.token = bad
        assert other.get().json["items"] == []
        response = other.add(red.id, 1)
        assert response.headers[TOKEN] not in (bad, guest.token)
    # expired: unchanged for longer than guest_cart_days (30 by default)
    cart = dbsession.scalars(sa.select(Cart).where(
        Cart.token_hash == services.hash_token(guest.token))).one()
    cart.updated_at -= dt.timedelta(days=31)
    dbsession.flush()
    old = guest.token
    assert guest.get().json["id"] is None
    fresh = guest.add(red.id, 1)
    assert fresh.headers[TOKEN] != old and fresh.json["id"] != cart.id
    assert items(fresh) == {red.id: 1}


def test_quantities_must_be_positive_integers_up_to_the_limit(guest, mug, cart_settings):
    red = mug.variants[0]
    for quantity in (0, -1, 1.5, "2", None, True, 10**7):
        error = guest.add(red.id, quantity, status=400).json["error"]
        assert error["code"] == "invalid" and "quantity" in error["fields"], quantity
    for body in ({}, {"variant_id": red.id}, {"quantity": 1},
                 {"variant_id": red.id, "quantity": 1, "price": "0.01"},
                 {"variant_id": "1", "quantity": 1}, {"variant_id": 0, "quantity": 1},
                 {"variant_id": 2**31, "quantity": 1}):
        guest.testapp.post_json(f"{API}/cart/items", body, status=400)
    assert guest.token is None  # nothing was created

    cart_settings(max_quantity_per_line=5)
    error = guest.add(red.id, 6, status=400).json["error"]
    assert error["fields"] == {"quantity": ["At most 5 units of one item."]}
    assert error["max_quantity"] == 5
    item_id = guest.add(red.id, 4).json["items"][0]["id"]
    error = guest.add(red.id, 2, status=400).json["error"]
    assert error["fields"] == {"quantity": ["At most 5 units of one item (the cart already "
                                            "holds 4)."]}
    assert error["in_cart"] == 4
    assert guest.set(item_id, 6, status=400).json["error"]["max_quantity"] == 5
    for quantity in (0, -3, "1", 2.5):
        assert "quantity" in guest.set(item_id, quantity, status=400).json["error"]["fields"]
    assert items(guest.get()) == {red.id: 4}


def test_more_than_the_stock_is_409_with_the_available_quantity(guest, mug, dbsession):
    from plugins.catalog import inventory

    red, blue = mug.variants  # blue: 2 in stock
    error = guest.add(blue.id, 3, status=409).json["error"]
    assert (error["code"], error["available_quantity"], error["requested"]) == (
        "insufficient_stock", 2, 3)
    assert error["fields"] == {"quantity": ["Only 2 available."]}
    assert guest.token is None  # the refused first write left no cart behind
    item_id = guest.add(blue.id, 2).json["items"][0]["id"]
    error = guest.add(blue.id, 1, status=409).json["error"]
    assert (error["available_quantity"], error["in_cart"]) == (2, 2)
    assert guest.set(item_id, 3, status=409).json["error"]["available_quantity"] == 2
    inventory.reserve(dbsession, red.id, 10)  # sold out: an order took every unit
    error = guest.add(red.id, 1, status=409).json["error"]
    assert (error["available_quantity"], error["fields"]) == (0, {"quantity": ["Out of stock."]})
    assert items(guest.get()) == {blue.id: 2}


def test_unknown_and_inactive_variants(guest, make_product, dbsession):
    error = guest.add(2**31 - 1, 1, status=404).json["error"]
    assert error["code"] == "unknown_variant"
    hidden = make_product("Hidden", is_active=False)
    error = guest.add(hidden.variants[0].id, 1, status=422).json["error"]
    assert error["code"] == "variant_unavailable" and "variant_id" in error["fields"]
    assert guest.token is None
    # an item whose product was deactivated can be removed, not changed
    shown = make_product("Shown")
    item_id = guest.add(shown.variants[0].id, 1).json["items"][0]["id"]
    shown.is_active = False
    dbsession.flush()
    assert guest.set(item_id, 2, status=422).json["error"]["code"] == "variant_unavailable"
    assert guest.remove(item_id).json["items"] == []


def test_a_full_cart_refuses_new_lines_not_more_units(guest, make_product, cart_settings):
    cart_settings(max_lines=2)
    first, second, third = (make_product().variants[0] for _ in range(3))
    guest.add(first.id)
    guest.add(second.id)
    error = guest.add(third.id, status=422).json["error"]
    assert (error["code"], error["max_lines"]) == ("cart_full", 2)
    assert items(guest.add(first.id)) == {first.id: 2, second.id: 1}


def test_nobody_touches_another_cart_s_items(testapp, shopper, customer, staff, guest, mug):
    red, blue = mug.variants
    mine = shopper(customer)
    mine_item = mine.add(red.id, 1).json["items"][0]["id"]
    guest_item = guest.add(blue.id, 1).json["items"][0]["id"]
    other = shopper(staff)
    other.add(blue.id, 1)
    for item_id in (mine_item, guest_item):
        for response in (other.set(item_id, 2, status=404), other.remove(item_id, status=404)):
            assert response.json["error"]["code"] == "item_not_found"
    # the same answer as for an item that does not exist at all
    assert other.remove(2**31 - 1, status=404).json == other.remove(mine_item, status=404).json
    # a guest without a cart, and item ids that are no numbers
    stranger = Shopper(testapp)
    stranger.set(mine_item, 1, status=404)
    for bad in ("abc", "0", "-1", "99999999999", "%C2%B2"):
        assert mine.remove(bad, status=404).json["error"]["code"] == "item_not_found"
    assert items(mine.get()) == {red.id: 1}
    assert items(guest.get()) == {blue.id: 1}


def test_a_deleted_variant_leaves_the_carts(guest, make_product, dbsession):
    from plugins.catalog import services as catalog

    product = make_product(variants=[{"price": "1", "stock": 3, "options": {"Size": "S"}},
                                     {"price": "2", "stock": 3, "options": {"Size": "M"}}])
    small, medium = product.variants
    guest.add(small.id)
    guest.add(medium.id)
    catalog.delete_variant(dbsession, small)
    assert items(guest.get()) == {medium.id: 1}
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(CartItem).where(
        CartItem.variant_id == small.id)) == 0


def test_the_cart_is_in_the_openapi_document(testapp):
    paths = testapp.get(f"{API}/openapi.json").json["paths"]
    assert {"get"} <= set(paths[f"{API}/cart"])
    assert {"post"} <= set(paths[f"{API}/cart/items"])
    assert {"patch", "delete"} <= set(paths[f"{API}/cart/items/{{item_id}}"])
