"""End to end: a sale posted to the ingestion API flows to a registered model version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, weekly_rows, write_pipeline

from salescast.api.app import create_app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import MissingMonthsError, parse_month
from salescast.lifecycle.sources import load_pipeline_config
from salescast.settings import Settings

__all__ = ["empty_mlflow_db", "mlflow_settings"]


@pytest.mark.slow
def test_posted_sales_train_a_registered_version(tmp_path, sqlite_url, mlflow_settings):
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        response = client.post("/post_sales", json=weekly_rows())
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == 0
    config = load_pipeline_config(
        write_pipeline(
            tmp_path / "pipeline.yaml",
            {"kind": "database", "database_url": sqlite_url, "remove_outliers": True},
            lifecycle={"window": 3},
        )
    )

    result = run_training_job(config, mlflow_settings)

    # 2022-W52 ends on Sunday 1 January 2023: January has a monthly row but is incomplete, and so
    # is January 2021 (2021-W01 starts on the 4th), which is left out of the history.
    assert result.job_plan.plan.test_month.strftime("%Y-%m") == "2022-12"
    assert result.job_plan.first_month.strftime("%Y-%m") == "2021-02"
    with pytest.raises(MissingMonthsError, match=r"of which incomplete \(some days not ingested yet\): 2023-01"):
        run_training_job(config, mlflow_settings, test_month=parse_month("2023-01"), dry_run=True)
    assert result.job_plan.items == 3 and result.job_plan.rows_test == 3
    client = store_client(mlflow_settings)
    version = client.get_model_version("pipeline", result.version)
    assert version.tags["test_month"] == "2022-12"
    # The posted weeks repeat every year, so last year's month is almost exact: Ridge (3 training months)
    # does not beat it, and the first version is registered but not promoted.
    assert float(version.tags["candidate_rmse"]) > float(version.tags["baseline_SameMonthLastYearSales_rmse"])
    assert (result.decision, version.tags["decision"]) == ("kept", "kept")
    reason = version.tags["decision_reason"]
    assert reason.startswith("no champion yet and fails the RMSE") and "does not beat SameMonthLastYearSales" in reason
    aliases = client.get_registered_model("pipeline").aliases
    assert {alias: str(number) for alias, number in aliases.items()} == {"challenger": result.version}
    assert client.get_run(result.run_id).data.params["source"] == "database"
    assert client.get_run(result.run_id).data.params["items"] == "3"
