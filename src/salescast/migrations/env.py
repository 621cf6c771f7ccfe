"""Alembic environment: runs on the connection the application hands over, or on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from salescast.ingest.store import metadata
from salescast.settings import get_settings

config = context.config


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    with create_engine(url).connect() as new_connection:
        run_migrations(new_connection)
        new_connection.commit()
