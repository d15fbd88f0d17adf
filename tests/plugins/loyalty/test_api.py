"""GET /loyalty/me for customers; the staff's accounts, ledgers and adjustments; every bad
request a 4xx JSON error that changes nothing."""
import pytest

from .conftest import API, assert_error


def test_me_needs_a_signed_in_customer(loyalty, testapp):
    assert_error(testapp.get(f"{API}/loyalty/me", status=401), 401, "unauthorized")


def test_me_without_points(loyalty, buyer):
    response = loyalty.me(buyer.user)
    assert response.headers["Cache-Control"] == "no-store"
    me = response.json
    assert (me["balance"], me["balance_value"], me["expiring_next"]) == (0, "0.00", None)
    assert me["history"]["items"] == [] and me["history"]["total"] == 0


def test_the_history_is_paginated_newest_first(loyalty, buyer):
    for points in (10, 20, 30):
        loyalty.adjust(buyer.user, points, reason=f"gift {points}")
    page = loyalty.me(buyer.user, per_page=2).json["history"]
    assert [e["points"] for e in page["items"]] == [30, 20] and page["total"] == 3
    assert [e["balance_after"] for e in page["items"]] == [60, 30]
    assert page["items"][0]["reason"] == "gift 30" and "staff_id" not in page["items"][0]
    assert "page=2" in page["next"] and page["previous"] is None
    second = loyalty.testapp.get(page["next"], headers=buyer.headers).json["history"]
    assert [e["points"] for e in second["items"]] == [10] and second["next"] is None


@pytest.mark.parametrize("params", [{"page": "0"}, {"per_page": "101"}, {"page": "x"},
                                    {"colour": "red"}])
def test_bad_pages_are_400(loyalty, buyer, params):
    assert_error(loyalty.me(buyer.user, status=400, **params), 400, "invalid")


def test_staff_see_and_adjust_any_account(loyalty, buyer, staff, make_buyer):
    other = make_buyer()
    answer = loyalty.adjust(buyer.user, 150, reason="sorry for the delay").json
    assert answer["balance"] == 150 and answer["customer"]["email"] == buyer.user.email
    entry = answer["history"]["items"][0]
    assert entry["kind"] == "adjusted" and entry["staff_id"] == staff.id
    assert entry["expires_at"] is not None  # added points expire like earned ones
    answer = loyalty.adjust(buyer.user, -50, reason="a duplicate").json
    assert answer["balance"] == 100 and answer["history"]["items"][0]["expires_at"] is None
    loyalty.adjust(other.user, 5)

    headers = staff.headers
    account = loyalty.testapp.get(f"{API}/admin/loyalty/accounts/{buyer.user.id}",
                                  headers=headers).json
    assert account["balance"] == 100 and len(account["history"]["items"]) == 2
    listed = loyalty.testapp.get(f"{API}/admin/loyalty/accounts", headers=headers).json
    emails = [row["customer"]["email"] for row in listed["items"]]
    assert emails.index(buyer.user.email) < emails.index(other.user.email)  # richest first
    found = loyalty.testapp.get(f"{API}/admin/loyalty/accounts",
                                params={"email": other.user.email.upper()}, headers=headers)
    assert [row["balance"] for row in found.json["items"]] == [5]
    loyalty.assert_consistent(buyer.user)


def test_adjusting_never_goes_below_zero(loyalty, buyer):
    loyalty.adjust(buyer.user, 30)
    response = loyalty.adjust(buyer.user, -31, status=422)
    assert_error(response, 422, "loyalty_insufficient_points")
    assert response.json["error"]["fields"] == {"points": ["The balance is 30 points."]}
    assert loyalty.adjust(buyer.user, -30).json["balance"] == 0
    assert loyalty.ledger(buyer.user) == [("adjusted", 30), ("adjusted", -30)]


def test_a_customer_without_an_account_has_nothing_to_take(loyalty, buyer):
    assert_error(loyalty.adjust(buyer.user, -1, status=422), 422,
                 "loyalty_insufficient_points")
    assert loyalty.ledger(buyer.user) == []


@pytest.mark.parametrize("body", [
    {"points": 0, "reason": "x"}, {"points": 10}, {"points": 10, "reason": ""},
    {"points": 10, "reason": "   "}, {"points": "10", "reason": "x"},
    {"points": 1.5, "reason": "x"}, {"points": 10**10, "reason": "x"},
    {"points": 10, "reason": "x" * 501}, {"points": 10, "reason": "a\x00b"},
    {"points": 10, "reason": "x", "expires_at": "2030-01-01"}, [], "ten",
])
def test_bad_adjustments_are_400_and_change_nothing(loyalty, buyer, body):
    response = loyalty.testapp.post_json(
        f"{API}/admin/loyalty/accounts/{buyer.user.id}/adjustments", body,
        headers=loyalty.staff.headers, status=400)
    assert response.json["error"]["code"] in ("invalid", "invalid_json", "bad_request")
    assert loyalty.ledger(buyer.user) == []


@pytest.mark.parametrize("user_id", ["999999999", "abc", "0", "-1", "99999999999999999999"])
def test_unknown_customers_are_404(loyalty, user_id):
    headers = loyalty.staff.headers
    assert_error(loyalty.testapp.get(f"{API}/admin/loyalty/accounts/{user_id}",
                                     headers=headers, status=404), 404, "customer_not_found")
    assert_error(loyalty.testapp.post_json(
        f"{API}/admin/loyalty/accounts/{user_id}/adjustments",
        {"points": 5, "reason": "x"}, headers=headers, status=404), 404, "customer_not_found")


def test_customers_cannot_use_the_staff_api(loyalty, buyer):
    headers = buyer.headers
    loyalty.testapp.get(f"{API}/admin/loyalty/accounts", headers=headers, status=403)
    loyalty.testapp.post_json(f"{API}/admin/loyalty/accounts/{buyer.user.id}/adjustments",
                              {"points": 500, "reason": "me"}, headers=headers, status=403)
    loyalty.testapp.get(f"{API}/admin/loyalty/accounts", status=401)
    assert loyalty.balance(buyer.user) == 0


def test_settings_are_validated(loyalty):
    staff = loyalty.staff.headers
    url = f"{API}/admin/plugins/loyalty/settings"
    for bad in ({"point_value": "0"}, {"point_value": "-1"}, {"point_value": 0.01},
                {"points_per_unit": "0.0000001"}, {"max_redeem_percent": 101},
                {"expiry_months": -1}, {"points_per_unit": "NaN"}):
        loyalty.testapp.put_json(url, bad, headers=staff, status=400)
    settings = loyalty.testapp.get(url, headers=staff).json["settings"]
    assert settings["point_value"] == "0.01" and settings["points_per_unit"] == "1"


def test_the_openapi_document_lists_the_routes(loyalty, testapp):
    paths = testapp.get(f"{API}/openapi.json").json["paths"]
    for path in ("/loyalty/me", "/admin/loyalty/accounts", "/admin/loyalty/accounts/{user_id}",
                 "/admin/loyalty/accounts/{user_id}/adjustments"):
        assert API + path in paths, sorted(paths)
