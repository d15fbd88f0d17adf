"""The database: one metadata for every table, engines, and ``request.dbsession``.

Every table, the kernel's and every plugin's, hangs off ``Base.metadata`` so that
foreign keys between plugins resolve; the naming convention gives constraints
stable names, which Alembic needs to drop them again. A table's name starts with
its owner: ``core_`` for the kernel, ``<plugin>_`` for a plugin.
"""
import datetime as dt
import pathlib

import sqlalchemy as sa
import zope.sqlalchemy
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use core.db.utcnow()")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def _make_sqlite_transactional(engine):
    """Let SQLite run DDL inside our transactions, so a failed migration rolls back.

    pysqlite commits implicitly before DDL; SQLAlchemy's documented recipe turns
    that off and emits BEGIN itself.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # a write request takes SQLite's write lock up front: reading first and
        # writing later fails with "database is locked" when another process wrote
        # in between, and SQLite cannot retry that transaction for us
        immediate = conn.get_execution_options().get(WRITE_INTENT)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_INTENT = "emporium_write_intent"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_engine(settings, prefix="sqlalchemy."):
    engine = sa.engine_from_config(settings, prefix, future=True)
    if engine.dialect.name == "sqlite":
        if engine.url.database not in (None, "", ":memory:"):
            pathlib.Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        _make_sqlite_transactional(engine)
    return engine


def get_session_factory(engine):
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session(session_factory, transaction_manager, request=None, write=None):
    """A session joined to ``transaction_manager``: committed or aborted with it.

    ``write``: the transaction means to write, so on SQLite it takes the write lock
    at BEGIN (by default: when ``request`` is not a GET, HEAD or OPTIONS).
    """
    options = {}
    bind = session_factory.kw.get("bind")
    if write is None:
        write = request is not None and request.method not in SAFE_METHODS
    if write and isinstance(bind, sa.Engine) and bind.dialect.name == "sqlite":
        options["bind"] = bind.execution_options(**{WRITE_INTENT: True})
    dbsession = session_factory(info={"request": request}, **options)
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def includeme(config):
    settings = config.get_settings()
    # pyramid_tm decides commit or abort per request; the explicit manager makes
    # a forgotten transaction an error instead of a silent thread-local one.
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    config.include("pyramid_tm")
    # pyramid_retry replays a request whose transaction failed with a retryable
    # error (zope.sqlalchemy marks PostgreSQL serialization failures and deadlocks).
    settings.setdefault("retry.attempts", 3)
    config.include("pyramid_retry")

    engine = get_engine(settings)
    config.registry["dbsession_factory"] = get_session_factory(engine)
    config.registry["db_engine"] = engine

    def dbsession(request):
        # looked up per request so that tests can bind sessions to their transaction
        return get_tm_session(request.registry["dbsession_factory"], request.tm, request=request)

    config.add_request_method(dbsession, reify=True)
