"""Recording a coupon's use in the order's transaction, and giving it back.

The quote read the coupons without a lock; another order may have used the last use
since. ``record`` takes each use again under the rows' locks, so that with a limit of
N exactly N orders get through however many are placed at once:

1. the coupon: with a total limit, a conditional ``UPDATE ... SET times_used =
   times_used + 1 WHERE times_used < usage_limit`` (its row lock makes concurrent
   orders of the coupon wait, then see the new count); without one, a shared lock
   (``FOR SHARE``) so that orders do not wait for each other, yet staff setting a
   limit waits for them and counts their uses (``services.update_coupon``);
2. the code, if it has a limit of its own (generated codes): the same conditional
   UPDATE on its counter; a code without one is not counted on its row, so the orders
   of a public code do not wait for one another there either;
3. the customer: an upsert of their counter, conditional on ``per_customer_limit``.

Rows are taken coupon by coupon in id order, and always coupon, code, customer, so two
orders never wait for each other in a circle. When a use is no longer there the hook
raises an ``Unprocessable``: the orders plugin rolls the whole order back.
``release`` gives a failed or cancelled order's uses back, under the same locks.
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.api.errors import Unprocessable
from core.db import utcnow

from .checkout import FIELD, error
from .models import Code, Coupon, CustomerUse, Redemption


def _refuse(sent, reason, message):
    problem = error(sent, reason, message)
    return Unprocessable(message, code=problem["code"], fields={FIELD: [message]},
                         extra={"errors": [problem]})


def _upsert(dbsession):
    dialect = dbsession.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _read(dbsession, coupon_id, shared=False):
    query = sa.select(Coupon).where(Coupon.id == coupon_id) \
        .execution_options(populate_existing=True)
    if shared:
        query = query.with_for_update(read=True)
    return dbsession.scalars(query).one()


def _take_coupon(dbsession, item):
    """Count one use on the coupon under its lock; the coupon as it is now."""
    # no query to learn whether it has a limit: the checkout read the coupon a moment ago
    if not item.limited:
        coupon = _read(dbsession, item.coupon_id, shared=True)
        if coupon.usage_limit is None:
            return coupon
        # staff set a limit since: count against it (rare; a deadlock with another
        # order doing the same is retried by pyramid_retry)
    taken = dbsession.scalars(
        sa.update(Coupon)
        .where(Coupon.id == item.coupon_id, Coupon.usage_limit.is_not(None),
               Coupon.times_used < Coupon.usage_limit)
        .values(times_used=Coupon.times_used + 1)
        .returning(Coupon)
        .execution_options(synchronize_session=False, populate_existing=True)).one_or_none()
    if taken is not None:
        return taken
    coupon = _read(dbsession, item.coupon_id, shared=True)
    if coupon.usage_limit is not None:
        raise _refuse(item.sent, "limit_reached", f"The coupon {item.sent} has been used up "
                                                  "meanwhile.")
    return coupon  # staff removed the limit since


def _check_still_valid(coupon, item, now):
    # read under the lock: staff may have deactivated it or changed its dates since
    if not coupon.is_active:
        raise _refuse(item.sent, "inactive", f"The coupon {item.sent} is no longer valid.")
    if coupon.starts_at is not None and now < coupon.starts_at:
        raise _refuse(item.sent, "not_started", f"The coupon {item.sent} cannot be used "
                                                "yet.")
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise _refuse(item.sent, "expired", f"The coupon {item.sent} has expired.")


def _take_code(dbsession, item):
    if not item.code_limited:
        return
    taken = dbsession.execute(
        sa.update(Code)
        .where(Code.id == item.code_id, Code.usage_limit.is_not(None),
               Code.times_used < Code.usage_limit)
        .values(times_used=Code.times_used + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise _refuse(item.sent, "limit_reached", f"The coupon {item.sent} has been used "
                                                  "already.")


def _take_customer(dbsession, coupon, item, user_id):
    insert = _upsert(dbsession)(CustomerUse).values(coupon_id=coupon.id, user_id=user_id,
                                                    times_used=1)
    column = CustomerUse.__table__.c.times_used
    limit = coupon.per_customer_limit
    insert = insert.on_conflict_do_update(
        index_elements=["coupon_id", "user_id"], set_={"times_used": column + 1},
        where=(column < limit) if limit is not None else None)
    # RETURNING, not rowcount: an INSERT's rowcount is not reported by every driver
    if dbsession.execute(insert.returning(column)).scalar_one_or_none() is None:
        times = "once" if limit == 1 else f"{limit} times"
        raise _refuse(item.sent, "customer_limit_reached",
                      f"You have used the coupon {item.sent} already; it can be used "
                      f"{times} per customer.")


def record(dbsession, order, applied, taken):
    """Write one ``Redemption`` per coupon ``applied`` to ``order`` (``taken``: {code:
    Money really taken off}), each use taken under its locks."""
    now = utcnow()
    for item in sorted(applied, key=lambda a: a.coupon_id):
        coupon = _take_coupon(dbsession, item)
        _check_still_valid(coupon, item, now)
        _take_code(dbsession, item)
        if order.user_id is not None:
            _take_customer(dbsession, coupon, item, order.user_id)
        amount = taken.get(item.code)
        dbsession.add(Redemption(
            coupon_id=coupon.id, code_id=item.code_id, order_id=order.id,
            user_id=order.user_id, code=item.code, currency=order.currency,
            amount=amount.amount if amount is not None else 0, created_at=now))
    dbsession.flush()


def release(dbsession, order):
    """Give back the uses of ``order`` (it failed or was cancelled); safe to repeat."""
    uses = dbsession.scalars(
        sa.select(Redemption).where(Redemption.order_id == order.id,
                                    Redemption.released_at.is_(None))
        .order_by(Redemption.coupon_id)).all()
    now = utcnow()
    for use in uses:
        # an exclusive lock, also without a limit: staff counting the uses while
        # setting one then sees this release or waits for it
        coupon = dbsession.scalars(
            sa.select(Coupon).where(Coupon.id == use.coupon_id).with_for_update()
            .execution_options(populate_existing=True)).one()
        if coupon.usage_limit is not None and coupon.times_used > 0:
            coupon.times_used -= 1
        dbsession.execute(
            sa.update(Code).where(Code.id == use.code_id, Code.usage_limit.is_not(None),
                                  Code.times_used > 0)
            .values(times_used=Code.times_used - 1)
            .execution_options(synchronize_session=False))
        if use.user_id is not None:
            dbsession.execute(
                sa.update(CustomerUse)
                .where(CustomerUse.coupon_id == use.coupon_id,
                       CustomerUse.user_id == use.user_id, CustomerUse.times_used > 0)
                .values(times_used=CustomerUse.times_used - 1)
                .execution_options(synchronize_session=False))
        use.released_at = now
    dbsession.flush()
    return uses
