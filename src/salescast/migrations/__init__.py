"""Alembic migrations of the sales database, applied on start so a schema change never loses data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).parent
# Serializes concurrent upgrades (several servers starting at once) on PostgreSQL.
POSTGRES_MIGRATION_LOCK = 0x5A1E5CA58


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration on ``engine`` in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(POSTGRES_MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
