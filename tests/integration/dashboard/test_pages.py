"""Each dashboard page through Streamlit's AppTest, on the generated feed and models trained on it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import plotly.io
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from tests.dashboard_support import (
    APP_FILE,
    fill_sales_database,
    shared_dashboard_data,
    train_versions,
    write_monitoring_report,
)

from salescast.dashboard.context import NO_MODEL, NO_REPORT, NO_SALES
from salescast.dashboard.sales_data import vegetables_by_sales, weekly_sales_frame
from salescast.ingest.store import SalesStore
from salescast.lifecycle.registry import ModelRegistry

TIMEOUT = 90


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return shared_dashboard_data(tmp_path_factory)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Streamlit caches live in the process: each test starts without another's results."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


def open_page(monkeypatch, environment: dict[str, str], page: str | None = None) -> AppTest:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT).run()
    if page is not None:
        app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def table(app: AppTest, *columns: str) -> pd.DataFrame:
    """The one table on the page that has all ``columns`` (tables carry no key)."""
    found = [frame.value for frame in app.dataframe if set(columns) <= set(frame.value.columns)]
    assert len(found) == 1, [list(frame.value.columns) for frame in app.dataframe]
    return found[0]


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def figure(app: AppTest, key: str):
    """The plotly figure of the chart with widget key ``key``."""
    charts = [chart for chart in app.get("plotly_chart") if chart.proto.id.endswith(key) or key in chart.proto.id]
    assert len(charts) == 1, [chart.proto.id for chart in app.get("plotly_chart")]
    return plotly.io.from_json(charts[0].proto.spec)


class Trace:
    """A chart trace's name and its x and y values, decoded from plotly's typed-array JSON."""

    def __init__(self, trace) -> None:
        self.name, self.x, self.y = trace.name, _values(trace.x), _values(trace.y)
        error_y = getattr(trace, "error_y", None)
        self.error_plus = _values(error_y.array) if error_y is not None else []
        self.error_minus = _values(error_y.arrayminus) if error_y is not None else []


def _values(values):
    if isinstance(values, dict) and "bdata" in values:  # plotly's base64 typed arrays
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values) if values is not None else []


def traces(fig) -> dict[str, Trace]:
    return {trace.name: Trace(trace) for trace in fig.data}


@pytest.fixture(scope="module")
def store(data):
    store = SalesStore(data.database_url)
    yield store
    store.dispose()


def test_sales_page_shows_the_feed_its_outliers_and_the_names_waiting_for_an_alias(monkeypatch, data, store):
    weekly = weekly_sales_frame(store)
    unknown = store.unknown_vegetables()
    app = open_page(monkeypatch, data.environment)

    assert app.title[0].value == "Sales"
    assert metrics(app) == {
        "Vegetables": "16",
        "Weeks": "209",
        "Outlier weeks": str(int(weekly["is_outlier"].sum())),
        "Names waiting for an alias": str(len(unknown)),
    }
    assert int(weekly["is_outlier"].sum()) == 6 and len(unknown) == 4  # what the generator injects (seed 0)
    top = vegetables_by_sales(weekly)[:3]
    assert app.multiselect(key="vegetables").value == top and top[0] == "potato"
    shown = traces(figure(app, "weekly_chart"))
    flagged = weekly[weekly["vegetable"].isin(top) & weekly["is_outlier"]]
    assert set(shown) == {*top, "outlier"}
    assert sorted(shown["outlier"].y) == sorted(flagged["sales"])
    assert list(table(app, "name", "total_sales")["name"]) == [row["name"] for row in unknown]
    assert "vegetable_aliases" in app.markdown[-1].value

    # One vegetable with an outlier week, outliers removed: the week disappears from both series.
    vegetable = str(weekly.loc[weekly["is_outlier"], "vegetable"].iloc[0])
    app.multiselect(key="vegetables").set_value([vegetable]).run()
    app.toggle(key="remove_outliers").set_value(True).run()
    weekly_chart, monthly_chart = figure(app, "weekly_chart"), figure(app, "monthly_chart")
    assert set(traces(weekly_chart)) == {vegetable}
    assert len(traces(weekly_chart)[vegetable].y) == int(
        (~weekly["is_outlier"] & (weekly["vegetable"] == vegetable)).sum()
    )
    assert monthly_chart.layout.title.text == "Monthly sales (outlier weeks removed)"
    # 2020-W01 starts on Monday 30 December 2019: that month has 2 days of sales and is ringed.
    assert list(pd.to_datetime(traces(monthly_chart)["partial month"].x)) == [pd.Timestamp("2019-12-01")]
    assert "Ringed: 2019-12 — months only partly covered" in " ".join(caption.value for caption in app.caption)
    regular = store.monthly_sales(remove_outliers=True)
    expected = regular[regular["vegetable"] == vegetable]["sales"].to_numpy()
    assert traces(monthly_chart)[vegetable].y == pytest.approx(expected)


def test_sales_page_says_how_to_load_sales_when_there_are_none(monkeypatch, tmp_path):
    missing = f"sqlite:///{tmp_path / 'nothing.db'}"
    app = open_page(monkeypatch, {"SALESCAST_DATABASE_URL": missing})
    assert app.info[0].value == NO_SALES.format(database=missing)
    assert "salescast import-sales data/vegetables.csv" in app.info[0].value
    assert "curl -s -X POST localhost:8000/post_sales" in app.info[0].value
    assert not (tmp_path / "nothing.db").exists()  # a wrong URL is not silently turned into an empty database

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    SalesStore(empty).migrate()
    st.cache_data.clear()
    app = open_page(monkeypatch, {"SALESCAST_DATABASE_URL": empty})
    assert app.info[0].value == NO_SALES.format(database=empty)
    assert not app.get("plotly_chart")


def test_forecasts_page_shows_recorded_forecasts_errors_and_the_champion_horizon(monkeypatch, data, store):
    app = open_page(monkeypatch, data.environment, "forecasts")
    entries = {
        entry.version: entry for entry in ModelRegistry(mlflow.MlflowClient(data.tracking_uri), "pipeline").history()
    }

    assert app.title[0].value == "Forecasts"
    shown = metrics(app)
    december = store.monthly_sales(remove_outliers=True)
    december_total = december.loc[december["year_month"] == 202312, "sales"].sum()
    assert shown["Champion"] == "v1"
    assert shown["Actual 2023-12 (total)"] == f"{december_total:,.0f}"
    assert "Forecast 2024-01 (total)" in shown

    errors = table(app, "month", "rmse", "baseline_rmse")
    assert list(errors["month"]) == ["2023-10", "2023-11"] and list(errors["version"]) == ["1", "2"]
    # The recorded forecasts reproduce the RMSE each version was judged on.
    assert errors["rmse"].tolist() == pytest.approx([entries[v].candidate["rmse"] for v in ("1", "2")], abs=0.01)
    assert errors["baseline_rmse"].tolist() == pytest.approx([entries[v].baseline_rmse for v in ("1", "2")], abs=0.01)

    horizon = table(app, "2024-01")
    assert list(horizon.columns) == ["2024-01", "2024-02", "2024-03"]
    assert len(horizon) == 17 and horizon.index[-1] == "Total"
    assert horizon.loc["Total", "2024-01"] == pytest.approx(horizon.drop(index="Total")["2024-01"].sum(), abs=0.5)
    total_chart = traces(figure(app, "forecast_chart"))
    assert set(total_chart) == {"actual", "forecast (recorded)", "champion forecast"}
    assert total_chart["actual"].y[-1] == pytest.approx(december_total)

    app.slider(key="horizon").set_value(5).run()
    assert list(table(app, "2024-01").columns)[-1] == "2024-05"

    app.selectbox(key="item").set_value("potato").run()
    potato = traces(figure(app, "forecast_chart"))
    # Complete months only: December 2019 holds 2 days of 2020-W01 and is left out.
    potato_sales = december[(december["vegetable"] == "potato") & (december["year_month"] >= 202001)]["sales"]
    assert len(potato["actual"].y) == 48
    assert potato["actual"].y == pytest.approx(potato_sales.to_numpy())
    assert len(potato["forecast (recorded)"].y) == 2
    whiskers = potato["forecast (recorded)"]  # each version's logged 80 % interval
    assert len(whiskers.error_plus) == 2 and all(value > 0 for value in [*whiskers.error_plus, *whiskers.error_minus])
    assert "Recorded 80 % intervals (whiskers, per item) held" in " ".join(caption.value for caption in app.caption)
    assert potato["champion forecast"].y[1] == pytest.approx(table(app, "2024-01").loc["potato", "2024-01"], abs=0.05)
    band = potato["champion 80 % interval"]  # hi over the 5 months, then lo back: around the forecast
    ahead = list(potato["champion forecast"].y[1:])
    assert len(band.y) == 10 and all(list(band.y[:5])[k] >= ahead[k] >= list(band.y[5:])[::-1][k] for k in range(5))
    assert band.y[4] - band.y[5] > band.y[0] - band.y[9]  # wider at step 5 than at step 1

    rows = table(app, "abs_pct_error")
    assert len(rows) == 16 and set(rows["version"]) == {"2"}  # newest recorded month first


def test_models_page_shows_versions_aliases_decisions_and_error_analysis(monkeypatch, data):
    app = open_page(monkeypatch, data.environment, "models")
    history = ModelRegistry(mlflow.MlflowClient(data.tracking_uri), "pipeline").history()
    first, second = history

    assert app.title[0].value == "Models"
    shown = metrics(app)
    assert (shown["Champion"], shown["Challenger"], shown["Versions"]) == ("v1", "v2", "2")
    assert shown["Champion RMSE"] == f"{first.candidate['rmse']:,.4g}"
    versions = table(app, "version", "aliases")
    assert versions[["version", "aliases", "decision"]].values.tolist() == [
        [2, "challenger", "kept"],
        [1, "champion", "promoted"],
    ]
    assert versions["rmse"].tolist() == pytest.approx([second.candidate["rmse"], first.candidate["rmse"]], abs=0.05)
    assert versions["champion_rmse"].tolist()[0] == pytest.approx(second.champion["rmse"], abs=0.05)
    history_text = " ".join(block.value for block in app.markdown)
    assert first.reason in history_text and second.reason in history_text
    assert "first champion: beats SameMonthLastYearSales" in history_text
    assert set(traces(figure(app, "versions_chart"))) == {"version RMSE", "baseline RMSE", "champion RMSE (same month)"}

    # The newest version's error analysis by default: its overall RMSE is the one it was judged on.
    assert app.selectbox(key="ea").value == "2"
    assert metrics(app)["RMSE"] == f"{second.candidate['rmse']:,.4g}"
    assert list(table(app, "bucket")["bucket"]) == ["Q1", "Q2", "Q3", "Q4"]
    worst = table(app, "forecast", "month")
    assert len(worst) == 10 and list(worst.columns[:5]) == ["month", "item_id", "actual", "forecast", "error"]
    assert worst["error"].abs().is_monotonic_decreasing

    app.selectbox(key="ea").set_value("1").run()
    assert metrics(app)["RMSE"] == f"{first.candidate['rmse']:,.4g}"


@pytest.mark.parametrize("page", ["forecasts", "models"])
def test_model_pages_say_how_to_train_when_there_is_no_model(monkeypatch, tmp_path, page):
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    app = open_page(monkeypatch, {"SALESCAST_MLFLOW_TRACKING_URI": uri}, page)
    assert app.info[0].value == NO_MODEL.format(uri=uri)
    assert "salescast train" in app.info[0].value and "kind: database" in app.info[0].value
    assert not (tmp_path / "mlruns").exists()


def test_drift_page_shows_the_latest_report_and_older_months(monkeypatch, data):
    app = open_page(monkeypatch, data.environment, "drift")
    assert app.title[0].value == "Drift"
    assert metrics(app) == {
        "Month monitored": "2023-12",
        "Champion": "v1",
        "Drifted features": "1 / 5",
        "Performance drift": "yes",
    }
    assert app.error[0].value.startswith("Drift in 2023-12: growth.")
    drift = table(app, "psi", "ks_pvalue")
    assert drift["name"].tolist() == ["same_month_last_year", "last_year_average", "growth", "target", "prediction"]
    assert drift.loc[drift["name"] == "growth", "psi"].item() == pytest.approx(0.31)
    psi = figure(app, "psi_chart")
    assert traces(psi)["PSI"].x == ["same_month_last_year", "last_year_average", "growth", "target"]
    assert psi.layout.shapes[0].y0 == pytest.approx(0.2)  # the threshold line
    performance = table(app, "champion_rmse")
    assert performance["month"].tolist() == ["2023-10", "2023-11", "2023-12"]
    assert performance["champion_rmse"].tolist() == pytest.approx([411.2, 370.5, 492.0])

    assert app.selectbox(key="report").options == ["latest", "2023-12", "2023-11"]
    app.selectbox(key="report").set_value("2023-11").run()
    assert app.success[0].value.startswith("No drift in 2023-11.")
    assert metrics(app)["Drifted features"] == "0 / 5"


def test_drift_page_says_how_to_monitor_and_names_a_broken_report(monkeypatch, tmp_path):
    reports = tmp_path / "reports"
    app = open_page(monkeypatch, {"SALESCAST_REPORTS_DIR": str(reports)}, "drift")
    assert app.info[0].value == NO_REPORT.format(folder=reports / "monitoring")
    assert "salescast monitor" in app.info[0].value

    write_monitoring_report(reports, {"month": "2024-01", "drifted": False})
    app = open_page(monkeypatch, {"SALESCAST_REPORTS_DIR": str(reports)}, "drift")
    assert "lacks key(s) ['created_at', 'thresholds', 'data_drift'" in app.error[0].value


def test_every_page_lists_where_its_data_comes_from(monkeypatch, data):
    app = open_page(monkeypatch, data.environment)
    captions = [caption.value for caption in app.sidebar.caption]
    assert captions == [
        f"Database: `{data.database_url}`",
        f"MLflow: `{data.tracking_uri}`",
        f"Reports: `{data.reports_dir}`",
    ]
    assert app.sidebar.button[0].label == "Refresh data"


def test_drift_page_reads_a_report_written_by_salescast_monitor(monkeypatch, tmp_path):
    """The fixture is the report.json `salescast monitor` (issue 6) wrote for the README's demo data."""
    report = json.loads(
        (Path(__file__).parents[2] / "fixtures" / "monitoring_report_salescast_monitor.json").read_text()
    )
    write_monitoring_report(tmp_path, report)
    app = open_page(monkeypatch, {"SALESCAST_REPORTS_DIR": str(tmp_path)}, "drift")
    drifted = [row["name"] for row in report["data_drift"] if row["drifted"]]
    assert metrics(app) == {
        "Month monitored": report["month"],
        "Champion": f"v{report['champion']['version']}",
        "Drifted features": f"{len(drifted)} / {len(report['data_drift'])}",
        "Performance drift": "yes" if report["performance_drift"]["drifted"] else "no",
    }
    assert app.error[0].value.startswith(f"Drift in {report['month']}: {', '.join(drifted)}.")
    assert table(app, "psi", "ks_pvalue")["name"].tolist() == [row["name"] for row in report["data_drift"]]
    assert len(table(app, "champion_rmse")) == len(report["performance"])


def test_sales_are_cached_until_refresh_data_is_pressed(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'sales.db'}"
    fill_sales_database(url, rows=[{"year_week": 202301, "vegetable": "tomate", "sales": 70.0}])
    app = open_page(monkeypatch, {"SALESCAST_DATABASE_URL": url})
    assert metrics(app)["Vegetables"] == "1"

    fill_sales_database(url, rows=[{"year_week": 202301, "vegetable": "zanahoria", "sales": 12.0}])
    other_session = open_page(monkeypatch, {})
    assert metrics(other_session)["Vegetables"] == "1"  # served from the cache (60 s), shared by sessions
    # AppTest keeps the entry script's sidebar only in its first run's tree: click the button from there.
    app.sidebar.button[0].click().run()
    assert metrics(app)["Vegetables"] == "2"
    assert app.multiselect(key="vegetables").options == ["tomato", "carrot"]


def test_versions_without_a_champion_show_recorded_forecasts_and_say_why(monkeypatch, tmp_path, data):
    """One version that lost to the baseline: no champion, no horizon, but its forecasts and decision are shown."""
    settings = data.settings.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    (result,) = train_versions(settings, data.pipeline, ("2023-11",))
    assert result.decision == "kept"
    environment = {**data.environment, "SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}

    forecasts = open_page(monkeypatch, environment, "forecasts")
    assert "no version of pipeline holds the 'champion' alias" in forecasts.warning[0].value
    assert "Champion" not in metrics(forecasts) and "Forecast 2024-01 (total)" not in metrics(forecasts)
    assert table(forecasts, "month", "rmse", "baseline_rmse")["month"].tolist() == ["2023-11"]
    assert set(traces(figure(forecasts, "forecast_chart"))) == {"actual", "forecast (recorded)"}

    models = open_page(monkeypatch, environment, "models")
    assert (metrics(models)["Champion"], metrics(models)["Challenger"]) == ("none", "v1")
    assert models.warning[0].value.startswith("No version is champion")
