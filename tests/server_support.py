"""A real ``salescast serve`` on a database of its own, for tests of what only a server shows
(sockets, the HTTP protocol, writer processes), on SQLite or on a private PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from salescast.bench.server_process import ServerProcess


@contextmanager
def private_postgres_url(base_url: str) -> Iterator[str]:
    """A URL of ``base_url``'s server on a fresh schema of its own, dropped on exit."""
    schema = f"salescast_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def private_database_url(backend: str, directory: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in ``directory`` or a private schema of the test PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'sales.db'}"
        return
    from tests.conftest import postgres_base_url

    with private_postgres_url(postgres_base_url()) as url:
        yield url


@contextmanager
def served_api(database_url: str, directory: Path, **environment: str) -> Iterator[ServerProcess]:
    """``salescast serve`` on ``database_url`` with ``SALESCAST_*`` overrides; no champion is served."""
    env = {
        "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{directory / 'mlflow.db'}",
        "SALESCAST_CHAMPION_POLL_SECONDS": "0",
        **environment,
    }
    server = ServerProcess(database_url, directory / "server.log", extra_env=env).start(timeout=120)
    try:
        yield server
    finally:
        server.stop()
