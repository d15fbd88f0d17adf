"""Tests of the purchase_limits plugin, on Emporium's pytest fixtures (docs/tutorial.md).

Every test runs in one transaction that is rolled back afterwards: the plugin
installed by ``install_plugin`` in one test is not installed in the next.
"""
import types

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.db import metadata
from core.migrations import VERSION_TABLE, include_object_for
from emporium_purchase_limits import services

NAME = "purchase_limits"
LIMITS = "/api/v1/purchase-limits"


def assert_error(response, status, code):
    assert response.status_int == status
    assert response.json["error"]["code"] == code, response.json
    assert response.json["error"]["message"]


@pytest.fixture
def limits_on(install_plugin):
    """The plugin installed and enabled for this test (the catalog, its dependency, is
    installed in every test database: it is a default plugin)."""
    install_plugin(NAME)


# --- the plugin in the shop ----------------------------------------------------------------


def test_found_through_its_entry_point(registry):
    plugins = registry["plugins"]
    assert NAME in plugins.plugins, plugins.broken.get(NAME)
    assert plugins.get(NAME).distribution == "emporium-purchase-limits"
    assert plugins.get(NAME).manifest.depends == ("catalog",)


def test_migrations_match_the_models(limits_on, db_connection):
    context = MigrationContext.configure(db_connection, opts={
        "compare_type": True, "include_object": include_object_for(NAME),
        "version_table": VERSION_TABLE})
    assert compare_metadata(context, metadata) == []


# --- the product field (serialize) ---------------------------------------------------------


def test_products_show_their_limit(limits_on, make_product, staff_app, testapp):
    mug, tea = make_product("Mug"), make_product("Tea")
    assert testapp.get(f"/api/v1/products/{mug.slug}").json["purchase_limit"] is None

    staff_app.put_json(f"{LIMITS}/{mug.id}", {"max_quantity": 2})
    assert testapp.get(f"/api/v1/products/{mug.slug}").json["purchase_limit"] == 2
    shown = {p["name"]: p["purchase_limit"] for p in testapp.get("/api/v1/products").json["items"]}
    assert (shown["Mug"], shown["Tea"]) == (2, None)


def test_a_page_of_products_reads_the_limits_once(limits_on, make_product, staff_app, testapp,
                                                  registry):
    for number in range(5):
        staff_app.put_json(f"{LIMITS}/{make_product(f'Cup {number}').id}", {"max_quantity": 3})

    def statements(path):
        seen = []
        engine = registry["db_engine"]

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            testapp.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len([s for s in seen if "purchase_limits_product" in s])

    assert statements("/api/v1/products?per_page=1") == 1
    assert statements("/api/v1/products?per_page=5") == 1


def test_disabled_the_field_and_the_routes_are_gone(limits_on, plugin_lifecycle, make_product,
                                                   staff_app, testapp):
    mug = make_product("Mug")
    staff_app.put_json(f"{LIMITS}/{mug.id}", {"max_quantity": 2})
    plugin_lifecycle("disable", NAME)
    assert "purchase_limit" not in testapp.get(f"/api/v1/products/{mug.slug}").json
    assert_error(staff_app.get(LIMITS, status=404), 404, "not_found")
    plugin_lifecycle("enable", NAME)
    assert testapp.get(f"/api/v1/products/{mug.slug}").json["purchase_limit"] == 2


# --- the route -----------------------------------------------------------------------------


def test_staff_set_change_list_and_remove_limits(limits_on, make_product, staff_app):
    mug, tea = make_product("Mug"), make_product("Tea", is_active=False)
    created = staff_app.put_json(f"{LIMITS}/{mug.id}", {"max_quantity": 2}).json
    assert created["updated_at"].endswith("+00:00")
    assert {k: created[k] for k in ("product_id", "product_name", "max_quantity")} == {
        "product_id": mug.id, "product_name": "Mug", "max_quantity": 2}
    assert staff_app.put_json(f"{LIMITS}/{mug.slug}", {"max_quantity": 4}).json[
        "max_quantity"] == 4  # by slug too
    staff_app.put_json(f"{LIMITS}/{tea.id}", {"max_quantity": 1})

    page = staff_app.get(LIMITS).json
    assert page["total"] == 2
    assert [(i["product_name"], i["max_quantity"]) for i in page["items"]] == [
        ("Mug", 4), ("Tea", 1)]
    assert [i["product_name"] for i in staff_app.get(LIMITS, {"per_page": 1, "page": 2}
                                                     ).json["items"]] == ["Tea"]

    assert staff_app.delete(f"{LIMITS}/{mug.id}", status=204).body == b""
    assert_error(staff_app.delete(f"{LIMITS}/{mug.id}", status=404), 404,
                 "purchase_limit_not_found")
    assert [i["product_name"] for i in staff_app.get(LIMITS).json["items"]] == ["Tea"]


@pytest.mark.parametrize("body, field", [
    ({}, "max_quantity"), ({"max_quantity": 0}, "max_quantity"),
    ({"max_quantity": 10_001}, "max_quantity"), ({"max_quantity": "2"}, "max_quantity"),
    ({"max_quantity": 2.5}, "max_quantity"), ({"max_quantity": 2, "note": "x"}, "note"),
])
def test_bad_input_is_a_400_naming_the_field(limits_on, make_product, staff_app, body, field):
    mug = make_product("Mug")
    response = staff_app.put_json(f"{LIMITS}/{mug.id}", body, status=400)
    assert_error(response, 400, "invalid")
    assert list(response.json["error"]["fields"]) == [field]
    assert staff_app.get(LIMITS).json["total"] == 0


def test_unknown_products_are_404(limits_on, staff_app):
    for ref in ("999999", "no-such-product", "99999999999999999999", "%C2%B2"):
        response = staff_app.put_json(f"{LIMITS}/{ref}", {"max_quantity": 1}, status=404)
        assert_error(response, 404, "product_not_found")


def test_only_staff_manage_limits(limits_on, make_product, testapp, customer_app):
    mug = make_product("Mug")
    assert_error(testapp.get(LIMITS, status=401), 401, "unauthorized")
    assert_error(customer_app.put_json(f"{LIMITS}/{mug.id}", {"max_quantity": 1}, status=403),
                 403, "forbidden")
    assert_error(customer_app.delete(f"{LIMITS}/{mug.id}", status=403), 403, "forbidden")


# --- the checkout hook ---------------------------------------------------------------------


def checkout_with(dbsession, *items):
    """A stand-in for the orders plugin's Checkout: the hook reads ``cart.items`` (id,
    variant_id, quantity) and ``dbsession``."""
    cart = types.SimpleNamespace(items=[
        types.SimpleNamespace(id=item_id, variant_id=variant.id, quantity=quantity)
        for item_id, (variant, quantity) in enumerate(items, start=1)])
    return types.SimpleNamespace(cart=cart, dbsession=dbsession)


def test_checkout_validate_refuses_more_than_the_limit(limits_on, make_product, dbsession,
                                                        registry):
    shirt = make_product("Shirt", variants=[{"price": "20.00", "options": {"Size": "M"}},
                                            {"price": "20.00", "options": {"Size": "L"}}])
    sock = make_product("Sock")
    services.set_limit(dbsession, shirt, 2)
    medium, large = shirt.variants

    def validate(checkout):
        # the hook as the orders plugin calls it, on this plugin alone
        return registry["plugins"].call_on(NAME, "checkout_validate", checkout=checkout)

    assert validate(checkout_with(dbsession, (medium, 2), (sock.variants[0], 9))) == []
    # the variants of one product count together
    assert validate(checkout_with(dbsession, (medium, 1), (large, 2))) == [[{
        "code": "purchase_limit_exceeded",
        "message": "Shirt: at most 2 per order, the cart holds 3.", "item_id": 1}]]
    assert validate(types.SimpleNamespace(cart=None, dbsession=dbsession)) == []


def test_checkout_validate_reads_a_real_cart(limits_on, registry, make_product, make_cart,
                                             customer, dbsession):
    if registry["plugins"].get("cart") is None:
        pytest.skip("the cart plugin is not installed here")
    mug = make_product("Mug", variants=[{"price": "8.00", "stock": 10}])
    services.set_limit(dbsession, mug, 2)
    cart = make_cart(customer, [(mug.variants[0], 3)])
    checkout = types.SimpleNamespace(cart=cart, dbsession=dbsession)
    [errors] = registry["plugins"].call_on(NAME, "checkout_validate", checkout=checkout)
    assert [(e["code"], e["item_id"]) for e in errors] == [
        ("purchase_limit_exceeded", cart.items[0].id)]


def test_a_quote_reports_the_broken_limit(limits_on, registry, make_product, make_cart,
                                          customer_app, dbsession):
    if registry["plugins"].get("orders") is None:
        pytest.skip("the orders plugin, which runs the checkout, is not installed here")
    mug = make_product("Mug", variants=[{"price": "8.00", "stock": 10}])
    services.set_limit(dbsession, mug, 2)
    cart = make_cart(customer_app.user, [(mug.variants[0], 3)])
    errors = customer_app.post_json("/api/v1/checkout/quote", {}).json["errors"]
    assert {"code": "purchase_limit_exceeded", "item_id": cart.items[0].id,
            "message": "Mug: at most 2 per order, the cart holds 3."} in errors
