"""POST /orders: idempotent placement in one transaction, with stock, redemptions, payment."""
import re

import pytest
import sqlalchemy as sa

from core.notifications import Notification
from plugins.cart.models import Cart
from plugins.orders.models import IdempotencyKey, Order, StatusChange

from .conftest import ADDRESS, API, assert_error, new_key

ORDER_FIELDS = {"number", "status", "items", "subtotal", "discounts", "shipping", "tax",
                "total", "tenders", "amount_due", "currency", "payment"}


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


def mails(dbsession, template):
    return list(dbsession.scalars(sa.select(Notification.recipient)
                                  .where(Notification.template == f"orders/{template}")))


def test_an_order_is_placed_from_the_cart(buyer, red, blue, stock, dbsession):
    buyer.add(red, 2)
    buyer.add(blue, 1)
    response = buyer.place({"shipping_address": ADDRESS, "note": "Ring twice"})
    order = response.json
    assert response.status_int == 201
    assert ORDER_FIELDS <= set(order)
    assert re.fullmatch(r"EM-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", order["number"])
    assert order["status"] == "payment_pending"
    assert (order["subtotal"], order["total"], order["amount_due"]) == ("38.00",) * 3
    assert order["payment"] == {"provider": "manual", "status": "pending",
                                "client_secret": None, "amount": "38.00",
                                "instructions": "Pay by bank transfer; we ship once the money "
                                                "arrived."}
    assert [(i["sku"], i["name"], i["options"], i["quantity"], i["unit_price"], i["image_url"])
            for i in order["items"]] == [
        (i["sku"], "Mug", {"Colour": c}, q, p, "https://cdn.example.com/mug.jpg")
        for i, c, q, p in zip(order["items"], ("Red", "Blue"), (2, 1), ("12.50", "13.00"))]
    assert order["shipping_address"]["line1"] == ADDRESS["line1"]
    assert order["billing_address"] == order["shipping_address"]
    assert order["note"] == "Ring twice" and order["email"] == buyer.user.email
    assert order["status_history"][0]["to"] == "payment_pending"
    assert (stock(red).reserved, stock(blue).reserved) == (2, 1)
    # the cart is closed: the next write starts a new one
    assert buyer.testapp.get(f"{API}/cart", headers=buyer.headers).json["items"] == []
    assert dbsession.scalar(sa.select(Cart.status).where(Cart.user_id == buyer.user.id)) \
        == "ordered"
    assert mails(dbsession, "order_placed") == [buyer.user.email]


def test_the_order_keeps_what_things_were(buyer, red, mug, dbsession, testapp, staff):
    buyer.add(red, 1)
    number = buyer.place().json["number"]
    testapp.patch_json(f"{API}/variants/{red}", {"price": "99.00"}, headers=staff.headers)
    testapp.patch_json(f"{API}/products/{mug.id}", {"name": "Cup"}, headers=staff.headers)
    item = buyer.order(number).json["items"][0]
    assert (item["name"], item["unit_price"]) == ("Mug", "12.50")


def test_a_guest_is_told_to_sign_in(testapp, red):
    added = testapp.post_json(f"{API}/cart/items", {"variant_id": red, "quantity": 1})
    response = testapp.post_json(f"{API}/orders", {"shipping_address": ADDRESS},
                                 headers={"X-Cart-Token": added.headers["X-Cart-Token"],
                                          "Idempotency-Key": new_key()}, status=401)
    assert_error(response, 401, "unauthorized")
    assert "Sign in" in response.json["error"]["message"]


def test_the_idempotency_key_is_required(buyer, red, dbsession):
    buyer.add(red, 1)
    assert_error(buyer.place(key=False, status=400), 400, "idempotency_key_required")
    assert_error(buyer.place(key="x" * 201, status=400), 400, "invalid_idempotency_key")
    assert_error(buyer.place(key="bad\u00e9key", status=400), 400, "invalid_idempotency_key")
    assert count(dbsession, Order) == 0


def test_the_same_key_gives_the_same_order_once(buyer, red, stock, dbsession):
    buyer.add(red, 2)
    key = new_key()
    first = buyer.place(key=key)
    again = buyer.place(key=key, status=200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["number"] == first.json["number"]
    assert again.json["total"] == first.json["total"]
    assert count(dbsession, Order) == 1
    assert stock(red).reserved == 2
    # another body with the same key: refused, not a second order
    response = buyer.place({"shipping_address": dict(ADDRESS, city="Paris")}, key=key,
                           status=422)
    assert_error(response, 422, "idempotency_key_reused")
    # keys belong to a customer: another one may use the same string
    assert count(dbsession, IdempotencyKey) == 1


def test_a_key_whose_order_failed_can_be_used_again(buyer, red, dbsession):
    key = new_key()
    assert_error(buyer.place(key=key, status=422), 422, "checkout_invalid")  # empty cart
    assert count(dbsession, IdempotencyKey) == 0
    buyer.add(red, 1)
    assert buyer.place(key=key).status_int == 201


def test_a_key_taken_meanwhile_answers_the_order_it_placed(buyer, red, dbsession, stock,
                                                           monkeypatch):
    from plugins.orders import services

    key = new_key()
    buyer.add(red, 1)
    first = buyer.place(key=key).json
    buyer.add(red, 2)  # a new cart, which the key's first request never locked
    real, calls = services.buyer, []

    def missed_the_key(request, key):
        # as if the request with the key had committed just after this one read
        user, cart, claimed = real(request, key)
        calls.append(claimed)
        return user, cart, claimed if len(calls) > 1 else None

    monkeypatch.setattr(services, "buyer", missed_the_key)
    again = buyer.place(key=key, status=200)
    # the unique index refused the key; the request ran again and found its order
    assert again.json["number"] == first["number"] and len(calls) == 2
    assert count(dbsession, Order) == 1 and count(dbsession, IdempotencyKey) == 1
    assert stock(red).reserved == 1

def test_a_second_order_from_the_same_cart_finds_it_ordered(buyer, red, stock):
    buyer.add(red, 1)
    buyer.place()
    response = buyer.place(status=422)
    assert_error(response, 422, "checkout_invalid")
    assert [e["code"] for e in response.json["error"]["errors"]] == ["cart_empty"]
    assert stock(red).reserved == 1


def test_checkout_errors_are_422_and_nothing_is_written(buyer, red, dbsession, stock):
    buyer.add(red, 1)
    response = buyer.place({}, status=422)
    assert_error(response, 422, "checkout_invalid")
    assert response.json["error"]["fields"] == {
        "shipping_address": ["Give a shipping address (shipping_address or address_id)."]}
    assert response.json["error"]["errors"][0]["code"] == "address_required"
    assert count(dbsession, Order) == 0 and stock(red).reserved == 0


def test_stock_that_ran_out_since_the_cart_is_422(buyer, blue, stock, dbsession, testapp,
                                                  staff):
    buyer.add(blue, 2)
    testapp.post_json(f"{API}/variants/{blue}/stock", {"change": -1, "reason": "broken"},
                      headers=staff.headers)
    response = buyer.place(status=422)
    assert [e["code"] for e in response.json["error"]["errors"]] == ["insufficient_stock"]
    assert count(dbsession, Order) == 0
    assert stock(blue).reserved == 0


def test_an_unknown_payment_method_is_422(buyer, red, dbsession):
    buyer.add(red, 1)
    response = buyer.place({"shipping_address": ADDRESS, "payment_method": "bitcoin"},
                           status=422)
    assert response.json["error"]["fields"]["payment_method"][0].startswith(
        "There is no payment method 'bitcoin' (available: manual)")
    assert count(dbsession, Order) == 0


def test_payment_methods_are_listed(testapp, probe):
    methods = testapp.get(f"{API}/checkout/payment-methods").json["items"]
    assert {"name": "manual", "title": "Bank transfer or cash on delivery"} in methods
    assert {"name": "probe_pay", "title": "Probe payments"} in methods


def test_order_numbers_are_unique_and_not_sequential(make_buyer, red):
    numbers = []
    for _ in range(4):
        buyer = make_buyer()
        buyer.add(red, 1)
        numbers.append(buyer.place().json["number"])
    assert len(set(numbers)) == 4
    # random characters: nothing of one number says how many orders came before it
    assert len({number[3:] for number in numbers}) == 4


def test_the_order_prefix_is_a_setting(buyer, red, orders_settings):
    orders_settings(number_prefix="SHOP-")
    buyer.add(red, 1)
    assert buyer.place().json["number"].startswith("SHOP-")


def test_a_number_drawn_twice_places_the_order_under_a_new_one(make_buyer, red, dbsession,
                                                               monkeypatch, stock):
    from plugins.orders import services

    first = make_buyer()
    first.add(red, 1)
    taken = first.place().json["number"]
    drawn = iter([taken, "EM-ABCD-EFGH"])
    monkeypatch.setattr(services, "new_number", lambda prefix: next(drawn))
    second = make_buyer()
    second.add(red, 2)
    response = second.place()
    # the unique index refused the first draw; the request ran again with the second
    assert response.status_int == 201 and response.json["number"] == "EM-ABCD-EFGH"
    assert count(dbsession, Order) == 2 and count(dbsession, IdempotencyKey) == 2
    assert stock(red).reserved == 3  # the failed attempt reserved nothing

# --- with the plugins of every phase ----------------------------------------------------------


def test_an_order_through_every_hook(buyer, red, blue, probe, stock, dbsession):
    probe.card("GC1", 2000)
    buyer.add(red, 2)
    buyer.add(blue, 1)
    body = {"shipping_address": ADDRESS, "shipping_method": "express",
            "coupon_codes": ["LINE5", "TENOFF"], "gift_card_codes": ["GC1"],
            "payment_method": "probe_pay"}
    quote = buyer.quote({k: v for k, v in body.items() if k != "payment_method"}).json
    order = buyer.place(body).json
    for field in ("subtotal", "discounts", "shipping", "tax", "total", "tenders",
                  "amount_due"):
        assert order[field] == quote[field], field
    assert order["shipping_method"] == {"code": "express", "name": "Express", "price": "9.90"}
    assert order["taxes"] == [{"source": "checkout_probe", "name": "VAT", "rate": "0.20",
                               "amount": "7.82"}]
    assert order["paid"] == "20.00"  # the gift card, taken at once
    assert order["payment"]["client_secret"] == f"secret_{order['number']}"
    assert order["payment"]["provider"] == "probe_pay"
    assert order["probe_seen"] is True
    assert probe.balance("GC1") == 0 and probe.ledger("GC1") == [-2000]
    assert probe.events == [("placed", order["number"])]
    assert probe.payments == [("start", order["number"], "26.92")]


def test_an_order_the_tenders_pay_in_full_is_paid_at_once(buyer, red, probe, stock):
    probe.card("BIG", 100000)
    buyer.add(red, 2)
    order = buyer.place({"shipping_address": ADDRESS, "shipping_method": "standard",
                         "gift_card_codes": ["BIG"]}).json
    assert order["status"] == "processing" and order["amount_due"] == "0.00"
    assert order["payment"]["status"] == "not_required"
    assert [h["to"] for h in order["status_history"]] == ["payment_pending", "processing"]
    assert probe.balance("BIG") == 100000 - 3588
    level = stock(red)
    assert (level.on_hand, level.reserved) == (8, 0)  # paid: the units are sold


def test_a_redemption_that_fails_in_order_placed_rolls_everything_back(buyer, red, probe,
                                                                       stock, dbsession):
    probe.card("RACE1", 5000)
    buyer.add(red, 1)
    response = buyer.place({"shipping_address": ADDRESS, "shipping_method": "standard",
                            "gift_card_codes": ["RACE1"]}, status=422)
    assert_error(response, 422, "gift_card_insufficient")
    assert count(dbsession, Order) == 0 and count(dbsession, StatusChange) == 0
    assert stock(red).reserved == 0
    assert dbsession.scalar(sa.select(Cart.status).where(Cart.user_id == buyer.user.id)) \
        == "open"


@pytest.mark.parametrize("body", [
    None, [], "text", {"payment_method": ""}, {"note": "x" * 2001}, {"payment_method": 3},
])
def test_bad_order_bodies_are_400(buyer, red, body, dbsession):
    buyer.add(red, 1)
    headers = dict(buyer.headers, **{"Idempotency-Key": new_key()})
    if body is None:
        response = buyer.testapp.post(f"{API}/orders", "{not json", headers=dict(
            headers, **{"Content-Type": "application/json"}), status=400)
    else:
        response = buyer.testapp.post_json(f"{API}/orders", body, headers=headers, status=400)
    assert response.json["error"]["code"] in ("invalid", "invalid_json")
    assert count(dbsession, Order) == 0
