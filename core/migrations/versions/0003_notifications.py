"""kernel: notifications (every message sent, and its state)

Revision ID: 0003_notifications
Revises: 0002_accounts
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0003_notifications"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "core_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'sent', 'failed')",
                           name=op.f("ck_core_notification_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_notification")),
    )
    op.create_index(op.f("ix_core_notification_state"), "core_notification", ["state"])


def downgrade():
    op.drop_table("core_notification")
