"""The cart's migration builds exactly what its models describe, and can be undone."""
import sqlalchemy as sa
import transaction
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.config import configure
from core.db import get_tm_session, metadata
from core.migrations import VERSION_TABLE, include_object_for
from core.plugins.graph import dependents
from core.plugins.lifecycle import Lifecycle
from tests.conftest import app_settings, initialize


def cart_tables():
    return [table for name, table in metadata.tables.items() if name.startswith("cart_")]


def test_migration_matches_the_models(db_connection):
    context = MigrationContext.configure(db_connection, opts={
        "include_object": include_object_for("cart"), "version_table": VERSION_TABLE,
        "compare_type": True})
    assert compare_metadata(context, metadata) == []


def test_every_index_of_the_models_exists_with_its_condition(db_connection):
    dialect = db_connection.dialect.name
    inspector = sa.inspect(db_connection)
    for table in cart_tables():
        reflected = {ix["name"]: ix for ix in inspector.get_indexes(table.name)
                     if not ix.get("duplicates_constraint")}
        expected = {ix.name: ix for ix in table.indexes}
        assert set(reflected) == set(expected), table.name
        for name, index in expected.items():
            assert bool(reflected[name]["unique"]) == index.unique, name
            where = index.dialect_options[dialect].get("where")
            found = reflected[name].get("dialect_options", {}).get(f"{dialect}_where")
            assert (where is None) == (found is None), name


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, name="cart", **kwargs):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            Lifecycle(registry["plugins"], dbsession, manager).run(operation, name, **kwargs)

    # the plugins that need the cart (orders, ...) go first, last ones first
    needing = [name for name in dependents(registry["plugins"].depends, "cart")
               if name in registry["plugins"].snapshot.enabled]

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("cart_")}

    try:
        assert tables() == {"cart_cart", "cart_item"}
        for name in reversed(needing):
            run("uninstall", name, purge=True)
        run("uninstall", purge=True)
        assert tables() == set()
        assert "catalog_variant" in sa.inspect(engine).get_table_names()
        run("install")
        assert tables() == {"cart_cart", "cart_item"}
    finally:
        engine.dispose()
