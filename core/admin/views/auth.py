"""Signing in and out of the admin, with the accounts' password check and rate limits."""
from pyramid.httpexceptions import HTTPSeeOther

from core.accounts.services import verify_credentials
from core.api.errors import TooManyRequests
from core.security import Identity, User, has_permission

from .. import ACCESS, PUBLIC, admin_view
from ..forms import text
from ..security import forget, remember, safe_next

LOGIN = "core.admin:templates/login.jinja2"
WRONG = "The e-mail address or the password is not correct."


@admin_view(route_name="core.admin_login", request_method="GET", renderer=LOGIN,
            permission=PUBLIC)
def login_form(request):
    next_url = request.GET.get("next", "")
    if request.admin.user is not None and request.admin.can(ACCESS):
        return HTTPSeeOther(safe_next(request, next_url))
    return {"email": "", "next": next_url, "error": None}


@admin_view(route_name="core.admin_login", request_method="POST", renderer=LOGIN,
            permission=PUBLIC)
def login(request):
    email, password = text(request.POST, "email"), request.POST.get("password", "")
    next_url = request.POST.get("next", "")

    def refuse(status, message):
        request.response.status = status
        return {"email": email, "next": next_url, "error": message}

    if not email or not password:
        return refuse(400, "Enter your e-mail address and your password.")
    if len(email) > 254 or len(password) > 1024:
        return refuse(400, WRONG)
    # before anything else touches request.dbsession: the check writes the attempt
    # count in transactions of its own, which must not wait for this request's
    try:
        user_id = verify_credentials(request.registry, password, request.client_addr,
                                     email=email)
    except TooManyRequests as exc:
        request.response.headers.update({k: str(v) for k, v in exc.headers.items()})
        return refuse(429, exc.message)
    if user_id is None:
        return refuse(400, WRONG)
    user = request.dbsession.get(User, user_id)
    if not user.is_active:
        return refuse(403, "This account is deactivated.")
    identity = Identity(id=user.id, roles=tuple(user.roles or ()))
    if not has_permission(request.registry, identity, ACCESS):
        return refuse(403, "This account has no access to the admin: it is for the "
                           "shop's staff.")
    remember(request, user)
    request.plugins.hook.user_logged_in(user=user, request=request)
    request.admin.flash(f"Signed in as {user.email}.")
    return HTTPSeeOther(safe_next(request, next_url))


@admin_view(route_name="core.admin_logout", request_method="GET",
            renderer="core.admin:templates/logout.jinja2")
def logout_form(request):
    return {}


@admin_view(route_name="core.admin_logout", request_method="POST", permission=PUBLIC)
def logout(request):
    forget(request)
    request.admin.flash("You are signed out.", "info")
    return HTTPSeeOther(request.route_url("core.admin_login"))
