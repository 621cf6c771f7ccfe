"""Serving reads one pipeline: names resolved like ingestion, partial months left out, a foreign champion refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.lifecycle_support import (
    empty_mlflow_db,
    fill_database,
    mlflow_settings,
    store_client,
    write_monthly_sales,
    write_pipeline,
)
from tests.serving_support import wait_for_champion

from salescast.api.app import create_app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.registry import ModelRegistry
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]


@pytest.fixture
def vegetables(tmp_path, mlflow_settings):
    """Weekly sales of 2021-W01 … 2022-W52 in the database, and the pipeline reading them."""
    fill_database(mlflow_settings.database_url)
    return write_pipeline(tmp_path / "vegetables.yaml", {"kind": "database"}, lifecycle={"window": 3})


def serving(settings, pipeline):
    return settings.model_copy(update={"pipeline_config": pipeline, "champion_poll_seconds": 0})


def test_a_champion_from_another_source_answers_503_with_the_reason_never_500(tmp_path, mlflow_settings, vegetables):
    # The README's two pipelines under one name by mistake: a CSV catalog of items 1-4, then the vegetables.
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=4)
    catalog = write_pipeline(tmp_path / "catalog.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, name="x")
    run_training_job(load_pipeline_config(catalog), mlflow_settings, test_month=parse_month("2022-10"))
    write_pipeline(vegetables, {"kind": "database"}, name="x")

    with TestClient(create_app(serving(mlflow_settings, vegetables))) as client:
        wait_for_champion(client, "1")
        for params in ({"item_id": "tomato", "horizon": 3}, {"month": "2022-12"}):
            response = client.get("/forecast", params=params)
            assert response.status_code == 503, response.text
            detail = response.json()["detail"]
            assert "was trained on csv" in detail and "sales.csv, 4 items" in detail and "database" in detail
        champion = client.get("/health").json()["champion"]
        assert champion["status"] == "source mismatch" and champion["version"] == "1"


def test_database_champion_names_partial_months_and_far_months(mlflow_settings, vegetables):
    run_training_job(load_pipeline_config(vegetables), mlflow_settings, test_month=parse_month("2022-10"))
    registry = ModelRegistry(store_client(mlflow_settings), "vegetables")
    if registry.version_by_alias("champion") is None:  # the seasonal toy data is SameMonthLastYearSales' own
        registry.promote("1", "serve it for this test", "tests@host")
    with TestClient(create_app(serving(mlflow_settings, vegetables))) as client:
        wait_for_champion(client, "1")
        # Names resolve as ingestion resolves them: the lexicon, then the operator's aliases.
        [tomato] = client.get("/forecast", params={"month": "2022-12", "item_id": "tomato"}).json()
        for name in ("Tomate", "tomates", " TOMATO "):
            [row] = client.get("/forecast", params={"month": "2022-12", "item_id": name}).json()
            assert row == tomato
        assert client.get("/forecast", params={"month": "2022-12", "item_id": "tomaat"}).status_code == 404
        alias = client.post("/vegetable_aliases", json={"alias": "tomaat", "vegetable": "tomato"})
        assert alias.status_code == 200, alias.text
        [row] = client.get("/forecast", params={"month": "2022-12", "item_id": "tomaat"}).json()
        assert row == tomato
        horizon = client.get("/forecast", params={"item_id": "Tomate", "horizon": 2}).json()
        assert [row["item_id"] for row in horizon] == ["tomato", "tomato"]

        # 2021-W01 starts on Monday 4 January: January 2021 is partial and never forecast from.
        first = client.get("/forecast", params={"month": "2021-02"})
        assert first.status_code == 422 and "the data starts in 2021-02" in first.json()["detail"]
        assert client.get("/forecast", params={"month": "2021-03"}).status_code == 200

        # Far ahead: no suggestion above the largest horizon (24).
        far = client.get("/forecast", params={"month": "2029-01"}).json()["detail"]
        assert "beyond the largest horizon (24 months" in far and "horizon=" not in far
        assert "the furthest month that can be forecast is 2024-12" in far
        near = client.get("/forecast", params={"month": "2023-05"}).json()["detail"]
        assert "horizon=5" in near


def test_a_discontinued_item_is_not_forecast_and_asking_for_it_says_why(tmp_path, mlflow_settings):
    frame = write_monthly_sales(tmp_path / "data" / "sales.csv", items=4)
    # Item 4's last sale is June 2021: more than 12 months before January 2023, the first month forecast.
    frame[(frame["item_id"] != 4) | (frame["dates"] <= "2021-06-01")].to_csv(
        tmp_path / "data" / "sales.csv", index=False
    )
    pipeline = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})
    run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-10"))
    registry = ModelRegistry(store_client(mlflow_settings), "pipeline")
    if registry.version_by_alias("champion") is None:
        registry.promote("1", "serve it for this test", "tests@host")
    with TestClient(create_app(serving(mlflow_settings, pipeline))) as client:
        wait_for_champion(client, "1")
        every = client.get("/forecast", params={"horizon": 2}).json()
        assert sorted({row["item_id"] for row in every}) == [1, 2, 3] and len(every) == 6
        assert sorted(row["item_id"] for row in client.get("/forecast", params={"month": "2023-01"}).json()) == [
            1,
            2,
            3,
        ]
        asked = client.get("/forecast", params={"item_id": "4", "horizon": 2})
        assert asked.status_code == 422
        assert "no sales in the 12 months before 2023-01 (its last sale is 2021-06)" in asked.json()["detail"]
        # Back when it still sold, it is forecast like any other item.
        assert 4 in {row["item_id"] for row in client.get("/forecast", params={"month": "2021-07"}).json()}
