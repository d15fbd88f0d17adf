"""Shipping's admin pages: zones and methods from forms, carriers, shipping an order in
parts and marking parcels delivered, the menu and the dashboard widget."""
import pytest
import sqlalchemy as sa

from plugins.shipping.models import ShippingMethod, ShippingZone
from tests.core.admin.conftest import Admin, text_of

from .conftest import GB


@pytest.fixture
def admin(testapp, staff, shipping):
    client = Admin(testapp)
    client.login(staff)
    client.user = staff
    return client


def errors(page):
    return {p.find_parent(class_="field").find(["input", "textarea", "select"])["name"]:
            p.get_text() for p in page.html.select(".field .field-error")}


def test_the_menu_and_the_dashboard(admin, shipping, paid_order, red, desk, plugin_lifecycle):
    menu = admin.menu()
    assert {"Shipments", "Shipping zones", "Carriers"} <= set(menu)
    number = paid_order({red: 2})
    shipping.ship(number, {"items": [{"item_id": desk.get(number).json["items"][0]["id"],
                                      "quantity": 1}]})
    dashboard = admin.get("/admin")
    assert "Partly shipped orders" in text_of(dashboard) and number in text_of(dashboard)
    plugin_lifecycle("disable", "shipping")
    assert "Shipping zones" not in admin.menu()
    admin.get("/admin/shipping/zones", status=404)


def test_create_a_zone_and_its_methods(admin, dbsession):
    page = admin.get("/admin/shipping/zones")
    assert "No zone yet" in text_of(page)
    form = admin.form(page, "/admin/shipping/zones")
    form["name"] = "Europe"
    form["areas"] = "de\nFR\n\nUS: Hawaii\r\nxx"
    page = form.submit(status=400)
    assert "areas" in errors(page) and "ISO 3166-1" in errors(page)["areas"]
    form = admin.form(page, "/admin/shipping/zones")
    assert form["areas"].value.startswith("de")  # what was typed comes back
    form["areas"] = "de\nFR\nUS: Hawaii"
    response = form.submit(status=303)
    zone = dbsession.scalars(sa.select(ShippingZone).where(ShippingZone.name == "Europe")).one()
    assert [(a.country, a.region) for a in zone.areas] == [("DE", ""), ("FR", ""),
                                                           ("US", "Hawaii")]
    page = response.follow()
    assert admin.flashes(page) == ["Zone “Europe” created; add its methods."]

    form = admin.form(page, f"/admin/shipping/zones/{zone.id}/methods")
    form["code"], form["name"], form["kind"] = "parcel", "Parcel", "weight"
    form["tiers"] = "0 = 4.90\n2001 = 6.5"
    form["max_weight_grams"] = "31500"
    form["min_days"], form["max_days"] = "2", "3"
    page = form.submit(status=303).follow()
    method = dbsession.scalars(sa.select(ShippingMethod).where(
        ShippingMethod.code == "parcel")).one()
    assert [(t.threshold, t.price) for t in method.tiers] == [(0, 490), (2001, 650)]
    assert "from 2001 g: 6.50" in text_of(page)

    form = admin.form(page, f"/admin/shipping/zones/{zone.id}/methods")
    form["code"], form["name"], form["kind"] = "parcel", "Again", "flat"
    form["min_days"], form["max_days"] = "2", "1"
    page = form.submit(status=400)
    assert set(errors(page)) == {"price", "max_days"}

    # the zone's own form; an area of another zone is refused with its name
    admin.post("/admin/shipping/zones", {"name": "Germany", "areas": "DE",
                                         "is_active": "1"}, status=409)
    page = admin.get(f"/admin/shipping/zones/{zone.id}")
    form = admin.form(page, f"/admin/shipping/zones/{zone.id}")
    form["name"] = "EU"
    form["areas"] = "DE\nIT"
    form["is_active"] = False
    form.submit(status=303)
    dbsession.expire_all()
    assert (zone.name, zone.is_active, [a.country for a in zone.areas]) == (
        "EU", False, ["DE", "IT"])


def test_edit_and_delete_a_method_and_a_zone(admin, shipping, dbsession):
    zone = shipping.zone("UK", ["GB"])
    method = shipping.method(zone, "standard", price="4.90")
    page = admin.get(f"/admin/shipping/methods/{method['id']}")
    form = admin.form(page, f"/admin/shipping/methods/{method['id']}")
    assert form["price"].value == "4.90" and form["code"].value == "standard"
    form["kind"] = "value"
    form["price"] = ""
    form["tiers"] = "0 = 5.00\n50 = 0"
    form["free_over"] = ""
    form.submit(status=303)
    found = shipping.call("get", f"/shipping/methods/{method['id']}").json
    assert found["tiers"] == [{"from": "0.00", "price": "5.00"},
                              {"from": "50.00", "price": "0.00"}]
    form = admin.form(admin.get(f"/admin/shipping/methods/{method['id']}"),
                      f"/admin/shipping/methods/{method['id']}")
    form["tiers"] = "10 = 5.00"
    page = form.submit(status=400)
    assert "tiers" in errors(page)
    admin.post(f"/admin/shipping/methods/{method['id']}/delete")
    assert shipping.call("get", f"/shipping/zones/{zone['id']}").json["methods"] == []
    admin.post(f"/admin/shipping/zones/{zone['id']}/delete")  # not confirmed
    assert dbsession.get(ShippingZone, zone["id"]) is not None
    admin.post(f"/admin/shipping/zones/{zone['id']}/delete", {"confirm": "1"})
    dbsession.expire_all()
    assert dbsession.get(ShippingZone, zone["id"]) is None
    admin.get("/admin/shipping/zones/999999", status=404)
    admin.get("/admin/shipping/methods/999999", status=404)


def test_carriers(admin, shipping):
    page = admin.get("/admin/shipping/carriers")
    assert "dhl" in text_of(page) and 'value="DHL"' in page.text
    form = admin.form(page, "/admin/shipping/carriers")
    form["code"], form["name"] = "parcelco", "Parcel Co"
    form["tracking_url"] = "https://parcel.example/no-placeholder"
    page = form.submit(status=400)
    assert "tracking_url" in errors(page)
    admin.post("/admin/shipping/carriers", {
        "code": "parcelco", "name": "Parcel Co",
        "tracking_url": "https://parcel.example/{tracking_number}"})
    admin.post("/admin/shipping/carriers/parcelco", {
        "name": "Parcel Company", "tracking_url": "https://parcel.example/{tracking_number}"})
    carriers = {c["code"]: c for c in shipping.call("get", "/shipping/carriers").json["items"]}
    assert carriers["parcelco"]["name"] == "Parcel Company"
    admin.post("/admin/shipping/carriers/parcelco", {"name": "", "tracking_url": ""},
               status=400)
    admin.post("/admin/shipping/carriers/parcelco/delete")
    admin.post("/admin/shipping/carriers/parcelco/delete", status=404)


def test_ship_an_order_in_parts_from_the_admin(admin, shipping, paid_order, red, blue, desk,
                                               buyer):
    number = paid_order({red: 3, blue: 1})
    page = admin.get("/admin/shipping/orders")
    assert number in text_of(page)
    page = admin.get("/admin/shipping/orders", status=303, number=number.lower()).follow()
    url = f"/admin/shipping/orders/{number}"
    assert page.request.path == url
    items = {i["variant_id"]: i["id"] for i in desk.get(number).json["items"]}
    form = admin.form(page, url)
    assert form[f"qty-{items[red]}"].value == "3"  # what is left, to lower
    form[f"qty-{items[red]}"] = "4"
    form[f"qty-{items[blue]}"] = "0"
    page = form.submit(status=422)
    assert errors(page) == {f"qty-{items[red]}": "At most 3."}
    form = admin.form(page, url)
    form[f"qty-{items[red]}"] = "2"
    form[f"qty-{items[blue]}"] = "0"
    form["carrier"], form["tracking_number"] = "DHL", "JJD5"
    page = form.submit(status=303).follow()
    assert admin.flashes(page) == [f"Shipment of order {number} recorded."]
    assert buyer.order(number).json["fulfillment"]["status"] == "partially_shipped"
    assert "tracking-id=JJD5" in page.text
    form = admin.form(page, url)
    for name in (f"qty-{items[red]}", f"qty-{items[blue]}"):
        form[name] = "0"
    assert form.submit(status=400)
    form = admin.form(admin.get(url), url)
    page = form.submit(status=303).follow()
    assert admin.flashes(page) == [f"Shipment of order {number} recorded; the order has "
                                   "shipped."]
    assert "Only a paid order that has not shipped can ship (shipped)" in text_of(page)
    shipments = buyer.order(number).json["fulfillment"]["shipments"]
    first_deliver = f"{url}/shipments/{shipments[0]['id']}/deliver"
    admin.post(first_deliver)
    page = admin.post(first_deliver).follow()
    assert admin.flashes(page) == ["This shipment was marked delivered already."]
    admin.post(f"{url}/shipments/{shipments[1]['id']}/deliver")
    assert buyer.order(number).json["status"] == "delivered"
    admin.get("/admin/shipping/orders/EM-NOPE-NOPE", status=404)
    admin.get("/admin/shipping/orders", number="EM-NOPE-NOPE", status=404)


def test_an_unpaid_order_offers_no_shipping(admin, shipping, uk, buyer, red):
    buyer.add(red, 1)
    number = buyer.place({"shipping_address": GB, "shipping_method": "standard"}).json[
        "number"]
    page = admin.get(f"/admin/shipping/orders/{number}")
    assert "Only a paid order that has not shipped can ship" in text_of(page)
    page = admin.post(f"/admin/shipping/orders/{number}",
                      {f"qty-{buyer.order(number).json['items'][0]['id']}": "1"},
                      status=409)
    assert "waiting for its payment" in text_of(page)


def test_the_ship_form_is_checked_like_the_api(admin, shipping, paid_order, red, desk,
                                              buyer):
    number = paid_order({red: 2})
    item = desk.get(number).json["items"][0]["id"]
    url = f"/admin/shipping/orders/{number}"
    page = admin.post(url, {f"qty-{item}": "1", "tracking_url": "javascript:alert(1)"},
                      status=400)
    assert "tracking_url" in errors(page)
    page = admin.post(url, {f"qty-{item}": "one"}, status=400)
    assert f"qty-{item}" in errors(page)
    assert buyer.order(number).json["fulfillment"]["shipments"] == []
