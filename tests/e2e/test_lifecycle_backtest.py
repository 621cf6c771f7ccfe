"""A six-month backtest on generated data, then the registry's final state checked against the rule."""

from __future__ import annotations

import orjson
import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_pipeline
from typer.testing import CliRunner

from salescast.cli import app
from salescast.forecast.generate import generate_sales_data
from salescast.lifecycle.promotion import decide_promotion

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "salescast-forecaster"
MONTHS = ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05", "2021-06"]
TABLES = ("sales", "marketing", "price", "stock", "objectives")
FEATURES = ["last_month", "same_month_last_year", "last_year_average", "growth", "marketing", "price"]


def metrics(tags: dict, prefix: str) -> dict[str, float]:
    return {metric: float(tags[f"{prefix}_{metric}"]) for metric in ("rmse", "mae", "r2")}


@pytest.mark.slow
def test_backtest_chains_promotions_and_reruns_for_free(tmp_path, mlflow_settings):
    summary = generate_sales_data(tmp_path / "data", seed=1, items=5, months=36)  # 2018-07 … 2021-06
    assert summary["last_month"] == "2021-06-01"
    source = {"kind": "csv", "data": {name: f"data/{name}.csv" for name in TABLES}}
    write_pipeline(tmp_path / "pipeline.yaml", source, features=FEATURES)
    command = ["backtest", "--from", MONTHS[0], "--to", MONTHS[-1], "--config", str(tmp_path / "pipeline.yaml")]
    command += ["--out", str(tmp_path / "reports")]
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}

    result = CliRunner().invoke(app, command, env=env)

    assert result.exit_code == 0, result.output
    assert "Promotion history" in result.output and "Metrics over time" in result.output
    chart = tmp_path / "reports" / "backtest_2021-01_2021-06.png"
    assert chart.read_bytes()[:4] == b"\x89PNG"
    client = store_client(mlflow_settings)
    experiment = client.get_experiment_by_name("salescast-lifecycle").experiment_id
    (backtest_run,) = client.search_runs([experiment], "tags.job = 'backtest'")
    logged = {item.path for item in client.list_artifacts(backtest_run.info.run_id, "backtest")}
    assert logged == {"backtest/backtest_2021-01_2021-06.png", "backtest/backtest_2021-01_2021-06.json"}
    versions = sorted(client.search_model_versions(f"name='{MODEL}'"), key=lambda version: int(version.version))
    assert [version.tags["test_month"] for version in versions] == MONTHS
    champion = None
    for version in versions:
        tags = version.tags
        assert tags["champion_version"] == (champion or "")
        expected = decide_promotion(
            metrics(tags, "candidate"),
            float(tags["baseline_SameMonthLastYearSales_rmse"]),
            metrics(tags, "champion") if champion else None,
            champion,
        )
        assert tags["decision"] == expected.outcome, tags["decision_reason"]
        assert tags["decision_reason"] == expected.reason
        if expected.promoted:
            champion = str(version.version)
    assert champion is not None, "the trained model never beat SameMonthLastYearSales on this data"
    aliases = client.get_registered_model(MODEL).aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"challenger": "6", "champion": champion}

    rerun = CliRunner().invoke(app, command, env=env)
    assert rerun.exit_code == 0, rerun.output
    summary = orjson.loads((tmp_path / "reports" / "backtest_2021-01_2021-06.json").read_bytes())
    assert [month["reused"] for month in summary] == [True] * 6
    assert len(client.search_model_versions(f"name='{MODEL}'")) == 6

    # A weaker model on the last month: a new version (new config), kept, the champion does not move.
    write_pipeline(tmp_path / "pipeline.yaml", source, model="PrevMonthSale", features=FEATURES)
    train = ["train", "--test-month", MONTHS[-1], "--config", str(tmp_path / "pipeline.yaml")]
    weaker = CliRunner().invoke(app, train, env=env)
    assert weaker.exit_code == 0, weaker.output
    assert "Version 7: kept" in weaker.output
    tags = client.get_model_version(MODEL, "7").tags
    assert tags["decision"] == "kept" and tags["champion_version"] == champion
    assert tags["decision_reason"].startswith(f"kept champion v{champion}: only ")
    aliases = client.get_registered_model(MODEL).aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"challenger": "7", "champion": champion}

    history = CliRunner().invoke(app, ["history"], env=env)
    assert history.exit_code == 0, history.output
    assert "Promotion history" in history.output and f"v{champion} (" in history.output
    assert history.output.count("promoted") >= 1 and "kept" in history.output
