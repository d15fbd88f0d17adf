"""Fixtures of the account tests: a mail folder per test, and a client that signs in."""
import itertools
import uuid

import pytest
import transaction
import webtest

from core.config import configure
from core.db import get_tm_session
from core.security import create_user
from tests.conftest import app_settings, initialize

PASSWORD = "correct horse battery"  # the password of the `staff` and `customer` fixtures

_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def mail_dir(registry, tmp_path):
    """Mail goes to a folder of this test, never to var/mail."""
    settings = registry.settings
    before = settings.get("emporium.mail_dir")
    settings["emporium.mail_dir"] = str(tmp_path / "mail")
    yield tmp_path / "mail"
    if before is None:
        settings.pop("emporium.mail_dir", None)
    else:
        settings["emporium.mail_dir"] = before


class Accounts:
    """The account endpoints as a frontend calls them, from one client address."""

    def __init__(self, testapp):
        self.testapp = testapp
        self.client_addr = f"198.51.100.{next(_addresses) % 250 + 1}"

    def environ(self, client_addr=None):
        return {"REMOTE_ADDR": client_addr or self.client_addr}

    def post(self, path, body, status=None, headers=None, client_addr=None):
        return self.testapp.post_json(f"/api/v1{path}", body, headers=headers or {},
                                      extra_environ=self.environ(client_addr),
                                      status=status, expect_errors=status is not None)

    def register(self, email=None, password=PASSWORD, name="Ada", status=201):
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        return self.post("/auth/register", {"email": email, "password": password, "name": name},
                         status=status)

    def login(self, email, password=PASSWORD, status=200, client_addr=None):
        return self.post("/auth/login", {"email": email, "password": password}, status=status,
                         client_addr=client_addr)

    def refresh(self, refresh_token, status=200):
        return self.post("/auth/refresh", {"refresh_token": refresh_token}, status=status)

    @staticmethod
    def bearer(tokens):
        return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def accounts(testapp):
    return Accounts(testapp)


def assert_error(response, status, code=None, fields=()):
    """The JSON error shape, with the status, code and field errors expected."""
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    for name in fields:
        assert error["fields"].get(name), error
    return error


@pytest.fixture
def committed_apps(make_database):
    """Two applications on one fresh database whose writes really commit, as two
    waitress processes are; the user shared@example.com exists."""
    url = make_database()
    first = configure(app_settings(url))
    first.commit()
    initialize(first)
    second = configure(app_settings(url))
    second.commit()
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(first.registry["dbsession_factory"], manager)
        create_user(dbsession, "shared@example.com", PASSWORD)
    yield [webtest.TestApp(config.make_wsgi_app(), extra_environ={"REMOTE_ADDR": "192.0.2.50"})
           for config in (first, second)]
    for config in (first, second):
        config.registry["db_engine"].dispose()
