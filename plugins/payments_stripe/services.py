"""Stripe's news applied to orders: signed webhook events, once each, and the
reconciliation that asks Stripe about orders still waiting for their payment.

Functions take ``request``: a request, or a task's context (``dbsession``,
``plugins``, ``registry``). They never commit. Orders move only through the orders
plugin (``plugins.orders.payments.payment_succeeded`` / ``payment_failed``,
``services.refund``), which lock the order, so a webhook, the reconciliation and
staff acting on one order run one after the other.

What each event does (``apply_event``):

- ``payment_intent.succeeded``: the order moves to processing if Stripe took its
  amount due in its currency; another amount is never accepted (a staff note says
  so). A payment that arrives after its order failed or was cancelled is given
  back (setting ``refund_late_payments``).
- ``payment_intent.payment_failed``, ``payment_intent.canceled``: the order fails,
  its stock is released and the PaymentIntent is cancelled at Stripe, unless
  Stripe says the money arrived meanwhile.
- ``charge.refunded``, ``charge.refund.updated``, ``refund.created``,
  ``refund.updated``, ``refund.failed``: Stripe's refunded total of the payment is
  compared with the order's: a refund made in the Stripe Dashboard is recorded on
  the order; a refund that failed at Stripe gets a staff note.
- anything else, and events about payments this shop does not know: answered,
  recorded, ignored.
"""
import datetime as dt
import logging

import sqlalchemy as sa
import stripe

from core.api.errors import APIError, BadRequest, Conflict, NotFound
from core.db import utcnow
from core.money import Money
from plugins.orders import payments
from plugins.orders import services as orders
from plugins.orders.models import PAYMENT_PENDING, Order, Payment

from . import PROVIDER, gateway
from .gateway import NotConfigured, StripeUnavailable
from .models import WebhookEvent
from .provider import recording_external_refund, stripe_amount

log = logging.getLogger(__name__)

SUCCEEDED = "payment_intent.succeeded"
FAILED = ("payment_intent.payment_failed", "payment_intent.canceled")
REFUNDS = ("charge.refunded", "charge.refund.updated", "refund.created", "refund.updated",
           "refund.failed")
# what a merchant subscribes the webhook endpoint to (docs/payments_stripe.md)
EVENT_TYPES = (SUCCEEDED, *FAILED, *REFUNDS)
MAX_ID = 200  # orders_payment.reference
PROBLEMS = ("amount_mismatch", "refund_mismatch", "refused", "late")


# --- receiving a webhook --------------------------------------------------------------------


def verify(request, payload, signature):
    """The event in ``payload`` (the raw body) as a dict, if ``signature`` (the
    Stripe-Signature header) signs it with the endpoint's secret within the tolerance;
    a 400 otherwise."""
    values = gateway.settings(request)
    if not values["webhook_secret"]:
        # Stripe delivers the event again later: nothing is lost while the shop sets it up
        raise NotConfigured("The shop has no Stripe webhook signing secret yet.",
                            headers={"Retry-After": "600"})
    try:
        event = stripe.Webhook.construct_event(payload, signature, values["webhook_secret"],
                                               tolerance=values["webhook_tolerance_seconds"])
    except stripe.SignatureVerificationError:
        raise BadRequest("The Stripe-Signature header is missing, does not sign this body "
                         "with the endpoint's secret, or is too old.",
                         code="invalid_signature") from None
    except (ValueError, TypeError, AttributeError, KeyError):  # not UTF-8, not JSON, not an event
        raise BadRequest("The body is not a Stripe event.", code="invalid_payload") from None
    return _checked(gateway.as_dict(event))


def _checked(event):
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if (not _text(event.get("id"), 255) or not _text(event.get("type"), 100)
            or not isinstance(obj, dict)):
        raise BadRequest("The body is not a Stripe event.", code="invalid_payload")
    return event


def _text(value, max_length):
    return isinstance(value, str) and 0 < len(value) <= max_length


def _recorded(dbsession, event_id):
    return dbsession.scalars(sa.select(WebhookEvent)
                             .where(WebhookEvent.event_id == event_id)).one_or_none()


def _created(value):
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**37:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return None


def answer(record, duplicate):
    return {"received": True, "duplicate": duplicate, "event_id": record.event_id,
            "type": record.type, "outcome": record.outcome,
            "order_number": record.order_number}


def receive(request, payload, signature):
    """Verify and apply one webhook delivery; the answer says what it did.

    The event's id is inserted first: a delivery of an event applied before (or
    being applied by a concurrent transaction, which the unique index makes this
    one wait for) changes nothing and is answered as a duplicate.
    """
    event = verify(request, payload, signature)
    dbsession = request.dbsession
    seen = _recorded(dbsession, event["id"])
    if seen is not None:
        return answer(seen, duplicate=True)
    obj = event["data"]["object"]
    record = WebhookEvent(event_id=event["id"], type=event["type"],
                          object_id=obj.get("id") if _text(obj.get("id"), 255) else None,
                          livemode=event.get("livemode") is True,
                          created_at=_created(event.get("created")))
    try:
        with dbsession.begin_nested():
            dbsession.add(record)
            dbsession.flush()
    except sa.exc.IntegrityError:
        seen = _recorded(dbsession, event["id"])
        if seen is None:  # cannot happen while the unique constraint holds
            raise Conflict("This event is being applied; deliver it again.",
                           code="event_in_progress") from None
        log.info("Stripe event %s was delivered again while it was being applied",
                 event["id"])
        return answer(seen, duplicate=True)
    record.outcome, record.order_number = apply_event(request, event["type"], obj)
    dbsession.flush()
    log.info("Stripe event %s (%s): %s, order %s", record.event_id, record.type,
             record.outcome, record.order_number or "-")
    return answer(record, duplicate=False)


# --- applying events --------------------------------------------------------------------------


def apply_event(request, event_type, obj):
    """Apply one event's object; returns ``(outcome, order number or None)``."""
    if event_type == SUCCEEDED:
        return intent_succeeded(request, obj)
    if event_type in FAILED:
        return intent_failed(request, obj, cancelled=event_type == "payment_intent.canceled")
    if event_type in REFUNDS:
        return refund_changed(request, event_type, obj)
    payment = _payment(request.dbsession, obj.get("id"))
    return "not_handled", payment.order.number if payment is not None else None


def _payment(dbsession, intent_id):
    if not _text(intent_id, MAX_ID):
        return None
    return dbsession.scalars(sa.select(Payment).where(
        Payment.provider == PROVIDER, Payment.reference == intent_id)).one_or_none()


def _attempt(request, work):
    """``(work(), None)`` in a savepoint, or ``(None, error)`` if it refused with an API
    error (the savepoint undone). Stripe being unavailable is not a refusal: it goes up,
    so that the webhook answers 503 and Stripe delivers the event again."""
    try:
        with request.dbsession.begin_nested():
            return work(), None
    except StripeUnavailable:
        raise
    except APIError as exc:
        return None, exc


def _note(request, order_id, text):
    order = request.dbsession.get(Order, order_id)
    orders.add_note(request.dbsession, order, text)


def intent_succeeded(request, intent, source="webhook"):
    intent_id = intent.get("id")
    payment = _payment(request.dbsession, intent_id)
    if payment is None:
        log.info("Stripe payment %r succeeded for no order of this shop (%s)", intent_id, source)
        return "unknown_payment", None
    number, order_id = payment.order.number, payment.order_id
    taken = stripe_amount(intent)
    amount = Money(*taken) if taken is not None else None
    if amount is not None:
        result, error = _attempt(request, lambda: payments.payment_succeeded(
            request, PROVIDER, intent_id, amount=amount))
    else:
        result, error = None, None
    if amount is None or (error is not None and error.code == "payment_amount_mismatch"):
        log.error("order %s: Stripe reports payment %s of %s, not the amount due (%s)",
                  number, intent_id, taken, source)
        _note(request, order_id, f"Stripe reported payment {intent_id} as succeeded for "
              f"{_shown(taken)}, not the amount due of this order: it was not accepted. The "
              "money goes back if the order fails or is cancelled.")
        return "amount_mismatch", number
    if error is not None:
        if isinstance(error, NotFound):
            return "unknown_payment", None
        log.error("order %s: Stripe payment %s succeeded but was refused: %s", number,
                  intent_id, error.message)
        return "refused", number
    if result == "late":
        return _refund_late(request, order_id, intent_id), number
    return result, number


def _shown(taken):
    if taken is None:
        return "an amount it did not state"
    return f"{Money(*taken)} {taken[1]}"


def _refund_late(request, order_id, intent_id):
    """The payment succeeded after its order failed or was cancelled: give it back."""
    if not gateway.settings(request)["refund_late_payments"]:
        _note(request, order_id, f"Stripe payment {intent_id} arrived after the order "
              "stopped waiting for it: refund it.")
        return "late"

    def give_back():
        order = orders.load_order(request.dbsession, orders.lock_order(request.dbsession,
                                                                       order_id))
        payment = _payment(request.dbsession, intent_id)
        left = payment.amount - payment.refunded_amount
        if left > 0:
            # the late money goes back where it came from, never to the tenders
            orders.refund(request, order, amount=order.money(left), actor="payment",
                          provider_only=True,
                          note=f"Stripe payment {intent_id} arrived after the order was "
                               f"{order.status}: given back")
        return left

    try:
        _result, error = _attempt(request, give_back)
    except StripeUnavailable as exc:
        error = exc
    if error is not None:
        log.error("order %s: the late Stripe payment %s could not be refunded: %s", order_id,
                  intent_id, error.message)
        _note(request, order_id, f"Stripe payment {intent_id} arrived after the order stopped "
              f"waiting for it and could not be refunded ({error.message}): refund it.")
        return "late"
    return "late_refunded"


def intent_failed(request, intent, cancelled=False):
    intent_id = intent.get("id")
    payment = _payment(request.dbsession, intent_id)
    if payment is None:
        log.info("Stripe payment %r failed for no order of this shop", intent_id)
        return "unknown_payment", None
    number = payment.order.number
    error = intent.get("last_payment_error")
    reason = error.get("message") if isinstance(error, dict) else None
    if not isinstance(reason, str) or not reason:
        reason = "cancelled at Stripe" if cancelled else "the card payment failed"
    result, refused = _attempt(request, lambda: payments.payment_failed(
        request, PROVIDER, intent_id, reason=f"Stripe: {reason[:300]}"))
    if refused is not None:
        # Stripe says the money arrived or is arriving: its success event decides
        log.warning("order %s: Stripe payment %s failed, but the order was not failed: %s",
                    number, intent_id, refused.message)
        return "refused", number
    return result, number


# --- refunds made or failed at Stripe ---------------------------------------------------------


def _refund_event_ids(request, event_type, obj):
    """(PaymentIntent id, refund id) an event about refunds is about."""
    if event_type == "charge.refunded":  # the object is the charge
        refunds = obj.get("refunds")
        listed = refunds.get("data") if isinstance(refunds, dict) else None
        first = listed[0] if isinstance(listed, list) and listed else None
        refund_id = first.get("id") if isinstance(first, dict) else None
        intent_id, charge_id = obj.get("payment_intent"), obj.get("id")
    else:  # the object is the refund
        refund_id, intent_id, charge_id = obj.get("id"), obj.get("payment_intent"), \
            obj.get("charge")
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id")
    if not _text(intent_id, MAX_ID) and _text(charge_id, MAX_ID):
        try:
            intent_id = gateway.intent_of_charge(request, charge_id)
        except StripeUnavailable:
            raise
        except APIError:  # a charge Stripe does not know (of another account or mode)
            log.info("Stripe does not know the charge %r of a refund event", charge_id)
            intent_id = None
    return (intent_id if _text(intent_id, MAX_ID) else None,
            refund_id if _text(refund_id, MAX_ID) else None)


def refund_changed(request, event_type, obj):
    """Make the order's refunds agree with Stripe's refunded total of its payment."""
    intent_id, refund_id = _refund_event_ids(request, event_type, obj)
    dbsession = request.dbsession
    payment = _payment(dbsession, intent_id)
    if payment is None:
        return "unknown_payment", None
    # under the order's lock, a refund of ours that was under way has committed
    order = orders.lock_order(dbsession, payment.order_id)
    dbsession.refresh(payment)
    number = order.number
    try:
        at_stripe = gateway.refunded_amount(request, gateway.retrieve_intent(request,
                                                                             intent_id))
    except StripeUnavailable:
        raise
    except APIError as exc:  # Stripe no longer knows the payment: nothing to compare
        log.error("order %s: Stripe refused to show payment %s: %s", number, intent_id,
                  exc.message)
        return "refused", number
    recorded = payment.refunded_amount
    if at_stripe == recorded:
        return "refund_known", number
    if at_stripe < recorded or payment.status != "paid":
        log.error("order %s: Stripe shows %s refunded of payment %s, the order %s", number,
                  at_stripe, intent_id, recorded)
        orders.add_note(dbsession, order, (
            f"Stripe shows {order.money(at_stripe)} {order.currency} refunded of payment "
            f"{intent_id}, this order records {order.money(recorded)} {order.currency}: a "
            "refund failed at Stripe, or the payment was not recorded. Check it in the "
            "Stripe Dashboard."))
        return "refund_mismatch", number
    with recording_external_refund(refund_id):
        _result, refused = _attempt(request, lambda: orders.refund(
            request, orders.load_order(dbsession, order),
            amount=order.money(at_stripe - recorded), actor="payment", provider_only=True,
            note=f"refunded at Stripe ({refund_id or intent_id})"))
    if refused is not None:
        log.error("order %s: a refund made at Stripe could not be recorded: %s", number,
                  refused.message)
        orders.add_note(dbsession, order, (
            f"A refund of {order.money(at_stripe - recorded)} {order.currency} made at "
            f"Stripe could not be recorded: {refused.message}"))
        return "refused", number
    return "refund_recorded", number


# --- reconciliation ---------------------------------------------------------------------------


def apply_intent_state(request, intent):
    """What the PaymentIntent's state at Stripe says about its order, applied."""
    status = intent.get("status")
    if status == "succeeded":
        return intent_succeeded(request, intent, source="reconciliation")
    if status == "canceled" or (status == "requires_payment_method"
                                and intent.get("last_payment_error")):
        return intent_failed(request, intent, cancelled=status == "canceled")
    payment = _payment(request.dbsession, intent.get("id"))
    return "waiting", payment.order.number if payment is not None else None


def waiting_payments(dbsession, older_than, limit):
    """(PaymentIntent id, order number) of orders waiting since before ``older_than``."""
    return dbsession.execute(
        sa.select(Payment.reference, Order.number).join(Order, Order.id == Payment.order_id)
        .where(Payment.provider == PROVIDER, Payment.status == "pending",
               Payment.reference.is_not(None), Order.status == PAYMENT_PENDING,
               Order.placed_at < older_than)
        .order_by(Order.placed_at, Order.id).limit(limit)).all()


def reconcile(request, now=None, limit=200):
    """Ask Stripe about each order still waiting for its card payment
    ``reconcile_after_minutes`` after it was placed, and apply what Stripe says: a
    webhook that never arrived leaves no order stuck. Safe to run twice at once and
    next to the webhook (the orders plugin locks each order and applies a result once).

    Returns ``{"checked": n, "results": {order number: outcome}, "errors": {...}}``;
    the outcome ``waiting`` means Stripe has no result yet.
    """
    values = gateway.settings(request)
    if not values["secret_key"]:
        return {"checked": 0, "results": {}, "errors": {}, "skipped": "no Stripe secret key"}
    now = now or utcnow()
    older_than = now - dt.timedelta(minutes=values["reconcile_after_minutes"])
    results, errors = {}, {}
    for intent_id, number in waiting_payments(request.dbsession, older_than, limit):
        try:
            intent = gateway.retrieve_intent(request, intent_id)
            results[number], _ = apply_intent_state(request, intent)
        except StripeUnavailable as exc:
            errors[number] = exc.code
            log.warning("reconciliation stopped at order %s: %s", number, exc.message)
            break  # the next orders would wait for the same outage
        except APIError as exc:
            errors[number] = exc.code
            log.error("reconciliation of order %s: %s", number, exc.message)
    return {"checked": len(results) + len(errors), "results": results, "errors": errors}


# --- figures for the admin --------------------------------------------------------------------


def figures(dbsession, now=None):
    now = now or utcnow()
    day = now - dt.timedelta(days=1)
    week = now - dt.timedelta(days=7)
    received = dbsession.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)
                                .where(WebhookEvent.received_at >= day))
    waiting = dbsession.scalar(
        sa.select(sa.func.count()).select_from(Payment).join(Order, Order.id == Payment.order_id)
        .where(Payment.provider == PROVIDER, Payment.status == "pending",
               Order.status == PAYMENT_PENDING))
    problems = dbsession.scalars(
        sa.select(WebhookEvent).where(WebhookEvent.outcome.in_(PROBLEMS),
                                      WebhookEvent.received_at >= week)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc()).limit(5)).all()
    return {"events_today": received, "waiting": waiting, "problems": problems}
