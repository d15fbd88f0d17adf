"""The gift cards' tables: the cards, their ledger, and the catalog products sold as cards.

Money is integer minor units in the card's ``currency`` (``core.money``). A card's
code is never stored: ``code_hash`` (SHA-256 of the normalised code, see
``codes``) finds it, ``last4`` tells it apart on screens. ``balance`` is changed
only by conditional UPDATEs (services), each with a ledger row saying why, and a
CHECK keeps it from going below zero whatever code writes.
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

import core.security  # noqa: F401  (core_user, which cards and ledger rows refer to)
import plugins.catalog.models  # noqa: F401  (catalog_product, which a gift card product is)
import plugins.orders.models  # noqa: F401  (orders_line, _tender, _refund_tender)
from core.db import Base, UTCDateTime, utcnow
from core.money import Money
from plugins.orders.models import Order

# ledger kinds: issued; spent on an order; given back by an order's refund; changed
# by staff; emptied because the order that bought the card was cancelled or refunded
ISSUE, REDEEM, REFUND, ADJUST, VOID = "issue", "redeem", "refund", "adjust", "void"
KINDS = (ISSUE, REDEEM, REFUND, ADJUST, VOID)
# what a card is, as the balance check and the staff list say it
ACTIVE, INACTIVE, EXPIRED, EMPTY = "active", "inactive", "expired", "empty"
STATES = (ACTIVE, INACTIVE, EXPIRED, EMPTY)


class GiftCard(Base):
    __tablename__ = "giftcards_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    last4: Mapped[str] = mapped_column(sa.String(4), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    initial_balance: Mapped[int] = mapped_column(sa.BigInteger)
    balance: Mapped[int] = mapped_column(sa.BigInteger)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # who got the code by e-mail (the buyer of a card sold, or whom staff sent it to)
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    # a card sold: the order and the line that bought it (SET NULL: cards outlive orders)
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="SET NULL"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_line.id", ondelete="SET NULL"), index=True)
    issued_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    # set when the purchase was cancelled or refunded: the card was emptied for good
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    entries: Mapped[list["LedgerEntry"]] = relationship(
        back_populates="card", cascade="all, delete-orphan", passive_deletes=True,
        order_by="LedgerEntry.id")
    # read only: the orders plugin's rows are its own
    order: Mapped[Order | None] = relationship(viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("initial_balance > 0", name="initial_balance_positive"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        sa.CheckConstraint("length(last4) = 4", name="last4_length"),
    )

    def money(self, amount):
        return Money(amount, self.currency)

    def state(self, now=None):
        """active, inactive, expired or empty: whether it can pay, and if not, why."""
        if not self.is_active:
            return INACTIVE
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return EXPIRED
        if self.balance <= 0:
            return EMPTY
        return ACTIVE


class LedgerEntry(Base):
    """One change of a card's balance: how much (negative when money left the card),
    the balance after it, and why (the order, its tender or refund, or staff)."""

    __tablename__ = "giftcards_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(
        sa.ForeignKey("giftcards_card.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="SET NULL"), index=True)
    # the order's tender this debit paid (a refund of that tender credits this card)
    tender_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_tender.id", ondelete="SET NULL"), index=True)
    # the part of a refund credited here: unique, so it is credited once
    refund_tender_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_refund_tender.id", ondelete="SET NULL"), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    card: Mapped[GiftCard] = relationship(back_populates="entries")
    order: Mapped[Order | None] = relationship(viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('issue', 'redeem', 'refund', 'adjust', 'void')",
                           name="kind"),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    )


class GiftCardProduct(Base):
    """A catalog product sold as a gift card: each unit bought issues a card worth the
    unit's price once the order is paid. The catalog knows nothing of it."""

    __tablename__ = "giftcards_product"

    # CASCADE: deleting the catalog product forgets that it was a gift card
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_product.id", ondelete="CASCADE"), primary_key=True)
    # days the cards sold can be spent; None: the setting valid_days; 0: never expire
    valid_days: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("valid_days IS NULL OR valid_days >= 0", name="valid_days"),
    )
