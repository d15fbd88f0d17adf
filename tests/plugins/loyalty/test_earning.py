"""Points are earned when an order is paid, on the goods after discounts (not shipping,
tax or the part paid with points), and the quote says how many an order would earn."""
import datetime as dt

from core.db import utcnow

from .conftest import ADDRESS


def test_a_paid_order_earns_a_point_per_unit_spent(loyalty, buyer, desk, red):
    buyer.add(red, 2)  # 25.00
    quote = buyer.quote({"shipping_address": ADDRESS}).json
    assert quote["loyalty"] == {"points_earned": 25, "points_redeemed": 0,
                                "points_value": "0.00", "balance": 0}
    order = buyer.place().json
    # nothing is earned before the money arrives
    assert order["loyalty"]["points_earned"] == 0 and order["loyalty"]["points_pending"] == 25
    assert loyalty.balance(buyer.user) == 0

    paid = desk.act(order["number"], "mark-paid").json
    assert paid["loyalty"]["points_earned"] == 25 and paid["loyalty"]["points_pending"] == 0
    assert loyalty.ledger(buyer.user) == [("earned", 25)]
    me = loyalty.me(buyer.user).json
    assert me["balance"] == 25 and me["balance_value"] == "0.25" and me["currency"] == "EUR"
    entry = me["history"]["items"][0]
    assert entry["kind"] == "earned" and entry["order_number"] == order["number"]
    expires = dt.datetime.fromisoformat(entry["expires_at"])
    assert dt.timedelta(days=360) < expires - utcnow() < dt.timedelta(days=370)
    assert me["expiring_next"] == {"points": 25, "expires_at": entry["expires_at"]}
    # the customer's order shows what it earned too
    assert buyer.order(order["number"]).json["loyalty"]["points_earned"] == 25
    loyalty.assert_consistent(buyer.user)


def test_the_rate_rounds_down_and_may_be_fractional(loyalty, buyer, red, blue, make_order):
    loyalty.settings(points_per_unit="1.5")
    buyer.add(red, 1)
    buyer.add(blue, 1)  # 25.50 * 1.5 = 38.25
    assert buyer.quote({"shipping_address": ADDRESS}).json["loyalty"]["points_earned"] == 38
    make_order(customer=buyer.user)
    assert loyalty.ledger(buyer.user) == [("earned", 38)]


def test_discounts_shipping_and_tax_do_not_earn(loyalty, buyer, red, probe, make_order):
    buyer.add(red, 2)  # 25.00, 10 % off: 22.50; shipping 4.90 and 20 % tax on top
    body = {"shipping_address": ADDRESS, "shipping_method": "standard",
            "coupon_codes": ["TENOFF"]}
    quote = buyer.quote(body).json
    assert quote["total"] == "32.88" and quote["loyalty"]["points_earned"] == 22
    make_order(customer=buyer.user, **body)
    assert loyalty.ledger(buyer.user) == [("earned", 22)]


def test_no_points_without_a_rate_or_before_payment(loyalty, buyer, red, make_order):
    buyer.add(red, 1)
    number = buyer.place().json["number"]
    buyer.cancel(number)
    assert loyalty.ledger(buyer.user) == []
    loyalty.settings(points_per_unit="0")
    buyer.add(red, 1)
    make_order(customer=buyer.user)
    assert loyalty.ledger(buyer.user) == []


def test_a_disabled_plugin_earns_nothing_and_its_api_is_gone(loyalty, plugin_lifecycle,
                                                             buyer, red, make_order):
    plugin_lifecycle("disable", "loyalty")
    buyer.add(red, 1)
    number = make_order(customer=buyer.user).number
    assert "loyalty" not in buyer.order(number).json
    loyalty.me(buyer.user, status=404)
    assert loyalty.ledger(buyer.user) == []


def test_expiry_months_zero_means_never(loyalty, buyer, red, make_order):
    loyalty.settings(expiry_months=0)
    buyer.add(red, 1)
    make_order(customer=buyer.user)
    me = loyalty.me(buyer.user).json
    assert me["history"]["items"][0]["expires_at"] is None and me["expiring_next"] is None
