"""Version stamps for the incremental read models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "ingest_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("layout_version", sa.BigInteger, nullable=False),
    )
    # Existing rows carry version 0; starting the counters at 1 makes every reader load them once.
    op.bulk_insert(state, [{"id": 1, "version": 1, "layout_version": 1}])
    for table in ("raw_sales", "monthly_sales"):
        op.add_column(table, sa.Column("version", sa.BigInteger, nullable=False, server_default="0"))
        op.create_index(f"ix_{table}_version", table, ["version"])


def downgrade() -> None:
    for table in ("monthly_sales", "raw_sales"):
        op.drop_index(f"ix_{table}_version", table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
    op.drop_table("ingest_state")
