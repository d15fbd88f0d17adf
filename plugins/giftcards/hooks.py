"""The gift cards' hook implementations (see core/hookspecs.py): the checkout phases
(checkout.py), issuing cards when an order that bought some is paid and voiding
them when it is undone, the cards an order bought in its JSON, and the admin."""
import sqlalchemy as sa

from core.plugins import hookimpl
from plugins.orders.lifecycle import NEVER_PAID
from plugins.orders.models import CANCELLED, PAYMENT_PENDING, PROCESSING, RETURNED

from . import checkout as phases
from . import codes, services
from .admin import admin_dashboard, admin_menu  # noqa: F401  (the admin's gift card pages)
from .models import GiftCard


@hookimpl
def checkout_validate(checkout):
    return phases.validate(checkout)


@hookimpl
def checkout_tenders(checkout):
    return phases.tenders(checkout)


@hookimpl
def order_placed(order, checkout, dbsession):
    phases.placed(order, checkout, dbsession)


@hookimpl
def order_refunded(order, refund, dbsession):
    phases.refunded(order, refund, dbsession)


@hookimpl
def order_status_changed(order, old_status, new_status, request):
    if new_status == PROCESSING:
        services.issue_for_order(request, order)
    elif new_status in (CANCELLED, RETURNED) and old_status != PAYMENT_PENDING:
        services.void_order_cards(request.dbsession, order,
                                  f"order {order.number} was {new_status}")


@hookimpl
def serialize_many(kind, objs, request):
    """An order shows the gift cards it bought (masked: the codes went by e-mail); one
    query for a whole page of orders."""
    if kind != "orders.order" or request is None:
        return None
    # cards are issued once an order is paid: none to look for on an order never paid
    paid = {obj.id for obj in objs if obj.status not in NEVER_PAID}
    bought = {}
    if paid:
        for card in request.dbsession.scalars(
                sa.select(GiftCard).where(GiftCard.order_id.in_(paid)).order_by(GiftCard.id)):
            bought.setdefault(card.order_id, []).append(card)
    return [{"gift_cards": [{
        "code": codes.mask(card.last4), "amount": str(card.money(card.initial_balance)),
        "currency": card.currency, "status": card.state(),
        "expires_at": card.expires_at.isoformat() if card.expires_at else None,
    } for card in bought.get(obj.id, [])]} for obj in objs]
