"""The customers pages: every account, one account with its addresses and what plugins
add to it, and deactivating or activating it.

Deactivating and activating call ``core.accounts.services.set_active``, as
``emporium users deactivate|activate`` does: a deactivated account is signed out
everywhere (at once in the admin, within an access token's lifetime in the API).
Deactivating asks to confirm first, and no one deactivates their own account here
(another member of staff can, or the command line).
"""
from core.accounts.services import MAX_ADDRESSES, list_addresses, set_active
from core.accounts.views import MAX_ID
from core.security import User

from .. import CUSTOMERS, admin_view
from ..customers import ROLES, SORTS, STATUSES, Filters, find_accounts
from ..forms import done, found_or_404, not_done, page_number, pager, per_page
from ..menu import build_customer_sections

TEMPLATES = "core.admin:templates/"
DONE = {"deactivate": "deactivated: it can no longer sign in",
        "activate": "activated: it can sign in again"}
STATE = {"deactivate": "deactivated", "activate": "active"}


def _user_or_404(request):
    user_id = int(request.matchdict["id"])  # the route takes digits only
    return found_or_404(request.dbsession.get(User, user_id) if user_id <= MAX_ID else None)


def _refusal(request, user, action):
    """Why ``action`` cannot be done to ``user`` by this staff member, or None."""
    if action == "deactivate" and user.id == request.admin.user.id:
        return ("You cannot deactivate your own account: another member of staff can, or "
                "`emporium users deactivate` on the server.")
    return None


@admin_view(route_name="core.admin_customers", request_method="GET", permission=CUSTOMERS,
            renderer=TEMPLATES + "customers.jinja2")
def list_customers(request):
    filters = Filters.of(request.GET)
    size = per_page(request)
    users, total = find_accounts(request.dbsession, filters, page_number(request), size)
    return {"users": users, "page": pager(request, total, size), "filters": filters,
            "sorts": SORTS, "statuses": STATUSES, "roles": ROLES}


@admin_view(route_name="core.admin_customer", request_method="GET", permission=CUSTOMERS,
            renderer=TEMPLATES + "customer.jinja2")
def customer_page(request):
    user = _user_or_404(request)
    addresses, _ = list_addresses(request.dbsession, user.id, 1, MAX_ADDRESSES)
    return {"customer": user, "addresses": addresses,
            "is_me": user.id == request.admin.user.id,
            "sections": build_customer_sections(request, user)}


@admin_view(route_name="core.admin_customer_status", request_method="GET",
            permission=CUSTOMERS, renderer=TEMPLATES + "customer_status.jinja2")
def confirm_status(request):
    """What deactivating (or activating) does, with a button to confirm it."""
    user, action = _user_or_404(request), request.matchdict["action"]
    return {"customer": user, "action": action, "refusal": _refusal(request, user, action),
            "already": user.is_active == (action == "activate")}


@admin_view(route_name="core.admin_customer_status", request_method="POST",
            permission=CUSTOMERS)
def change_status(request):
    user, action = _user_or_404(request), request.matchdict["action"]
    refusal = _refusal(request, user, action)
    if refusal is not None:
        return not_done(request, refusal, "core.admin_customer", id=user.id)
    active = action == "activate"
    if user.is_active == active:
        return done(request, f"Nothing to do: {user.email} is already {STATE[action]}.",
                    "core.admin_customer", _kind="info", id=user.id)
    set_active(request.dbsession, user, active)
    return done(request, f"Account {user.email} {DONE[action]}.", "core.admin_customer",
                id=user.id)
