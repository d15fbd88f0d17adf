"""The ``stripe`` payment provider the orders plugin calls (plugins/orders/payments.py).

- ``start``: a PaymentIntent for the amount due, in the placing transaction; the
  idempotency key is made of the order number and the payment attempt, so a
  retried call never makes a second intent for one attempt.
- ``refund``: a Stripe Refund of the PaymentIntent, full or partial.
- ``cancel``: the order failed or was cancelled unpaid: the PaymentIntent is
  cancelled so that it can no longer be paid. Refused (409) when Stripe says the
  money already arrived or is arriving: then the order must not fail, and the
  webhook or the reconciliation will mark it paid.
"""
import contextlib
import contextvars
import logging

from core.api.errors import Conflict

from . import PROVIDER, gateway

log = logging.getLogger(__name__)

# a refund Stripe made already (in its Dashboard) that is being recorded: no new one
_external_refund = contextvars.ContextVar("payments_stripe_external_refund", default=None)


@contextlib.contextmanager
def recording_external_refund(reference):
    """Inside: ``refund`` records ``reference`` instead of asking Stripe for a refund."""
    token = _external_refund.set(reference or "")
    try:
        yield
    finally:
        _external_refund.reset(token)


def intent_key(order, attempt):
    return f"emporium:{order.number}:payment:{attempt}"


def refund_key(order, count, amount):
    # the same refund retried (a replayed request) is the same refund at Stripe; another
    # amount is another refund
    return f"emporium:{order.number}:refund:{count}:{amount.amount}"


def stripe_amount(intent):
    """(amount in minor units, upper-case currency) Stripe took, or None if malformed."""
    amount = intent.get("amount_received") or intent.get("amount")
    currency = intent.get("currency")
    if (not isinstance(amount, int) or isinstance(amount, bool) or amount < 0
            or not isinstance(currency, str) or len(currency) != 3 or not currency.isascii()
            or not currency.isalpha()):
        return None
    return amount, currency.upper()


class StripeProvider:
    name = PROVIDER
    title = "Card (Stripe)"
    staff_confirms_payment = False

    def start(self, order, amount, request):
        attempt = len(order.payments) + 1
        params = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "metadata": {"order_number": order.number, "attempt": str(attempt)},
        }
        types = gateway.settings(request)["payment_method_types"]
        if types:
            params["payment_method_types"] = list(types)
        intent = gateway.create_intent(request, params, intent_key(order, attempt))
        return {"reference": intent["id"], "client_secret": intent["client_secret"]}

    def refund(self, order, amount, request):
        external = _external_refund.get()
        if external is not None:
            return {"reference": external or None}
        payment = next(p for p in reversed(order.payments) if p.status == "paid")
        refund = gateway.create_refund(request, {
            "payment_intent": payment.reference,
            "amount": amount.amount,
            "metadata": {"order_number": order.number},
        }, refund_key(order, len(order.refunds) + 1, amount))
        if refund.get("status") == "failed":
            raise Conflict(f"Stripe could not refund order {order.number}: "
                           f"{refund.get('failure_reason') or 'the refund failed'}.",
                           code="stripe_refund_failed")
        return {"reference": refund["id"]}

    def cancel(self, order, request):
        payment = order.payment
        if payment is None or not payment.reference:
            return
        intent = gateway.retrieve_intent(request, payment.reference)
        status = intent.get("status")
        if status == "canceled":
            return
        if status == "processing":
            raise Conflict(f"The payment of order {order.number} is being processed by Stripe; "
                           "its result will come in a moment.", code="stripe_payment_processing")
        if status == "succeeded":
            if stripe_amount(intent) == (payment.amount, order.currency):
                raise Conflict(f"The payment of order {order.number} went through at Stripe; "
                               "the order will be confirmed in a moment.",
                               code="stripe_payment_succeeded")
            self._give_back_unaccepted(order, intent, request)
            return
        gateway.cancel_intent(request, payment.reference)

    @staticmethod
    def _give_back_unaccepted(order, intent, request):
        """Money Stripe took for the order but in another amount than it was due (the
        intent was changed at Stripe): never accepted, so it goes back in full."""
        refund = gateway.create_refund(request, {
            "payment_intent": intent["id"], "metadata": {"order_number": order.number}},
            f"emporium:{order.number}:unaccepted:{intent['id']}")
        log.error("order %s: Stripe took %s for payment %s, not the amount due; refunded (%s)",
                  order.number, stripe_amount(intent), intent["id"], refund.get("id"))
        from plugins.orders import services as orders

        orders.add_note(request.dbsession, order, (
            f"Stripe took a payment ({intent['id']}) in another amount than the order was "
            f"due; it was never accepted and was refunded in full at Stripe "
            f"({refund.get('id')})."))

    def pending_minutes(self, request):
        return gateway.settings(request)["payment_pending_minutes"]
