"""Composing the application: the ordered list of what the kernel includes."""
from pyramid.config import Configurator

from core.settings import resolve


def configure(settings):
    settings = resolve(settings)
    config = Configurator(settings=settings)
    # 1. the database: pyramid_tm (one transaction per request), pyramid_retry
    #    (replay on serialization failures and deadlocks) and request.dbsession
    config.include("core.db")
    # 2. who is asking: JWT bearer tokens and the permission rules
    config.include("core.security")
    # 3. API conventions: JSON errors, schema-validated views, request ids, OpenAPI;
    #    before the plugins, whose views are wrapped by its view derivers
    config.include("core.api")
    # 4. accounts: register, sign in, refresh tokens, the user and their addresses
    config.include("core.accounts", route_prefix="/api/v1")
    # 5. the plugin manager, which includes every loaded plugin's includeme
    #    (under /api/v1) and then calls the `configure` hook
    config.include("core.plugins")
    # 6. the merchant admin: HTML pages under /admin with a session cookie and CSRF;
    #    after the plugins, whose admin pages and hooks it shows
    config.include("core.admin")
    # 7. background work: the Celery app with the kernel's and every loaded
    #    plugin's tasks; after the plugins, whose tasks modules it reads
    config.include("core.tasks")
    # 8. notifications: mail settings are checked now, not at the first e-mail
    config.include("core.notifications")
    return config
