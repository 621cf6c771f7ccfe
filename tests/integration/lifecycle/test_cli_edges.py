"""CLI edges: no store yet, conflicting flags, a backtest that meets a missing month."""

from __future__ import annotations

from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline
from typer.testing import CliRunner

from salescast.cli import app

__all__ = ["empty_mlflow_db", "mlflow_settings"]


def test_history_and_ui_without_a_store_create_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    history = CliRunner().invoke(app, ["history"])
    assert history.exit_code == 0 and "No MLflow store at mlruns/mlflow.db yet" in history.output
    ui = CliRunner().invoke(app, ["ui"])
    assert ui.exit_code == 1 and "run `salescast train` first" in ui.output
    assert not (tmp_path / "mlruns").exists()


def test_train_months_and_window_together_are_refused(tmp_path):
    write_monthly_sales(tmp_path / "sales.csv", items=2)
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "sales.csv"}})
    args = ["train", "--config", str(config), "--train-months", "2022-01,2022-02", "--window", "2", "--dry-run"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "give --train-months or --window, not both" in result.output


def test_backtest_stops_at_a_missing_month_and_shows_the_months_done(tmp_path, mlflow_settings):
    frame = write_monthly_sales(tmp_path / "sales.csv", items=3)
    frame[frame["dates"] != "2022-11-01"].to_csv(tmp_path / "sales.csv", index=False)
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "sales.csv"}})
    args = ["backtest", "--from", "2022-10", "--to", "2022-12", "--config", str(config), "--out", str(tmp_path)]
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}

    result = CliRunner().invoke(app, args, env=env)

    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Metrics over time" in text and "2022-10" in text
    assert "month 2022-11: missing months for test month 2022-11" in text
    versions = store_client(mlflow_settings).search_model_versions("name='salescast-forecaster'")
    assert [version.tags["test_month"] for version in versions] == ["2022-10"]


def test_an_empty_database_says_how_to_fill_it(tmp_path, sqlite_url):
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "database", "database_url": sqlite_url})
    result = CliRunner().invoke(app, ["train", "--config", str(config), "--dry-run"])
    assert result.exit_code == 1
    # Rich wraps long paths anywhere: compare without whitespace.
    text = "".join(result.output.split())
    assert f"thedatabase{sqlite_url}hasnosalesyet" in text and "salescastimport-salesFILE" in text
