"""The orders' tables: orders with their lines, adjustments and tenders, the status
history, payments, refunds, shipments, staff notes and idempotency keys.

Money is integer minor units in the order's ``currency`` (``core.money``). An order
is a snapshot: names, SKUs, options, prices and addresses are copied at placement,
so changing the catalog or an address book later never changes an order. CHECK
constraints hold the arithmetic (total = subtotal - discounts + shipping + tax,
amount due = total - tenders, never more refunded than paid) whatever code writes.
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

import core.security  # noqa: F401  (core_user, which orders refer to)
import plugins.cart.models  # noqa: F401  (cart_cart, which an order refers to)
import plugins.catalog.models  # noqa: F401  (catalog_variant, which a line refers to)
from core.db import Base, UTCDateTime, utcnow
from core.money import Money

PAYMENT_PENDING, PROCESSING, SHIPPED, DELIVERED = (
    "payment_pending", "processing", "shipped", "delivered")
CANCELLED, FAILED, RETURNED, REFUNDED = "cancelled", "failed", "returned", "refunded"
STATUSES = (PAYMENT_PENDING, PROCESSING, SHIPPED, DELIVERED, CANCELLED, FAILED, RETURNED,
            REFUNDED)

# a payment's own status (the order's status says where the order is)
PAYMENT_STATUSES = ("pending", "paid", "failed", "cancelled")
ADJUSTMENT_KINDS = ("discount", "shipping", "tax")
ACTORS = ("customer", "staff", "system", "payment")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Order(Base):
    __tablename__ = "orders_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    # random, so that numbers do not tell how many orders a shop takes
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # SET NULL: a deleted account leaves its orders for the books
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    cart_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cart_cart.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(20), default=PAYMENT_PENDING)
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    discount_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    shipping_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tax_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    tender_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    amount_due: Mapped[int] = mapped_column(sa.BigInteger)
    # what was taken from the customer so far (tenders at placement, the payment once
    # paid) and what was given back of it
    paid_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    shipping_method: Mapped[str | None] = mapped_column(sa.String(64))
    shipping_method_name: Mapped[str | None] = mapped_column(sa.String(200))
    shipping_address: Mapped[dict | None] = mapped_column(sa.JSON)
    billing_address: Mapped[dict | None] = mapped_column(sa.JSON)
    customer_note: Mapped[str] = mapped_column(sa.Text, default="")
    payment_provider: Mapped[str | None] = mapped_column(sa.String(40))
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="OrderLine.position")
    adjustments: Mapped[list["Adjustment"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Adjustment.id")
    tenders: Mapped[list["Tender"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Tender.position")
    history: Mapped[list["StatusChange"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="StatusChange.id")
    payments: Mapped[list["Payment"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Payment.id")
    refunds: Mapped[list["Refund"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Refund.id")
    shipments: Mapped[list["Shipment"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Shipment.id")
    notes: Mapped[list["Note"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Note.id")

    __table_args__ = (
        # a customer's orders, newest first
        sa.Index("ix_orders_order_user_placed", "user_id", "placed_at"),
        # the staff list by status and the stale-payment job
        sa.Index("ix_orders_order_status_placed", "status", "placed_at"),
        sa.Index("ix_orders_order_placed_at", "placed_at"),
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.CheckConstraint("subtotal >= 0 AND discount_total >= 0 AND shipping_total >= 0 "
                           "AND tax_total >= 0 AND tender_total >= 0", name="amounts"),
        sa.CheckConstraint("discount_total <= subtotal", name="discount_within_subtotal"),
        sa.CheckConstraint("total = subtotal - discount_total + shipping_total + tax_total",
                           name="total_adds_up"),
        sa.CheckConstraint("amount_due = total - tender_total AND amount_due >= 0",
                           name="amount_due_adds_up"),
        sa.CheckConstraint("paid_amount >= 0 AND paid_amount <= total", name="paid"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= paid_amount",
                           name="refunded_within_paid"),
    )

    def money(self, amount):
        return Money(amount, self.currency)

    @property
    def refundable(self):
        return Money(self.paid_amount - self.refunded_amount, self.currency)

    @property
    def payment(self):
        """The latest payment (an order normally has one), or None."""
        return self.payments[-1] if self.payments else None


class OrderLine(Base):
    """One variant bought: a snapshot of what it was, and what it cost."""

    __tablename__ = "orders_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer)
    # no ON DELETE: the catalog refuses to delete a variant that was ordered (409)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_variant.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(300))
    sku: Mapped[str] = mapped_column(sa.String(64))
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    image_url: Mapped[str | None] = mapped_column(sa.String(2000))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_price: Mapped[int] = mapped_column(sa.BigInteger)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    # this line's share of every discount and of the tax (Money.allocate), so that
    # refunding a line gives back exactly what was paid for it
    discount_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_quantity: Mapped[int] = mapped_column(sa.Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (
        sa.UniqueConstraint("order_id", "position"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0 AND total = unit_price * quantity",
                           name="total_adds_up"),
        sa.CheckConstraint("discount_amount >= 0 AND discount_amount <= total",
                           name="discount_within_total"),
        sa.CheckConstraint("tax_amount >= 0", name="tax_not_negative"),
        sa.CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity",
                           name="refunded_within_quantity"),
    )

    @property
    def paid_total(self):
        """What the customer paid for the whole line: its price less its discounts,
        plus its tax."""
        return self.total - self.discount_amount + self.tax_amount


class Adjustment(Base):
    """A discount, the shipping or a tax line of an order, with the plugin it came from."""

    __tablename__ = "orders_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(64))
    code: Mapped[str | None] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    # a tax rate as a decimal string ("0.2"); no Numeric, which SQLite stores as float
    rate: Mapped[str | None] = mapped_column(sa.String(32))

    __table_args__ = (
        sa.CheckConstraint(_in("kind", ADJUSTMENT_KINDS), name="kind"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )


class Tender(Base):
    """Stored value that paid part of the order (a gift card, store credit, points)."""

    __tablename__ = "orders_tender"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.String(64))
    code: Mapped[str | None] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    order: Mapped[Order] = relationship(back_populates="tenders")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount",
                           name="refunded_within_amount"),
    )

    @property
    def money(self):
        return Money(self.amount, self.order.currency)


class StatusChange(Base):
    """The history: every status an order had, when, who moved it and why."""

    __tablename__ = "orders_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    actor: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint(_in("actor", ACTORS), name="actor"),)


class Payment(Base):
    """A payment through a provider for an order's amount due."""

    __tablename__ = "orders_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    provider: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # the provider's id of the payment (a Stripe PaymentIntent id), to find it again
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    # what the storefront needs to complete the payment (a Stripe client secret)
    client_secret: Mapped[str | None] = mapped_column(sa.String(500))
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(back_populates="payments")

    __table_args__ = (
        sa.UniqueConstraint("provider", "reference"),
        sa.CheckConstraint(_in("status", PAYMENT_STATUSES), name="status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount",
                           name="refunded_within_amount"),
    )


class Refund(Base):
    """Money given back: to the tenders listed in ``tenders`` first, and
    ``provider_amount`` (the rest) through the payment provider."""

    __tablename__ = "orders_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    provider_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    provider: Mapped[str | None] = mapped_column(sa.String(40))
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="refunds")
    tenders: Mapped[list["RefundTender"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RefundTender.id")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("provider_amount >= 0 AND provider_amount <= amount",
                           name="provider_within_amount"),
    )

    @property
    def money(self):
        return Money(self.amount, self.order.currency)


class RefundTender(Base):
    """The part of a refund that goes back to one tender (a gift card is credited)."""

    __tablename__ = "orders_refund_tender"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_refund.id", ondelete="CASCADE"),
                                           index=True)
    tender_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_tender.id", ondelete="CASCADE"),
                                           index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)

    tender: Mapped[Tender] = relationship()

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    @property
    def money(self):
        return Money(self.amount, self.tender.order.currency)


class Shipment(Base):
    __tablename__ = "orders_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    carrier: Mapped[str] = mapped_column(sa.String(100), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(100), default="")
    tracking_url: Mapped[str | None] = mapped_column(sa.String(1000))  # in the shipped mail
    shipped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Note(Base):
    """A staff note on an order (never shown to the customer)."""

    __tablename__ = "orders_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` a customer placed an order with.

    Inserted with the order, in its transaction. A second request with the key waits
    on the customer's cart (locked by the first, ``services.buyer``) until the first
    commits (then finds the key and its order) or rolls back (then goes ahead itself);
    the unique index refuses the key twice in any case.
    """

    __tablename__ = "orders_idempotency"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("core_user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    # SHA-256 of the request body: the same key with another body is refused
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # set on a new key, so that it is inserted in the flush that inserts its order
    order: Mapped[Order | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
