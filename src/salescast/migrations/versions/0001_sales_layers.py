"""Raw, weekly and monthly sales layers, vegetable statistics, week split and aliases.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raw_sales",
        sa.Column("year_week", sa.Integer, primary_key=True),
        sa.Column("vegetable", sa.String, primary_key=True),
        sa.Column("sales", sa.Double, nullable=False),
        sa.Column("name_key", sa.String, nullable=False),
        sa.Column("canonical", sa.String, nullable=True),
    )
    op.create_index("ix_raw_sales_canonical_week", "raw_sales", ["canonical", "year_week"])
    op.create_index("ix_raw_sales_name_key", "raw_sales", ["name_key"])
    op.create_table(
        "weekly_sales",
        sa.Column("year_week", sa.Integer, primary_key=True),
        sa.Column("vegetable", sa.String, primary_key=True),
        sa.Column("sales", sa.Double, nullable=False),
    )
    op.create_index("ix_weekly_sales_vegetable", "weekly_sales", ["vegetable"])
    op.create_table(
        "monthly_sales",
        sa.Column("year_month", sa.Integer, primary_key=True),
        sa.Column("vegetable", sa.String, primary_key=True),
        sa.Column("sales", sa.Double, nullable=False),
    )
    op.create_table(
        "vegetable_stats",
        sa.Column("vegetable", sa.String, primary_key=True),
        sa.Column("weeks", sa.Integer, nullable=False),
        sa.Column("mean", sa.Double, nullable=False),
        sa.Column("variance", sa.Double, nullable=True),
    )
    op.create_table(
        "week_month_split",
        sa.Column("year_week", sa.Integer, primary_key=True),
        sa.Column("year_month", sa.Integer, primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
    )
    op.create_table(
        "vegetable_aliases",
        sa.Column("alias", sa.String, primary_key=True),
        sa.Column("vegetable", sa.String, nullable=False),
    )


def downgrade() -> None:
    for table in ("vegetable_aliases", "week_month_split", "vegetable_stats", "monthly_sales", "weekly_sales"):
        op.drop_table(table)
    op.drop_index("ix_raw_sales_name_key", "raw_sales")
    op.drop_index("ix_raw_sales_canonical_week", "raw_sales")
    op.drop_table("raw_sales")
