"""The cart's migration builds exactly what its models describe, and can be undone."""
import sqlalchemy as sa

from core.config import configure
from core.plugins.graph import dependents
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize


def test_migration_matches_the_models(db_connection):
    assert schema_differences(db_connection, "cart") == []


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, name="cart", **kwargs):
        run_lifecycle(registry, operation, name, **kwargs)

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
