"""The coupons' migration builds exactly what the models describe, and can be undone."""
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize


def coupons_tables():
    return {name for name in metadata.tables if name.startswith("coupons_")}


def test_migration_matches_the_models(install_plugin, db_connection):
    install_plugin("coupons")
    assert schema_differences(db_connection, "coupons") == []


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        run_lifecycle(registry, operation, "coupons", **kwargs)

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
