"""Recorded forecasts, error by month and the chart series, on small explicit frames."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from salescast.dashboard.forecast_data import (
    TOTAL,
    complete_history,
    error_by_month,
    forecast_view,
    horizon_frame,
    horizon_table,
)
from salescast.lifecycle.registry import HistoryEntry


def entry(version: str, baseline: float) -> HistoryEntry:
    return HistoryEntry(
        version=version,
        created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        run_id=f"run{version}",
        test_month="",
        train_months="",
        decision="kept",
        reason="",
        candidate={},
        champion={},
        champion_version="",
        baseline_rmse=baseline,
        fingerprint="",
    )


def recorded() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2023-10-01", "2023-10-01", "2023-11-01", "2023-11-01"]),
            "item_id": ["a", "b", "a", "b"],
            "version": ["1", "1", "2", "2"],
            "actual": [100.0, 50.0, 80.0, 0.0],
            "forecast": [110.0, 44.0, 80.0, 4.0],
        }
    )
    return frame.assign(error=frame["forecast"] - frame["actual"])


def test_error_by_month_scores_each_recorded_month():
    errors = error_by_month(recorded(), [entry("1", 9.0), entry("2", 1.5)])
    october, november = errors.to_dict("records")
    assert october["rmse"] == pytest.approx(math.sqrt((10**2 + 6**2) / 2))
    assert october["mae"] == 8.0 and october["bias"] == 2.0 and october["items"] == 2
    assert october["total_error_pct"] == pytest.approx((154 - 150) / 150 * 100)
    assert (october["baseline_rmse"], november["baseline_rmse"]) == (9.0, 1.5)
    assert november["rmse"] == pytest.approx(math.sqrt(16 / 2)) and november["total_error_pct"] == 5.0


def test_forecast_view_for_one_item_and_for_the_total():
    history = pd.DataFrame(
        {
            "dates": pd.to_datetime(["2023-10-01", "2023-10-01", "2023-11-01"]),
            "item_id": [1, 2, 1],
            "sales": [3.0, 4.0, 5.0],
        }
    )
    horizon = pd.DataFrame(
        {"dates": pd.to_datetime(["2023-12-01", "2023-12-01"]), "item_id": [1, 2], "prediction": [6.0, 7.0], "step": 1}
    )
    frame = recorded().assign(item_id=["1", "2", "1", "2"])
    total = forecast_view(history, frame, horizon, TOTAL)
    assert total.actual["sales"].tolist() == [7.0, 5.0]
    assert total.recorded[["forecast", "actual"]].values.tolist() == [[154.0, 150.0], [84.0, 80.0]]
    assert total.horizon["forecast"].tolist() == [13.0]
    one = forecast_view(history, frame, horizon, "2")  # integer item ids match their text
    assert one.actual["sales"].tolist() == [4.0] and one.horizon["forecast"].tolist() == [7.0]
    assert one.recorded["version"].tolist() == ["1", "2"]
    # versions recorded before intervals existed have no bounds: the view has none either
    assert list(one.recorded.columns) == ["month", "forecast", "actual", "version"]
    bounded = frame.assign(lo_80=[90.0, 40.0, 70.0, 2.0], hi_80=[120.0, 50.0, 90.0, 6.0])
    assert forecast_view(history, bounded, horizon, "2").recorded[["lo_80", "hi_80"]].values.tolist() == [
        [40.0, 50.0],
        [2.0, 6.0],
    ]


def test_horizon_table_has_a_total_row():
    horizon = pd.DataFrame(
        {
            "dates": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01"]),
            "item_id": ["b", "a", "b", "a"],
            "prediction": [1.0, 2.0, 3.0, 4.04],
            "step": [1, 1, 2, 2],
        }
    )
    table = horizon_table(horizon)
    assert list(table.columns) == ["2024-01", "2024-02"] and list(table.index) == ["a", "b", TOTAL]
    assert table.loc[TOTAL].tolist() == [3.0, 7.0] and table.loc["a", "2024-02"] == 4.0


def test_horizon_rows_of_the_api_become_steps():
    rows = [
        {"item_id": 7, "month": "2024-02", "prediction": 2.0, "model_version": "1"},
        {"item_id": 7, "month": "2024-01", "prediction": 1.0, "model_version": "1"},
        {"item_id": 8, "month": "2024-01", "prediction": 3.0, "model_version": "1"},
    ]
    frame = horizon_frame(rows)
    assert frame["step"].tolist() == [2, 1, 1]
    assert frame["dates"].tolist() == [
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-01"),
    ]
    assert horizon_frame([]).empty and list(horizon_frame([]).columns) == ["dates", "item_id", "prediction", "step"]


def test_complete_history_drops_partial_months():
    sales = pd.DataFrame(
        {"dates": pd.to_datetime(["2019-12-01", "2020-01-01"]), "item_id": [1, 1], "sales": [2.0, 30.0]}
    )
    assert complete_history(sales, [pd.Timestamp("2019-12-01")])["sales"].tolist() == [30.0]
