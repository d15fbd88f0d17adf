"""The catalog's migration builds exactly what its models describe, and can be undone."""
import pytest
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.plugins.graph import dependents
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize


def catalog_tables():
    return [table for name, table in metadata.tables.items() if name.startswith("catalog_")]


def test_migration_matches_the_models(db_connection):
    assert schema_differences(db_connection, "catalog") == []


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, name="catalog", **kwargs):
        run_lifecycle(registry, operation, name, **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("catalog_")}

    try:
        assert tables() == {t.name for t in catalog_tables()}
        # the default plugins that need the catalog go first, dependents before dependencies
        plugins = registry["plugins"]
        for name in reversed(dependents(plugins.depends, "catalog")):
            run("uninstall", name)
        run("uninstall", purge=True)
        assert tables() == set()
        run("install")
        assert tables() == {t.name for t in catalog_tables()}
    finally:
        engine.dispose()


def test_postgresql_keeps_the_search_vector_with_a_trigger(db_connection, dbsession,
                                                          make_product):
    if db_connection.dialect.name != "postgresql":
        pytest.skip("SQLite searches search_text with LIKE: no vector, no trigger")
    product = make_product("Trigger Test", brand="Vectorium")
    vector = dbsession.scalar(sa.text(
        "SELECT search_vector::text FROM catalog_product WHERE id = :id"), {"id": product.id})
    assert "'vectorium'" in vector and "'trigger'" in vector
    product.brand = "Renamed"
    from plugins.catalog import services

    services.refresh(product)
    dbsession.flush()
    vector = dbsession.scalar(sa.text(
        "SELECT search_vector::text FROM catalog_product WHERE id = :id"), {"id": product.id})
    assert "'renamed'" in vector and "vectorium" not in vector
