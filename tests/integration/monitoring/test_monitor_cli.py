"""``salescast monitor`` on a real MLflow store: the report contract, exit codes, MLflow logging, --retrain."""

from __future__ import annotations

import json

import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_pipeline
from tests.monitoring_support import monthly_sales_frame
from typer.testing import CliRunner

from salescast.cli import app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
CONTRACT_KEYS = {
    "month", "created_at", "champion", "thresholds", "data_drift", "performance", "performance_drift", "drifted",
    "retrained", "interval_coverage",
}  # fmt: skip
DRIFT_KEYS = {"name", "kind", "psi", "ks_statistic", "ks_pvalue", "reference_rows", "current_rows", "drifted", "note"}


@pytest.fixture
def pipeline(tmp_path):
    sales = tmp_path / "data" / "sales.csv"
    sales.parent.mkdir()
    monthly_sales_frame().to_csv(sales, index=False)
    return write_pipeline(
        tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, lifecycle={"window": 12}
    )


def monitor(tmp_path, settings, *args):
    env = {
        "SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "SALESCAST_REPORTS_DIR": str(tmp_path / "reports"),
    }
    return CliRunner().invoke(app, ["monitor", "--config", str(tmp_path / "pipeline.yaml"), *args], env=env)


def test_monitor_reports_no_drift_then_drift_and_retrains(tmp_path, pipeline, mlflow_settings):
    first = run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-09"))
    assert first.decision == "promoted"

    quiet = monitor(tmp_path, mlflow_settings)
    assert quiet.exit_code == 0, quiet.output
    assert "no drift" in quiet.output
    folder = tmp_path / "reports" / "monitoring" / "2022-12"
    report = json.loads((folder / "report.json").read_text())
    assert set(report) == CONTRACT_KEYS
    assert report["month"] == "2022-12" and report["drifted"] is False and report["retrained"] is None
    assert report["champion"] == {"name": "pipeline", "version": "1", "training_month": "2022-09"}
    assert report["thresholds"]["psi"] == 0.2 and report["thresholds"]["ks_pvalue"] == 0.01
    assert all(set(row) == DRIFT_KEYS for row in report["data_drift"])
    assert [row["kind"] for row in report["data_drift"]][-2:] == ["target", "prediction"]
    assert [row["month"] for row in report["performance"]] == ["2022-10", "2022-11", "2022-12"]
    assert report["performance_drift"]["window_months"] == 3 and not report["performance_drift"]["drifted"]
    # the scale-free view beside the pooled errors: mean per-item MASE, per month and over the window
    assert all(row["champion_mase"] > 0 and row["baseline_mase"] > 0 for row in report["performance"])
    verdict = report["performance_drift"]
    assert f"mean MASE {verdict['champion_mase']:.4g} vs {verdict['baseline_mase']:.4g}" in verdict["reason"]
    coverage = report["interval_coverage"]
    assert [row["level"] for row in coverage["levels"]] == [80.0, 95.0] and not coverage["drifted"]
    scored_rows = sum(row["rows"] for row in report["performance"])
    assert (
        all(row["rows"] == scored_rows for row in coverage["levels"]) and "over 2022-10..2022-12" in coverage["reason"]
    )
    assert "Interval coverage: ok" in quiet.output
    assert json.loads((tmp_path / "reports" / "monitoring" / "latest.json").read_text()) == report
    page = (folder / "report.html").read_text()
    assert "data_drift.png" in page and (folder / "data_drift.png").stat().st_size > 0
    assert (folder / "performance.png").is_file()

    client = store_client(mlflow_settings)
    experiment = client.get_experiment_by_name("salescast-lifecycle-monitoring")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.data.tags["month"] == "2022-12" and run.data.tags["champion_version"] == "1"
    assert run.data.metrics["drifted"] == 0.0
    assert run.data.metrics["champion_mase"] == pytest.approx(verdict["champion_mase"])
    assert "champion MASE" in page
    logged = {item.path for item in client.list_artifacts(run.info.run_id, "monitoring")}
    assert {"monitoring/report.json", "monitoring/report.html", "monitoring/data_drift.png"} <= logged

    # Every item sells 80 % more from October: the data moved under the champion.
    monthly_sales_frame(shift_from="2022-10-01").to_csv(tmp_path / "data" / "sales.csv", index=False)
    drifted = monitor(tmp_path, mlflow_settings, "--retrain")
    assert drifted.exit_code == 1, drifted.output
    assert "DRIFT DETECTED" in drifted.output
    report = json.loads((folder / "report.json").read_text())
    flagged = {row["name"] for row in report["data_drift"] if row["drifted"]}
    assert {"sales", "last_month"} <= flagged and report["drifted"] is True
    assert report["retrained"]["version"] == "2"
    # The retrain ran the job and the promotion rule decided: v1's lags follow the shift (last month is
    # already 80 % up), v2's 12-month window is mostly from before it, so v1 stays champion.
    assert report["retrained"]["version"] == "2" and report["retrained"]["decision"] == "kept"
    # The decision comes with the rule's reason, in the report and on the screen ("kept" alone said nothing).
    reason = report["retrained"]["reason"]
    assert reason.startswith("kept champion v1: only 0/3 metrics improve over champion v1")
    assert reason in " ".join(drifted.output.split())
    retrained = client.get_model_version("pipeline", "2")
    assert retrained.tags["test_month"] == "2022-12" and retrained.tags["decision"] == "kept"
    assert str(client.get_model_version_by_alias("pipeline", "champion").version) == "1"

    wrong = monitor(tmp_path, mlflow_settings, "--month", "2030-01")
    assert wrong.exit_code == 2 and "latest complete month is 2022-12" in wrong.output
    (tmp_path / "pipeline.yaml").write_text("source: {kind: csv, data: {sales: data/sales.csv}}\nmodel: Prophet\n")
    bad_config = monitor(tmp_path, mlflow_settings)
    assert bad_config.exit_code == 2 and "Prophet" in bad_config.output


def test_without_a_champion_the_report_says_so_and_nothing_drifts(tmp_path, pipeline):
    store = tmp_path / "mlruns" / "mlflow.db"
    env = {"SALESCAST_REPORTS_DIR": str(tmp_path / "reports"), "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{store}"}
    result = CliRunner().invoke(app, ["monitor", "--config", str(pipeline)], env=env, terminal_width=300)
    assert result.exit_code == 0, result.output
    assert f"Nothing to monitor: no champion: no MLflow store at {store}" in result.output.replace("\n", "")
    report = json.loads((tmp_path / "reports" / "monitoring" / "latest.json").read_text())
    assert report["champion"] is None and report["data_drift"] == [] and report["drifted"] is False
    assert not store.parent.exists()  # monitoring never creates an MLflow store


def test_an_mlflow_server_that_does_not_answer_is_exit_2(tmp_path, pipeline):
    env = {
        "SALESCAST_REPORTS_DIR": str(tmp_path / "reports"),
        "SALESCAST_MLFLOW_TRACKING_URI": "http://127.0.0.1:9",  # nothing listens on port 9
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    }
    result = CliRunner().invoke(app, ["monitor", "--config", str(pipeline)], env=env, terminal_width=300)
    assert result.exit_code == 2, result.output
    assert "127.0.0.1:9" in result.output
