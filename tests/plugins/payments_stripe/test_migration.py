"""The plugin's migration builds exactly what its models describe, and can be undone."""
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize

from .conftest import NAME


def own_tables():
    return {name for name in metadata.tables if name.startswith(NAME + "_")}


def test_migration_matches_the_models(db_connection, install_plugin):
    install_plugin(NAME)
    assert schema_differences(db_connection, NAME) == []


def test_install_uninstall_with_purge_and_install_again(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        run_lifecycle(registry, operation, NAME, **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith(NAME + "_")}

    try:
        assert tables() == set()  # not a default plugin
        run("install")
        assert tables() == own_tables() == {"payments_stripe_event"}
        run("uninstall", purge=True)
        assert tables() == set()
        run("install")
        assert tables() == own_tables()
    finally:
        engine.dispose()
