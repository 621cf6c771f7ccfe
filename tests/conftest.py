"""Fixtures shared by every test: databases on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

POSTGRES_URL_VARIABLE = "SALESCAST_TEST_POSTGRES_URL"


def postgres_base_url() -> str:
    """The PostgreSQL URL for tests, or a skip (a failure in CI, where it must run) with the reason."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    required = os.environ.get("SALESCAST_REQUIRE_POSTGRES") == "1"
    if not url:
        message = f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}=postgresql+psycopg://user@host:port/db"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        message = f"PostgreSQL at {url} is not reachable: {error}"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on a fresh, private PostgreSQL schema, dropped after the test."""
    from tests.server_support import private_postgres_url

    with private_postgres_url(postgres_base_url()) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sales.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch):
    """Each test starts from default settings, whatever the developer's shell exports."""
    from salescast.settings import get_settings

    for name in list(os.environ):
        if name.startswith("SALESCAST_") and not name.startswith(("SALESCAST_TEST_", "SALESCAST_REQUIRE_")):
            monkeypatch.delenv(name)
    # Starlette's TestClient sends `Host: testserver`; the API answers only to the hosts it is told about.
    monkeypatch.setenv("SALESCAST_ALLOWED_HOSTS", "testserver")
    get_settings.cache_clear()
    # Rich reads COLUMNS on every print: wide enough that no message wraps inside a temporary path.
    monkeypatch.setenv("COLUMNS", "240")
    # mlflow.set_tracking_uri/set_registry_uri export these: without this, one test's store leaks into the next
    # (every API started later would watch that store for a champion).
    leaked = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved = {name: os.environ.pop(name) for name in leaked if name in os.environ}
    yield
    for name in leaked:
        os.environ.pop(name, None)
    os.environ.update(saved)
    get_settings.cache_clear()
