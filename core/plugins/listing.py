"""What the admin API and the CLI show about plugins."""
from packaging.version import Version

from .graph import dependents
from .models import AVAILABLE


def describe(registry, snapshot, name):
    plugin = registry.get(name)
    if plugin is None:
        broken = registry.broken.get(name)
        return {
            "name": name, "title": name, "version": None, "summary": "",
            "depends": [], "dependents": [], "default": False,
            "state": "broken" if broken else "missing",
            "installed_state": snapshot.state(name),
            "installed_version": snapshot.versions.get(name),
            "reason": broken.reason if broken else "its code is not installed in this process",
            "upgrade_available": False,
        }
    data = plugin.as_dict()
    installed_version = snapshot.versions.get(name)
    state = snapshot.state(name)
    data.update(
        state=state,
        installed_version=installed_version,
        dependents=dependents(registry.depends, name),
        upgrade_available=state != AVAILABLE and installed_version is not None
        and Version(plugin.manifest.version) > Version(installed_version),
        has_settings=plugin.manifest.settings is not None,
        reason=None,
    )
    return data


def describe_all(registry, snapshot):
    names = list(registry.plugins) + sorted(registry.broken)
    names += sorted(n for n in snapshot.states if n not in names)
    return [describe(registry, snapshot, name) for name in names]


def public_settings(registry, snapshot, name):
    """The plugin's effective settings, with secrets replaced by whether they are set."""
    plugin = registry.get(name)
    values = registry.plugin_settings(name, snapshot)
    secrets = plugin.manifest.secret_settings
    shown = {}
    dumped = plugin.manifest.settings().dump(values) if plugin.manifest.settings else {}
    for key, value in dumped.items():
        shown[key] = None if key in secrets else value
    return {
        "plugin": name,
        "settings": shown,
        "secrets": {key: bool(values.get(key)) for key in sorted(secrets)},
    }
