"""Points pay part of an order as a tender: within the balance, the minimum, the largest
share of the total and what is due; debited when the order is placed, in its
transaction, and refused (nothing written) when they are no longer there."""
import pytest
import sqlalchemy as sa

from core.plugins import hookimpl
from plugins.orders.models import Order

from .conftest import ADDRESS, assert_error, error_codes


def body(points, **more):
    return dict({"shipping_address": ADDRESS, "loyalty_points": points}, **more)


@pytest.fixture
def rich(loyalty, buyer, red):
    """The buyer with 1000 points (10.00) and 2 red mugs (25.00) in the cart."""
    loyalty.adjust(buyer.user, 1000)
    buyer.add(red, 2)
    return buyer


def test_points_pay_part_of_the_order_and_are_debited_when_it_is_placed(loyalty, rich):
    quote = rich.quote(body(500)).json
    assert quote["errors"] == []
    assert quote["tenders"] == [{"source": "loyalty", "code": None, "amount": "5.00"}]
    assert quote["amount_due"] == "20.00" and quote["total"] == "25.00"
    # the part paid with points earns nothing
    assert quote["loyalty"] == {"points_earned": 20, "points_redeemed": 500,
                                "points_value": "5.00", "balance": 1000}
    assert loyalty.balance(rich.user) == 1000  # a quote writes nothing

    order = rich.place(body(500)).json
    assert order["tenders"] == [{"source": "loyalty", "code": None, "amount": "5.00"}]
    assert order["amount_due"] == "20.00"
    assert order["loyalty"]["points_redeemed"] == 500
    assert order["loyalty"]["points_pending"] == 20
    assert loyalty.ledger(rich.user) == [("adjusted", 1000), ("redeemed", -500)]
    me = loyalty.me(rich.user).json
    assert me["balance"] == 500 and me["history"]["items"][0]["order_number"] == order["number"]
    loyalty.assert_consistent(rich.user)


def test_an_order_paid_in_full_with_points_is_paid_at_once_and_earns_nothing(loyalty, rich,
                                                                            red, desk):
    loyalty.adjust(rich.user, 2000)
    order = rich.place(body(3000)).json
    assert order["status"] == "processing" and order["amount_due"] == "0.00"
    assert order["payment"]["status"] == "not_required"
    # only what the order needed is taken: 25.00 is 2500 points
    assert loyalty.ledger(rich.user) == [("adjusted", 1000), ("adjusted", 2000),
                                         ("redeemed", -2500)]
    assert order["loyalty"]["points_earned"] == 0


def test_the_largest_share_points_may_pay(loyalty, rich):
    loyalty.settings(max_redeem_percent=10)
    quote = rich.quote(body(1000)).json
    assert quote["errors"] == [] and quote["tenders"][0]["amount"] == "2.50"
    assert quote["loyalty"]["points_redeemed"] == 250
    rich.place(body(1000))
    assert loyalty.balance(rich.user) == 750


def test_points_cannot_be_used_when_the_shop_takes_none(loyalty, rich):
    loyalty.settings(max_redeem_percent=0)
    quote = rich.quote(body(100)).json
    assert error_codes(quote) == ["loyalty_not_accepted"] and quote["tenders"] == []
    assert_error(rich.place(body(100), status=422), 422, "checkout_invalid")


def test_the_minimum_and_the_balance(loyalty, rich):
    loyalty.settings(min_redeem_points=200)
    quote = rich.quote(body(150)).json
    assert error_codes(quote) == ["loyalty_below_minimum"]
    assert quote["errors"][0]["field"] == "loyalty_points" and quote["tenders"] == []
    assert error_codes(rich.quote(body(1001)).json) == ["loyalty_insufficient_points"]
    assert rich.quote(body(200)).json["errors"] == []
    response = rich.place(body(1001), status=422)
    assert_error(response, 422, "checkout_invalid")
    assert response.json["error"]["fields"] == {"loyalty_points": ["You have 1000 points."]}
    assert loyalty.ledger(rich.user) == [("adjusted", 1000)]
    # no points asked: the minimum does not matter
    assert rich.quote({"shipping_address": ADDRESS}).json["errors"] == []


def test_a_guest_cannot_pay_with_points(loyalty, testapp, red):
    answer = testapp.post_json("/api/v1/cart/items", {"variant_id": red, "quantity": 1})
    token = answer.headers["X-Cart-Token"]
    quote = testapp.post_json("/api/v1/checkout/quote", body(10),
                              headers={"X-Cart-Token": token}).json
    assert error_codes(quote) == ["loyalty_sign_in_required"]
    assert quote["loyalty"]["balance"] is None
    assert testapp.post_json("/api/v1/checkout/quote", {"shipping_address": ADDRESS},
                             headers={"X-Cart-Token": token}).json["loyalty"] == {
        "points_earned": 12, "points_redeemed": 0, "points_value": "0.00", "balance": None}


def test_a_point_worth_half_a_cent(loyalty, rich):
    loyalty.settings(point_value="0.005")
    quote = rich.quote(body(3)).json  # 1.5 cents: 1 cent, which takes 2 points
    assert quote["tenders"][0]["amount"] == "0.01" and quote["loyalty"]["points_redeemed"] == 2
    quote = rich.quote(body(1)).json  # half a cent pays nothing
    assert quote["tenders"] == [] and quote["errors"] == []
    rich.place(body(3))
    assert loyalty.balance(rich.user) == 998


@pytest.mark.parametrize("points", [-1, "10", 1.5, 10**10, None, True])
def test_bad_points_are_a_400_and_change_nothing(loyalty, rich, points):
    response = rich.quote(body(points), status=400)
    assert "loyalty_points" in response.json["error"]["fields"]
    rich.place(body(points), status=400)
    assert loyalty.balance(rich.user) == 1000


def test_points_spent_since_the_quote_roll_the_whole_order_back(loyalty, rich, red, stock,
                                                                register_hooks, dbsession):
    """Between the quote (and the checkout's own read) and the debit, another order spent
    the points: the conditional UPDATE finds too few, and nothing of the order stays."""
    from plugins.loyalty import services

    class Thief:
        @hookimpl(tryfirst=True)
        def order_placed(self, order, dbsession):
            services._move(dbsession, order.user_id, -800, "redeemed")

    register_hooks(Thief())
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(Order))
    response = rich.place(body(500), status=422)
    assert_error(response, 422, "loyalty_insufficient_points")
    assert response.json["error"]["balance"] == 200
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == before
    assert loyalty.ledger(rich.user) == [("adjusted", 1000)]
    assert stock(red).reserved == 0
    # the cart is still open: the customer can order without points
    assert rich.place().status_int == 201
