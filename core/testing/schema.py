"""Does a plugin's migration build what its models describe?

``assert schema_differences(db_connection, "foo") == []`` in a plugin's tests
catches a model changed without a revision, or a revision that builds something
else, on SQLite and on PostgreSQL alike.
"""
import sqlalchemy as sa

PARTIAL_INDEX_DIALECTS = ("postgresql", "sqlite")


def schema_differences(connection, plugin):
    """How the ``<plugin>_*`` tables on ``connection`` differ from the plugin's models:
    an empty list when they agree. Alembic's comparison (tables, columns and their
    types, indexes, unique constraints, foreign keys) first, then what it leaves out:
    each index's uniqueness and partial condition (``WHERE``), and the CHECK
    constraints, by name."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from core.db import metadata
    from core.migrations import VERSION_TABLE, include_object_for

    context = MigrationContext.configure(connection, opts={
        "include_object": include_object_for(plugin), "version_table": VERSION_TABLE,
        "compare_type": True})
    found = list(compare_metadata(context, metadata))
    inspector = sa.inspect(connection)
    for table in metadata.tables.values():
        if table.name.startswith(plugin + "_") and inspector.has_table(table.name):
            found += _index_differences(inspector, table, connection.dialect.name)
            found += _check_differences(inspector, table)
    return found


def _index_differences(inspector, table, dialect):
    reflected = {ix["name"]: ix for ix in inspector.get_indexes(table.name)
                 if not ix.get("duplicates_constraint")}  # a unique constraint's own
    found = []
    for index in table.indexes:
        seen = reflected.pop(index.name, None)
        if seen is None:
            found.append(("index missing", table.name, index.name))
            continue
        if bool(seen["unique"]) != bool(index.unique):
            found.append(("index uniqueness differs", table.name, index.name))
        where = index.dialect_options[dialect].get("where") \
            if dialect in PARTIAL_INDEX_DIALECTS else None
        seen_where = seen.get("dialect_options", {}).get(f"{dialect}_where")
        if (where is None) != (seen_where is None):
            found.append(("index condition differs", table.name, index.name))
    found += [("index not in the models", table.name, name) for name in reflected]
    return found


def _check_differences(inspector, table):
    reflected = {ck["name"] for ck in inspector.get_check_constraints(table.name)}
    expected = {ck.name for ck in table.constraints if isinstance(ck, sa.CheckConstraint)}
    return ([("check constraint missing", table.name, name)
             for name in sorted(expected - reflected)]
            + [("check constraint not in the models", table.name, name)
               for name in sorted(reflected - expected)])
