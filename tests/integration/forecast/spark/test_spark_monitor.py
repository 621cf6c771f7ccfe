"""``salescast monitor`` with ``engine: spark``: the pandas report's numbers, computed by Spark aggregations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import ks_2samp
from tests.lifecycle_support import empty_mlflow_db, fill_database, mlflow_settings, write_pipeline
from tests.monitoring_support import monthly_sales_frame
from typer.testing import CliRunner

from salescast.cli import app
from salescast.monitoring.drift import ks_test_at_gap, population_stability_index
from salescast.monitoring.spark_drift import interpolated_edges, quantile_ranks

__all__ = ["empty_mlflow_db", "mlflow_settings"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

SOURCE = {"kind": "csv", "data": {"sales": "data/sales.csv"}}
PSI_TOLERANCE = 1e-9  # the edges and bin counts are the pandas path's: only the float sums' order differs


def _write(tmp_path, engine: str):
    extra = {"engine": engine} if engine == "spark" else {}
    write_pipeline(tmp_path / "pipeline.yaml", SOURCE, lifecycle={"window": 12}, **extra)


def _monitor(tmp_path, settings, engine: str) -> tuple[dict, str, int]:
    _write(tmp_path, engine)
    env = {
        "SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "SALESCAST_REPORTS_DIR": str(tmp_path / f"reports-{engine}"),
    }
    result = CliRunner().invoke(app, ["monitor", "--config", str(tmp_path / "pipeline.yaml")], env=env)
    assert result.exit_code in (0, 1), result.output
    folder = tmp_path / f"reports-{engine}" / "monitoring" / "2022-12"
    return json.loads((folder / "report.json").read_text()), (folder / "report.html").read_text(), result.exit_code


def _same_numbers(pandas_report: dict, spark_report: dict) -> None:
    assert set(spark_report) == set(pandas_report)
    for ours, theirs in zip(spark_report["data_drift"], pandas_report["data_drift"], strict=True):
        assert {key: ours[key] for key in ("name", "kind", "reference_rows", "current_rows", "drifted", "note")} == {
            key: theirs[key] for key in ("name", "kind", "reference_rows", "current_rows", "drifted", "note")
        }
        if theirs["psi"] is None:
            assert ours["psi"] is None
        else:
            assert ours["psi"] == pytest.approx(theirs["psi"], rel=PSI_TOLERANCE, abs=PSI_TOLERANCE)
        assert ours["ks_statistic"] == pytest.approx(theirs["ks_statistic"], rel=1e-12)
        assert ours["ks_pvalue"] == pytest.approx(theirs["ks_pvalue"], rel=1e-9, abs=1e-300)
    assert len(spark_report["performance"]) == len(pandas_report["performance"]) > 0
    for ours, theirs in zip(spark_report["performance"], pandas_report["performance"], strict=True):
        assert ours["month"] == theirs["month"] and ours["rows"] == theirs["rows"]
        for key in ("champion_rmse", "baseline_rmse", "champion_mae", "baseline_mae", "champion_mase", "baseline_mase"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-6), key
    ours, theirs = spark_report["performance_drift"], pandas_report["performance_drift"]
    assert ours == {
        **theirs,
        **{key: pytest.approx(theirs[key], rel=1e-9) for key in ("champion_mase", "baseline_mase")},
    }
    assert spark_report["interval_coverage"] == pandas_report["interval_coverage"]
    assert spark_report["drifted"] == pandas_report["drifted"]


def test_spark_monitor_reports_the_pandas_numbers_and_the_same_drift(spark, tmp_path, mlflow_settings):
    sales = tmp_path / "data" / "sales.csv"
    sales.parent.mkdir()
    monthly_sales_frame(items=40).to_csv(sales, index=False)
    _write(tmp_path, "pandas")
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}
    trained = CliRunner().invoke(
        app, ["train", "--config", str(tmp_path / "pipeline.yaml"), "--test-month", "2022-09"], env=env
    )
    assert trained.exit_code == 0, trained.output

    pandas_report, _, pandas_exit = _monitor(tmp_path, mlflow_settings, "pandas")
    spark_report, page, spark_exit = _monitor(tmp_path, mlflow_settings, "spark")
    assert pandas_exit == spark_exit == 0 and not pandas_report["drifted"]
    _same_numbers(pandas_report, spark_report)
    assert [row["level"] for row in spark_report["interval_coverage"]["levels"]] == [80.0, 95.0]
    assert "Computed with engine spark" in page and "data_drift.png" in page

    # Every item sells 80 % more in the monitored month: both engines see the drift, in the same columns.
    monthly_sales_frame(items=40, shift_from="2022-12-01").to_csv(sales, index=False)
    pandas_report, _, pandas_exit = _monitor(tmp_path, mlflow_settings, "pandas")
    spark_report, _, spark_exit = _monitor(tmp_path, mlflow_settings, "spark")
    assert pandas_exit == spark_exit == 1
    flagged = {row["name"] for row in spark_report["data_drift"] if row["drifted"]}
    assert "sales" in flagged
    _same_numbers(pandas_report, spark_report)


def test_the_order_statistics_give_numpy_quantile_edges_and_the_gap_gives_ks_2samp():
    rng = np.random.default_rng(3)
    for rows in (40, 41, 97, 480, 1001):
        values = np.sort(np.round(rng.lognormal(0, 1, rows), 2))  # rounded: ties, as sales often have
        for bins in (4, 7, 10):
            lower, upper, weight = quantile_ranks(rows, bins)
            expected = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
            assert np.array_equal(interpolated_edges(values[lower], values[upper], weight), expected)
        current = np.round(rng.lognormal(0.3, 1, 60), 2)
        union = np.union1d(values, current)
        gaps = np.searchsorted(values, union, "right") / rows - np.searchsorted(np.sort(current), union, "right") / 60
        at = union[np.argmax(np.abs(gaps))]
        below = int(np.sum(values <= at)), int(np.sum(current <= at))
        expected = ks_2samp(values, current)
        assert ks_test_at_gap(*below, rows, 60) == (expected.statistic, expected.pvalue)
        assert population_stability_index(values, current, 10) > 0


def test_a_database_pipeline_with_engine_spark_is_monitored_on_pandas_and_says_so(tmp_path):
    database = f"sqlite:///{tmp_path / 'sales.db'}"
    fill_database(database)
    write_pipeline(tmp_path / "pipeline.yaml", {"kind": "database", "database_url": database}, engine="spark")
    env = {
        "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}",
        "SALESCAST_REPORTS_DIR": str(tmp_path / "reports"),
    }
    result = CliRunner().invoke(app, ["monitor", "--config", str(tmp_path / "pipeline.yaml")], env=env)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # the command's warnings are logged to its stderr
    assert "Nothing to monitor: no champion" in output
    assert "monitoring on pandas instead of Spark: engine spark reads sales files" in output
    report = json.loads((tmp_path / "reports" / "monitoring" / "latest.json").read_text())
    assert report["month"] == "2022-12" and report["drifted"] is False


def test_weekly_files_with_engine_spark_are_monitored_on_pandas_and_say_so(spark, tmp_path):
    sales = tmp_path / "data" / "weekly.csv"
    sales.parent.mkdir()
    weeks = [year * 100 + week for year in (2021, 2022) for week in range(1, 53)]
    sales.write_text(
        "year_week,item_id,sales\n" + "".join(f"{week},{item},{10 + item}\n" for week in weeks for item in (1, 2))
    )
    write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/weekly.csv"}}, engine="spark")
    env = {
        "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}",
        "SALESCAST_REPORTS_DIR": str(tmp_path / "reports"),
    }
    result = CliRunner().invoke(app, ["monitor", "--config", str(tmp_path / "pipeline.yaml")], env=env)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "monitoring on pandas instead of Spark: engine spark reads monthly sales" in output
    assert "Nothing to monitor: no champion" in output
