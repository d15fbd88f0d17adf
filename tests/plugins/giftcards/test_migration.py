"""The gift cards' migration builds exactly what the models describe, and can be undone."""
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize


def giftcards_tables():
    return {name for name in metadata.tables if name.startswith("giftcards_")}


def test_migration_matches_the_models(db_connection):
    assert schema_differences(db_connection, "giftcards") == []


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        run_lifecycle(registry, operation, "giftcards", **kwargs)

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
