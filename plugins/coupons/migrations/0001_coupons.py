"""coupons: coupons, their codes and scope, per-customer counts, uses

Revision ID: 0001_coupons
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_coupons"
down_revision = None
branch_labels = ("coupons",)
# uses refer to orders_order (and, through the orders' branch, to the catalog's tables)
depends_on = "0001_orders"

KINDS = ("percentage", "fixed_amount", "free_shipping")
SCOPES = ("all", "categories", "products")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _check(table, name, condition):
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def _int(name, nullable=False):
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _time(name, nullable=False):
    return sa.Column(name, core.db.UTCDateTime(), nullable=nullable)


def _index(table, *columns, name=None):
    op.create_index(name or op.f(f"ix_{table}_{columns[0]}"), table, list(columns))


def upgrade():
    table = "coupons_coupon"
    op.create_table(
        table,
        _int("id"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _int("percent_hundredths", nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("min_subtotal", sa.BigInteger(), nullable=True),
        _time("starts_at", nullable=True), _time("ends_at", nullable=True),
        _int("usage_limit", nullable=True), _int("times_used"),
        _int("per_customer_limit", nullable=True),
        sa.Column("applies_to", sa.String(16), nullable=False),
        sa.Column("combinable", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _time("created_at"), _time("updated_at"),
        _check(table, "kind", _in("kind", KINDS)),
        _check(table, "applies_to", _in("applies_to", SCOPES)),
        _check(table, "percent_in_range",
               "kind <> 'percentage' OR percent_hundredths BETWEEN 1 AND 10000"),
        _check(table, "amount_positive", "kind <> 'fixed_amount' OR amount > 0"),
        _check(table, "min_subtotal_not_negative", "min_subtotal IS NULL OR min_subtotal >= 0"),
        _check(table, "starts_before_it_ends",
               "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at"),
        _check(table, "usage_limit", "usage_limit IS NULL OR usage_limit >= 1"),
        _check(table, "per_customer_limit",
               "per_customer_limit IS NULL OR per_customer_limit >= 1"),
        _check(table, "used_within_limit",
               "times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )

    table = "coupons_code"
    op.create_table(
        table,
        _int("id"),
        _int("coupon_id"),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(32), nullable=True),
        _int("usage_limit", nullable=True), _int("times_used"),
        _time("created_at"),
        _check(table, "usage_limit", "usage_limit IS NULL OR usage_limit >= 1"),
        _check(table, "used_within_limit",
               "times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)"),
        _fk(table, "coupon_id", "coupons_coupon", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("code", name=op.f(f"uq_{table}_code")),
    )
    _index(table, "coupon_id", "batch", "id", name="ix_coupons_code_coupon_batch")

    for table, column, target in (("coupons_coupon_category", "category_id", "catalog_category"),
                                  ("coupons_coupon_product", "product_id", "catalog_product")):
        op.create_table(
            table,
            _int("coupon_id"),
            _int(column),
            _fk(table, "coupon_id", "coupons_coupon", ondelete="CASCADE"),
            # what the catalog deletes leaves the coupon's scope
            _fk(table, column, target, ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("coupon_id", column, name=op.f(f"pk_{table}")),
        )
        _index(table, column)

    table = "coupons_customer_use"
    op.create_table(
        table,
        _int("coupon_id"),
        _int("user_id"),
        _int("times_used"),
        _check(table, "times_used_not_negative", "times_used >= 0"),
        _fk(table, "coupon_id", "coupons_coupon", ondelete="CASCADE"),
        _fk(table, "user_id", "core_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("coupon_id", "user_id", name=op.f(f"pk_{table}")),
    )
    _index(table, "user_id")

    table = "coupons_redemption"
    op.create_table(
        table,
        _int("id"),
        _int("coupon_id"),
        _int("code_id"),
        _int("order_id"),
        _int("user_id", nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _time("created_at"), _time("released_at", nullable=True),
        _check(table, "amount_not_negative", "amount >= 0"),
        _fk(table, "coupon_id", "coupons_coupon"),
        _fk(table, "code_id", "coupons_code"),
        _fk(table, "order_id", "orders_order", ondelete="CASCADE"),
        # a deleted account leaves the use for the books
        _fk(table, "user_id", "core_user", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("order_id", "coupon_id", name=op.f(f"uq_{table}_order_id")),
    )
    for column in ("coupon_id", "code_id", "user_id"):
        _index(table, column)


def downgrade():
    for table in ("coupons_redemption", "coupons_customer_use", "coupons_coupon_product",
                  "coupons_coupon_category", "coupons_code", "coupons_coupon"):
        op.drop_table(table)
