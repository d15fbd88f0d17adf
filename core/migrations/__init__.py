"""Alembic, driven from code: the kernel's branch plus one branch per plugin.

Every branch shares one version table (``core_alembic_version``) holding one head
per branch. Revisions run on the caller's connection inside the caller's
transaction, so a lifecycle operation and its migrations commit or roll back
together.
"""
import pathlib

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

HERE = pathlib.Path(__file__).parent
KERNEL_BRANCH = "kernel"
VERSION_TABLE = "core_alembic_version"


def alembic_config(plugins, connection=None, url=None):
    """An Alembic Config knowing the kernel's and every given plugin's revisions."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    locations = [str(HERE / "versions")]
    locations += [str(p.migrations_dir) for p in plugins if p.migrations_dir is not None]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    config.attributes["connection"] = connection
    config.attributes["plugins"] = {p.name: p for p in plugins}
    return config


def include_object_for(owner):
    """An autogenerate filter that sees only ``owner``'s tables (a plugin, or "kernel")."""
    prefix = "core_" if owner == KERNEL_BRANCH else owner + "_"

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = name if type_ == "table" else getattr(table, "name", "")
        return bool(table_name) and table_name.startswith(prefix) and table_name != VERSION_TABLE

    return include_object


def new_revision(config, owner, message, autogenerate, version_path):
    """Write a revision into ``owner``'s branch, starting the branch if it has none."""
    config.attributes["autogenerate_for"] = owner
    first = not branch_revisions(config, owner)
    return command.revision(
        config, message=message, autogenerate=autogenerate,
        head="base" if first else f"{owner}@head",
        branch_label=owner if first else None,
        depends_on="0001_kernel" if first and owner != KERNEL_BRANCH else None,
        version_path=str(version_path),
    )


def upgrade(config, target):
    command.upgrade(config, target)


def downgrade(config, target):
    command.downgrade(config, target)


def current_heads(connection):
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return set(context.get_current_heads())


def branch_revisions(config, branch):
    """The revision ids of one branch, oldest first; empty if it has none."""
    script = ScriptDirectory.from_config(config)
    try:
        revisions = list(script.iterate_revisions(f"{branch}@head", "base"))
    except Exception:  # an unknown branch label
        return []
    # depends_on pulls in other branches' revisions: keep this branch's own
    return [rev.revision for rev in reversed(revisions) if branch in rev.branch_labels]

