"""The cart's hook implementations (see core/hookspecs.py)."""
from core.plugins import hookimpl

from . import services


@hookimpl
def user_logged_in(user, request):
    # the guest cart of X-Cart-Token becomes part of the customer's cart
    services.merge_at_login(request, user)
