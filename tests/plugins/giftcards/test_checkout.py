"""Gift cards as tenders: partial use, several cards, the rest paid by another provider,
debited when the order is placed, in the same transaction; cards that cannot pay are
checkout errors."""
import datetime as dt

import pytest
import sqlalchemy as sa

from core.api.errors import Unprocessable
from core.db import utcnow
from core.plugins import hookimpl
from plugins.giftcards.models import GiftCard
from plugins.orders.models import Order

from .conftest import API, assert_error, checkout_body, error_codes


def masked(code):
    return f"****-****-****-{code[-4:]}"


def test_a_card_pays_part_of_the_order_and_the_rest_is_paid_by_the_provider(
        cards, buyer, red, stock):
    code = cards.issue("10.00")
    buyer.add(red, 2)  # 25.00
    quote = buyer.quote(checkout_body(code)).json
    assert quote["errors"] == []
    assert quote["tenders"] == [{"source": "giftcards", "code": masked(code),
                                 "amount": "10.00"}]
    assert (quote["total"], quote["tender_total"], quote["amount_due"]) == \
        ("25.00", "10.00", "15.00")
    assert cards.balance(code) == 1000  # a quote writes nothing
    order = buyer.place(checkout_body(code)).json
    assert order["status"] == "payment_pending"
    assert order["tenders"] == quote["tenders"]
    assert order["amount_due"] == "15.00" and order["paid"] == "10.00"
    assert order["payment"]["provider"] == "manual" and order["payment"]["amount"] == "15.00"
    assert cards.balance(code) == 0
    assert cards.ledger(code) == [("issue", 1000, 1000), ("redeem", -1000, 0)]
    ledger = cards.staff_get(code).json["ledger"]
    assert ledger[1]["order_number"] == order["number"]
    # the order keeps the masked code only
    assert code not in str(order) and code.replace("-", "") not in str(order)


def test_a_card_worth_more_than_the_order_keeps_the_rest(cards, buyer, red, desk):
    code = cards.issue("100.00")
    buyer.add(red, 2)
    order = buyer.place(checkout_body(code)).json
    # nothing left to pay: paid at once, no payment provider
    assert order["status"] == "processing" and order["amount_due"] == "0.00"
    assert order["payment"]["status"] == "not_required"
    assert cards.balance(code) == 7500
    assert buyer.testapp.get(f"{API}/gift-cards/{code}").json["balance"] == "75.00"


def test_several_cards_pay_in_the_order_given_each_as_far_as_it_goes(cards, buyer, red):
    first, second, third = cards.issue("5.00"), cards.issue("15.00"), cards.issue("30.00")
    buyer.add(red, 2)  # 25.00
    quote = buyer.quote(checkout_body(first, second, third)).json
    assert [(t["code"], t["amount"]) for t in quote["tenders"]] == [
        (masked(first), "5.00"), (masked(second), "15.00"), (masked(third), "5.00")]
    assert quote["amount_due"] == "0.00"
    order = buyer.place(checkout_body(first, second, third)).json
    assert order["status"] == "processing"
    assert [cards.balance(c) for c in (first, second, third)] == [0, 0, 2500]
    # a card not needed is not touched
    fourth = cards.issue("5.00")
    buyer.add(red, 1)
    quote = buyer.quote(checkout_body(third, fourth)).json
    assert [t["code"] for t in quote["tenders"]] == [masked(third)]


def test_the_same_card_typed_twice_pays_once(cards, buyer, red):
    code = cards.issue("10.00")
    buyer.add(red, 2)
    spellings = [code, code.lower().replace("-", ""), code.replace("0", "O")]
    quote = buyer.quote(checkout_body(*spellings)).json
    assert quote["errors"] == [] and len(quote["tenders"]) == 1
    assert quote["amount_due"] == "15.00"
    buyer.place(checkout_body(*spellings))
    assert cards.ledger(code) == [("issue", 1000, 1000), ("redeem", -1000, 0)]


@pytest.mark.parametrize("make, error", [
    ("expired", "gift_card_expired"),
    ("inactive", "gift_card_inactive"),
    ("empty", "gift_card_empty"),
    ("unknown", "gift_card_not_found"),
    ("dollars", "gift_card_currency"),
])
def test_a_card_that_cannot_pay_is_an_error_and_places_no_order(cards, buyer, red, dbsession,
                                                               make, error):
    code = cards.issue("10.00")
    card = cards.card(code)
    if make == "expired":
        card.expires_at = utcnow() - dt.timedelta(minutes=1)
    elif make == "inactive":
        card.is_active = False
    elif make == "empty":
        cards.adjust(code, "-10.00")
    elif make == "unknown":
        code = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    else:
        card.currency = "USD"
    dbsession.flush()
    good = cards.issue("1.00")
    buyer.add(red)
    quote = buyer.quote(checkout_body(good, code)).json
    assert error_codes(quote) == [error]
    assert quote["errors"][0]["field"] == "gift_card_codes"
    assert quote["errors"][0]["gift_card"] == code
    assert quote["errors"][0]["message"]
    # the good card still shows what it would pay
    assert [t["amount"] for t in quote["tenders"]] == ["1.00"]
    orders_before = dbsession.scalar(sa.select(sa.func.count()).select_from(Order))
    response = buyer.place(checkout_body(good, code), status=422)
    assert_error(response, 422, "checkout_invalid")
    assert response.json["error"]["fields"]["gift_card_codes"]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == orders_before
    assert cards.balance(good) == 100


def test_a_card_emptied_between_the_quote_and_the_debit_refuses_the_whole_order(
        cards, buyer, red, register_hooks, dbsession, stock):
    """The debit is a conditional UPDATE: a card spent by another order after this one's
    checkout ran makes this order a 422, and nothing of it is kept."""
    code = cards.issue("10.00")
    other = cards.issue("5.00")

    class Race:
        @hookimpl(tryfirst=True)
        def order_placed(self, order, dbsession):
            # what a concurrent order did meanwhile: it took 3.00 of the card
            dbsession.execute(sa.update(GiftCard).where(
                GiftCard.code_hash == cards.card(code).code_hash).values(balance=700))

    register_hooks(Race())
    buyer.add(red, 2)
    before = stock(red).reserved
    response = buyer.place(checkout_body(other, code), status=422)
    assert_error(response, 422, "gift_card_insufficient")
    assert response.json["error"]["gift_card"] == masked(code)
    assert "gift_card_codes" in response.json["error"]["fields"]
    # rolled back whole: no order, no stock reserved, the other card not debited
    assert stock(red).reserved == before
    assert cards.ledger(other) == [("issue", 500, 500)]
    assert cards.balance(code) == 1000


def test_the_balance_cannot_go_below_zero_whatever_writes(cards, dbsession):
    code = cards.issue("10.00")
    with pytest.raises(sa.exc.IntegrityError):
        with dbsession.begin_nested():
            dbsession.execute(sa.update(GiftCard).where(GiftCard.id == cards.card(code).id)
                              .values(balance=-1))


def test_redeem_refuses_more_than_the_card_holds(cards, dbsession, buyer, red):
    from plugins.giftcards import services

    code = cards.issue("10.00")
    buyer.add(red)
    number = buyer.place(checkout_body()).json["number"]
    order = dbsession.scalars(sa.select(Order).where(Order.number == number)).one()
    card = cards.card(code)
    with pytest.raises(Unprocessable) as refused:
        services.redeem(dbsession, card.id, 1001, "EUR", order=order, tender=None)
    assert refused.value.code == "gift_card_insufficient"
    assert cards.balance(code) == 1000


def test_gift_card_codes_are_validated_by_the_order_schema(buyer, red):
    buyer.add(red)
    for bad in (["x" * 65], [""], "ABCD", [1], ["A"] * 21):
        response = buyer.quote(checkout_body() | {"gift_card_codes": bad}, status=400)
        assert "gift_card_codes" in str(response.json["error"]["fields"])
