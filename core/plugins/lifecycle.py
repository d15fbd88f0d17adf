"""The plugin lifecycle: available -> enabled <-> disabled -> available.

Every operation is first a plan (a list of Steps: which plugins change, which
tables, routes and hooks that touches, which migrations run), then, if asked, the
execution of that plan inside the caller's transaction: the migrations, the state
rows and the plugins' own hooks commit together or not at all. Running an
operation twice changes nothing the second time.
"""
import dataclasses

import sqlalchemy as sa
from packaging.version import Version
from zope.sqlalchemy import mark_changed

from core import migrations
from core.api.errors import Conflict, NotFound, Unprocessable
from core.db import metadata, utcnow

from .graph import dependencies, dependents
from .models import AVAILABLE, DISABLED, ENABLED, PluginRevision, PluginState
from .registry import read_snapshot

OPERATIONS = ("install", "enable", "disable", "uninstall", "upgrade")
INSTALLED = (ENABLED, DISABLED)


@dataclasses.dataclass
class Step:
    plugin: str
    action: str  # install, enable, disable, uninstall, upgrade
    from_state: str
    to_state: str
    purge: bool = False
    tables: list = dataclasses.field(default_factory=list)
    routes: list = dataclasses.field(default_factory=list)
    hooks: list = dataclasses.field(default_factory=list)
    migrations: list = dataclasses.field(default_factory=list)

    def describe(self):
        if self.plugin == "kernel":
            return "upgrade the kernel"
        if self.action == "uninstall":
            kept = "deleting its tables and settings" if self.purge else "keeping its data"
            return f"uninstall {self.plugin} ({kept})"
        return f"{self.action} {self.plugin}"

    def as_dict(self):
        data = dataclasses.asdict(self)
        data["description"] = self.describe()
        return data


class Lifecycle:
    def __init__(self, registry, dbsession, transaction_manager, route_names=None):
        self.registry = registry
        self.dbsession = dbsession
        self.transaction_manager = transaction_manager
        self._route_names = route_names or (lambda plugin: [])

    @classmethod
    def for_app(cls, app_registry, dbsession, transaction_manager):
        """A Lifecycle for the configured application (its plugins and routes)."""
        routes = app_registry.introspector.get_category("routes") or []
        names = [item["introspectable"]["name"] for item in routes]
        return cls(app_registry["plugins"], dbsession, transaction_manager,
                   route_names=lambda plugin: [n for n in names if n.startswith(plugin.name + ".")])

    # --- reading --------------------------------------------------------------------

    def snapshot(self):
        self.dbsession.flush()
        return read_snapshot(self.dbsession)

    def require(self, name):
        """The loaded plugin ``name``; 404 if unknown, 422 if broken."""
        plugin = self.registry.get(name)
        if plugin is not None:
            return plugin
        if name in self.registry.broken:
            raise Unprocessable(
                f"Plugin {name!r} cannot be used: {self.registry.broken[name].reason}",
                code="plugin_broken")
        raise NotFound(f"There is no plugin named {name!r}.", code="unknown_plugin")

    def _alembic(self):
        # migrations run on the session's connection, behind the ORM's back: tell
        # zope.sqlalchemy that the transaction has writes to commit
        mark_changed(self.dbsession, transaction_manager=self.transaction_manager)
        return migrations.alembic_config(list(self.registry.plugins.values()),
                                         connection=self.dbsession.connection())

    # --- planning -------------------------------------------------------------------

    def plan(self, operation, name, cascade=False, purge=False, snapshot=None):
        if operation not in OPERATIONS:
            raise NotFound(f"Unknown operation {operation!r}.", code="unknown_operation")
        self.require(name)
        snapshot = snapshot or self.snapshot()
        steps = getattr(self, f"_plan_{operation}")(name, snapshot, cascade, purge)
        return [self._detail(step, snapshot) for step in steps]

    def _plan_install(self, name, snapshot, cascade, purge):
        steps = []
        for plugin in dependencies(self.registry.depends, name) + [name]:
            state = snapshot.state(plugin)
            if state == AVAILABLE:
                steps.append(Step(plugin, "install", state, ENABLED))
            elif state == DISABLED:
                steps.append(Step(plugin, "enable", state, ENABLED))
        return steps

    def _plan_enable(self, name, snapshot, cascade, purge):
        if snapshot.state(name) == AVAILABLE:
            raise Conflict(f"Plugin {name!r} is not installed; install it first.",
                           code="plugin_not_installed")
        return self._plan_install(name, snapshot, cascade, purge)

    def _plan_disable(self, name, snapshot, cascade, purge):
        state = snapshot.state(name)
        if state == AVAILABLE:
            raise Conflict(f"Plugin {name!r} is not installed.", code="plugin_not_installed")
        if state == DISABLED:
            return []
        needing = [d for d in dependents(self.registry.depends, name)
                   if snapshot.state(d) == ENABLED]
        if needing and not cascade:
            raise Conflict(
                f"Cannot disable {name!r}: {', '.join(needing)} "
                f"{'depends' if len(needing) == 1 else 'depend'} on it. Disable "
                f"{'it' if len(needing) == 1 else 'them'} first, or ask for a cascade.",
                code="plugin_has_dependents", extra={"dependents": needing})
        return [Step(p, "disable", ENABLED, DISABLED) for p in reversed([name] + needing)]

    def _plan_uninstall(self, name, snapshot, cascade, purge):
        installed = [d for d in dependents(self.registry.depends, name)
                     if snapshot.state(d) in INSTALLED]
        if installed:
            raise Conflict(
                f"Cannot uninstall {name!r}: {', '.join(installed)} "
                f"{'is' if len(installed) == 1 else 'are'} installed and "
                f"{'depends' if len(installed) == 1 else 'depend'} on it. Uninstall "
                f"{'it' if len(installed) == 1 else 'them'} first.",
                code="plugin_has_dependents", extra={"dependents": installed})
        state = snapshot.state(name)
        if state == AVAILABLE and not (purge and self._has_data(name)):
            return []
        return [Step(name, "uninstall", state, AVAILABLE, purge=purge)]

    def _plan_upgrade(self, name, snapshot, cascade, purge):
        state = snapshot.state(name)
        if state == AVAILABLE:
            raise Conflict(f"Plugin {name!r} is not installed.", code="plugin_not_installed")
        plugin = self.require(name)
        installed = snapshot.versions.get(name)
        newer = installed is None or Version(plugin.manifest.version) > Version(installed)
        if newer or self._pending_migrations(name):
            return [Step(name, "upgrade", state, state)]
        return []

    def _branch_progress(self, name):
        """(applied, pending) revisions of the plugin's branch, oldest first."""
        if self.require(name).migrations_dir is None:
            return [], []
        heads = migrations.current_heads(self.dbsession.connection())
        revisions = migrations.branch_revisions(self._alembic(), name)
        done = max((i + 1 for i, rev in enumerate(revisions) if rev in heads), default=0)
        return revisions[:done], revisions[done:]

    def _has_data(self, name):
        return bool(self._branch_progress(name)[0])

    def _pending_migrations(self, name):
        return self._branch_progress(name)[1]

    def _detail(self, step, snapshot):
        plugin = self.require(step.plugin)
        step.tables = sorted(t for t in metadata.tables if t.startswith(plugin.table_prefix))
        step.routes = sorted(self._route_names(plugin))
        step.hooks = sorted(
            caller.name for caller in self.registry.pm.get_hookcallers(plugin.hooks) or ()
        ) if plugin.hooks is not None else []
        if step.action in ("install", "upgrade"):
            step.migrations = self._pending_migrations(step.plugin)
        elif step.action == "uninstall" and step.purge:
            step.migrations = self._branch_progress(step.plugin)[0][::-1]
        return step

    # --- running --------------------------------------------------------------------

    def run(self, operation, name, cascade=False, purge=False):
        """Plan and carry out ``operation``; returns the steps taken ([] if nothing to do)."""
        self.require(name)
        self._lock()
        snapshot = self.snapshot()
        steps = self.plan(operation, name, cascade, purge, snapshot)
        if not steps:
            return []
        for step in steps:
            self._execute(step)
            self.dbsession.flush()
            after = read_snapshot(self.dbsession)
            self.registry.relay(after).plugin_state_changed(
                name=step.plugin, old_state=step.from_state, new_state=step.to_state,
                dbsession=self.dbsession)
        self._bump_revision()
        self._publish_after_commit()
        return steps

    def _lock(self):
        # every lifecycle transaction writes this row first: a concurrent one waits
        self.dbsession.execute(
            sa.update(PluginRevision).where(PluginRevision.id == 1)
            .values(revision=PluginRevision.revision)
        )

    def _bump_revision(self):
        self.dbsession.execute(
            sa.update(PluginRevision).where(PluginRevision.id == 1)
            .values(revision=PluginRevision.revision + 1)
        )

    def _publish_after_commit(self):
        registry, dbsession = self.registry, self.dbsession
        self.dbsession.flush()
        snapshot = read_snapshot(dbsession)

        def publish(committed):
            if committed:
                registry.set_snapshot(snapshot)

        self.transaction_manager.get().addAfterCommitHook(publish)

    def _row(self, name):
        row = self.dbsession.get(PluginState, name)
        if row is None:
            row = PluginState(name=name, state=AVAILABLE, settings={})
            self.dbsession.add(row)
        return row

    def _execute(self, step):
        plugin = self.require(step.plugin)
        row = self._row(step.plugin)
        if step.action in ("install", "upgrade"):
            if plugin.migrations_dir is not None:
                migrations.upgrade(self._alembic(), f"{plugin.name}@head")
            from_version = row.installed_version
            row.installed_version = plugin.manifest.version
            if step.action == "install":
                row.state = ENABLED
                row.installed_at = utcnow()
                self.dbsession.flush()
                self.registry.call_on(plugin.name, "install", dbsession=self.dbsession,
                                      settings=self._settings(plugin.name, row))
            else:
                self.dbsession.flush()
                self.registry.call_on(plugin.name, "upgrade", dbsession=self.dbsession,
                                      from_version=from_version,
                                      to_version=plugin.manifest.version)
        elif step.action in ("enable", "disable"):
            row.state = step.to_state
        elif step.action == "uninstall":
            self.registry.call_on(plugin.name, "uninstall", dbsession=self.dbsession,
                                  purge=step.purge)
            self.dbsession.flush()
            if step.purge:
                if plugin.migrations_dir is not None:
                    migrations.downgrade(self._alembic(), f"{plugin.name}@base")
                row.installed_version = None
                row.settings = {}
            row.state = AVAILABLE

    def _settings(self, name, row):
        return self.registry.plugin_settings(name, stored=row.settings or {})

    # --- settings -------------------------------------------------------------------

    def update_settings(self, name, values):
        """Merge ``values`` into the stored settings; ``None`` resets a key to its default.

        Validated against the plugin's schema as a whole; an unknown key or a bad
        value is a 400 with per-field messages and nothing is stored.
        """
        plugin = self.require(name)
        schema_class = plugin.manifest.settings
        if schema_class is None:
            raise Unprocessable(f"Plugin {name!r} has no settings.", code="no_settings")
        self._lock()
        row = self._row(name)
        stored = dict(row.settings or {})
        for key, value in values.items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        # validation raises marshmallow's ValidationError (a 400) on bad input
        clean = schema_class().dump(schema_class().load(stored))
        row.settings = {key: clean[key] for key in stored if key in clean}
        self._bump_revision()
        self._publish_after_commit()
        return self._settings(name, row)

    def upgrade_all(self):
        """Bring the kernel and every installed plugin to their heads (``db upgrade``).

        Returns the steps taken; the kernel's own migrations come first as a step
        of the pseudo-plugin "kernel".
        """
        connection = self.dbsession.connection()
        applied = migrations.current_heads(connection)
        kernel = migrations.branch_revisions(self._alembic(), migrations.KERNEL_BRANCH)
        done = max((i + 1 for i, rev in enumerate(kernel) if rev in applied), default=0)
        migrations.upgrade(self._alembic(), f"{migrations.KERNEL_BRANCH}@head")
        steps = [Step("kernel", "upgrade", ENABLED, ENABLED, migrations=kernel[done:])
                 ] if kernel[done:] else []
        snapshot = self.snapshot()
        for name in self.registry.plugins:
            if snapshot.state(name) in INSTALLED:
                steps += self.run("upgrade", name)
        return steps

    def initialize(self):
        """``emporium init``: upgrade everything, install default plugins never installed.

        A default plugin the merchant uninstalled keeps its row, so it stays out.
        """
        steps = self.upgrade_all()
        known = self.snapshot().states
        for name, plugin in self.registry.plugins.items():
            if plugin.manifest.default and name not in known:
                steps += self.run("install", name)
        return steps
