"""What an order took from gift cards goes back to them when it fails, is cancelled or is
refunded: exactly the tender parts the orders plugin gives back, each to the card it
came from, each once, with a ledger row."""
import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow
from plugins.giftcards.models import LedgerEntry
from plugins.orders import services as orders

from .conftest import NAME, assert_error, checkout_body


def test_cancelling_an_unpaid_order_gives_the_card_back(cards, buyer, red, stock):
    code = cards.issue("10.00")
    buyer.add(red, 2)
    number = buyer.place(checkout_body(code)).json["number"]
    assert cards.balance(code) == 0
    order = buyer.cancel(number).json
    assert order["status"] == "refunded" and order["refunded"] == "10.00"
    assert cards.balance(code) == 1000
    assert cards.ledger(code) == [("issue", 1000, 1000), ("redeem", -1000, 0),
                                  ("refund", 1000, 1000)]
    assert stock(red).reserved == 0


def test_an_order_that_fails_gives_its_cards_back(cards, buyer, red, ctx):
    first, second = cards.issue("4.00"), cards.issue("3.00")
    buyer.add(red, 2)
    number = buyer.place(checkout_body(first, second)).json["number"]
    failed = orders.fail_stale_orders(ctx, now=utcnow() + dt.timedelta(days=30))
    assert number in failed
    ctx.dbsession.flush()
    assert [cards.balance(first), cards.balance(second)] == [400, 300]
    assert cards.ledger(second)[-1] == ("refund", 300, 300)


def test_cancelling_a_paid_order_refunds_the_provider_and_the_card(cards, buyer, red, desk):
    code = cards.issue("10.00")
    buyer.add(red, 2)  # 25.00: 10.00 by card, 15.00 by bank transfer
    number = buyer.place(checkout_body(code)).json["number"]
    desk.act(number, "mark-paid")
    order = desk.act(number, "cancel").json
    assert order["status"] == "refunded"
    [refund] = order["refunds"]
    assert refund["provider_amount"] == "15.00"
    assert refund["tenders"] == [{"source": "giftcards", "code": f"****-****-****-{code[-4:]}",
                                  "amount": "10.00"}]
    assert cards.balance(code) == 1000


def test_a_partial_refund_goes_back_to_the_card_first(cards, buyer, red, desk):
    code = cards.issue("10.00")
    buyer.add(red, 2)
    number = buyer.place(checkout_body(code)).json["number"]
    desk.act(number, "mark-paid")
    # the orders plugin gives back to the tenders first (10.00), then through the provider
    order = desk.act(number, "refund", {"amount": "5.00"}).json
    assert cards.balance(code) == 500
    assert (order["refunds"][0]["provider_amount"], order["payments"][0]["refunded"]) == (
        "0.00", "0.00")
    order = desk.act(number, "refund", {"amount": "12.00"}).json  # 5.00 card, 7.00 provider
    assert cards.balance(code) == 1000
    assert order["refunds"][1]["provider_amount"] == "7.00"
    order = desk.act(number, "refund", {}).json  # the rest: 8.00 through the provider
    assert order["refunded"] == "25.00" and order["payments"][0]["refunded"] == "15.00"
    assert cards.balance(code) == 1000
    assert cards.ledger(code)[1:] == [("redeem", -1000, 0), ("refund", 500, 500),
                                      ("refund", 500, 1000)]
    desk.act(number, "refund", {"amount": "1.00"}, status=409)  # nothing left to refund
    assert cards.balance(code) == 1000


def test_while_the_plugin_is_disabled_refunds_to_a_card_are_refused(cards, buyer, red, desk,
                                                                   plugin_lifecycle):
    code = cards.issue("10.00")
    buyer.add(red, 2)
    number = buyer.place(checkout_body(code)).json["number"]
    desk.act(number, "mark-paid")
    plugin_lifecycle("disable", NAME)
    response = desk.act(number, "refund", {"amount": "5.00"}, status=409)
    assert_error(response, 409, "tender_unavailable")
    assert response.json["error"]["plugin"] == NAME
    assert_error(desk.act(number, "cancel", status=409), 409, "tender_unavailable")
    order = desk.get(number).json
    assert (order["status"], order["refunded"], order["refunds"]) == ("processing", "0.00", [])
    assert order["payments"][0]["refunded"] == "0.00"
    assert cards.ledger(code)[1:] == [("redeem", -1000, 0)]
    plugin_lifecycle("enable", NAME)
    desk.act(number, "refund", {"amount": "5.00"})
    assert cards.balance(code) == 500


def test_with_several_cards_the_latest_tender_is_refunded_first(cards, buyer, red, desk):
    first, second = cards.issue("20.00"), cards.issue("20.00")
    buyer.add(red, 2)  # 25.00: 20.00 first, 5.00 second
    number = buyer.place(checkout_body(first, second)).json["number"]
    assert buyer.order(number).json["status"] == "processing"
    desk.act(number, "refund", {"amount": "7.00"})
    assert [cards.balance(first), cards.balance(second)] == [200, 2000]


def test_a_card_is_credited_back_even_when_it_expired_or_was_deactivated(cards, buyer, red,
                                                                          dbsession):
    code = cards.issue("10.00")
    buyer.add(red, 2)
    number = buyer.place(checkout_body(code)).json["number"]
    card = cards.card(code)
    card.is_active = False
    card.expires_at = utcnow() - dt.timedelta(days=1)
    dbsession.flush()
    buyer.cancel(number)
    assert cards.balance(code) == 1000
    assert cards.card(code).state() == "inactive"


def test_each_refund_part_is_credited_once(cards, buyer, red, dbsession):
    code = cards.issue("10.00")
    buyer.add(red, 2)
    buyer.cancel(buyer.place(checkout_body(code)).json["number"])
    parts = dbsession.scalars(sa.select(LedgerEntry.refund_tender_id).where(
        LedgerEntry.kind == "refund")).all()
    assert len(parts) == len(set(parts)) == 1
    with pytest.raises(sa.exc.IntegrityError):
        with dbsession.begin_nested():
            dbsession.add(LedgerEntry(card_id=cards.card(code).id, kind="refund", amount=1,
                                      balance_after=1, refund_tender_id=parts[0]))
            dbsession.flush()
