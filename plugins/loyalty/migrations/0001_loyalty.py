"""loyalty: points accounts and their ledger

Revision ID: 0001_loyalty
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_loyalty"
down_revision = None
branch_labels = ("loyalty",)
# entries refer to orders_order (and, through the orders' branch, core_user)
depends_on = "0001_orders"

KINDS = ("earned", "redeemed", "returned", "reversed", "expired", "adjusted")


def _in(values):
    return f"({', '.join(repr(v) for v in values)})"


def upgrade():
    op.create_table(
        "loyalty_account",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("expiry_checked_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0",
                           name=op.f("ck_loyalty_account_balance_not_negative")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_loyalty_account_user_id_core_user")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_loyalty_account")),
    )
    op.create_index("ix_loyalty_account_balance", "loyalty_account", ["balance"])

    op.create_table(
        "loyalty_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(f"kind IN {_in(KINDS)}", name=op.f("ck_loyalty_entry_kind")),
        sa.CheckConstraint(
            "(kind IN ('earned', 'returned') AND points > 0) OR "
            "(kind IN ('redeemed', 'reversed', 'expired') AND points < 0) OR "
            "(kind = 'adjusted' AND points <> 0)", name=op.f("ck_loyalty_entry_points_sign")),
        sa.CheckConstraint("balance_after >= 0",
                           name=op.f("ck_loyalty_entry_balance_after_not_negative")),
        sa.CheckConstraint("kind <> 'adjusted' OR reason <> ''",
                           name=op.f("ck_loyalty_entry_adjusted_reason")),
        sa.ForeignKeyConstraint(["user_id"], ["loyalty_account.user_id"], ondelete="CASCADE",
                                name=op.f("fk_loyalty_entry_user_id_loyalty_account")),
        sa.ForeignKeyConstraint(["order_id"], ["orders_order.id"], ondelete="SET NULL",
                                name=op.f("fk_loyalty_entry_order_id_orders_order")),
        sa.ForeignKeyConstraint(["staff_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_loyalty_entry_staff_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entry")),
    )
    op.create_index(op.f("ix_loyalty_entry_order_id"), "loyalty_entry", ["order_id"])
    op.create_index("ix_loyalty_entry_user_id_id", "loyalty_entry", ["user_id", "id"])
    op.create_index("ix_loyalty_entry_user_id_expires_at", "loyalty_entry",
                    ["user_id", "expires_at"])


def downgrade():
    op.drop_table("loyalty_entry")
    op.drop_table("loyalty_account")
