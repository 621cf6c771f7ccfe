"""The Forecasts page's data functions against the real champion pyfunc and the real database."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from tests.dashboard_support import shared_dashboard_data

from salescast.dashboard.forecast_data import forecast_horizon, load_training_history
from salescast.dashboard.model_data import connect, registry_overview
from salescast.lifecycle.tracking import TrackingStore


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return shared_dashboard_data(tmp_path_factory)


@pytest.fixture
def champion(data):
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    store = TrackingStore.from_settings(data.settings)
    client = connect(store)
    entry = registry_overview(client, store.model_name).champion
    source = client.get_run(entry.run_id).data.tags["source"]
    yield mlflow.pyfunc.load_model(f"models:/{store.model_name}/{entry.version}"), source
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


def test_training_history_reads_the_champions_source_again_complete_months_only(data, champion):
    _, source = champion
    assert source == "database: settings database_url (remove_outliers=True)"
    history = load_training_history(source, data.settings)
    assert history.last_month == pd.Timestamp("2023-12-01")
    assert history.sales["dates"].min() == pd.Timestamp("2020-01-01")  # December 2019 has 2 days of data
    assert history.sales["item_id"].nunique() == 16 and len(history.sales) == 16 * 48


def test_horizon_feeds_each_forecast_month_back_as_history(data, champion):
    model, source = champion
    history = load_training_history(source, data.settings).sales
    horizon = forecast_horizon(model, history, 3)

    assert horizon.groupby("step")["dates"].unique().map(lambda months: [str(m.date()) for m in months]).to_dict() == {
        1: ["2024-01-01"],
        2: ["2024-02-01"],
        3: ["2024-03-01"],
    }
    assert len(horizon) == 48 and (horizon["prediction"] >= 0).all()
    january = model.predict(history)  # the pyfunc's own default: the month after the history
    first = horizon[horizon["step"] == 1].reset_index(drop=True)
    assert first["prediction"].to_numpy() == pytest.approx(january["prediction"].to_numpy())
    fed = pd.concat([history, january.rename(columns={"prediction": "sales"})], ignore_index=True)
    february = model.predict(fed, params={"month": "2024-02"})
    second = horizon[horizon["step"] == 2].reset_index(drop=True)
    assert second["prediction"].to_numpy() == pytest.approx(february["prediction"].to_numpy())
    assert forecast_horizon(model, history, 0).empty
