"""catalog: categories, products, options, variants, stock and its ledger

Revision ID: 0001_catalog
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

import core.db

revision = "0001_catalog"
down_revision = None
branch_labels = ("catalog",)
depends_on = "0001_kernel"

LISTED = "is_active AND price_min IS NOT NULL"


def upgrade():
    op.create_table(
        "catalog_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["catalog_category.id"],
                                name=op.f("fk_catalog_category_parent_id_catalog_category")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_category")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_category_slug")),
    )
    op.create_index(op.f("ix_catalog_category_parent_id"), "catalog_category", ["parent_id"])

    op.create_table(
        "catalog_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("slug", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("brand", sa.String(200), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("price_min", sa.BigInteger(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("search_vector", TSVECTOR().with_variant(sa.Text(), "sqlite"), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["catalog_category.id"],
                                name=op.f("fk_catalog_product_category_id_catalog_category")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_product")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_product_slug")),
    )
    op.create_index(op.f("ix_catalog_product_brand"), "catalog_product", ["brand"])
    op.create_index(op.f("ix_catalog_product_category_id"), "catalog_product", ["category_id"])
    # the sorts of the public lists, partial on what the public lists show
    for name, columns in (("price", ["price_min", "id"]), ("name", ["name", "id"]),
                          ("newest", ["created_at", "id"])):
        op.create_index(f"ix_catalog_product_listed_{name}", "catalog_product", columns,
                        postgresql_where=sa.text(LISTED), sqlite_where=sa.text(LISTED))
    # full-text search: GIN on PostgreSQL, where a trigger parses search_text into
    # search_vector; SQLite searches search_text with LIKE and leaves the vector NULL
    op.create_index("ix_catalog_product_search", "catalog_product", ["search_vector"],
                    postgresql_using="gin")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER catalog_product_search_vector BEFORE INSERT OR UPDATE OF search_text "
            "ON catalog_product FOR EACH ROW EXECUTE FUNCTION "
            "tsvector_update_trigger(search_vector, 'pg_catalog.simple', search_text)")

    op.create_table(
        "catalog_product_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("alt", sa.String(300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["catalog_product.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_product_image_product_id_catalog_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_product_image")),
    )
    op.create_index("ix_catalog_product_image_product", "catalog_product_image",
                    ["product_id", "position"])

    op.create_table(
        "catalog_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["catalog_product.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_option_product_id_catalog_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_option")),
        sa.UniqueConstraint("product_id", "name", name=op.f("uq_catalog_option_product_id")),
    )
    op.create_index(op.f("ix_catalog_option_name"), "catalog_option", ["name"])

    op.create_table(
        "catalog_option_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["option_id"], ["catalog_option.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_option_value_option_id_catalog_option")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_option_value")),
        sa.UniqueConstraint("option_id", "value", name=op.f("uq_catalog_option_value_option_id")),
    )

    op.create_table(
        "catalog_variant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("compare_at_price", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_catalog_variant_price_not_negative")),
        sa.CheckConstraint("compare_at_price >= 0",
                           name=op.f("ck_catalog_variant_compare_at_price_not_negative")),
        sa.CheckConstraint("weight_grams >= 0",
                           name=op.f("ck_catalog_variant_weight_not_negative")),
        sa.ForeignKeyConstraint(["product_id"], ["catalog_product.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_variant_product_id_catalog_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_variant")),
        sa.UniqueConstraint("sku", name=op.f("uq_catalog_variant_sku")),
    )
    op.create_index("ix_catalog_variant_product_price", "catalog_variant", ["product_id", "price"])
    op.create_index("ix_catalog_variant_price", "catalog_variant", ["price", "product_id"])

    op.create_table(
        "catalog_variant_option",
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("value_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["value_id"], ["catalog_option_value.id"], ondelete="CASCADE",
            name=op.f("fk_catalog_variant_option_value_id_catalog_option_value")),
        sa.ForeignKeyConstraint(["variant_id"], ["catalog_variant.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_variant_option_variant_id_catalog_variant")),
        sa.PrimaryKeyConstraint("variant_id", "value_id", name=op.f("pk_catalog_variant_option")),
    )
    op.create_index(op.f("ix_catalog_variant_option_value_id"), "catalog_variant_option",
                    ["value_id"])

    op.create_table(
        "catalog_stock",
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_catalog_stock_on_hand_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_catalog_stock_reserved_not_negative")),
        sa.CheckConstraint("reserved <= on_hand",
                           name=op.f("ck_catalog_stock_reserved_within_on_hand")),
        sa.ForeignKeyConstraint(["variant_id"], ["catalog_variant.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_stock_variant_id_catalog_variant")),
        sa.PrimaryKeyConstraint("variant_id", name=op.f("pk_catalog_stock")),
    )

    op.create_table(
        "catalog_stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("on_hand_change", sa.Integer(), nullable=False),
        sa.Column("reserved_change", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("reserved_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('initial', 'adjustment', 'import', 'reserve', 'release', 'commit', "
            "'restock')", name=op.f("ck_catalog_stock_movement_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_catalog_stock_movement_user_id_core_user")),
        sa.ForeignKeyConstraint(["variant_id"], ["catalog_variant.id"], ondelete="SET NULL",
                                name=op.f("fk_catalog_stock_movement_variant_id_catalog_variant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_stock_movement")),
    )
    op.create_index(op.f("ix_catalog_stock_movement_reference"), "catalog_stock_movement",
                    ["reference"])
    op.create_index("ix_catalog_stock_movement_variant", "catalog_stock_movement",
                    ["variant_id", "id"])


def downgrade():
    op.drop_table("catalog_stock_movement")
    op.drop_table("catalog_stock")
    op.drop_table("catalog_variant_option")
    op.drop_table("catalog_variant")
    op.drop_table("catalog_option_value")
    op.drop_table("catalog_option")
    op.drop_table("catalog_product_image")
    op.drop_table("catalog_product")
    op.drop_table("catalog_category")
