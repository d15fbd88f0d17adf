"""The extension author's kit (core/testing): its fixtures, as a plugin's tests use them.

Some tests come in pairs, the second proving that the first one's changes were
rolled back; pytest runs a module's tests in file order.
"""
import os
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

import core.testing.pytest_plugin
from core.plugins import hookimpl
from core.testing import PASSWORD
from tests.conftest import FIXTURE_PLUGINS, GOOD_TEST_PLUGINS

API = "/api/v1"
ADMIN = f"{API}/admin/plugins"


def test_the_kit_is_a_pytest_plugin_registered_by_entry_point(pytestconfig):
    assert pytestconfig.pluginmanager.get_plugin("emporium") is core.testing.pytest_plugin


def test_this_repository_loads_its_fixture_plugins_through_the_ini_option(
        emporium_plugins, registry):
    assert {f"{FIXTURE_PLUGINS}.{name}" for name in GOOD_TEST_PLUGINS} <= set(emporium_plugins)
    assert registry.settings["emporium.plugins.extra"].split() == emporium_plugins
    assert registry["plugins"].get("alpha") is not None


def test_signed_in_clients(staff_app, customer_app, testapp):
    me = customer_app.get(f"{API}/users/me").json
    assert (me["email"], me["roles"]) == (customer_app.user.email, ["customer"])
    assert staff_app.get(f"{API}/users/me").json["email"] == staff_app.user.email
    assert staff_app.get(ADMIN).json["total"] > 0
    assert customer_app.get(ADMIN, status=403).json["error"]["code"] == "forbidden"
    assert testapp.get(ADMIN, status=401).json["error"]["code"] == "unauthorized"


def test_make_user_makes_a_user_who_can_sign_in(make_user, testapp):
    user = make_user(email="ada@example.com", name="Ada")
    tokens = testapp.post_json(f"{API}/auth/login",
                               {"email": "ada@example.com", "password": PASSWORD}).json
    assert tokens["access_token"]
    assert testapp.get(f"{API}/users/me", headers=user.headers).json["name"] == "Ada"


def test_install_plugin_installs_dependencies_first_for_this_test(install_plugin, registry,
                                                                   testapp, db_connection):
    steps = install_plugin("gamma")
    assert [(s["plugin"], s["action"]) for s in steps] == [
        ("alpha", "install"), ("beta", "install"), ("gamma", "install")]
    assert {"alpha", "beta", "gamma"} <= registry["plugins"].current().enabled
    assert sa.inspect(db_connection).has_table("alpha_item")
    assert testapp.get(f"{API}/alpha/items").status_int == 200
    assert install_plugin("gamma") == []


def test_what_the_previous_test_installed_is_gone(registry, testapp, db_connection):
    assert not {"alpha", "beta", "gamma"} & registry["plugins"].current().enabled
    assert not sa.inspect(db_connection).has_table("alpha_item")
    testapp.get(f"{API}/alpha/items", status=404)


def test_install_plugin_stores_settings_first(install_plugin, registry):
    install_plugin("alpha", settings={"greeting": "bonjour"})
    assert registry["plugins"].current().settings("alpha")["greeting"] == "bonjour"


def test_plugin_lifecycle_runs_any_operation(install_plugin, plugin_lifecycle, testapp):
    install_plugin("alpha")
    steps = plugin_lifecycle("disable", "alpha")
    assert [(s["plugin"], s["to_state"]) for s in steps] == [("alpha", "disabled")]
    testapp.get(f"{API}/alpha/items", status=404)
    plugin_lifecycle("uninstall", "alpha", purge=True)
    assert plugin_lifecycle("uninstall", "alpha", purge=True) == []


class Probe:
    @hookimpl
    def serialize(self, kind):
        return {"probe": kind}


def test_register_hooks_adds_an_implementation(register_hooks, registry):
    register_hooks(Probe())
    assert registry["plugins"].current().extend("x.thing", None, {}) == {"probe": "x.thing"}


def test_the_registered_implementation_is_gone(registry):
    assert registry["plugins"].current().extend("x.thing", None, {}) == {}


def test_catalog_factories(make_product, make_category, testapp):
    shoes = make_category("Shoes")
    boot = make_product("Boot", category=shoes, brand="Acme", variants=[
        {"price": "59.90", "stock": 2, "options": {"Size": "41"}},
        {"price": "64.90", "options": {"Size": "46"}}])
    data = testapp.get(f"{API}/products/{boot.slug}").json
    assert (data["name"], data["brand"], data["category"]["slug"]) == ("Boot", "Acme",
                                                                        shoes.slug)
    assert [v["price"] for v in data["variants"]] == ["59.90", "64.90"]
    assert [v["stock_available"] for v in data["variants"]] == [2, 0]
    assert make_product().name != make_product().name  # made-up names and SKUs differ


def test_options_and_ini_add_plugin_modules(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nemporium_plugins =\n    one.plugin\n")
    (tmp_path / "test_names.py").write_text(textwrap.dedent("""
        def test_names(emporium_plugins, emporium_settings):
            assert emporium_plugins == ["one.plugin", "two.a", "two.b", "three"]
            assert emporium_settings == {}
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--emporium-plugins", "two.a, two.b", "--emporium-plugins", "three one.plugin"],
        cwd=tmp_path, capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_cart_factory(registry, make_cart, make_product, customer, testapp):
    if registry["plugins"].get("cart") is None:
        pytest.skip("the cart plugin is not installed in this environment")
    boot = make_product(variants=[{"price": "10.00", "stock": 5}])
    variant = boot.variants[0]
    cart = make_cart(customer, [(variant, 2)])
    assert [(item.variant_id, item.quantity) for item in cart.items] == [(variant.id, 2)]
    mine = testapp.get(f"{API}/cart", headers=customer.headers).json
    assert [(i["variant_id"], i["quantity"]) for i in mine["items"]] == [(variant.id, 2)]
    guest = make_cart(items=[(variant.id, 1)])
    theirs = testapp.get(f"{API}/cart", headers={"X-Cart-Token": guest.token}).json
    assert [(i["variant_id"], i["quantity"]) for i in theirs["items"]] == [(variant.id, 1)]


def test_order_factory_places_a_paid_order_by_default(make_order, staff, testapp, dbsession):
    from plugins.catalog import inventory

    order = make_order()
    assert (order.status, order.payment_provider, order.payment.status) == (
        "processing", "manual", "paid")
    assert [(line.quantity, line.unit_price) for line in order.lines] == [(1, 1000)]
    assert order.paid_amount == order.total == 1000
    # a real order: the customer and staff see it, its unit is sold
    mine = testapp.get(f"{API}/orders/{order.number}", headers=order.customer.headers).json
    assert (mine["status"], mine["total"]) == ("processing", "10.00")
    seen = testapp.get(f"{API}/admin/orders/{order.number}", headers=staff.headers).json
    assert [h["to"] for h in seen["status_history"]] == ["payment_pending", "processing"]
    level = inventory.level(dbsession, order.lines[0].variant_id)
    assert (level.on_hand, level.reserved) == (4, 0)


@pytest.mark.parametrize("status, history", [
    ("payment_pending", ["payment_pending"]),
    ("paid", ["payment_pending", "processing"]),
    ("shipped", ["payment_pending", "processing", "shipped"]),
    ("delivered", ["payment_pending", "processing", "shipped", "delivered"]),
    ("cancelled", ["payment_pending", "cancelled"]),
    ("failed", ["payment_pending", "failed"]),
    ("returned", ["payment_pending", "processing", "shipped", "delivered", "returned"]),
    ("refunded", ["payment_pending", "processing", "shipped", "delivered", "returned",
                  "refunded"]),
])
def test_order_factory_moves_an_order_on_through_the_services(make_order, status, history):
    order = make_order(status=status)
    assert [change.to_status for change in order.history] == history
    assert order.refunded_amount == (order.total if status == "refunded" else 0)


def test_order_factory_takes_items_a_customer_and_the_order_body(make_order, make_product,
                                                                 customer):
    boot = make_product(variants=[{"price": "59.90", "stock": 3, "options": {"Size": "41"}},
                                  {"price": "64.90", "stock": 3, "options": {"Size": "46"}}])
    order = make_order(items=[(boot, 2), (boot.variants[1].id, 1)], customer=customer,
                       status="payment_pending", note="by the back door",
                       shipping_address={"name": "Grace", "line1": "1 Navy Way",
                                         "city": "Arlington", "postal_code": "22202",
                                         "country": "US"})
    assert [(line.variant_id, line.quantity) for line in order.lines] == [
        (boot.variants[0].id, 2), (boot.variants[1].id, 1)]
    assert (order.user_id, order.customer) == (customer.id, customer)
    assert (order.total, order.shipping_address["city"]) == (18470, "Arlington")
    assert order.customer_note == "by the back door"
    with pytest.raises(ValueError, match="one of"):
        make_order(status="lost")


def test_order_factory_refuses_what_the_checkout_refuses(make_order, dbsession):
    from core.api.errors import Unprocessable
    from plugins.orders.models import Order

    with pytest.raises(Unprocessable, match="no payment method 'barter'") as refused:
        make_order(payment_method="barter")
    assert refused.value.code == "checkout_invalid"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_race_releases_the_calls_at_once_and_answers_in_order():
    import threading

    from celery._state import _set_task_join_will_block, task_join_will_block

    from core.testing import race

    inside = threading.Barrier(3, timeout=10)  # passes only if all three run at once

    def work(number):
        inside.wait()
        _set_task_join_will_block(True)  # as eager tasks running at once can leave it
        return number * 2

    assert race(work, [1, 2, 3]) == [2, 4, 6]
    assert not task_join_will_block()  # restored: result.get() works again
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        race(lambda number: 1 / (number - 2), [1, 2])


def test_schema_differences_finds_what_the_migration_did_not_build(install_plugin,
                                                                   db_connection):
    from core.testing import schema_differences

    install_plugin("alpha")
    assert schema_differences(db_connection, "alpha") == []
    db_connection.exec_driver_sql("CREATE INDEX ix_alpha_item_extra ON alpha_item (name)")
    # alembic's comparison, then the kit's own index check
    (alembic, kit) = schema_differences(db_connection, "alpha")
    assert (alembic[0], alembic[1].name) == ("remove_index", "ix_alpha_item_extra")
    assert kit == ("index not in the models", "alpha_item", "ix_alpha_item_extra")
