"""The loyalty tables: one account row per customer (the balance) and the ledger.

The ledger (``loyalty_entry``) is append-only: every change of a customer's points
is a new row, never an update, with the balance it left. The account's ``balance``
is the sum of the customer's entries, kept on one row so that a debit is a single
conditional UPDATE (``balance >= points``) that two concurrent orders cannot both
pass; a CHECK holds it at or above zero whatever code writes.

Expiry works on buckets: an entry that adds points which can expire (``earned``, a
positive ``adjusted``) carries its ``expires_at``, and a ``reversed`` entry carries
the bucket of the points it takes back. Points are spent oldest bucket first (see
services.expirable).
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

import core.security  # noqa: F401  (core_user, which accounts belong to)
import plugins.orders.models  # noqa: F401  (orders_order, which entries refer to)
from core.db import Base, UTCDateTime, utcnow

EARNED, REDEEMED, RETURNED, REVERSED, EXPIRED, ADJUSTED = (
    "earned", "redeemed", "returned", "reversed", "expired", "adjusted")
KINDS = (EARNED, REDEEMED, RETURNED, REVERSED, EXPIRED, ADJUSTED)
MAX_REASON = 500


def _in(values):
    return f"({', '.join(repr(v) for v in values)})"


class Account(Base):
    """A customer's points: the balance, and when expiry last looked at it."""

    __tablename__ = "loyalty_account"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # the moment up to which expired buckets were taken off; NULL: look again
    # (points came back, so an old bucket may have points left to expire)
    expiry_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        # the staff list, largest balances first
        sa.Index("ix_loyalty_account_balance", "balance"),
    )


class Entry(Base):
    """One change of a customer's points (append-only)."""

    __tablename__ = "loyalty_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("loyalty_account.user_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    points: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    # SET NULL: the books keep the movement if the order goes
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="SET NULL"), index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(MAX_REASON), default="")
    staff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # a customer's history, newest first
        sa.Index("ix_loyalty_entry_user_id_id", "user_id", "id"),
        # the expiry job's search for buckets past their date
        sa.Index("ix_loyalty_entry_user_id_expires_at", "user_id", "expires_at"),
        sa.CheckConstraint(f"kind IN {_in(KINDS)}", name="kind"),
        sa.CheckConstraint(
            f"(kind IN {_in((EARNED, RETURNED))} AND points > 0) OR "
            f"(kind IN {_in((REDEEMED, REVERSED, EXPIRED))} AND points < 0) OR "
            f"(kind = '{ADJUSTED}' AND points <> 0)", name="points_sign"),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        sa.CheckConstraint(f"kind <> '{ADJUSTED}' OR reason <> ''", name="adjusted_reason"),
    )
