"""The order lifecycle: the state machine, stock at every step, history, hooks, customer
and staff endpoints, payment results reported by providers."""
import pytest
import sqlalchemy as sa

from core.api.errors import NotFound, Unprocessable
from core.notifications import Notification
from plugins.orders import lifecycle, payments, services

from .conftest import ADDRESS, API, assert_error

# with checkout_probe: its shipping (4.90), 20 % tax and its payment provider
ONLINE = {"shipping_address": ADDRESS, "shipping_method": "standard",
          "payment_method": "probe_pay"}


@pytest.fixture
def placed(make_order, buyer, red):
    """``placed(quantity=2, body=None)``: the number of a new order of red mugs by
    ``buyer``, waiting for its payment."""
    def place(quantity=2, body=None):
        return make_order(items=[(red, quantity)], customer=buyer.user,
                          status="payment_pending", **(body or {})).number

    return place


def levels(stock, variant_id):
    level = stock(variant_id)
    return level.on_hand, level.reserved


def history(desk, number):
    return [(h["from"], h["to"], h["by"]) for h in desk.get(number).json["status_history"]]


def test_placed_paid_shipped_delivered(placed, desk, stock, red, buyer, dbsession):
    number = placed(2)
    assert levels(stock, red) == (10, 2)
    order = desk.act(number, "mark-paid", {"note": "transfer 4711"}).json
    assert order["status"] == "processing" and order["paid"] == "25.00"
    assert order["paid_at"] is not None and order["payment"]["status"] == "paid"
    assert levels(stock, red) == (8, 0)  # committed: sold
    order = desk.act(number, "ship", {"carrier": "DHL", "tracking_number": "JJD01"}).json
    assert order["status"] == "shipped"
    assert order["shipments"][0]["carrier"] == "DHL"
    assert order["shipments"][0]["tracking_number"] == "JJD01"
    order = desk.act(number, "deliver").json
    assert order["status"] == "delivered" and order["shipments"][0]["delivered_at"]
    assert levels(stock, red) == (8, 0)
    assert history(desk, number) == [
        (None, "payment_pending", "customer"), ("payment_pending", "processing", "staff"),
        ("processing", "shipped", "staff"), ("shipped", "delivered", "staff")]
    entry = desk.get(number).json["status_history"][1]
    assert entry["note"] == "transfer 4711" and entry["user_id"] is not None
    seen = buyer.order(number).json
    assert seen["status"] == "delivered" and "user_id" not in seen["status_history"][1]
    sent = set(dbsession.scalars(sa.select(Notification.template)))
    assert {"orders/order_placed", "orders/order_shipped", "orders/order_delivered"} <= sent


def test_illegal_moves_are_409_and_change_nothing(placed, desk, stock, red):
    number = placed(1)
    for action in ("ship", "deliver", "return"):
        response = desk.act(number, action, status=409)
        assert_error(response, 409, "illegal_transition")
        assert response.json["error"]["order_status"] == "payment_pending"
        assert response.json["error"]["allowed"] == ["processing", "failed", "cancelled"]
    desk.act(number, "mark-paid")
    assert_error(desk.act(number, "mark-paid", status=409), 409, "illegal_transition")
    assert levels(stock, red) == (9, 0)
    assert len(history(desk, number)) == 2


@pytest.mark.parametrize("old, new, ok", [
    (old, new, new in lifecycle.TRANSITIONS[old])
    for old in lifecycle.TRANSITIONS for new in lifecycle.TRANSITIONS
])
def test_the_state_machine(old, new, ok):
    class FakeOrder:
        status, number = old, "EM-TEST"

    assert lifecycle.can_move(FakeOrder, new) is ok
    if not ok:
        error = lifecycle.IllegalTransition(FakeOrder, new)
        assert error.status == 409 and error.extra["order_status"] == old


def test_a_customer_cancels_before_payment_and_the_stock_is_released(placed, buyer, stock,
                                                                     red, dbsession):
    number = placed(3)
    order = buyer.cancel(number).json
    assert order["status"] == "cancelled" and order["payment"]["status"] == "cancelled"
    assert order["can_cancel"] is False
    assert levels(stock, red) == (10, 0)
    assert_error(buyer.cancel(number, status=409), 409, "illegal_transition")
    assert levels(stock, red) == (10, 0)


def test_cancelling_a_paid_order_restocks_and_refunds_it(placed, buyer, desk, stock, red,
                                                         dbsession):
    number = placed(2)
    desk.act(number, "mark-paid")
    order = buyer.cancel(number).json
    assert order["status"] == "refunded" and order["refunded"] == "25.00"
    assert [h["to"] for h in order["status_history"]][-2:] == ["cancelled", "refunded"]
    assert levels(stock, red) == (10, 0)
    refunds = desk.get(number).json["refunds"]
    assert [(r["amount"], r["provider_amount"], r["provider"]) for r in refunds] == [
        ("25.00", "25.00", "manual")]
    sent = set(dbsession.scalars(sa.select(Notification.template)))
    assert {"orders/order_cancelled", "orders/order_refunded"} <= sent


def test_without_refund_on_cancel_staff_refunds_later(placed, desk, stock, red,
                                                      orders_settings):
    orders_settings(refund_on_cancel=False)
    number = placed(1)
    desk.act(number, "mark-paid")
    order = desk.act(number, "cancel", {"note": "out of paper"}).json
    assert order["status"] == "cancelled" and order["refundable"] == "12.50"
    order = desk.act(number, "refund", {"amount": "2.50"}).json
    assert order["status"] == "cancelled" and order["refundable"] == "10.00"
    order = desk.act(number, "refund").json
    assert order["status"] == "refunded" and order["refundable"] == "0.00"


def test_a_shipped_order_cannot_be_cancelled_but_returned(placed, buyer, desk, stock, red):
    number = placed(2)
    desk.act(number, "mark-paid")
    desk.act(number, "ship")
    assert_error(buyer.cancel(number, status=409), 409, "already_shipped")
    assert_error(desk.act(number, "cancel", status=409), 409, "already_shipped")
    order = desk.act(number, "return", {"note": "too small"}).json
    assert order["status"] == "returned"
    assert levels(stock, red) == (10, 0)  # restocked
    order = desk.act(number, "refund").json
    assert order["status"] == "refunded"


def test_returned_goods_that_cannot_be_sold_are_not_restocked(placed, desk, stock, red):
    number = placed(2)
    desk.act(number, "mark-paid")
    desk.act(number, "ship")
    desk.act(number, "deliver")
    desk.act(number, "return", {"restock": False})
    assert levels(stock, red) == (8, 0)


def test_every_move_reaches_the_plugins_inside_the_transaction(placed, desk, probe):
    number = placed(1, {"shipping_address": ADDRESS, "shipping_method": "standard"})
    desk.act(number, "mark-paid")
    desk.act(number, "ship")
    desk.act(number, "deliver")
    desk.act(number, "return")
    desk.act(number, "refund")
    assert probe.events == [
        ("placed", number),
        ("status", number, "payment_pending", "processing"),
        ("status", number, "processing", "shipped"),
        ("status", number, "shipped", "delivered"),
        ("status", number, "delivered", "returned"),
        ("refunded", number, "20.88"),
        ("status", number, "returned", "refunded"),
    ]


def test_a_failing_hook_rolls_the_move_back(placed, desk, stock, red, register_hooks):
    from core.plugins import hookimpl

    class Refuses:
        @hookimpl
        def order_status_changed(self, new_status):
            if new_status == "shipped":
                raise Unprocessable("The warehouse is closed.", code="warehouse_closed")

    number = placed(1)
    desk.act(number, "mark-paid")
    register_hooks(Refuses())
    assert_error(desk.act(number, "ship", status=422), 422, "warehouse_closed")
    order = desk.get(number).json
    assert order["status"] == "processing" and order["shipments"] == []


# --- the customer's view ------------------------------------------------------------------------


def test_customers_see_their_own_orders_only(placed, buyer, make_buyer, red, testapp):
    first = placed(1)
    buyer.add(red, 1)
    second = buyer.place().json["number"]
    listed = buyer.orders().json
    assert [o["number"] for o in listed["items"]] == [second, first]  # newest first
    assert listed["total"] == 2
    page = buyer.orders(per_page=1, page=2).json
    assert [o["number"] for o in page["items"]] == [first] and page["next"] is None
    other = make_buyer()
    assert other.orders().json["items"] == []
    assert_error(other.order(first, status=404), 404, "not_found")
    assert_error(other.cancel(first, status=404), 404, "not_found")
    assert buyer.order(first.lower()).json["number"] == first
    for bad in ("nope", "x" * 40, "%00", "EM-0000-0000"):
        assert buyer.order(bad, status=404).json["error"]["code"] == "not_found"
    testapp.get(f"{API}/orders", status=401)
    testapp.get(f"{API}/orders/{first}", status=401)


def test_staff_lists_and_filters_orders(placed, desk, buyer, make_buyer, red, testapp,
                                        customer):
    first = placed(1)
    other = make_buyer()
    other.add(red, 1)
    second = other.place().json["number"]
    desk.act(second, "mark-paid")
    numbers = lambda **params: [o["number"] for o in desk.list(**params).json["items"]]  # noqa
    assert numbers()[:2] == [second, first]
    assert numbers(status="processing") == [second]
    assert numbers(status=["processing", "payment_pending"])[:2] == [second, first]
    assert numbers(number=first[:7].lower()) == [first]
    assert numbers(email=buyer.user.email.upper()) == [first]
    assert numbers(user_id=other.user.id) == [second]
    assert numbers(placed_from="2000-01-01T00:00:00Z", placed_to="2001-01-01T00:00:00Z") == []
    testapp.get(f"{API}/admin/orders", params={"status": "lost"}, headers=desk.headers,
                status=400)
    testapp.get(f"{API}/admin/orders", params={"placed_from": "yesterday"},
                headers=desk.headers, status=400)
    testapp.get(f"{API}/admin/orders", headers=customer.headers, status=403)
    testapp.get(f"{API}/admin/orders/{first}", headers=customer.headers, status=403)
    assert_error(desk.get("EM-0000-0000", status=404), 404, "order_not_found")


def test_staff_notes_stay_with_staff(placed, desk, buyer):
    number = placed(1)
    order = desk.act(number, "notes", {"note": "Customer called about the colour"},
                     status=201).json
    assert [n["note"] for n in order["notes"]] == ["Customer called about the colour"]
    assert "notes" not in buyer.order(number).json
    desk.act(number, "notes", {"note": ""}, status=400)


# --- payments reported by providers -------------------------------------------------------------


def test_staff_cannot_mark_an_online_payment_paid(buyer, red, desk, probe):
    buyer.add(red, 1)
    number = buyer.place(ONLINE).json["number"]
    assert_error(desk.act(number, "mark-paid", status=409), 409, "paid_by_provider")


def test_a_provider_reports_the_payment_once(buyer, red, probe, ctx, stock):
    buyer.add(red, 1)
    number = buyer.place(ONLINE).json["number"]
    reference = f"pp_{number}"
    order = services.find_order(ctx.dbsession, number)
    with pytest.raises(Unprocessable):
        payments.payment_succeeded(ctx, "probe_pay", reference, amount=order.money(1))
    assert payments.payment_succeeded(ctx, "probe_pay", reference,
                                      amount=order.money(2088)) == "paid"
    assert payments.payment_succeeded(ctx, "probe_pay", reference) == "already_paid"
    assert payments.payment_failed(ctx, "probe_pay", reference) == "ignored"
    assert order.status == "processing" and order.paid_amount == 2088
    assert levels(stock, red) == (9, 0)
    assert [e for e in probe.events if e[0] == "status"] == [
        ("status", number, "payment_pending", "processing")]
    with pytest.raises(NotFound):
        payments.payment_succeeded(ctx, "probe_pay", "pp_unknown")


def test_a_failed_payment_fails_the_order_and_releases_the_stock(buyer, red, probe, ctx,
                                                                 stock):
    buyer.add(red, 2)
    number = buyer.place(ONLINE).json["number"]
    assert payments.payment_failed(ctx, "probe_pay", f"pp_{number}", "card declined") \
        == "failed"
    order = services.find_order(ctx.dbsession, number)
    assert order.status == "failed" and order.payment.status == "cancelled"
    assert order.history[-1].note == "card declined"
    assert levels(stock, red) == (10, 0)
    assert ("cancel", number, None) in probe.payments
    # the money arrives after all: recorded, for staff to refund
    assert payments.payment_succeeded(ctx, "probe_pay", f"pp_{number}") == "late"
    # 2 x 12.50 + 4.90, and 20 %
    assert order.status == "failed" and order.refundable == order.money(3588)
