"""catalog: price_max, and indexes that answer a filtered list from the index alone

Revision ID: 0003_list_indexes
Revises: 0002_stock_alert
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_list_indexes"
down_revision = "0002_stock_alert"
branch_labels = None
depends_on = None

LISTED = "is_active AND price_min IS NOT NULL"
SORTS = (("price", "price_min"), ("name", "name"), ("newest", "created_at"))
FILTER_COLUMNS = ["category_id", "price_max", "brand"]


def upgrade():
    op.add_column("catalog_product", sa.Column("price_max", sa.BigInteger(), nullable=True))
    op.execute("UPDATE catalog_product SET price_max = (SELECT max(price) FROM catalog_variant "
               "WHERE catalog_variant.product_id = catalog_product.id)")
    for sort, column in SORTS:
        op.drop_index(f"ix_catalog_product_listed_{sort}", table_name="catalog_product")
        op.create_index(f"ix_catalog_product_listed_{sort}", "catalog_product", [column, "id"],
                        postgresql_include=FILTER_COLUMNS,
                        postgresql_where=sa.text(LISTED), sqlite_where=sa.text(LISTED))
    op.create_index("ix_catalog_product_listed_category", "catalog_product",
                    ["category_id", "price_min", "price_max", "id"],
                    postgresql_include=["created_at", "brand"],
                    postgresql_where=sa.text(LISTED), sqlite_where=sa.text(LISTED))


def downgrade():
    op.drop_index("ix_catalog_product_listed_category", table_name="catalog_product")
    for sort, column in SORTS:
        op.drop_index(f"ix_catalog_product_listed_{sort}", table_name="catalog_product")
        op.create_index(f"ix_catalog_product_listed_{sort}", "catalog_product", [column, "id"],
                        postgresql_where=sa.text(LISTED), sqlite_where=sa.text(LISTED))
    with op.batch_alter_table("catalog_product") as batch:
        batch.drop_column("price_max")
