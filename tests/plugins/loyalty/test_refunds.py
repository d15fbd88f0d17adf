"""Refunds take back the points earned in proportion to what is refunded, and give back
the points a refund returns to the points tender; cancelling or failing an order with
points on it gives them back. Every movement is a ledger row; nothing goes below zero."""
import datetime as dt

from core.db import utcnow
from plugins.orders import services as orders

from .conftest import ADDRESS, assert_error


def with_points(points):
    return {"shipping_address": ADDRESS, "loyalty_points": points}


def test_a_full_refund_takes_back_every_point_earned(loyalty, buyer, desk, red, make_order):
    buyer.add(red, 2)
    number = make_order(customer=buyer.user).number
    order = desk.act(number, "refund").json
    assert order["loyalty"] == {"points_earned": 25, "points_reversed": 25,
                                "points_redeemed": 0, "points_returned": 0,
                                "points_pending": 0}
    assert loyalty.ledger(buyer.user) == [("earned", 25), ("reversed", -25)]
    loyalty.assert_consistent(buyer.user)


def test_partial_refunds_take_back_in_proportion_and_add_up(loyalty, buyer, desk, red, blue,
                                                            make_order):
    buyer.add(red, 3)
    buyer.add(blue, 1)  # 50.50: 50 points
    number = make_order(customer=buyer.user).number
    desk.act(number, "refund", {"amount": "10.10"})  # a fifth: 10 points
    assert loyalty.ledger(buyer.user) == [("earned", 50), ("reversed", -10)]
    desk.act(number, "refund", {"amount": "0.50"})  # 10.60 of 50.50: 10.49 -> 10: none more
    assert loyalty.balance(buyer.user) == 40
    desk.act(number, "refund", {"amount": "20.00"})  # 30.60: 30.29 -> 30
    desk.act(number, "refund")  # the rest: every point
    assert loyalty.ledger(buyer.user) == [("earned", 50), ("reversed", -10),
                                          ("reversed", -20), ("reversed", -20)]
    assert loyalty.balance(buyer.user) == 0
    loyalty.assert_consistent(buyer.user)


def test_refunding_units_takes_back_their_share(loyalty, buyer, desk, red, blue,
                                                make_order):
    buyer.add(red, 2)
    buyer.add(blue, 2)  # 51.00
    number = make_order(customer=buyer.user).number
    blue_line = desk.get(number).json["items"][1]
    desk.act(number, "refund", {"lines": [{"id": blue_line["id"], "quantity": 2}]})
    assert loyalty.ledger(buyer.user) == [("earned", 51), ("reversed", -26)]


def test_points_already_spent_cannot_go_below_zero(loyalty, buyer, desk, red, make_order):
    buyer.add(red, 2)
    number = make_order(customer=buyer.user).number  # 25 points
    loyalty.adjust(buyer.user, -20, reason="spent at the shop counter")
    desk.act(number, "refund", {"amount": "12.50"})  # wants 12, only 5 are left
    assert loyalty.balance(buyer.user) == 0
    entries = loyalty.me(buyer.user).json["history"]["items"]
    assert entries[0]["points"] == -5 and "7 spent already" in entries[0]["reason"]
    loyalty.adjust(buyer.user, 30, reason="birthday")
    desk.act(number, "refund")  # a later refund takes what is still owed: 25 - 5
    assert loyalty.balance(buyer.user) == 10
    loyalty.assert_consistent(buyer.user)


def test_points_paid_with_come_back_in_proportion_when_the_tender_is_refunded(
        loyalty, buyer, desk, red, make_order):
    loyalty.adjust(buyer.user, 1000)
    buyer.add(red, 2)  # 25.00: 10.00 in points, 15.00 paid by hand; earns 15
    number = make_order(customer=buyer.user, **with_points(1000)).number
    assert loyalty.ledger(buyer.user) == [("adjusted", 1000), ("redeemed", -1000),
                                          ("earned", 15)]
    # the tenders are refunded first: 4.00 of the points (400), 4.00 of 25.00 earned (2)
    desk.act(number, "refund", {"amount": "4.00"})
    assert loyalty.ledger(buyer.user)[3:] == [("returned", 400), ("reversed", -2)]
    # 20.00 is the 6.00 left of the points and 14.00 of the provider; 24.00 earned 14
    desk.act(number, "refund", {"amount": "20.00"})
    assert loyalty.ledger(buyer.user)[5:] == [("returned", 600), ("reversed", -12)]
    desk.act(number, "refund")  # the last 1.00, through the provider
    assert loyalty.ledger(buyer.user)[7:] == [("reversed", -1)]
    assert loyalty.balance(buyer.user) == 1000
    order = desk.get(number).json["loyalty"]
    assert (order["points_redeemed"], order["points_returned"]) == (1000, 1000)
    assert (order["points_earned"], order["points_reversed"]) == (15, 15)
    loyalty.assert_consistent(buyer.user)


def test_cancelling_an_unpaid_order_gives_the_points_back(loyalty, buyer, red):
    loyalty.adjust(buyer.user, 700)
    buyer.add(red, 2)
    number = buyer.place(with_points(700)).json["number"]
    assert loyalty.balance(buyer.user) == 0
    order = buyer.cancel(number).json
    assert order["status"] == "refunded"
    assert loyalty.ledger(buyer.user) == [("adjusted", 700), ("redeemed", -700),
                                          ("returned", 700)]
    assert order["loyalty"]["points_pending"] == 0


def test_cancelling_a_paid_order_returns_the_points_and_takes_back_the_earned(
        loyalty, buyer, desk, red, make_order):
    loyalty.adjust(buyer.user, 500)
    buyer.add(red, 2)
    number = make_order(customer=buyer.user, **with_points(500)).number  # earns 20
    desk.act(number, "cancel")
    assert loyalty.ledger(buyer.user) == [("adjusted", 500), ("redeemed", -500),
                                          ("earned", 20), ("returned", 500),
                                          ("reversed", -20)]
    assert loyalty.balance(buyer.user) == 500


def test_a_failed_order_gives_the_points_back(loyalty, buyer, red, task_ctx):
    loyalty.adjust(buyer.user, 300)
    buyer.add(red, 1)
    number = buyer.place(with_points(300)).json["number"]
    failed = orders.fail_stale_orders(task_ctx, now=utcnow() + dt.timedelta(days=30))
    assert number in failed
    task_ctx.dbsession.flush()
    assert loyalty.ledger(buyer.user) == [("adjusted", 300), ("redeemed", -300),
                                          ("returned", 300)]


def test_without_refund_on_cancel_points_move_with_the_refund(loyalty, buyer, desk, red,
                                                              orders_settings, make_order):
    orders_settings(refund_on_cancel=False)
    loyalty.adjust(buyer.user, 400)
    buyer.add(red, 2)
    number = make_order(customer=buyer.user, **with_points(400)).number  # earns 21
    desk.act(number, "cancel")
    # no money went back yet: the points paid stay spent, the points earned stay
    assert loyalty.balance(buyer.user) == 21
    desk.act(number, "refund")
    assert loyalty.balance(buyer.user) == 400


def test_while_the_plugin_is_disabled_refunds_to_points_are_refused(loyalty, buyer, desk,
                                                                    red, plugin_lifecycle,
                                                                    make_order):
    loyalty.adjust(buyer.user, 1000)
    buyer.add(red, 2)
    number = make_order(customer=buyer.user, **with_points(1000)).number
    plugin_lifecycle("disable", "loyalty")
    response = desk.act(number, "refund", {"amount": "1.00"}, status=409)
    assert_error(response, 409, "tender_unavailable")
    assert response.json["error"]["plugin"] == "loyalty"
    assert desk.get(number).json["refunded"] == "0.00"
    assert loyalty.ledger(buyer.user) == [("adjusted", 1000), ("redeemed", -1000),
                                          ("earned", 15)]
