"""Plugins extend the admin through hooks and admin routes; errors under /admin are pages."""
import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from core.admin import add_admin_route, admin_view
from core.plugins import hookimpl

from .conftest import text_of


class Probe:
    """A plugin registered for one test: a menu entry, a widget, and bad ones of each."""

    @hookimpl
    def admin_menu(self, request):
        return [{"title": "Probe page", "route_name": "core.admin_plugins", "order": 5,
                 "match": "core.admin_nothing"},
                {"title": "No route"}, "not a dict",
                {"title": "Unknown route", "route_name": "probe.nowhere"}]

    @hookimpl
    def admin_dashboard(self, request):
        return {"title": "Probe widget", "order": 1,
                "figures": [{"label": "Answers", "value": "42", "url": "/admin/plugins"}],
                "table": {"columns": ["Who", "What"],
                          "rows": [["<b>me</b>", {"text": "link", "url": "/admin"}]]},
                "link": {"title": "More", "url": "/admin/plugins"},
                "template": "core.admin:templates/logout.jinja2"}


@pytest.fixture
def probe(registry):
    pm = registry["plugins"].pm
    pm.register(Probe(), name="probe")
    yield
    pm.unregister(name="probe")


def test_menu_entries_come_from_the_hook_sorted_and_checked(signed_in, probe):
    menu = signed_in.menu()
    assert menu[:2] == ["Dashboard", "Probe page"]
    assert menu[-1] == "Plugins"
    assert "No route" not in menu and "Unknown route" not in menu
    page = signed_in.get("/admin/plugins")
    active = [a.get_text(strip=True) for a in page.html.select("nav.menu a.active")]
    assert active == ["Plugins"]


def test_dashboard_widgets_come_from_the_hook(signed_in, probe):
    page = signed_in.get("/admin")
    titles = [h.get_text() for h in page.html.select(".widget h2")]
    assert titles[0] == "Probe widget" and "Plugins" in titles and "Accounts" in titles
    widget = page.html.select(".widget")[0]
    assert widget.find("dd").get_text(strip=True) == "42"
    assert widget.find("td").decode_contents() == "&lt;b&gt;me&lt;/b&gt;"  # escaped
    assert widget.find("a", string="link")["href"] == "/admin"
    assert widget.find("button", string="Sign out") is not None  # the template's content


def test_kernel_widgets_count_plugins_and_accounts(signed_in, customer):
    page = signed_in.get("/admin")
    widgets = {w.find("h2").get_text(): {dt.get_text(): dt.find_next("dd").get_text(strip=True)
                                         for dt in w.select("dt")}
               for w in page.html.select(".widget")}
    assert widgets["Plugins"]["Broken"] == str(len(signed_in.testapp.app.registry[
        "plugins"].broken))
    assert int(widgets["Accounts"]["Customers"]) >= 1
    assert int(widgets["Accounts"]["Staff"]) >= 1
    assert int(widgets["Accounts"]["New today (UTC)"]) >= 1


def test_a_disabled_plugin_loses_its_menu_entries_widgets_and_pages(signed_in, testapp, staff):
    assert "Products" in signed_in.menu()
    testapp.post_json("/api/v1/admin/plugins/catalog/disable", {"cascade": True},
                      headers=staff.headers)
    assert "Products" not in signed_in.menu()
    dashboard = text_of(signed_in.get("/admin"))
    assert "Low stock" not in dashboard
    page = signed_in.get("/admin/catalog/products", status=404)
    assert "its plugin is not enabled" in text_of(page)
    assert page.content_type == "text/html"
    testapp.post_json("/api/v1/admin/plugins/catalog/enable", {}, headers=staff.headers)
    assert "Products" in signed_in.menu()
    signed_in.get("/admin/catalog/products")


def test_errors_under_admin_are_pages_and_elsewhere_json(signed_in, testapp):
    page = signed_in.get("/admin/no/such/page", status=404)
    assert page.content_type == "text/html" and "Page not found" in text_of(page)
    assert testapp.get("/api/v1/no/such/thing", status=404).json["error"]["code"] == \
        "not_found"
    assert testapp.get("/adminx", status=404).content_type == "application/json"


def test_admin_pages_are_not_in_the_openapi_document(testapp):
    paths = testapp.get("/api/v1/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith("/admin")]
    assert "/api/v1/admin/plugins" in paths


def test_admin_routes_ignore_the_include_prefix_and_admin_views_need_them():
    config = Configurator(settings={})
    config.registry["api_operations"] = []

    def plugin_includeme(config):
        add_admin_route(config, "thing.admin_list", "/thing/list")
        add_admin_route(config, "thing.admin_home", "")

    config.include(plugin_includeme, route_prefix="/api/v1")
    config.commit()
    routes = {r.name: r.pattern for r in config.get_routes_mapper().get_routes()}
    assert routes == {"thing.admin_list": "/admin/thing/list", "thing.admin_home": "/admin"}
    assert config.registry["admin_routes"] == {"thing.admin_list", "thing.admin_home"}
    assert config.route_prefix is None

    from core.admin.security import admin_gate

    config.add_view_deriver(admin_gate)
    config.add_route("thing.api", "/thing")
    config.add_view(lambda request: {}, route_name="thing.api", renderer="json",
                    admin_permission="thing.manage")
    with pytest.raises(ConfigurationError, match="not an admin route"):
        config.commit()
    # admin_view's permission is the admin's, not Pyramid's (which reads bearer tokens)
    assert admin_view(route_name="x").__dict__["admin_permission"] == "core.admin.access"
    declared = admin_view(route_name="x", permission="thing.manage").__dict__
    assert declared["admin_permission"] == "thing.manage" and "permission" not in declared
