"""orders: orders, lines, adjustments, tenders, history, payments, refunds, shipments,
notes, idempotency keys

Revision ID: 0001_orders
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_orders"
down_revision = None
branch_labels = ("orders",)
# orders refer to cart_cart (and, through the cart's branch, to catalog_variant)
depends_on = "0001_cart"

STATUSES = ("payment_pending", "processing", "shipped", "delivered", "cancelled", "failed",
            "returned", "refunded")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id():
    return sa.Column("id", sa.Integer(), nullable=False)


def _order_id(table):
    """The order_id column, its cascading foreign key and (unless said) its index."""
    return [
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders_order.id"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_order_id_orders_order")),
    ]


def _user_id(table, nullable=True, ondelete="SET NULL"):
    return [
        sa.Column("user_id", sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete=ondelete,
                                name=op.f(f"fk_{table}_user_id_core_user")),
    ]


def _check(table, name, condition):
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _pk(table):
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _index_order_id(table):
    op.create_index(op.f(f"ix_{table}_order_id"), table, ["order_id"])


def _money(name):
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _time(name, nullable=False):
    return sa.Column(name, core.db.UTCDateTime(), nullable=nullable)


def upgrade():
    table = "orders_order"
    op.create_table(
        table,
        _id(),
        sa.Column("number", sa.String(32), nullable=False),
        *_user_id(table),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("subtotal"), _money("discount_total"), _money("shipping_total"),
        _money("tax_total"), _money("total"), _money("tender_total"), _money("amount_due"),
        _money("paid_amount"), _money("refunded_amount"),
        sa.Column("shipping_method", sa.String(64), nullable=True),
        sa.Column("shipping_method_name", sa.String(200), nullable=True),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("billing_address", sa.JSON(), nullable=True),
        sa.Column("customer_note", sa.Text(), nullable=False),
        sa.Column("payment_provider", sa.String(40), nullable=True),
        _time("placed_at"), _time("paid_at", nullable=True), _time("updated_at"),
        _check(table, "status", _in("status", STATUSES)),
        _check(table, "amounts", "subtotal >= 0 AND discount_total >= 0 AND shipping_total >= 0 "
                                 "AND tax_total >= 0 AND tender_total >= 0"),
        _check(table, "discount_within_subtotal", "discount_total <= subtotal"),
        _check(table, "total_adds_up",
               "total = subtotal - discount_total + shipping_total + tax_total"),
        _check(table, "amount_due_adds_up",
               "amount_due = total - tender_total AND amount_due >= 0"),
        _check(table, "paid", "paid_amount >= 0 AND paid_amount <= total"),
        _check(table, "refunded_within_paid",
               "refunded_amount >= 0 AND refunded_amount <= paid_amount"),
        sa.ForeignKeyConstraint(["cart_id"], ["cart_cart.id"], ondelete="SET NULL",
                                name=op.f("fk_orders_order_cart_id_cart_cart")),
        _pk(table),
        sa.UniqueConstraint("number", name=op.f("uq_orders_order_number")),
    )
    op.create_index("ix_orders_order_user_placed", table, ["user_id", "placed_at"])
    op.create_index("ix_orders_order_status_placed", table, ["status", "placed_at"])
    op.create_index("ix_orders_order_placed_at", table, ["placed_at"])

    table = "orders_line"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("image_url", sa.String(2000), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _money("unit_price"), _money("total"), _money("discount_amount"), _money("tax_amount"),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        _check(table, "quantity_positive", "quantity > 0"),
        _check(table, "total_adds_up", "unit_price >= 0 AND total = unit_price * quantity"),
        _check(table, "discount_within_total",
               "discount_amount >= 0 AND discount_amount <= total"),
        _check(table, "tax_not_negative", "tax_amount >= 0"),
        _check(table, "refunded_within_quantity",
               "refunded_quantity >= 0 AND refunded_quantity <= quantity"),
        # no ON DELETE: the catalog refuses to delete a variant that was ordered
        sa.ForeignKeyConstraint(["variant_id"], ["catalog_variant.id"],
                                name=op.f("fk_orders_line_variant_id_catalog_variant")),
        _pk(table),
        sa.UniqueConstraint("order_id", "position", name=op.f("uq_orders_line_order_id")),
    )
    op.create_index(op.f("ix_orders_line_variant_id"), table, ["variant_id"])

    table = "orders_adjustment"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("code", sa.String(200), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        _money("amount"),
        sa.Column("rate", sa.String(32), nullable=True),
        _check(table, "kind", _in("kind", ("discount", "shipping", "tax"))),
        _check(table, "amount_not_negative", "amount >= 0"),
        _pk(table),
    )
    _index_order_id(table)

    table = "orders_tender"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("code", sa.String(200), nullable=True),
        _money("amount"), _money("refunded_amount"),
        _check(table, "amount_positive", "amount > 0"),
        _check(table, "refunded_within_amount",
               "refunded_amount >= 0 AND refunded_amount <= amount"),
        _pk(table),
    )
    _index_order_id(table)

    table = "orders_status_change"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        *_user_id(table),
        sa.Column("note", sa.Text(), nullable=False),
        _time("created_at"),
        _check(table, "actor", _in("actor", ("customer", "staff", "system", "payment"))),
        _pk(table),
    )
    _index_order_id(table)

    table = "orders_payment"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _money("amount"), _money("refunded_amount"),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("client_secret", sa.String(500), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=False),
        _time("created_at"), _time("updated_at"),
        _check(table, "status", _in("status", ("pending", "paid", "failed", "cancelled"))),
        _check(table, "amount_positive", "amount > 0"),
        _check(table, "refunded_within_amount",
               "refunded_amount >= 0 AND refunded_amount <= amount"),
        _pk(table),
        sa.UniqueConstraint("provider", "reference", name=op.f("uq_orders_payment_provider")),
    )
    _index_order_id(table)

    table = "orders_refund"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        _money("amount"), _money("provider_amount"),
        sa.Column("provider", sa.String(40), nullable=True),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        *_user_id(table),
        _time("created_at"),
        _check(table, "amount_positive", "amount > 0"),
        _check(table, "provider_within_amount",
               "provider_amount >= 0 AND provider_amount <= amount"),
        _pk(table),
    )
    _index_order_id(table)

    table = "orders_refund_tender"
    op.create_table(
        table,
        _id(),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        _money("amount"),
        _check(table, "amount_positive", "amount > 0"),
        sa.ForeignKeyConstraint(["refund_id"], ["orders_refund.id"], ondelete="CASCADE",
                                name=op.f("fk_orders_refund_tender_refund_id_orders_refund")),
        sa.ForeignKeyConstraint(["tender_id"], ["orders_tender.id"], ondelete="CASCADE",
                                name=op.f("fk_orders_refund_tender_tender_id_orders_tender")),
        _pk(table),
    )
    op.create_index(op.f("ix_orders_refund_tender_refund_id"), table, ["refund_id"])
    op.create_index(op.f("ix_orders_refund_tender_tender_id"), table, ["tender_id"])

    table = "orders_shipment"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        sa.Column("carrier", sa.String(100), nullable=False),
        sa.Column("tracking_number", sa.String(100), nullable=False),
        _time("shipped_at"), _time("delivered_at", nullable=True),
        _pk(table),
    )
    _index_order_id(table)

    table = "orders_note"
    op.create_table(
        table,
        _id(),
        *_order_id(table),
        *_user_id(table),
        sa.Column("body", sa.Text(), nullable=False),
        _time("created_at"),
        _pk(table),
    )
    _index_order_id(table)

    table = "orders_idempotency"
    op.create_table(
        table,
        _id(),
        *_user_id(table, nullable=False, ondelete="CASCADE"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        _time("created_at"),
        sa.ForeignKeyConstraint(["order_id"], ["orders_order.id"], ondelete="CASCADE",
                                name=op.f("fk_orders_idempotency_order_id_orders_order")),
        _pk(table),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_orders_idempotency_user_id")),
    )


def downgrade():
    for table in ("orders_idempotency", "orders_note", "orders_shipment",
                  "orders_refund_tender", "orders_refund", "orders_payment",
                  "orders_status_change", "orders_tender", "orders_adjustment", "orders_line",
                  "orders_order"):
        op.drop_table(table)
