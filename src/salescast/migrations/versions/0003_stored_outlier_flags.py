"""Stored outlier flags and the monthly layer without outlier weeks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

The flags themselves are computed by the application when it starts (``SalesStore.migrate``): the
threshold is a setting, and an empty ``outlier_threshold`` makes the first start flag every week.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("weekly_sales", sa.Column("is_outlier", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("ingest_state", sa.Column("outlier_threshold", sa.Double, nullable=True))
    op.create_table(
        "regular_monthly_sales",
        sa.Column("year_month", sa.Integer, primary_key=True),
        sa.Column("vegetable", sa.String, primary_key=True),
        sa.Column("sales", sa.Double, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_regular_monthly_sales_version", "regular_monthly_sales", ["version"])


def downgrade() -> None:
    op.drop_index("ix_regular_monthly_sales_version", "regular_monthly_sales")
    op.drop_table("regular_monthly_sales")
    with op.batch_alter_table("ingest_state") as batch:
        batch.drop_column("outlier_threshold")
    with op.batch_alter_table("weekly_sales") as batch:
        batch.drop_column("is_outlier")
