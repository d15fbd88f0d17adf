"""The plugin registry: loaded plugins, the pluggy manager, and the enabled set.

The enabled set lives in an immutable ``Snapshot``. Each request takes the current
snapshot once (``request.plugins``) and sees one consistent set for its whole life.
Snapshots are replaced, never changed: by the process that made a change, right
after its transaction commits, and in every other process by a watcher thread that
polls one counter row (``core_plugin_revision``) every
``emporium.plugins.refresh_interval`` seconds. Reading the enabled set therefore
costs a request no database round trip.
"""
import dataclasses
import logging
import os
import threading

import pluggy
import sqlalchemy as sa
from marshmallow import ValidationError

from core import hookspecs
from core.settings import plugin_overrides

from .models import DISABLED, ENABLED, PluginRevision, PluginState

log = logging.getLogger(__name__)

hookimpl = pluggy.HookimplMarker("emporium")


@dataclasses.dataclass(frozen=True)
class Snapshot:
    revision: int
    states: dict  # name -> state, for plugins with a row
    versions: dict  # name -> installed version
    stored_settings: dict  # name -> dict
    initialized: bool = True

    @property
    def enabled(self):
        return frozenset(n for n, s in self.states.items() if s == ENABLED)

    def state(self, name):
        return self.states.get(name, "available")

    @classmethod
    def empty(cls, initialized=False):
        return cls(revision=-1, states={}, versions={}, stored_settings={}, initialized=initialized)


def read_snapshot(connection):
    """Read the state tables through ``connection`` (a Connection or Session)."""
    revision = connection.execute(
        sa.select(PluginRevision.revision).where(PluginRevision.id == 1)
    ).scalar()
    rows = connection.execute(
        sa.select(PluginState.name, PluginState.state, PluginState.installed_version,
                  PluginState.settings)
    ).all()
    return Snapshot(
        revision=revision or 0,
        states={r.name: r.state for r in rows},
        versions={r.name: r.installed_version for r in rows},
        stored_settings={r.name: dict(r.settings or {}) for r in rows},
    )


class HookRelay:
    """``relay.<hook>(...)`` calls only the hooks of enabled plugins (and the kernel's)."""

    def __init__(self, pm, removed):
        self._pm = pm
        self._removed = removed
        self._callers = {}

    def __getattr__(self, name):
        try:
            return self._callers[name]
        except KeyError:
            pass
        caller = getattr(self._pm.hook, name)  # AttributeError for an unknown hook
        if self._removed:
            caller = self._pm.subset_hook_caller(name, remove_plugins=self._removed)
        self._callers[name] = caller
        return caller


class PluginRegistry:
    def __init__(self, discovery, settings):
        self.discovery = discovery
        self.settings = settings
        self.pm = pluggy.PluginManager("emporium")
        self.pm.add_hookspecs(hookspecs)
        for plugin in discovery.plugins.values():
            if plugin.hookspecs is not None:
                self.pm.add_hookspecs(plugin.hookspecs)
        # pluggy calls the last registered first; registering in reverse
        # dependency order makes hooks run in dependency order.
        for plugin in reversed(list(discovery.plugins.values())):
            if plugin.hooks is not None:
                self.pm.register(plugin.hooks, name=plugin.name)
        self._snapshot = Snapshot.empty()
        self._relays = {}
        self._view = None
        self._settings_cache = {}
        self._lock = threading.Lock()
        self._watcher = None

    # --- what is loaded -------------------------------------------------------------

    @property
    def plugins(self):
        return self.discovery.plugins

    @property
    def broken(self):
        return self.discovery.broken

    @property
    def depends(self):
        return self.discovery.depends

    def get(self, name):
        return self.discovery.plugins.get(name)

    def owner_of_package(self, package_name):
        for plugin in self.discovery.plugins.values():
            if plugin.owns_package(package_name):
                return plugin.name
        return None

    # --- the enabled set ------------------------------------------------------------

    @property
    def snapshot(self):
        return self._snapshot

    def set_snapshot(self, snapshot):
        with self._lock:
            if snapshot is self._snapshot:
                return
            self._snapshot = snapshot
            self._settings_cache = {}

    def load(self, engine):
        """Read the snapshot from the database; an uninitialized one gives an empty set."""
        try:
            with engine.connect() as connection:
                snapshot = read_snapshot(connection)
        except sa.exc.DBAPIError as exc:
            log.warning("plugin state not readable (run `emporium init`): %s",
                        str(exc).splitlines()[0])
            snapshot = Snapshot.empty()
        self.set_snapshot(snapshot)
        return snapshot

    def refresh(self, engine):
        """Reload the snapshot if another process changed it; True if it changed."""
        current = self._snapshot
        try:
            with engine.connect() as connection:
                revision = connection.execute(
                    sa.select(PluginRevision.revision).where(PluginRevision.id == 1)
                ).scalar()
                if revision is None or revision == current.revision:
                    return False
                snapshot = read_snapshot(connection)
        except sa.exc.DBAPIError:
            return False
        with self._lock:
            # a local commit may have installed a newer snapshot meanwhile
            if self._snapshot is not current:
                return False
            self._snapshot = snapshot
            self._settings_cache = {}
        log.info("plugin state changed elsewhere; now revision %s", snapshot.revision)
        return True

    def start_watcher(self, engine, interval):
        """Start (once per process, also after a fork) the thread that polls for changes."""
        if interval <= 0:
            return
        watcher = self._watcher
        if watcher is not None and watcher.pid == os.getpid():
            return  # the common case, without taking the lock
        with self._lock:
            if self._watcher is not None and self._watcher.pid == os.getpid():
                return
            self._watcher = _Watcher(self, engine, interval)
        self._watcher.start()

    def current(self):
        """The enabled plugins as a request sees them; one shared object per snapshot."""
        view = self._view
        if view is None or view.snapshot is not self._snapshot:
            view = self._view = RequestPlugins(self, self._snapshot)
        return view

    def relay(self, snapshot):
        """The hook relay for ``snapshot``: hooks of plugins not enabled are left out."""
        enabled = snapshot.enabled
        removed = frozenset(
            plugin.hooks for name, plugin in self.plugins.items()
            if plugin.hooks is not None and name not in enabled
        )
        relay = self._relays.get(removed)
        if relay is None:
            relay = self._relays[removed] = HookRelay(self.pm, removed)
        return relay

    def call_on(self, name, hook, **kwargs):
        """Call ``hook`` on plugin ``name`` alone (install, uninstall, upgrade, demo data)."""
        plugin = self.plugins[name]
        if plugin.hooks is None or not hasattr(plugin.hooks, hook):
            return []
        others = [p.hooks for n, p in self.plugins.items() if n != name and p.hooks is not None]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)

    # --- settings -------------------------------------------------------------------

    def plugin_settings(self, name, snapshot=None, stored=None):
        """Effective settings: manifest defaults, then stored values, then operator overrides."""
        snapshot = snapshot or self._snapshot
        cache_key = (name, snapshot.revision) if stored is None else None
        if cache_key and snapshot is self._snapshot and cache_key in self._settings_cache:
            return self._settings_cache[cache_key]
        plugin = self.plugins[name]
        schema_class = plugin.manifest.settings
        if schema_class is None:
            return {}
        values = dict(snapshot.stored_settings.get(name, {}) if stored is None else stored)
        values.update(plugin_overrides(self.settings, name))
        try:
            effective = schema_class().load(values)
        except ValidationError as exc:
            log.error("settings of plugin %s are invalid, using defaults: %s", name, exc.messages)
            effective = schema_class().load({})
        if cache_key and snapshot is self._snapshot:
            self._settings_cache[cache_key] = effective
        return effective


class _Watcher(threading.Thread):
    def __init__(self, registry, engine, interval):
        super().__init__(name="emporium-plugin-watcher", daemon=True)
        self.registry = registry
        self.engine = engine
        self.interval = interval
        self.pid = os.getpid()

    def run(self):
        stop = threading.Event()
        while not stop.wait(self.interval):
            try:
                self.registry.refresh(self.engine)
            except Exception:  # keep watching whatever happens
                log.exception("plugin state refresh failed")


class RequestPlugins:
    """``request.plugins``: the snapshot a request sees, with its hooks and settings.

    Immutable, and shared by every request that runs while its snapshot is current.
    """

    def __init__(self, registry, snapshot):
        self.registry = registry
        self.snapshot = snapshot
        self.enabled = snapshot.enabled
        self.hook = registry.relay(snapshot)

    def is_enabled(self, name):
        return name in self.enabled

    def settings(self, name):
        return self.registry.plugin_settings(name, self.snapshot)

    def extend(self, kind, obj, data, request=None):
        """``data`` with the fields enabled plugins add through the ``serialize_many``
        and ``serialize`` hooks."""
        return self.extend_many(kind, [obj], [data], request)[0]

    def extend_many(self, kind, objs, data, request=None):
        """``extend`` for a list of objects and their representations (``data``, in
        the same order): each plugin's ``serialize_many`` is called once for all."""
        objs, data = list(objs), list(data)
        if len(objs) != len(data):
            raise ValueError("extend_many needs one representation per object")
        if not objs:
            return data
        for extras in self.hook.serialize_many(kind=kind, objs=objs, data=data,
                                               request=request):
            if len(extras) != len(objs):
                raise TypeError(f"serialize_many for {kind} answered {len(extras)} results "
                                f"for {len(objs)} objects")
            for target, extra in zip(data, extras):
                for key, value in (extra or {}).items():
                    target.setdefault(key, value)
        for obj, target in zip(objs, data):
            for extra in self.hook.serialize(kind=kind, obj=obj, data=target,
                                             request=request):
                for key, value in extra.items():
                    target.setdefault(key, value)
        return data
