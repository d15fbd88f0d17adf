"""Shipments: an order shipped in parts and delivered in parts, the order states they
cause (through the orders plugin's services), the order desk's own ship and deliver,
tracking links, mails, and every refusal."""
import sqlalchemy as sa

from plugins.shipping.models import ShippingShipment

from .conftest import API, GB, assert_error


def statuses(desk, number):
    return [(h["from"], h["to"], h["by"]) for h in desk.get(number).json["status_history"]]


def count_shipments(dbsession):
    dbsession.expire_all()
    return dbsession.scalar(sa.select(sa.func.count()).select_from(ShippingShipment))


def test_an_order_ships_in_parts_and_is_delivered_in_parts(shipping, paid_order, red, blue,
                                                          desk, buyer, mails, stock):
    number = paid_order({red: 3, blue: 1})
    items = {item["variant_id"]: item["id"] for item in desk.get(number).json["items"]}
    order = shipping.ship(number, {"items": [{"item_id": items[red], "quantity": 2}],
                                   "carrier": "dhl", "tracking_number": "JJD 01/2",
                                   "note": "first box"}).json
    assert order["status"] == "processing"
    fulfillment = order["fulfillment"]
    assert fulfillment["status"] == "partially_shipped"
    assert fulfillment["items"] == [
        {"item_id": items[red], "quantity": 3, "shipped": 2, "remaining": 1},
        {"item_id": items[blue], "quantity": 1, "shipped": 0, "remaining": 1}]
    first = fulfillment["shipments"][0]
    assert (first["carrier"], first["tracking_number"], first["delivered_at"]) == (
        "DHL", "JJD 01/2", None)
    assert first["tracking_url"] == ("https://www.dhl.com/global-en/home/tracking.html"
                                     "?tracking-id=JJD%2001%2F2")
    assert [(i["item_id"], i["quantity"]) for i in first["items"]] == [(items[red], 2)]
    assert order["shipments"] == []  # the orders plugin's own list: nothing until it ships
    [mail] = mails("shipping/shipment_sent")
    assert mail.recipient == buyer.user.email and number in mail.subject
    assert "2 x Mug" in mail.body_text and "JJD%2001%2F2" in mail.body_text
    assert "2 more units will follow" in mail.body_text
    assert mails("orders/order_shipped") == []

    # without items: every unit left, which ships the order
    order = shipping.ship(number, {"carrier": "UPS", "tracking_number": "1Z999"}).json
    assert order["status"] == "shipped"
    assert order["fulfillment"]["status"] == "shipped"
    assert [i["remaining"] for i in order["fulfillment"]["items"]] == [0, 0]
    second = order["fulfillment"]["shipments"][1]
    assert [(i["item_id"], i["quantity"]) for i in second["items"]] == [
        (items[red], 1), (items[blue], 1)]
    assert second["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999"
    assert [(s["carrier"], s["tracking_number"]) for s in order["shipments"]] == [
        ("UPS", "1Z999")]
    assert order["shipments"][0]["tracking_url"] == second["tracking_url"]
    [shipped] = mails("orders/order_shipped")
    assert "Follow it: https://www.ups.com/track?tracknum=1Z999" in shipped.body_text
    assert len(mails("shipping/shipment_sent")) == 1  # not for the last parcel
    assert (stock(red).on_hand, stock(red).reserved) == (7, 0)  # sold when paid; unchanged

    # the customer sees both parcels
    seen = buyer.order(number).json["fulfillment"]
    assert [s["tracking_number"] for s in seen["shipments"]] == ["JJD 01/2", "1Z999"]
    assert "note" not in seen["shipments"][0] and "user_id" not in seen["shipments"][0]

    order = shipping.deliver(number, first["id"]).json
    assert order["status"] == "shipped" and order["fulfillment"]["status"] == "shipped"
    order = shipping.deliver(number, second["id"]).json
    assert order["status"] == "delivered" and order["fulfillment"]["status"] == "delivered"
    assert all(s["delivered_at"] for s in order["fulfillment"]["shipments"])
    assert order["shipments"][0]["delivered_at"]
    assert statuses(desk, number)[-3:] == [("payment_pending", "processing", "staff"),
                                           ("processing", "shipped", "staff"),
                                           ("shipped", "delivered", "staff")]
    assert len(mails("orders/order_delivered")) == 1


def test_a_parcel_may_arrive_before_the_rest_leaves(shipping, paid_order, red, desk):
    number = paid_order({red: 2})
    item = desk.get(number).json["items"][0]["id"]
    order = shipping.ship(number, {"items": [{"item_id": item, "quantity": 1}]}).json
    first = order["fulfillment"]["shipments"][0]["id"]
    order = shipping.deliver(number, first).json
    assert order["status"] == "processing"
    assert order["fulfillment"]["status"] == "partially_shipped"
    order = shipping.ship(number, {"items": [{"item_id": item, "quantity": 1}]}).json
    assert order["status"] == "shipped" and order["fulfillment"]["status"] == "shipped"
    second = order["fulfillment"]["shipments"][1]["id"]
    assert shipping.deliver(number, second).json["status"] == "delivered"


def test_the_staff_view_of_shipments(shipping, paid_order, red, desk, staff):
    number = paid_order({red: 2})
    shipping.ship(number, {"items": [{"item_id": desk.get(number).json["items"][0]["id"],
                                      "quantity": 1}], "note": "fragile"})
    view = shipping.shipments(number.lower()).json
    assert (view["number"], view["order_status"], view["status"]) == (
        number, "processing", "partially_shipped")
    assert view["shipments"][0]["note"] == "fragile"
    assert view["shipments"][0]["user_id"] == staff.id
    shipping.shipments("EM-NOPE-NOPE", status=404)


def test_tracking_links_come_from_the_carriers_templates(shipping, paid_order, red, desk):
    shipping.call("post", "/shipping/carriers", {
        "code": "parcelco", "name": "Parcel Co", "tracking_url":
            "https://parcel.example/t/{tracking_number}?lang=en"}, status=201)
    shipping.call("post", "/shipping/carriers", {"code": "bike", "name": "Bike courier"},
                  status=201)
    number = paid_order({red: 5})
    item = desk.get(number).json["items"][0]["id"]

    def ship(**body):
        order = shipping.ship(number, {"items": [{"item_id": item, "quantity": 1}],
                                       **body}).json
        return order["fulfillment"]["shipments"][-1]

    found = ship(carrier="parcel co", tracking_number="A&B?")
    assert (found["carrier"], found["tracking_url"]) == (
        "Parcel Co", "https://parcel.example/t/A%26B%3F?lang=en")
    assert ship(carrier="Somebody", tracking_number="X1")["tracking_url"] is None
    assert ship(carrier="bike", tracking_number="X1")["tracking_url"] is None
    assert ship(carrier="PARCELCO")["tracking_url"] is None  # no number, no link
    given = ship(carrier="parcelco", tracking_number="X1",
                 tracking_url="https://elsewhere.example/X1")
    assert given["tracking_url"] == "https://elsewhere.example/X1"


def test_no_partial_mail_when_the_setting_is_off(shipping, paid_order, red, desk, mails,
                                                 shipping_settings):
    shipping_settings(mail_partial_shipments=False)
    number = paid_order({red: 2})
    shipping.ship(number, {"items": [{"item_id": desk.get(number).json["items"][0]["id"],
                                      "quantity": 1}]})
    assert mails("shipping/shipment_sent") == []


def test_shipping_refuses_what_it_cannot_do_and_writes_nothing(shipping, uk, buyer, desk,
                                                               red, blue, dbsession):
    buyer.add(red, 2)
    buyer.add(blue, 1)
    number = buyer.place({"shipping_address": GB, "shipping_method":
                          "standard"}).json["number"]
    assert_error(shipping.ship(number, status=409), 409, "not_paid")
    desk.act(number, "mark-paid")
    items = [item["id"] for item in desk.get(number).json["items"]]
    other = buyer_with_order(buyer, red)
    for body, status, code in [
        ({"items": [{"item_id": items[0], "quantity": 3}]}, 422,
         "quantity_exceeds_remaining"),
        ({"items": [{"item_id": other, "quantity": 1}]}, 400, "invalid"),
        ({"items": [{"item_id": items[0], "quantity": 1},
                    {"item_id": items[0], "quantity": 1}]}, 400, "invalid"),
        ({"items": [{"item_id": items[0], "quantity": 0}]}, 400, "invalid"),
        ({"items": [{"item_id": items[0], "quantity": "1"}]}, 400, "invalid"),
        ({"items": [{"item_id": items[0], "quantity": 1.0}]}, 400, "invalid"),
        ({"items": []}, 400, "invalid"),
        ({"items": None}, 400, "invalid"),
        ({"items": [{"item_id": items[0]}]}, 400, "invalid"),
        ({"carrier": "x" * 101}, 400, "invalid"),
        ({"tracking_number": "\x00"}, 400, "invalid"),
        ({"tracking_url": "javascript:alert(1)"}, 400, "invalid"),
        ({"tracking_url": "ftp://files.example/x"}, 400, "invalid"),
        ({"note": 5}, 400, "invalid"),
        ({"status": "shipped"}, 400, "invalid"),
    ]:
        response = shipping.ship(number, body, status=status)
        assert response.json["error"]["code"] in (code, "bad_request"), (body, response.json)
    response = shipping.ship(number, {"items": [{"item_id": items[0], "quantity": 3}]},
                             status=422)
    assert response.json["error"]["fields"] == {"items.0.quantity": ["At most 2."]}
    response = shipping.testapp.post(f"{API}/shipping/orders/{number}/shipments", "{nope",
                                     headers=dict(shipping.headers,
                                                  **{"Content-Type": "application/json"}),
                                     status=400)
    assert response.json["error"]["code"] == "invalid_json"
    assert count_shipments(dbsession) == 0
    assert desk.get(number).json["status"] == "processing"
    assert_error(shipping.ship("EM-NOPE-NOPE", status=404), 404, "order_not_found")
    shipping.ship("EM%00", status=404)

    shipping.ship(number)
    assert_error(shipping.ship(number, status=409), 409, "already_shipped")
    shipment = shipping.shipments(number).json["shipments"][0]["id"]
    assert_error(shipping.deliver(number, 999999, status=404), 404, "shipment_not_found")
    assert_error(shipping.deliver(number, "abc", status=404), 404, "shipment_not_found")
    shipping.deliver(number, shipment)
    assert_error(shipping.deliver(number, shipment, status=409), 409, "already_delivered")


def buyer_with_order(buyer, variant_id):
    """The id of an item of another order of the same customer."""
    buyer.add(variant_id, 1)
    return buyer.place({"shipping_address": GB, "shipping_method": "standard"}
                       ).json["items"][0]["id"]


def test_a_cancelled_order_does_not_ship(shipping, uk, buyer, red, desk):
    buyer.add(red, 1)
    number = buyer.place({"shipping_address": GB, "shipping_method":
                          "standard"}).json["number"]
    buyer.cancel(number)
    assert_error(shipping.ship(number, status=409), 409, "not_shippable")
    assert_error(shipping.deliver(number, 1, status=404), 404, "shipment_not_found")


def test_only_staff_ship(shipping, paid_order, red, testapp, customer):
    number = paid_order({red: 1})
    url = f"{API}/shipping/orders/{number}/shipments"
    testapp.post_json(url, {}, status=401)
    testapp.post_json(url, {}, headers=customer.headers, status=403)
    testapp.get(url, headers=customer.headers, status=403)
    testapp.post_json(f"{url}/1/deliver", {}, headers=customer.headers, status=403)


def test_the_order_desks_ship_and_deliver_keep_the_shipments_in_step(shipping, paid_order,
                                                                    red, blue, desk, mails):
    number = paid_order({red: 2, blue: 1})
    order = desk.act(number, "ship", {"carrier": "fedex", "tracking_number": "7777",
                                      "note": "all in one"}).json
    assert order["status"] == "shipped"
    [shipment] = order["fulfillment"]["shipments"]
    assert [i["quantity"] for i in shipment["items"]] == [2, 1]
    assert shipment["carrier"] == "fedex"
    assert shipment["tracking_url"] == "https://www.fedex.com/fedextrack/?trknbr=7777"
    # the carrier's tracking page reaches the order and its shipped mail
    assert order["shipments"][0]["tracking_url"] == shipment["tracking_url"]
    [shipped] = mails("orders/order_shipped")
    assert f'href="{shipment["tracking_url"]}"' in shipped.body_html
    assert order["fulfillment"]["status"] == "shipped"
    order = desk.act(number, "deliver").json
    assert order["fulfillment"]["status"] == "delivered"
    assert order["fulfillment"]["shipments"][0]["delivered_at"]


def test_the_order_desk_ships_what_is_left_of_a_partly_shipped_order(shipping, paid_order,
                                                                     red, blue, desk):
    number = paid_order({red: 2, blue: 1})
    red_item = desk.get(number).json["items"][0]["id"]
    shipping.ship(number, {"items": [{"item_id": red_item, "quantity": 1}]})
    order = desk.act(number, "ship", {"carrier": "DHL"}).json
    assert order["status"] == "shipped"
    second = order["fulfillment"]["shipments"][1]
    assert [(i["name"], i["quantity"]) for i in second["items"]] == [("Mug", 1), ("Mug", 1)]
    assert [i["remaining"] for i in order["fulfillment"]["items"]] == [0, 0]


def test_a_partly_shipped_order_cannot_be_cancelled(shipping, paid_order, red, desk, buyer,
                                                    stock):
    number = paid_order({red: 2})
    item = desk.get(number).json["items"][0]["id"]
    shipping.ship(number, {"items": [{"item_id": item, "quantity": 1}]})
    assert_error(buyer.cancel(number, status=409), 409, "partially_shipped")
    assert_error(desk.act(number, "cancel", status=409), 409, "partially_shipped")
    order = desk.get(number).json
    assert order["status"] == "processing" and order["refunded"] == "0.00"
    assert (stock(red).on_hand, stock(red).reserved) == (8, 0)


def test_a_paid_order_with_nothing_shipped_can_still_be_cancelled(shipping, paid_order, red,
                                                                  buyer):
    number = paid_order({red: 1})
    assert buyer.cancel(number).json["status"] in ("cancelled", "refunded")


def test_refunding_the_units_left_ships_a_partly_shipped_order(shipping, paid_order, red,
                                                               blue, desk, mails):
    number = paid_order({red: 3, blue: 1})
    items = [item["id"] for item in desk.get(number).json["items"]]
    shipping.ship(number, {"items": [{"item_id": items[0], "quantity": 3}],
                           "carrier": "DHL", "tracking_number": "JJD1"})
    order = desk.act(number, "refund", {"lines": [{"id": items[1], "quantity": 1}]}).json
    assert order["status"] == "shipped"
    assert order["fulfillment"]["status"] == "shipped"
    assert [i["remaining"] for i in order["fulfillment"]["items"]] == [0, 0]
    assert order["status_history"][-1]["note"] == "the units not shipped were refunded"
    # units refunded before anything shipped need no shipping either, but the order
    # waits for a shipment to say it left
    other = paid_order({red: 2})
    line = desk.get(other).json["items"][0]["id"]
    desk.act(other, "refund", {"lines": [{"id": line, "quantity": 1}]})
    assert desk.get(other).json["status"] == "processing"
    order = shipping.ship(other).json
    assert order["status"] == "shipped"
    assert order["fulfillment"]["shipments"][0]["items"][0]["quantity"] == 1


def test_a_returned_orders_shipments_cannot_be_delivered(shipping, paid_order, red):
    number = paid_order({red: 1})
    shipment = shipping.ship(number).json["fulfillment"]["shipments"][0]["id"]
    shipping.call("post", f"/admin/orders/{number}/return", {})
    assert_error(shipping.deliver(number, shipment, status=409), 409, "not_deliverable")
