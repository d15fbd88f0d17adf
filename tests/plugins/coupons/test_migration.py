"""The coupons' migration builds exactly what the models describe, and can be undone."""
import sqlalchemy as sa
import transaction
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.config import configure
from core.db import get_tm_session, metadata
from core.migrations import VERSION_TABLE, include_object_for
from core.plugins.lifecycle import Lifecycle
from tests.conftest import app_settings, initialize


def coupons_tables():
    return {name for name in metadata.tables if name.startswith("coupons_")}


def test_migration_matches_the_models(install_plugin, db_connection):
    install_plugin("coupons")
    context = MigrationContext.configure(db_connection, opts={
        "include_object": include_object_for("coupons"), "version_table": VERSION_TABLE,
        "compare_type": True})
    assert compare_metadata(context, metadata) == []


def test_every_index_of_the_models_exists(install_plugin, db_connection):
    install_plugin("coupons")
    inspector = sa.inspect(db_connection)
    for name in coupons_tables():
        reflected = {ix["name"] for ix in inspector.get_indexes(name)
                     if not ix.get("duplicates_constraint")}
        assert reflected == {ix.name for ix in metadata.tables[name].indexes}, name


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
            Lifecycle(registry["plugins"], dbsession, manager).run(operation, "coupons",
                                                                   **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("coupons_")}

    try:
        assert tables() == set()  # not a default plugin
        run("install")
        assert tables() == coupons_tables() and len(tables()) == 6
        run("uninstall", purge=True)
        assert tables() == set()
        run("install")
        assert tables() == coupons_tables()
    finally:
        engine.dispose()
