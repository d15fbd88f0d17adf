"""The plugins page: the list, plans before every operation, refusals in words, settings."""
import pytest
import sqlalchemy as sa

from .conftest import text_of

API = "/api/v1/admin/plugins"


def row(page, name):
    return page.html.find("tr", id=f"plugin-{name}")


def api_state(testapp, staff, name):
    return testapp.get(f"{API}/{name}", headers=staff.headers).json["state"]


def test_the_list_shows_every_plugin_with_its_facts_and_actions(signed_in):
    page = signed_in.get("/admin/plugins", per_page="100")
    alpha = row(page, "alpha")
    cells = [td.get_text(" ", strip=True) for td in alpha.find_all("td")]
    assert cells[0].startswith("Alpha alpha") and "Test plugin" in cells[0]
    assert cells[1] == "1.0.0" and cells[2] == "—" and cells[3] == "beta, gamma"
    assert cells[4] == "available" and cells[5] == "Install"
    assert row(page, "beta").find_all("td")[2].get_text(strip=True) == "alpha"
    catalog = row(page, "catalog").find_all("td")
    assert catalog[4].get_text(strip=True) == "enabled"
    assert [a.get_text() for a in catalog[5].find_all("a")] == ["Disable", "Uninstall"]
    broken = row(page, "cycle_a").get_text(" ", strip=True)
    assert "dependency cycle: cycle_a -> cycle_b -> cycle_a" in broken
    assert row(page, "cycle_a").find_all("td")[5].find("a") is None  # nothing to do


def test_the_list_is_searchable_filterable_and_paginated(signed_in):
    page = signed_in.get("/admin/plugins", q="ALPH")
    assert [tr["id"] for tr in page.html.select("tbody tr[id]")] == ["plugin-alpha"]
    page = signed_in.get("/admin/plugins", state="broken", per_page="100")
    ids = {tr["id"] for tr in page.html.select("tbody tr[id]")}
    assert "plugin-cycle_a" in ids and "plugin-alpha" not in ids
    first = signed_in.get("/admin/plugins", per_page="2")
    assert len(first.html.select("tbody tr[id]")) == 2
    next_link = first.html.find("a", rel="next")["href"]
    second = signed_in.get(next_link)
    assert second.html.select("tbody tr[id]")[0]["id"] not in {
        tr["id"] for tr in first.html.select("tbody tr[id]")}
    assert "page 2 of" in text_of(second)
    # nonsense page numbers fall back to a page that exists
    assert signed_in.get("/admin/plugins", page="x", per_page="-3").status_int == 200
    assert "No plugin matches." in text_of(signed_in.get("/admin/plugins", q="zzz"))


def test_install_shows_the_plan_first_then_does_it_on_confirmation(signed_in, testapp, staff):
    plan = signed_in.get("/admin/plugins/gamma/install")
    steps = [li.find("strong").get_text() for li in plan.html.select("ol.steps > li")]
    assert steps == ["Install alpha", "Install beta", "Install gamma"]
    assert "tables: alpha_item" in text_of(plan) and "migrations: 0001_alpha" in text_of(plan)
    assert api_state(testapp, staff, "alpha") == "available"  # a plan changes nothing
    form = signed_in.form(plan, "/gamma/install")
    done = form.submit(status=303)
    assert done.location == "http://shop.test/admin/plugins/gamma"
    page = done.follow()
    assert signed_in.flashes(page) == ["Done: install alpha; install beta; install gamma."]
    assert api_state(testapp, staff, "gamma") == "enabled"
    assert page.html.select_one("h1 .badge").text == "enabled"
    again = signed_in.post("/admin/plugins/gamma/install").follow()
    assert signed_in.flashes(again) == ["Nothing to do: gamma is already installed."]


def test_a_refusal_is_shown_in_words_and_changes_nothing(signed_in, testapp, staff):
    signed_in.post("/admin/plugins/beta/install").follow()
    plan = signed_in.get("/admin/plugins/alpha/disable")
    assert signed_in.flashes(plan) == [
        "Cannot disable 'alpha': beta depends on it. Disable it first, or ask for a cascade."]
    assert len(plan.forms) == 1  # the sign-out form: no confirm button for a refused plan
    cascade = plan.html.find("a", string=lambda s: s and "dependents disabled" in s)["href"]
    plan = signed_in.get(cascade)
    assert [li.find("strong").get_text() for li in plan.html.select("ol.steps > li")] == [
        "Disable beta", "Disable alpha"]
    # posting without the cascade is refused by the Lifecycle, in the same words
    refused = signed_in.post("/admin/plugins/alpha/disable").follow()
    assert signed_in.flashes(refused) == [
        "Cannot disable 'alpha': beta depends on it. Disable it first, or ask for a cascade."]
    assert api_state(testapp, staff, "alpha") == "enabled"
    done = signed_in.form(plan, "/alpha/disable").submit().follow()
    assert signed_in.flashes(done) == ["Done: disable beta; disable alpha."]
    assert api_state(testapp, staff, "beta") == "disabled"
    enabled = signed_in.post("/admin/plugins/alpha/enable").follow()
    assert signed_in.flashes(enabled) == ["Done: enable alpha."]


def test_uninstall_plans_keep_or_purge_the_data(signed_in, db_connection):
    signed_in.post("/admin/plugins/alpha/install").follow()
    keep = signed_in.get("/admin/plugins/alpha/uninstall")
    assert "Uninstall alpha (keeping its data)" in text_of(keep)
    purge = signed_in.get("/admin/plugins/alpha/uninstall", purge="1")
    assert "Uninstall alpha (deleting its tables and settings)" in text_of(purge)
    done = signed_in.form(purge, "/alpha/uninstall").submit().follow()
    assert signed_in.flashes(done) == [
        "Done: uninstall alpha (deleting its tables and settings)."]
    assert "alpha_item" not in sa.inspect(db_connection).get_table_names()


def test_a_failing_migration_is_a_500_page_and_changes_nothing(signed_in, testapp, staff):
    page = signed_in.post("/admin/plugins/failing/install", status=500)
    assert "nothing was changed" in text_of(page)
    assert "fails on purpose" not in page.text
    assert api_state(testapp, staff, "failing") == "available"


def test_unknown_and_broken_plugins(signed_in):
    assert "Page not found" in text_of(signed_in.get("/admin/plugins/nope", status=404))
    signed_in.get("/admin/plugins/nope/install", status=404)
    signed_in.post("/admin/plugins/nope/install", status=404)
    signed_in.get("/admin/plugins/alpha/explode", status=404)
    broken = signed_in.get("/admin/plugins/bad_manifest")
    assert "not a PEP 440 version" in text_of(broken)
    assert not broken.html.select(".actions a")
    plan = signed_in.get("/admin/plugins/cycle_a/install")
    assert "cannot be used: dependency cycle" in text_of(plan)


# --- settings ---------------------------------------------------------------------------


def settings_form(page):
    return next(f for f in page.forms.values() if (f.action or "").endswith("/settings"))


def test_the_settings_form_is_generated_from_the_schema(signed_in):
    page = signed_in.get("/admin/plugins/alpha")
    inputs = {i["name"]: i for i in page.html.select("form[action$='/settings'] [name]")}
    assert inputs["greeting"]["type"] == "text" and inputs["greeting"]["value"] == "hello"
    assert inputs["limit"]["type"] == "number" and inputs["limit"]["value"] == "10"
    assert inputs["api_key"]["type"] == "password" and inputs["api_key"]["value"] == ""
    catalog = signed_in.get("/admin/plugins/catalog")
    field = catalog.html.select_one("input[name=cache_max_age]")
    assert (field["type"], field["min"], field["max"]) == ("number", "0", "86400")
    assert "seconds a CDN or browser may reuse" in text_of(catalog)
    assert signed_in.get("/admin/plugins/gamma").html.select("form[action$='/settings']") == []


def test_saving_settings_goes_through_the_lifecycle(signed_in, testapp, staff):
    signed_in.post("/admin/plugins/alpha/install")
    form = settings_form(signed_in.get("/admin/plugins/alpha"))
    form["greeting"] = "bonjour"
    form["api_key"] = "sk-secret-1"
    page = form.submit(status=303).follow()
    assert signed_in.flashes(page) == ["Settings saved."]
    assert testapp.get("/api/v1/alpha/items").json["greeting"] == "bonjour"
    shown = testapp.get(f"{API}/alpha/settings", headers=staff.headers).json
    assert shown["secrets"] == {"api_key": True}
    # only what changed is stored: the defaults stay defaults
    stored = testapp.app.registry["plugins"].snapshot.stored_settings["alpha"]
    assert stored == {"greeting": "bonjour", "api_key": "sk-secret-1"}
    # the secret is never shown, and an empty input keeps it
    page = signed_in.get("/admin/plugins/alpha")
    assert "sk-secret-1" not in page.text
    assert page.html.select_one("input[name=api_key]")["placeholder"].startswith("stored")
    form = settings_form(page)
    form["limit"] = "12"
    form.submit(status=303)
    stored = testapp.app.registry["plugins"].snapshot.stored_settings["alpha"]
    assert stored == {"greeting": "bonjour", "api_key": "sk-secret-1", "limit": 12}
    # ticking "remove" clears it; an emptied number goes back to its default
    form = settings_form(signed_in.get("/admin/plugins/alpha"))
    form["api_key__clear"] = True
    form["limit"] = ""
    form.submit(status=303)
    stored = testapp.app.registry["plugins"].snapshot.stored_settings["alpha"]
    assert stored == {"greeting": "bonjour"}
    unchanged = settings_form(signed_in.get("/admin/plugins/alpha")).submit().follow()
    assert signed_in.flashes(unchanged) == ["Nothing changed."]


def test_invalid_settings_are_refused_field_by_field(signed_in, testapp):
    form = settings_form(signed_in.get("/admin/plugins/catalog"))
    form["default_currency"] = "euro"
    form["cache_max_age"] = "-5"
    page = form.submit(status=400)
    assert signed_in.flashes(page) == ["The settings were not saved; see the messages below."]
    errors = [p.get_text() for p in page.html.select(".field-error")]
    assert "Use a three-letter ISO 4217 code in capitals, such as EUR." in errors
    assert any("greater than or equal to 0" in e for e in errors)
    # what was typed is shown again, and nothing was stored
    assert page.html.select_one("input[name=default_currency]")["value"] == "euro"
    assert testapp.app.registry["plugins"].snapshot.stored_settings.get("catalog", {}) == {}


def test_settings_forced_by_the_operator_cannot_be_changed(signed_in, registry, testapp):
    registry.settings["emporium.plugin.catalog.cache_max_age"] = "120"
    try:
        page = signed_in.get("/admin/plugins/catalog")
        field = page.html.select_one("input[name=cache_max_age]")
        assert field.has_attr("disabled") and field["value"] == "120"
        assert "Set by the operator" in text_of(page)
        # the form as the page sends it, plus the forced value, which a browser would not send
        sent = dict(settings_form(page).submit_fields())
        sent.pop("csrf_token")
        signed_in.post("/admin/plugins/catalog/settings", dict(sent, cache_max_age="5"))
        assert testapp.app.registry["plugins"].snapshot.stored_settings.get(
            "catalog", {}) == {}
    finally:
        del registry.settings["emporium.plugin.catalog.cache_max_age"]


@pytest.mark.parametrize("url", ["/admin/plugins", "/admin/plugins/alpha",
                                 "/admin/plugins/alpha/install"])
def test_customers_and_guests_never_see_plugin_pages(admin, customer, url):
    assert admin.get(url, status=303).location.startswith("http://shop.test/admin/login")
    admin.login(customer, status=403)
    admin.get(url, status=303)
