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
    args = ["backtest", "--from", "2022-10", "--to", "2022-12", "--config", str(config)]
    args += ["--report-dir", str(tmp_path / "reports"), "--store", str(tmp_path / "scratch")]
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}

    result = CliRunner().invoke(app, args, env=env)

    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Backtest: decision and metrics by month" in text and "2022-10 1 promoted" in text
    assert "month 2022-11: missing months for test month 2022-11" in text
    # A backtest works in a scratch store: production's store has no registered model.
    assert store_client(mlflow_settings).search_registered_models() == []


def test_backtest_out_must_name_a_csv_or_parquet_file(tmp_path):
    write_monthly_sales(tmp_path / "sales.csv", items=2)
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "sales.csv"}})
    args = ["backtest", "--from", "2022-10", "--to", "2022-12", "--config", str(config), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "is a folder; give a file name ending in .csv or .parquet" in result.output
    result = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "predictions.xlsx")])
    assert result.exit_code == 1 and "cannot tell the format" in result.output


def test_an_empty_database_says_how_to_fill_it(tmp_path, sqlite_url):
    from salescast.ingest.store import SalesStore

    SalesStore(sqlite_url).migrate()
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "database", "database_url": sqlite_url})
    result = CliRunner().invoke(app, ["train", "--config", str(config), "--dry-run"])
    assert result.exit_code == 1
    # Rich wraps long paths anywhere: compare without whitespace.
    text = "".join(result.output.split())
    assert f"thedatabase{sqlite_url}hasnosalesyet" in text and "salescastimport-salesFILE" in text


def test_a_misspelt_sqlite_path_is_an_error_and_creates_no_database(tmp_path):
    missing = tmp_path / "sales-typo.db"
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "database", "database_url": f"sqlite:///{missing}"})
    result = CliRunner().invoke(app, ["train", "--config", str(config), "--dry-run"])
    assert result.exit_code == 1
    text = "".join(result.output.split())
    assert "doesnotexist" in text and "checkthepath" in text
    assert not missing.exists()


def test_a_missing_config_shows_the_example_literally(tmp_path):
    result = CliRunner().invoke(app, ["train", "--config", str(tmp_path / "pipeline.yaml")])
    assert result.exit_code == 1
    # Rich markup used to swallow "[last_month, ...]", printing an empty "features:".
    assert "features: [last_month, same_month_last_year, last_year_average]" in result.output


def test_dry_run_refuses_a_feature_whose_table_is_not_configured(tmp_path):
    write_monthly_sales(tmp_path / "sales.csv", items=2)
    config = write_pipeline(
        tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "sales.csv"}}, features=["last_month", "price"]
    )
    result = CliRunner().invoke(app, ["train", "--config", str(config), "--dry-run"])
    assert result.exit_code == 1
    assert "Dry run: data valid" not in result.output and "price" in result.output


def test_library_info_logs_stay_out_of_the_output_unless_verbose(tmp_path):
    write_monthly_sales(tmp_path / "sales.csv", items=2)
    config = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "sales.csv"}})
    quiet = CliRunner().invoke(app, ["train", "--config", str(config), "--dry-run"])
    assert quiet.exit_code == 0, quiet.output
    assert "Dry run: data valid" in quiet.output and "| INFO |" not in quiet.output
    verbose = CliRunner().invoke(app, ["--verbose", "train", "--config", str(config), "--dry-run"])
    assert verbose.exit_code == 0 and "| INFO | salescast.lifecycle.sources | read sales: " in verbose.output
