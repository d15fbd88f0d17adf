"""The orders' migration builds exactly what the models describe, and can be undone."""
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize


def orders_tables():
    return {name for name in metadata.tables if name.startswith("orders_")}


def test_migration_matches_the_models(db_connection):
    assert schema_differences(db_connection, "orders") == []


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        run_lifecycle(registry, operation, "orders", **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("orders_")}

    try:
        assert tables() == orders_tables() and len(tables()) == 11
        run("uninstall", purge=True)
        assert tables() == set()
        run("install")
        assert tables() == orders_tables()
    finally:
        engine.dispose()
