from __future__ import annotations

import pytest

from salescast.ingest.store import SalesStore


@pytest.fixture
def store(database_url):
    """A migrated, empty store on each backend."""
    store = SalesStore(database_url)
    store.migrate()
    yield store
    store.dispose()
