"""The loyalty REST views: the customer's points (signed in) and the staff's accounts
(permission ``loyalty.manage``)."""
from core.api import api_view
from core.api.pagination import page_of
from core.security import AUTHENTICATED

from . import MANAGE, services
from .representation import account_json, account_row, customer_data
from .schemas import AccountPageSchema, AccountSchema, AccountsQuery, AdjustBody, HistoryQuery
from .services import Rules


def _private(request):
    # one customer's points: no shared cache may keep them
    request.response.cache_control = "no-store"


@api_view(route_name="loyalty.me", request_method="GET", permission=AUTHENTICATED,
          query_schema=HistoryQuery, response_schema=AccountSchema,
          summary="The signed-in customer's points: balance, the next to expire, history")
def my_points(request):
    _private(request)
    query = request.validated_query
    return account_json(request, request.identity.id, query["page"], query["per_page"])


@api_view(route_name="loyalty.admin_accounts", request_method="GET", permission=MANAGE,
          query_schema=AccountsQuery, response_schema=AccountPageSchema,
          summary="Customers with a points account, largest balance first")
def staff_accounts(request):
    query = request.validated_query
    rows, total = services.accounts(request.dbsession, query.get("email"), query["page"],
                                    query["per_page"])
    return page_of(request, [account_row(request, account, user) for account, user in rows],
                   total, query["page"], query["per_page"])


def _staff_answer(request, user, page=1, per_page=20):
    route = None
    if request.matched_route.name != "loyalty.admin_account":
        route = ("loyalty.admin_account", {"user_id": user.id})
    data = account_json(request, user.id, page, per_page, staff=True, route=route)
    data["customer"] = customer_data(user)
    return data


@api_view(route_name="loyalty.admin_account", request_method="GET", permission=MANAGE,
          query_schema=HistoryQuery, response_schema=AccountSchema,
          summary="Any customer's points and ledger")
def staff_account(request):
    user = services.find_customer(request.dbsession, request.matchdict["user_id"])
    query = request.validated_query
    return _staff_answer(request, user, query["page"], query["per_page"])


@api_view(route_name="loyalty.admin_adjust", request_method="POST", permission=MANAGE,
          body_schema=AdjustBody, response_schema=AccountSchema, status=201,
          summary="Add or take points with a reason (never below zero: 422)")
def staff_adjust(request):
    user = services.find_customer(request.dbsession, request.matchdict["user_id"])
    body = request.validated
    services.adjust(request.dbsession, Rules.of(request), user.id, body["points"],
                    body["reason"], staff_id=request.identity.id)
    return _staff_answer(request, user)
