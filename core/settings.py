"""Reading the ini settings, with values taken from ``EMPORIUM_*`` environment variables.

An ini value of the form ``${EMPORIUM_NAME}`` must come from the environment: a
missing variable stops start-up with one line that names it. Independently of the
ini, the variables in ``ENVIRONMENT_OVERRIDES`` always win, so an operator can
point any installation at another database or broker without editing files.
"""
import os
import re

from pyramid.settings import asbool

PLACEHOLDER = re.compile(r"^\$\{(EMPORIUM_[A-Z0-9_]+)\}$")

ENVIRONMENT_OVERRIDES = {
    "EMPORIUM_DATABASE_URL": "sqlalchemy.url",
    "EMPORIUM_JWT_SECRET": "emporium.jwt_secret",
    "EMPORIUM_REDIS_URL": "emporium.redis_url",
    "EMPORIUM_BROKER_URL": "celery.broker_url",
    "EMPORIUM_RESULT_BACKEND": "celery.result_backend",
    "EMPORIUM_PLUGINS_REFRESH_INTERVAL": "emporium.plugins.refresh_interval",
    "EMPORIUM_PLUGINS_EXTRA": "emporium.plugins.extra",
    "EMPORIUM_ADMIN_SESSION_SECRET": "emporium.admin.session_secret",
}

# A plugin setting can be forced by an operator with EMPORIUM_PLUGIN_<NAME>__<KEY>
# (two underscores between plugin and key, since both may contain one).
PLUGIN_ENV_PREFIX = "EMPORIUM_PLUGIN_"


class MissingEnvironmentVariable(Exception):
    def __init__(self, variable, setting):
        self.variable = variable
        self.setting = setting
        super().__init__(
            f"environment variable {variable} is not set "
            f"(the setting {setting} reads it)"
        )


def resolve(settings, environ=None):
    """Return a copy of ``settings`` with placeholders and overrides applied."""
    environ = os.environ if environ is None else environ
    resolved = dict(settings)
    for key, value in settings.items():
        match = PLACEHOLDER.match(value.strip()) if isinstance(value, str) else None
        if match:
            variable = match.group(1)
            if not environ.get(variable):
                raise MissingEnvironmentVariable(variable, key)
            resolved[key] = environ[variable]
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        if environ.get(variable):
            resolved[key] = environ[variable]
    for variable, value in environ.items():
        if variable.startswith(PLUGIN_ENV_PREFIX) and "__" in variable:
            plugin, _, name = variable[len(PLUGIN_ENV_PREFIX):].partition("__")
            resolved[f"emporium.plugin.{plugin.lower()}.{name.lower()}"] = value
    return resolved


def plugin_overrides(settings, plugin_name):
    """Operator-forced settings of one plugin: ``emporium.plugin.<name>.<key>``."""
    prefix = f"emporium.plugin.{plugin_name}."
    return {
        key[len(prefix):]: value
        for key, value in settings.items()
        if key.startswith(prefix)
    }


def as_list(value):
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [item for item in re.split(r"[\s,]+", value) if item]


def as_float(value, default):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def as_int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


__all__ = ["resolve", "plugin_overrides", "as_list", "as_float", "as_int", "asbool",
           "MissingEnvironmentVariable"]
