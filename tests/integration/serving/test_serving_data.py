"""The catalog the API forecasts from: complete months only, rebuilt when (and only when) the data changes."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient
from tests.lifecycle_support import weekly_rows

from salescast.api.app import create_app
from salescast.ingest.service import IngestService
from salescast.ingest.store import open_store
from salescast.lifecycle.sources import DatabaseSource
from salescast.serving.data import ServingData, serving_source
from salescast.settings import Settings


def test_database_snapshot_keeps_complete_months_and_follows_new_data(sqlite_url):
    settings = Settings(database_url=sqlite_url, champion_poll_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert client.post("/post_sales", json=weekly_rows()).status_code == 200
    service = IngestService(open_store(settings))
    try:
        data = ServingData(settings, DatabaseSource(), store=service.store)
        first = data.snapshot()
        # 2022-W52 ends on Sunday 1 January 2023: January has one day of sales and is left out.
        assert first.last_month == pd.Timestamp("2022-12-01")
        assert first.catalog.sales["dates"].max() == pd.Timestamp("2022-12-01")
        assert sorted(first.catalog.items()) == ["carrot", "leek", "tomato"]
        assert data.snapshot() is first  # same data version: nothing reloaded

        assert service.post_sales([{"year_week": 202301, "vegetable": "leek", "sales": 5.0}]).inserted == 1
        second = data.snapshot()
        assert second is not first and second.version != first.version
        assert second.last_month == pd.Timestamp("2022-12-01")  # January is still incomplete
    finally:
        service.close()


def test_without_a_pipeline_config_the_api_forecasts_from_its_own_database_outliers_kept(sqlite_url, tmp_path):
    assert serving_source(Settings(database_url=sqlite_url)) == DatabaseSource(database_url=None, remove_outliers=False)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("source: {kind: database, remove_outliers: true}\n")
    assert serving_source(Settings(pipeline_config=pipeline)) == DatabaseSource(remove_outliers=True)
