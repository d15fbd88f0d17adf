"""The plugin manager: discovery, the enabled set, lifecycle and the admin API.

What a plugin author imports lives here: ``Manifest`` and ``hookimpl``.
"""
import logging

from core.settings import as_float, as_list

from .discovery import discover
from .manifest import Manifest, Plugin  # noqa: F401
from .registry import PluginRegistry, hookimpl  # noqa: F401

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def build_registry(settings):
    discovery = discover(as_list(settings.get("emporium.plugins.extra")))
    return PluginRegistry(discovery, settings)


def includeme(config):
    settings = config.get_settings()
    registry = build_registry(settings)
    config.registry["plugins"] = registry
    engine = config.registry["db_engine"]
    registry.load(engine)
    interval = as_float(settings.get("emporium.plugins.refresh_interval"), 1.0)

    def plugins(request):
        # started lazily so that a forked worker process gets its own thread
        registry.start_watcher(engine, interval)
        return registry.current()

    config.add_request_method(plugins, reify=True)
    config.include(".views", route_prefix=API_PREFIX)
    # Every loaded plugin's routes exist in every process; the view deriver in
    # core.api answers 404 while the plugin is not enabled.
    for plugin in registry.plugins.values():
        if hasattr(plugin.module, "includeme"):
            config.include(plugin.module, route_prefix=API_PREFIX)
    config.action(None, lambda: registry.pm.hook.configure(config=config), order=1)
