"""The plugin's one table; its name starts with the plugin's name."""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class PurchaseLimit(Base):
    """At most ``max_quantity`` units of the product in one order."""

    __tablename__ = "purchase_limits_product"

    # a plugin never alters another plugin's table: it refers to it. Deleting the
    # product deletes its limit.
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("catalog_product.id", ondelete="CASCADE"), primary_key=True)
    max_quantity: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                    onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("max_quantity > 0", name="positive"),)
