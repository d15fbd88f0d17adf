"""The plugin lifecycle through the admin API: order, refusals, plans, purge, atomicity."""
import pytest
import sqlalchemy as sa

from tests.fixtures.plugins.alpha import hooks as alpha_hooks

ADMIN = "/api/v1/admin/plugins"


def op(testapp, staff, name, operation, status=200, **body):
    return testapp.post_json(f"{ADMIN}/{name}/{operation}", body, headers=staff.headers,
                             status=status).json


def state(testapp, staff, name):
    return testapp.get(f"{ADMIN}/{name}", headers=staff.headers).json["state"]


def tables(connection):
    return set(sa.inspect(connection).get_table_names())


def test_list_shows_every_plugin_with_state_and_broken_reasons(testapp, staff):
    items = {p["name"]: p for p in testapp.get(ADMIN, headers=staff.headers).json["items"]}
    assert items["alpha"]["state"] == "available"
    assert items["beta"]["depends"] == ["alpha"]
    assert items["alpha"]["dependents"] == ["beta", "gamma"]
    assert items["broken_import"]["state"] == "broken"
    assert "emporium_module_that_does_not_exist" in items["broken_import"]["reason"]
    assert "PEP 440" in items["bad_manifest"]["reason"]
    assert "'nope'" in items["unknown_dep"]["reason"]
    assert items["cycle_a"]["reason"] == "dependency cycle: cycle_a -> cycle_b -> cycle_a"
    assert "no_such_hook" in items["bad_hook"]["reason"]


def test_install_brings_dependencies_first_and_runs_migrations(testapp, staff, db_connection):
    result = op(testapp, staff, "gamma", "install")
    assert [(s["plugin"], s["action"]) for s in result["changed"]] == [
        ("alpha", "install"), ("beta", "install"), ("gamma", "install")]
    assert result["plugin"]["state"] == "enabled"
    assert {"alpha_item", "beta_thing"} <= tables(db_connection)
    # alpha's install hook seeded its table with its settings
    items = testapp.get("/api/v1/alpha/items").json["items"]
    assert [i["name"] for i in items] == ["seeded, hello"]


def test_install_twice_changes_nothing(testapp, staff):
    op(testapp, staff, "alpha", "install")
    again = op(testapp, staff, "alpha", "install")
    assert again["changed"] == []
    assert len(testapp.get("/api/v1/alpha/items").json["items"]) == 1


def test_plan_lists_plugins_tables_routes_hooks_and_changes_nothing(testapp, staff, db_connection):
    plan = testapp.get(f"{ADMIN}/beta/plan", {"operation": "install"},
                       headers=staff.headers).json
    first, second = plan["steps"]
    assert (first["plugin"], first["action"]) == ("alpha", "install")
    assert first["tables"] == ["alpha_item"]
    assert first["routes"] == ["alpha.items"]
    assert "install" in first["hooks"]
    assert first["migrations"] == ["0001_alpha"]
    assert (second["plugin"], second["tables"], second["migrations"]) == (
        "beta", ["beta_thing"], ["0001_beta"])
    assert "alpha_item" not in tables(db_connection)
    assert state(testapp, staff, "alpha") == "available"
    dry = op(testapp, staff, "beta", "install", dry_run=True)
    assert [s["plugin"] for s in dry["changed"]] == ["alpha", "beta"]
    assert state(testapp, staff, "beta") == "available"


def test_disabled_plugin_routes_answer_404_and_hooks_are_not_called(testapp, staff):
    op(testapp, staff, "gamma", "install")
    item = testapp.get("/api/v1/alpha/items").json["items"][0]
    assert item["beta_seen"] is True  # beta's serialize hook ran...
    assert item["gamma_seen"] is True  # ...gamma's too, after beta: no overwrite
    op(testapp, staff, "gamma", "disable")
    response = testapp.get("/api/v1/gamma/ping", status=404)
    assert response.json["error"]["code"] == "not_found"
    item = testapp.get("/api/v1/alpha/items").json["items"][0]
    assert "gamma_seen" not in item and item["beta_seen"] is True
    op(testapp, staff, "gamma", "enable")
    assert testapp.get("/api/v1/gamma/ping").json == {"pong": True}


def test_available_plugin_routes_answer_404(testapp):
    assert testapp.get("/api/v1/alpha/items", status=404).json["error"]["code"] == "not_found"


def test_disable_refused_while_enabled_dependents_unless_cascade(testapp, staff):
    op(testapp, staff, "gamma", "install")
    error = op(testapp, staff, "alpha", "disable", status=409)["error"]
    assert error["code"] == "plugin_has_dependents"
    assert "beta, gamma depend on it" in error["message"]
    assert error["dependents"] == ["beta", "gamma"]
    assert state(testapp, staff, "alpha") == "enabled"
    result = op(testapp, staff, "alpha", "disable", cascade=True)
    assert [s["plugin"] for s in result["changed"]] == ["gamma", "beta", "alpha"]
    assert {state(testapp, staff, n) for n in ("alpha", "beta", "gamma")} == {"disabled"}
    # enabling gamma again enables what it needs
    result = op(testapp, staff, "gamma", "enable")
    assert [s["plugin"] for s in result["changed"]] == ["alpha", "beta", "gamma"]


def test_uninstall_refused_while_dependents_installed(testapp, staff):
    op(testapp, staff, "beta", "install")
    op(testapp, staff, "beta", "disable")
    error = op(testapp, staff, "alpha", "uninstall", status=409)["error"]
    assert error["code"] == "plugin_has_dependents"
    assert "beta is installed and depends on it" in error["message"]


def test_uninstall_keeps_tables_unless_purge(testapp, staff, db_connection):
    op(testapp, staff, "beta", "install")
    op(testapp, staff, "beta", "uninstall")
    assert state(testapp, staff, "beta") == "available"
    assert "beta_thing" in tables(db_connection)
    # purging an uninstalled plugin's kept data is still possible
    result = op(testapp, staff, "beta", "uninstall", purge=True)
    assert result["changed"][0]["migrations"] == ["0001_beta"]
    assert "beta_thing" not in tables(db_connection)
    assert "alpha_item" in tables(db_connection)
    assert op(testapp, staff, "beta", "uninstall", purge=True)["changed"] == []


def test_purge_then_reinstall_starts_fresh(testapp, staff, db_connection):
    op(testapp, staff, "alpha", "install")
    testapp.post_json("/api/v1/alpha/items", {"name": "mine"}, headers=staff.headers, status=201)
    op(testapp, staff, "alpha", "uninstall", purge=True)
    assert "alpha_item" not in tables(db_connection)
    op(testapp, staff, "alpha", "install")
    assert [i["name"] for i in testapp.get("/api/v1/alpha/items").json["items"]] == [
        "seeded, hello"]


def test_failing_migration_leaves_plugin_available_and_no_table(testapp, staff, db_connection):
    response = testapp.post_json(f"{ADMIN}/failing/install", {}, headers=staff.headers,
                                 status=500)
    assert "fails on purpose" not in response.text  # nothing internal leaked
    assert state(testapp, staff, "failing") == "available"
    assert "failing_thing" not in tables(db_connection)


def test_broken_and_unknown_plugins_are_refused(testapp, staff):
    error = op(testapp, staff, "cycle_a", "install", status=422)["error"]
    assert error["code"] == "plugin_broken" and "dependency cycle" in error["message"]
    assert op(testapp, staff, "nope", "install", status=404)["error"]["code"] == "unknown_plugin"
    assert op(testapp, staff, "alpha", "enable", status=409)["error"]["code"] == \
        "plugin_not_installed"


def test_state_changes_reach_every_enabled_plugin(testapp, staff):
    alpha_hooks.STATE_CHANGES.clear()
    op(testapp, staff, "beta", "install")
    op(testapp, staff, "beta", "disable")
    assert alpha_hooks.STATE_CHANGES == [
        ("alpha", "available", "enabled"),
        ("beta", "available", "enabled"),
        ("beta", "enabled", "disabled"),
    ]


def test_admin_api_is_staff_only(testapp, customer):
    assert testapp.get(ADMIN, status=401).json["error"]["code"] == "unauthorized"
    assert testapp.get(ADMIN, headers=customer.headers, status=403).json["error"]["code"] == \
        "forbidden"
    testapp.post_json(f"{ADMIN}/alpha/install", {}, headers=customer.headers, status=403)


def test_bad_operation_body_is_400_with_fields(testapp, staff):
    error = op(testapp, staff, "alpha", "install", status=400, cascade="maybe", color=1)["error"]
    assert set(error["fields"]) == {"cascade", "color"}
    assert state(testapp, staff, "alpha") == "available"


def test_unknown_operation_is_404(testapp, staff):
    testapp.post_json(f"{ADMIN}/alpha/explode", {}, headers=staff.headers, status=404)


class TestSettings:
    def test_defaults_validation_and_secrets(self, testapp, staff):
        op(testapp, staff, "alpha", "install")
        url = f"{ADMIN}/alpha/settings"
        shown = testapp.get(url, headers=staff.headers).json
        assert shown["settings"] == {"greeting": "hello", "limit": 10, "api_key": None}
        assert shown["secrets"] == {"api_key": False}
        error = testapp.put_json(url, {"limit": "many", "colour": "red"}, headers=staff.headers,
                                 status=400).json["error"]
        assert set(error["fields"]) == {"limit", "colour"}
        shown = testapp.put_json(url, {"greeting": "hi", "api_key": "sk_live_123"},
                                 headers=staff.headers).json
        assert shown["settings"]["api_key"] is None  # write-only
        assert shown["secrets"] == {"api_key": True}
        assert testapp.get("/api/v1/alpha/items").json["greeting"] == "hi"
        # the plugin's own code reads the secret
        registry = testapp.app.registry
        assert registry["plugins"].plugin_settings("alpha")["api_key"] == "sk_live_123"
        reset = testapp.put_json(url, {"greeting": None}, headers=staff.headers).json
        assert reset["settings"]["greeting"] == "hello"

    def test_operator_override_wins(self, registry):
        plugins = registry["plugins"]
        original = dict(plugins.settings)
        try:
            plugins.settings["emporium.plugin.alpha.limit"] = "3"
            plugins._settings_cache.clear()
            assert plugins.plugin_settings("alpha")["limit"] == 3
        finally:
            plugins.settings.clear()
            plugins.settings.update(original)
            plugins._settings_cache.clear()


def test_upgrade_when_code_version_grows(testapp, staff, registry, dbsession):
    op(testapp, staff, "alpha", "install")
    manifest = registry["plugins"].get("alpha").manifest
    listing = testapp.get(f"{ADMIN}/alpha", headers=staff.headers).json
    assert listing["upgrade_available"] is False
    from core.plugins.models import PluginState

    row = dbsession.get(PluginState, "alpha")
    row.installed_version = "0.9.0"
    dbsession.flush()
    listing = testapp.get(f"{ADMIN}/alpha", headers=staff.headers).json
    assert listing["upgrade_available"] is True
    result = op(testapp, staff, "alpha", "upgrade")
    assert [s["action"] for s in result["changed"]] == ["upgrade"]
    assert result["plugin"]["installed_version"] == manifest.version
    assert op(testapp, staff, "alpha", "upgrade")["changed"] == []


@pytest.mark.parametrize("operation", ["install", "disable", "uninstall"])
def test_operations_on_a_missing_plugin_name_are_404(testapp, staff, operation):
    op(testapp, staff, "does_not_exist", operation, status=404)
