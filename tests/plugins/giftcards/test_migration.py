"""The gift cards' migration builds exactly what the models describe, and can be undone."""
import sqlalchemy as sa
import transaction
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.config import configure
from core.db import get_tm_session, metadata
from core.migrations import VERSION_TABLE, include_object_for
from core.plugins.lifecycle import Lifecycle
from tests.conftest import app_settings, initialize


def giftcards_tables():
    return {name for name in metadata.tables if name.startswith("giftcards_")}


def test_migration_matches_the_models(db_connection):
    context = MigrationContext.configure(db_connection, opts={
        "include_object": include_object_for("giftcards"), "version_table": VERSION_TABLE,
        "compare_type": True})
    assert compare_metadata(context, metadata) == []


def test_every_index_and_check_of_the_models_exists(db_connection):
    inspector = sa.inspect(db_connection)
    for name in giftcards_tables():
        reflected = {ix["name"] for ix in inspector.get_indexes(name)
                     if not ix.get("duplicates_constraint")}
        assert reflected == {ix.name for ix in metadata.tables[name].indexes}, name
        checks = {ck["name"] for ck in inspector.get_check_constraints(name)}
        assert checks == {ck.name for ck in metadata.tables[name].constraints
                          if isinstance(ck, sa.CheckConstraint)}, name


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            Lifecycle(registry["plugins"], dbsession, manager).run(operation, "giftcards",
                                                                   **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("giftcards_")}

    try:
        assert tables() == set()  # not a default plugin
        run("install")
        assert tables() == giftcards_tables() and len(tables()) == 3
        run("uninstall", purge=True)
        assert tables() == set()
        run("install")
        assert tables() == giftcards_tables()
    finally:
        engine.dispose()
