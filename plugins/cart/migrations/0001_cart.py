"""cart: carts and their items

Revision ID: 0001_cart
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001_cart"
down_revision = None
branch_labels = ("cart",)
# cart_item refers to catalog_variant (and cart_cart to the kernel's core_user)
depends_on = "0001_catalog"

OPEN = "status = 'open'"


def upgrade():
    op.create_table(
        "cart_cart",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("ordered_at", core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'ordered')", name=op.f("ck_cart_cart_status")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_cart_cart_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_cart")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cart_cart_token_hash")),
    )
    op.create_index(op.f("ix_cart_cart_updated_at"), "cart_cart", ["updated_at"])
    # one open cart per customer
    op.create_index("ix_cart_cart_open_user", "cart_cart", ["user_id"], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))

    op.create_table(
        "cart_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_item_quantity_positive")),
        sa.ForeignKeyConstraint(["cart_id"], ["cart_cart.id"], ondelete="CASCADE",
                                name=op.f("fk_cart_item_cart_id_cart_cart")),
        sa.ForeignKeyConstraint(["variant_id"], ["catalog_variant.id"], ondelete="CASCADE",
                                name=op.f("fk_cart_item_variant_id_catalog_variant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_item")),
        sa.UniqueConstraint("cart_id", "variant_id", name=op.f("uq_cart_item_cart_id")),
    )
    op.create_index(op.f("ix_cart_item_variant_id"), "cart_item", ["variant_id"])


def downgrade():
    op.drop_table("cart_item")
    op.drop_table("cart_cart")
