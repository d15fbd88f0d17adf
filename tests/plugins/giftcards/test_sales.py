"""Selling gift cards: a catalog product marked as a gift card issues a card per unit when
its order is paid, e-mails the codes to the buyer, and voids them when the purchase is
undone."""
import re

import sqlalchemy as sa

from core.notifications import Notification
from plugins.giftcards import codes
from plugins.giftcards.models import GiftCard

from .conftest import API, assert_error, checkout_body

CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}\b")


def sold_cards(dbsession, number):
    dbsession.expire_all()
    return dbsession.scalars(sa.select(GiftCard).join(GiftCard.order)
                             .where(GiftCard.order.has(number=number))
                             .order_by(GiftCard.id)).all()


def mailed_codes(mail_dir):
    found = []
    for mail in sorted(mail_dir.glob("*.eml")):
        text = mail.read_text()
        if "gift card" in text.lower():
            found += CODE.findall(text)
    return list(dict.fromkeys(found))


def test_marking_products_as_gift_cards(testapp, staff, make_product, gift_product):
    url = f"{API}/admin/gift-cards/products"
    [item] = testapp.get(url, headers=staff.headers).json["items"]
    assert item == {**item, "product_id": gift_product.id, "name": "Gift card",
                    "valid_days": None, "is_active": True}
    other = make_product("Voucher")
    item = testapp.put_json(f"{url}/{other.id}", {"valid_days": 365},
                            headers=staff.headers).json
    assert item["valid_days"] == 365
    # again: the same row, changed
    testapp.put_json(f"{url}/{other.id}", {"valid_days": 0}, headers=staff.headers)
    assert [i["valid_days"] for i in testapp.get(url, headers=staff.headers).json["items"]
            if i["product_id"] == other.id] == [0]
    testapp.delete(f"{url}/{other.id}", headers=staff.headers, status=204)
    assert_error(testapp.delete(f"{url}/{other.id}", headers=staff.headers, status=404),
                 404, "gift_card_product_not_found")
    for bad in ("999999", "0", "abc", "99999999999"):
        assert_error(testapp.put_json(f"{url}/{bad}", {}, headers=staff.headers,
                                      status=404), 404, "product_not_found")
    for body in ({"valid_days": -1}, {"valid_days": "7"}, {"valid_days": 10**6},
                 {"price": 1}):
        testapp.put_json(f"{url}/{other.id}", body, headers=staff.headers, status=400)
    testapp.put_json(f"{url}/{other.id}", {}, headers=dict(staff.headers, **{
        "Content-Type": "application/json"}), status=200)


def test_a_paid_order_issues_a_card_per_unit_and_mails_the_codes(
        buyer, gift_product, desk, dbsession, mail_dir, testapp):
    twenty_five, fifty = (v.id for v in gift_product.variants)
    buyer.add(twenty_five, 2)
    buyer.add(fifty, 1)
    number = buyer.place().json["number"]
    assert sold_cards(dbsession, number) == []  # not before the money arrived
    order = desk.act(number, "mark-paid").json
    cards = sold_cards(dbsession, number)
    assert sorted(card.initial_balance for card in cards) == [2500, 2500, 5000]
    assert {card.recipient_email for card in cards} == {buyer.user.email}
    assert all(card.state() == "active" and card.expires_at is not None for card in cards)
    assert {card.order_line_id for card in cards} == {line["id"] for line in order["items"]}
    # one e-mail with the three codes, to the buyer, erased from the outbox once sent
    notification = dbsession.scalars(sa.select(Notification).where(
        Notification.template == "giftcards/gift_cards")).one()
    assert notification.recipient == buyer.user.email and notification.sensitive
    found = mailed_codes(mail_dir)
    assert len(found) == 3
    assert sorted(codes.digest(codes.normalize(c)) for c in found) == \
        sorted(card.code_hash for card in cards)
    assert number in [m.read_text() for m in mail_dir.glob("*.eml")
                      if "gift card" in m.read_text().lower()][0]
    # the order shows the cards it bought, masked
    shown = buyer.order(number).json["gift_cards"]
    assert sorted(c["amount"] for c in shown) == ["25.00", "25.00", "50.00"]
    assert all(c["code"].startswith("****-") and c["status"] == "active" for c in shown)
    # the codes work
    balances = sorted(testapp.get(f"{API}/gift-cards/{code}").json["balance"]
                      for code in found)
    assert balances == ["25.00", "25.00", "50.00"]


def test_issuing_again_for_a_paid_order_adds_nothing(buyer, gift_product, desk, dbsession, ctx):
    from plugins.giftcards import services
    from plugins.orders.models import Order

    buyer.add(gift_product.variants[0].id, 2)
    number = buyer.place().json["number"]
    desk.act(number, "mark-paid")
    order = ctx.dbsession.scalars(sa.select(Order).where(Order.number == number)).one()
    assert services.issue_for_order(ctx, order) == []
    assert len(sold_cards(dbsession, number)) == 2


def test_a_product_s_validity_decides_the_cards_expiry(buyer, gift_product, desk, dbsession,
                                                       testapp, staff):
    testapp.put_json(f"{API}/admin/gift-cards/products/{gift_product.id}",
                     {"valid_days": 0}, headers=staff.headers)
    buyer.add(gift_product.variants[0].id)
    number = buyer.place().json["number"]
    desk.act(number, "mark-paid")
    [card] = sold_cards(dbsession, number)
    assert card.expires_at is None


def test_an_unpaid_order_that_fails_or_is_cancelled_issues_nothing(buyer, gift_product,
                                                                    dbsession):
    buyer.add(gift_product.variants[0].id)
    number = buyer.place().json["number"]
    buyer.cancel(number)
    assert sold_cards(dbsession, number) == []


def test_a_gift_card_bought_with_a_gift_card_is_issued_at_once(buyer, gift_product, cards,
                                                              dbsession):
    paying = cards.issue("100.00")
    buyer.add(gift_product.variants[1].id)
    order = buyer.place(checkout_body(paying)).json
    assert order["status"] == "processing"
    [card] = sold_cards(dbsession, order["number"])
    assert card.initial_balance == 5000 and cards.balance(paying) == 5000


def test_cancelling_a_paid_purchase_voids_its_unused_cards(buyer, gift_product, desk,
                                                           dbsession, testapp, mail_dir):
    buyer.add(gift_product.variants[0].id, 2)
    number = buyer.place().json["number"]
    desk.act(number, "mark-paid")
    order = desk.act(number, "cancel").json
    assert order["status"] == "refunded" and order["refunded"] == "50.00"
    cards = sold_cards(dbsession, number)
    assert [(c.balance, c.is_active, c.voided_at is not None) for c in cards] == \
        [(0, False, True)] * 2
    found = mailed_codes(mail_dir)
    assert testapp.get(f"{API}/gift-cards/{found[0]}").json["status"] == "inactive"
    # a voided card cannot be switched on again
    response = testapp.patch_json(f"{API}/admin/gift-cards/{cards[0].id}",
                                  {"is_active": True}, headers=desk.headers, status=409)
    assert_error(response, 409, "gift_card_voided")
    ledger = testapp.get(f"{API}/admin/gift-cards/{cards[0].id}",
                         headers=desk.headers).json["ledger"]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger] == [
        ("issue", "25.00", "25.00"), ("void", "-25.00", "0.00")]


def test_a_purchase_whose_card_was_spent_cannot_be_cancelled(buyer, make_buyer, gift_product,
                                                             desk, dbsession, mail_dir, red):
    buyer.add(gift_product.variants[0].id)
    number = buyer.place().json["number"]
    desk.act(number, "mark-paid")
    [code] = mailed_codes(mail_dir)
    spender = make_buyer()
    spender.add(red)
    spender.place(checkout_body(code))
    response = desk.act(number, "cancel", status=409)
    assert_error(response, 409, "gift_card_used")
    assert response.json["error"]["gift_card"].endswith(code[-4:])
    assert buyer.order(number).json["status"] == "processing"  # nothing changed
    # a refund of an amount is still possible
    desk.act(number, "refund", {"amount": "5.00"})


def test_refunding_gift_card_units_voids_as_many_cards(buyer, gift_product, desk, dbsession):
    buyer.add(gift_product.variants[0].id, 3)
    number = buyer.place().json["number"]
    order = desk.act(number, "mark-paid").json
    line = order["items"][0]["id"]
    desk.act(number, "refund", {"lines": [{"id": line, "quantity": 2}]})
    cards = sold_cards(dbsession, number)
    assert sorted(c.voided_at is not None for c in cards) == [False, True, True]
    desk.act(number, "refund", {"lines": [{"id": line, "quantity": 1}]})
    assert all(c.voided_at is not None for c in sold_cards(dbsession, number))
