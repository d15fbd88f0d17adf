"""kernel: plugin state, users

Revision ID: 0001_kernel
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_kernel"
down_revision = None
branch_labels = ("kernel",)
depends_on = None


def upgrade():
    op.create_table(
        "core_plugin",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("installed_version", sa.String(64), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("installed_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('available', 'enabled', 'disabled')",
                           name=op.f("ck_core_plugin_state")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_core_plugin")),
    )
    op.create_table(
        "core_plugin_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_plugin_revision")),
    )
    op.execute("INSERT INTO core_plugin_revision (id, revision) VALUES (1, 0)")
    op.create_table(
        "core_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_user")),
        sa.UniqueConstraint("email", name=op.f("uq_core_user_email")),
    )


def downgrade():
    op.drop_table("core_user")
    op.drop_table("core_plugin_revision")
    op.drop_table("core_plugin")
