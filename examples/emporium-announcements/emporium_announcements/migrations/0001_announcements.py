"""announcements: the announcement table

Revision ID: 0001_announcements
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_announcements"
down_revision = None
branch_labels = ("announcements",)
depends_on = "0001_kernel"


def upgrade():
    op.create_table(
        "announcements_announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at",
                           name=op.f("ck_announcements_announcement_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements_announcement")),
    )
    op.create_index(op.f("ix_announcements_announcement_starts_at"),
                    "announcements_announcement", ["starts_at"])


def downgrade():
    op.drop_index(op.f("ix_announcements_announcement_starts_at"),
                  table_name="announcements_announcement")
    op.drop_table("announcements_announcement")
