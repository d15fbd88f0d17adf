"""A coupon's use: recorded with the order (one row per use), refused when another order
took the last use meanwhile, given back when the order fails or is cancelled; partial
refunds of a discounted order are exact."""
import datetime as dt

import sqlalchemy as sa

from core.db import utcnow
from core.plugins import hookimpl
from plugins.coupons.models import Code, Coupon, CustomerUse, Redemption
from plugins.orders import services as orders
from plugins.orders.models import Order

from .conftest import ADDRESS, assert_error, discounts


def body(*codes):
    return {"shipping_address": ADDRESS, "coupon_codes": list(codes)}


def uses_of(dbsession, coupon_id):
    dbsession.expire_all()
    return dbsession.scalars(sa.select(Redemption).where(Redemption.coupon_id == coupon_id)
                             .order_by(Redemption.id)).all()


def test_an_order_records_one_use_per_coupon(coupons, buyer, red, blue, dbsession):
    five = coupons.make("FIVE", kind="fixed_amount", amount="5", combinable=True)
    ten = coupons.make("TEN", percent="10", combinable=True, usage_limit=10)
    buyer.add(red, 2)
    buyer.add(blue, 1)
    order = buyer.place(body("ten", "five")).json
    assert discounts(order) == {"FIVE": "5.00", "TEN": "3.30"}
    assert order["discount_total"] == "8.30" and order["total"] == "29.70"
    [use] = uses_of(dbsession, ten["id"])
    placed = dbsession.scalars(sa.select(Order).where(Order.number == order["number"])).one()
    assert (use.order_id, use.user_id, use.code, use.amount, use.currency) == (
        placed.id, buyer.user.id, "TEN", 330, "EUR")
    assert use.released_at is None
    assert uses_of(dbsession, five["id"])[0].amount == 500
    seen = coupons.get(ten["id"]).json
    assert (seen["uses"], seen["released"], seen["discount_total"]) == (1, 0, "3.30")
    assert seen["codes"] == {"total": 1, "generated": 0, "used": 1}
    listed = coupons.uses(ten["id"]).json
    assert listed["total"] == 1
    assert listed["items"][0]["order_number"] == order["number"]
    assert listed["items"][0]["amount"] == "3.30"
    # the limited coupon counts on its row, the other does not need to
    assert dbsession.get(Coupon, ten["id"]).times_used == 1
    assert dbsession.get(Coupon, five["id"]).times_used == 0
    assert dbsession.scalar(sa.select(CustomerUse.times_used).where(
        CustomerUse.coupon_id == ten["id"], CustomerUse.user_id == buyer.user.id)) == 1


def test_a_discounted_order_is_refunded_exactly_line_by_line(coupons, buyer, red, blue,
                                                             desk):
    coupons.make("THIRD", percent="33.33")
    buyer.add(red, 3)   # 37.50
    buyer.add(blue, 1)  # 13.00
    order = buyer.place(body("THIRD")).json
    # 33.33 % of 50.50 = 16.83165: 16.83, spread 37.50 : 13.00
    assert discounts(order) == {"THIRD": "16.83"}
    shares = [item["discount"] for item in order["items"]]
    assert shares == ["12.50", "4.33"] and order["total"] == "33.67"
    desk.act(order["number"], "mark-paid")
    red_line, blue_line = order["items"]
    refunded = desk.act(order["number"], "refund", {
        "lines": [{"id": blue_line["id"], "quantity": 1}]}).json
    assert refunded["refunded"] == "8.67"  # 13.00 - 4.33
    refunded = desk.act(order["number"], "refund", {
        "lines": [{"id": red_line["id"], "quantity": 1}]}).json
    # a third of the red line (37.50 - 12.50 = 25.00): 8.33
    assert refunded["refunded"] == "17.00"
    refunded = desk.act(order["number"], "refund", {
        "lines": [{"id": red_line["id"], "quantity": 2}]}).json
    assert refunded["refunded"] == "33.67" and refunded["refundable"] == "0.00"


def test_cancelling_gives_the_use_back(coupons, buyer, make_buyer, red, dbsession,
                                       coupon_row):
    coupon = coupons.make("LAST", usage_limit=1, per_customer_limit=1)
    buyer.add(red, 1)
    number = buyer.place(body("LAST")).json["number"]
    assert coupon_row(coupon["id"]).times_used == 1
    other = make_buyer()
    other.add(red, 1)
    assert_error(other.place(body("LAST"), status=422), 422, "checkout_invalid")

    buyer.cancel(number)
    [use] = uses_of(dbsession, coupon["id"])
    assert use.released_at is not None
    assert coupon_row(coupon["id"]).times_used == 0
    assert dbsession.scalar(sa.select(CustomerUse.times_used).where(
        CustomerUse.user_id == buyer.user.id)) == 0
    seen = coupons.get(coupon["id"]).json
    assert (seen["uses"], seen["released"], seen["discount_total"]) == (0, 1, "0.00")
    assert seen["codes"]["used"] == 0
    # the use is free again: the other customer, and the first one too
    other.place(body("LAST"))
    assert coupon_row(coupon["id"]).times_used == 1


def test_a_failed_order_gives_the_use_back(coupons, buyer, red, ctx, dbsession, coupon_row):
    coupon = coupons.make(None, usage_limit=5)
    [code] = coupons.generate(coupon["id"], count=1).json["codes"]
    buyer.add(red, 1)
    number = buyer.place(body(code)).json["number"]
    later = utcnow() + dt.timedelta(days=30)
    assert orders.fail_stale_orders(ctx, now=later) == [number]
    ctx.dbsession.flush()
    use = ctx.dbsession.scalars(sa.select(Redemption).where(
        Redemption.coupon_id == coupon["id"])).one()
    assert use.released_at is not None
    assert ctx.dbsession.get(Coupon, coupon["id"]).times_used == 0
    assert ctx.dbsession.scalars(sa.select(Code.times_used).where(Code.code == code)).one() == 0


class Meanwhile:
    """Another order takes what the checkout saw, between the checkout and the record
    (phase 6 runs after the coupons' checks and before ``order_placed``)."""

    def __init__(self, change):
        self.change = change

    @hookimpl
    def checkout_tenders(self, checkout):
        if checkout.placing:
            checkout.dbsession.execute(self.change)


def test_a_use_taken_meanwhile_refuses_the_order(coupons, buyer, red, register_hooks,
                                                 dbsession, stock):
    coupon = coupons.make("LAST", usage_limit=3)
    buyer.add(red, 1)
    register_hooks(Meanwhile(sa.update(Coupon).where(Coupon.id == coupon["id"])
                             .values(times_used=3)))
    response = buyer.place(body("LAST"), status=422)
    assert_error(response, 422, "coupon_limit_reached")
    error = response.json["error"]
    assert error["errors"][0]["coupon"] == "LAST"
    assert error["fields"] == {"coupon_codes": ["The coupon LAST has been used up meanwhile."]}
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert uses_of(dbsession, coupon["id"]) == []
    assert stock(red).reserved == 0


def test_a_single_use_code_taken_meanwhile_refuses_the_order(coupons, buyer, red,
                                                             register_hooks, dbsession):
    coupon = coupons.make(None)
    [code] = coupons.generate(coupon["id"], count=1).json["codes"]
    buyer.add(red, 1)
    register_hooks(Meanwhile(sa.update(Code).where(Code.code == code).values(times_used=1)))
    assert_error(buyer.place(body(code.lower()), status=422), 422, "coupon_limit_reached")
    assert uses_of(dbsession, coupon["id"]) == []


def test_the_customer_limit_is_held_at_placement(coupons, buyer, red, register_hooks):
    coupon = coupons.make("ONCEEACH", per_customer_limit=1)
    buyer.add(red, 1)
    register_hooks(Meanwhile(sa.insert(CustomerUse).values(
        coupon_id=coupon["id"], user_id=buyer.user.id, times_used=1)))
    assert_error(buyer.place(body("ONCEEACH"), status=422), 422,
                 "coupon_customer_limit_reached")


def test_deactivated_meanwhile_refuses_the_order(coupons, buyer, red, register_hooks):
    coupon = coupons.make("GONE")
    buyer.add(red, 1)
    register_hooks(Meanwhile(sa.update(Coupon).where(Coupon.id == coupon["id"])
                             .values(is_active=False)))
    assert_error(buyer.place(body("GONE"), status=422), 422, "coupon_inactive")


def test_a_limit_set_later_counts_the_earlier_uses(coupons, make_buyer, red, coupon_row):
    coupon = coupons.make("OPEN")
    for _ in range(2):
        customer = make_buyer()
        customer.add(red, 1)
        customer.place(body("OPEN"))
    assert coupon_row(coupon["id"]).times_used == 0  # no limit: not counted on the row
    response = coupons.patch(coupon["id"], usage_limit=1, status=422)
    assert_error(response, 422, "usage_limit_below_uses")
    assert response.json["error"]["uses"] == 2
    assert coupons.patch(coupon["id"], usage_limit=3).json["usage_limit"] == 3
    assert coupon_row(coupon["id"]).times_used == 2
    third = make_buyer()
    third.add(red, 1)
    third.place(body("OPEN"))
    fourth = make_buyer()
    fourth.add(red, 1)
    assert_error(fourth.place(body("OPEN"), status=422), 422, "checkout_invalid")
    assert coupon_row(coupon["id"]).times_used == 3
    # lifting the limit again lets every order through, without counting on the row
    coupons.patch(coupon["id"], usage_limit=None)
    fourth.place(body("OPEN"))
    assert coupons.get(coupon["id"]).json["uses"] == 4
