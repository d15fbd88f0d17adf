"""The loyalty pages of the merchant admin: customers' balances, one customer's ledger,
and adjusting it with a reason.

The pages load the REST API's schemas (``AccountsQuery``, ``AdjustBody``) and call the
same ``services``: an adjustment is refused for the same reasons, in the same words.
Routes are named ``loyalty.admin_page_*`` (the JSON routes use ``loyalty.admin_*``),
so they answer 404 while the plugin is disabled; the menu entry and the dashboard
widget come from ``hooks.py``.
"""
from pyramid.httpexceptions import HTTPNotFound

from core.admin import add_admin_route, admin_view
from core.admin.forms import (attempt, done, integer, load_filters, page_number, pager,
                              per_page, text)
from core.api.errors import APIError
from core.plugins import hookimpl
from plugins.cart.services import shop_currency

from . import MANAGE, services
from .representation import account_json, account_row, customer_data
from .schemas import AccountsQuery, AdjustBody
from .services import Rules

TEMPLATES = "plugins.loyalty:templates/admin/"


def includeme(config):
    add_admin_route(config, "loyalty.admin_page_accounts", "/loyalty")
    add_admin_route(config, "loyalty.admin_page_account", r"/loyalty/{user_id:\d+}")
    add_admin_route(config, "loyalty.admin_page_adjust", r"/loyalty/{user_id:\d+}/adjust")
    config.scan(__name__)


# --- menu, dashboard and a customer's page (registered through hooks.py) --------------


@hookimpl
def admin_menu(request):
    return [{"title": "Loyalty", "route_name": "loyalty.admin_page_accounts",
             "permission": MANAGE, "match": "loyalty.admin_page", "order": 300}]


@hookimpl
def admin_dashboard(request):
    count, points = services.outstanding(request.dbsession)
    currency = shop_currency(request)
    value = Rules.of(request).value_of(points, currency)
    url = request.route_path("loyalty.admin_page_accounts")
    return [{"title": "Loyalty points", "order": 300, "permission": MANAGE, "figures": [
        {"label": "Customers with points", "value": str(count), "url": url},
        {"label": "Points held", "value": str(points), "url": None},
        {"label": "What they would pay", "value": f"{value} {currency}", "url": None},
    ]}]


@hookimpl
def admin_customer_sections(request, user):
    """The customer's points as their ledger page shows them: balance, worth, next to
    expire."""
    account = account_json(request, user.id, 1, 1)
    expiring = account["expiring_next"]
    return [{"title": "Loyalty points", "order": 300, "permission": MANAGE, "figures": [
        {"label": "Points", "value": str(account["balance"]), "url": None},
        {"label": "Worth at checkout",
         "value": f"{account['balance_value']} {account['currency']}", "url": None},
        {"label": "Next to expire", "url": None, "value": "—" if expiring is None else
         f"{expiring['points']} on {expiring['expires_at'][:10]}"},
    ], "link": {"title": "Ledger and adjustments", "url": request.route_path(
        "loyalty.admin_page_account", user_id=user.id)}}]


# --- pages ----------------------------------------------------------------------------------


@admin_view(route_name="loyalty.admin_page_accounts", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "accounts.jinja2")
def list_accounts(request):
    params = request.GET
    shown = {"email": text(params, "email")}
    query = {"page": params.get("page", "1"), "per_page": params.get("per_page", "20")}
    if shown["email"]:
        query["email"] = shown["email"]
    query, errors = load_filters(request, lambda: AccountsQuery().load(query))
    if errors:
        return {"accounts": [], "page": None, "filters": shown, "errors": errors}
    rows, total = services.accounts(request.dbsession, query.get("email"), query["page"],
                                    query["per_page"])
    return {"accounts": [account_row(request, account, user) for account, user in rows],
            "page": pager(request, total, query["per_page"]), "filters": shown, "errors": {}}


def _customer_or_404(request):
    try:
        return services.find_customer(request.dbsession, request.matchdict["user_id"])
    except APIError:
        raise HTTPNotFound() from None


def _account_page(request, user, form=None, errors=None):
    size = per_page(request)
    data = account_json(request, user.id, page_number(request), size, staff=True,
                        route=("loyalty.admin_account", {"user_id": user.id}))
    return {"customer": customer_data(user), "account": data,
            "page": pager(request, data["history"]["total"], size),
            "form": form or {"points": "", "reason": ""}, "errors": errors or {}}


@admin_view(route_name="loyalty.admin_page_account", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "account.jinja2")
def account_page(request):
    return _account_page(request, _customer_or_404(request))


@admin_view(route_name="loyalty.admin_page_adjust", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "account.jinja2")
def adjust(request):
    user = _customer_or_404(request)
    form = {"points": text(request.POST, "points"), "reason": text(request.POST, "reason")}

    def run():
        body = AdjustBody().load({"points": integer(form["points"]), "reason": form["reason"]})
        return services.adjust(request.dbsession, Rules.of(request), user.id, body["points"],
                               body["reason"], staff_id=request.admin.user.id)

    entry, refusal = attempt(request, run)
    if refusal is not None:
        request.response.status = refusal.status
        return _account_page(request, user, form, dict(refusal.fields) or
                             {"points": [refusal.message]})
    verb = "added to" if entry.points > 0 else "taken from"
    return done(request, f"{abs(entry.points)} points {verb} {user.email}; the balance is "
                         f"{entry.balance_after}.", "loyalty.admin_page_account", user_id=user.id)

