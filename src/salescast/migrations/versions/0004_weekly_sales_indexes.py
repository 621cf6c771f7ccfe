"""Indexes that let a write re-judge outlier flags without scanning a vegetable's whole history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

``(vegetable, sales)`` finds the weeks beyond a vegetable's outlier band with a range scan (and covers
the statistics query); the partial index on flagged weeks finds the few that may have to be cleared.
It replaces the index on ``vegetable`` alone, which ``(vegetable, sales)`` serves as well.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_weekly_sales_vegetable_sales", "weekly_sales", ["vegetable", "sales"])
    op.create_index(
        "ix_weekly_sales_outliers",
        "weekly_sales",
        ["vegetable"],
        sqlite_where=sa.text("is_outlier"),
        postgresql_where=sa.text("is_outlier"),
    )
    op.drop_index("ix_weekly_sales_vegetable", "weekly_sales")


def downgrade() -> None:
    op.create_index("ix_weekly_sales_vegetable", "weekly_sales", ["vegetable"])
    op.drop_index("ix_weekly_sales_outliers", "weekly_sales")
    op.drop_index("ix_weekly_sales_vegetable_sales", "weekly_sales")
