"""The example third-party plugin, examples/emporium-announcements.

It is its own distribution, found only through its ``emporium.plugins`` entry
point: these tests prove that such a plugin is discovered, installed, switched
and purged exactly like a built-in one. They need the distribution installed
(``pip install -e examples/emporium-announcements``) and fail, not skip, without it.
"""
import datetime as dt
import importlib.metadata
import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core import cli
from core.db import metadata
from core.migrations import VERSION_TABLE, current_heads
from core.plugins.discovery import ENTRY_POINT_GROUP, discover
from tests.conftest import JWT_SECRET

DISTRIBUTION = "emporium-announcements"
NAME = "announcements"
TABLE = "announcements_announcement"
ROUTES = ["announcements.create", "announcements.delete", "announcements.list"]
API = "/api/v1"
LIST = f"{API}/announcements"
ADMIN = f"{API}/admin/plugins/{NAME}"


def require_distribution():
    try:
        return importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(
            f"the example plugin distribution {DISTRIBUTION!r} is not installed; from the "
            "repository root run: .venv/bin/pip install -e examples/emporium-announcements",
            pytrace=False)


def utc(**delta):
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(**delta)).replace(microsecond=0)


def install(testapp, staff):
    response = testapp.post_json(f"{ADMIN}/install", {}, headers=staff.headers)
    assert response.json["plugin"]["state"] == "enabled"
    return response


def publish(testapp, staff, title, starts_at, ends_at=None, status=201):
    body = {"title": title, "body": f"{title} body", "starts_at": starts_at.isoformat()}
    if ends_at is not None:
        body["ends_at"] = ends_at.isoformat()
    return testapp.post_json(LIST, body, headers=staff.headers, status=status)


def titles(testapp):
    return [item["title"] for item in testapp.get(LIST).json["items"]]


def has_table(connection):
    return sa.inspect(connection).has_table(TABLE)


def assert_error(response, status, code):
    assert response.status_int == status
    assert response.content_type == "application/json"
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


# --- discovery -------------------------------------------------------------------------


def test_entry_point_is_published_and_discovered(registry):
    dist = require_distribution()
    points = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
              if ep.name == NAME]
    assert len(points) == 1
    assert points[0].value == "emporium_announcements"
    assert points[0].dist.name == DISTRIBUTION

    found = discover()
    assert NAME in found.plugins, found.broken.get(NAME)
    plugin = found.plugins[NAME]
    assert plugin.distribution == DISTRIBUTION
    assert plugin.package == "emporium_announcements"
    # the manifest and the distribution agree on what is installed
    assert plugin.manifest.version == dist.version == "1.0.0"
    assert plugin.migrations_dir is not None
    assert (plugin.migrations_dir / "0001_announcements.py").is_file()
    # the test application found it the same way, without being told its module
    assert registry["plugins"].get(NAME).distribution == DISTRIBUTION
    assert NAME not in registry.settings["emporium.plugins.extra"]


def test_listed_as_available_with_a_plan_before_install(testapp, staff, db_connection):
    require_distribution()
    items = {item["name"]: item
             for item in testapp.get(f"{API}/admin/plugins", headers=staff.headers).json["items"]}
    listed = items[NAME]
    assert listed["state"] == "available"
    assert listed["distribution"] == DISTRIBUTION
    assert listed["title"] == "Announcements"
    assert listed["has_settings"] is True

    plan = testapp.get(f"{ADMIN}/plan", {"operation": "install"}, headers=staff.headers).json
    assert len(plan["steps"]) == 1
    step = plan["steps"][0]
    assert (step["plugin"], step["action"], step["to_state"]) == (NAME, "install", "enabled")
    assert step["tables"] == [TABLE]
    assert step["routes"] == ROUTES
    assert step["hooks"] == ["demo_data", "install"]
    assert step["migrations"] == ["0001_announcements"]
    # a plan changes nothing
    assert not has_table(db_connection)
    assert_error(testapp.get(LIST, status=404), 404, "not_found")


# --- the plugin at work ----------------------------------------------------------------


def test_install_migrates_seeds_and_is_idempotent(testapp, staff, db_connection):
    require_distribution()
    changed = install(testapp, staff).json["changed"]
    assert [(s["plugin"], s["action"]) for s in changed] == [(NAME, "install")]
    assert has_table(db_connection)
    assert "0001_announcements" in current_heads(db_connection)

    items = testapp.get(LIST).json["items"]
    assert [item["title"] for item in items] == ["Welcome"]
    assert items[0]["ends_at"] is None
    assert items[0]["starts_at"].endswith("+00:00")

    again = testapp.post_json(f"{ADMIN}/install", {}, headers=staff.headers).json
    assert again["changed"] == []
    assert titles(testapp) == ["Welcome"]


def test_migration_matches_the_model(testapp, staff, db_connection):
    require_distribution()
    install(testapp, staff)

    def ours(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return bool(table) and table.startswith(f"{NAME}_")

    context = MigrationContext.configure(db_connection, opts={
        "compare_type": True, "include_object": ours, "version_table": VERSION_TABLE})
    assert compare_metadata(context, metadata) == []
    inspector = sa.inspect(db_connection)
    assert inspector.get_pk_constraint(TABLE)["name"] == f"pk_{TABLE}"
    assert [ix["name"] for ix in inspector.get_indexes(TABLE)] == [f"ix_{TABLE}_starts_at"]


def test_create_list_and_delete(testapp, staff):
    require_distribution()
    install(testapp, staff)
    now = utc()
    hour = dt.timedelta(hours=1)
    created = publish(testapp, staff, "Older", now - 2 * hour).json
    assert created == {"id": created["id"], "title": "Older", "body": "Older body",
                       "starts_at": (now - 2 * hour).isoformat(), "ends_at": None,
                       "created_at": created["created_at"]}
    assert created["created_at"].endswith("+00:00")
    ending = publish(testapp, staff, "Ending soon", now - hour, now + hour).json
    assert ending["ends_at"] == (now + hour).isoformat()
    publish(testapp, staff, "Future", now + hour)
    publish(testapp, staff, "Expired", now - 3 * hour, now - hour)

    # active only, newest first
    assert titles(testapp) == ["Welcome", "Ending soon", "Older"]
    # at most max_shown (3 by default)
    publish(testapp, staff, "Recent", now - hour / 2)
    assert titles(testapp) == ["Welcome", "Recent", "Ending soon"]

    deleted = testapp.delete(f"{LIST}/{ending['id']}", headers=staff.headers, status=204)
    assert deleted.body == b""
    assert titles(testapp) == ["Welcome", "Recent", "Older"]
    for missing in (ending["id"], 0, 99999999999999999999):
        response = testapp.delete(f"{LIST}/{missing}", headers=staff.headers, status=404)
        assert_error(response, 404, "announcement_not_found")
    for not_an_id in ("abc", "-1"):
        response = testapp.delete(f"{LIST}/{not_an_id}", headers=staff.headers, status=404)
        assert_error(response, 404, "not_found")
    wrong_method = testapp.get(f"{LIST}/{created['id']}", status=405)
    assert_error(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["Allow"] == "DELETE"
    # list and create are two routes on one path: together they answer GET and POST
    wrong_method = testapp.put_json(LIST, {}, headers=staff.headers, status=405)
    assert wrong_method.headers["Allow"] == "GET, HEAD, POST"


def test_times_are_utc(testapp, staff):
    require_distribution()
    install(testapp, staff)
    body = {"title": "Zoned", "body": "x", "starts_at": "2020-01-01T02:00:00+02:00",
            "ends_at": "2020-01-02T00:00:00"}
    created = testapp.post_json(LIST, body, headers=staff.headers, status=201).json
    # an offset is converted, a time without a zone is taken as UTC
    assert created["starts_at"] == "2020-01-01T00:00:00+00:00"
    assert created["ends_at"] == "2020-01-02T00:00:00+00:00"


def test_max_shown_setting_is_validated_and_applied(testapp, staff):
    require_distribution()
    install(testapp, staff)
    settings = f"{ADMIN}/settings"
    assert testapp.get(settings, headers=staff.headers).json["settings"] == {"max_shown": 3}
    for bad in (0, 21, "many"):
        response = testapp.put_json(settings, {"max_shown": bad}, headers=staff.headers,
                                    status=400)
        assert_error(response, 400, "invalid")
        assert response.json["error"]["fields"]["max_shown"]
    publish(testapp, staff, "Second", utc(hours=-1))
    assert titles(testapp) == ["Welcome", "Second"]
    testapp.put_json(settings, {"max_shown": 1}, headers=staff.headers)
    assert titles(testapp) == ["Welcome"]


@pytest.mark.parametrize("body, fields", [
    ({}, {"title", "body", "starts_at"}),
    ({"title": "", "body": "b", "starts_at": "2030-01-01T00:00:00Z"}, {"title"}),
    ({"title": "t" * 201, "body": "b", "starts_at": "2030-01-01T00:00:00Z"}, {"title"}),
    ({"title": "t", "body": "b", "starts_at": "tomorrow"}, {"starts_at"}),
    ({"title": "t", "body": "b", "starts_at": "2030-01-01T00:00:00Z",
      "ends_at": "2029-12-31T00:00:00Z"}, {"ends_at"}),
    ({"title": "t", "body": "b", "starts_at": "2030-01-01T00:00:00Z",
      "ends_at": "2030-01-01T00:00:00Z"}, {"ends_at"}),
    ({"title": "t", "body": "b", "starts_at": "2030-01-01T00:00:00Z", "pinned": True},
     {"pinned"}),
    ({"title": ["t"], "body": 5, "starts_at": 17}, {"title", "body", "starts_at"}),
])
def test_bad_input_is_a_400_per_field_and_creates_nothing(testapp, staff, body, fields):
    require_distribution()
    install(testapp, staff)
    response = testapp.post_json(LIST, body, headers=staff.headers, status=400)
    assert_error(response, 400, "invalid")
    assert set(response.json["error"]["fields"]) == fields
    assert all(response.json["error"]["fields"][name] for name in fields)
    assert titles(testapp) == ["Welcome"]


def test_a_body_that_is_not_a_json_object_is_a_400(testapp, staff):
    require_distribution()
    install(testapp, staff)
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        response = testapp.post(LIST, raw, headers={**staff.headers,
                                                    "Content-Type": "application/json"},
                                status=400)
        assert_error(response, 400, "invalid_json")


def test_only_staff_manage_announcements(testapp, staff, customer):
    require_distribution()
    install(testapp, staff)
    welcome_id = testapp.get(LIST).json["items"][0]["id"]
    body = {"title": "t", "body": "b", "starts_at": "2030-01-01T00:00:00Z"}

    assert_error(testapp.post_json(LIST, body, headers=customer.headers, status=403),
                 403, "forbidden")
    assert_error(testapp.delete(f"{LIST}/{welcome_id}", headers=customer.headers, status=403),
                 403, "forbidden")
    guest = testapp.post_json(LIST, body, status=401)
    assert_error(guest, 401, "unauthorized")
    assert guest.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(testapp.delete(f"{LIST}/{welcome_id}", status=401), 401, "unauthorized")
    # reading is public, for guests and customers alike
    assert titles(testapp) == ["Welcome"]
    assert testapp.get(LIST, headers=customer.headers).json["items"][0]["id"] == welcome_id


def test_disabled_plugin_answers_404_and_keeps_its_data(testapp, staff, db_connection):
    require_distribution()
    install(testapp, staff)
    kept = publish(testapp, staff, "Kept", utc(hours=-1)).json
    assert LIST in testapp.get(f"{API}/openapi.json").json["paths"]

    testapp.post_json(f"{ADMIN}/disable", {}, headers=staff.headers)
    assert_error(testapp.get(LIST, status=404), 404, "not_found")
    assert_error(testapp.post_json(LIST, {"title": "t"}, headers=staff.headers, status=404),
                 404, "not_found")
    assert_error(testapp.delete(f"{LIST}/{kept['id']}", headers=staff.headers, status=404),
                 404, "not_found")
    assert LIST not in testapp.get(f"{API}/openapi.json").json["paths"]
    assert has_table(db_connection)

    testapp.post_json(f"{ADMIN}/enable", {}, headers=staff.headers)
    assert titles(testapp) == ["Welcome", "Kept"]


def test_uninstall_keeps_the_table_unless_purged(testapp, staff, db_connection):
    require_distribution()
    install(testapp, staff)
    publish(testapp, staff, "Kept", utc(hours=-1))

    testapp.post_json(f"{ADMIN}/uninstall", {}, headers=staff.headers)
    assert has_table(db_connection)
    assert_error(testapp.get(LIST, status=404), 404, "not_found")
    # a reinstall finds the data, and does not seed a second welcome
    install(testapp, staff)
    assert titles(testapp) == ["Welcome", "Kept"]

    plan = testapp.get(f"{ADMIN}/plan", {"operation": "uninstall", "purge": "true"},
                       headers=staff.headers).json["steps"]
    assert [(s["action"], s["purge"], s["tables"], s["migrations"]) for s in plan] == [
        ("uninstall", True, [TABLE], ["0001_announcements"])]
    purged = testapp.post_json(f"{ADMIN}/uninstall", {"purge": True}, headers=staff.headers)
    assert purged.json["plugin"]["state"] == "available"
    assert purged.json["plugin"]["installed_version"] is None
    assert not has_table(db_connection)
    assert "0001_announcements" not in current_heads(db_connection)
    assert_error(testapp.get(LIST, status=404), 404, "not_found")

    # purging again has nothing left to do; installing starts afresh
    again = testapp.post_json(f"{ADMIN}/uninstall", {"purge": True}, headers=staff.headers)
    assert again.json["changed"] == []
    install(testapp, staff)
    assert titles(testapp) == ["Welcome"]


# --- the README's commands -------------------------------------------------------------


def test_cli_installs_it_as_the_readme_says(make_database, tmp_path, capsys):
    require_distribution()
    url = make_database()
    ini = tmp_path / "shop.ini"
    ini.write_text(
        "[app:main]\nuse = egg:emporium\n"
        f"sqlalchemy.url = {url.replace('%', '%%')}\n"
        f"emporium.jwt_secret = {JWT_SECRET}\n"
        "emporium.plugins.refresh_interval = 0\n")

    def emporium(*args):
        capsys.readouterr()
        assert cli.main(["-c", str(ini), *args]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    emporium("init")
    listed = {item["name"]: item for item in json.loads(emporium("--json", "plugins", "list"))}
    assert (listed[NAME]["state"], listed[NAME]["distribution"]) == ("available", DISTRIBUTION)
    assert "Done: install announcements" in emporium("plugins", "install", NAME)
    assert emporium("plugins", "install", NAME).strip() == "Nothing to do."
    emporium("init", "--demo")
    emporium("init", "--demo")  # demo data is added once

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(f"SELECT title FROM {TABLE} ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [row.title for row in rows] == ["Welcome", "Free shipping week"]
