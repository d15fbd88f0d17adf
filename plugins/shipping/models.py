"""The shipping tables: zones and the areas they serve, methods with their rate tiers,
carriers, and shipments with the units of order lines each carried.

Money is integer minor units in the method's ``currency``; weights are grams.
Class names carry the plugin's name because every plugin's models share one
declarative registry, where the orders plugin already maps a ``Shipment``.
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

import core.security  # noqa: F401  (core_user, which a shipment refers to)
import plugins.orders.models  # noqa: F401  (orders_order and orders_line, which shipments refer to)
from core.db import Base, UTCDateTime, utcnow

FLAT, WEIGHT, VALUE, FREE = "flat", "weight", "value", "free"
KINDS = (FLAT, WEIGHT, VALUE, FREE)
# an area of this country is the rest of the world: any country no other zone names
ANYWHERE = "*"


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ShippingZone(Base):
    """Where a set of methods delivers: countries, or regions of them."""

    __tablename__ = "shipping_zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    areas: Mapped[list["ShippingArea"]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", passive_deletes=True,
        order_by="[ShippingArea.country, ShippingArea.region]")
    methods: Mapped[list["ShippingMethod"]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", passive_deletes=True,
        order_by="[ShippingMethod.position, ShippingMethod.id]")


class ShippingArea(Base):
    """A country (``region`` empty), a region of one (matched against the address's
    ``state``), or the rest of the world (``country`` ``*``). An area belongs to one
    zone only, so every address has one zone: the most specific match."""

    __tablename__ = "shipping_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shipping_zone.id", ondelete="CASCADE"), index=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str] = mapped_column(sa.String(100), default="")

    zone: Mapped[ShippingZone] = relationship(back_populates="areas")

    __table_args__ = (sa.UniqueConstraint("country", "region"),)


class ShippingMethod(Base):
    """A way to ship to a zone, and its rate.

    ``kind``: ``flat`` (``price``), ``weight`` or ``value`` (``tiers`` over the total
    weight in grams or the order's value in minor units), ``free`` (offered only from
    ``free_over``). ``free_over`` on the other kinds makes them free from that order
    value; ``max_weight_grams`` stops offering the method above that weight.
    """

    __tablename__ = "shipping_method"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shipping_zone.id", ondelete="CASCADE"), index=True)
    # what a checkout's shipping_method names, and what an order keeps
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    currency: Mapped[str] = mapped_column(sa.String(3))
    price: Mapped[int | None] = mapped_column(sa.BigInteger)
    free_over: Mapped[int | None] = mapped_column(sa.BigInteger)
    max_weight_grams: Mapped[int | None] = mapped_column(sa.Integer)
    min_days: Mapped[int] = mapped_column(sa.Integer)
    max_days: Mapped[int] = mapped_column(sa.Integer)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    zone: Mapped[ShippingZone] = relationship(back_populates="methods")
    tiers: Mapped[list["ShippingRateTier"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="ShippingRateTier.threshold")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.CheckConstraint("kind != 'flat' OR price IS NOT NULL", name="flat_has_price"),
        sa.CheckConstraint("kind != 'free' OR free_over IS NOT NULL", name="free_has_threshold"),
        sa.CheckConstraint("price >= 0 AND free_over >= 0 AND max_weight_grams >= 0",
                           name="amounts_not_negative"),
        sa.CheckConstraint("min_days >= 0 AND max_days >= min_days", name="days"),
    )


class ShippingRateTier(Base):
    """From ``threshold`` (grams or minor units, inclusive) up to the next tier's, the
    method costs ``price``."""

    __tablename__ = "shipping_rate_tier"

    id: Mapped[int] = mapped_column(primary_key=True)
    method_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shipping_method.id", ondelete="CASCADE"))
    threshold: Mapped[int] = mapped_column(sa.BigInteger)
    price: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (
        sa.UniqueConstraint("method_id", "threshold"),
        sa.CheckConstraint("threshold >= 0 AND price >= 0", name="not_negative"),
    )


class ShippingCarrier(Base):
    """A carrier and the address of its tracking page, ``{tracking_number}`` in it."""

    __tablename__ = "shipping_carrier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    tracking_url: Mapped[str] = mapped_column(sa.String(500), default="")


class ShippingShipment(Base):
    """A parcel that left with some units of an order's lines."""

    __tablename__ = "shipping_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(sa.String(100), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(100), default="")
    # kept as it was when the parcel left: a carrier's template may change later
    tracking_url: Mapped[str | None] = mapped_column(sa.String(1000))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="SET NULL"))
    shipped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list["ShippingShipmentItem"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ShippingShipmentItem.id")


class ShippingShipmentItem(Base):
    """Units of one order line in a shipment."""

    __tablename__ = "shipping_shipment_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shipping_shipment.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders_line.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "order_line_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )
