"""Shared pieces of the lifecycle tests: small monthly data, a fresh MLflow store per test, a pipeline.yaml."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from salescast.ingest.calendar import iso_weeks_in_year
from salescast.settings import Settings


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory) -> Path:
    """An MLflow SQLite store with its tables created once (creating them costs seconds; copying, nothing)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_settings(tmp_path, empty_mlflow_db) -> Settings:
    """Settings whose MLflow store is a private copy of the empty store under ``tmp_path/mlruns``.

    MLflow's process-wide tracking and registry URIs point at it too, so nothing a test does through
    the global API can reach another test's store.
    """
    import mlflow

    store = tmp_path / "mlruns" / "mlflow.db"
    store.parent.mkdir()
    shutil.copyfile(empty_mlflow_db, store)
    uri = f"sqlite:///{store}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return Settings(mlflow_tracking_uri=uri, database_url=f"sqlite:///{tmp_path / 'sales.db'}")


def store_client(settings: Settings):
    """An ``MlflowClient`` on the settings' store for both tracking and registry."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)


def write_monthly_sales(path: Path, *, items: int = 4, first: str = "2020-01", last: str = "2022-12", seed: int = 0):
    """Seasonal monthly sales with a trend and noise for ``items`` items; returns the frame written."""
    rng = np.random.default_rng(seed)
    months = pd.date_range(f"{first}-01", f"{last}-01", freq="MS")
    rows = []
    for item in range(1, items + 1):
        level = rng.uniform(50, 200)
        for index, month in enumerate(months):
            season = 1 + 0.3 * np.sin(2 * np.pi * month.month / 12 + item)
            sales = level * season * (1 + 0.01 * index) + rng.normal(0, 6)
            rows.append((month.strftime("%Y-%m-%d"), item, round(max(sales, 0.0), 3)))
    frame = pd.DataFrame(rows, columns=["dates", "item_id", "sales"])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def write_pipeline(path: Path, source: dict, **extra) -> Path:
    """A ``pipeline.yaml`` with ``source`` and any other top-level keys."""
    path.write_text(yaml.safe_dump({"source": source, **extra}, sort_keys=False))
    return path


VEGETABLES = {"Tomate": 70.0, "zanahorias": 30.0, "leek": 12.0}  # French, Spanish, English names


def weekly_rows(first_year: int = 2021, last_year: int = 2022) -> list[dict]:
    """Seasonal weekly sales of three vegetables named in French, Spanish and English, every ISO week."""
    rows = []
    for year in range(first_year, last_year + 1):
        for week in range(1, iso_weeks_in_year(year) + 1):
            for index, (name, level) in enumerate(VEGETABLES.items()):
                season = 1 + 0.4 * math.sin(2 * math.pi * week / 52 + index)
                rows.append({"year_week": year * 100 + week, "vegetable": name, "sales": round(level * season, 2)})
    return rows


def fill_database(database_url: str, rows: list[dict] | None = None) -> None:
    """Store ``rows`` (default :func:`weekly_rows`) through the ingestion service, as ``/post_sales`` would."""
    from salescast.ingest.service import IngestService
    from salescast.ingest.store import SalesStore

    store = SalesStore(database_url)
    store.migrate()
    service = IngestService(store)
    try:
        result = service.post_sales(weekly_rows() if rows is None else rows)
        assert result.rejected == 0, result.errors
    finally:
        service.close()
