"""Shipping's migration builds exactly what its models describe, and can be undone."""
import sqlalchemy as sa
import transaction
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.config import configure
from core.db import get_tm_session, metadata
from core.migrations import VERSION_TABLE, include_object_for
from core.plugins.lifecycle import Lifecycle
from plugins.shipping.models import ShippingCarrier
from tests.conftest import app_settings, initialize


def shipping_tables():
    return {name for name in metadata.tables if name.startswith("shipping_")}


def test_migration_matches_the_models(db_connection, shipping):
    context = MigrationContext.configure(db_connection, opts={
        "include_object": include_object_for("shipping"), "version_table": VERSION_TABLE,
        "compare_type": True})
    assert compare_metadata(context, metadata) == []


def test_every_index_of_the_models_exists(db_connection, shipping):
    inspector = sa.inspect(db_connection)
    for name in shipping_tables():
        reflected = {ix["name"] for ix in inspector.get_indexes(name)
                     if not ix.get("duplicates_constraint")}
        assert reflected == {ix.name for ix in metadata.tables[name].indexes}, name


def test_install_seeds_carriers_and_uninstall_with_purge_drops_the_tables(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            Lifecycle(registry["plugins"], dbsession, manager).run(operation, "shipping",
                                                                   **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("shipping_")}

    def carriers():
        with registry["dbsession_factory"]() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(ShippingCarrier))

    try:
        assert tables() == set()  # not a default plugin
        run("install")
        assert tables() == shipping_tables() and len(tables()) == 7
        assert carriers() == 4
        run("install")  # safe to repeat
        run("uninstall")  # keeps the data
        assert tables() == shipping_tables()
        run("install")
        assert carriers() == 4
        run("uninstall", purge=True)
        assert tables() == set()
    finally:
        engine.dispose()
