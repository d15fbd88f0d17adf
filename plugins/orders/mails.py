"""The e-mails an order sends its customer, queued with ``core.notifications.notify``.

``notify`` stores the message in the current transaction and sends it from a task
once that transaction commits: an order rolled back mails nobody.
"""
import logging

from core.notifications import notify

log = logging.getLogger(__name__)

TEMPLATES = ("order_placed", "order_shipped", "order_delivered", "order_cancelled",
             "order_refunded", "payment_failed")


def context(order, **extra):
    money = order.money
    return {
        "number": order.number,
        "status": order.status,
        "currency": order.currency,
        "items": [{"name": line.name, "sku": line.sku, "options": dict(line.options or {}),
                   "quantity": line.quantity, "total": str(money(line.total))}
                  for line in order.lines],
        "subtotal": str(money(order.subtotal)),
        "discount_total": str(money(order.discount_total)),
        "has_discount": order.discount_total > 0,
        "was_paid": order.paid_amount > 0,
        "shipping": str(money(order.shipping_total)),
        "shipping_method": order.shipping_method_name or "",
        "tax": str(money(order.tax_total)),
        "total": str(money(order.total)),
        "amount_due": str(money(order.amount_due)),
        "shipping_address": order.shipping_address or {},
        "payment_instructions": order.payment.instructions if order.payment else "",
        "shipments": [{"carrier": s.carrier, "tracking_number": s.tracking_number,
                       "tracking_url": s.tracking_url or ""} for s in order.shipments],
        **extra,
    }


def send(request, order, template, **extra):
    """Queue ``orders/<template>`` to the order's customer (nothing without an address)."""
    if not order.email:
        return None
    return notify(request, f"orders/{template}", order.email, context(order, **extra))
