"""The staff's coupon API: create, change, deactivate, list with usage counts, generate and
export campaign codes; bad input is a 4xx that changes nothing."""
import csv
import io
import re

import pytest

from .conftest import ADDRESS, COUPONS, assert_error


def test_create_and_read_a_coupon(coupons):
    created = coupons.create(code="summer-10", name="Summer", kind="percentage",
                             percent="12.5", min_subtotal="20", usage_limit=100,
                             per_customer_limit=1, starts_at="2030-06-01T00:00:00+02:00",
                             ends_at="2030-09-01T00:00:00Z").json
    assert created["code"] == "SUMMER-10" and created["percent"] == "12.5"
    assert created["amount"] is None and created["min_subtotal"] == "20.00"
    assert created["currency"] == "EUR"
    assert created["starts_at"] == "2030-05-31T22:00:00+00:00"
    assert created["ends_at"] == "2030-09-01T00:00:00+00:00"
    assert (created["applies_to"], created["combinable"], created["is_active"]) == (
        "all", False, True)
    assert (created["uses"], created["released"], created["discount_total"]) == (0, 0, "0.00")
    assert created["codes"] == {"total": 1, "generated": 0, "used": 0}
    assert coupons.get(created["id"]).json == created

    fixed = coupons.create(kind="fixed_amount", amount="5.5", currency="eur").json
    assert (fixed["amount"], fixed["percent"], fixed["code"]) == ("5.50", None, None)
    free = coupons.create(code="ship", kind="free_shipping").json
    assert free["kind"] == "free_shipping"


def test_codes_are_unique_whatever_their_case(coupons):
    coupons.make("ONE")
    response = coupons.create(code="one", status=409)
    assert_error(response, 409, "coupon_code_taken")
    assert coupons.list().json["total"] == 1


@pytest.mark.parametrize("body, field", [
    ({"kind": "percentage"}, "percent"),
    ({"kind": "percentage", "percent": "0"}, "percent"),
    ({"kind": "percentage", "percent": "100.01"}, "percent"),
    ({"kind": "percentage", "percent": 12.5}, "percent"),
    ({"kind": "percentage", "percent": "1.234"}, "percent"),
    ({"kind": "percentage", "percent": "ten"}, "percent"),
    ({"kind": "percentage", "percent": True}, "percent"),
    ({"kind": "percentage", "percent": "10", "amount": "5"}, "amount"),
    ({"kind": "fixed_amount"}, "amount"),
    ({"kind": "fixed_amount", "amount": "0"}, "amount"),
    ({"kind": "fixed_amount", "amount": "-1"}, "amount"),
    ({"kind": "fixed_amount", "amount": "1.005"}, "amount"),
    ({"kind": "fixed_amount", "amount": 5.5}, "amount"),
    ({"kind": "fixed_amount", "amount": "1e3"}, "amount"),
    ({"kind": "fixed_amount", "amount": "10000000000"}, "amount"),
    ({"kind": "free_shipping", "percent": "5"}, "percent"),
    ({"kind": "bogus"}, "kind"),
    ({}, "kind"),
    ({"kind": "percentage", "percent": "5", "code": "no spaces"}, "code"),
    ({"kind": "percentage", "percent": "5", "code": "x" * 65}, "code"),
    ({"kind": "percentage", "percent": "5", "code": ""}, "code"),
    ({"kind": "percentage", "percent": "5", "currency": "USD"}, "currency"),
    ({"kind": "percentage", "percent": "5", "min_subtotal": "-5"}, "min_subtotal"),
    ({"kind": "percentage", "percent": "5", "usage_limit": 0}, "usage_limit"),
    ({"kind": "percentage", "percent": "5", "usage_limit": "3"}, "usage_limit"),
    ({"kind": "percentage", "percent": "5", "per_customer_limit": -1}, "per_customer_limit"),
    ({"kind": "percentage", "percent": "5", "starts_at": "2030-01-01T00:00:00"}, "starts_at"),
    ({"kind": "percentage", "percent": "5", "starts_at": "2030-02-01T00:00:00Z",
      "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),
    ({"kind": "percentage", "percent": "5", "applies_to": "categories"}, "category_ids"),
    ({"kind": "percentage", "percent": "5", "applies_to": "products"}, "product_ids"),
    ({"kind": "percentage", "percent": "5", "product_ids": [1]}, "product_ids"),
    ({"kind": "percentage", "percent": "5", "applies_to": "products",
      "product_ids": [2**31 - 1]}, "product_ids"),
    ({"kind": "percentage", "percent": "5", "applies_to": "categories",
      "category_ids": [0]}, "category_ids.0"),
    ({"kind": "percentage", "percent": "5", "name": "x\x00y"}, "name"),
    ({"kind": "percentage", "percent": "5", "colour": "red"}, "colour"),
])
def test_bad_coupons_are_400_and_create_nothing(coupons, body, field):
    response = coupons.testapp.post_json(COUPONS, body, headers=coupons.headers, status=400)
    assert_error(response, 400, "invalid")
    assert field in response.json["error"]["fields"], response.json
    assert coupons.list().json["total"] == 0


@pytest.mark.parametrize("raw", [b"", b"[]", b"null", b"{", b'"x"', b"\xff"])
def test_bodies_that_are_not_objects_are_400(coupons, raw):
    response = coupons.testapp.post(COUPONS, raw, headers={
        **coupons.headers, "Content-Type": "application/json"}, expect_errors=True)
    assert response.status_int == 400 and response.json["error"]["code"]


def test_staff_only(coupons, testapp, customer):
    assert_error(testapp.get(COUPONS, status=401), 401, "unauthorized")
    assert_error(testapp.get(COUPONS, headers=customer.headers, status=403), 403, "forbidden")
    testapp.post_json(COUPONS, {"kind": "free_shipping"}, headers=customer.headers,
                      status=403)
    assert coupons.list().json["total"] == 0


@pytest.mark.parametrize("ref", ["999999", "abc", "0", "-1", "99999999999", "1.0"])
def test_unknown_coupons_are_404(coupons, ref):
    assert_error(coupons.get(ref, status=404), 404, "coupon_not_found")
    assert_error(coupons.patch(ref, name="x", status=404), 404, "coupon_not_found")
    coupons.generate(ref, count=1, status=404)
    coupons.csv(ref, status=404)


def test_change_a_coupon(coupons, make_category, make_product):
    coupon = coupons.make("CHANGE", percent="10")
    changed = coupons.patch(coupon["id"], kind="fixed_amount", amount="3", name="Three off",
                            code="change-me").json
    assert (changed["kind"], changed["amount"], changed["percent"]) == ("fixed_amount", "3.00",
                                                                       None)
    assert changed["code"] == "CHANGE-ME" and changed["name"] == "Three off"
    assert_error(coupons.patch(coupon["id"], kind="percentage", status=400), 400, "invalid")

    kitchen = make_category("Kitchen")
    product = make_product()
    scoped = coupons.patch(coupon["id"], applies_to="categories",
                           category_ids=[kitchen.id]).json
    assert (scoped["applies_to"], scoped["category_ids"]) == ("categories", [kitchen.id])
    scoped = coupons.patch(coupon["id"], applies_to="products", product_ids=[product.id]).json
    assert (scoped["category_ids"], scoped["product_ids"]) == ([], [product.id])
    assert coupons.patch(coupon["id"], applies_to="all").json["product_ids"] == []
    response = coupons.patch(coupon["id"], ends_at="2000-01-01T00:00:00Z",
                             starts_at="2001-01-01T00:00:00Z", status=400)
    assert "ends_at" in response.json["error"]["fields"]
    other = coupons.make("OTHER")
    assert_error(coupons.patch(other["id"], code="change-me", status=409), 409,
                 "coupon_code_taken")
    assert coupons.patch(coupon["id"], code=None).json["code"] is None
    assert coupons.get(coupon["id"]).json["kind"] == "fixed_amount"


def test_a_used_code_cannot_be_removed(coupons, buyer, red):
    coupon = coupons.make("USED")
    buyer.add(red, 1)
    buyer.place({"shipping_address": ADDRESS, "coupon_codes": ["USED"]})
    assert_error(coupons.patch(coupon["id"], code=None, status=409), 409, "code_in_use")
    # renamed, the old code stops working; the use keeps the code typed
    assert coupons.patch(coupon["id"], code="RENAMED").json["code"] == "RENAMED"
    assert coupons.uses(coupon["id"]).json["items"][0]["code"] == "USED"


def test_deactivate(coupons, buyer, red):
    coupon = coupons.make("STOP")
    assert coupons.deactivate(coupon["id"]).json["is_active"] is False
    buyer.add(red, 1)
    quote = buyer.quote({"shipping_address": ADDRESS, "coupon_codes": ["STOP"]}).json
    assert quote["errors"][0]["code"] == "coupon_inactive"
    assert coupons.patch(coupon["id"], is_active=True).json["is_active"] is True


def test_list_with_filters_and_usage(coupons, buyer, red):
    first = coupons.make("ALPHA", name="Spring sale")
    coupons.make("BETA", kind="fixed_amount", amount="2")
    third = coupons.make("GAMMA", kind="free_shipping")
    coupons.deactivate(third["id"])
    buyer.add(red, 1)
    buyer.place({"shipping_address": ADDRESS, "coupon_codes": ["alpha"]})
    page = coupons.list().json
    assert [c["code"] for c in page["items"]] == ["GAMMA", "BETA", "ALPHA"]
    assert page["items"][2]["uses"] == 1 and page["items"][2]["discount_total"] == "1.25"
    assert [c["code"] for c in coupons.list(q="spring").json["items"]] == ["ALPHA"]
    assert [c["code"] for c in coupons.list(q="bet").json["items"]] == ["BETA"]
    assert [c["code"] for c in coupons.list(active="false").json["items"]] == ["GAMMA"]
    assert [c["code"] for c in coupons.list(kind="fixed_amount").json["items"]] == ["BETA"]
    paged = coupons.list(per_page=2).json
    assert paged["pages"] == 2 and paged["next"]
    assert first["id"] in [c["id"] for c in coupons.list(page=2, per_page=2).json["items"]]
    for params in ({"page": 0}, {"per_page": 1000}, {"active": "maybe"}, {"kind": "x"},
                   {"other": 1}):
        assert_error(coupons.list(status=400, **params), 400, "invalid")


CODE = re.compile(r"^NEWS-[0-9A-HJKMNP-TV-Z]{8}$")


def test_generate_codes_and_export_them(coupons, buyer, red):
    coupon = coupons.make(None, name="Newsletter", percent="15")
    generated = coupons.generate(coupon["id"], count=50, prefix="news").json
    codes = generated["codes"]
    assert generated["count"] == 50 and len(set(codes)) == 50
    assert all(CODE.match(code) for code in codes), codes[:3]
    batch = generated["batch"]
    assert generated["csv_url"].endswith(f"/admin/coupons/{coupon['id']}/codes.csv?batch={batch}")
    longer = coupons.generate(coupon["id"], count=3, length=12).json
    assert all(len(code) == 12 for code in longer["codes"])

    buyer.add(red, 1)
    buyer.place({"shipping_address": ADDRESS, "coupon_codes": [codes[0]]})
    seen = coupons.get(coupon["id"]).json
    assert seen["codes"] == {"total": 53, "generated": 53, "used": 1}
    listed = coupons.codes(coupon["id"], batch=batch, per_page=100).json
    assert listed["total"] == 50
    assert listed["items"][0] == {"code": codes[0], "batch": batch, "usage_limit": 1,
                                  "times_used": 1, "created_at": listed["items"][0]["created_at"]}
    assert [c["code"] for c in coupons.codes(coupon["id"], used="true").json["items"]] == \
        [codes[0]]
    assert coupons.codes(coupon["id"], used="false").json["total"] == 52

    response = coupons.csv(coupon["id"], batch=batch)
    assert response.content_type == "text/csv"
    assert f'filename="coupon-{coupon["id"]}-{batch}.csv"' in \
        response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["code"] for row in rows] == codes
    assert rows[0]["times_used"] == "1" and rows[1]["times_used"] == "0"
    assert len(list(csv.DictReader(io.StringIO(coupons.csv(coupon["id"]).text)))) == 53


def test_thousands_of_codes_at_once(coupons):
    coupon = coupons.make(None)
    generated = coupons.generate(coupon["id"], count=10_000, uses_per_code=2).json
    assert generated["count"] == 10_000 and len(set(generated["codes"])) == 10_000
    assert coupons.get(coupon["id"]).json["codes"]["total"] == 10_000
    assert coupons.codes(coupon["id"]).json["items"][0]["usage_limit"] == 2


@pytest.mark.parametrize("body, field", [
    ({}, "count"), ({"count": 0}, "count"), ({"count": 10_001}, "count"),
    ({"count": "5"}, "count"), ({"count": 5, "prefix": "bad-prefix"}, "prefix"),
    ({"count": 5, "prefix": "x" * 21}, "prefix"), ({"count": 5, "length": 5}, "length"),
    ({"count": 5, "length": 17}, "length"), ({"count": 5, "uses_per_code": 0}, "uses_per_code"),
    ({"count": 5, "extra": True}, "extra"),
])
def test_bad_generations_are_400(coupons, body, field):
    coupon = coupons.make("BASE")
    response = coupons.generate(coupon["id"], status=400, **body)
    assert field in response.json["error"]["fields"]
    assert coupons.get(coupon["id"]).json["codes"]["total"] == 1


@pytest.mark.parametrize("body", [
    {"usage_limit": None, "per_customer_limit": None, "starts_at": None, "ends_at": None},
    {"code": None}, {"min_subtotal": None}, {"name": ""}, {"combinable": True},
])
def test_patches_that_clear_fields(coupons, body):
    coupon = coupons.make("CLEAR", usage_limit=5, per_customer_limit=2, min_subtotal="3",
                          ends_at="2040-01-01T00:00:00Z", name="n")
    changed = coupons.patch(coupon["id"], **body).json
    for key, value in body.items():
        assert changed[key] == value


@pytest.mark.parametrize("body", [
    {"percent": None}, {"kind": "fixed_amount"}, {"usage_limit": 0}, {"code": 5},
    {"category_ids": ["a"]}, {"applies_to": None}, {"is_active": "yes please"},
    {"starts_at": "yesterday"},
])
def test_bad_patches_are_400_and_change_nothing(coupons, body):
    coupon = coupons.make("KEEP", percent="10")
    assert_error(coupons.patch(coupon["id"], status=400, **body), 400, "invalid")
    assert coupons.get(coupon["id"]).json == coupon


def test_the_openapi_document_lists_the_coupon_api(coupons, testapp):
    paths = testapp.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/admin/coupons", "/api/v1/admin/coupons/{id}",
            "/api/v1/admin/coupons/{id}/codes", "/api/v1/admin/coupons/{id}/codes.csv",
            "/api/v1/admin/coupons/{id}/deactivate",
            "/api/v1/admin/coupons/{id}/redemptions"} <= set(paths)
    assert "post" in paths["/api/v1/admin/coupons"]


def test_a_product_or_category_the_catalog_deletes_leaves_the_scope(coupons, testapp, staff,
                                                                    make_product,
                                                                    make_category):
    product, other = make_product(), make_product()
    coupon = coupons.make("SCOPED", applies_to="products", product_ids=[product.id, other.id])
    testapp.delete(f"/api/v1/products/{product.id}", headers=staff.headers, status=204)
    assert coupons.get(coupon["id"]).json["product_ids"] == [other.id]
    category = make_category("Gone")
    coupon = coupons.make("BYCAT", applies_to="categories", category_ids=[category.id])
    testapp.delete(f"/api/v1/categories/{category.id}", headers=staff.headers, status=204)
    assert coupons.get(coupon["id"]).json["category_ids"] == []
