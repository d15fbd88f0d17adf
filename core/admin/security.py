"""Who uses the admin: the signed-in staff member, CSRF, and the gate on every admin view."""
import hashlib
from urllib.parse import urlencode

from pyramid.csrf import check_csrf_origin, check_csrf_token, get_csrf_token, new_csrf_token
from pyramid.decorator import reify
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from core.security import Identity, User, has_permission

from . import ACCESS, ADMIN_PREFIX, PUBLIC, ROUTES_KEY

SESSION_USER = "user"
SESSION_FINGERPRINT = "auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FLASH_KINDS = ("success", "error", "info")
STATIC_ROUTE = "__admin/static/"  # the name Pyramid gives the static view's route


def fingerprint(user):
    """Changes with the password hash: a new password ends every admin session."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def remember(request, user):
    session = request.session
    # a sign-in starts from an empty session with a new CSRF token
    session.invalidate()
    session[SESSION_USER] = user.id
    session[SESSION_FINGERPRINT] = fingerprint(user)
    new_csrf_token(request)


def forget(request):
    request.session.invalidate()
    new_csrf_token(request)


def safe_next(request, value):
    """``value`` if it is a page of this admin, else the dashboard: never an open redirect."""
    if (isinstance(value, str) and value.startswith(ADMIN_PREFIX) and "\\" not in value
            and not value.startswith("//") and value.isprintable()):
        return request.application_url + value
    return request.route_url("core.admin_dashboard")


class AdminContext:
    """``request.admin``: the signed-in staff member, the menu, flash messages, CSRF."""

    def __init__(self, request):
        self.request = request

    @reify
    def user(self):
        """The signed-in ``User``; None for a guest, a deactivated user or a changed password."""
        session = self.request.session
        user_id = session.get(SESSION_USER)
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return None
        user = self.request.dbsession.get(User, user_id)
        if user is None or not user.is_active or \
                session.get(SESSION_FINGERPRINT) != fingerprint(user):
            return None
        return user

    @reify
    def identity(self):
        user = self.user
        return None if user is None else Identity(id=user.id, roles=tuple(user.roles or ()))

    def can(self, permission):
        return has_permission(self.request.registry, self.identity, permission or ACCESS)

    @property
    def csrf_token(self):
        return get_csrf_token(self.request)

    @reify
    def menu(self):
        from .menu import build_menu

        return build_menu(self.request)

    def flash(self, message, kind="success"):
        self.request.session.flash(message, queue=kind)

    def flashes(self):
        """[(kind, message)] waiting to be shown, removed from the session."""
        session = self.request.session
        return [(kind, message) for kind in FLASH_KINDS for message in session.pop_flash(kind)]


def error_page(request, status, title, message):
    response = render_to_response(
        "core.admin:templates/error.jinja2",
        {"title": title, "message": message, "status": status}, request=request)
    response.status = status
    return response


def csrf_valid(request):
    # the token of the session, in the form or the X-CSRF-Token header; over HTTPS the
    # Origin or Referer must also be this site
    return bool(check_csrf_token(request, token="csrf_token", header="X-CSRF-Token",
                                 raises=False)
                and check_csrf_origin(request, raises=False))


def login_redirect(request):
    query = {"next": request.path_qs} if request.method in SAFE_METHODS else {}
    url = request.route_url("core.admin_login")
    return HTTPSeeOther(url + ("?" + urlencode(query) if query else ""))


def admin_gate(view, info):
    """Every view on an admin route: CSRF on writes, then staff only (guests go to the
    login page), then the view's own ``admin_permission``."""
    route_name = info.options.get("route_name")
    permission = info.options.get("admin_permission")
    is_admin_route = route_name in info.registry.get(ROUTES_KEY, ())
    if info.exception_only:
        return view
    if not is_admin_route:
        if permission is not None:
            raise ConfigurationError(f"admin_view on {route_name!r}, which is not an admin "
                                     "route: add it with core.admin.add_admin_route")
        return view
    permission = permission or ACCESS

    def gated(context, request):
        if request.method not in SAFE_METHODS and not csrf_valid(request):
            return error_page(request, 403, "The form has expired",
                              "This form is too old or did not come from this site. Go "
                              "back, reload the page and try again.")
        if permission != PUBLIC:
            admin = request.admin
            if admin.user is None:
                return login_redirect(request)
            if not admin.can(ACCESS) or not admin.can(permission):
                return error_page(request, 403, "Not allowed",
                                  "Your account is not allowed to use this page.")
        return view(context, request)

    return gated


admin_gate.options = ("admin_permission",)


def unlist_from_openapi(registry):
    def unlist():
        # the admin's pages and its stylesheet's static view
        hidden = registry.get(ROUTES_KEY, set()) | {STATIC_ROUTE}
        registry["api_operations"][:] = [
            op for op in registry["api_operations"] if op["route_name"] not in hidden]

    return unlist
