"""``salescast forecast --engine spark``: the pandas batch forecast's rows, written by Spark as Parquet by month."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, write_monthly_sales, write_pipeline
from typer.testing import CliRunner

from salescast.cli import app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config
from salescast.serving.batch import batch_forecast

__all__ = ["empty_mlflow_db", "mlflow_settings"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


def test_spark_writes_the_pandas_batch_forecast_partitioned_by_month(spark, tmp_path, mlflow_settings):
    sales = write_monthly_sales(tmp_path / "data" / "sales.csv", items=6, first="2020-01", last="2022-12")
    # An item without a sale in the last 12 months is discontinued: neither engine forecasts it.
    old = sales[sales["item_id"] == sales["item_id"].iloc[0]].assign(item_id=9999)
    old = old[pd.to_datetime(old["dates"]) < "2021-06-01"]
    pd.concat([sales, old]).to_csv(tmp_path / "data" / "sales.csv", index=False)
    pipeline_path = write_pipeline(
        tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, model="Ridge"
    )
    pipeline = load_pipeline_config(pipeline_path)
    run_training_job(pipeline, mlflow_settings, test_month=parse_month("2022-12"))
    expected = batch_forecast(mlflow_settings, pipeline, 4).frame

    out = tmp_path / "out" / "forecasts.parquet"
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}
    args = ["forecast", "--config", str(pipeline_path), "--horizon", "4", "--out", str(out), "--engine", "spark"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "24 forecasts, 6 items, 2023-01 … 2023-04" in " ".join(result.output.split())
    assert sorted(path.name for path in out.iterdir() if path.is_dir()) == [
        "month=2023-01",
        "month=2023-02",
        "month=2023-03",
        "month=2023-04",
    ]
    written = pd.read_parquet(out)
    written["month"] = written["month"].astype(str)
    written = written[list(expected.columns)].sort_values(["item_id", "month"], ignore_index=True)
    assert written[["item_id", "month"]].equals(expected[["item_id", "month"]].astype({"item_id": "int64"}))
    assert written["prediction"].tolist() == pytest.approx(expected["prediction"].tolist(), rel=1e-9)
    assert set(written["model_version"]) == {"1"}

    # Run again: the dataset is replaced, not appended to (a failed nightly run is simply run again).
    assert CliRunner().invoke(app, args, env=env).exit_code == 0
    assert len(pd.read_parquet(out)) == 24

    # With intervals: the pandas batch forecast's bounds, from the champion's stored calibration.
    expected = batch_forecast(mlflow_settings, pipeline, 4, levels=(80.0, 95.0)).frame
    result = CliRunner().invoke(app, [*args, "--intervals", "80,95"], env=env)
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(out)
    written["month"] = written["month"].astype(str)
    assert list(written.columns) == [
        "item_id",
        "prediction",
        "lo_80",
        "hi_80",
        "lo_95",
        "hi_95",
        "model_version",
        "month",
    ]
    written = written[list(expected.columns)].sort_values(["item_id", "month"], ignore_index=True)
    for column in ("prediction", "lo_80", "hi_80", "lo_95", "hi_95"):
        assert written[column].tolist() == pytest.approx(expected[column].tolist(), rel=1e-9)
    assert (written["lo_95"] <= written["lo_80"]).all() and (written["hi_80"] <= written["hi_95"]).all()


def test_an_unknown_engine_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["train", "--engine", "dask"])
    assert result.exit_code == 1 and "--engine must be one of" in result.output
