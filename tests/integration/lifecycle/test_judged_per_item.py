"""Judged per item: a model absurd on the small items but good on the big ones is not promoted by the monthly job.

Three items sell ~100,000 a month (a random walk with seasonality: last month tells more than last year's
month), eight sell ~3. One pooled Ridge fitted on unscaled sales (``target_scaling: null``) has an intercept
in sales units: it forecasts ~250 for every small item, yet its pooled RMSE beats SameMonthLastYearSales by
half, because the big items dominate it. Mean MASE and the plausibility gate see the small items.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_pipeline

from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
TEST_MONTH = parse_month("2022-10")
SMALL = [f"small{index}" for index in range(8)]


def write_mixed_scale_sales(path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", "2022-12-01", freq="MS")
    rows = []
    for item in range(3):
        level = 100_000.0 * (1 + item)
        for month in months:
            level *= 1 + rng.normal(0, 0.04)
            rows.append(
                (month.strftime("%Y-%m-%d"), f"big{item}", level * (1 + 0.2 * np.sin(2 * np.pi * month.month / 12)))
            )
    rows += [(month.strftime("%Y-%m-%d"), item, float(rng.poisson(3))) for item in SMALL for month in months]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["dates", "item_id", "sales"]).to_csv(path, index=False)


@pytest.fixture
def source(tmp_path):
    write_mixed_scale_sales(tmp_path / "data" / "sales.csv")
    return {"kind": "csv", "data": {"sales": "data/sales.csv"}}


@pytest.mark.slow
def test_a_model_absurd_on_small_items_is_not_promoted_though_its_pooled_rmse_wins(tmp_path, source, mlflow_settings):
    unscaled = write_pipeline(
        tmp_path / "unscaled.yaml", source, model="Ridge", target_scaling=None, lifecycle={"window": 12}
    )
    result = run_training_job(load_pipeline_config(unscaled), mlflow_settings, test_month=TEST_MONTH)

    baseline = result.baselines["SameMonthLastYearSales"]
    assert result.metrics["rmse"] < 0.7 * baseline["rmse"]  # pooled, it wins clearly
    assert result.metrics["mase"] > 20 * baseline["mase"]  # per item, it is absurd
    assert result.decision == "kept"
    assert result.reason.startswith("no champion yet and fails the MASE and plausibility gates: beats ")
    assert f"mean MASE {result.metrics['mase']:.4g} vs SameMonthLastYearSales {baseline['mase']:.4g}" in result.reason
    assert "implausible forecasts for 8 item(s) of 11 forecasts: small0 (" in result.reason
    assert "and 3 more" in result.reason
    assert result.plausibility.items == SMALL

    client = store_client(mlflow_settings)
    version = client.get_model_version("unscaled", result.version)
    assert version.aliases == [] or "champion" not in version.aliases
    tags = version.tags
    assert (tags["beats_baseline"], tags["mase_not_worse"], tags["plausible"]) == ("true", "false", "false")
    assert float(tags["candidate_mase"]) == pytest.approx(result.metrics["mase"])
    assert float(tags["baseline_SameMonthLastYearSales_mase"]) == pytest.approx(baseline["mase"])
    run = client.get_run(result.run_id)
    assert run.data.metrics["implausible_items"] == 8.0
    assert run.data.metrics["baseline_SameMonthLastYearSales_mase"] == pytest.approx(baseline["mase"])
    assert {"mase", "smape", "baseline_PrevMonthSale_mase"} <= set(run.data.metrics)
    assert run.data.tags["plausibility"].startswith("implausible forecasts for 8 item(s)")
    analysis = json.loads(
        Path(client.download_artifacts(result.run_id, "error_analysis/error_analysis.json")).read_text()
    )
    worst = analysis["per_item"][0]
    assert worst["item_id"] in SMALL and worst["mase"] > 50 and worst["scale"] > 0
    assert {row["item_id"] for row in analysis["per_item"][:8]} == set(SMALL)  # worst first by MASE: every small item

    # The same model scaled per item (the engine's default) passes every gate on the same month.
    scaled = write_pipeline(tmp_path / "scaled.yaml", source, model="Ridge", lifecycle={"window": 12})
    fine = run_training_job(load_pipeline_config(scaled), mlflow_settings, test_month=TEST_MONTH)
    assert fine.decision == "promoted" and fine.reason.startswith(
        "first champion: beats SameMonthLastYearSales on RMSE"
    )
    assert fine.metrics["mase"] < fine.baselines["SameMonthLastYearSales"]["mase"] and fine.plausibility.plausible


@pytest.mark.slow
def test_the_range_multiple_setting_reaches_the_gate_and_mase_still_blocks(tmp_path, source, mlflow_settings):
    unscaled = write_pipeline(
        tmp_path / "unscaled.yaml", source, model="Ridge", target_scaling=None, lifecycle={"window": 12}
    )
    lenient = mlflow_settings.model_copy(update={"plausible_range_multiple": 1000.0})  # ~250 for ~3 is within it
    result = run_training_job(load_pipeline_config(unscaled), lenient, test_month=TEST_MONTH)
    assert result.plausibility.plausible and result.decision == "kept"
    assert result.reason.startswith("no champion yet and fails the MASE gate: beats SameMonthLastYearSales on RMSE")
    assert "plausible: all 11 forecasts within each item's history range ± 1000× that range" in result.reason


@pytest.mark.slow
def test_engine_keys_and_auto_from_pipeline_yaml_reach_the_model(tmp_path, source, mlflow_settings):
    transformed = write_pipeline(
        tmp_path / "transformed.yaml",
        source,
        model="Ridge",
        target_transforms=["log1p", "item_level"],
        refit="monthly",
        lifecycle={"window": 12},
    )
    config = load_pipeline_config(transformed)
    result = run_training_job(config, mlflow_settings, test_month=TEST_MONTH)
    params = store_client(mlflow_settings).get_run(result.run_id).data.params
    assert json.loads(params["target_transforms"]) == ["log1p", "item_level"] and params["refit"] == "monthly"
    default = run_training_job(
        load_pipeline_config(write_pipeline(tmp_path / "plain.yaml", source, lifecycle={"window": 12})),
        mlflow_settings,
        test_month=TEST_MONTH,
    )
    assert result.metrics["rmse"] != pytest.approx(default.metrics["rmse"])  # the transforms changed the model
    assert result.job_plan.fingerprint != default.job_plan.fingerprint

    auto = write_pipeline(tmp_path / "auto.yaml", source, model="Auto", lifecycle={"window": 12})
    chosen = run_training_job(load_pipeline_config(auto), mlflow_settings, test_month=TEST_MONTH)
    assert chosen.version == "1" and chosen.decision == "promoted", chosen.reason
    assert chosen.metrics["mase"] < chosen.baselines["SameMonthLastYearSales"]["mase"]
