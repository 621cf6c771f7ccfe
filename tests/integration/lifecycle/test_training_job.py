"""The monthly job against a real MLflow store: registration, tags, artifacts, idempotency, dry run."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline
from typer.testing import CliRunner

from salescast.cli import app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "pipeline"


@pytest.fixture
def pipeline(tmp_path):
    write_monthly_sales(tmp_path / "data" / "sales.csv")
    return write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})


def cli(tmp_path, settings, *args):
    env = {"SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}
    return CliRunner().invoke(app, [*args, "--config", str(tmp_path / "pipeline.yaml")], env=env)


def test_train_registers_a_champion_with_metrics_tags_artifacts_and_a_loadable_model(pipeline, mlflow_settings):
    result = run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-10"))
    assert (result.version, result.decision, result.reused) == ("1", "promoted", False)
    assert result.job_plan.plan.train_months == [parse_month(m) for m in ("2022-07", "2022-08", "2022-09")]

    client = store_client(mlflow_settings)
    version = client.get_model_version_by_alias(MODEL, "champion")
    assert str(version.version) == "1"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "1"
    tags = version.tags
    assert tags["decision"] == "promoted" and tags["test_month"] == "2022-10"
    assert tags["train_months"] == "2022-07,2022-08,2022-09"
    assert float(tags["candidate_rmse"]) == pytest.approx(result.metrics["rmse"])
    assert float(tags["baseline_SameMonthLastYearSales_rmse"]) > float(tags["candidate_rmse"])
    assert tags["fingerprint"] == result.job_plan.fingerprint

    run = client.get_run(result.run_id)
    assert run.data.params["model"] == "Ridge" and run.data.params["test_month"] == "2022-10"
    for name in ("rmse", "mae", "r2", "mape", "baseline_SameMonthLastYearSales_rmse", "baseline_PrevMonthSale_mae"):
        assert name in run.data.metrics
    artifacts = {item.path for item in client.list_artifacts(result.run_id, "error_analysis")}
    assert {
        "error_analysis/error_analysis.json",
        "error_analysis/error_analysis.png",
        "error_analysis/test_month_predictions.csv",
    } <= artifacts

    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    history = pd.read_csv(pipeline.parent / "data" / "sales.csv", parse_dates=["dates"])
    history = history[history["dates"] <= "2022-09-01"]
    forecast = model.predict(history)
    assert list(forecast.columns) == ["dates", "item_id", "prediction"]
    assert (forecast["dates"] == pd.Timestamp("2022-10-01")).all() and len(forecast) == 4
    assert model.metadata.get_input_schema().input_names() == ["dates", "item_id", "sales"]
    bounded = model.predict(history, params={"intervals": "80,95"})
    assert list(bounded.columns) == ["dates", "item_id", "prediction", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert bounded["prediction"].tolist() == pytest.approx(forecast["prediction"].tolist())
    assert (bounded["lo_95"] <= bounded["lo_80"]).all() and (bounded["hi_80"] <= bounded["hi_95"]).all()
    assert (bounded["hi_80"] > bounded["lo_80"]).all()
    unwrapped = model.unwrap_python_model()
    by_column = unwrapped.predict(None, history.assign(intervals="95,80"))
    assert by_column[["lo_80", "hi_95"]].to_numpy().tolist() == bounded[["lo_80", "hi_95"]].to_numpy().tolist()
    with pytest.raises(ValueError, match="between 0 and 100"):
        unwrapped.predict(None, history, params={"intervals": [80, 100]})


def test_same_data_and_config_make_no_new_version(tmp_path, pipeline, mlflow_settings):
    config = load_pipeline_config(pipeline)
    first = run_training_job(config, mlflow_settings, test_month=parse_month("2022-10"))
    again = cli(tmp_path, mlflow_settings, "train", "--test-month", "2022-10")
    assert again.exit_code == 0, again.output
    assert "Same data and config as version 1: nothing trained." in again.output
    assert "promoted" in again.output
    client = store_client(mlflow_settings)
    assert len(client.search_model_versions(f"name='{MODEL}'")) == 1
    assert len(client.search_runs([client.get_experiment_by_name("salescast-lifecycle").experiment_id])) == 1

    sales = tmp_path / "data" / "sales.csv"
    frame = pd.read_csv(sales)
    frame.loc[0, "sales"] += 1.0  # one changed row, even far back in history, is new data
    frame.to_csv(sales, index=False)
    second = run_training_job(config, mlflow_settings, test_month=parse_month("2022-10"))
    assert second.version == "2" and not second.reused
    assert second.job_plan.fingerprint != first.job_plan.fingerprint
    tags = client.get_model_version(MODEL, "2").tags
    assert tags["champion_version"] == "1" and tags["champion_rmse"]
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "2"


def test_a_champion_scored_on_a_month_it_was_trained_on_is_flagged_optimistic(pipeline, mlflow_settings):
    config = load_pipeline_config(pipeline)
    later = run_training_job(config, mlflow_settings, test_month=parse_month("2022-12"))  # trained on 09..11
    client = store_client(mlflow_settings)
    client.set_registered_model_alias(MODEL, "champion", later.version)  # whatever the rule said
    assert "optimistic" not in later.reason

    rerun = run_training_job(config, mlflow_settings, test_month=parse_month("2022-10"))  # out of order

    warning = f"(warning: champion v{later.version} was trained on 2022-10, so its score there is optimistic)"
    assert rerun.champion_version == later.version and rerun.reason.endswith(warning)
    assert client.get_model_version(MODEL, rerun.version).tags["decision_reason"] == rerun.reason
    # A month outside the champion's training window gets no such warning (whichever version is champion now).
    after = run_training_job(config, mlflow_settings, test_month=parse_month("2022-12"), window=2)
    assert after.champion_version is not None and "optimistic" not in after.reason


def test_dry_run_validates_and_trains_nothing(tmp_path, pipeline, mlflow_settings):
    result = cli(tmp_path, mlflow_settings, "train", "--dry-run", "--test-month", "2022-06", "--window", "2")
    assert result.exit_code == 0, result.output
    assert "2022-06 (4 rows)" in result.output and "2022-04..2022-05 (8 rows)" in result.output
    assert "Ridge" in result.output and "last_month" in result.output
    assert "Dry run: data valid, nothing trained or registered." in result.output
    client = store_client(mlflow_settings)
    assert client.search_registered_models() == []
    assert client.get_experiment_by_name("salescast-lifecycle") is None
    assert not (tmp_path / "mlruns" / "artifacts").exists()


def test_strict_and_skip_missing_through_the_cli(tmp_path, pipeline, mlflow_settings):
    sales = tmp_path / "data" / "sales.csv"
    frame = pd.read_csv(sales)
    frame[frame["dates"] != "2022-08-01"].to_csv(sales, index=False)

    strict = cli(tmp_path, mlflow_settings, "train", "--test-month", "2022-10", "--dry-run")
    assert strict.exit_code == 1
    text = " ".join(strict.output.split())
    assert "missing months for test month 2022-10 (training months 2022-07..2022-09): 2022-08" in text
    assert "available months: 2020-01..2022-07, 2022-09..2022-12" in text
    assert "rerun with --skip-missing" in text and "pick another --test-month" in text

    skipped = cli(tmp_path, mlflow_settings, "train", "--test-month", "2022-10", "--skip-missing", "--dry-run")
    assert skipped.exit_code == 0, skipped.output
    assert "skipped (missing)" in skipped.output and "2022-07, 2022-09 (8 rows)" in skipped.output

    too_few = cli(tmp_path, mlflow_settings, "train", "--test-month", "2022-09", "--window", "2", "--skip-missing")
    assert too_few.exit_code == 1
    assert "--skip-missing cannot help: only 1 training month(s) remain" in " ".join(too_few.output.split())


def test_invalid_data_is_refused_before_training(tmp_path, pipeline, mlflow_settings):
    sales = tmp_path / "data" / "sales.csv"
    frame = pd.read_csv(sales)
    pd.concat([frame, frame.head(1)]).to_csv(sales, index=False)
    result = cli(tmp_path, mlflow_settings, "train")
    assert result.exit_code == 1
    assert "duplicate" in result.output.lower()
    assert store_client(mlflow_settings).search_registered_models() == []


def write_marketing_driven_sales(folder: Path, items: int = 4, months: int = 30) -> None:
    """Flat sales that rise by 80 % in the months with a marketing push (every fifth month, shifted by item):
    five is prime to twelve, so last year's month is far off whenever one of the two months had a push,
    while a model that reads the marketing plan is nearly exact."""
    dates = pd.date_range("2021-01-01", periods=months, freq="MS")
    sales, marketing = [], []
    for item in range(1, items + 1):
        level = 100.0 * item
        for index, month in enumerate(dates):
            spend = 1.0 if (index + item) % 5 == 0 else 0.0
            sales.append((month, item, level * (1 + 0.8 * spend) + index % 7))
            if spend:
                marketing.append((month, item, spend))
    folder.mkdir(parents=True)
    pd.DataFrame(sales, columns=["dates", "item_id", "sales"]).to_csv(folder / "sales.csv", index=False)
    pd.DataFrame(marketing, columns=["dates", "item_id", "marketing"]).to_csv(folder / "marketing.csv", index=False)


def test_a_champion_that_cannot_run_on_the_new_data_is_kept_and_said_so(tmp_path, mlflow_settings):
    write_marketing_driven_sales(tmp_path / "data")
    tables = {"kind": "csv", "data": {"sales": "data/sales.csv", "marketing": "data/marketing.csv"}}
    features = ["last_month", "same_month_last_year", "last_year_average", "marketing"]
    with_marketing = write_pipeline(tmp_path / "pipeline.yaml", tables, features=features, lifecycle={"window": 12})
    first = run_training_job(load_pipeline_config(with_marketing), mlflow_settings)
    # Promoted by construction, not by a lucky draw: the baseline misses every push the model reads.
    assert first.metrics["rmse"] < 0.2 * first.baselines["SameMonthLastYearSales"]["rmse"]
    assert first.decision == "promoted"
    # Another file, the same registered model (name:) and the same sales file: the champion is compared.
    sales_only = tmp_path / "sales-only.yaml"
    write_pipeline(sales_only, {"kind": "csv", "data": {"sales": "data/sales.csv"}}, name=MODEL)

    second = run_training_job(load_pipeline_config(sales_only), mlflow_settings)

    assert second.version == str(int(first.version) + 1) and second.decision == "kept"
    assert second.reason.startswith(f"kept champion v{first.version}: it could not be evaluated on")
    assert "marketing" in second.reason
    aliases = store_client(mlflow_settings).get_registered_model(MODEL).aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {
        "champion": first.version,
        "challenger": second.version,
    }
