"""giftcards: cards (code digest, balance), their ledger, products sold as gift cards

Revision ID: 0001_giftcards
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_giftcards"
down_revision = None
branch_labels = ("giftcards",)
# cards and ledger rows refer to orders_order, _line, _tender and _refund_tender (and,
# through the orders' branch, to catalog_product and core_user)
depends_on = "0001_orders"


def _fk(table, column, referred, ondelete):
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], ondelete=ondelete,
        name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade():
    op.create_table(
        "giftcards_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("initial_balance", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recipient_email", sa.String(254), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("voided_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        _fk("giftcards_card", "order_id", "orders_order", "SET NULL"),
        _fk("giftcards_card", "order_line_id", "orders_line", "SET NULL"),
        _fk("giftcards_card", "issued_by", "core_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giftcards_card")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_giftcards_card_code_hash")),
        sa.CheckConstraint("initial_balance > 0",
                           name=op.f("ck_giftcards_card_initial_balance_positive")),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_giftcards_card_balance_not_negative")),
        sa.CheckConstraint("length(last4) = 4", name=op.f("ck_giftcards_card_last4_length")),
    )
    for column in ("last4", "order_id", "order_line_id"):
        op.create_index(op.f(f"ix_giftcards_card_{column}"), "giftcards_card", [column])

    op.create_table(
        "giftcards_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("tender_id", sa.Integer(), nullable=True),
        sa.Column("refund_tender_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        _fk("giftcards_ledger", "card_id", "giftcards_card", "CASCADE"),
        _fk("giftcards_ledger", "order_id", "orders_order", "SET NULL"),
        _fk("giftcards_ledger", "tender_id", "orders_tender", "SET NULL"),
        _fk("giftcards_ledger", "refund_tender_id", "orders_refund_tender", "SET NULL"),
        _fk("giftcards_ledger", "user_id", "core_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giftcards_ledger")),
        sa.UniqueConstraint("refund_tender_id",
                            name=op.f("uq_giftcards_ledger_refund_tender_id")),
        sa.CheckConstraint("kind IN ('issue', 'redeem', 'refund', 'adjust', 'void')",
                           name=op.f("ck_giftcards_ledger_kind")),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_giftcards_ledger_amount_not_zero")),
        sa.CheckConstraint("balance_after >= 0",
                           name=op.f("ck_giftcards_ledger_balance_after_not_negative")),
    )
    for column in ("card_id", "order_id", "tender_id"):
        op.create_index(op.f(f"ix_giftcards_ledger_{column}"), "giftcards_ledger", [column])

    op.create_table(
        "giftcards_product",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        _fk("giftcards_product", "product_id", "catalog_product", "CASCADE"),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_giftcards_product")),
        sa.CheckConstraint("valid_days IS NULL OR valid_days >= 0",
                           name=op.f("ck_giftcards_product_valid_days")),
    )


def downgrade():
    op.drop_table("giftcards_product")
    op.drop_table("giftcards_ledger")
    op.drop_table("giftcards_card")
