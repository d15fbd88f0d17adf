"""The plugin's migration builds exactly what its models describe, and can be undone."""
import sqlalchemy as sa
import transaction
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.config import configure
from core.db import get_tm_session, metadata
from core.migrations import VERSION_TABLE, include_object_for
from core.plugins.lifecycle import Lifecycle
from tests.conftest import app_settings, initialize

from .conftest import NAME


def own_tables():
    return {name for name in metadata.tables if name.startswith(NAME + "_")}


def test_migration_matches_the_models(db_connection, install_plugin):
    install_plugin(NAME)
    context = MigrationContext.configure(db_connection, opts={
        "include_object": include_object_for(NAME), "version_table": VERSION_TABLE,
        "compare_type": True})
    assert compare_metadata(context, metadata) == []
    inspector = sa.inspect(db_connection)
    for name in own_tables():
        reflected = {ix["name"] for ix in inspector.get_indexes(name)
                     if not ix.get("duplicates_constraint")}
        assert reflected == {ix.name for ix in metadata.tables[name].indexes}, name


def test_install_uninstall_with_purge_and_install_again(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            Lifecycle(registry["plugins"], dbsession, manager).run(operation, NAME, **kwargs)

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
