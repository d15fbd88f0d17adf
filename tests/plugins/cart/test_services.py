"""The cart service the orders plugin uses, without HTTP."""
import types

import pytest
import sqlalchemy as sa

from core.money import Money
from core.security import read_access_token
from plugins.cart import services
from plugins.cart.models import ORDERED, Cart, CartItem
from plugins.catalog import inventory

from .conftest import items

LIMITS = services.Limits()


def test_priced_lines_for_an_order(shopper, customer, mug, dbsession):
    red, blue = mug.variants
    me = shopper(customer)
    me.add(red.id, 2)
    me.add(blue.id, 1)
    cart = services.cart_for_user(dbsession, customer.id)
    priced = services.price_cart(dbsession, cart, "EUR")
    assert priced.subtotal == Money(3800, "EUR") and priced.item_count == 3
    first = priced.lines[0]
    assert (first.variant_id, first.quantity, first.unit_price, first.line_total, first.sku,
            first.options, first.available) == (
        red.id, 2, Money(1250, "EUR"), Money(2500, "EUR"), red.sku, {"Colour": "Red"}, True)
    assert services.checkout_errors(priced) == []
    inventory.reserve(dbsession, blue.id, 2)
    errors = services.checkout_errors(services.price_cart(dbsession, cart, "EUR"))
    assert [(e["code"], e["item_id"]) for e in errors] == [
        ("out_of_stock", priced.lines[1].item_id)]
    assert services.checkout_errors(services.price_cart(dbsession, None, "EUR")) == [
        {"code": "cart_empty", "message": "The cart is empty."}]


def test_current_cart_of_a_request(registry, shopper, customer, guest, mug, dbsession):
    red = mug.variants[0]
    shopper(customer).add(red.id)
    guest.add(red.id, 2)

    def request(headers):
        identity = None
        if "Authorization" in headers:
            identity = read_access_token(registry.settings, headers["Authorization"][7:])
        return types.SimpleNamespace(headers=headers, identity=identity, dbsession=dbsession,
                                     plugins=registry["plugins"].current())

    assert services.current_cart(request(customer.headers)).user_id == customer.id
    assert services.request_cart(request({services.TOKEN_HEADER: guest.token})).item_count == 2
    nobody = request({})
    assert services.current_cart(nobody) is None
    assert services.request_cart(nobody).lines == []


def test_clear_and_mark_ordered(shopper, customer, guest, mug, dbsession):
    red = mug.variants[0]
    me = shopper(customer)
    me.add(red.id, 2)
    cart = services.cart_for_user(dbsession, customer.id)
    services.clear(dbsession, cart)
    assert me.get().json["items"] == [] and me.get().json["id"] == cart.id
    me.add(red.id, 1)
    services.mark_ordered(dbsession, cart)
    assert cart.status == ORDERED and cart.ordered_at is not None
    assert services.cart_for_user(dbsession, customer.id) is None
    assert me.get().json["id"] is None
    fresh = me.add(red.id, 1).json
    assert fresh["id"] != cart.id and items_of(fresh) == {red.id: 1}
    # the ordered cart keeps its lines for the record
    assert dbsession.scalar(sa.select(CartItem.quantity).where(CartItem.cart_id == cart.id)) == 1

    guest.add(red.id)
    guest_cart = services.cart_for_token(dbsession, guest.token, 30)
    services.mark_ordered(dbsession, guest_cart)
    assert guest_cart.token_hash is None
    assert services.cart_for_token(dbsession, guest.token, 30) is None
    old_token = guest.token
    assert guest.add(red.id).headers[services.TOKEN_HEADER] != old_token


def items_of(cart):
    return {item["variant_id"]: item["quantity"] for item in cart["items"]}


def test_the_database_holds_one_open_cart_per_customer(dbsession, customer):
    dbsession.add(Cart(user_id=customer.id))
    dbsession.flush()
    with pytest.raises(sa.exc.IntegrityError):
        with dbsession.begin_nested():
            dbsession.add(Cart(user_id=customer.id))
            dbsession.flush()
    dbsession.add(Cart(user_id=customer.id, status=ORDERED))  # closed carts: any number
    dbsession.flush()
    # the get-or-create path finds the existing open cart
    assert services.open_user_cart(dbsession, customer.id).status == "open"


def test_the_database_holds_one_line_per_variant_and_positive_quantities(dbsession, customer,
                                                                          mug):
    cart = Cart(user_id=customer.id)
    dbsession.add(cart)
    dbsession.flush()
    dbsession.add(CartItem(cart_id=cart.id, variant_id=mug.variants[0].id, quantity=1))
    dbsession.flush()
    for bad in (CartItem(cart_id=cart.id, variant_id=mug.variants[0].id, quantity=1),
                CartItem(cart_id=cart.id, variant_id=mug.variants[1].id, quantity=0)):
        with pytest.raises(sa.exc.IntegrityError):
            with dbsession.begin_nested():
                dbsession.add(bad)
                dbsession.flush()


def test_add_item_sums_through_the_upsert(dbsession, customer, mug):
    red = mug.variants[0]
    cart = services.open_user_cart(dbsession, customer.id)
    first = services.add_item(dbsession, cart, red.id, 2, LIMITS)
    assert services.add_item(dbsession, cart, red.id, 3, LIMITS) == first
    assert [line.quantity for line in services.cart_lines(dbsession, cart)] == [5]
    with pytest.raises(services.Conflict):
        services.add_item(dbsession, cart, red.id, 6, LIMITS)
    # the refused add was rolled back (a savepoint), the line is as it was
    assert [line.quantity for line in services.cart_lines(dbsession, cart)] == [5]
