"""The orders' logic, callable without HTTP: quotes, placing orders, moving them on,
refunds, the stale-payment clean-up, and the queries of the lists.

Functions that change an order take ``request``: a request, or anything with the
same ``dbsession``, ``plugins``, ``registry`` and ``tm`` (a task's context). They
never commit; they raise ``core.api.errors`` that leave the transaction to be
rolled back. Functions that move an order take it locked (``lock_order``,
``find_order(..., lock=True)``), so that two requests on one order run one after
the other.
"""
import datetime as dt
import hashlib
import json
import logging
import re
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from transaction.interfaces import TransientError

from core.accounts.models import Address
from core.api.errors import APIError, BadRequest, Conflict, Unprocessable
from core.db import utcnow
from core.money import Money
from core.security import User, active_user
from plugins.cart import services as carts
from plugins.cart.models import OPEN as OPEN_CART, Cart
from plugins.catalog import inventory

from . import checkout as pipeline
from . import lifecycle, mails, payments
from .models import (CANCELLED, DELIVERED, FAILED, PAYMENT_PENDING, PROCESSING, REFUNDED,
                     RETURNED, SHIPPED, Adjustment, IdempotencyKey, Note, Order, OrderLine,
                     Refund, RefundTender, Shipment, StatusChange, Tender)

log = logging.getLogger(__name__)

# Crockford's base 32: no I, L, O or U to misread or spell a word with
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER = re.compile(r"^[A-Z0-9-]{4,32}$")
NUMBER_CONSTRAINT = "uq_orders_order_number"
KEY_CONSTRAINT = "uq_orders_idempotency_user_id"
ADDRESS_FIELDS = ("name", "phone", "line1", "line2", "city", "state", "postal_code", "country")

ORDER_LOAD = (
    selectinload(Order.lines), selectinload(Order.adjustments), selectinload(Order.tenders),
    selectinload(Order.history), selectinload(Order.payments),
    selectinload(Order.refunds).selectinload(Refund.tenders), selectinload(Order.shipments),
)
# the staff's answers show the notes as well
STAFF_ORDER_LOAD = ORDER_LOAD + (selectinload(Order.notes),)


def settings(request):
    return request.plugins.settings("orders")


def shop_currency(request):
    return carts.shop_currency(request)


# --- finding orders ------------------------------------------------------------------------


def normalize_number(number):
    """The stored form of an order number as typed (any case); None if it cannot be one."""
    if not isinstance(number, str):
        return None
    number = number.strip().upper()
    return number if NUMBER.match(number) else None


def find_order(dbsession, number, lock=False, load=True):
    """The order with ``number``, or None. ``lock``: hold its row for the transaction.
    ``load``: its relations loaded with it (``ORDER_LOAD``, or the loader options
    given), or not (False)."""
    number = normalize_number(number)
    if number is None:
        return None
    query = sa.select(Order).where(Order.number == number)
    if load:
        query = query.options(*(ORDER_LOAD if load is True else load))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return dbsession.scalars(query).one_or_none()


def lock_order(dbsession, order_id, skip_locked=False):
    """The order ``order_id`` read under its row lock (None if it is gone, or, with
    ``skip_locked``, if another transaction holds the lock)."""
    query = (sa.select(Order).where(Order.id == order_id)
             .with_for_update(skip_locked=skip_locked)
             .execution_options(populate_existing=True))
    return dbsession.scalars(query).one_or_none()


def load_order(dbsession, order):
    dbsession.scalars(sa.select(Order).where(Order.id == order.id).options(*ORDER_LOAD)).all()
    return order


def customer_orders(dbsession, user_id, page, per_page):
    """A page of the customer's orders, newest first, and their number."""
    condition = Order.user_id == user_id
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(Order).where(condition))
    orders = dbsession.scalars(
        sa.select(Order).where(condition).options(*ORDER_LOAD)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return orders, total


def staff_orders(dbsession, filters, page, per_page):
    """A page of every order matching ``filters`` (status, number, email, user_id,
    placed_from, placed_to), newest first, and their number."""
    conditions = []
    if filters.get("status"):
        conditions.append(Order.status.in_(filters["status"]))
    if filters.get("number"):
        conditions.append(Order.number.startswith(filters["number"].strip().upper(),
                                                  autoescape=True))
    if filters.get("email"):
        conditions.append(sa.func.lower(Order.email).contains(filters["email"].lower(),
                                                              autoescape=True))
    if filters.get("user_id"):
        conditions.append(Order.user_id == filters["user_id"])
    if filters.get("placed_from"):
        conditions.append(Order.placed_at >= filters["placed_from"])
    if filters.get("placed_to"):
        conditions.append(Order.placed_at < filters["placed_to"])
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(Order).where(*conditions))
    orders = dbsession.scalars(
        sa.select(Order).where(*conditions).options(*STAFF_ORDER_LOAD)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return orders, total


# --- the checkout --------------------------------------------------------------------------


def _address(address):
    return {name: address.get(name) or "" for name in ADDRESS_FIELDS}


def resolve_addresses(request, data, user):
    """``data`` with ``address_id`` replaced by a copy of that saved address."""
    data = dict(data)
    address_id = data.pop("address_id", None)
    if address_id is not None:
        if user is None:
            raise BadRequest("Some fields are not valid.", code="invalid", fields={
                "address_id": ["Sign in to use a saved address, or send shipping_address."]})
        saved = request.dbsession.scalars(sa.select(Address).where(
            Address.id == address_id, Address.user_id == user.id)).one_or_none()
        if saved is None:
            raise BadRequest("Some fields are not valid.", code="invalid", fields={
                "address_id": ["You have no saved address with this id."]})
        data["shipping_address"] = {name: getattr(saved, name) or "" for name in
                                    ADDRESS_FIELDS}
    for key in ("shipping_address", "billing_address"):
        if data.get(key) is not None:
            data[key] = _address(data[key])
    return data


def run_checkout(request, cart, data, user, placing=False, items=None):
    """The Checkout of ``cart`` (None: the request has none) for a quote or order body;
    ``items``: its items, if read with it (``plugins.cart.services.cart_lines``)."""
    data = resolve_addresses(request, data, user)
    currency = shop_currency(request)
    cart_lines = carts.cart_lines(request.dbsession, cart, currency,
                                  carts.limits(request).max_quantity_per_line, items=items)
    return pipeline.run(request, cart, cart_lines, data, user, currency, placing=placing)


def quote(request, data):
    """The quote of the request's cart: every phase run, nothing written."""
    user, cart, items = carts.user_and_cart(request)
    return run_checkout(request, cart, data, user, items=items)


def checkout_failed(checkout):
    fields = {}
    for error in checkout.errors:
        if error.get("field"):
            fields.setdefault(error["field"], []).append(error["message"])
    first = checkout.errors[0]["message"]
    more = len(checkout.errors) - 1
    message = f"The order cannot be placed: {first}" + (f" (and {more} more)" if more else "")
    return Unprocessable(message, code="checkout_invalid", fields=fields,
                         extra={"errors": checkout.errors})


# --- idempotency ----------------------------------------------------------------------------


def body_hash(data):
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _replay(dbsession, claimed, request_hash):
    if claimed.request_hash != request_hash:
        raise Unprocessable("This Idempotency-Key was used for another order body; use a "
                            "new key for a new order.", code="idempotency_key_reused")
    return dbsession.get(Order, claimed.order_id)


class KeyTaken(TransientError):
    """Another request placed an order with the same Idempotency-Key meanwhile: retryable,
    so that the request runs again and answers that order."""


def buyer(request, key):
    """``(user, cart, claimed)`` for placing an order, read in one query: the signed-in
    customer (a 401 if deactivated), their open cart under its row lock (None if there
    is none) and their ``IdempotencyKey`` ``key`` (None if new).

    The cart's lock is what two requests with the same key wait on: the second reads
    again once the first ends, and finds the cart ordered and the key with its order
    (or, the first failed, the cart as it was and no key). The cart's items are read
    after the lock, in a statement of their own: a row that waited for a lock is read
    again, but the other rows of its query are not, and items added meanwhile would
    be missed.
    """
    user_id = request.identity.id
    claim = sa.and_(IdempotencyKey.user_id == User.id, IdempotencyKey.key == key)
    row = request.dbsession.execute(
        sa.select(User, Cart, IdempotencyKey).where(User.id == user_id)
        .join(Cart, sa.and_(Cart.user_id == User.id, Cart.status == OPEN_CART))
        .outerjoin(IdempotencyKey, claim)
        # FOR UPDATE cannot take the nullable side of an outer join: without an open
        # cart, a second query reads the user and the key
        .with_for_update(of=Cart).execution_options(populate_existing=True)).first()
    if row is None:
        row = request.dbsession.execute(
            sa.select(User, sa.null().label("Cart"), IdempotencyKey)
            .where(User.id == user_id).outerjoin(IdempotencyKey, claim)).first()
    return active_user(row.User if row is not None else None), row.Cart, row.IdempotencyKey


# --- placing an order ---------------------------------------------------------------------


class NumberTaken(TransientError):
    """The random order number is another order's (with a million orders placed, about
    one new order in a million): retryable, so that the request (or task) runs again
    and draws another."""


def new_number(prefix):
    """An order number: the prefix and 8 random characters (40 bits). Not checked
    against the table first (a query on every order): the unique index refuses a
    number drawn twice, and ``_insert_order`` turns that into ``NumberTaken``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}{chars[:4]}-{chars[4:]}"


def _constraint(exc):
    """The name of the unique constraint ``exc`` (an IntegrityError) broke, if known."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if name is None:  # SQLite names the columns: "UNIQUE constraint failed: t.a, t.b"
        message = str(exc.orig)
        if "orders_order.number" in message:
            name = NUMBER_CONSTRAINT
        elif "orders_idempotency.user_id" in message:
            name = KEY_CONSTRAINT
    return name


def _insert_order(dbsession, order, user_id, key, request_hash):
    """Insert the order, its rows and its Idempotency-Key in one flush. A unique index
    that refuses the number or the key makes the request run again (``NumberTaken``,
    ``KeyTaken``): with a new number, or to answer the order of the key."""
    dbsession.add(order)
    dbsession.add(IdempotencyKey(user_id=user_id, key=key, request_hash=request_hash,
                                 order=order, created_at=utcnow()))
    try:
        dbsession.flush()
    except sa.exc.IntegrityError as exc:
        constraint = _constraint(exc)
        if constraint == NUMBER_CONSTRAINT:
            raise NumberTaken(f"order number {order.number} is taken") from exc
        if constraint == KEY_CONSTRAINT:
            # a request with the same key that did not wait on the same cart (the cart
            # was merged meanwhile) got there first
            raise KeyTaken(f"Idempotency-Key {key!r} was taken meanwhile") from exc
        raise


def _write_order(request, checkout, user, cart, provider, key, request_hash):
    currency = checkout.currency
    option = checkout.shipping_option
    order = Order(
        number=new_number(settings(request)["number_prefix"]),
        user_id=user.id, email=user.email, cart_id=cart.id if cart is not None else None,
        status=PAYMENT_PENDING, currency=currency,
        subtotal=checkout.subtotal.amount, discount_total=checkout.discount_total.amount,
        shipping_total=checkout.shipping.amount, tax_total=checkout.tax.amount,
        total=checkout.total.amount, tender_total=checkout.tender_total.amount,
        amount_due=checkout.amount_due.amount,
        # stored value is taken when the order is placed (order_placed)
        paid_amount=checkout.tender_total.amount,
        shipping_method=option["code"] if option else None,
        shipping_method_name=option["name"] if option else None,
        shipping_address=checkout.address,
        billing_address=checkout.billing_address or checkout.address,
        customer_note=checkout.customer_note,
        payment_provider=provider.name if provider is not None else None,
    )
    order.lines = [OrderLine(
        position=line.index, variant_id=line.variant_id, product_id=line.product_id,
        name=line.name[:300], sku=line.sku[:64], options=dict(line.options or {}),
        image_url=line.image_url, quantity=line.quantity, unit_price=line.unit_price.amount,
        total=line.total.amount, discount_amount=line.discount.amount,
        tax_amount=line.tax.amount) for line in checkout.lines]
    adjustments = [Adjustment(kind="discount", source=d["source"], code=d["code"],
                              name=d["name"][:200], amount=d["amount"].amount)
                   for d in checkout.discounts]
    if option is not None:
        adjustments.append(Adjustment(kind="shipping", source=option["source"],
                                      code=option["code"], name=option["name"],
                                      amount=option["price"].amount))
    adjustments += [Adjustment(kind="tax", source=t["source"], name=t["name"],
                               rate=None if t["rate"] is None else str(t["rate"]),
                               amount=t["amount"].amount) for t in checkout.taxes]
    order.adjustments = adjustments
    order.tenders = [Tender(position=n, source=t["source"], code=t["code"],
                            amount=t["amount"].amount)
                     for n, t in enumerate(checkout.tenders)]
    order.history = [StatusChange(from_status=None, to_status=PAYMENT_PENDING,
                                  actor="customer", user_id=user.id)]
    # a new order has none of these yet: known empty, never queried
    order.payments, order.refunds, order.shipments, order.notes = [], [], [], []
    _insert_order(request.dbsession, order, user.id, key, request_hash)
    return order


def _payment_provider(request, checkout):
    """The provider for the amount due (None when nothing is due); a checkout error if
    the client named one no enabled plugin offers."""
    name = checkout.payment_method or settings(request)["default_payment_method"]
    if checkout.amount_due.is_zero():
        return None
    found = payments.provider(request, name)
    if found is None:
        known = ", ".join(sorted(payments.providers(request))) or "none"
        checkout.error("unknown_payment_method",
                       f"There is no payment method {name!r} (available: {known}).",
                       field="payment_method")
    return found


def place_order(request, data, key):
    """Place an order from the request's cart: ``(order, created)``.

    ``data``: the validated order body; ``key``: the Idempotency-Key. The same key
    with the same body gives the order it placed (``created`` False); with another
    body a 422. One transaction: the order, its stock reservation, every plugin's
    redemptions (``order_placed``), the cart closed, the payment started.
    """
    dbsession = request.dbsession
    # the cart's row lock: a second order from this cart waits, then finds it closed
    # (and, with the same key, the order of the first)
    user, cart, claimed = buyer(request, key)
    request_hash = body_hash(data)
    if claimed is not None:
        return load_order(dbsession, _replay(dbsession, claimed, request_hash)), False
    checkout = run_checkout(request, cart, data, user, placing=True)
    provider = _payment_provider(request, checkout) if not checkout.errors else None
    if checkout.errors:
        raise checkout_failed(checkout)
    order = _write_order(request, checkout, user, cart, provider, key, request_hash)
    inventory.reserve_many(dbsession, [(line.variant_id, line.quantity)
                                       for line in order.lines],
                           reference=f"order:{order.number}")
    request.plugins.hook.order_placed(order=order, checkout=checkout, dbsession=dbsession,
                                      request=request)
    carts.mark_ordered(dbsession, cart)
    if provider is not None:
        payments.start(request, order, provider)
    else:
        payments.mark_paid(request, order, actor="system",
                           note="nothing left to pay after the tenders")
    dbsession.flush()
    mails.send(request, order, "order_placed")
    # every relation of ORDER_LOAD was written in this transaction: nothing to read back
    return order, True


# --- moving orders on -----------------------------------------------------------------------


def cancel_order(request, order, *, actor, user_id=None, note=""):
    """Cancel an order that has not shipped; with the ``refund_on_cancel`` setting,
    what was paid on it is given back at once (and it ends up refunded)."""
    if order.status not in lifecycle.CANCELLABLE:
        if order.status in (SHIPPED, DELIVERED):
            raise Conflict(f"Order {order.number} has shipped; it can be returned once it "
                           "arrives, not cancelled.", code="already_shipped",
                           extra={"order_status": order.status})
        raise lifecycle.IllegalTransition(order, CANCELLED)
    if order.status == PAYMENT_PENDING:
        payments.cancel_pending(request, order)
    lifecycle.transition(request, order, CANCELLED, actor=actor, user_id=user_id, note=note)
    if settings(request)["refund_on_cancel"] and order.refundable:
        refund(request, order, actor=actor, user_id=user_id, note="the order was cancelled")
    return order


def fail_order(request, order, *, actor="system", note=""):
    """An unpaid order will not be paid: it fails, its stock is released and the stored
    value it took (tenders) is given back."""
    payments.cancel_pending(request, order)
    lifecycle.transition(request, order, FAILED, actor=actor, note=note)
    if order.refundable:
        refund(request, order, actor=actor, note="the order failed")
    return order


def mark_paid(request, order, *, user_id=None, note=""):
    """Staff confirms that the money of a manual payment arrived."""
    if order.status != PAYMENT_PENDING:
        raise lifecycle.IllegalTransition(order, PROCESSING)
    payment = order.payment
    found = payments.provider(request, order.payment_provider) if payment else None
    if payment is None or not getattr(found, "staff_confirms_payment", False):
        raise Conflict(f"Order {order.number} is paid through {order.payment_provider}, "
                       "which reports the payment itself.", code="paid_by_provider")
    return payments.mark_paid(request, order, actor="staff", user_id=user_id, note=note)


def ship(request, order, *, carrier="", tracking_number="", tracking_url=None, user_id=None,
         note=""):
    if not lifecycle.can_move(order, SHIPPED):
        raise lifecycle.IllegalTransition(order, SHIPPED)
    order.shipments.append(Shipment(carrier=carrier, tracking_number=tracking_number,
                                    tracking_url=tracking_url or None))
    return lifecycle.transition(request, order, SHIPPED, actor="staff", user_id=user_id,
                                note=note)


def deliver(request, order, *, user_id=None, note=""):
    lifecycle.transition(request, order, DELIVERED, actor="staff", user_id=user_id, note=note)
    for shipment in order.shipments:
        if shipment.delivered_at is None:
            shipment.delivered_at = utcnow()
    return order


def return_order(request, order, *, restock=True, user_id=None, note=""):
    return lifecycle.transition(request, order, RETURNED, actor="staff", user_id=user_id,
                                note=note, restock=restock)


def add_note(dbsession, order, body, user_id=None):
    note = Note(body=body, user_id=user_id)
    order.notes.append(note)
    dbsession.flush()
    return note


# --- refunds ---------------------------------------------------------------------------------


def _lines_amount(order, wanted):
    """What refunding ``wanted`` ([{"id", "quantity"}]) units gives back, exactly: a
    line's paid total is shared over its units so that its refunds add up to it."""
    by_id = {line.id: line for line in order.lines}
    amount = 0
    for index, entry in enumerate(wanted):
        line = by_id.get(entry["id"])
        if line is None:
            raise BadRequest("Some fields are not valid.", code="invalid", fields={
                f"lines.{index}.id": ["The order has no line with this id."]})
        left = line.quantity - line.refunded_quantity
        if entry["quantity"] > left:
            raise Unprocessable(f"Only {left} unit(s) of {line.name} are left to refund.",
                                code="refund_too_large",
                                fields={f"lines.{index}.quantity": [f"At most {left}."]})
        paid = Money(line.paid_total, order.currency)
        before = paid.proportion(line.refunded_quantity, line.quantity)
        line.refunded_quantity += entry["quantity"]
        amount += (paid.proportion(line.refunded_quantity, line.quantity) - before).amount
    return Money(amount, order.currency)


def _refund_parts(order, amount, payment, provider_only):
    """Where ``amount`` (minor units) goes: ``([(tender, part)], provider_part)``. The
    tenders take it first, the latest first, and the payment the rest, up to what is
    left of it; ``provider_only``: the payment takes it all."""
    parts, rest = [], amount
    if not provider_only:
        for tender in reversed(order.tenders):
            take = min(rest, tender.amount - tender.refunded_amount)
            if take > 0:
                parts.append((tender, take))
                rest -= take
    left = payment.amount - payment.refunded_amount if payment is not None else 0
    if rest > left:
        if provider_only:
            raise Unprocessable(f"At most {order.money(left)} {order.currency} can still be "
                                f"refunded through the payment of order {order.number}.",
                                code="refund_too_large", extra={"refundable": str(
                                    order.money(left))})
        # paid_amount is the tenders plus the paid payment: this cannot happen
        raise RuntimeError(f"order {order.number}: {rest - left} of the refund has nowhere "
                           "to go")
    return parts, rest


def refund(request, order, *, amount=None, lines=None, actor="staff", user_id=None, note="",
           provider_only=False):
    """Give back ``amount`` (Money; default: everything not yet given back) or the price
    of ``lines`` on a (locked) order: first to the tenders (gift cards, points), the
    latest first, and only what they did not take through the payment provider. Never
    more than was paid. Returns the Refund.

    A tender goes back through the plugin that took it (``order_refunded``): while
    that plugin is not enabled the refund is refused (409 ``tender_unavailable``), as
    it is while the provider is not (409 ``provider_unavailable``), and nothing
    changes. ``provider_only``: all of it goes through the provider (money the
    provider gave back already, or a payment that came after the order failed).
    """
    if order.status == PAYMENT_PENDING:
        raise Conflict(f"Order {order.number} is waiting for its payment; cancel it instead.",
                       code="not_paid")
    refundable = order.refundable
    if refundable.is_zero():
        raise Conflict(f"Nothing paid on order {order.number} is left to refund.",
                       code="nothing_to_refund")
    if lines:
        amount = _lines_amount(order, lines)
    elif amount is None:
        amount = refundable
    if amount.currency != order.currency:
        raise BadRequest(f"Order {order.number} is in {order.currency}.", code="invalid",
                         fields={"amount": [f"The order is in {order.currency}."]})
    if not amount.amount > 0:
        raise BadRequest("A refund must be more than zero.", code="invalid",
                         fields={"amount": ["Must be more than zero."]})
    if amount > refundable:
        raise Unprocessable(f"At most {refundable} {order.currency} can still be refunded on "
                            f"order {order.number}.", code="refund_too_large",
                            extra={"refundable": str(refundable)})
    payment = next((p for p in reversed(order.payments) if p.status == "paid"), None)
    parts, provider_part = _refund_parts(order, amount.amount, payment, provider_only)
    for tender, _take in parts:
        if not request.plugins.is_enabled(tender.source):
            raise Conflict(f"The plugin {tender.source}, which took part of order "
                           f"{order.number}, is not enabled; enable it to refund to it.",
                           code="tender_unavailable", extra={"plugin": tender.source})
    found = payments.provider(request, payment.provider) if provider_part else None
    if provider_part and found is None:
        raise Conflict(f"The payment provider {payment.provider} is not enabled; enable "
                       "it to refund through it.", code="provider_unavailable")
    row = Refund(amount=amount.amount, provider_amount=provider_part, note=note or "",
                 user_id=user_id)
    for tender, take in parts:
        tender.refunded_amount += take
        row.tenders.append(RefundTender(tender=tender, amount=take))
    if provider_part:
        answer = found.refund(order=order, amount=order.money(provider_part),
                              request=request) or {}
        payment.refunded_amount += provider_part
        row.provider = payment.provider
        row.reference = answer.get("reference")
    order.refunds.append(row)
    order.refunded_amount += amount.amount
    order.updated_at = utcnow()
    request.dbsession.flush()
    request.plugins.hook.order_refunded(order=order, refund=row, amount=amount,
                                        dbsession=request.dbsession, request=request)
    if order.refunded_amount == order.paid_amount and order.status in (CANCELLED, RETURNED):
        lifecycle.transition(request, order, REFUNDED, actor=actor, user_id=user_id,
                             note=note)
    mails.send(request, order, "order_refunded", refund_amount=str(amount))
    return row


# --- the stale-payment clean-up ---------------------------------------------------------------


def fail_stale_orders(request, now=None, limit=200):
    """Fail the orders that waited for their payment longer than their provider allows
    (settings ``payment_pending_minutes``, ``manual_payment_pending_minutes``), releasing
    their stock. Returns the numbers of the orders failed.

    Safe with two workers at once: each order is taken under its row lock (skipping
    one another worker holds) and checked again, so it fails once.
    """
    now = now or utcnow()
    dbsession = request.dbsession
    minutes = {}

    def timeout(provider):
        if provider not in minutes:
            minutes[provider] = payments.pending_minutes(request, provider)
        return dt.timedelta(minutes=minutes[provider])

    names = list(payments.providers(request))
    # each provider's own deadline in the query: a page of orders still within a long
    # one (a week of bank transfers) must not hide the overdue orders placed after them
    overdue = sa.or_(
        *[sa.and_(Order.payment_provider == name, Order.placed_at < now - timeout(name))
          for name in names],
        sa.and_(sa.or_(Order.payment_provider.is_(None), Order.payment_provider.not_in(names)),
                Order.placed_at < now - timeout(None)))
    candidates = dbsession.execute(
        sa.select(Order.id, Order.payment_provider, Order.placed_at)
        .where(Order.status == PAYMENT_PENDING, overdue)
        .order_by(Order.placed_at, Order.id).limit(limit)).all()
    failed = []
    for row in candidates:
        if row.placed_at >= now - timeout(row.payment_provider):
            continue
        try:
            with dbsession.begin_nested():
                order = lock_order(dbsession, row.id, skip_locked=True)
                if order is None or order.status != PAYMENT_PENDING:
                    continue  # another worker or a payment got there first
                fail_order(request, order, actor="system",
                           note=f"no payment within {minutes[row.payment_provider]} minutes")
        except APIError as exc:
            log.error("order %s could not be failed: %s", row.id, exc.message)
            continue
        failed.append(order.number)
    return failed
