"""Test fixtures: a fresh database per test session, a rolled-back transaction per test.

SQLite by default; PostgreSQL when EMPORIUM_TEST_DATABASE_URL is set (a server URL
whose user may create databases: each session creates its own and drops it).
"""
import os
import uuid

import pytest
import sqlalchemy as sa
import transaction
import webtest
from sqlalchemy.orm import sessionmaker

from core.config import configure
from core.db import get_tm_session
from core.security import create_user, issue_access_token

FIXTURE_PLUGINS = "tests.fixtures.plugins"
GOOD_TEST_PLUGINS = ["alpha", "beta", "gamma", "failing", "tasker"]
BROKEN_TEST_PLUGINS = ["broken_import", "bad_manifest", "unknown_dep", "cycle_a", "cycle_b",
                       "bad_hook"]
JWT_SECRET = "test-signing-key-0123456789-0123456789"


def plugin_modules(names):
    return " ".join(f"{FIXTURE_PLUGINS}.{name}" for name in names)


@pytest.fixture(scope="session")
def make_database(tmp_path_factory):
    """A factory of fresh, empty databases (dropped at the end of the session)."""
    server_url = os.environ.get("EMPORIUM_TEST_DATABASE_URL")
    created = []

    def make():
        if not server_url:
            path = tmp_path_factory.mktemp("db") / "emporium.sqlite"
            return f"sqlite:///{path}"
        name = f"emporium_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        created.append(name)
        return sa.engine.make_url(server_url).set(database=name).render_as_string(
            hide_password=False)

    yield make
    if server_url and created:
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in created:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def app_settings(database_url, extra_plugins=GOOD_TEST_PLUGINS + BROKEN_TEST_PLUGINS, **more):
    settings = {
        "sqlalchemy.url": database_url,
        "emporium.jwt_secret": JWT_SECRET,
        "emporium.plugins.extra": plugin_modules(extra_plugins),
        # tests share one process: no watcher thread, snapshots are set explicitly
        "emporium.plugins.refresh_interval": "0",
        "retry.attempts": "3",
        "celery.task_always_eager": "true",
    }
    settings.update(more)
    return settings


def initialize(config):
    """What `emporium init` does: migrate, install the default plugins."""
    from core.plugins.lifecycle import Lifecycle

    registry = config.registry
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        Lifecycle(registry["plugins"], dbsession, manager).initialize()


@pytest.fixture(scope="session")
def database_url(make_database):
    return make_database()


@pytest.fixture(scope="session")
def app_config(database_url):
    config = configure(app_settings(database_url))
    config.commit()
    initialize(config)
    config.registry["plugins"].load(config.registry["db_engine"])
    return config


@pytest.fixture(scope="session")
def wsgi_app(app_config):
    return app_config.make_wsgi_app()


@pytest.fixture(scope="session")
def registry(app_config):
    return app_config.registry


@pytest.fixture
def db_connection(registry):
    """Everything a test does happens in one transaction that is rolled back."""
    engine = registry["db_engine"]
    connection = engine.connect()
    outer = connection.begin()
    original_factory = registry["dbsession_factory"]
    plugins = registry["plugins"]
    original_snapshot = plugins.snapshot
    registry["dbsession_factory"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield connection
    finally:
        registry["dbsession_factory"] = original_factory
        plugins.set_snapshot(original_snapshot)
        registry.get("openapi_cache", {}).clear()
        outer.rollback()
        connection.close()


@pytest.fixture
def dbsession(db_connection):
    session = sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint")()
    yield session
    session.close()


@pytest.fixture
def testapp(wsgi_app, db_connection):
    return webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": "shop.test"})


def _user_token(dbsession, registry, staff):
    email = f"{'staff' if staff else 'customer'}-{uuid.uuid4().hex[:8]}@example.com"
    user = create_user(dbsession, email, "correct horse battery", name="Test", staff=staff)
    dbsession.flush()
    token, _ = issue_access_token(registry.settings, user)
    return user, token


@pytest.fixture
def staff(dbsession, registry):
    user, token = _user_token(dbsession, registry, staff=True)
    user.headers = {"Authorization": f"Bearer {token}"}
    return user


@pytest.fixture
def customer(dbsession, registry):
    user, token = _user_token(dbsession, registry, staff=False)
    user.headers = {"Authorization": f"Bearer {token}"}
    return user

