"""shipping: zones and areas, methods and rate tiers, carriers, shipments and their items

Revision ID: 0001_shipping
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_shipping"
down_revision = None
branch_labels = ("shipping",)
# shipments refer to orders_order and orders_line (and, through them, to the kernel)
depends_on = "0001_orders"

KINDS = ("flat", "weight", "value", "free")


def _check(table, name, condition):
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _pk(table):
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _id():
    return sa.Column("id", sa.Integer(), nullable=False)


def _time(name, nullable=False):
    return sa.Column(name, core.db.UTCDateTime(), nullable=nullable)


def _zone_id(table):
    return [
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["zone_id"], ["shipping_zone.id"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_zone_id_shipping_zone")),
    ]


def upgrade():
    table = "shipping_zone"
    op.create_table(
        table,
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _time("created_at"), _time("updated_at"),
        _pk(table),
    )

    table = "shipping_area"
    op.create_table(
        table,
        _id(),
        *_zone_id(table),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        _pk(table),
        # an area belongs to one zone: every address has one zone
        sa.UniqueConstraint("country", "region", name=op.f("uq_shipping_area_country")),
    )
    op.create_index(op.f("ix_shipping_area_zone_id"), table, ["zone_id"])

    table = "shipping_method"
    op.create_table(
        table,
        _id(),
        *_zone_id(table),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("free_over", sa.BigInteger(), nullable=True),
        sa.Column("max_weight_grams", sa.Integer(), nullable=True),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _time("created_at"), _time("updated_at"),
        _check(table, "kind", "kind IN ({})".format(", ".join(repr(k) for k in KINDS))),
        _check(table, "flat_has_price", "kind != 'flat' OR price IS NOT NULL"),
        _check(table, "free_has_threshold", "kind != 'free' OR free_over IS NOT NULL"),
        _check(table, "amounts_not_negative",
               "price >= 0 AND free_over >= 0 AND max_weight_grams >= 0"),
        _check(table, "days", "min_days >= 0 AND max_days >= min_days"),
        _pk(table),
        sa.UniqueConstraint("code", name=op.f("uq_shipping_method_code")),
    )
    op.create_index(op.f("ix_shipping_method_zone_id"), table, ["zone_id"])

    table = "shipping_rate_tier"
    op.create_table(
        table,
        _id(),
        sa.Column("method_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        _check(table, "not_negative", "threshold >= 0 AND price >= 0"),
        sa.ForeignKeyConstraint(["method_id"], ["shipping_method.id"], ondelete="CASCADE",
                                name=op.f("fk_shipping_rate_tier_method_id_shipping_method")),
        _pk(table),
        sa.UniqueConstraint("method_id", "threshold",
                            name=op.f("uq_shipping_rate_tier_method_id")),
    )

    table = "shipping_carrier"
    op.create_table(
        table,
        _id(),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("tracking_url", sa.String(500), nullable=False),
        _pk(table),
        sa.UniqueConstraint("code", name=op.f("uq_shipping_carrier_code")),
    )

    table = "shipping_shipment"
    op.create_table(
        table,
        _id(),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(100), nullable=False),
        sa.Column("tracking_number", sa.String(100), nullable=False),
        sa.Column("tracking_url", sa.String(1000), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        _time("shipped_at"), _time("delivered_at", nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders_order.id"], ondelete="CASCADE",
                                name=op.f("fk_shipping_shipment_order_id_orders_order")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_shipping_shipment_user_id_core_user")),
        _pk(table),
    )
    op.create_index(op.f("ix_shipping_shipment_order_id"), table, ["order_id"])

    table = "shipping_shipment_item"
    op.create_table(
        table,
        _id(),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _check(table, "quantity_positive", "quantity > 0"),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipping_shipment.id"], ondelete="CASCADE",
            name=op.f("fk_shipping_shipment_item_shipment_id_shipping_shipment")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["orders_line.id"], ondelete="CASCADE",
            name=op.f("fk_shipping_shipment_item_order_line_id_orders_line")),
        _pk(table),
        sa.UniqueConstraint("shipment_id", "order_line_id",
                            name=op.f("uq_shipping_shipment_item_shipment_id")),
    )
    op.create_index(op.f("ix_shipping_shipment_item_order_line_id"), table, ["order_line_id"])


def downgrade():
    for table in ("shipping_shipment_item", "shipping_shipment", "shipping_carrier",
                  "shipping_rate_tier", "shipping_method", "shipping_area", "shipping_zone"):
        op.drop_table(table)
