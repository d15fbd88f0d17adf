"""kernel: notifications: when the next attempt is due, and re-sends of stuck messages

Revision ID: 0004_notification_resends
Revises: 0003_notifications
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_notification_resends"
down_revision = "0003_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("core_notification", sa.Column("next_attempt_at", core.db.UTCDateTime(),
                                                 nullable=True))
    op.add_column("core_notification", sa.Column("resends", sa.Integer(),
                                                 server_default=sa.text("0"), nullable=False))
    # messages still queued were due when they were last touched
    op.execute("UPDATE core_notification SET next_attempt_at = updated_at "
               "WHERE state = 'queued'")


def downgrade():
    with op.batch_alter_table("core_notification") as batch:
        batch.drop_column("resends")
        batch.drop_column("next_attempt_at")
