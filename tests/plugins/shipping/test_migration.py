"""Shipping's migration builds exactly what its models describe, and can be undone."""
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.testing import run_lifecycle, schema_differences
from plugins.shipping.models import ShippingCarrier
from tests.conftest import app_settings, initialize


def shipping_tables():
    return {name for name in metadata.tables if name.startswith("shipping_")}


def test_migration_matches_the_models(db_connection, shipping):
    assert schema_differences(db_connection, "shipping") == []


def test_install_seeds_carriers_and_uninstall_with_purge_drops_the_tables(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        run_lifecycle(registry, operation, "shipping", **kwargs)

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
