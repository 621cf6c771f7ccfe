"""``salescast train`` and ``backtest`` on Spark: the pandas job's scores, decision and registered forecaster."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline
from typer.testing import CliRunner

from salescast.cli import app
from salescast.forecast.catalog import catalog_from_frames
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config
from salescast.serving.batch import batch_forecast
from salescast.settings import Settings

__all__ = ["empty_mlflow_db", "mlflow_settings"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


def _store(tmp_path, empty_mlflow_db, name: str) -> Settings:
    import mlflow

    path = tmp_path / name / "mlflow.db"
    path.parent.mkdir()
    shutil.copyfile(empty_mlflow_db, path)
    mlflow.set_tracking_uri(f"sqlite:///{path}")
    mlflow.set_registry_uri(f"sqlite:///{path}")
    return Settings(mlflow_tracking_uri=f"sqlite:///{path}", database_url=f"sqlite:///{tmp_path / 'sales.db'}")


def _registered(settings: Settings, version: str):
    import mlflow

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return mlflow.pyfunc.load_model(f"models:/pipeline/{version}").unwrap_python_model().forecaster


def _same_scores(pandas_result, spark_result) -> None:
    assert spark_result.metrics == pytest.approx(pandas_result.metrics, rel=1e-6)
    for name, scores in pandas_result.baselines.items():
        assert spark_result.baselines[name] == pytest.approx(scores, rel=1e-6)
    assert (spark_result.champion_metrics is None) == (pandas_result.champion_metrics is None)
    if pandas_result.champion_metrics:
        assert spark_result.champion_metrics == pytest.approx(pandas_result.champion_metrics, rel=1e-6)
    assert spark_result.decision == pandas_result.decision
    assert spark_result.reason == pandas_result.reason
    scored = spark_result.scored.sort_values("item_id", ignore_index=True)
    expected = pandas_result.scored.sort_values("item_id", ignore_index=True)
    assert list(scored.columns) == list(expected.columns)
    np.testing.assert_allclose(scored["prediction"], expected["prediction"], rtol=1e-6)


@pytest.mark.parametrize(("model", "months"), [("Ridge", ["2022-10", "2022-11"]), ("AutoETS", ["2022-11"])])
def test_the_spark_job_scores_decides_and_registers_what_the_pandas_job_does(
    spark, tmp_path, empty_mlflow_db, model, months
):
    sales = write_monthly_sales(tmp_path / "data" / "sales.csv", items=6, first="2020-01", last="2022-12")
    pipeline = load_pipeline_config(
        write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, model=model)
    )
    on = {"pandas": _store(tmp_path, empty_mlflow_db, "pandas"), "spark": _store(tmp_path, empty_mlflow_db, "spark")}
    results = {engine: [] for engine in on}
    for month in months:
        for engine, settings in on.items():
            results[engine].append(run_training_job(pipeline, settings, test_month=parse_month(month), engine=engine))
    for pandas_result, spark_result in zip(results["pandas"], results["spark"], strict=True):
        _same_scores(pandas_result, spark_result)
        assert spark_result.version == pandas_result.version

    # The registered forecaster serves the pandas one's numbers (serving predicts with pandas, item by item).
    catalog = catalog_from_frames(sales.assign(dates=pd.to_datetime(sales["dates"])))
    version = results["spark"][-1].version
    spark_model, pandas_model = _registered(on["spark"], version), _registered(on["pandas"], version)
    served = spark_model.predict(catalog, [pd.Timestamp("2022-12-01")])
    expected = pandas_model.predict(catalog, [pd.Timestamp("2022-12-01")])
    np.testing.assert_allclose(served["prediction"], expected["prediction"], rtol=1e-6)
    # The interval calibration is computed per group (a pooled model's copy fitted on the driver): the same one.
    assert spark_model.calibration_.describe() == pandas_model.calibration_.describe()
    levels = (80.0, 95.0)
    served = spark_model.predict(catalog, [pd.Timestamp("2022-12-01")], levels=levels)
    expected = pandas_model.predict(catalog, [pd.Timestamp("2022-12-01")], levels=levels)
    for column in ("lo_80", "hi_80", "lo_95", "hi_95"):
        np.testing.assert_allclose(served[column], expected[column], rtol=1e-6)
    run = store_client(on["spark"]).get_run(results["spark"][-1].run_id)
    assert run.data.tags["engine"] == "spark" and run.data.params["model"] == model

    # Same data, same config: the Spark job's fingerprint finds its own version and trains nothing.
    again = run_training_job(pipeline, on["spark"], test_month=parse_month(months[-1]), engine="spark")
    assert again.reused and again.version == version


def test_train_and_backtest_commands_run_on_spark(spark, tmp_path, mlflow_settings):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=5, first="2020-01", last="2022-12")
    source = {"kind": "csv", "data": {"sales": "data/sales.csv"}}
    pipeline = write_pipeline(tmp_path / "pipeline.yaml", source, model="Ridge", engine="spark")
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--config", str(pipeline), "--test-month", "2022-12"], env=env)
    assert trained.exit_code == 0, trained.output
    assert "promoted" in trained.output
    run = store_client(mlflow_settings).search_runs(
        [store_client(mlflow_settings).get_experiment_by_name(mlflow_settings.mlflow_experiment).experiment_id]
    )[0]
    assert run.data.tags["engine"] == "spark"
    # The API's path serves the Spark-trained champion unchanged: GET /forecast?horizon=2 for every item.
    served = batch_forecast(mlflow_settings, load_pipeline_config(pipeline), 2).frame
    assert len(served) == 10 and set(served["model_version"]) == {"1"} and (served["prediction"] > 0).all()

    summaries = {}
    for engine in ("pandas", "spark"):
        args = ["backtest", "--config", str(pipeline), "--from", "2022-09", "--to", "2022-11", "--engine", engine]
        args += ["--store", str(tmp_path / f"scratch-{engine}"), "--report-dir", str(tmp_path / f"reports-{engine}")]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        summaries[engine] = json.loads((tmp_path / f"reports-{engine}" / "backtest_2022-09_2022-11.json").read_text())
    for pandas_month, spark_month in zip(summaries["pandas"], summaries["spark"], strict=True):
        assert spark_month["decision"] == pandas_month["decision"]
        for metric in ("rmse", "mae", "mase", "smape", "baseline_rmse", "champion_before_rmse"):
            if pandas_month[metric] is None:  # NaN in the JSON summary (no champion yet)
                assert spark_month[metric] is None
            else:
                assert spark_month[metric] == pytest.approx(pandas_month[metric], rel=1e-6)
