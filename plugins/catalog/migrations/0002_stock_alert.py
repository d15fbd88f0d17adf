"""catalog: the variants staff were told are low on stock

Revision ID: 0002_stock_alert
Revises: 0001_catalog
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = "0002_stock_alert"
down_revision = "0001_catalog"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "catalog_stock_alert",
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("alerted_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["variant_id"], ["catalog_variant.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_stock_alert_variant_id_catalog_variant")),
        sa.PrimaryKeyConstraint("variant_id", name=op.f("pk_catalog_stock_alert")),
    )


def downgrade():
    op.drop_table("catalog_stock_alert")
