"""The order's state machine, and what each move does to the stock.

::

    payment_pending --> processing --> shipped --> delivered
          |                 |             |            |
          v                 v             v            v
    failed, cancelled   cancelled      returned <------+
                            |             |
                            v             v
                         refunded      refunded

(``payment_pending -> cancelled`` as well: a customer may drop an unpaid order.)

Stock, through the catalog's inventory service, in the same transaction:

- placed: reserved (services.place_order);
- paid (-> processing): the reservation is committed: the units are sold;
- failed, or cancelled before it was paid: the reservation is released;
- cancelled after it was paid: the committed units are restocked;
- returned: the units are restocked (unless staff says the goods are not sellable).

Every move writes a history row and calls the ``order_status_changed`` hook inside
the transaction. The caller holds the order's row lock (``services.lock_order``):
two requests moving one order run one after the other, and the second sees the
first one's status (and gets a 409 if its move is no longer allowed).
"""
from core.api.errors import Conflict
from core.db import utcnow
from plugins.catalog import inventory

from . import mails
from .models import (CANCELLED, DELIVERED, FAILED, PAYMENT_PENDING, PROCESSING, REFUNDED,
                     RETURNED, SHIPPED, StatusChange)

TRANSITIONS = {
    PAYMENT_PENDING: (PROCESSING, FAILED, CANCELLED),
    PROCESSING: (SHIPPED, CANCELLED),
    SHIPPED: (DELIVERED, RETURNED),
    DELIVERED: (RETURNED,),
    CANCELLED: (REFUNDED,),
    RETURNED: (REFUNDED,),
    FAILED: (),
    REFUNDED: (),
}
FINAL = frozenset(status for status, moves in TRANSITIONS.items() if not moves)
# an order in these statuses was never paid (failed comes from payment_pending only):
# nothing of it was shipped, nothing bought with it was issued
NEVER_PAID = frozenset({PAYMENT_PENDING, FAILED})
# statuses in which the customer may still cancel
CANCELLABLE = (PAYMENT_PENDING, PROCESSING)
# moves that send the customer an e-mail
MAILED = {PROCESSING: None, SHIPPED: "order_shipped", DELIVERED: "order_delivered",
          CANCELLED: "order_cancelled", FAILED: "payment_failed"}


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, order, new_status):
        allowed = list(TRANSITIONS.get(order.status, ()))
        super().__init__(
            f"Order {order.number} is {order.status.replace('_', ' ')}; it cannot become "
            f"{new_status.replace('_', ' ')}.",
            extra={"order_status": order.status, "allowed": allowed})


def can_move(order, new_status):
    return new_status in TRANSITIONS.get(order.status, ())


def _reference(order):
    return f"order:{order.number}"


def _quantities(order):
    wanted = {}
    for line in order.lines:
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    return sorted(wanted.items())  # variant id order: no deadlock between two orders


def _move_stock(dbsession, order, old, new, restock):
    if new == PROCESSING:
        kind = "commit"
    elif new in (FAILED, CANCELLED) and old == PAYMENT_PENDING:
        kind = "release"
    elif new == CANCELLED or (new == RETURNED and restock):
        kind = "restock"
    else:
        return
    # every line at once, in variant id order: no deadlock between two orders
    inventory.move_many(dbsession, kind, _quantities(order), reference=_reference(order))


def transition(request, order, new_status, *, actor, user_id=None, note="", restock=True):
    """Move the (locked) ``order`` to ``new_status``; 409 if the move is not allowed.

    ``request``: the request or task context (``dbsession``, ``plugins``).
    ``actor``: customer, staff, system or payment. ``restock``: for ``returned``,
    whether the goods go back on sale.
    """
    if not can_move(order, new_status):
        raise IllegalTransition(order, new_status)
    dbsession = request.dbsession
    old = order.status
    _move_stock(dbsession, order, old, new_status, restock)
    now = utcnow()
    order.status = new_status
    order.updated_at = now
    if new_status == PROCESSING and order.paid_at is None:
        order.paid_at = now
    order.history.append(StatusChange(from_status=old, to_status=new_status, actor=actor,
                                      user_id=user_id, note=note or "", created_at=now))
    dbsession.flush()
    request.plugins.hook.order_status_changed(order=order, old_status=old,
                                              new_status=new_status, dbsession=dbsession,
                                              request=request)
    template = MAILED.get(new_status)
    if template:
        mails.send(request, order, template, note=note)
    return order
