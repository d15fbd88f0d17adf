"""`emporium users list|deactivate|activate`, against a database of its own."""
import contextlib
import io
import json

import pytest

from core import cli
from tests.conftest import JWT_SECRET


@pytest.fixture
def ini(make_database, tmp_path):
    path = tmp_path / "test.ini"
    path.write_text(f"""
[app:main]
use = egg:emporium
sqlalchemy.url = {make_database()}
emporium.jwt_secret = {JWT_SECRET}
emporium.plugins.refresh_interval = 0
""")
    assert run(str(path), "init")[0] == 0
    return str(path)


def run(ini, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["-c", ini, *args])
    return status, out.getvalue(), err.getvalue()


def run_json(ini, *args):
    status, out, err = run(ini, "--json", *args)
    assert status == 0, err
    return json.loads(out)


def create(ini, email, *flags):
    status, _, err = run(ini, "create-user", "--email", email, "--password",
                         "correct horse battery", *flags)
    assert status == 0, err


def test_list_deactivate_and_activate(ini):
    assert run(ini, "users", "list")[1].strip() == "No users."
    create(ini, "boss@example.com", "--staff")
    create(ini, "Ann@Example.com")
    users = run_json(ini, "users", "list")
    assert [(u["email"], u["roles"], u["is_active"]) for u in users] == [
        ("boss@example.com", ["customer", "staff"], True),
        ("ann@example.com", ["customer"], True)]
    assert [u["email"] for u in run_json(ini, "users", "list", "--staff")] == ["boss@example.com"]
    status, out, _ = run(ini, "users", "list")
    assert out.splitlines()[0].split() == ["ID", "EMAIL", "ROLES", "ACTIVE", "NAME"]
    assert "ann@example.com" in out

    status, out, _ = run(ini, "users", "deactivate", "ANN@example.com")
    assert status == 0 and out.startswith("Deactivated user ann@example.com")
    assert [u["is_active"] for u in run_json(ini, "users", "list")] == [True, False]
    assert run_json(ini, "users", "activate", "ann@example.com")["is_active"] is True


def test_an_unknown_user_is_a_one_line_error(ini):
    status, out, err = run(ini, "users", "deactivate", "ghost@example.com")
    assert status == 1 and out == ""
    assert err == "emporium: error: no user with e-mail ghost@example.com\n"
