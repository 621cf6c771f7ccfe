"""The Forecasts page's horizon is the API's: the same service, source and champion as GET /forecast."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.dashboard_support import shared_dashboard_data
from tests.serving_support import wait_for_champion

from salescast.api.app import create_app
from salescast.dashboard.forecast_data import forecasting_service, forecasting_source, horizon_frame
from salescast.lifecycle.sources import DatabaseSource


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return shared_dashboard_data(tmp_path_factory)


def test_the_source_is_chosen_as_salescast_monitor_does(data, tmp_path, monkeypatch):
    assert forecasting_source(data.settings) == DatabaseSource(None, True)  # the pipeline of the settings
    monkeypatch.chdir(tmp_path)
    assert forecasting_source(data.settings.model_copy(update={"pipeline_config": None})) == DatabaseSource()
    (tmp_path / "pipeline.yaml").write_text(data.pipeline.read_text())
    assert forecasting_source(data.settings.model_copy(update={"pipeline_config": None})) == DatabaseSource(None, True)


def test_horizon_equals_what_the_api_serves(data):
    service = forecasting_service(data.settings)
    try:
        service.champions.refresh()
        snapshot = service.data.snapshot()
        horizon = horizon_frame(service.horizon_forecast(None, 3))
    finally:
        service.data.close()
    assert snapshot.last_month == pd.Timestamp("2023-12-01")
    assert service.champions.champion.version == "1"
    assert sorted(horizon["dates"].dt.strftime("%Y-%m").unique()) == ["2024-01", "2024-02", "2024-03"]
    assert len(horizon) == 3 * 16

    settings = data.settings.model_copy(update={"champion_poll_seconds": 0})
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        served = client.get("/forecast", params={"horizon": 3})
    assert served.status_code == 200, served.text
    api = horizon_frame(served.json()).sort_values(["dates", "item_id"], ignore_index=True)
    ours = horizon.sort_values(["dates", "item_id"], ignore_index=True)
    assert api["item_id"].tolist() == ours["item_id"].tolist()
    assert api["prediction"].to_numpy() == pytest.approx(ours["prediction"].to_numpy())
