"""The cart's tables: carts and their items.

A cart holds no prices or names: those are read from the catalog at read time.
A guest cart is found by the SHA-256 hash of its token (the token itself is only
ever in the client's hands); a customer's by ``user_id``. The database keeps one
open cart per customer (a partial unique index) and one line per variant.
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

import core.security  # noqa: F401  (defines core_user, which a cart refers to)
import plugins.catalog.models  # noqa: F401  (defines catalog_variant, which an item refers to)
from core.db import Base, UTCDateTime, utcnow

OPEN, ORDERED = "open", "ordered"
STATUSES = (OPEN, ORDERED)
OPEN_SQL = "status = 'open'"


class Cart(Base):
    __tablename__ = "cart_cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for a guest cart
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="CASCADE"))
    # hex SHA-256 of a guest cart's token; NULL for customers' carts and closed carts
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # every write touches it: a guest cart expires a number of days after it, and the
    # clean-up job finds expired carts by it
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ordered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list["CartItem"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CartItem.id")

    __table_args__ = (
        # one open cart per customer, whatever two requests do at the same time
        sa.Index("ix_cart_cart_open_user", "user_id", unique=True,
                 postgresql_where=sa.text(OPEN_SQL), sqlite_where=sa.text(OPEN_SQL)),
        sa.CheckConstraint("status IN ('open', 'ordered')", name="status"),
    )

    @property
    def is_guest(self):
        return self.user_id is None


class CartItem(Base):
    """One variant in a cart, with how many units the shopper wants."""

    __tablename__ = "cart_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("cart_cart.id", ondelete="CASCADE"))
    # a variant the merchant deletes leaves every cart with it
    variant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_variant.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")

    __table_args__ = (
        # adding a variant twice adds to its line (an upsert on this constraint)
        sa.UniqueConstraint("cart_id", "variant_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )
