from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from salescast.api.app import create_app
from salescast.ingest.store import SalesStore
from salescast.settings import Settings


@pytest.fixture
def store(database_url):
    """A migrated, empty store on each backend."""
    store = SalesStore(database_url)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def make_client(database_url):
    """Started API clients on each backend, with settings overrides; all closed after the test."""
    clients = []

    def make(**settings) -> TestClient:
        client = TestClient(create_app(Settings(database_url=database_url, **settings)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
