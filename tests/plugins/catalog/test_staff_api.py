"""Staff writes: products, variants, categories and stock, with their validation."""
import pytest
import sqlalchemy as sa

from core.plugins import hookimpl
from plugins.catalog import inventory
from plugins.catalog.models import Option, OptionValue, Product, StockMovement, Variant

from .conftest import API


def product_body(**overrides):
    body = {
        "name": "Linen Shirt",
        "brand": "Acme",
        "description": "Breathable.",
        "images": [{"url": "https://cdn.example.com/linen-1.jpg", "alt": "Front"},
                   {"url": "/media/linen-2.jpg"}],
        "variants": [
            {"sku": "LIN-S-WHT", "price": "39.90", "options": {"Size": "S", "Colour": "White"},
             "stock": 4, "weight_grams": 250},
            {"sku": "LIN-M-WHT", "price": "39.90", "compare_at_price": "49.90",
             "options": {"Size": "M", "Colour": "White"}},
            {"sku": "LIN-M-BLU", "price": "42.00", "options": {"Size": "M", "Colour": "Blue"},
             "stock": 1},
        ],
    }
    body.update(overrides)
    return body


def create(testapp, staff, status=201, **overrides):
    return testapp.post_json(f"{API}/products", product_body(**overrides), headers=staff.headers,
                             status=status)


@pytest.mark.parametrize("method, path", [
    ("post_json", "/products"), ("patch_json", "/products/1"), ("delete", "/products/1"),
    ("post_json", "/products/1/variants"), ("patch_json", "/variants/1"),
    ("delete", "/variants/1"), ("get", "/variants/1/stock"), ("post_json", "/variants/1/stock"),
    ("post_json", "/categories"), ("patch_json", "/categories/1"), ("delete", "/categories/1"),
    ("post", "/catalog/import"),
])
def test_writes_are_staff_only(testapp, customer, method, path):
    call = getattr(testapp, method)
    kwargs = {"params": {}} if method.endswith("_json") else {}
    assert call(API + path, status=401, **kwargs).json["error"]["code"] == "unauthorized"
    assert call(API + path, headers=customer.headers, status=403, **kwargs).json["error"][
        "code"] == "forbidden"


def test_create_product(testapp, staff, dbsession):
    data = create(testapp, staff).json
    assert data["slug"] == "linen-shirt"
    assert data["images"] == [{"url": "https://cdn.example.com/linen-1.jpg", "alt": "Front"},
                              {"url": "/media/linen-2.jpg", "alt": ""}]
    assert data["options"] == [{"name": "Size", "values": ["S", "M"]},
                               {"name": "Colour", "values": ["White", "Blue"]}]
    assert [(v["sku"], v["stock_available"], v["compare_at_price"]) for v in data["variants"]] == [
        ("LIN-S-WHT", 4, None), ("LIN-M-WHT", 0, "49.90"), ("LIN-M-BLU", 1, None)]
    assert data["price"] == "39.90" and data["in_stock"] is True
    product = dbsession.get(Product, data["id"])
    assert (product.price_min, product.price_max) == (3990, 4200)
    # initial stock is in the ledger
    kinds = dbsession.execute(sa.select(StockMovement.sku, StockMovement.kind,
                                        StockMovement.on_hand_change)
                              .order_by(StockMovement.id)).all()
    assert [tuple(k) for k in kinds if k.sku.startswith("LIN-")] == [
        ("LIN-S-WHT", "initial", 4), ("LIN-M-BLU", "initial", 1)]
    # and the product is public at once
    assert testapp.get(f"{API}/products/linen-shirt").json["id"] == data["id"]


def test_slugs_are_made_unique_when_not_given(testapp, staff):
    first = create(testapp, staff, variants=[]).json
    second = create(testapp, staff, variants=[]).json
    assert (first["slug"], second["slug"]) == ("linen-shirt", "linen-shirt-2")
    assert create(testapp, staff, name="100", variants=[]).json["slug"] == "n-100"


def test_duplicate_slug_and_sku_are_409_naming_the_field(testapp, staff):
    create(testapp, staff, slug="linen")
    r = create(testapp, staff, slug="linen", status=409, variants=[])
    assert r.json["error"]["code"] == "duplicate_slug"
    assert "slug" in r.json["error"]["fields"]
    variants = [{"sku": "NEW-1", "price": "1.00"}, {"sku": "LIN-M-BLU", "price": "1.00"}]
    r = create(testapp, staff, slug="other", status=409, variants=variants)
    assert r.json["error"]["code"] == "duplicate_sku"
    assert list(r.json["error"]["fields"]) == ["variants.1.sku"]


@pytest.mark.parametrize("overrides, field", [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 301}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "12345"}, "slug"),
    ({"category_id": 2**40}, "category_id"),
    ({"category_id": 999999}, "category_id"),
    ({"category_id": "1"}, "category_id"),
    ({"brand": 12}, "brand"),
    ({"images": [{"url": "javascript:alert(1)"}]}, "images.0.url"),
    ({"images": "https://x.example.com/a.jpg"}, "images"),
    ({"unknown": 1}, "unknown"),
    ({"variants": [{"sku": "A", "price": 9.99}]}, "variants.0.price"),
    ({"variants": [{"sku": "A", "price": "9.999"}]}, "variants.0.price"),
    ({"variants": [{"sku": "A", "price": "-1"}]}, "variants.0.price"),
    ({"variants": [{"sku": "A", "price": "NaN"}]}, "variants.0.price"),
    ({"variants": [{"sku": "A", "price": "1e3"}]}, "variants.0.price"),
    ({"variants": [{"sku": "A", "price": "99999999999"}]}, "variants.0.price"),
    ({"variants": [{"sku": "A"}]}, "variants.0.price"),
    ({"variants": [{"sku": "A", "price": "1", "currency": "USD"}]}, "variants.0.currency"),
    ({"variants": [{"sku": "A", "price": "1", "stock": -1}]}, "variants.0.stock"),
    ({"variants": [{"sku": "A", "price": "1", "stock": 2**40}]}, "variants.0.stock"),
    ({"variants": [{"sku": "A", "price": "1", "stock": True}]}, "variants.0.stock"),
    ({"variants": [{"sku": "A", "price": "1", "weight_grams": "heavy"}]},
     "variants.0.weight_grams"),
    ({"variants": [{"sku": "has space", "price": "1"}]}, "variants.0.sku"),
    ({"variants": [{"sku": "", "price": "1"}]}, "variants.0.sku"),
    ({"variants": [{"sku": "A", "price": "1"}, {"sku": "A", "price": "2"}]}, "variants.1.sku"),
    ({"variants": [{"sku": "A", "price": "1", "options": {"Size": "S"}},
                   {"sku": "B", "price": "1", "options": {"Colour": "Red"}}]},
     "variants.1.options"),
    ({"variants": [{"sku": "A", "price": "1", "options": {"Size": ""}}]}, "variants.0.options"),
    ({"options": [{"name": "Size", "values": ["S"]}],
      "variants": [{"sku": "A", "price": "1", "options": {"Size": "XL"}}]}, "variants.0.options"),
    ({"options": [{"name": "Size", "values": ["S", "S"]}]}, "options.0.values"),
    ({"options": [{"name": "Size", "values": ["S"]}, {"name": "Size", "values": ["M"]}]},
     "options"),
])
def test_invalid_products_are_400_naming_the_field(testapp, staff, overrides, field):
    r = create(testapp, staff, status=400, **overrides)
    assert any(name == field or name.startswith(field + ".")
               for name in r.json["error"]["fields"]), r.json


def test_two_variants_with_the_same_options_are_409(testapp, staff):
    variants = [{"sku": "A-1", "price": "1", "options": {"Size": "S"}},
                {"sku": "A-2", "price": "1", "options": {"Size": "S"}}]
    r = create(testapp, staff, status=409, variants=variants)
    assert r.json["error"]["code"] == "duplicate_variant"
    assert "variants.1.options" in r.json["error"]["fields"]


def test_body_must_be_a_json_object(testapp, staff):
    for body in (b"[1, 2]", b"{not json", b"\xff\xfe"):
        testapp.post(f"{API}/products", body, headers={**staff.headers,
                     "Content-Type": "application/json"}, status=400)


def test_update_product(testapp, staff, make_category):
    product = create(testapp, staff).json
    category = make_category("Summer", slug="t-summer")
    r = testapp.patch_json(f"{API}/products/{product['id']}", {
        "name": "Linen Shirt Deluxe", "slug": "linen-deluxe", "category_id": category.id,
        "images": [{"url": "https://cdn.example.com/new.jpg", "alt": "New"}], "brand": "  ",
        "options": [{"name": "Colour", "values": ["Blue", "White"]},
                    {"name": "Size", "values": ["M", "S"]}],
    }, headers=staff.headers).json
    assert r["name"] == "Linen Shirt Deluxe" and r["slug"] == "linen-deluxe"
    assert r["category"]["slug"] == "t-summer" and r["brand"] is None
    assert r["images"] == [{"url": "https://cdn.example.com/new.jpg", "alt": "New"}]
    assert r["options"] == [{"name": "Colour", "values": ["Blue", "White"]},
                            {"name": "Size", "values": ["M", "S"]}]
    assert list(r["variants"][0]["options"]) == ["Colour", "Size"]
    # the new name is searchable, the old slug is gone
    assert testapp.get(f"{API}/products", params={"q": "deluxe"}).json["total"] == 1
    testapp.get(f"{API}/products/linen-shirt", status=404)


def test_update_product_validation(testapp, staff):
    product = create(testapp, staff).json
    other = create(testapp, staff, slug="taken", variants=[]).json
    url = f"{API}/products/{product['id']}"
    r = testapp.patch_json(url, {"slug": "taken"}, headers=staff.headers, status=409)
    assert "slug" in r.json["error"]["fields"]
    r = testapp.patch_json(url, {"options": [{"name": "Size", "values": ["S", "M"]}]},
                           headers=staff.headers, status=400)
    assert "options" in r.json["error"]["fields"]
    testapp.patch_json(url, {"name": None}, headers=staff.headers, status=400)
    testapp.patch_json(url, {"variants": []}, headers=staff.headers, status=400)
    testapp.patch_json(f"{API}/products/999999", {"name": "x"}, headers=staff.headers,
                       status=404)
    # keeping one's own slug is fine
    testapp.patch_json(f"{API}/products/{other['id']}", {"slug": "taken"}, headers=staff.headers)


def test_deactivate_hides_and_staff_still_edits(testapp, staff):
    product = create(testapp, staff).json
    testapp.patch_json(f"{API}/products/{product['id']}", {"is_active": False},
                       headers=staff.headers)
    testapp.get(f"{API}/products/{product['id']}", status=404)
    assert testapp.get(f"{API}/products", params={"q": "linen"}).json["total"] == 0
    testapp.patch_json(f"{API}/products/{product['id']}", {"is_active": True},
                       headers=staff.headers)
    assert testapp.get(f"{API}/products", params={"q": "linen"}).json["total"] == 1


def test_delete_product(testapp, staff, dbsession):
    product = create(testapp, staff).json
    testapp.delete(f"{API}/products/{product['id']}", headers=staff.headers, status=204)
    testapp.get(f"{API}/products/{product['id']}", headers=staff.headers, status=404)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Variant).where(
        Variant.sku.like("LIN-%"))) == 0
    # the ledger outlives the variants
    movements = dbsession.scalars(sa.select(StockMovement).where(
        StockMovement.sku == "LIN-S-WHT")).all()
    assert movements and all(m.variant_id is None for m in movements)
    testapp.delete(f"{API}/products/{product['id']}", headers=staff.headers, status=404)


def test_variants(testapp, staff, dbsession):
    product = create(testapp, staff).json
    url = f"{API}/products/{product['id']}/variants"
    added = testapp.post_json(url, {"sku": "LIN-L-BLU", "price": "44.00", "stock": 7,
                                    "options": {"Size": "L", "Colour": "Blue"}},
                              headers=staff.headers).json
    assert added["options"] == {"Size": "L", "Colour": "Blue"}
    assert added["stock_available"] == 7 and added["product"]["id"] == product["id"]
    dbsession.expire_all()
    assert dbsession.get(Product, product["id"]).price_max == 4400
    detail = testapp.get(f"{API}/products/{product['id']}").json
    assert detail["options"][0] == {"name": "Size", "values": ["S", "M", "L"]}

    r = testapp.post_json(url, {"sku": "LIN-X", "price": "1", "options": {"Size": "L"}},
                          headers=staff.headers, status=400)
    assert "options" in r.json["error"]["fields"]
    r = testapp.post_json(url, {"sku": "LIN-X", "price": "1",
                                "options": {"Size": "L", "Colour": "Blue"}},
                          headers=staff.headers, status=409)
    assert r.json["error"]["code"] == "duplicate_variant"
    r = testapp.post_json(url, {"sku": "LIN-S-WHT", "price": "1",
                                "options": {"Size": "XL", "Colour": "Blue"}},
                          headers=staff.headers, status=409)
    assert r.json["error"]["fields"] == {"sku": ["This SKU is already used."]}

    variant_url = f"{API}/variants/{added['id']}"
    changed = testapp.patch_json(variant_url, {"price": "19.50", "compare_at_price": None,
                                               "options": {"Size": "XL", "Colour": "Blue"}},
                                 headers=staff.headers).json
    assert changed["price"] == "19.50" and changed["options"]["Size"] == "XL"
    detail = testapp.get(f"{API}/products/{product['id']}").json
    # L is used by no variant any more: it is gone; XL is new
    assert detail["options"][0] == {"name": "Size", "values": ["S", "M", "XL"]}
    assert detail["price"] == "19.50"
    dbsession.expire_all()
    assert (dbsession.get(Product, product["id"]).price_min,
            dbsession.get(Product, product["id"]).price_max) == (1950, 4200)

    r = testapp.patch_json(variant_url, {"sku": "LIN-M-BLU"}, headers=staff.headers, status=409)
    assert "sku" in r.json["error"]["fields"]
    testapp.patch_json(variant_url, {"options": {"Size": "M", "Colour": "Blue"}},
                       headers=staff.headers, status=409)
    testapp.patch_json(variant_url, {"stock": 3}, headers=staff.headers, status=400)
    testapp.patch_json(variant_url, {"price": "1.234"}, headers=staff.headers, status=400)

    testapp.delete(variant_url, headers=staff.headers, status=204)
    detail = testapp.get(f"{API}/products/{product['id']}").json
    assert detail["options"][0] == {"name": "Size", "values": ["S", "M"]}
    assert detail["price"] == "39.90"
    dbsession.expire_all()
    assert dbsession.get(Product, product["id"]).price_max == 4200
    testapp.get(variant_url, status=404)
    values = dbsession.scalars(sa.select(OptionValue.value).join(Option).where(
        Option.product_id == product["id"], Option.name == "Size")).all()
    assert sorted(values) == ["M", "S"]


def test_a_product_gets_its_options_from_its_first_variant(testapp, staff):
    product = create(testapp, staff, variants=[]).json
    assert product["price"] is None and product["options"] == []
    url = f"{API}/products/{product['id']}/variants"
    testapp.post_json(url, {"sku": "FIRST", "price": "5", "options": {"Volume": "1 l"}},
                      headers=staff.headers)
    testapp.post_json(url, {"sku": "SECOND", "price": "5", "options": {"Volume": "2 l"}},
                      headers=staff.headers)
    detail = testapp.get(f"{API}/products/{product['id']}").json
    assert detail["options"] == [{"name": "Volume", "values": ["1 l", "2 l"]}]


def test_stock_adjustments_are_in_the_ledger(testapp, staff, dbsession):
    product = create(testapp, staff).json
    variant_id = product["variants"][0]["id"]
    url = f"{API}/variants/{variant_id}/stock"
    r = testapp.post_json(url, {"change": 6, "reason": "delivery", "reference": "PO-17"},
                          headers=staff.headers).json
    assert r["stock"] == {"variant_id": variant_id, "sku": "LIN-S-WHT", "on_hand": 10,
                          "reserved": 0, "available": 10}
    inventory.reserve(dbsession, variant_id, 8, reference="order:1")
    r = testapp.post_json(url, {"change": -3, "reason": "damaged"}, headers=staff.headers,
                          status=409)
    assert r.json["error"]["code"] == "stock_conflict"
    r = testapp.post_json(url, {"on_hand": 9, "reason": "stocktake"}, headers=staff.headers).json
    assert r["stock"]["on_hand"] == 9 and r["stock"]["available"] == 1
    testapp.post_json(url, {"on_hand": 7, "reason": "stocktake"}, headers=staff.headers,
                      status=409)
    ledger = testapp.get(url, headers=staff.headers).json
    assert [(m["kind"], m["on_hand_change"], m["reserved_change"], m["reason"])
            for m in ledger["items"]] == [
        ("adjustment", -1, 0, "stocktake"), ("reserve", 0, 8, ""),
        ("adjustment", 6, 0, "delivery"), ("initial", 4, 0, "initial stock")]
    assert ledger["items"][2]["reference"] == "PO-17"
    assert ledger["items"][2]["user_id"] == staff.id
    assert ledger["total"] == 4
    assert testapp.get(url, params={"per_page": 1, "page": 2},
                       headers=staff.headers).json["items"][0]["kind"] == "reserve"


@pytest.mark.parametrize("body", [
    {"change": 0, "reason": "x"}, {"change": 1}, {"change": 1, "reason": ""},
    {"change": 1, "on_hand": 1, "reason": "x"}, {"reason": "x"},
    {"on_hand": -1, "reason": "x"}, {"change": "5", "reason": "x"},
    {"change": 10**12, "reason": "x"},
])
def test_bad_stock_changes_are_400(testapp, staff, body):
    product = create(testapp, staff).json
    testapp.post_json(f"{API}/variants/{product['variants'][0]['id']}/stock", body,
                      headers=staff.headers, status=400)


def test_categories(testapp, staff, make_product):
    post = lambda body, status=201: testapp.post_json(  # noqa: E731
        f"{API}/categories", body, headers=staff.headers, status=status)
    root = post({"name": "Kitchen & Dining"}).json
    assert root["slug"] == "kitchen-dining" and root["path"] == [
        {"id": root["id"], "slug": "kitchen-dining", "name": "Kitchen & Dining"}]
    child = post({"name": "Knives", "parent_id": root["id"], "position": 2}).json
    grandchild = post({"name": "Chef knives", "parent_id": child["id"]}).json
    assert [c["slug"] for c in grandchild["path"]] == ["kitchen-dining", "knives",
                                                        "chef-knives"]
    assert post({"name": "X", "slug": "knives"}, status=409).json["error"]["fields"] == {
        "slug": ["A category already has this slug."]}
    assert "parent_id" in post({"name": "X", "parent_id": 999999}, status=400).json["error"][
        "fields"]
    post({"name": ""}, status=400)
    post({"name": "X", "slug": "Bad Slug"}, status=400)

    url = f"{API}/categories/{root['id']}"
    r = testapp.patch_json(url, {"parent_id": grandchild["id"]}, headers=staff.headers,
                           status=400)
    assert "parent_id" in r.json["error"]["fields"]
    testapp.patch_json(url, {"parent_id": root["id"]}, headers=staff.headers, status=400)
    moved = testapp.patch_json(f"{API}/categories/chef-knives",
                               {"parent_id": None, "name": "Chef's knives"},
                               headers=staff.headers).json
    assert moved["parent_id"] is None and moved["path"] == [
        {"id": grandchild["id"], "slug": "chef-knives", "name": "Chef's knives"}]

    r = testapp.delete(url, headers=staff.headers, status=409)
    assert r.json["error"]["code"] == "category_not_empty"
    testapp.delete(f"{API}/categories/{child['id']}", headers=staff.headers, status=204)
    testapp.delete(url, headers=staff.headers, status=204)
    testapp.get(url, status=404)


def test_a_category_with_products_cannot_be_deleted(testapp, staff, make_category, make_product):
    category = make_category("Full", slug="t-full")
    make_product("In it", category)
    r = testapp.delete(f"{API}/categories/t-full", headers=staff.headers, status=409)
    assert r.json["error"]["products"] == 1


class Watcher:
    def __init__(self):
        self.seen = []

    @hookimpl
    def catalog_product_changed(self, product, action, dbsession):
        self.seen.append((product.slug, action))


def test_product_changes_reach_plugins(testapp, staff, registry):
    # registered straight on the plugin manager, the hook works with or without its
    # hookspec in core/hookspecs.py (which a real plugin needs to be loaded)
    pm = registry["plugins"].pm
    watcher = Watcher()
    pm.register(watcher, name="test_catalog_watcher")
    try:
        product = create(testapp, staff).json
        testapp.patch_json(f"{API}/products/{product['id']}", {"name": "Other"},
                           headers=staff.headers)
        testapp.delete(f"{API}/products/{product['id']}", headers=staff.headers, status=204)
    finally:
        pm.unregister(watcher)
    assert watcher.seen == [("linen-shirt", "created"), ("linen-shirt", "updated"),
                            ("linen-shirt", "deleted")]
