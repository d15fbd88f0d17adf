"""The coupons' pages in the merchant admin: list, create, change, deactivate, generate
codes and download them."""
import csv
import io

import pytest

from tests.core.admin.conftest import Admin, text_of

from .conftest import ADDRESS


@pytest.fixture
def admin(coupons, testapp, staff):
    client = Admin(testapp)
    client.login(staff)
    return client


FORM = {"code": "spring", "name": "Spring", "kind": "percentage", "percent": "15",
        "amount": "", "min_subtotal": "", "starts_at": "2030-03-01T00:00", "ends_at": "",
        "usage_limit": "100", "per_customer_limit": "", "applies_to": "all",
        "product_ids": "", "is_active": "1"}


def test_menu_dashboard_and_list(admin, coupons, buyer, red):
    coupons.make("LISTED", usage_limit=10)
    buyer.add(red, 1)
    buyer.place({"shipping_address": ADDRESS, "coupon_codes": ["listed"]})
    assert "Coupons" in admin.menu()
    assert "Active coupons 1" in text_of(admin.get("/admin"))
    page = admin.get("/admin/coupons")
    assert "LISTED" in text_of(page) and "1 / 10" in text_of(page)
    assert "No coupon matches" in text_of(admin.get("/admin/coupons", q="nothing"))
    admin.get("/admin/coupons", status=400, page="x")


def test_create_change_and_deactivate(admin, coupons):
    page = admin.post("/admin/coupons/new", FORM).follow()
    assert admin.flashes(page) == ["Coupon created."]
    [coupon] = coupons.list().json["items"]
    assert (coupon["code"], coupon["percent"], coupon["usage_limit"]) == ("SPRING", "15", 100)
    assert coupon["starts_at"] == "2030-03-01T00:00:00+00:00" and coupon["is_active"]

    refused = admin.post("/admin/coupons/new", dict(FORM, code="other", percent=""),
                         status=400)
    assert "A percentage coupon needs a percent." in text_of(refused)
    refused = admin.post("/admin/coupons/new", FORM, status=409)
    assert "taken" in text_of(refused)

    url = f"/admin/coupons/{coupon['id']}"
    page = admin.post(url, dict(FORM, kind="fixed_amount", percent="", amount="4.50",
                                usage_limit="")).follow()
    assert admin.flashes(page) == ["Coupon saved."]
    changed = coupons.get(coupon["id"]).json
    assert (changed["kind"], changed["amount"], changed["usage_limit"]) == (
        "fixed_amount", "4.50", None)
    refused = admin.post(url, dict(FORM, product_ids="1 x"), status=400)
    assert "x is not a product id." in text_of(refused)

    page = admin.post(f"{url}/deactivate").follow()
    assert coupons.get(coupon["id"]).json["is_active"] is False
    assert "Coupon deactivated" in admin.flashes(page)[0]
    admin.get("/admin/coupons/999999", status=404)


def test_generate_and_download_codes(admin, coupons):
    coupon = coupons.make(None, name="Newsletter")
    url = f"/admin/coupons/{coupon['id']}"
    page = admin.post(f"{url}/generate", {"count": "20", "prefix": "nl", "length": "",
                                          "uses_per_code": "1"}).follow()
    assert admin.flashes(page)[0].startswith("20 codes generated")
    page = admin.post(f"{url}/generate", {"count": "0", "prefix": "", "length": "",
                                          "uses_per_code": "1"}).follow()
    assert admin.flashes(page)[0].startswith("No codes generated")
    link = page.html.select_one("a[href*='codes.csv?batch=']")["href"]
    download = admin.get(link)
    assert download.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 20 and rows[0]["code"].startswith("NL-")
    assert coupons.get(coupon["id"]).json["codes"]["generated"] == 20
