"""The loyalty plugin's hook implementations (see core/hookspecs.py and docs/checkout.md).

Checkout: ``checkout_validate`` refuses points the customer cannot use (a guest, fewer
than the minimum, more than the balance), ``checkout_tenders`` turns the points asked
for into a tender (capped by their value, the share of the total points may pay and
what is still due). Nothing is written until ``order_placed`` debits the points with a
conditional UPDATE of the account row. Order events: points are earned when the order
is paid (``processing``), given back and taken back in ``order_refunded`` (which the
orders plugin also calls when an order with points on it fails or is cancelled).
"""
from sqlalchemy.orm import object_session

from core.plugins import hookimpl
from plugins.orders.models import PAYMENT_PENDING, PROCESSING

from . import services
from .admin import (  # noqa: F401  (the admin's menu, widget and customer section)
    admin_customer_sections, admin_dashboard, admin_menu)
from .services import NAME, Rules


@hookimpl
def checkout_validate(checkout):
    asked = checkout.loyalty_points
    if not asked:
        return None
    if checkout.user is None:
        return [{"code": "loyalty_sign_in_required", "field": "loyalty_points",
                 "message": "Sign in to pay with loyalty points."}]
    rules = Rules.of(checkout.request)
    have = services.balance(checkout.dbsession, checkout.user.id)
    checkout.extra[NAME] = {"balance": have}
    if not rules.max_redeem_percent:
        return [{"code": "loyalty_not_accepted", "field": "loyalty_points",
                 "message": "This shop does not take loyalty points at checkout."}]
    if asked < rules.min_redeem_points:
        return [{"code": "loyalty_below_minimum", "field": "loyalty_points",
                 "minimum": rules.min_redeem_points,
                 "message": f"Use at least {rules.min_redeem_points} points at once."}]
    if asked > have:
        return [{"code": "loyalty_insufficient_points", "field": "loyalty_points",
                 "balance": have, "message": f"You have {have} points."}]
    checkout.extra[NAME]["usable"] = True
    return None


@hookimpl
def checkout_tenders(checkout):
    state = checkout.extra.get(NAME) or {}
    if not state.get("usable"):
        return None
    amount, points = services.tender_amount(Rules.of(checkout.request), checkout,
                                            checkout.loyalty_points, state["balance"])
    if amount.is_zero():
        return None
    return [{"code": None, "amount": amount}]


@hookimpl
def order_placed(order, checkout, dbsession, request):
    services.redeem(dbsession, order, Rules.of(request))


@hookimpl
def order_status_changed(order, old_status, new_status, dbsession, request):
    if new_status == PROCESSING:
        services.earn(dbsession, order, Rules.of(request))


@hookimpl
def order_refunded(order, refund, amount, dbsession, request):
    services.refunded(dbsession, order, refund)


@hookimpl
def serialize(kind, obj, data, request):
    if kind == "orders.quote":
        return {"loyalty": _quote(obj)}
    return None


@hookimpl
def serialize_many(kind, objs, request):
    # one query for a whole page of orders
    if kind != "orders.order":
        return None
    customers = [order for order in objs if order.user_id is not None]
    if not customers:
        return None
    summaries = services.order_summaries(object_session(customers[0]),
                                         [order.id for order in customers])
    return [{"loyalty": _order(order, summaries[order.id], request)}
            if order.user_id is not None else None for order in objs]


def _quote(checkout):
    rules = Rules.of(checkout.request)
    paid = checkout.money(sum(t["amount"].amount for t in checkout.tenders
                              if t["source"] == NAME))
    base = services.earning_base(checkout.subtotal, checkout.discount_total, paid)
    state = checkout.extra.get(NAME) or {}
    have = state.get("balance")
    if have is None and checkout.user is not None:
        have = services.balance(checkout.dbsession, checkout.user.id)
    return {"points_earned": rules.points_earned(base),
            "points_redeemed": rules.points_for(paid) if paid else 0,
            "points_value": str(paid), "balance": have}


def _order(order, summary, request):
    pending = 0
    # what the order will earn once paid, at today's rate, for the confirmation page
    if order.status == PAYMENT_PENDING and request is not None:
        pending = Rules.of(request).points_earned(services.earning_base(
            order.money(order.subtotal), order.money(order.discount_total),
            services.loyalty_tender_total(order)))
    return dict(summary, points_pending=pending)
