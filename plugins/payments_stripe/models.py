"""The Stripe plugin's table: the webhook events it applied.

An event's id is inserted in the same transaction as its effect, under a unique
constraint: a redelivered event (Stripe retries for days, and may deliver one
event twice at the same moment) finds its id taken and changes nothing. The
payments themselves are the orders plugin's ``orders_payment`` rows (provider
``stripe``, reference: the PaymentIntent id).
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

# what applying an event did (services.apply_event)
OUTCOMES = (
    "paid", "already_paid", "late", "late_refunded", "amount_mismatch", "failed", "ignored",
    "refused", "unknown_payment", "refund_recorded", "refund_known", "refund_mismatch",
    "not_handled",
)


class WebhookEvent(Base):
    __tablename__ = "payments_stripe_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stripe's id (evt_...): the unique constraint is what applies an event once
    event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    # the PaymentIntent, charge or refund the event is about
    object_id: Mapped[str | None] = mapped_column(sa.String(255))
    order_number: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(32), default="not_handled")
    livemode: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # when Stripe created the event, and when it was applied here
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (
        sa.CheckConstraint("outcome IN (" + ", ".join(repr(o) for o in OUTCOMES) + ")",
                           name="outcome"),
    )
