"""kernel: accounts (refresh tokens, e-mail tokens, addresses, login attempts)

Revision ID: 0002_accounts
Revises: 0001_kernel
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0002_accounts"
down_revision = "0001_kernel"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("core_user", sa.Column("email_verified_at", core.db.UTCDateTime(),
                                         nullable=True))
    op.create_table(
        "core_refresh_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("rotated_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_refresh_token_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_core_refresh_token_token_hash")),
    )
    op.create_index(op.f("ix_core_refresh_token_user_id"), "core_refresh_token", ["user_id"])
    op.create_index(op.f("ix_core_refresh_token_family_id"), "core_refresh_token",
                    ["family_id"])

    op.create_table(
        "core_account_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("purpose IN ('password_reset', 'verify_email')",
                           name=op.f("ck_core_account_token_purpose")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_account_token_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_account_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_core_account_token_token_hash")),
    )
    op.create_index(op.f("ix_core_account_token_user_id"), "core_account_token", ["user_id"])

    op.create_table(
        "core_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("line1", sa.String(200), nullable=False),
        sa.Column("line2", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_address_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_address")),
    )
    op.create_index(op.f("ix_core_address_user_id"), "core_address", ["user_id"])
    op.create_index(op.f("uq_core_address_user_id_default"), "core_address", ["user_id"],
                    unique=True, sqlite_where=sa.text("is_default"),
                    postgresql_where=sa.text("is_default"))

    op.create_table(
        "core_login_attempt",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", core.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_core_login_attempt")),
    )
    op.create_index(op.f("ix_core_login_attempt_last_failure_at"), "core_login_attempt",
                    ["last_failure_at"])


def downgrade():
    op.drop_table("core_login_attempt")
    op.drop_table("core_address")
    op.drop_table("core_account_token")
    op.drop_table("core_refresh_token")
    with op.batch_alter_table("core_user") as batch:
        batch.drop_column("email_verified_at")
