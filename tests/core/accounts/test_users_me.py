"""GET and PATCH /users/me, and the addresses of the signed-in user."""
import pytest

from core.accounts import services
from core.plugins import hookimpl

from .conftest import assert_error

HOME = {"name": "Ada Lovelace", "phone": "+44 20 7946 0000", "line1": "12 St James's Square",
        "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}


def addresses(testapp, user, status=None):
    return testapp.get("/api/v1/users/me/addresses", headers=user.headers, status=status)


def add(testapp, user, status=201, **fields):
    return testapp.post_json("/api/v1/users/me/addresses", {**HOME, **fields},
                             headers=user.headers, status=status)


# --- the user ------------------------------------------------------------------------


def test_get_and_patch_me(testapp, customer):
    me = testapp.get("/api/v1/users/me", headers=customer.headers).json
    assert me["id"] == customer.id and me["roles"] == ["customer"]
    me = testapp.patch_json("/api/v1/users/me", {"name": "  Grace Hopper "},
                            headers=customer.headers).json
    assert me["name"] == "Grace Hopper"
    assert testapp.get("/api/v1/users/me", headers=customer.headers).json["name"] == \
        "Grace Hopper"


@pytest.mark.parametrize("body, field", [({"email": "new@example.com"}, "email"),
                                         ({"roles": ["staff"]}, "roles"),
                                         ({"name": "x" * 201}, "name"),
                                         ({"name": "tab\there"}, "name"),
                                         ({"name": None}, "name")])
def test_patch_me_refuses_what_it_does_not_change(testapp, customer, body, field):
    response = testapp.patch_json("/api/v1/users/me", body, headers=customer.headers,
                                  status=400)
    assert_error(response, 400, "invalid", fields=[field])


def test_me_needs_a_token(testapp):
    assert_error(testapp.get("/api/v1/users/me", status=401), 401, "unauthorized")


class AddsLoyalty:
    @hookimpl
    def serialize(self, kind, obj, data):
        if kind == "core.user":
            return {"loyalty_points": 42, "email": "overwritten?"}


def test_plugins_add_fields_to_the_user(testapp, customer, registry):
    pm = registry["plugins"].pm
    plugin = AddsLoyalty()
    pm.register(plugin, name="adds-loyalty")
    try:
        me = testapp.get("/api/v1/users/me", headers=customer.headers).json
    finally:
        pm.unregister(plugin)
    assert me["loyalty_points"] == 42
    assert me["email"] == customer.email


# --- addresses -----------------------------------------------------------------------


def test_address_crud(testapp, customer):
    created = add(testapp, customer).json
    assert created["id"] and created["country"] == "GB" and created["is_default"] is True
    assert created["line2"] == "" and created["state"] == ""
    url = f"/api/v1/users/me/addresses/{created['id']}"
    assert testapp.get(url, headers=customer.headers).json == created
    patched = testapp.patch_json(url, {"line2": "Flat 3", "country": "ie"},
                                 headers=customer.headers).json
    assert patched["line2"] == "Flat 3" and patched["country"] == "IE"
    assert patched["name"] == HOME["name"]
    page = addresses(testapp, customer).json
    assert page["total"] == 1 and page["items"][0]["id"] == created["id"]
    assert testapp.delete(url, headers=customer.headers).status_int == 204
    assert addresses(testapp, customer).json["items"] == []
    assert_error(testapp.get(url, headers=customer.headers, status=404), 404, "not_found")


@pytest.mark.parametrize("country", ["XX", "UK", "EU", "DEU", "D", "", "1A"])
def test_country_must_be_a_real_iso_code(testapp, customer, country):
    error = assert_error(add(testapp, customer, country=country, status=400), 400, "invalid",
                         fields=["country"])
    assert any("ISO 3166-1" in message or "Longer" in message or "length" in message
               for message in error["fields"]["country"])


def test_country_codes_are_the_249_assigned_ones():
    from core.accounts.countries import COUNTRY_CODES

    assert len(COUNTRY_CODES) == 249
    assert {"DE", "US", "GB", "SS", "CW", "AX", "BQ"} <= COUNTRY_CODES
    assert not {"UK", "EU", "XK", "AN", "YU"} & COUNTRY_CODES


@pytest.mark.parametrize("fields, bad", [
    ({"name": ""}, "name"), ({"line1": "   "}, "line1"), ({"city": None}, "city"),
    ({"phone": "call me maybe"}, "phone"), ({"postal_code": "x" * 21}, "postal_code"),
    ({"line1": "nul\x00byte"}, "line1"), ({"is_default": "perhaps"}, "is_default"),
    ({"latitude": 51.5}, "latitude"),
])
def test_address_fields_are_validated(testapp, customer, fields, bad):
    assert_error(add(testapp, customer, status=400, **fields), 400, "invalid", fields=[bad])


def test_required_address_fields(testapp, customer):
    response = testapp.post_json("/api/v1/users/me/addresses", {}, headers=customer.headers,
                                 status=400)
    assert_error(response, 400, fields=["name", "line1", "city", "country"])


def test_one_default_address_per_user(testapp, customer):
    first = add(testapp, customer).json
    second = add(testapp, customer, name="Office").json
    assert first["is_default"] and not second["is_default"]
    third = add(testapp, customer, name="Holiday", is_default=True).json
    assert third["is_default"]
    items = addresses(testapp, customer).json["items"]
    assert [item["id"] for item in items if item["is_default"]] == [third["id"]]
    assert items[0]["id"] == third["id"]  # the default comes first
    testapp.patch_json(f"/api/v1/users/me/addresses/{second['id']}", {"is_default": True},
                       headers=customer.headers)
    items = addresses(testapp, customer).json["items"]
    assert [item["id"] for item in items if item["is_default"]] == [second["id"]]
    testapp.patch_json(f"/api/v1/users/me/addresses/{second['id']}", {"is_default": False},
                       headers=customer.headers)
    assert not any(item["is_default"] for item in addresses(testapp, customer).json["items"])


def test_addresses_are_paginated(testapp, customer):
    for n in range(3):
        add(testapp, customer, name=f"Address {n}")
    page = testapp.get("/api/v1/users/me/addresses?per_page=2", headers=customer.headers).json
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 2
    assert "page=2" in page["next"]
    assert_error(testapp.get("/api/v1/users/me/addresses?per_page=1000",
                             headers=customer.headers, status=400), 400, fields=["per_page"])


def test_an_account_keeps_a_bounded_number_of_addresses(testapp, customer, monkeypatch):
    monkeypatch.setattr(services, "MAX_ADDRESSES", 2)
    add(testapp, customer)
    add(testapp, customer)
    assert_error(add(testapp, customer, status=422), 422, "too_many_addresses")


def test_another_customers_addresses_are_404(testapp, customer, staff, dbsession, registry):
    from core.security import create_user, issue_access_token

    mine = add(testapp, customer).json
    other = create_user(dbsession, "other-customer@example.com", "correct horse battery")
    other.headers = {"Authorization": "Bearer "
                     + issue_access_token(registry.settings, other)[0]}
    url = f"/api/v1/users/me/addresses/{mine['id']}"
    assert_error(testapp.get(url, headers=other.headers, status=404), 404, "not_found")
    assert_error(testapp.patch_json(url, {"name": "Mine now"}, headers=other.headers,
                                    status=404), 404)
    assert_error(testapp.delete(url, headers=other.headers, status=404), 404)
    assert addresses(testapp, other).json["items"] == []
    # the same answer as for an address that does not exist at all
    missing = testapp.get("/api/v1/users/me/addresses/999999", headers=other.headers,
                          status=404)
    assert missing.json == testapp.get(url, headers=other.headers, status=404).json
    # staff has no business in a customer's address book under /users/me either
    assert_error(testapp.get(url, headers=staff.headers, status=404), 404)
    assert testapp.get(url, headers=customer.headers).json["name"] == HOME["name"]


@pytest.mark.parametrize("path", ["99999999999999999999999", "abc", "-1", "1.0"])
def test_odd_address_ids_are_404(testapp, customer, path):
    response = testapp.get(f"/api/v1/users/me/addresses/{path}", headers=customer.headers,
                           status=404)
    assert_error(response, 404)
