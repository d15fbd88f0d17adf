"""payments_stripe: the webhook events applied

Revision ID: 0001_payments_stripe
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_payments_stripe"
down_revision = None
branch_labels = ("payments_stripe",)
# events are about the orders plugin's payments (no foreign key: an event may name an
# order this shop does not have)
depends_on = "0001_orders"

OUTCOMES = (
    "paid", "already_paid", "late", "late_refunded", "amount_mismatch", "failed", "ignored",
    "refused", "unknown_payment", "refund_recorded", "refund_known", "refund_mismatch",
    "not_handled",
)
TABLE = "payments_stripe_event"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=True),
        sa.Column("order_number", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("received_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("outcome IN (" + ", ".join(repr(o) for o in OUTCOMES) + ")",
                           name=op.f(f"ck_{TABLE}_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("event_id", name=op.f(f"uq_{TABLE}_event_id")),
    )
    op.create_index(op.f(f"ix_{TABLE}_order_number"), TABLE, ["order_number"])
    op.create_index(op.f(f"ix_{TABLE}_received_at"), TABLE, ["received_at"])


def downgrade():
    op.drop_table(TABLE)
