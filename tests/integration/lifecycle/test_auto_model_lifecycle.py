"""``model: Auto`` through the monthly job: its choice per item lands in MLflow and on the Models page."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from tests.dashboard_support import APP_FILE
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline

from salescast.dashboard.model_data import load_auto_selection
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
CANDIDATES = ["SeasonalNaive", "AutoETS", "Ridge"]


@pytest.fixture
def trained(tmp_path, mlflow_settings):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=5, first="2018-01", last="2022-12")
    pipeline = write_pipeline(
        tmp_path / "pipeline.yaml",
        {"kind": "csv", "data": {"sales": "data/sales.csv"}},
        model="Auto",
        model_params={"candidates": CANDIDATES, "validation_months": 12, "horizon": 3},
        lifecycle={"window": 24},
    )
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        result = run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-12"))
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    return result, mlflow_settings, pipeline


def test_auto_logs_its_settings_the_candidates_each_item_uses_and_their_scores(trained):
    result, settings, _ = trained
    client = store_client(settings)
    run = client.get_run(result.run_id)
    params, tags = run.data.params, run.data.tags
    assert params["model"] == "Auto" and params["auto_candidates"] == ",".join(CANDIDATES)
    assert (params["auto_top"], params["auto_validation_months"], params["auto_horizon"]) == ("3", "12", "3")

    tables = load_auto_selection(client, result.run_id)
    candidates, selection = tables["candidates"], tables["selection"]
    assert candidates["candidate"].tolist() == CANDIDATES
    assert (candidates["one_step_mase"] > 0).all() and (candidates["seconds"] > 0).all()
    # Three candidates, top 3: every item combines all three, each with weight 1/3, one step and at the horizon.
    assert sorted(selection["item_id"].unique()) == ["1", "2", "3", "4", "5"]
    assert len(selection) == 15 and selection["weight_one_step"].to_numpy() == pytest.approx(1 / 3)
    assert selection.groupby("item_id")["weight_horizon"].sum().to_numpy() == pytest.approx(1.0)
    assert candidates["items_one_step"].tolist() == [5, 5, 5]
    assert tags["auto_candidates_used"] == "SeasonalNaive:5,AutoETS:5,Ridge:5"
    assert (selection["validation_mase_one_step"] > 0).all()


def test_a_model_other_than_auto_logs_no_selection(tmp_path, mlflow_settings):
    write_monthly_sales(tmp_path / "data" / "sales.csv")
    pipeline = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})
    result = run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-10"))
    client = store_client(mlflow_settings)
    assert "auto_candidates" not in client.get_run(result.run_id).data.params
    assert load_auto_selection(client, result.run_id) is None


def test_the_models_page_shows_autos_candidates_and_their_items(trained, monkeypatch, tmp_path):
    _, settings, pipeline = trained
    for name, value in {
        "SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "SALESCAST_DATABASE_URL": settings.database_url,
        "SALESCAST_REPORTS_DIR": str(tmp_path / "reports"),
        "SALESCAST_PIPELINE_CONFIG": str(pipeline),
    }.items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP_FILE), default_timeout=90).run()
    app.switch_page("pages/models.py").run()
    assert not app.exception, [exception.value for exception in app.exception]
    tables = [frame.value for frame in app.dataframe]
    (candidates,) = [frame for frame in tables if "items_one_step" in frame.columns]
    (per_item,) = [frame for frame in tables if "weight_one_step" in frame.columns]
    assert candidates["candidate"].tolist() == CANDIDATES and candidates["items_one_step"].tolist() == [5, 5, 5]
    assert isinstance(per_item, pd.DataFrame) and len(per_item) == 15
    assert any("Auto's candidates" in block.value for block in app.markdown)
