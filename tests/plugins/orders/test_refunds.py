"""Refunds: full or partial, by amount or by units, to the tenders first and then through
the provider, never more than was paid, exact to the cent."""
import pytest

from core.money import Money

from .conftest import ADDRESS, PROBE, assert_error

WITH_CARD = {"shipping_address": ADDRESS, "shipping_method": "standard",
             "payment_method": "probe_pay", "gift_card_codes": ["GC"],
             "coupon_codes": ["TENOFF"]}


def cents(value):
    return Money.from_decimal(value, "EUR").amount


@pytest.fixture
def paid_order(make_order, red, blue):
    """The number of a manual order for 3 red (37.50) and 1 blue (13.00), paid."""
    return make_order(items=[(red, 3), (blue, 1)]).number


def test_a_partial_refund_then_the_rest(paid_order, desk):
    order = desk.act(paid_order, "refund", {"amount": "10.05", "note": "scratched"}).json
    assert order["status"] == "processing"
    assert order["refunded"] == "10.05" and order["refundable"] == "40.45"
    assert order["refunds"][0]["note"] == "scratched"
    assert_error(desk.act(paid_order, "refund", {"amount": "40.46"}, status=422), 422,
                 "refund_too_large")
    order = desk.act(paid_order, "refund").json
    assert order["refunded"] == "50.50" and order["refundable"] == "0.00"
    assert order["status"] == "processing"  # money back, but the order goes on
    assert_error(desk.act(paid_order, "refund", status=409), 409, "nothing_to_refund")


@pytest.mark.parametrize("body, code", [
    ({"amount": "0"}, "invalid"), ({"amount": "-1"}, "invalid"),
    ({"amount": "1.001"}, "invalid"), ({"amount": 1.5}, "invalid"),
    ({"amount": "1", "lines": [{"id": 1, "quantity": 1}]}, "invalid"),
    ({"lines": []}, "invalid"), ({"lines": [{"id": 1}]}, "invalid"),
    ({"lines": [{"id": 999999, "quantity": 1}]}, "invalid"),
])
def test_bad_refunds_are_400(paid_order, desk, body, code):
    assert_error(desk.act(paid_order, "refund", body, status=400), 400, code)
    assert desk.get(paid_order).json["refunded"] == "0.00"


def test_an_unpaid_order_is_cancelled_not_refunded(buyer, red, desk):
    buyer.add(red, 1)
    number = buyer.place().json["number"]
    assert_error(desk.act(number, "refund", status=409), 409, "not_paid")


def test_refunding_units_gives_back_exactly_what_they_cost(buyer, red, blue, desk, probe):
    probe.card("GC", 1000)
    buyer.add(red, 3)
    buyer.add(blue, 1)
    order = buyer.place(dict(WITH_CARD, coupon_codes=["LINE5", "TENOFF"])).json
    number = order["number"]
    red_line, blue_line = order["items"]
    # 10 % off, spread over the lines, and 20 % tax on them: cents do not divide by 3
    paid_for_red = cents(red_line["total"]) - cents(red_line["discount"]) + cents(
        red_line["tax"])
    assert paid_for_red == 3467  # 37.50 - 5.00 - 3.61 + 5.78 tax: not a multiple of 3
    _pay(desk, probe, number)
    parts = []
    for _ in range(3):
        before = cents(desk.get(number).json["refunded"])
        after = desk.act(number, "refund", {"lines": [{"id": red_line["id"], "quantity": 1}]})
        parts.append(cents(after.json["refunded"]) - before)
    assert sum(parts) == paid_for_red and max(parts) - min(parts) <= 1
    assert_error(desk.act(number, "refund", {"lines": [{"id": red_line["id"],
                                                         "quantity": 1}]}, status=422),
                 422, "refund_too_large")
    item = desk.get(number).json["items"][0]
    assert item["refunded_quantity"] == 3


def _pay(desk, probe, number):
    """The probe provider reports the payment (as its webhook would)."""
    import transaction

    from core.db import get_tm_session
    from core.tasks import TaskContext
    from plugins.orders import payments

    registry = desk.testapp.app.registry
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        ctx = TaskContext(registry, dbsession, manager, registry["plugins"].current(), None)
        assert payments.payment_succeeded(ctx, "probe_pay", f"pp_{number}") == "paid"


def test_refunds_go_to_the_tenders_first_then_to_the_provider(buyer, red, desk, probe):
    probe.card("GC", 1000)
    buyer.add(red, 2)
    order = buyer.place(WITH_CARD).json
    number = order["number"]
    # 25.00 - 2.50 + 4.90 = 27.40, + 20 % = 32.88; 10.00 from the card
    assert (order["total"], order["tender_total"], order["amount_due"]) == (
        "32.88", "10.00", "22.88")
    assert probe.balance("GC") == 0
    _pay(desk, probe, number)
    desk.act(number, "refund", {"amount": "20.00"})  # 10.00 to the card, 10.00 provider
    assert probe.balance("GC") == 1000 and probe.ledger("GC") == [-1000, 1000]
    order = desk.act(number, "refund", {"amount": "5.00"}).json
    assert probe.balance("GC") == 1000
    assert [(r["amount"], r["provider_amount"], r["tenders"]) for r in order["refunds"]] == [
        ("20.00", "10.00", [{"source": "checkout_probe", "code": "GC", "amount": "10.00"}]),
        ("5.00", "5.00", [])]
    assert [p for p in probe.payments if p[0] == "refund"] == [
        ("refund", number, "10.00"), ("refund", number, "5.00")]
    assert ("refunded", number, "20.00") in probe.events
    order = desk.act(number, "refund").json
    assert order["refunded"] == "32.88" and order["payments"][0]["refunded"] == "22.88"
    assert probe.payments[-1] == ("refund", number, "7.88")
    assert probe.ledger("GC") == [-1000, 1000]


def test_a_refund_the_card_covers_never_reaches_the_provider(buyer, red, desk, probe):
    probe.card("GC", 1000)
    buyer.add(red, 2)
    number = buyer.place(WITH_CARD).json["number"]
    _pay(desk, probe, number)
    order = desk.act(number, "refund", {"amount": "4.00"}).json
    [refund] = order["refunds"]
    assert (refund["provider_amount"], refund["provider"]) == ("0.00", None)
    assert refund["tenders"] == [{"source": "checkout_probe", "code": "GC", "amount": "4.00"}]
    assert order["payments"][0]["refunded"] == "0.00"
    assert [p for p in probe.payments if p[0] == "refund"] == []
    assert probe.balance("GC") == 400 and probe.ledger("GC") == [-1000, 400]


def test_a_refund_to_a_tender_of_a_disabled_plugin_is_refused(buyer, red, desk, probe,
                                                              plugin_lifecycle):
    probe.card("GC", 1000)
    buyer.add(red, 2)
    number = buyer.place(dict(WITH_CARD, payment_method="manual")).json["number"]
    desk.act(number, "mark-paid")
    plugin_lifecycle("disable", PROBE)
    for body in ({"amount": "4.00"}, {"amount": "20.00"}, {}):
        response = desk.act(number, "refund", body, status=409)
        assert_error(response, 409, "tender_unavailable")
        assert response.json["error"]["plugin"] == PROBE
        assert PROBE in response.json["error"]["message"]
    order = desk.get(number).json
    assert (order["refunded"], order["refunds"], order["payments"][0]["refunded"]) == (
        "0.00", [], "0.00")
    assert order["status"] == "processing"
    assert probe.balance("GC") == 0 and probe.ledger("GC") == [-1000]
    plugin_lifecycle("enable", PROBE)
    order = desk.act(number, "refund", {"amount": "4.00"}).json
    assert order["refunded"] == "4.00" and probe.balance("GC") == 400


def test_a_cancelled_unpaid_order_gives_the_gift_card_back(buyer, red, probe, stock):
    probe.card("GC", 1000)
    buyer.add(red, 1)
    number = buyer.place(WITH_CARD).json["number"]
    assert probe.balance("GC") == 0
    order = buyer.cancel(number).json
    assert order["status"] == "refunded" and order["refunded"] == "10.00"
    assert probe.balance("GC") == 1000 and probe.ledger("GC") == [-1000, 1000]
    assert ("cancel", number, None) in probe.payments
    assert stock(red).reserved == 0


def test_a_tender_paid_order_is_refunded_to_the_tender(buyer, red, probe, desk):
    probe.card("GC", 100000)
    buyer.add(red, 1)
    order = buyer.place(WITH_CARD).json
    assert order["status"] == "processing" and order["payment"]["status"] == "not_required"
    order = desk.act(order["number"], "refund", {"amount": "1.00"}).json
    assert order["refunds"][0]["provider_amount"] == "0.00"
    assert probe.balance("GC") == 100000 - cents(order["total"]) + 100
