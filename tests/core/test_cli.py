"""The `emporium` command, against a database of its own."""
import json
import os
import subprocess
import sys

import pytest

from core import cli
from tests.conftest import BROKEN_TEST_PLUGINS, GOOD_TEST_PLUGINS, JWT_SECRET, plugin_modules

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_ini(path, database_url, refresh_interval="0", port=6543):
    path.write_text(f"""
[app:main]
use = egg:emporium
sqlalchemy.url = {database_url}
emporium.jwt_secret = {JWT_SECRET}
emporium.plugins.extra = {plugin_modules(GOOD_TEST_PLUGINS + BROKEN_TEST_PLUGINS)}
emporium.plugins.refresh_interval = {refresh_interval}

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
""")
    return str(path)


@pytest.fixture
def ini(make_database, tmp_path):
    return write_ini(tmp_path / "test.ini", make_database())


def run(ini, *args):
    """Run the command in this process; returns (exit status, stdout, stderr)."""
    from io import StringIO
    from contextlib import redirect_stderr, redirect_stdout

    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["-c", ini, *args])
    return status, out.getvalue(), err.getvalue()


def run_json(ini, *args):
    status, out, err = run(ini, "--json", *args)
    assert status == 0, err
    return json.loads(out)


def subprocess_env():
    return {**os.environ, "PYTHONPATH": ROOT}


def test_init_then_list_shows_every_plugin_with_state(ini):
    status, out, err = run(ini, "init")
    assert status == 0, err
    status, out, err = run(ini, "plugins", "list")
    assert status == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines["alpha"].split()[1] == "available"
    assert lines["cycle_a"].split()[1] == "broken"
    assert "dependency cycle" in lines["cycle_a"]
    assert run(ini, "init")[0] == 0  # safe to repeat


def test_lifecycle_commands(ini):
    run(ini, "init")
    plan = run_json(ini, "plugins", "plan", "install", "gamma")
    assert [s["plugin"] for s in plan] == ["alpha", "beta", "gamma"]
    status, out, _ = run(ini, "plugins", "install", "gamma")
    assert status == 0 and "Done: install alpha" in out and "tables: alpha_item" in out
    states = {p["name"]: p["state"] for p in run_json(ini, "plugins", "list")}
    assert states["gamma"] == states["alpha"] == "enabled"
    status, out, err = run(ini, "plugins", "disable", "alpha")
    assert status == 1 and out == ""
    assert err.strip() == ("emporium: error: Cannot disable 'alpha': beta, gamma depend on it. "
                           "Disable them first, or ask for a cascade.")
    steps = run_json(ini, "plugins", "disable", "alpha", "--cascade")
    assert [s["plugin"] for s in steps] == ["gamma", "beta", "alpha"]
    assert run_json(ini, "plugins", "disable", "alpha") == []
    run(ini, "plugins", "uninstall", "gamma")
    run(ini, "plugins", "uninstall", "beta", "--purge")
    heads = run_json(ini, "db", "current")["heads"]
    assert "0001_alpha" in heads and "0001_beta" not in heads


def test_settings_command(ini):
    run(ini, "init")
    run(ini, "plugins", "install", "alpha")
    shown = run_json(ini, "plugins", "settings", "alpha", "limit=5", "api_key=s3cret")
    assert shown["settings"]["limit"] == 5
    assert shown["settings"]["api_key"] is None and shown["secrets"]["api_key"] is True
    status, _, err = run(ini, "plugins", "settings", "alpha", "limit=lots")
    assert status == 1 and "limit: Not a valid integer." in err
    assert run_json(ini, "plugins", "settings", "alpha", "--reset", "limit")["settings"][
        "limit"] == 10
    status, _, err = run(ini, "plugins", "settings", "alpha", "novalue")
    assert status == 1 and "KEY=VALUE" in err


def test_create_user(ini):
    run(ini, "init")
    user = run_json(ini, "create-user", "--email", "Boss@Example.com", "--password",
                    "a long enough password", "--staff")
    assert user["email"] == "boss@example.com" and "staff" in user["roles"]
    status, _, err = run(ini, "create-user", "--email", "boss@example.com", "--password",
                         "a long enough password")
    assert status == 1 and "already exists" in err
    status, _, err = run(ini, "create-user", "--email", "x@example.com", "--password", "short")
    assert status == 1 and "at least 10 characters" in err


def test_init_demo_runs_demo_hooks_and_makes_a_staff_login(ini):
    run(ini, "init")
    run(ini, "plugins", "install", "alpha")
    status, out, _ = run(ini, "init", "--demo")
    assert status == 0 and "admin@example.com" in out
    assert run(ini, "init", "--demo")[0] == 0  # twice is fine


def test_user_mistakes_are_one_line_without_traceback(ini, tmp_path):
    run(ini, "init")
    cases = [
        ["-c", ini, "plugins", "install", "nope"],
        ["-c", ini, "plugins", "install", "cycle_a"],
        ["-c", ini, "plugins", "enable", "alpha"],
        ["-c", str(tmp_path / "missing.ini"), "plugins", "list"],
    ]
    for argv in cases:
        result = subprocess.run([sys.executable, "-m", "core.cli", *argv], cwd=ROOT,
                                env=subprocess_env(), capture_output=True, text=True)
        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        # log lines (broken plugins are logged as warnings) aside, one line says why
        said = [line for line in result.stderr.splitlines() if not line.startswith("WARNING:")]
        assert len(said) == 1 and said[0].startswith("emporium: error: "), result.stderr


def test_missing_environment_variable_is_one_line(tmp_path):
    ini = tmp_path / "prod.ini"
    ini.write_text("[app:main]\nuse = egg:emporium\nsqlalchemy.url = ${EMPORIUM_DATABASE_URL}\n")
    env = {k: v for k, v in subprocess_env().items() if not k.startswith("EMPORIUM_")}
    result = subprocess.run([sys.executable, "-m", "core.cli", "-c", str(ini), "plugins", "list"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "emporium: error: cannot start: environment variable EMPORIUM_DATABASE_URL is not "
        "set (the setting sqlalchemy.url reads it)")


def test_production_ini_names_every_secret_from_the_environment():
    from core.settings import MissingEnvironmentVariable, resolve
    from pyramid.paster import get_appsettings

    settings = get_appsettings(os.path.join(ROOT, "production.ini"))
    with pytest.raises(MissingEnvironmentVariable) as exc:
        resolve(settings, environ={})
    assert exc.value.variable.startswith("EMPORIUM_")
    environ = {"EMPORIUM_DATABASE_URL": "postgresql+psycopg://db/shop",
               "EMPORIUM_JWT_SECRET": "x" * 40, "EMPORIUM_REDIS_URL": "redis://r:6379/0",
               "EMPORIUM_BROKER_URL": "redis://r:6379/1", "EMPORIUM_SMTP_HOST": "smtp.shop",
               "EMPORIUM_SMTP_USERNAME": "shop", "EMPORIUM_SMTP_PASSWORD": "pw",
               "EMPORIUM_MAIL_SENDER": "Shop <shop@example.com>",
               "EMPORIUM_ADMIN_SESSION_SECRET": "s" * 40}
    resolved = resolve(settings, environ=environ)
    assert resolved["sqlalchemy.url"] == "postgresql+psycopg://db/shop"
    assert resolved["emporium.jwt_secret"] == "x" * 40
    assert not any("${" in str(v) for v in resolved.values())
