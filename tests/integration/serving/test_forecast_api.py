"""GET /forecast and the reload endpoint on a real MLflow store and a CSV pipeline source."""

from __future__ import annotations

import dataclasses

import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline
from tests.serving_support import wait_for_champion, wait_for_forecast_version

from salescast.api.app import create_app
from salescast.forecast.catalog import load_catalog
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "pipeline"


@pytest.fixture
def pipeline(tmp_path):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=4, first="2020-01", last="2022-12")
    return write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})


@pytest.fixture
def settings(mlflow_settings, pipeline):
    return mlflow_settings.model_copy(update={"pipeline_config": pipeline, "champion_poll_seconds": 0})


def test_without_champion_forecast_is_503_and_ingestion_still_works(settings):
    with TestClient(create_app(settings)) as client:
        wait = client.get("/health")
        assert wait.status_code == 200
        response = client.get("/forecast", params={"month": "2023-01"})
        assert response.status_code == 503
        assert "champion" in response.json()["detail"]
        posted = client.post("/post_sales", json=[{"year_week": 202301, "vegetable": "tomato", "sales": 3.0}])
        assert posted.status_code == 200 and posted.json()["inserted"] == 1
        reload = client.post("/admin/reload_model")
        assert reload.status_code == 503 and "salescast train" in reload.json()["detail"]
        assert client.get("/health").json()["champion"]["status"] == "unavailable"


@pytest.fixture
def champion_v1(settings, pipeline):
    return run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-10"))


def test_month_and_horizon_forecasts_of_the_champion(settings, pipeline, champion_v1):
    assert champion_v1.decision == "promoted"
    forecaster = mlflow.pyfunc.load_model(f"models:/{MODEL}/1").unwrap_python_model().forecaster
    catalog = load_catalog({"sales": str(pipeline.parent / "data" / "sales.csv")})
    with TestClient(create_app(settings)) as client:
        champion = wait_for_champion(client, "1")
        assert champion == {
            "status": "ok",
            "name": MODEL,
            "version": "1",
            "training_month": "2022-10",
            "train_months": ["2022-07", "2022-08", "2022-09"],
        }

        rows = client.get("/forecast", params={"month": "2023-01"}).json()
        expected = forecaster.predict(catalog, [parse_month("2023-01")], items=[1, 2, 3, 4])
        assert [row["item_id"] for row in rows] == [1, 2, 3, 4]
        assert {row["month"] for row in rows} == {"2023-01"} and {row["model_version"] for row in rows} == {"1"}
        assert [row["prediction"] for row in rows] == pytest.approx(expected["prediction"].tolist())

        one = client.get("/forecast/", params={"month": "2022-11", "item_id": "2"})
        assert one.status_code == 200
        [row] = one.json()
        past = forecaster.predict(catalog, [parse_month("2022-11")], items=[2])
        assert row["item_id"] == 2 and row["prediction"] == pytest.approx(past["prediction"].iloc[0])

        path = client.get("/forecast", params={"item_id": "3", "horizon": 3}).json()
        assert [row["month"] for row in path] == ["2023-01", "2023-02", "2023-03"]
        assert path[0]["prediction"] == pytest.approx(rows[2]["prediction"])
        # Step 2 reads step 1's prediction as January's sales.
        january = pd.DataFrame({"dates": [parse_month("2023-01")], "item_id": [3], "sales": [path[0]["prediction"]]})
        extended = dataclasses.replace(catalog, sales=pd.concat([catalog.sales, january], ignore_index=True))
        step2 = forecaster.predict(extended, [parse_month("2023-02")], items=[3])
        assert path[1]["prediction"] == pytest.approx(step2["prediction"].iloc[0])
        every = client.get("/forecast", params={"horizon": 2}).json()
        assert len(every) == 8 and every[2]["prediction"] == pytest.approx(path[0]["prediction"])

        # January's sales arrive in the CSV: the next request forecasts from them, no restart.
        sales = pipeline.parent / "data" / "sales.csv"
        frame = pd.read_csv(sales)
        january = frame[frame["dates"] == "2022-12-01"].assign(dates="2023-01-01")
        pd.concat([frame, january]).to_csv(sales, index=False)
        moved = client.get("/forecast", params={"item_id": "3", "horizon": 1}).json()
        assert [row["month"] for row in moved] == ["2023-02"]
        assert client.get("/forecast", params={"month": "2023-02"}).status_code == 200


BAD_REQUESTS = [
    ({"month": "2023-13"}, 422, "YYYY-MM"),
    ({"month": "january"}, 422, "YYYY-MM"),
    ({"month": "2023-05"}, 422, "horizon=5"),
    ({"month": "2020-01"}, 422, "data starts in 2020-01"),
    ({"month": "2023-01", "item_id": "99"}, 404, "unknown item_id '99'"),
    ({"item_id": "99", "horizon": 2}, 404, "unknown item_id"),
    ({"item_id": "1", "horizon": 0}, 422, "between 1 and 24"),
    ({"item_id": "1", "horizon": 25}, 422, "between 1 and 24"),
    ({"month": "2023-01", "horizon": 2}, 422, "either month"),
    ({}, 422, "either month"),
]


def test_bad_requests_get_4xx_with_a_message(settings, champion_v1):
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        for params, status, words in BAD_REQUESTS:
            response = client.get("/forecast", params=params)
            assert response.status_code == status, (params, response.text)
            assert words in response.json()["detail"], (params, response.text)


def test_a_new_champion_is_served_without_restart(settings, pipeline, champion_v1):
    second = run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-12"))
    assert second.version == "2"
    client_mlflow = store_client(settings)
    client_mlflow.set_registered_model_alias(MODEL, "champion", "1")  # whatever the rule said: v1 serves first
    admin = settings.model_copy(update={"admin_token": "s3cret"})
    with TestClient(create_app(admin)) as client:
        wait_for_champion(client, "1")
        assert client.get("/forecast", params={"month": "2023-01"}).json()[0]["model_version"] == "1"
        client_mlflow.set_registered_model_alias(MODEL, "champion", "2")
        assert client.post("/admin/reload_model").status_code == 401
        reloaded = client.post("/admin/reload_model/", headers={"Authorization": "Bearer s3cret"})
        assert reloaded.status_code == 200
        assert reloaded.json()["changed"] is True and reloaded.json()["champion"]["version"] == "2"
        assert {row["model_version"] for row in client.get("/forecast", params={"month": "2023-01"}).json()} == {"2"}
        assert client.get("/health").json()["champion"]["training_month"] == "2022-12"

    watched = settings.model_copy(update={"champion_poll_seconds": 0.2})
    with TestClient(create_app(watched)) as client:
        wait_for_champion(client, "2")
        client_mlflow.set_registered_model_alias(MODEL, "champion", "1")
        rows = wait_for_forecast_version(client, {"item_id": "1", "horizon": 2}, "1", timeout=30)
        assert len(rows) == 2
