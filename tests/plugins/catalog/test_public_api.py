"""The storefront's read API: lists, filters, sort, pagination, detail, categories, caching."""
import pytest

from core.plugins import hookimpl

from .conftest import API, ids


@pytest.fixture
def shop(make_category, make_product):
    """clothing > shirts > (t-shirts), clothing > trousers; shoes. Prices in EUR."""
    clothing = make_category("Clothing", slug="t-clothing")
    shirts = make_category("Shirts", parent=clothing, slug="t-shirts")
    tees = make_category("T-shirts", parent=shirts, slug="t-tees")
    trousers = make_category("Trousers", parent=clothing, slug="t-trousers")
    shoes = make_category("Shoes", slug="t-shoes")
    p = {
        "oxford": make_product("Oxford Shirt", shirts, brand="Acme", variants=[
            {"price": "40.00", "options": {"Size": "S", "Colour": "White"}, "stock": 2},
            {"price": "45.00", "options": {"Size": "M", "Colour": "Blue"}, "stock": 0}]),
        "tee": make_product("Basic Tee", tees, brand="Zenith", description="Soft organic cotton",
                            variants=[
                                {"price": "10.00", "options": {"Size": "M", "Colour": "White"},
                                 "stock": 0},
                                {"price": "50.00", "options": {"Size": "L", "Colour": "Blue"},
                                 "stock": 1}]),
        "chino": make_product("Chino Trousers", trousers, brand="Acme", variants=[
            {"price": "60.00", "options": {"Size": "M"}, "stock": 3}]),
        "runner": make_product("Runner Shoe", shoes, brand="Fleet", variants=[
            {"price": "80.00", "options": {"Size": "42"}, "stock": 0}]),
        "hidden": make_product("Hidden Shirt", shirts, brand="Acme", is_active=False),
        "draft": make_product("Draft Shirt", shirts, brand="Acme", variants=[]),
    }
    return {"categories": {"clothing": clothing, "shirts": shirts, "tees": tees,
                           "trousers": trousers, "shoes": shoes}, **p}


def listing(testapp, **params):
    return testapp.get(f"{API}/products", params=params)


def test_category_filter_includes_descendants_and_hides_inactive_and_unpriced(testapp, shop):
    r = listing(testapp, category="t-clothing", sort="name")
    assert ids(r) == [shop["tee"].id, shop["chino"].id, shop["oxford"].id]
    assert r.json["total"] == 3
    assert ids(listing(testapp, category="t-shirts", sort="name")) == [shop["tee"].id,
                                                                       shop["oxford"].id]
    assert ids(listing(testapp, category="t-tees")) == [shop["tee"].id]
    assert listing(testapp, category="no-such-category").json["total"] == 0


def test_category_products_route(testapp, shop):
    r = testapp.get(f"{API}/categories/t-shirts/products", params={"sort": "-price"})
    assert ids(r) == [shop["oxford"].id, shop["tee"].id]  # lowest prices 40 and 10
    by_id = testapp.get(f"{API}/categories/{shop['categories']['shirts'].id}/products")
    assert by_id.json["total"] == 2
    testapp.get(f"{API}/categories/nope/products", status=404)
    testapp.get(f"{API}/categories/t-shirts/products", params={"category": "x"}, status=400)


def test_brand_filter_accepts_several_brands(testapp, shop):
    scope = {"category": "t-clothing", "sort": "name"}
    assert ids(listing(testapp, brand="Acme", **scope)) == [shop["chino"].id, shop["oxford"].id]
    r = testapp.get(f"{API}/products?brand=Zenith&brand=Fleet&sort=name")
    assert set(ids(r)) >= {shop["tee"].id, shop["runner"].id}
    assert shop["oxford"].id not in ids(r)


def test_price_range_matches_any_variant_price(testapp, shop):
    scope = {"category": "t-clothing", "sort": "price"}
    # the tee has variants at 10 and 50: it is in both ranges
    assert ids(listing(testapp, min_price="48", **scope)) == [shop["tee"].id, shop["chino"].id]
    assert ids(listing(testapp, max_price="10.00", **scope)) == [shop["tee"].id]
    assert ids(listing(testapp, min_price="41", max_price="46", **scope)) == [shop["oxford"].id]
    assert ids(listing(testapp, min_price="11", max_price="39", **scope)) == []


def test_in_stock(testapp, shop):
    scope = {"category": "t-clothing", "sort": "name"}
    assert ids(listing(testapp, in_stock="true", **scope)) == [
        shop["tee"].id, shop["chino"].id, shop["oxford"].id]
    assert ids(listing(testapp, in_stock="true", category="t-shoes")) == []
    assert ids(listing(testapp, in_stock="false", category="t-shoes")) == [shop["runner"].id]
    # the oxford's blue M is out of stock; its white S is in stock
    assert ids(listing(testapp, in_stock="true", **{"option.Colour": "Blue"}, **scope)) == [
        shop["tee"].id]


def test_option_filters_must_match_one_variant(testapp, shop):
    scope = {"category": "t-clothing", "sort": "name"}
    assert ids(listing(testapp, **{"option.Size": "M"}, **scope)) == [
        shop["tee"].id, shop["chino"].id, shop["oxford"].id]
    # the tee has a white M and a blue L, but no white L
    assert ids(listing(testapp, **{"option.Size": "L", "option.Colour": "White"}, **scope)) == []
    assert ids(listing(testapp, **{"option.Size": "L", "option.Colour": "Blue"}, **scope)) == [
        shop["tee"].id]
    assert ids(listing(testapp, **{"option.Size": "S,L"}, **scope)) == [
        shop["tee"].id, shop["oxford"].id]
    # combined with the price range on the same variant: the tee's M costs 10
    assert ids(listing(testapp, **{"option.Size": "M"}, min_price="20", **scope)) == [
        shop["chino"].id, shop["oxford"].id]
    assert ids(listing(testapp, **{"option.Fabric": "Silk"}, **scope)) == []


def test_keyword_search_over_name_brand_description_and_sku(testapp, shop):
    def found(q):
        return set(ids(listing(testapp, q=q, category="t-clothing")))

    assert found("oxford") == {shop["oxford"].id}
    assert found("OXF") == {shop["oxford"].id}  # a prefix, in any case
    assert found("zenith") == {shop["tee"].id}
    assert found("organic cotton") == {shop["tee"].id}
    assert found("organic wool") == set()  # every word must match
    sku = shop["chino"].variants[0].sku
    assert found(sku) == {shop["chino"].id}
    assert found(sku.lower()) == {shop["chino"].id}
    assert found("shirt") == {shop["oxford"].id}  # not "hidden shirt" nor "draft shirt"
    assert found("irt") == set()  # words match from their start
    for odd in ("'", "\"oxford", "ox & ford | !", "%", "_", "a:*", "\\", "(((", "ß"):
        listing(testapp, q=odd)


def test_sorts_and_pagination(testapp, make_category, make_product):
    category = make_category("Paged", slug="t-paged")
    made = [make_product(f"Item {name}", category, variants=[{"price": price}])
            for name, price in (("C", "3.00"), ("A", "1.00"), ("E", "5.00"), ("B", "2.00"),
                                ("D", "4.00"))]
    by_name = sorted(made, key=lambda p: p.name)
    scope = {"category": "t-paged"}
    assert ids(listing(testapp, sort="name", **scope)) == [p.id for p in by_name]
    assert ids(listing(testapp, sort="-name", **scope)) == [p.id for p in by_name[::-1]]
    assert ids(listing(testapp, sort="price", **scope)) == [p.id for p in by_name]
    assert ids(listing(testapp, sort="-price", **scope)) == [p.id for p in by_name[::-1]]
    assert ids(listing(testapp, sort="newest", **scope)) == [p.id for p in made[::-1]]
    assert ids(listing(testapp, **scope)) == [p.id for p in made[::-1]]

    first = listing(testapp, sort="name", per_page=2, **scope).json
    assert [i["name"] for i in first["items"]] == ["Item A", "Item B"]
    assert (first["total"], first["page"], first["per_page"], first["pages"]) == (5, 1, 2, 3)
    assert first["previous"] is None
    second = testapp.get(first["next"]).json
    assert [i["name"] for i in second["items"]] == ["Item C", "Item D"]
    third = testapp.get(second["next"]).json
    assert [i["name"] for i in third["items"]] == ["Item E"]
    assert third["next"] is None and third["previous"]
    beyond = listing(testapp, page=9, per_page=2, **scope).json
    assert beyond["items"] == [] and beyond["total"] == 5


@pytest.mark.parametrize("params", [
    {"per_page": "101"}, {"per_page": "0"}, {"page": "0"}, {"page": "x"},
    {"sort": "random"}, {"min_price": "abc"}, {"min_price": "-1"}, {"max_price": "1e3"},
    {"min_price": "1.001"}, {"min_price": "5", "max_price": "4"}, {"in_stock": "maybe"},
    {"colour": "red"}, {"q": "x" * 201}, {"q": "a\x00b"}, {"option.Size": "M\x00"},
    {"option.": "M"}, {"brand": "a\x00"}, {"facets": "often"}, {"min_price": "99999999999"},
])
def test_bad_list_parameters_are_400(testapp, params):
    r = testapp.get(f"{API}/products", params=params, status=400)
    assert r.json["error"]["fields"]


def test_include_inactive_is_for_staff(testapp, shop, staff, customer):
    testapp.get(f"{API}/products", params={"include_inactive": "true"}, status=401)
    testapp.get(f"{API}/products", params={"include_inactive": "true"}, headers=customer.headers,
                status=403)
    r = testapp.get(f"{API}/products", params={"include_inactive": "true", "category": "t-shirts",
                                                "sort": "price"}, headers=staff.headers)
    # products without a price (no variant) come last
    assert ids(r) == [shop["tee"].id, shop["hidden"].id, shop["oxford"].id, shop["draft"].id]


def test_product_detail(testapp, shop):
    tee = shop["tee"]
    data = testapp.get(f"{API}/products/{tee.id}").json
    assert data == testapp.get(f"{API}/products/{tee.slug}").json
    assert data["name"] == "Basic Tee" and data["slug"] == tee.slug
    assert data["brand"] == "Zenith" and data["description"] == "Soft organic cotton"
    assert data["category"] == {"id": shop["categories"]["tees"].id, "slug": "t-tees",
                                "name": "T-shirts"}
    assert data["options"] == [{"name": "Size", "values": ["M", "L"]},
                               {"name": "Colour", "values": ["White", "Blue"]}]
    assert [(v["sku"], v["options"], v["price"], v["currency"], v["stock_available"])
            for v in data["variants"]] == [
        (tee.variants[0].sku, {"Size": "M", "Colour": "White"}, "10.00", "EUR", 0),
        (tee.variants[1].sku, {"Size": "L", "Colour": "Blue"}, "50.00", "EUR", 1)]
    assert list(data["variants"][0]["options"]) == ["Size", "Colour"]
    assert (data["price"], data["price_max"], data["currency"]) == ("10.00", "50.00", "EUR")
    assert data["in_stock"] is True and data["is_active"] is True


def test_inactive_products_are_invisible_to_customers(testapp, shop, customer, staff):
    hidden = shop["hidden"]
    testapp.get(f"{API}/products/{hidden.id}", status=404)
    testapp.get(f"{API}/products/{hidden.id}", headers=customer.headers, status=404)
    testapp.get(f"{API}/variants/{hidden.variants[0].id}", status=404)
    assert testapp.get(f"{API}/products/{hidden.id}", headers=staff.headers).json["is_active"] \
        is False
    assert shop["hidden"].id not in ids(listing(testapp, q="hidden"))


@pytest.mark.parametrize("ref", ["999999", "99999999999999999999", "Not A Slug", "a%00b",
                                 "-1", "0", "no-such-product", "%C2%B2", "%D9%A1%D9%A2"])
def test_unknown_products_are_404(testapp, ref):
    r = testapp.get(f"{API}/products/{ref}", status=404)
    assert r.json["error"]["code"] in ("product_not_found", "not_found")


def test_variant_detail(testapp, shop):
    variant = shop["oxford"].variants[1]
    data = testapp.get(f"{API}/variants/{variant.id}").json
    assert data["sku"] == variant.sku and data["price"] == "45.00"
    assert data["product"] == {"id": shop["oxford"].id, "slug": shop["oxford"].slug,
                               "name": "Oxford Shirt"}
    for ref in ("abc", "99999999999", "%C2%B2", "0"):
        testapp.get(f"{API}/variants/{ref}", status=404)


def test_facets_count_the_current_filters(testapp, shop):
    r = listing(testapp, category="t-clothing", facets="true")
    assert r.json["facets"]["brands"] == [{"value": "Acme", "count": 2},
                                          {"value": "Zenith", "count": 1}]
    categories = {c["slug"]: c["count"] for c in r.json["facets"]["categories"]}
    assert categories == {"t-shirts": 1, "t-tees": 1, "t-trousers": 1}
    narrowed = listing(testapp, category="t-clothing", facets="true", brand="Acme").json["facets"]
    assert narrowed["brands"] == [{"value": "Acme", "count": 2}]
    assert "facets" not in listing(testapp, category="t-clothing").json


def test_category_tree(testapp, shop):
    tree = testapp.get(f"{API}/categories").json["items"]
    clothing = next(node for node in tree if node["slug"] == "t-clothing")
    assert clothing["parent_id"] is None
    assert [c["slug"] for c in clothing["children"]] == ["t-shirts", "t-trousers"]
    shirts = clothing["children"][0]
    assert shirts["parent_id"] == clothing["id"]
    assert [c["slug"] for c in shirts["children"]] == ["t-tees"]
    assert shirts["children"][0]["children"] == []


def test_category_detail_has_children_and_path(testapp, shop):
    data = testapp.get(f"{API}/categories/t-tees").json
    assert [c["slug"] for c in data["path"]] == ["t-clothing", "t-shirts", "t-tees"]
    assert data["children"] == []
    shirts = testapp.get(f"{API}/categories/{shop['categories']['shirts'].id}").json
    assert [c["slug"] for c in shirts["children"]] == ["t-tees"]
    testapp.get(f"{API}/categories/no-such", status=404)


def test_public_gets_are_cacheable_and_answer_304(testapp, shop, customer):
    for path in ("/products?category=t-clothing", f"/products/{shop['tee'].id}",
                 "/categories", "/categories/t-shirts", "/categories/t-shirts/products",
                 f"/variants/{shop['tee'].variants[0].id}"):
        first = testapp.get(API + path)
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "public, max-age=60"
        again = testapp.get(API + path, headers={"If-None-Match": etag}, status=304)
        assert again.body == b""
        assert again.headers["ETag"] == etag
        signed_in = testapp.get(API + path, headers=customer.headers)
        assert signed_in.headers["Cache-Control"] == "private, no-cache"
    errors = testapp.get(f"{API}/products/999999", status=404)
    assert "ETag" not in errors.headers


def test_etag_changes_when_the_product_changes(testapp, shop, dbsession):
    from plugins.catalog import inventory

    path = f"{API}/products/{shop['tee'].id}"
    etag = testapp.get(path).headers["ETag"]
    inventory.reserve(dbsession, shop["tee"].variants[1].id, 1)
    changed = testapp.get(path, headers={"If-None-Match": etag}, status=200)
    assert changed.headers["ETag"] != etag
    assert changed.json["in_stock"] is False


def test_cache_max_age_is_a_setting(testapp, shop, staff):
    testapp.put_json(f"{API}/admin/plugins/catalog/settings", {"cache_max_age": 300},
                     headers=staff.headers)
    assert testapp.get(f"{API}/categories").headers["Cache-Control"] == "public, max-age=300"


class AddsFields:
    @hookimpl
    def serialize(self, kind, obj, data):
        if kind == "catalog.product":
            return {"rating": 4.5, "name": "overwritten?"}
        if kind == "catalog.variant":
            return {"barcode": f"BC-{obj.sku}"}
        return None


def test_other_plugins_add_fields_to_products(testapp, shop, registry):
    pm = registry["plugins"].pm
    plugin = AddsFields()
    pm.register(plugin, name="test_catalog_fields")
    try:
        data = testapp.get(f"{API}/products/{shop['tee'].id}").json
        listed = listing(testapp, category="t-tees").json["items"][0]
    finally:
        pm.unregister(plugin)
    for product in (data, listed):
        assert product["rating"] == 4.5
        assert product["name"] == "Basic Tee"  # existing fields are not overwritten
        assert product["variants"][0]["barcode"] == f"BC-{shop['tee'].variants[0].sku}"


def test_catalog_routes_answer_404_while_disabled(testapp, shop, staff):
    testapp.post_json(f"{API}/admin/plugins/catalog/disable", {"cascade": True},
                      headers=staff.headers)
    testapp.get(f"{API}/products", status=404)
    testapp.get(f"{API}/categories", status=404)
    testapp.post_json(f"{API}/admin/plugins/catalog/enable", {}, headers=staff.headers)
    testapp.get(f"{API}/products")


def test_the_openapi_document_describes_the_catalog(testapp):
    document = testapp.get(f"{API}/openapi.json").json
    paths = document["paths"]
    for path, methods in {"/api/v1/products": {"get", "post"},
                          "/api/v1/products/{ref}": {"get", "patch", "delete"},
                          "/api/v1/products/{ref}/variants": {"post"},
                          "/api/v1/variants/{id}": {"get", "patch", "delete"},
                          "/api/v1/variants/{id}/stock": {"get", "post"},
                          "/api/v1/categories": {"get", "post"},
                          "/api/v1/categories/{ref}": {"get", "patch", "delete"},
                          "/api/v1/categories/{ref}/products": {"get"},
                          "/api/v1/catalog/import": {"post"}}.items():
        assert set(paths[path]) == methods, path
    listing_op = paths["/api/v1/products"]["get"]
    assert "security" not in listing_op and "security" in paths["/api/v1/products"]["post"]
    schemas = document["components"]["schemas"]
    assert {"price", "variants", "options"} <= set(schemas["CatalogProduct"]["properties"])
