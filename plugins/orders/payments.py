"""Payment providers: the protocol, the ``manual`` provider, and reporting results.

A provider is an object a plugin returns from the ``payment_providers`` hook::

    class StripeProvider:
        name = "stripe"                  # the payment_method a client sends
        title = "Card (Stripe)"
        staff_confirms_payment = False   # True: staff marks orders paid (manual)

        def start(self, order, amount, request):
            # in the placing transaction, after the order is written: ask for the money
            intent = stripe.PaymentIntent.create(amount=amount.amount, ...)
            return {"reference": intent.id, "client_secret": intent.client_secret}

        def refund(self, order, amount, request):
            # in the refund transaction: give ``amount`` back; raise an APIError to refuse
            refund = stripe.Refund.create(payment_intent=order.payment.reference, ...)
            return {"reference": refund.id}

        # optional
        def cancel(self, order, request): ...            # the order failed or was cancelled unpaid
        def pending_minutes(self, request): return 30    # how long to wait for the money

Results arrive later (a webhook): the provider's plugin calls
``payment_succeeded(request, "stripe", intent_id)`` or ``payment_failed(...)``
here. Both are idempotent: a result reported twice is applied once.
"""
import logging

import sqlalchemy as sa

from core.api.errors import NotFound, Unprocessable
from core.db import utcnow

from . import lifecycle
from .models import PAYMENT_PENDING, PROCESSING, Payment

log = logging.getLogger(__name__)

MANUAL = "manual"


class ManualProvider:
    """Bank transfer or cash on delivery: the order waits in payment_pending until staff
    marks it paid (``POST /admin/orders/{number}/mark-paid``). Refunds are paid back
    by hand; the refund is recorded all the same."""

    name = MANUAL
    title = "Bank transfer or cash on delivery"
    staff_confirms_payment = True

    def start(self, order, amount, request):
        instructions = request.plugins.settings("orders")["manual_instructions"]
        return {"reference": None, "client_secret": None, "instructions": instructions}

    def refund(self, order, amount, request):
        return {"reference": None}

    def pending_minutes(self, request):
        return request.plugins.settings("orders")["manual_payment_pending_minutes"]


def providers(request):
    """``{name: provider}`` of the enabled plugins (the first plugin to name one wins)."""
    found = {}
    for answer in request.plugins.hook.payment_providers():
        for provider in answer or ():
            name = getattr(provider, "name", None)
            if not isinstance(name, str) or not name:
                log.error("a payment provider without a name was ignored: %r", provider)
                continue
            if name in found:
                log.warning("payment provider %r is declared twice; the first one counts", name)
                continue
            found[name] = provider
    return found


def provider(request, name):
    """The provider ``name``, or None if no enabled plugin offers it."""
    return providers(request).get(name) if name else None


def listing(request):
    return [{"name": p.name, "title": getattr(p, "title", p.name)}
            for p in providers(request).values()]


def pending_minutes(request, name):
    found = provider(request, name)
    minutes = getattr(found, "pending_minutes", None)
    value = minutes(request) if callable(minutes) else None
    return value or request.plugins.settings("orders")["payment_pending_minutes"]


def start(request, order, found):
    """Ask ``found`` for the order's amount due (in the placing transaction)."""
    amount = order.money(order.amount_due)
    answer = found.start(order=order, amount=amount, request=request) or {}
    payment = Payment(provider=found.name, amount=order.amount_due, status="pending",
                      reference=answer.get("reference"),
                      client_secret=answer.get("client_secret"),
                      instructions=answer.get("instructions") or "")
    order.payments.append(payment)
    request.dbsession.flush()
    if answer.get("status") == "paid":  # a provider that takes the money at once
        mark_paid(request, order, actor="payment", note="paid at once")
    return payment


def mark_paid(request, order, *, actor, user_id=None, note=""):
    """The (locked) order's amount due arrived: it moves to processing."""
    payment = order.payment
    if payment is not None and payment.status == "pending":
        payment.status = "paid"
        payment.updated_at = utcnow()
    order.paid_amount = order.total
    return lifecycle.transition(request, order, PROCESSING, actor=actor, user_id=user_id,
                                note=note)


def _locked_payment(request, provider_name, reference):
    dbsession = request.dbsession
    payment = dbsession.scalars(
        sa.select(Payment).where(Payment.provider == provider_name,
                                 Payment.reference == reference)).one_or_none()
    if payment is None:
        raise NotFound(f"No {provider_name} payment {reference!r} is known.",
                       code="payment_not_found")
    from .services import lock_order  # services imports this module

    order = lock_order(dbsession, payment.order_id)
    dbsession.refresh(payment)
    return order, payment


def payment_succeeded(request, provider_name, reference, amount=None):
    """The provider took the money for its payment ``reference``.

    Returns ``"paid"`` (the order moved to processing), ``"already_paid"`` (reported
    before: nothing changed) or ``"late"`` (the order had failed or been cancelled
    meanwhile: the payment is recorded as paid, and staff must refund it).
    ``amount`` (Money), if given, must be the payment's amount: a 422 otherwise.
    """
    order, payment = _locked_payment(request, provider_name, reference)
    if amount is not None and (amount.currency != order.currency
                               or amount.amount != payment.amount):
        raise Unprocessable(f"The payment of order {order.number} is {payment.amount} minor "
                            f"units, not {amount}.", code="payment_amount_mismatch")
    if payment.status == "paid":
        return "already_paid"
    if order.status != PAYMENT_PENDING:
        payment.status = "paid"
        order.paid_amount = min(order.total, order.paid_amount + payment.amount)
        log.warning("order %s is %s but its %s payment %s succeeded: refund it",
                    order.number, order.status, provider_name, reference)
        return "late"
    mark_paid(request, order, actor="payment", note=f"{provider_name} {reference}")
    return "paid"


def payment_failed(request, provider_name, reference, reason=""):
    """The payment ``reference`` will not succeed (the customer gave up, the provider
    cancelled it): the order fails and its stock is released. Returns ``"failed"``,
    or ``"ignored"`` when the order is no longer waiting for this payment."""
    from .services import fail_order

    order, payment = _locked_payment(request, provider_name, reference)
    if payment.status != "pending" or order.status != PAYMENT_PENDING:
        return "ignored"
    fail_order(request, order, actor="payment", note=reason or "the payment failed")
    return "failed"


def cancel_pending(request, order):
    """The order will not be paid: mark its pending payment cancelled and tell the provider."""
    payment = order.payment
    if payment is None or payment.status != "pending":
        return
    payment.status = "cancelled"
    payment.updated_at = utcnow()
    found = provider(request, payment.provider)
    cancel = getattr(found, "cancel", None)
    if callable(cancel):
        cancel(order=order, request=request)
