"""The staff API of zones, methods and carriers: what it stores, and every input it
refuses (4xx, nothing written)."""
import pytest
import sqlalchemy as sa

from plugins.shipping.models import (ShippingArea, ShippingCarrier, ShippingMethod,
                                     ShippingRateTier, ShippingZone)

from .conftest import API, assert_error


def counts(dbsession):
    dbsession.expire_all()
    return tuple(dbsession.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (ShippingZone, ShippingArea, ShippingMethod, ShippingRateTier,
                               ShippingCarrier))


def test_zones_are_created_listed_changed_and_deleted(shipping):
    zone = shipping.zone("Europe", ["de", "FR", "es", {"country": "PT", "region": " Madeira "}],
                         position=3)
    assert zone == {"id": zone["id"], "name": "Europe", "is_active": True, "position": 3,
                    "methods": [], "areas": [
                        {"country": "DE", "region": ""}, {"country": "ES", "region": ""},
                        {"country": "FR", "region": ""},
                        {"country": "PT", "region": "Madeira"}]}
    world = shipping.zone("World", ["*"])
    listed = shipping.call("get", "/shipping/zones").json
    assert [z["name"] for z in listed["items"]] == ["World", "Europe"]
    assert listed["total"] == 2 and listed["next"] is None
    page = shipping.call("get", "/shipping/zones?per_page=1").json
    assert len(page["items"]) == 1 and page["next"]
    # areas replace the zone's areas; the ones kept keep their rows
    changed = shipping.call("patch", f"/shipping/zones/{zone['id']}", {
        "name": "EU", "areas": [{"country": "DE"}, {"country": "IT"},
                                {"country": "PT", "region": "MADEIRA"}],
        "is_active": False}).json
    assert changed["name"] == "EU" and changed["is_active"] is False
    assert [(a["country"], a["region"]) for a in changed["areas"]] == [
        ("DE", ""), ("IT", ""), ("PT", "MADEIRA")]
    # FR is free again
    shipping.zone("France", ["FR"])
    assert shipping.call("get", f"/shipping/zones/{world['id']}").json["areas"] == [
        {"country": "*", "region": ""}]
    shipping.call("delete", f"/shipping/zones/{zone['id']}", status=204)
    shipping.call("get", f"/shipping/zones/{zone['id']}", status=404)
    shipping.call("delete", f"/shipping/zones/{zone['id']}", status=404)


def test_an_area_belongs_to_one_zone(shipping, dbsession):
    europe = shipping.zone("Europe", ["DE", "FR", "US:Hawaii"])
    before = counts(dbsession)
    taken = shipping.zone("Germany", ["AT", "DE"], status=409)
    assert taken["error"]["code"] == "area_taken"
    assert taken["error"]["fields"] == {
        "areas.1": ["DE belongs to the zone “Europe”; an area belongs to one zone."]}
    clash = shipping.zone("Islands", ["US: hawaii"], status=409)
    assert clash["error"]["fields"]["areas.0"][0].startswith("US (hawaii) belongs")
    assert counts(dbsession) == before
    # a region of a taken country, and the country of a taken region, are other areas
    shipping.zone("Bavaria", ["DE:Bayern"])
    shipping.zone("US", ["US"])
    other = shipping.zone("Other", ["IT"])
    refused = shipping.call("patch", f"/shipping/zones/{other['id']}",
                            {"areas": [{"country": "FR"}]}, status=409)
    assert_error(refused, 409, "area_taken")
    # listing its own areas again is fine
    shipping.call("patch", f"/shipping/zones/{europe['id']}",
                  {"areas": [{"country": "FR"}, {"country": "DE"}]})


@pytest.mark.parametrize("body", [
    {},
    {"name": "X"},
    {"name": "", "areas": [{"country": "DE"}]},
    {"name": "X", "areas": []},
    {"name": "X", "areas": [{"country": "XX"}]},
    {"name": "X", "areas": [{"country": "DEU"}]},
    {"name": "X", "areas": [{"country": "*", "region": "north"}]},
    {"name": "X", "areas": [{"country": "DE", "region": "x" * 101}]},
    {"name": "X", "areas": [{"country": "DE"}, {"country": "de"}]},
    {"name": "X", "areas": [{"country": "US", "region": "HI"},
                            {"country": "US", "region": "hi "}]},
    {"name": "X", "areas": ["DE"]},
    {"name": "X", "areas": "DE"},
    {"name": "X", "areas": [{"country": 49}]},
    {"name": "X" * 201, "areas": [{"country": "DE"}]},
    {"name": "X\x00", "areas": [{"country": "DE"}]},
    {"name": "X", "areas": [{"country": "DE"}], "is_active": "maybe"},
    {"name": "X", "areas": [{"country": "DE"}], "position": 1.5},
    {"name": "X", "areas": [{"country": "DE"}], "position": 10**7},
    {"name": "X", "areas": [{"country": "DE"}], "color": "red"},
])
def test_bad_zones_are_400_and_write_nothing(shipping, dbsession, body):
    before = counts(dbsession)
    response = shipping.call("post", "/shipping/zones", body, status=400)
    assert response.json["error"]["code"] in ("invalid", "bad_request")
    assert response.json["error"]["fields"]
    assert counts(dbsession) == before


def test_methods_of_every_kind(shipping):
    zone = shipping.zone("UK", ["GB"])
    flat = shipping.method(zone, "standard", price="4.9", free_over="50")
    assert {k: flat[k] for k in ("code", "kind", "price", "free_over", "tiers", "currency",
                                 "zone_id", "is_active", "position")} == {
        "code": "standard", "kind": "flat", "price": "4.90", "free_over": "50.00",
        "tiers": [], "currency": "EUR", "zone_id": zone["id"], "is_active": True,
        "position": 0}
    weight = shipping.method(zone, "parcel", kind="weight", max_weight_grams=31_500, tiers=[
        {"from": 0, "price": "5"}, {"from": 2001, "price": "7.5"}])
    assert weight["tiers"] == [{"from": 0, "price": "5.00"}, {"from": 2001, "price": "7.50"}]
    assert weight["price"] is None and weight["max_weight_grams"] == 31_500
    value = shipping.method(zone, "economy", kind="value", tiers=[
        {"from": "0", "price": "6"}, {"from": 30, "price": "3"}])
    assert value["tiers"] == [{"from": "0.00", "price": "6.00"},
                              {"from": "30.00", "price": "3.00"}]
    free = shipping.method(zone, "free", kind="free", free_over="0", min_days=5, max_days=9)
    assert (free["price"], free["free_over"], free["tiers"]) == (None, "0.00", [])
    methods = shipping.call("get", f"/shipping/zones/{zone['id']}").json["methods"]
    assert [m["code"] for m in methods] == ["standard", "parcel", "economy", "free"]
    assert shipping.call("get", f"/shipping/methods/{weight['id']}").json == weight


def test_a_method_changes_with_its_rules_checked_as_a_whole(shipping):
    zone = shipping.zone("UK", ["GB"])
    method = shipping.method(zone, "standard", price="4.90")
    changed = shipping.patch_method(method, {"name": "Post", "min_days": 1}).json
    assert (changed["name"], changed["price"], changed["min_days"]) == ("Post", "4.90", 1)
    # another kind: the flat price means nothing to it, and tiers are needed
    refused = shipping.patch_method(method, {"kind": "weight"}, status=400).json
    assert refused["error"]["fields"] == {
        "tiers": ['A weight method needs tiers: [{"from": ..., "price": ...}].']}
    changed = shipping.patch_method(method, {"kind": "weight", "tiers": [
        {"from": 0, "price": "3.00"}, {"from": 1000, "price": "6.00"}]}).json
    assert (changed["kind"], changed["price"], len(changed["tiers"])) == ("weight", None, 2)
    # tiers in grams do not become tiers in euros
    refused = shipping.patch_method(method, {"kind": "value"}, status=400).json
    assert "tiers" in refused["error"]["fields"]
    changed = shipping.patch_method(method, {"tiers": [{"from": 0, "price": "2.00"}]}).json
    assert changed["tiers"] == [{"from": 0, "price": "2.00"}]
    changed = shipping.patch_method(method, {"kind": "flat", "price": "1.00",
                                             "code": "post", "is_active": False}).json
    assert (changed["kind"], changed["tiers"], changed["code"], changed["is_active"]) == (
        "flat", [], "post", False)
    shipping.patch_method(method, {"max_days": 0}, status=400)
    shipping.patch_method({"id": 999999}, {"name": "X"}, status=404)
    shipping.patch_method({"id": "abc"}, {"name": "X"}, status=404)
    shipping.call("delete", f"/shipping/methods/{method['id']}", status=204)
    shipping.call("get", f"/shipping/methods/{method['id']}", status=404)


def test_method_codes_are_unique_in_the_shop(shipping):
    uk = shipping.zone("UK", ["GB"])
    eu = shipping.zone("EU", ["DE"])
    shipping.method(uk, "standard")
    assert shipping.method(eu, "standard", status=409)["error"]["code"] == "duplicate_code"
    other = shipping.method(eu, "eu-standard")
    assert_error(shipping.patch_method(other, {"code": "standard"}, status=409), 409,
                 "duplicate_code")
    shipping.method(999999, "nowhere", status=404)


@pytest.mark.parametrize("body, field", [
    ({"kind": "flat"}, "price"),
    ({"kind": "flat", "price": "-1"}, "price"),
    ({"kind": "flat", "price": 4.9}, "price"),
    ({"kind": "flat", "price": "4.999"}, "price"),
    ({"kind": "flat", "price": "NaN"}, "price"),
    ({"kind": "flat", "price": "1e3"}, "price"),
    ({"kind": "flat", "price": "4.90", "tiers": [{"from": 0, "price": "1"}]}, "tiers"),
    ({"kind": "weight", "price": "4.90", "tiers": [{"from": 0, "price": "1"}]}, "price"),
    ({"kind": "weight"}, "tiers"),
    ({"kind": "weight", "tiers": []}, "tiers"),
    ({"kind": "weight", "tiers": [{"from": 5, "price": "1"}]}, "tiers.0.from"),
    ({"kind": "weight", "tiers": [{"from": "0", "price": "1"}]}, "tiers.0.from"),
    ({"kind": "weight", "tiers": [{"from": 0.5, "price": "1"}]}, "tiers.0.from"),
    ({"kind": "weight", "tiers": [{"from": True, "price": "1"}]}, "tiers.0.from"),
    ({"kind": "weight", "tiers": [{"from": -1, "price": "1"}]}, "tiers.0.from"),
    ({"kind": "weight", "tiers": [{"from": 0, "price": "1"}, {"from": 0, "price": "2"}]},
     "tiers.1.from"),
    ({"kind": "weight", "tiers": [{"from": 0, "price": "1"}, {"from": 500, "price": "2"},
                                  {"from": 400, "price": "3"}]}, "tiers.2.from"),
    ({"kind": "weight", "tiers": [{"from": 0}]}, "tiers"),
    ({"kind": "weight", "tiers": [{"from": 0, "price": "1", "to": 5}]}, "tiers"),
    ({"kind": "weight", "tiers": [{"from": 0, "price": "1"}] * 51}, "tiers"),
    ({"kind": "value", "tiers": [{"from": "abc", "price": "1"}]}, "tiers.0.from"),
    ({"kind": "value", "tiers": [{"from": "0.001", "price": "1"}]}, "tiers.0.from"),
    ({"kind": "value", "tiers": [{"from": None, "price": "1"}]}, "tiers.0.from"),
    ({"kind": "value", "tiers": [{"from": [], "price": "1"}]}, "tiers.0.from"),
    ({"kind": "free"}, "free_over"),
    ({"kind": "free", "free_over": "10", "price": "1"}, "price"),
    ({"kind": "teleport", "price": "1"}, "kind"),
    ({"kind": "flat", "price": "1", "max_weight_grams": -1}, "max_weight_grams"),
    ({"kind": "flat", "price": "1", "min_days": 5, "max_days": 2}, "max_days"),
    ({"kind": "flat", "price": "1", "min_days": -1}, "min_days"),
    ({"kind": "flat", "price": "1", "max_days": 366}, "max_days"),
    ({"kind": "flat", "price": "1", "code": "Has Spaces"}, "code"),
    ({"kind": "flat", "price": "1", "code": ""}, "code"),
    ({"kind": "flat", "price": "1", "code": "x" * 65}, "code"),
    ({"kind": "flat", "price": "1", "name": ""}, "name"),
    ({"kind": "flat", "price": "1", "colour": "red"}, "colour"),
    ({"kind": "flat", "price": "1", "price_minor": 100}, "price_minor"),
])
def test_bad_methods_are_400_and_write_nothing(shipping, dbsession, body, field):
    zone = shipping.zone("UK", ["GB"])
    before = counts(dbsession)
    full = {"code": "m", "name": "M", "min_days": 1, "max_days": 2, **body}
    response = shipping.call("post", f"/shipping/zones/{zone['id']}/methods", full,
                             status=400).json
    assert any(key == field or key.startswith(field + ".")
               for key in response["error"]["fields"]), response
    assert counts(dbsession) == before


def test_carriers(shipping, dbsession):
    listed = shipping.call("get", "/shipping/carriers").json["items"]
    assert [c["code"] for c in listed] == ["dhl", "fedex", "ups", "usps"]  # seeded
    made = shipping.call("post", "/shipping/carriers", {
        "code": "royal-mail", "name": "Royal Mail",
        "tracking_url": "https://www.royalmail.com/track?n={tracking_number}"},
        status=201).json
    assert made["code"] == "royal-mail"
    assert_error(shipping.call("post", "/shipping/carriers", {
        "code": "royal-mail", "name": "Again"}, status=409), 409, "duplicate_code")
    for bad in ({"code": "x", "name": "X", "tracking_url": "https://no.placeholder"},
                {"code": "x", "name": "X", "tracking_url": "ftp://x/{tracking_number}"},
                {"code": "X Y", "name": "X"}, {"code": "x"}, {"name": "X"},
                {"code": "x", "name": "X", "tracking_url": "x" * 501}):
        shipping.call("post", "/shipping/carriers", bad, status=400)
    changed = shipping.call("patch", "/shipping/carriers/ROYAL-MAIL",
                            {"name": "Royal Mail UK"}).json
    assert changed == dict(made, name="Royal Mail UK")
    shipping.call("patch", "/shipping/carriers/royal-mail", {"code": "rm"}, status=400)
    shipping.call("patch", "/shipping/carriers/nope", {"name": "X"}, status=404)
    shipping.call("delete", "/shipping/carriers/royal-mail", status=204)
    shipping.call("delete", "/shipping/carriers/royal-mail", status=404)
    shipping.call("patch", "/shipping/carriers/" + "x" * 300, {"name": "X"}, status=404)


def test_only_staff_configure_shipping(shipping, testapp, customer):
    zone = shipping.zone("UK", ["GB"])
    for method, path in (("get", "/shipping/zones"), ("post", "/shipping/zones"),
                         ("get", f"/shipping/zones/{zone['id']}"),
                         ("patch", f"/shipping/zones/{zone['id']}"),
                         ("delete", f"/shipping/zones/{zone['id']}"),
                         ("post", f"/shipping/zones/{zone['id']}/methods"),
                         ("get", "/shipping/carriers"), ("post", "/shipping/carriers")):
        call = getattr(testapp, f"{method}_json" if method in ("post", "patch") else method)
        call(f"{API}{path}", status=401)
        call(f"{API}{path}", headers=customer.headers, status=403)
    # the storefront's list is public
    testapp.get(f"{API}/shipping/methods?country=GB")


def test_the_openapi_document_lists_the_routes(shipping, testapp):
    paths = testapp.get(f"{API}/openapi.json").json["paths"]
    for path in ("/api/v1/shipping/methods", "/api/v1/shipping/zones",
                 "/api/v1/shipping/zones/{id}/methods",
                 "/api/v1/shipping/orders/{number}/shipments"):
        assert path in paths or path.removeprefix("/api/v1") in paths, sorted(paths)[:5]
