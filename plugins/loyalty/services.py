"""The loyalty logic, callable without HTTP: the points arithmetic, moving points on the
ledger, what an order earns, redeems and gives back, expiry and the staff's reads.

Every balance change goes through ``_move``: one UPDATE of the customer's account
row (conditional for a debit, so the balance cannot go below zero however many
transactions try at once) and one ledger row with the balance it left. Nothing here
commits; errors are ``core.api.errors`` that roll the caller's transaction back.

Which points expire is worked out from the ledger, oldest first (FIFO): the points
that expire by a moment T are those of the buckets dated T or earlier that were not
spent, i.e. ``max(0, B(T) - D)`` where ``B(T)`` sums the expiring credits (earned
points, positive adjustments, less what was reversed of them) dated T or earlier
and ``D`` is what was spent (redeemed less returned, expired, negative
adjustments). Points that never expire are spent last.
"""
import calendar
import dataclasses
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.api.errors import NotFound, Unprocessable
from core.db import utcnow
from core.money import Money, exponent
from core.security import User
from plugins.orders.models import Order

from .models import (ADJUSTED, EARNED, EXPIRED, REDEEMED, RETURNED, REVERSED, Account,
                     Entry)

NAME = "loyalty"
# dbsession.info: {order id: {kind: points}} of the orders placed in this session, whose
# every ledger row was written by it, so their JSON needs no query to show them
PLACED = "loyalty.placed_orders"


@sa.event.listens_for(Session, "after_soft_rollback")
@sa.event.listens_for(Session, "after_commit")
def _forget_placed(session, *_):
    # the counts hold for this transaction only: a rolled-back savepoint may have taken
    # rows back, another transaction may add rows
    session.info.pop(PLACED, None)


# --- the rules and the arithmetic ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rules:
    """The effective settings, typed."""

    points_per_unit: Decimal
    point_value: Decimal
    min_redeem_points: int
    max_redeem_percent: int
    expiry_months: int

    @classmethod
    def of(cls, request):
        """The rules of a request or task context (``request.plugins``)."""
        values = request.plugins.settings(NAME)
        return cls(points_per_unit=Decimal(values["points_per_unit"]),
                   point_value=Decimal(values["point_value"]),
                   min_redeem_points=values["min_redeem_points"],
                   max_redeem_percent=values["max_redeem_percent"],
                   expiry_months=values["expiry_months"])

    def _minor_per_point(self, currency):
        # exactly, as a fraction: a point may be worth half a cent
        numerator, denominator = self.point_value.as_integer_ratio()
        return numerator * 10 ** exponent(currency), denominator

    def value_of(self, points, currency):
        """What ``points`` pay, rounded down to the minor unit (Money)."""
        numerator, denominator = self._minor_per_point(currency)
        return Money(points * numerator // denominator, currency)

    def points_for(self, amount):
        """The fewest points that pay ``amount`` (Money), rounded up."""
        numerator, denominator = self._minor_per_point(amount.currency)
        return -(-amount.amount * denominator // numerator)

    def points_earned(self, base):
        """The points earned on ``base`` (Money), rounded down."""
        if base.amount <= 0:
            return 0
        numerator, denominator = self.points_per_unit.as_integer_ratio()
        return base.amount * numerator // (denominator * 10 ** exponent(base.currency))

    def expiry(self, moment):
        """When points earned at ``moment`` expire (None: never)."""
        return add_months(moment, self.expiry_months) if self.expiry_months else None


def add_months(moment, months):
    """``moment`` plus whole calendar months; 31 January + 1 month is 28 (29) February."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class InsufficientPoints(Unprocessable):
    code = "loyalty_insufficient_points"


# --- the ledger --------------------------------------------------------------------------------


def balance(dbsession, user_id):
    """The customer's points now (0 without an account)."""
    found = dbsession.scalar(sa.select(Account.balance).where(Account.user_id == user_id))
    return found or 0


def _ensure_account(dbsession, user_id, now):
    exists = dbsession.scalar(sa.select(Account.user_id).where(Account.user_id == user_id))
    if exists is not None:
        return
    try:
        # a concurrent first credit inserts the same row: its INSERT waits for ours
        # and fails on the primary key, which the savepoint absorbs
        with dbsession.begin_nested():
            dbsession.execute(sa.insert(Account).values(
                user_id=user_id, balance=0, created_at=now, updated_at=now))
    except sa.exc.IntegrityError:
        if dbsession.scalar(sa.select(Account.user_id).where(
                Account.user_id == user_id)) is None:
            raise


def _lock(dbsession, user_id, skip_locked=False):
    """The account's balance under its row lock (None: no account, or skipped)."""
    return dbsession.scalar(sa.select(Account.balance).where(Account.user_id == user_id)
                            .with_for_update(skip_locked=skip_locked))


def _move(dbsession, user_id, points, kind, *, now=None, order_id=None, expires_at=None,
          reason="", staff_id=None, recheck_expiry=False, field="loyalty_points"):
    """Add ``points`` (negative: take) to the account and write the ledger row.

    A debit is the conditional UPDATE ``balance >= -points``: when the account
    cannot pay it (another order spent the points since the quote) nothing is
    written and ``InsufficientPoints`` is raised.
    """
    now = now or utcnow()
    if points > 0:
        _ensure_account(dbsession, user_id, now)
    values = {"balance": Account.balance + points, "updated_at": now}
    if recheck_expiry:
        values["expiry_checked_at"] = None
    statement = sa.update(Account).where(Account.user_id == user_id)
    if points < 0:
        statement = statement.where(Account.balance >= -points)
    after = dbsession.execute(
        statement.values(**values).returning(Account.balance)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if after is None:
        have = balance(dbsession, user_id)
        raise InsufficientPoints(f"The balance is {have} points; this needs {-points}.",
                                 fields={field: [f"The balance is {have} points."]},
                                 extra={"balance": have})
    entry = Entry(user_id=user_id, kind=kind, points=points, balance_after=after,
                  order_id=order_id, expires_at=expires_at, reason=reason[:500],
                  staff_id=staff_id, created_at=now)
    dbsession.add(entry)
    dbsession.flush()
    placed = dbsession.info.get(PLACED, {}).get(order_id)
    if placed is not None:
        placed[kind] = placed.get(kind, 0) + abs(points)
    return entry


def _order_points(dbsession, order_id):
    """``{kind: points}`` of an order's ledger rows (negative kinds as positive)."""
    rows = dbsession.execute(sa.select(Entry.kind, sa.func.sum(Entry.points))
                             .where(Entry.order_id == order_id).group_by(Entry.kind)).all()
    return {kind: abs(int(total or 0)) for kind, total in rows}


# --- the checkout and the order's events ------------------------------------------------------


def tender_amount(rules, checkout, points, balance_now):
    """``(Money, points used)`` that ``points`` pay on the checkout: no more than the
    points are worth, the share of the total points may pay and what is still due."""
    usable = min(points, balance_now)
    cap = min(rules.value_of(usable, checkout.currency),
              checkout.total.percentage(rules.max_redeem_percent), checkout.amount_due)
    if cap.amount <= 0:
        return checkout.zero, 0
    return cap, min(usable, rules.points_for(cap))


def earning_base(subtotal, discount_total, points_paid):
    """What earns points: the goods after discounts, less the part paid with points
    (points do not earn points). Shipping and tax never earn."""
    return max(subtotal - discount_total - points_paid, Money.zero(subtotal.currency))


def loyalty_tender_total(order):
    return order.money(sum(t.amount for t in order.tenders if t.source == NAME))


def redeem(dbsession, order, rules):
    """Debit the points of the order's loyalty tender (in the placing transaction)."""
    # a new order: no ledger row has its id yet; from here on they are counted as written
    dbsession.info.setdefault(PLACED, {})[order.id] = {}
    for tender in order.tenders:
        if tender.source != NAME:
            continue
        points = rules.points_for(order.money(tender.amount))
        _move(dbsession, order.user_id, -points, REDEEMED, order_id=order.id,
              reason=f"order {order.number}")


def earn(dbsession, order, rules, now=None):
    """The points an order earns once it is paid (once per order)."""
    if order.user_id is None:
        return None
    if dbsession.scalar(sa.select(Entry.id).where(Entry.order_id == order.id,
                                                  Entry.kind == EARNED)) is not None:
        return None
    base = earning_base(order.money(order.subtotal), order.money(order.discount_total),
                        loyalty_tender_total(order))
    points = rules.points_earned(base)
    if points <= 0:
        return None
    now = now or utcnow()
    return _move(dbsession, order.user_id, points, EARNED, now=now, order_id=order.id,
                 expires_at=rules.expiry(now), reason=f"order {order.number}")


def refunded(dbsession, order, refund, now=None):
    """A refund: give back the points its loyalty tender part returns, then take back
    the points earned on the share of the order refunded so far.

    Both are cumulative (what should have moved by now, less what did), so partial
    refunds add up to exactly the full amounts and a repeated call moves nothing.
    Earned points are taken back only as far as the balance goes (the customer may
    have spent them), never those of a bucket that has expired, and a later refund
    tries again for what could not be taken.
    """
    user_id = order.user_id
    if user_id is None:
        return []
    now = now or utcnow()
    moved = []
    done = _order_points(dbsession, order.id)
    for part in refund.tenders:
        tender = part.tender
        if tender.source != NAME:
            continue
        redeemed = done.get(REDEEMED, 0)
        target = redeemed * tender.refunded_amount // tender.amount
        give = target - done.get(RETURNED, 0)
        if give > 0:
            # spent points came back: an old bucket may have points left to expire
            moved.append(_move(dbsession, user_id, give, RETURNED, now=now,
                               order_id=order.id, reason=f"refund of order {order.number}",
                               recheck_expiry=True))
            done[RETURNED] = done.get(RETURNED, 0) + give
    earned = dbsession.scalars(sa.select(Entry).where(Entry.order_id == order.id,
                                                      Entry.kind == EARNED)).first()
    if earned is None or not order.paid_amount:
        return moved
    if earned.expires_at is not None and earned.expires_at <= now:
        return moved  # those points are gone already, spent or expired
    target = earned.points * order.refunded_amount // order.paid_amount
    wanted = target - done.get(REVERSED, 0)
    if wanted <= 0:
        return moved
    available = _lock(dbsession, user_id) or 0
    take = min(wanted, available)
    if take > 0:
        moved.append(_move(dbsession, user_id, -take, REVERSED, now=now, order_id=order.id,
                           expires_at=earned.expires_at,
                           reason=f"refund of order {order.number}"
                           + (f" ({wanted - take} spent already)" if take < wanted else "")))
    return moved


def order_summary(dbsession, order):
    """The points an order moved, for its JSON."""
    return order_summaries(dbsession, [order.id])[order.id]


def order_summaries(dbsession, order_ids):
    """``{order id: the points it moved}`` for several orders, in one query (none for
    orders placed in this session: what they moved was counted as it was written)."""
    placed = dbsession.info.get(PLACED, {})
    done = {order_id: dict(placed.get(order_id, {})) for order_id in order_ids}
    unknown = {order_id for order_id in order_ids if order_id not in placed}
    if unknown:
        rows = dbsession.execute(
            sa.select(Entry.order_id, Entry.kind, sa.func.sum(Entry.points))
            .where(Entry.order_id.in_(unknown)).group_by(Entry.order_id, Entry.kind))
        for order_id, kind, total in rows:
            done[order_id][kind] = abs(int(total or 0))
    return {order_id: {"points_earned": points.get(EARNED, 0),
                       "points_reversed": points.get(REVERSED, 0),
                       "points_redeemed": points.get(REDEEMED, 0),
                       "points_returned": points.get(RETURNED, 0)}
            for order_id, points in done.items()}


# --- expiry ------------------------------------------------------------------------------------


def _bucketed():
    """Entries whose points sit in a dated bucket (credits that may expire, and the
    reversals of them); every other entry spends or gives back spent points."""
    return sa.or_(Entry.kind.in_((EARNED, REVERSED)),
                  sa.and_(Entry.kind == ADJUSTED, Entry.points > 0))


def _spent(dbsession, user_id):
    total = dbsession.scalar(sa.select(sa.func.sum(Entry.points))
                             .where(Entry.user_id == user_id, sa.not_(_bucketed())))
    return -int(total or 0)


def expirable(dbsession, user_id, now):
    """The points of buckets dated ``now`` or earlier that were not spent."""
    due = dbsession.scalar(sa.select(sa.func.sum(Entry.points)).where(
        Entry.user_id == user_id, _bucketed(), Entry.expires_at <= now))
    return max(0, int(due or 0) - _spent(dbsession, user_id))


def expiring_next(dbsession, user_id, now=None):
    """``{"points", "expires_at"}`` of the next points to expire, or None."""
    now = now or utcnow()
    buckets = dbsession.execute(
        sa.select(Entry.expires_at, sa.func.sum(Entry.points))
        .where(Entry.user_id == user_id, _bucketed(), Entry.expires_at.is_not(None))
        .group_by(Entry.expires_at).order_by(Entry.expires_at)).all()
    spent = _spent(dbsession, user_id)
    total = 0
    for expires_at, points in buckets:
        total += int(points or 0)
        if total - spent > 0:
            return {"points": total - spent, "expires_at": expires_at}
    return None


def expire_due(dbsession, now=None, limit=500):
    """Take off the points of expired buckets, account by account; returns
    ``[(user_id, points)]`` of the accounts that lost points.

    Idempotent and safe with two workers at once: each account is taken under its
    row lock (skipping one another transaction holds, which a later run finds
    again) and what expires is computed from the ledger under that lock, so a
    second pass finds nothing left to take.
    """
    now = now or utcnow()
    due = sa.exists().where(
        Entry.user_id == Account.user_id, _bucketed(), Entry.expires_at <= now,
        sa.or_(Account.expiry_checked_at.is_(None), Entry.expires_at > Account.expiry_checked_at))
    candidates = dbsession.scalars(
        sa.select(Account.user_id).where(Account.balance > 0, due)
        .order_by(Account.user_id).limit(limit)).all()
    expired = []
    for user_id in candidates:
        with dbsession.begin_nested():
            held = _lock(dbsession, user_id, skip_locked=True)
            if held is None:
                continue  # another worker or an order holds it: the next run sees it
            points = min(expirable(dbsession, user_id, now), held)
            if points > 0:
                _move(dbsession, user_id, -points, EXPIRED, now=now,
                      reason="points older than the expiry period")
                expired.append((user_id, points))
            dbsession.execute(sa.update(Account).where(Account.user_id == user_id)
                              .values(expiry_checked_at=now)
                              .execution_options(synchronize_session=False))
    return expired


# --- staff -------------------------------------------------------------------------------------


def find_customer(dbsession, user_id):
    """The user ``user_id`` (a str from a path, or an int), or a 404."""
    try:
        number = int(user_id)
    except (TypeError, ValueError):
        number = None
    user = dbsession.get(User, number) if number and 0 < number < 2**31 else None
    if user is None:
        raise NotFound("There is no such customer.", code="customer_not_found")
    return user


def adjust(dbsession, rules, user_id, points, reason, staff_id=None, now=None):
    """Staff adds (positive) or takes (negative) points, with a reason. Added points
    expire like earned ones; taking more than the balance is a 422."""
    now = now or utcnow()
    if points < 0:
        _lock(dbsession, user_id)  # a clear error rather than a lost race
    return _move(dbsession, user_id, points, ADJUSTED, now=now,
                 expires_at=rules.expiry(now) if points > 0 else None, reason=reason,
                 staff_id=staff_id, field="points")


def history(dbsession, user_id, page, per_page):
    """A page of the customer's ledger, newest first, with order numbers; and the count."""
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(Entry)
                             .where(Entry.user_id == user_id))
    rows = dbsession.execute(
        sa.select(Entry, Order.number).outerjoin(Order, Order.id == Entry.order_id)
        .where(Entry.user_id == user_id).order_by(Entry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def accounts(dbsession, email, page, per_page):
    """A page of ``(Account, User)``, largest balances first, filtered by e-mail."""
    conditions = []
    if email:
        conditions.append(sa.func.lower(User.email).contains(email.lower(), autoescape=True))
    query = sa.select(Account, User).join(User, User.id == Account.user_id).where(*conditions)
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = dbsession.execute(query.order_by(Account.balance.desc(), Account.user_id)
                             .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def outstanding(dbsession):
    """``(accounts with points, points held)`` across the shop."""
    count, points = dbsession.execute(
        sa.select(sa.func.count(), sa.func.sum(Account.balance))
        .where(Account.balance > 0)).one()
    return count, int(points or 0)


def ledger_mismatches(dbsession):
    """Accounts whose balance is not the sum of their ledger (should be none)."""
    sums = (sa.select(Entry.user_id, sa.func.sum(Entry.points).label("points"))
            .group_by(Entry.user_id).subquery())
    return dbsession.execute(
        sa.select(Account.user_id, Account.balance, sums.c.points)
        .outerjoin(sums, sums.c.user_id == Account.user_id)
        .where(Account.balance != sa.func.coalesce(sums.c.points, 0))).all()
