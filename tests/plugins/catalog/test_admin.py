"""The catalog's admin pages: products, variants, stock, categories, import, dashboard."""
import json

import pytest
import sqlalchemy as sa

from plugins.catalog import inventory
from plugins.catalog.models import Product, StockMovement, Variant
from tests.core.admin.conftest import Admin, text_of


@pytest.fixture
def admin(testapp, staff):
    client = Admin(testapp)
    client.login(staff)
    client.user = staff
    return client


def errors(page):
    return {p.find_parent(class_="field").find(["input", "textarea", "select"])["name"]:
            p.get_text() for p in page.html.select(".field .field-error")}


def names(page):
    return [a.get_text() for a in page.html.select("tbody td:first-child strong")]


def product_form(admin, page):
    return admin.form(page, page.request.path)


# --- products -----------------------------------------------------------------------------


def test_products_list_searches_filters_and_paginates(admin, make_product, make_category):
    shoes = make_category("Shoes")
    make_product("Trail Runner", category=shoes, brand="Acme",
                 variants=[{"price": "80.00", "stock": 0}])
    make_product("Linen Shirt", variants=[{"price": "30.00", "stock": 3}])
    make_product("Hidden Hat", is_active=False)
    page = admin.get("/admin/catalog/products", q="trail")
    rows = page.html.select("tbody tr")
    assert len(rows) == 1
    cells = [td.get_text(" ", strip=True) for td in rows[0].find_all("td")]
    assert cells[0].startswith("Trail Runner Acme") and cells[1] == "Shoes"
    assert cells[2] == "80.00 EUR" and cells[4] == "0" and cells[5] == "active"
    assert "Hidden Hat" in names(admin.get("/admin/catalog/products", q="hat"))  # inactive too
    assert names(admin.get("/admin/catalog/products", category=str(shoes.id))) == ["Trail Runner"]
    sold_out = names(admin.get("/admin/catalog/products", stock="out", q="trail runner"))
    assert sold_out == ["Trail Runner"]
    assert names(admin.get("/admin/catalog/products", stock="in", q="trail runner")) == []
    first = admin.get("/admin/catalog/products", per_page="1", sort="name")
    assert len(first.html.select("tbody tr")) == 1
    second = admin.get(first.html.find("a", rel="next")["href"])
    assert names(second) != names(first)
    # nonsense filters are ignored rather than refused
    admin.get("/admin/catalog/products", category="abc", sort="nope", page="0")
    admin.get("/admin/catalog/products", category="99999999999999")


def test_create_a_product_with_its_first_variant(admin, dbsession, make_category):
    shoes = make_category("Shoes")
    page = admin.get("/admin/catalog/products/new")
    form = product_form(admin, page)
    form["name"] = "Canvas Sneaker"
    form["brand"] = "Acme"
    form["category_id"] = str(shoes.id)
    form["description"] = "Light.\r\nWashable."
    form["images"] = "https://img.example/a.jpg | the left shoe\nhttps://img.example/b.jpg"
    form["sku"], form["price"], form["stock"] = "SNK-1", "49.90", "7"
    response = form.submit(status=303)
    page = response.follow()
    assert admin.flashes(page) == ["Product “Canvas Sneaker” created."]
    product = dbsession.scalars(sa.select(Product).where(Product.slug == "canvas-sneaker")).one()
    assert response.location.endswith(f"/admin/catalog/products/{product.id}")
    assert (product.brand, product.category_id, product.description) == (
        "Acme", shoes.id, "Light.\nWashable.")
    assert [(i.url, i.alt) for i in product.images] == [
        ("https://img.example/a.jpg", "the left shoe"), ("https://img.example/b.jpg", "")]
    variant = product.variants[0]
    assert (variant.sku, variant.price, variant.currency) == ("SNK-1", 4990, "EUR")
    assert inventory.level(dbsession, variant.id).on_hand == 7
    movement = dbsession.scalars(sa.select(StockMovement).where(
        StockMovement.variant_id == variant.id)).one()
    assert movement.user_id == admin.user.id  # the ledger knows who


def test_a_refused_product_form_shows_the_schemas_messages_and_keeps_the_input(admin, dbsession):
    page = admin.get("/admin/catalog/products/new")
    form = product_form(admin, page)
    form["name"] = ""
    form["slug"] = "Not A Slug"
    form["images"] = "ftp://nope"
    form["sku"], form["price"] = "SNK 1", "a lot"
    page = form.submit(status=400)
    found = errors(page)
    assert set(found) == {"name", "slug", "images", "sku", "price"}
    assert "lower-case letters" in found["slug"]
    assert admin.flashes(page) == ["Some fields are not valid; see the messages below."]
    assert page.html.select_one("input[name=slug]")["value"] == "Not A Slug"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Product).where(
        Product.slug == "not-a-slug")) == 0


def test_edit_a_product(admin, make_product, dbsession):
    product = make_product("Old Name", brand="Acme")
    url = f"/admin/catalog/products/{product.id}"
    page = admin.get(url)
    form = product_form(admin, page)
    assert form["name"].value == "Old Name" and form["is_active"].checked
    form["name"] = "New Name"
    form["brand"] = ""
    form["is_active"] = False
    page = form.submit(status=303).follow()
    assert admin.flashes(page) == ["Product “New Name” saved."]
    dbsession.expire_all()
    product = dbsession.get(Product, product.id)
    assert (product.name, product.brand, product.is_active) == ("New Name", None, False)
    assert product.slug == "old-name"  # an empty slug input keeps it


def test_a_duplicate_slug_is_a_conflict_in_words(admin, make_product):
    make_product("Taken", slug="taken")
    product = make_product("Other")
    form = product_form(admin, admin.get(f"/admin/catalog/products/{product.id}"))
    form["slug"] = "taken"
    page = form.submit(status=409)
    assert errors(page) == {"slug": "A product already has this slug."}
    assert page.html.select_one("h1").get_text(strip=True).startswith("Other")


def test_delete_a_product_needs_the_confirmation(admin, make_product, dbsession):
    product = make_product("Doomed")
    url = f"/admin/catalog/products/{product.id}/delete"
    refused = admin.post(url).follow()
    assert admin.flashes(refused) == [
        "Tick the box to confirm that the product is to be deleted."]
    page = admin.post(url, {"confirm": "1"}).follow()
    assert admin.flashes(page) == ["Product “Doomed” deleted."]
    assert dbsession.scalar(sa.select(Product.id).where(Product.id == product.id)) is None
    admin.get(f"/admin/catalog/products/{product.id}", status=404)
    admin.post(url, {"confirm": "1"}, status=404)


# --- variants and stock -----------------------------------------------------------------------


def test_add_edit_and_delete_variants(admin, make_product, dbsession):
    product = make_product("Tee", variants=[{"price": "10.00", "options": {"Size": "S"},
                                             "stock": 1}])
    page = admin.get(f"/admin/catalog/products/{product.id}")
    form = admin.form(page, f"/products/{product.id}/variants")
    form["sku"], form["price"], form["stock"] = "TEE-M", "12.50", "4"
    form["options"] = "Size=M"
    page = form.submit(status=303).follow()
    assert admin.flashes(page) == ["Variant TEE-M added."]
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.html.select("section.card tbody tr")]
    assert rows[1][:6] == ["TEE-M", "Size: M", "12.50 EUR", "4", "0", "4"]
    variant = dbsession.scalars(sa.select(Variant).where(Variant.sku == "TEE-M")).one()
    # a second M is refused by the same rule as the API's
    form = admin.form(page, f"/products/{product.id}/variants")
    form["sku"], form["price"], form["options"] = "TEE-M2", "1.00", "Size=M"
    page = form.submit(status=409)
    assert errors(page) == {"options": "Another variant of this product has these options."}
    assert page.html.select_one("textarea[name=options]").get_text() == "Size=M"
    bad = admin.form(page, f"/products/{product.id}/variants")
    bad["sku"], bad["price"], bad["options"] = "TEE-L", "1.00", "just text"
    assert errors(bad.submit(status=400)) == {
        "options": "Write each option as Name=Value, not “just text”."}
    # edit
    page = admin.get(f"/admin/catalog/variants/{variant.id}")
    form = admin.form(page, f"/admin/catalog/variants/{variant.id}")
    assert form["options"].value == "Size=M" and form["price"].value == "12.50"
    form["price"], form["compare_at_price"], form["options"] = "11.00", "15.00", "Size=L"
    page = form.submit(status=303).follow()
    assert admin.flashes(page) == ["Variant TEE-M saved."]
    dbsession.expire_all()
    variant = dbsession.get(Variant, variant.id)
    assert (variant.price, variant.compare_at_price) == (1100, 1500)
    form = admin.form(admin.get(f"/admin/catalog/variants/{variant.id}"),
                      f"/admin/catalog/variants/{variant.id}")
    form["price"] = "-1"
    assert "price" in errors(form.submit(status=400))
    # delete
    url = f"/admin/catalog/variants/{variant.id}/delete"
    admin.post(url).follow()
    assert dbsession.get(Variant, variant.id) is not None
    page = admin.post(url, {"confirm": "1"}).follow()
    assert admin.flashes(page) == ["Variant TEE-M deleted."]
    admin.get(f"/admin/catalog/variants/{variant.id}", status=404)


def test_stock_changes_and_counts_go_to_the_ledger(admin, make_product, dbsession):
    product = make_product("Mug", variants=[{"price": "5.00", "stock": 3}])
    variant = product.variants[0]
    url = f"/admin/catalog/variants/{variant.id}/stock"
    page = admin.post(url, {"mode": "change", "quantity": "5", "reason": "delivery",
                            "reference": "DN-17"}).follow()
    assert admin.flashes(page) == [f"Stock of {variant.sku} is now 8 on hand, 8 available."]
    page = admin.post(url, {"mode": "count", "quantity": "6", "reason": "stock count"}).follow()
    assert admin.flashes(page) == [f"Stock of {variant.sku} is now 6 on hand, 6 available."]
    kinds = [[td.get_text(" ", strip=True) for td in tr.find_all("td")][1:6]
             for tr in page.html.select("tbody tr")]
    assert kinds == [["adjustment", "-2 → 6", "+0 → 0", "stock count", ""],
                     ["adjustment", "+5 → 8", "+0 → 0", "delivery", "DN-17"],
                     ["initial", "+3 → 3", "+0 → 0", "initial stock", ""]]
    # refusals: more than is there, reserved units, nonsense
    inventory.reserve(dbsession, variant.id, 4)
    page = admin.post(url, {"mode": "change", "quantity": "-3", "reason": "broken"},
                      status=409)
    assert "4 of them are reserved" in text_of(page)
    assert errors(admin.post(url, {"mode": "change", "quantity": "0", "reason": "x"},
                             status=400)) == {"quantity": "A change of 0 changes nothing."}
    found = errors(admin.post(url, {"mode": "count", "quantity": "many", "reason": ""},
                              status=400))
    assert set(found) == {"quantity", "reason"}
    assert inventory.level(dbsession, variant.id).on_hand == 6
    pages = admin.get(url, per_page="1")
    assert pages.html.find("a", rel="next") is not None


# --- categories -------------------------------------------------------------------------------


def test_categories_create_edit_and_delete(admin, make_category, make_product, dbsession):
    clothing = make_category("Clothing")
    page = admin.get("/admin/catalog/categories")
    form = admin.form(page, "/admin/catalog/categories")
    form["name"], form["parent_id"] = "Shirts", str(clothing.id)
    page = form.submit(status=303).follow()
    assert admin.flashes(page) == ["Category “Shirts” created."]
    assert "Clothing / Shirts" in [a.get_text() for a in page.html.select("tbody a")]
    shirts = dbsession.scalars(sa.select(type(clothing)).where(
        type(clothing).slug == "shirts")).one()
    assert shirts.parent_id == clothing.id
    assert [a.get_text() for a in admin.get("/admin/catalog/categories", q="shirt")
            .html.select("tbody td:first-child a")] == ["Clothing / Shirts"]
    # moving a category under its own child is refused with the service's words
    page = admin.get(f"/admin/catalog/categories/{clothing.id}")
    options = [o["value"] for o in page.html.select("select[name=parent_id] option")]
    assert str(clothing.id) not in options
    page = admin.post(f"/admin/catalog/categories/{clothing.id}",
                      {"name": "Clothing", "parent_id": str(shirts.id)}, status=400)
    assert "cannot be moved under itself" in errors(page)["parent_id"]
    page = admin.post(f"/admin/catalog/categories/{shirts.id}",
                      {"name": "Shirts & Tops", "slug": "shirts", "parent_id": ""}).follow()
    assert admin.flashes(page) == ["Category “Shirts & Tops” saved."]
    # a category with products cannot be deleted
    make_product("Tee", category=clothing)
    page = admin.post(f"/admin/catalog/categories/{clothing.id}/delete").follow()
    assert admin.flashes(page) == [
        "The category still has 0 sub-categories and 1 products; move or delete them first."]
    page = admin.post(f"/admin/catalog/categories/{shirts.id}/delete").follow()
    assert admin.flashes(page) == ["Category “Shirts & Tops” deleted."]
    duplicate = admin.post("/admin/catalog/categories", {"name": "X", "slug": clothing.slug},
                           status=409)
    assert errors(duplicate) == {"slug": "A category already has this slug."}


# --- import -----------------------------------------------------------------------------------


CSV = (b"slug,name,sku,price,stock,option.Size\n"
       b"imp-tee,Imported Tee,IMP-S,9.00,3,S\n"
       b"imp-tee,Imported Tee,IMP-M,9.50,2,M\n")


def test_import_a_csv_file(admin, dbsession):
    page = admin.post("/admin/catalog/import", {}, status=200,
                      upload_files=[("file", "products.csv", CSV)])
    assert admin.flashes(page) == ["Import done: 1 created, 0 updated, 0 rejected."]
    product = dbsession.scalars(sa.select(Product).where(Product.slug == "imp-tee")).one()
    assert sorted(v.sku for v in product.variants) == ["IMP-M", "IMP-S"]
    assert page.html.find("a", string="imp-tee")["href"] == \
        f"/admin/catalog/products/{product.id}"


def test_a_rejected_import_changes_nothing_unless_partial(admin, dbsession):
    data = json.dumps([{"slug": "good-one", "name": "Good", "variants": [
        {"sku": "GOOD-1", "price": "1.00"}]},
        {"slug": "bad-one", "name": "Bad", "variants": [{"sku": "BAD-1", "price": "-1"}]}])
    page = admin.post("/admin/catalog/import", {"format": "json"}, status=422,
                      upload_files=[("file", "upload.txt", data.encode())])
    assert "1 product rejected; nothing was imported" in admin.flashes(page)[0]
    assert "Nothing was imported" in text_of(page)
    rejected = [td.get_text(" ", strip=True) for td in page.html.select("tbody td")]
    assert rejected[:2] == ["2", "bad-one"] and "price" in rejected[2]
    count = sa.select(sa.func.count()).select_from(Product).where(
        Product.slug.in_(["good-one", "bad-one"]))
    assert dbsession.scalar(count) == 0
    page = admin.post("/admin/catalog/import", {"format": "json", "partial": "1"},
                      status=200, upload_files=[("file", "upload.txt", data.encode())])
    assert admin.flashes(page) == ["Import done: 1 created, 0 updated, 1 rejected."]
    assert dbsession.scalar(count) == 1


def test_import_refuses_unreadable_files(admin):
    page = admin.post("/admin/catalog/import", {}, status=400)
    assert admin.flashes(page) == ["Choose a CSV or JSON file to import."]
    page = admin.post("/admin/catalog/import", {}, status=400,
                      upload_files=[("file", "data.bin", b"x")])
    assert "CSV or JSON" in admin.flashes(page)[0]
    page = admin.post("/admin/catalog/import", {"format": "csv"}, status=400,
                      upload_files=[("file", "data.csv", b"\xff\xfe")])
    assert admin.flashes(page) == ["The file is not UTF-8 text."]


# --- dashboard, menu, permissions ---------------------------------------------------------


def test_dashboard_shows_catalog_figures_and_low_stock(admin, make_product):
    product = make_product("Almost Gone", variants=[{"price": "5.00", "stock": 1}])
    make_product("Plenty", variants=[{"price": "5.00", "stock": 55}])
    page = admin.get("/admin")
    assert "Low stock (at most 5 available)" in page.text
    rows = _low_stock_rows(page)
    assert ["Almost Gone", product.variants[0].sku, "1"] in rows
    assert not [row for row in rows if row[0] == "Plenty"]
    catalog = next(w for w in page.html.select(".widget") if w.find("h2").get_text() == "Catalog")
    assert "Active products" in catalog.get_text()


def test_the_low_stock_threshold_is_a_catalog_setting(admin, make_product, plugin_lifecycle):
    make_product("Plenty", variants=[{"price": "5.00", "stock": 55}])
    plugin_lifecycle("enable", "catalog", settings={"low_stock_threshold": 60})
    page = admin.get("/admin")
    assert "Low stock (at most 60 available)" in page.text
    assert [row[0] for row in _low_stock_rows(page)].count("Plenty") == 1


def _low_stock_rows(page):
    widget = next(w for w in page.html.select(".widget")
                  if w.find("h2").get_text().startswith("Low stock"))
    return [[td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in widget.select("tbody tr")]


def test_menu_entries_of_the_catalog(admin):
    menu = admin.menu("/admin/catalog/categories")
    assert menu.index("Products") < menu.index("Categories") < menu.index("Import")
    page = admin.get("/admin/catalog/categories")
    assert [a.get_text() for a in page.html.select("nav.menu a.active")] == ["Categories"]


@pytest.mark.parametrize("method,url", [
    ("GET", "/admin/catalog/products"), ("GET", "/admin/catalog/products/new"),
    ("POST", "/admin/catalog/products/new"), ("GET", "/admin/catalog/categories"),
    ("POST", "/admin/catalog/categories"), ("GET", "/admin/catalog/import"),
    ("POST", "/admin/catalog/import")])
def test_guests_customers_and_forged_posts_are_kept_out(testapp, customer, method, url,
                                                        make_product, dbsession):
    guest = Admin(testapp)
    if method == "GET":
        assert guest.get(url, status=303).location.startswith("http://shop.test/admin/login")
    else:
        guest.post(url, {"name": "x"}, token=None, status=403)
        # with the token of its session, a guest is sent to sign in
        assert guest.post(url, {"name": "x"}).location.startswith(
            "http://shop.test/admin/login")
    guest.login(customer, status=403)
    if method == "GET":
        guest.get(url, status=303)
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(Product))
    staff_client = Admin(testapp)
    from core.security import create_user

    boss = create_user(dbsession, "boss-csrf@example.com", "correct horse battery", staff=True)
    staff_client.login(boss)
    if method == "POST":
        for token in (None, "forged"):
            page = staff_client.post(url, {"name": "Forged", "sku": "F-1", "price": "1"},
                                     token=token, status=403)
            assert "The form has expired" in text_of(page)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Product)) == before
