"""Finding plugins: the ``emporium.plugins`` entry points, plus dotted module names.

Built-in and third-party plugins are found the same way, through their
distribution's entry points. ``emporium.plugins.extra`` (a list of dotted module
names) adds plugins that are importable but not installed as a distribution, which
is how tests register a plugin for one test.

Nothing here may take the application down: every failure becomes a BrokenPlugin
with its reason.
"""
import dataclasses
import importlib
import logging
from importlib.metadata import entry_points

import pluggy

from core import hookspecs

from .graph import dependencies, find_cycles, topological_order
from .manifest import BrokenPlugin, IncompatiblePlugin, ManifestError, Plugin, load_plugin

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "emporium.plugins"


@dataclasses.dataclass
class Discovery:
    plugins: dict[str, Plugin]  # in dependency order
    broken: dict[str, BrokenPlugin]

    @property
    def depends(self):
        return {name: list(p.manifest.depends) for name, p in self.plugins.items()}


def _candidates(extra_modules):
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = ep.dist.name if ep.dist is not None else None
        yield ep.name, ep.load, dist
    for dotted in extra_modules:
        name = dotted.rsplit(".", 1)[-1]
        yield name, (lambda dotted=dotted: importlib.import_module(dotted)), None


def discover(extra_modules=()):
    loaded, broken = {}, {}
    for name, load, dist in _candidates(extra_modules):
        if name in loaded or name in broken:
            broken[name] = BrokenPlugin(name, "two plugins are registered under this name", dist)
            loaded.pop(name, None)
            continue
        try:
            module = load()
            loaded[name] = load_plugin(name, module, dist)
        except IncompatiblePlugin as exc:
            broken[name] = BrokenPlugin(name, f"incompatible: {exc}", dist)
        except ManifestError as exc:
            broken[name] = BrokenPlugin(name, f"invalid plugin: {exc}", dist)
        except Exception as exc:  # an import error of any kind
            broken[name] = BrokenPlugin(
                name, f"cannot be imported: {type(exc).__name__}: {exc}", dist
            )
    _drop_unresolvable(loaded, broken)
    order = topological_order({n: list(p.manifest.depends) for n, p in loaded.items()})
    for name in order:
        plugin = loaded[name]
        if any(dep not in loaded for dep in plugin.manifest.depends):
            broken[name] = BrokenPlugin(name, "depends on a broken plugin", plugin.distribution)
            del loaded[name]
            continue
        try:
            _check_hooks(plugin, loaded)
        except ManifestError as exc:
            broken[name] = BrokenPlugin(name, f"invalid plugin: {exc}", plugin.distribution)
            del loaded[name]
    order = [name for name in order if name in loaded]
    for name, item in broken.items():
        log.warning("plugin %s is broken: %s", name, item.reason)
    return Discovery(plugins={name: loaded[name] for name in order}, broken=broken)


def _check_hooks(plugin, loaded):
    """Refuse hook implementations that match no hookspec or take unknown arguments.

    A plugin may implement the kernel's hooks, its own, and those declared by the
    plugins it depends on (directly or not): it cannot count on any other.
    """
    if plugin.hooks is None:
        return
    pm = pluggy.PluginManager("emporium")
    pm.add_hookspecs(hookspecs)
    depends = {n: list(p.manifest.depends) for n, p in loaded.items()}
    for name in dependencies(depends, plugin.name) + [plugin.name]:
        if loaded[name].hookspecs is not None:
            pm.add_hookspecs(loaded[name].hookspecs)
    try:
        pm.register(plugin.hooks, name=plugin.name)
    except pluggy.PluginValidationError as exc:
        raise ManifestError(f"bad hook: {exc}") from None
    unknown = sorted(
        caller.name for caller in pm.get_hookcallers(plugin.hooks) or () if not caller.has_spec()
    )
    if unknown:
        raise ManifestError(f"implements unknown hooks: {', '.join(unknown)}")


def _drop_unresolvable(loaded, broken):
    """Move plugins with unknown, broken or cyclic dependencies to ``broken``."""
    changed = True
    while changed:
        changed = False
        for name, plugin in list(loaded.items()):
            for dep in plugin.manifest.depends:
                if dep not in loaded:
                    why = "is broken" if dep in broken else "is not a known plugin"
                    broken[name] = BrokenPlugin(
                        name, f"depends on {dep!r}, which {why}", plugin.distribution
                    )
                    del loaded[name]
                    changed = True
                    break
    depends = {n: list(p.manifest.depends) for n, p in loaded.items()}
    for name, exc in find_cycles(depends).items():
        broken[name] = BrokenPlugin(name, str(exc), loaded[name].distribution)
        del loaded[name]
