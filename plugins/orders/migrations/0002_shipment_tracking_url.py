"""orders: the tracking page of a shipment, linked in the shipped mail

Revision ID: 0002_shipment_tracking_url
Revises: 0001_orders
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_shipment_tracking_url"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("orders_shipment", sa.Column("tracking_url", sa.String(1000), nullable=True))


def downgrade():
    with op.batch_alter_table("orders_shipment") as batch:
        batch.drop_column("tracking_url")
