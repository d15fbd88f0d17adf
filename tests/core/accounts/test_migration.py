"""0002_accounts creates exactly what the models describe, and goes down again."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import core.accounts.models  # noqa: F401  (the tables, in the metadata)
from core import migrations
from core.db import get_engine, metadata

ACCOUNT_TABLES = {"core_refresh_token", "core_account_token", "core_address",
                  "core_login_attempt"}
OWNED = ACCOUNT_TABLES | {"core_user"}


def only_owned(obj, name, type_, reflected, compare_to):
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is not None and table.name in OWNED


def differences(connection):
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "include_object": only_owned})
    return compare_metadata(context, metadata)


def index_names(connection, table):
    return {index["name"] for index in sa.inspect(connection).get_indexes(table)}


def test_the_migration_matches_the_models(make_database):
    engine = get_engine({"sqlalchemy.url": make_database()})
    try:
        with engine.begin() as connection:
            config = migrations.alembic_config([], connection)
            # up to this revision only: later kernel revisions are not this test's
            migrations.upgrade(config, "0002_accounts")
            assert migrations.current_heads(connection) == {"0002_accounts"}
            assert differences(connection) == []
            assert index_names(connection, "core_address") == {
                "ix_core_address_user_id", "uq_core_address_user_id_default"}

            migrations.downgrade(config, "0001_kernel")
            tables = set(sa.inspect(connection).get_table_names())
            assert not ACCOUNT_TABLES & tables
            assert "email_verified_at" not in {
                column["name"] for column in sa.inspect(connection).get_columns("core_user")}

            migrations.upgrade(config, "0002_accounts")
            assert differences(connection) == []
    finally:
        engine.dispose()
