"""The coupons' tables: coupons (the rules), their codes, their scope, every use.

A coupon holds the rules; a customer types one of its codes. A coupon has at most one
code staff chose (``batch`` NULL) and any number of generated ones (a campaign: one
``batch`` per generation run, usually single-use). Codes are stored upper-case and are
unique across all coupons, so a code names one coupon whatever its case.

Counters, each changed only under its row's lock (``redemptions.py``) and held by
CHECK constraints whatever code writes:

- ``Coupon.times_used``: uses counted against ``usage_limit``. It is kept while the
  coupon has a limit; setting a limit on a coupon without one counts its uses again
  (``services.update_coupon``), so a coupon without a limit never makes its orders
  wait for one another.
- ``Code.times_used``: uses of a code that has a limit of its own (a generated code,
  usually single-use); codes without one are not counted on their row.
- ``CustomerUse.times_used``: uses by one customer, against ``per_customer_limit``.

``Redemption`` is the ledger: one row per use, written in the order's transaction,
``released_at`` set when the order failed or was cancelled. What staff see (uses of a
coupon, of a code) is counted from it.
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

import plugins.catalog.models  # noqa: F401  (catalog_category, catalog_product: the scope)
import plugins.orders.models  # noqa: F401  (orders_order, which a use refers to)
from core.db import Base, UTCDateTime, utcnow
from core.money import Money

PERCENTAGE, FIXED_AMOUNT, FREE_SHIPPING = "percentage", "fixed_amount", "free_shipping"
KINDS = (PERCENTAGE, FIXED_AMOUNT, FREE_SHIPPING)
ALL, CATEGORIES, PRODUCTS = "all", "categories", "products"
SCOPES = (ALL, CATEGORIES, PRODUCTS)
# a percentage is kept in hundredths of a percent: 1250 is 12.5 %
PERCENT_SCALE = 100


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Coupon(Base):
    __tablename__ = "coupons_coupon"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    percent_hundredths: Mapped[int | None] = mapped_column(sa.Integer)
    # fixed_amount: minor units of ``currency``, as is min_subtotal
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    min_subtotal: Mapped[int | None] = mapped_column(sa.BigInteger)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    usage_limit: Mapped[int | None] = mapped_column(sa.Integer)
    times_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    per_customer_limit: Mapped[int | None] = mapped_column(sa.Integer)
    applies_to: Mapped[str] = mapped_column(sa.String(16), default=ALL)
    combinable: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    categories: Mapped[list["CouponCategory"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CouponCategory.category_id")
    products: Mapped[list["CouponProduct"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CouponProduct.product_id")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.CheckConstraint(_in("applies_to", SCOPES), name="applies_to"),
        sa.CheckConstraint(f"kind <> '{PERCENTAGE}' OR percent_hundredths BETWEEN 1 AND 10000",
                           name="percent_in_range"),
        sa.CheckConstraint(f"kind <> '{FIXED_AMOUNT}' OR amount > 0", name="amount_positive"),
        sa.CheckConstraint("min_subtotal IS NULL OR min_subtotal >= 0",
                           name="min_subtotal_not_negative"),
        sa.CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at",
                           name="starts_before_it_ends"),
        sa.CheckConstraint("usage_limit IS NULL OR usage_limit >= 1", name="usage_limit"),
        sa.CheckConstraint("per_customer_limit IS NULL OR per_customer_limit >= 1",
                           name="per_customer_limit"),
        # the invariant of the issue: never used past its limit
        sa.CheckConstraint("times_used >= 0 AND (usage_limit IS NULL OR "
                           "times_used <= usage_limit)", name="used_within_limit"),
    )

    def money(self, amount):
        return None if amount is None else Money(amount, self.currency)


class Code(Base):
    __tablename__ = "coupons_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(
        sa.ForeignKey("coupons_coupon.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # None for the code staff chose; the generation run for a campaign's codes
    batch: Mapped[str | None] = mapped_column(sa.String(32))
    usage_limit: Mapped[int | None] = mapped_column(sa.Integer)
    times_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    coupon: Mapped[Coupon] = relationship()

    __table_args__ = (
        # a coupon's codes, a batch's codes (the CSV export)
        sa.Index("ix_coupons_code_coupon_batch", "coupon_id", "batch", "id"),
        sa.CheckConstraint("usage_limit IS NULL OR usage_limit >= 1", name="usage_limit"),
        sa.CheckConstraint("times_used >= 0 AND (usage_limit IS NULL OR "
                           "times_used <= usage_limit)", name="used_within_limit"),
    )


class CouponCategory(Base):
    """A category a coupon applies to (with the categories below it)."""

    __tablename__ = "coupons_coupon_category"

    coupon_id: Mapped[int] = mapped_column(
        sa.ForeignKey("coupons_coupon.id", ondelete="CASCADE"), primary_key=True)
    # a category the catalog deletes leaves the coupon's scope
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_category.id", ondelete="CASCADE"), primary_key=True, index=True)


class CouponProduct(Base):
    """A product a coupon applies to (all its variants)."""

    __tablename__ = "coupons_coupon_product"

    coupon_id: Mapped[int] = mapped_column(
        sa.ForeignKey("coupons_coupon.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_product.id", ondelete="CASCADE"), primary_key=True, index=True)


class CustomerUse(Base):
    """How many times one customer used a coupon (orders not failed or cancelled)."""

    __tablename__ = "coupons_customer_use"

    coupon_id: Mapped[int] = mapped_column(
        sa.ForeignKey("coupons_coupon.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True, index=True)
    times_used: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.CheckConstraint("times_used >= 0", name="times_used_not_negative"),)


class Redemption(Base):
    """One use of a coupon by an order: what it took off, and whether it was given back."""

    __tablename__ = "coupons_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(sa.ForeignKey("coupons_coupon.id"), index=True)
    code_id: Mapped[int] = mapped_column(sa.ForeignKey("coupons_code.id"), index=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="CASCADE"))
    # SET NULL: a deleted account leaves the use for the books
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # a coupon is used once per order
        sa.UniqueConstraint("order_id", "coupon_id"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )
