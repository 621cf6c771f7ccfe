"""``salescast forecast``: every item's next months in a file, the same numbers as ``GET /forecast?horizon=H``."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline
from tests.serving_support import wait_for_champion
from typer.testing import CliRunner

from salescast.api.app import create_app
from salescast.cli import app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config
from salescast.serving.batch import batch_forecast

__all__ = ["empty_mlflow_db", "mlflow_settings"]


@pytest.fixture
def pipeline(tmp_path):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=4, first="2020-01", last="2022-12")
    return write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})


@pytest.fixture
def two_versions(pipeline, mlflow_settings):
    config = load_pipeline_config(pipeline)
    first = run_training_job(config, mlflow_settings, test_month=parse_month("2022-10"))
    second = run_training_job(config, mlflow_settings, test_month=parse_month("2022-12"))
    # Whatever the rule said, v1 is the champion: --model-version 2 then means something else.
    store_client(mlflow_settings).set_registered_model_alias("pipeline", "champion", first.version)
    return first, second


def forecast(settings, pipeline, *args):
    env = {"SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}
    return CliRunner().invoke(app, ["forecast", "--config", str(pipeline), *args], env=env)


def test_the_file_holds_the_api_s_numbers(tmp_path, pipeline, mlflow_settings, two_versions):
    out = tmp_path / "out" / "forecasts.csv"
    result = forecast(mlflow_settings, pipeline, "--horizon", "6", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "24 forecasts, 4 items, 2023-01 … 2023-06 (pipeline v1, data until 2022-12" in " ".join(
        result.output.split()
    )
    written = pd.read_csv(out)
    assert list(written.columns) == ["item_id", "month", "prediction", "model_version"]
    assert len(written) == 24 and set(written["model_version"]) == {1}

    settings = mlflow_settings.model_copy(update={"pipeline_config": pipeline, "champion_poll_seconds": 0})
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        api = pd.DataFrame(client.get("/forecast", params={"horizon": 6}).json())
    api = api.sort_values(["item_id", "month"], ignore_index=True)
    assert written[["item_id", "month"]].equals(api[["item_id", "month"]])
    assert written["prediction"].tolist() == pytest.approx(api["prediction"].tolist(), rel=1e-12)

    bounded = tmp_path / "bounded.csv"
    result = forecast(mlflow_settings, pipeline, "--horizon", "6", "--out", str(bounded), "--intervals", "80,95")
    assert result.exit_code == 0, result.output
    with_bounds = pd.read_csv(bounded)
    assert list(with_bounds.columns) == [
        "item_id", "month", "prediction", "lo_80", "hi_80", "lo_95", "hi_95", "model_version"
    ]  # fmt: skip
    assert with_bounds["prediction"].tolist() == pytest.approx(written["prediction"].tolist(), rel=1e-12)
    assert (with_bounds["lo_95"] <= with_bounds["lo_80"]).all() and (with_bounds["hi_80"] < with_bounds["hi_95"]).all()
    bad = forecast(mlflow_settings, pipeline, "--horizon", "6", "--out", str(bounded), "--intervals", "80,150")
    assert bad.exit_code != 0 and "--intervals" in bad.output and "between 0 and 100" in bad.output

    parquet = tmp_path / "forecasts.parquet"
    assert forecast(mlflow_settings, pipeline, "--horizon", "6", "--out", str(parquet)).exit_code == 0
    from_parquet = pd.read_parquet(parquet)
    assert from_parquet["month"].tolist() == written["month"].tolist()
    assert from_parquet["prediction"].tolist() == pytest.approx(written["prediction"].tolist(), rel=1e-12)


def test_a_chosen_version_and_an_earlier_start(tmp_path, pipeline, mlflow_settings, two_versions):
    out = tmp_path / "v2.csv"
    assert (
        forecast(mlflow_settings, pipeline, "--horizon", "2", "--out", str(out), "--model-version", "2").exit_code == 0
    )
    assert set(pd.read_csv(out)["model_version"]) == {2}

    config = load_pipeline_config(pipeline)
    earlier = batch_forecast(mlflow_settings, config, 3, from_month=parse_month("2022-11")).frame
    assert sorted(earlier["month"].unique()) == ["2022-11", "2022-12", "2023-01"]
    # As of the end of October: the first step is the champion's one-month-ahead forecast of November.
    settings = mlflow_settings.model_copy(update={"pipeline_config": pipeline, "champion_poll_seconds": 0})
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        november = client.get("/forecast", params={"month": "2022-11"}).json()
    first_step = earlier[earlier["month"] == "2022-11"].sort_values("item_id")["prediction"].tolist()
    assert first_step == pytest.approx([row["prediction"] for row in november], rel=1e-12)


def test_errors_say_what_to_do(tmp_path, pipeline, mlflow_settings):
    out = str(tmp_path / "f.csv")
    no_champion = forecast(mlflow_settings, pipeline, "--horizon", "2", "--out", out)
    assert no_champion.exit_code == 1 and "no champion model is being served" in " ".join(no_champion.output.split())
    assert forecast(mlflow_settings, pipeline, "--horizon", "2", "--out", str(tmp_path / "f.xlsx")).exit_code == 1
    run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-10"))
    too_far = forecast(mlflow_settings, pipeline, "--horizon", "30", "--out", out)
    assert too_far.exit_code == 1 and "horizon must be between 1 and 24" in too_far.output
    late = forecast(mlflow_settings, pipeline, "--horizon", "2", "--out", out, "--from-month", "2023-03")
    assert late.exit_code == 1 and "latest complete month" in " ".join(late.output.split())
    unknown = forecast(mlflow_settings, pipeline, "--horizon", "2", "--out", out, "--model-version", "7")
    assert unknown.exit_code == 1 and "has no version '7'" in unknown.output
