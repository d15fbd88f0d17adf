"""The order desk in the merchant admin: the list with filters, an order, and its moves.

The pages load the REST API's schemas (``StaffOrdersQuery``, ``ShipBody``, ...),
lock the order as the staff API does, call the same ``services`` and show the
staff representation (``order_json(..., staff=True)``): a move is refused for
the same reasons, in the same words. Routes are named ``orders.admin_page_*``
(the plugin's JSON routes already use ``orders.admin_*``), so they answer 404
while the plugin is disabled; the menu entry and widgets come from ``hooks.py``.
"""
import sqlalchemy as sa

from core.admin import add_admin_route, admin_view
from core.admin.forms import (attempt, checked, done, found_or_404, load_filters, not_done,
                              pager, text, utc_day)
from core.db import utcnow
from core.plugins import hookimpl
from core.security import User

from . import MANAGE, services
from .models import PAYMENT_PENDING, PROCESSING, STATUSES, Order
from .representation import order_json, orders_json
from .schemas import (NoteBody, RefundBody, ReturnBody, ShipBody, StaffNoteBody,
                      StaffOrdersQuery)
from .views import _money

TEMPLATES = "plugins.orders:templates/admin/"
ACTIONS = ("mark-paid", "ship", "deliver", "cancel", "return", "refund", "note")
LATEST = 5  # orders on a customer's page
# the statuses in which an order waits for the shop
WAITING = ((PAYMENT_PENDING, "Waiting for payment"), (PROCESSING, "Paid, to ship"))


def includeme(config):
    add_admin_route(config, "orders.admin_page_orders", "/orders")
    add_admin_route(config, "orders.admin_page_order", "/orders/{number}")
    add_admin_route(config, "orders.admin_page_action",
                    "/orders/{number}/{action:" + "|".join(ACTIONS) + "}")
    config.scan(__name__)


# --- menu, dashboard and a customer's page (registered through hooks.py) --------------


@hookimpl
def admin_menu(request):
    return [{"title": "Orders", "route_name": "orders.admin_page_orders", "permission": MANAGE,
             "match": "orders.admin_page", "order": 50}]


def _figures(dbsession, *conditions):
    """(orders matching ``conditions``, {currency: revenue}); revenue is what was paid on
    them and not given back."""
    count = dbsession.scalar(sa.select(sa.func.count()).select_from(Order).where(*conditions))
    kept = dbsession.execute(
        sa.select(Order.currency, sa.func.sum(Order.paid_amount - Order.refunded_amount))
        .where(*conditions).group_by(Order.currency)).all()
    # SUM of BIGINT is a NUMERIC on PostgreSQL: back to whole minor units
    return count, {currency: int(amount or 0) for currency, amount in kept}


def _revenue(kept):
    from core.money import Money

    return ", ".join(f"{Money(amount, currency)} {currency}"
                     for currency, amount in sorted(kept.items())) or "0"


@hookimpl
def admin_dashboard(request):
    dbsession = request.dbsession
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    day_count, day_kept = _figures(dbsession, Order.placed_at >= today)
    month_count, month_kept = _figures(dbsession, Order.placed_at >= month)
    waiting = dict(dbsession.execute(
        sa.select(Order.status, sa.func.count()).where(Order.status.in_([s for s, _ in WAITING]))
        .group_by(Order.status)).all())
    to_ship = dbsession.scalars(
        sa.select(Order).where(Order.status == PROCESSING)
        .order_by(Order.placed_at, Order.id).limit(5)).all()

    def listed(status):
        return request.route_path("orders.admin_page_orders", _query={"status": status})

    return [
        {"title": "Orders (UTC)", "order": 10, "permission": MANAGE, "figures": [
            {"label": "Orders today", "value": str(day_count), "url": None},
            {"label": "Revenue today", "value": _revenue(day_kept), "url": None},
            {"label": "Orders this month", "value": str(month_count), "url": None},
            {"label": "Revenue this month", "value": _revenue(month_kept), "url": None},
        ] + [{"label": label, "value": str(waiting.get(status, 0)), "url": listed(status)}
             for status, label in WAITING]},
        {"title": "Oldest orders to ship", "order": 20, "permission": MANAGE, "table": {
            "columns": ["Order", "Placed", "Customer"],
            "rows": [[{"text": order.number,
                       "url": request.route_path("orders.admin_page_order",
                                                 number=order.number)},
                      order.placed_at.strftime("%Y-%m-%d %H:%M"), order.email]
                     for order in to_ship]},
         "empty": "Nothing is waiting to ship.",
         "link": {"title": "Every order", "url": request.route_path(
             "orders.admin_page_orders")}},
    ]


@hookimpl
def admin_customer_sections(request, user):
    """The customer's latest orders, how many they placed and what they paid."""
    dbsession = request.dbsession
    count, kept = _figures(dbsession, Order.user_id == user.id)
    latest = dbsession.scalars(
        sa.select(Order).where(Order.user_id == user.id)
        .order_by(Order.placed_at.desc(), Order.id.desc()).limit(LATEST)).all()
    every = request.route_path("orders.admin_page_orders", _query={"user_id": user.id})
    return [{"title": "Orders", "order": 10, "permission": MANAGE, "figures": [
        {"label": "Orders placed", "value": str(count), "url": every if count else None},
        {"label": "Paid, less refunds", "value": _revenue(kept), "url": None},
    ], "table": {
        "columns": ["Order", "Placed (UTC)", "Status", "Total"],
        "rows": [[{"text": order.number,
                   "url": request.route_path("orders.admin_page_order", number=order.number)},
                  order.placed_at.strftime("%Y-%m-%d %H:%M"), order.status.replace("_", " "),
                  f"{order.money(order.total)} {order.currency}"] for order in latest]},
        "empty": "No orders yet.",
        **({"link": {"title": f"All {count} orders", "url": every}} if count > LATEST else {}),
    }]


# --- pages ----------------------------------------------------------------------------------


def _list_query(request):
    params = request.GET
    query = {"page": params.get("page", "1"), "per_page": params.get("per_page", "20")}
    statuses = [s for s in params.getall("status") if s]
    if statuses:
        query["status"] = statuses
    for key in ("number", "email", "user_id"):  # user_id: from a customer's page
        if text(params, key):
            query[key] = text(params, key)
    if text(params, "placed_from"):
        query["placed_from"] = utc_day(text(params, "placed_from"), "placed_from")
    if text(params, "placed_to"):  # the whole day given
        query["placed_to"] = utc_day(text(params, "placed_to"), "placed_to", end=True)
    return StaffOrdersQuery().load(query)


@admin_view(route_name="orders.admin_page_orders", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "orders.jinja2")
def list_orders(request):
    params = request.GET
    shown = {key: text(params, key)
             for key in ("number", "email", "placed_from", "placed_to", "user_id")}
    shown["status"] = params.get("status", "")
    query, errors = load_filters(request, lambda: _list_query(request))
    if errors:
        return {"orders": [], "page": None, "filters": shown, "statuses": STATUSES,
                "errors": errors, "customer": None}
    orders, total = services.staff_orders(request.dbsession, query, query["page"],
                                          query["per_page"])
    customer = request.dbsession.get(User, query["user_id"]) if query.get("user_id") else None
    return {"orders": orders_json(request, orders, staff=True),
            "page": pager(request, total, query["per_page"]), "filters": shown,
            "statuses": STATUSES, "errors": {}, "customer": customer}


def _order_or_404(request, lock=False):
    return found_or_404(services.find_order(request.dbsession, request.matchdict["number"],
                                            lock=lock))


@admin_view(route_name="orders.admin_page_order", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "order.jinja2")
def order_page(request):
    order = _order_or_404(request)
    data = order_json(request, order, staff=True)
    allowed = set(data["allowed_transitions"])
    payment = order.payment
    provider = services.payments.provider(request, order.payment_provider) \
        if payment is not None else None
    return {"order": data, "can": {
        "mark-paid": order.status == PAYMENT_PENDING
        and getattr(provider, "staff_confirms_payment", False),
        "ship": "shipped" in allowed, "deliver": "delivered" in allowed,
        "cancel": "cancelled" in allowed, "return": "returned" in allowed,
        "refund": order.status != PAYMENT_PENDING and not order.refundable.is_zero(),
    }}


def _move(request, order, action, post):
    """Run ``action`` on the locked ``order`` with the posted form, as the staff API does."""
    user_id = request.admin.user.id
    if action == "mark-paid":
        body = NoteBody().load({"note": text(post, "note")})
        return services.mark_paid(request, order, user_id=user_id, note=body["note"])
    if action == "ship":
        form = {key: text(post, key) for key in ("carrier", "tracking_number", "note")}
        if text(post, "tracking_url"):  # an empty field is no link, not a bad one
            form["tracking_url"] = text(post, "tracking_url")
        body = ShipBody().load(form)
        return services.ship(request, order, carrier=body["carrier"],
                             tracking_number=body["tracking_number"],
                             tracking_url=body.get("tracking_url"), user_id=user_id,
                             note=body["note"])
    if action == "deliver":
        body = NoteBody().load({"note": text(post, "note")})
        return services.deliver(request, order, user_id=user_id, note=body["note"])
    if action == "cancel":
        body = NoteBody().load({"note": text(post, "note")})
        return services.cancel_order(request, order, actor="staff", user_id=user_id,
                                     note=body["note"])
    if action == "return":
        body = ReturnBody().load({"note": text(post, "note"),
                                  "restock": checked(post, "restock")})
        return services.return_order(request, order, restock=body["restock"],
                                     user_id=user_id, note=body["note"])
    if action == "refund":
        data = {"note": text(post, "note")}
        if text(post, "amount"):
            data["amount"] = text(post, "amount")
        body = RefundBody().load(data)
        amount = _money(body["amount"], order.currency) if body.get("amount") is not None \
            else None
        return services.refund(request, order, amount=amount, user_id=user_id,
                               note=body["note"])
    body = StaffNoteBody().load({"note": text(post, "note")})
    return services.add_note(request.dbsession, order, body["note"], user_id=user_id)


DONE = {"mark-paid": "is marked paid", "ship": "is shipped", "deliver": "is delivered",
        "cancel": "is cancelled", "return": "is returned", "refund": "is refunded",
        "note": "has a new note"}


@admin_view(route_name="orders.admin_page_action", request_method="POST", permission=MANAGE)
def order_action(request):
    action = request.matchdict["action"]
    order = _order_or_404(request, lock=True)
    result, refusal = attempt(request, lambda: _move(request, order, action, request.POST))
    if refusal is not None:
        return not_done(request, refusal, "orders.admin_page_order", number=order.number)
    message = f"Order {order.number}: {order.money(result.amount)} {order.currency} " \
              "refunded." if action == "refund" else f"Order {order.number} {DONE[action]}."
    return done(request, message, "orders.admin_page_order", number=order.number)
