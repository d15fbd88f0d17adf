"""The loyalty migration builds exactly what the models describe, and can be undone; the
database itself refuses a negative balance and an entry of the wrong sign."""
import pytest
import sqlalchemy as sa

from core.config import configure
from core.db import metadata
from core.testing import run_lifecycle, schema_differences
from tests.conftest import app_settings, initialize


def loyalty_tables():
    return {name for name in metadata.tables if name.startswith("loyalty_")}


def test_migration_matches_the_models(loyalty, db_connection):
    assert schema_differences(db_connection, "loyalty") == []


@pytest.mark.parametrize("statement", [
    "UPDATE loyalty_account SET balance = -1 WHERE user_id = :user",
    "INSERT INTO loyalty_entry (user_id, kind, points, balance_after, reason, created_at) "
    "VALUES (:user, 'earned', -5, 0, '', CURRENT_TIMESTAMP)",
    "INSERT INTO loyalty_entry (user_id, kind, points, balance_after, reason, created_at) "
    "VALUES (:user, 'adjusted', 5, 5, '', CURRENT_TIMESTAMP)",
    "INSERT INTO loyalty_entry (user_id, kind, points, balance_after, reason, created_at) "
    "VALUES (:user, 'gifted', 5, 5, 'x', CURRENT_TIMESTAMP)",
])
def test_the_database_holds_the_rules(loyalty, buyer, dbsession, statement):
    loyalty.adjust(buyer.user, 5)
    with pytest.raises(sa.exc.IntegrityError):
        with dbsession.begin_nested():
            dbsession.execute(sa.text(statement), {"user": buyer.user.id})


def test_uninstall_with_purge_drops_the_tables_and_install_brings_them_back(make_database):
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    engine = registry["db_engine"]

    def run(operation, **kwargs):
        run_lifecycle(registry, operation, "loyalty", **kwargs)

    def tables():
        return {t for t in sa.inspect(engine).get_table_names() if t.startswith("loyalty_")}

    try:
        assert tables() == set()  # not a default plugin
        run("install")
        assert tables() == loyalty_tables() == {"loyalty_account", "loyalty_entry"}
        run("uninstall", purge=True)
        assert tables() == set()
        run("install")
        assert tables() == loyalty_tables()
    finally:
        engine.dispose()
