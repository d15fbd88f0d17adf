"""The merchant admin: server-rendered pages under /admin for staff.

Staff sign in with their e-mail and password; a signed cookie session
(``emporium.admin.session_secret``) remembers them, for /admin only, so the JSON
API stays bearer-token only and free of cookies and CSRF. Every POST carries the
session's CSRF token. Pages call the same services as the REST API.

Plugins add pages, menu entries, dashboard widgets and sections of a customer's page:

- pages are ordinary views in the plugin's package, on routes added with
  ``add_admin_route(config, "<plugin>.admin_<page>", "/<plugin>/...")`` from the
  plugin's ``includeme``, declared with ``admin_view`` (see ``core.admin.views``);
  the kernel's plugin gate answers 404 while the plugin is disabled;
- menu entries, widgets and sections come from the ``admin_menu``,
  ``admin_dashboard`` and ``admin_customer_sections`` hooks, which only enabled
  plugins answer.
"""
import hashlib
import hmac

from pyramid.exceptions import ConfigurationError
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.session import SignedCookieSessionFactory
from pyramid.view import view_config

from core.settings import as_int

ADMIN_PREFIX = "/admin"
ACCESS = "core.admin.access"
# declared here, where the admin's customers pages use it, until the accounts API has
# staff views of its own
CUSTOMERS = "core.accounts.manage"
PUBLIC = NO_PERMISSION_REQUIRED
COOKIE_NAME = "emporium_admin"
DEFAULT_SESSION_TIMEOUT = 2 * 3600
ROUTES_KEY = "admin_routes"


def add_admin_route(config, name, pattern, **kwargs):
    """Add the route ``name`` at ``/admin`` + ``pattern``, whatever the include's prefix.

    A plugin's ``includeme`` runs under the API prefix (/api/v1); its admin pages
    belong under /admin, next to the kernel's. Views on these routes are admin
    views: staff only, CSRF-checked, HTML errors.
    """
    saved = config.route_prefix
    # the prefix is applied when add_route is called, so lifting it for the call suffices
    config.route_prefix = None
    try:
        path = ADMIN_PREFIX + ("/" + pattern.lstrip("/") if pattern else "")
        config.add_route(name, path, **kwargs)
    finally:
        config.route_prefix = saved
    config.registry.setdefault(ROUTES_KEY, set()).add(name)


class admin_view(view_config):
    """``@admin_view(route_name=..., request_method=..., renderer=..., permission=...)``.

    ``permission`` is checked against the signed-in staff member (on top of
    ``core.admin.access``); ``PUBLIC`` lets anyone in (the login page). It is not
    Pyramid's ``permission``, which reads bearer tokens.
    """

    def __init__(self, **settings):
        settings["admin_permission"] = settings.pop("permission", None) or ACCESS
        super().__init__(**settings)


def session_secret(settings):
    """``emporium.admin.session_secret``; without it (test and demo configurations), a
    key derived from the JWT secret, so the two never share a key."""
    secret = settings.get("emporium.admin.session_secret")
    if secret:
        if len(secret) < 32:
            raise ConfigurationError("emporium.admin.session_secret must have at least "
                                     "32 characters")
        return secret
    from core.security import signing_key

    return hmac.new(signing_key(settings).encode(), b"emporium.admin.session",
                    hashlib.sha256).hexdigest()


def session_factory(settings):
    """Signed (not encrypted) JSON cookies: they hold a user id and a CSRF token only.

    The cookie is Secure whenever the request came over HTTPS (directly or through
    a trusted proxy), so a plain-HTTP development server still works.
    """
    timeout = as_int(settings.get("emporium.admin.session_timeout"), DEFAULT_SESSION_TIMEOUT)
    if timeout <= 0:
        raise ConfigurationError("emporium.admin.session_timeout must be a number of "
                                 "seconds above 0")
    options = dict(cookie_name=COOKIE_NAME, path=ADMIN_PREFIX, httponly=True, samesite="Lax",
                   timeout=timeout, reissue_time=max(1, timeout // 10), hashalg="sha512",
                   salt="emporium.admin.session")
    secret = session_secret(settings)
    plain = SignedCookieSessionFactory(secret, secure=False, **options)
    secure = SignedCookieSessionFactory(secret, secure=True, **options)

    def factory(request):
        return (secure if request.scheme == "https" else plain)(request)

    return factory


def includeme(config):
    from . import security

    settings = config.get_settings()
    config.set_session_factory(session_factory(settings))
    # block tags leave no blank lines behind; an ini may still say otherwise
    settings.setdefault("jinja2.trim_blocks", "true")
    settings.setdefault("jinja2.lstrip_blocks", "true")
    config.include("pyramid_jinja2")
    config.add_static_view(name="admin/static", path="core.admin:static", cache_max_age=3600)
    config.declare_permission(ACCESS, "Sign in to the merchant admin")
    config.declare_permission(CUSTOMERS, "See every account (customers and staff) with its "
                                         "addresses, deactivate and activate accounts")
    config.add_request_method(security.AdminContext, "admin", reify=True)
    # under the plugin gate (a disabled plugin's pages are 404 for everyone), over
    # Pyramid's permission check, which admin views do not use
    config.add_view_deriver(security.admin_gate, under="plugin_gate", over="secured_view")
    # after every view (the configure hook's too) is registered: the admin's HTML
    # pages are not part of the JSON API's OpenAPI document
    config.action(None, security.unlist_from_openapi(config.registry), order=2)

    add_admin_route(config, "core.admin_dashboard", "")
    add_admin_route(config, "core.admin_slash", "/")
    add_admin_route(config, "core.admin_login", "/login")
    add_admin_route(config, "core.admin_logout", "/logout")
    add_admin_route(config, "core.admin_customers", "/customers")
    add_admin_route(config, "core.admin_customer", r"/customers/{id:\d{1,10}}")
    add_admin_route(config, "core.admin_customer_status",
                    r"/customers/{id:\d{1,10}}/{action:deactivate|activate}")
    add_admin_route(config, "core.admin_plugins", "/plugins")
    add_admin_route(config, "core.admin_plugin", "/plugins/{name}")
    add_admin_route(config, "core.admin_plugin_settings", "/plugins/{name}/settings")
    add_admin_route(config, "core.admin_plugin_operation",
                    "/plugins/{name}/{operation:install|enable|disable|uninstall|upgrade}")
    config.scan(".views")
