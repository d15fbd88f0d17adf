"""The application under test: its settings, throwaway databases, lifecycle operations."""
import os
import uuid

import sqlalchemy as sa
import transaction

# Tests sign their own tokens; any key of the required length will do.
JWT_SECRET = "test-signing-key-0123456789-0123456789"
# the password of the users the fixtures make (staff, customer, make_user)
PASSWORD = "correct horse battery"
DATABASE_URL_VARIABLE = "EMPORIUM_TEST_DATABASE_URL"


def app_settings(database_url, extra_plugins=(), **more):
    """The ini settings of a test application.

    ``extra_plugins``: dotted module names of plugins that are importable but not
    installed as a distribution (``emporium.plugins.extra``).
    """
    settings = {
        "sqlalchemy.url": database_url,
        "emporium.jwt_secret": JWT_SECRET,
        "emporium.plugins.extra": " ".join(extra_plugins),
        # tests share one process: no watcher thread, snapshots are set explicitly
        "emporium.plugins.refresh_interval": "0",
        "retry.attempts": "3",
        "celery.task_always_eager": "true",
    }
    settings.update(more)
    return settings


class DatabaseFactory:
    """Fresh, empty databases: SQLite files, or PostgreSQL databases on the server
    named by ``server_url`` (whose user may create databases), dropped by ``drop_all``."""

    def __init__(self, server_url=None, make_dir=None):
        self.server_url = server_url if server_url is not None else os.environ.get(
            DATABASE_URL_VARIABLE)
        self.make_dir = make_dir
        self.created = []

    def make(self):
        if not self.server_url:
            return f"sqlite:///{self.make_dir() / 'emporium.sqlite'}"
        name = f"emporium_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()
        self.created.append(name)
        return sa.engine.make_url(self.server_url).set(database=name).render_as_string(
            hide_password=False)

    __call__ = make

    def drop_all(self):
        if not (self.server_url and self.created):
            return
        admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in self.created:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()
        self.created = []


def initialize(config):
    """What `emporium init` does: migrate, install the default plugins."""
    from core.db import get_tm_session
    from core.plugins.lifecycle import Lifecycle

    registry = config.registry
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        Lifecycle(registry["plugins"], dbsession, manager).initialize()


def run_lifecycle(registry, operation, name, settings=None, **options):
    """Run a lifecycle operation as the admin API does, in a transaction of its own.

    Inside a test that transaction is a savepoint of the test's (see the
    ``db_connection`` fixture), so it is rolled back with the test. Once it
    commits, this process's registry sees the new enabled set. ``settings``, if
    given, are stored for plugin ``name`` first (validated by its schema).
    Returns the steps taken, as dicts.
    """
    from core.db import get_tm_session
    from core.plugins.lifecycle import Lifecycle

    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        life = Lifecycle.for_app(registry, dbsession, manager)
        if settings:
            life.update_settings(name, settings)
        steps = life.run(operation, name, **options)
        return [step.as_dict() for step in steps]


def standalone_app(database_url, mail_dir, install=(), settings=None):
    """A whole application on ``database_url`` that commits for real, outside the
    test's rolled-back transaction: what a race between connections needs.

    Migrates, installs the default plugins and then ``install`` (storing
    ``settings[name]`` first, if given). Returns ``(registry, wsgi_app)``; dispose
    of ``registry["db_engine"]`` when done.
    """
    from core.config import configure

    config = configure(app_settings(database_url, **{"emporium.mail_dir": str(mail_dir)}))
    config.commit()
    initialize(config)
    registry = config.registry
    for name in install:
        run_lifecycle(registry, "install", name, settings=(settings or {}).get(name))
    registry["plugins"].load(registry["db_engine"])
    return registry, config.make_wsgi_app()
