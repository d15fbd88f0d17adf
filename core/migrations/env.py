"""Alembic environment: runs on the connection that core.migrations hands over.

For autogenerate, ``config.attributes["autogenerate_for"]`` (set by
``emporium db revision --plugin NAME``) limits the comparison to that plugin's
tables (``<name>_*``), or the kernel's (``core_*``), so a plugin's revision never
touches another plugin's tables.
"""
from alembic import context
from sqlalchemy import engine_from_config, pool

from core.db import metadata
from core.migrations import VERSION_TABLE, include_object_for

config = context.config


def _configure(connection):
    owner = config.attributes.get("autogenerate_for")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object_for(owner) if owner else None,
        compare_type=True,
    )


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        # already inside the caller's transaction: begin_transaction() joins it
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
