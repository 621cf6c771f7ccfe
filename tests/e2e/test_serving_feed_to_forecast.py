"""The generated vegetable feed posted over HTTP → ``salescast train`` on the database source → the champion
answers /forecast → a newly promoted version answers without a restart (reload endpoint and watcher)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_pipeline
from tests.serving_support import wait_for_champion, wait_for_forecast_version
from typer.testing import CliRunner

from salescast.api.app import create_app
from salescast.cli import app
from salescast.ingest.csv_import import read_sales_csv
from salescast.ingest.generate import write_vegetable_csv
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "pipeline"


@pytest.mark.slow
def test_posted_feed_trains_a_champion_that_serves_and_is_replaced_without_restart(tmp_path, mlflow_settings):
    feed = tmp_path / "vegetables.csv"
    write_vegetable_csv(feed, seed=0)
    rows = read_sales_csv(feed)
    pipeline = write_pipeline(
        tmp_path / "pipeline.yaml",
        {"kind": "database", "database_url": mlflow_settings.database_url, "remove_outliers": True},
        lifecycle={"window": 12},
    )
    settings = mlflow_settings.model_copy(
        update={"pipeline_config": pipeline, "champion_poll_seconds": 0, "admin_token": "token"}
    )
    admin = {"Authorization": "Bearer token"}
    with TestClient(create_app(settings)) as client:
        for start in range(0, len(rows), 1000):
            assert client.post("/post_sales", json=rows[start : start + 1000]).status_code == 200
        assert client.get("/forecast", params={"month": "2024-01"}).status_code == 503  # no champion yet

        env = {"SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}
        trained = CliRunner().invoke(
            app, ["train", "--config", str(pipeline), "--test-month", "2022-06"], env=env, terminal_width=200
        )
        assert trained.exit_code == 0, trained.output
        assert "Version 1: promoted" in trained.output
        assert client.post("/admin/reload_model", headers=admin).json()["champion"]["version"] == "1"

        # 2023-W52 ends on Sunday 31 December 2023: the latest complete month, so forecasts start in January.
        january = client.get("/forecast", params={"month": "2024-01"}).json()
        assert len(january) == 16 and {row["model_version"] for row in january} == {"1"}
        assert {row["month"] for row in january} == {"2024-01"}
        tomato = client.get("/forecast", params={"item_id": "tomato", "horizon": 12}).json()
        assert [row["month"] for row in tomato][::11] == ["2024-01", "2024-12"]
        assert all(row["prediction"] >= 0 for row in tomato)
        peak = max(tomato, key=lambda row: row["prediction"])["month"]
        assert peak in {"2024-06", "2024-07", "2024-08"}  # the tomato season (peak week 30) survives recursion

        second = run_training_job(load_pipeline_config(pipeline), settings)  # the latest complete month, 2023-12
        assert second.version == "2" and second.job_plan.plan.test_month == parse_month("2023-12")
        # The rule keeps v1 here (Ridge trails it on 2023-12); an operator promotes v2 by moving the alias.
        store_client(settings).set_registered_model_alias(MODEL, "champion", "2")
        assert (
            client.get("/forecast", params={"month": "2024-01", "item_id": "potato"}).json()[0]["model_version"] == "1"
        )  # nothing changes until the reload
        reloaded = client.post("/admin/reload_model", headers=admin).json()
        assert reloaded["changed"] and reloaded["champion"]["training_month"] == "2023-12"
        assert (
            client.get("/forecast", params={"month": "2024-01", "item_id": "potato"}).json()[0]["model_version"] == "2"
        )

    watched = settings.model_copy(update={"champion_poll_seconds": 0.2})
    with TestClient(create_app(watched)) as client:
        wait_for_champion(client, "2")
        store_client(settings).set_registered_model_alias(MODEL, "champion", "1")
        wait_for_forecast_version(client, {"month": "2024-01", "item_id": "carrot"}, "1", timeout=30)
        assert client.get("/health").json()["champion"]["version"] == "1"
