"""The README's "Your own data" walk, run as written on fpp3 ``us_employment``: CSV → champion → file → API → dashboard.

The Python, the ``pipeline.yaml`` and the commands are read from the README section itself, so the
section cannot drift from what is tested.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import streamlit as st
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client
from tests.serving_support import wait_for_champion
from typer.testing import CliRunner

from salescast.api.app import create_app
from salescast.cli import app

__all__ = ["empty_mlflow_db", "mlflow_settings"]
README = Path(__file__).resolve().parents[2] / "README.md"
APP_FILE = Path(__file__).resolve().parents[2] / "src" / "salescast" / "dashboard" / "app.py"
DISCONTINUED = "CEU4245210001"  # Retail Trade: Department Stores, last row December 2017


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def salescast_commands(block: str) -> list[list[str]]:
    """The ``uv run salescast …`` lines of a bash block, as argument lists (comments dropped)."""
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("uv run salescast "):
            commands.append(shlex.split(line)[3:])
    return commands


@pytest.fixture
def walk(tmp_path, mlflow_settings, monkeypatch):
    monkeypatch.chdir(tmp_path)
    section = readme_section("Your own data")
    (python,) = code_blocks(section, "python")
    (pipeline,) = code_blocks(section, "yaml")
    bash = code_blocks(section, "bash")
    (tmp_path / "data").mkdir()
    exec(compile(python, "README: Your own data", "exec"), {})  # writes data/us_employment.csv
    (tmp_path / "pipeline.yaml").write_text(pipeline)
    return section, bash


@pytest.mark.slow
def test_the_readme_walk_from_your_own_csv_to_forecasts_the_api_and_the_dashboard(tmp_path, mlflow_settings, walk):
    section, bash = walk
    env = {"SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri}
    sales = pd.read_csv(tmp_path / "data" / "us_employment.csv")
    assert list(sales.columns) == ["dates", "item_id", "sales"] and sales["item_id"].nunique() == 148

    commands = salescast_commands(bash[0])
    assert [command[0] for command in commands] == ["train", "train", "backtest", "forecast", "history"]
    outputs = {}
    for command in commands:
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 0, (command, result.output)
        outputs[" ".join(command)] = " ".join(result.output.split())
    dry_run, train = outputs["train --dry-run"], outputs["train"]
    assert "2019-09 (147 rows)" in dry_run and "2018-09..2019-08" in dry_run and "148 items" in dry_run
    assert "Version 1: promoted" in train and "RMSE 29.81 vs SameMonthLastYearSales 301.2" in train

    # The champion of the pipeline's own registered model, trained on this file.
    client = store_client(mlflow_settings)
    champion = client.get_model_version_by_alias("us-employment", "champion")
    assert str(champion.version) == "1" and champion.tags["source_kind"] == "csv"
    assert champion.tags["source_item_count"] == "148"

    backtest = pd.read_csv(tmp_path / "reports" / "us-employment-backtest.csv")
    assert sorted(backtest["month"].unique()) == [f"2019-{month:02d}" for month in range(1, 10)]
    decisions = backtest.drop_duplicates("month")["decision"].tolist()
    assert (decisions.count("promoted"), decisions.count("kept")) == (5, 4)  # as the README says
    mase = backtest.groupby(["month", "item_id"])["scaled_error"].mean().groupby("month").mean()
    smape = backtest.groupby(["month", "item_id"])["smape"].mean().groupby("month").mean()
    # "mean per-item MASE 0.17–0.22 and sMAPE 0.5–0.6 % by month", as the README says
    assert (round(mase.min(), 2), round(mase.max(), 2)) == (0.17, 0.22)
    assert (round(smape.min(), 1), round(smape.max(), 1)) == (0.5, 0.6)
    assert (tmp_path / "reports" / "us-employment-backtest_items.csv").is_file()

    forecasts = pd.read_csv(tmp_path / "forecasts" / "us-employment.csv")
    assert list(forecasts.columns) == ["item_id", "month", "prediction", "model_version"]
    assert len(forecasts) == 1764 and forecasts["item_id"].nunique() == 147
    assert DISCONTINUED not in set(forecasts["item_id"])
    assert sorted(forecasts["month"].unique())[::11] == ["2019-10", "2020-09"]
    first = forecasts[forecasts["item_id"] == "CEU0500000001"].head(2)
    for row in first.itertuples():  # the rows the README shows
        assert f"CEU0500000001,{row.month},{row.prediction:.2f},1" in section
    history = outputs["history"]
    assert "1 2019-09 2018-09..2019-08 promoted 29.81" in history and "us_employment.csv, 148 items" in history

    # The API on the same pipeline gives the file's numbers.
    settings = mlflow_settings.model_copy(
        update={"pipeline_config": tmp_path / "pipeline.yaml", "champion_poll_seconds": 0}
    )
    with TestClient(create_app(settings)) as api:
        wait_for_champion(api, "1")
        served = pd.DataFrame(api.get("/forecast", params={"horizon": 12}).json())
        three = api.get("/forecast", params={"item_id": "CEU0500000001", "horizon": 3}).json()
        past = api.get("/forecast", params={"month": "2019-09"})
        gone = api.get("/forecast", params={"item_id": DISCONTINUED, "horizon": 3})
    served = served.sort_values(["item_id", "month"], ignore_index=True)
    assert served[["item_id", "month"]].equals(forecasts[["item_id", "month"]])
    assert served["prediction"].tolist() == pytest.approx(forecasts["prediction"].tolist(), rel=1e-12)
    assert [row["prediction"] for row in three] == pytest.approx(
        forecasts[forecasts["item_id"] == "CEU0500000001"]["prediction"].head(3).tolist(), rel=1e-12
    )
    assert past.status_code == 200 and len(past.json()) == 147
    assert gone.status_code == 422 and "its last sale is 2017-12" in gone.json()["detail"]

    # The dashboard on the same pipeline shows the champion and the same forecasts.
    st.cache_data.clear()
    st.cache_resource.clear()
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        environment = {
            "SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri,
            "SALESCAST_PIPELINE_CONFIG": str(tmp_path / "pipeline.yaml"),
            "SALESCAST_DATABASE_URL": mlflow_settings.database_url,
        }
        with pytest.MonkeyPatch.context() as patch:
            for name, value in environment.items():
                patch.setenv(name, value)
            page = AppTest.from_file(str(APP_FILE), default_timeout=120).run()
            page.switch_page("pages/forecasts.py").run()
        assert not page.exception, [exception.value for exception in page.exception]
        assert {metric.label: metric.value for metric in page.metric}["Champion"] == "v1"
        (horizon,) = [frame.value for frame in page.dataframe if "2019-10" in frame.value.columns]
        october = forecasts[forecasts["month"] == "2019-10"].set_index("item_id")["prediction"]
        assert horizon.loc["CEU0500000001", "2019-10"] == pytest.approx(october["CEU0500000001"], abs=0.05)
        assert len(horizon.drop(index="Total")) == 147
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
        st.cache_data.clear()
        st.cache_resource.clear()
