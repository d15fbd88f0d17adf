"""At a password login the guest cart of X-Cart-Token joins the customer's cart."""
import datetime as dt

import pytest
import sqlalchemy as sa

from plugins.cart import services
from plugins.cart.models import Cart
from plugins.catalog import inventory
from plugins.catalog import services as catalog

from .conftest import API, TOKEN, Shopper, items

PASSWORD = "correct horse battery"  # the password of the `customer` fixture


@pytest.fixture
def login(testapp, customer):
    """``login(guest)``: sign in as ``customer`` from the guest's browser (its cart token
    sent along); answers the Shopper of the signed-in customer."""
    def sign_in(guest=None, status=200):
        headers = {TOKEN: guest.token} if guest is not None and guest.token else {}
        response = testapp.post_json(f"{API}/auth/login", {
            "email": customer.email, "password": PASSWORD}, headers=headers, status=status)
        return Shopper(testapp, {"Authorization": f"Bearer {response.json['access_token']}"})

    return sign_in


def test_a_guest_cart_becomes_the_customer_s_cart(guest, login, mug, dbsession):
    red = mug.variants[0]
    guest.add(red.id, 2)
    me = login(guest)
    assert items(me.get()) == {red.id: 2}
    # the guest token stops working: no cart, and a write starts a fresh one
    assert guest.get().json["id"] is None
    assert items(guest.add(red.id, 1)) == {red.id: 1}
    assert items(me.get()) == {red.id: 2}
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Cart).where(
        Cart.user_id.is_(None))) == 1  # only the fresh guest cart


def test_quantities_are_added_and_capped_by_stock(guest, login, shopper, customer, mug,
                                                   make_product, dbsession):
    red, blue = mug.variants  # red: 10 in stock, blue: 2
    only_mine = make_product("Plate").variants[0]
    only_guest = make_product("Bowl").variants[0]
    me = shopper(customer)
    me.add(red.id, 3)
    me.add(blue.id, 1)
    me.add(only_mine.id, 1)
    guest.add(red.id, 4)
    guest.add(blue.id, 2)
    guest.add(only_guest.id, 2)
    merged = login(guest).get()
    assert items(merged) == {red.id: 7, blue.id: 2, only_mine.id: 1, only_guest.id: 2}
    assert [i["variant_id"] for i in merged.json["items"]] == [
        red.id, blue.id, only_mine.id, only_guest.id]  # the customer's lines first
    assert merged.json["has_problems"] is False


def test_a_merge_never_drops_or_lowers_what_the_shopper_chose(guest, login, shopper, customer,
                                                             mug, make_product, dbsession):
    red, blue = mug.variants
    gone = make_product("Gone")
    shopper(customer).add(blue.id, 2)
    guest.add(blue.id, 1)
    guest.add(red.id, 3)
    guest.add(gone.variants[0].id, 1)
    inventory.reserve(dbsession, blue.id, 2)  # blue sold out meanwhile
    catalog.update_product(dbsession, gone, {"is_active": False})
    merged = {i["variant_id"]: i for i in login(guest).get().json["items"]}
    assert merged[blue.id]["quantity"] == 2 and merged[blue.id]["problems"] == ["out_of_stock"]
    assert merged[red.id]["quantity"] == 3
    assert merged[gone.variants[0].id]["problems"] == ["unavailable"]


def test_the_line_limit_caps_a_merge(guest, login, shopper, customer, mug, cart_settings):
    red = mug.variants[0]
    cart_settings(max_quantity_per_line=5)
    shopper(customer).add(red.id, 4)
    guest.add(red.id, 3)
    assert items(login(guest).get()) == {red.id: 5}


def test_logins_without_a_usable_guest_cart_change_nothing(testapp, guest, login, shopper,
                                                          customer, mug, dbsession):
    red = mug.variants[0]
    shopper(customer).add(red.id, 1)
    login()  # no token
    nobody = Shopper(testapp)
    nobody.token = "not a token"
    login(nobody)
    guest.add(red.id, 5)
    cart = dbsession.scalars(sa.select(Cart).where(
        Cart.token_hash == services.hash_token(guest.token))).one()
    cart.updated_at -= dt.timedelta(days=31)  # expired
    dbsession.flush()
    assert items(login(guest).get()) == {red.id: 1}


def test_an_empty_guest_cart_is_deleted_at_login(guest, login, mug, dbsession):
    item_id = guest.add(mug.variants[0].id).json["items"][0]["id"]
    guest.remove(item_id)
    me = login(guest)
    assert me.get().json["id"] is None  # the customer still has no cart
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Cart)) == 0


def test_a_failed_merge_does_not_fail_the_login(guest, login, mug, monkeypatch):
    guest.add(mug.variants[0].id, 1)

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT ...", {}, Exception("disk full"))

    monkeypatch.setattr(services, "merge", broken)
    me = login(guest)
    assert me.get().json["items"] == []
    assert items(guest.get()) == {mug.variants[0].id: 1}  # kept as it was


def test_a_failed_login_merges_nothing(testapp, guest, customer, mug):
    guest.add(mug.variants[0].id, 1)
    testapp.post_json(f"{API}/auth/login", {"email": customer.email, "password": "wrong one"},
                      headers={TOKEN: guest.token}, status=401)
    assert items(guest.get()) == {mug.variants[0].id: 1}
