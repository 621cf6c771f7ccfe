"""Performance drift: a stale champion loses to SameMonthLastYearSales, a fresh one does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.pipeline import Forecaster
from salescast.monitoring.performance import (
    MonthPerformance,
    month_performance,
    performance_drift,
    pooled_rmse,
    scored_months,
)


def regime_change_catalog(items: int = 20, seed: int = 0):
    """Every item sells ~100 a month until 2020-12, then ~200 (a new store format, say)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", "2022-06-01", freq="MS")
    rows = [
        (month, item, (100.0 if month < pd.Timestamp("2021-01-01") else 200.0) * rng.normal(1, 0.02))
        for item in range(items)
        for month in months
    ]
    return catalog_from_frames(pd.DataFrame(rows, columns=["dates", "item_id", "sales"]))


def months(*texts):
    return [pd.Timestamp(f"{text}-01") for text in texts]


def test_scored_months_start_after_the_training_window_and_keep_the_last_ones():
    available = pd.date_range("2022-01-01", "2022-12-01", freq="MS")
    assert scored_months(available, months("2022-07", "2022-08"), pd.Timestamp("2022-11-01"), 2) == months(
        "2022-10", "2022-11"
    )
    assert scored_months(available, months("2022-11"), pd.Timestamp("2022-11-01"), 3) == []


def test_a_stale_champion_drifts_and_a_fresh_one_does_not():
    catalog = regime_change_catalog()
    scored = months("2022-04", "2022-05", "2022-06")
    # unscaled, Ridge learns the sales level itself, so a regime change leaves it stale (the default per-item
    # scaling follows a new level by itself)
    stale = Forecaster("Ridge", target_scaling=None).fit(catalog, months("2020-07", "2020-08", "2020-09"))
    fresh = Forecaster("Ridge", target_scaling=None).fit(catalog, months("2022-01", "2022-02", "2022-03"))

    stale_rows = month_performance(stale, catalog, scored)
    assert [row.month for row in stale_rows] == ["2022-04", "2022-05", "2022-06"]
    assert all(row.rows == 20 for row in stale_rows)
    verdict = performance_drift(stale_rows, window=3)
    assert verdict.drifted and "worse than the baseline" in verdict.reason
    assert pooled_rmse(stale_rows, "champion") > 5 * pooled_rmse(stale_rows, "baseline")

    assert not performance_drift(month_performance(fresh, catalog, scored), window=3).drifted


def test_tolerance_and_the_empty_window():
    rows = [MonthPerformance("2022-01", 11.0, 10.0, 8.0, 8.0, 10)]
    assert performance_drift(rows, 3).drifted
    assert not performance_drift(rows, 3, tolerance=0.2).drifted
    assert not performance_drift([], 3).drifted


def test_mase_is_reported_per_month_and_over_the_window():
    catalog = regime_change_catalog()
    scored = months("2022-04", "2022-05", "2022-06")
    stale = Forecaster("Ridge", target_scaling=None).fit(catalog, months("2020-07", "2020-08", "2020-09"))
    rows = month_performance(stale, catalog, scored)
    # by hand: each item's seasonal-naive error on the history before 2022-04, then mean |error| / scale per item
    sales = catalog.sales
    history = sales[sales["dates"] < scored[0]].pivot(index="dates", columns="item_id", values="sales")
    scale = (history - history.shift(12)).abs().mean()
    april = sales[sales["dates"] == scored[0]].set_index("item_id")["sales"]
    champion = stale.predict(catalog, scored[:1]).set_index("item_id")["prediction"]
    assert rows[0].champion_mase == pytest.approx(((champion - april).abs() / scale).mean())
    baseline = sales[sales["dates"] == scored[0] - pd.DateOffset(months=12)].set_index("item_id")["sales"]
    assert rows[0].baseline_mase == pytest.approx(((baseline - april).abs() / scale).mean())
    assert all(row.champion_mase > 5 * row.baseline_mase for row in rows)
    verdict = performance_drift(rows, window=3)
    assert verdict.champion_mase == pytest.approx(sum(row.champion_mase for row in rows) / 3)
    assert f"mean MASE {verdict.champion_mase:.4g} vs {verdict.baseline_mase:.4g}" in verdict.reason
    assert set(rows[0].as_dict()) >= {"champion_mase", "baseline_mase", "champion_rmse", "rows"}


def test_mase_defaults_to_nan_for_rows_built_without_it():
    row = MonthPerformance("2022-04", 1.0, 2.0, 1.0, 2.0, 10)
    verdict = performance_drift([row], window=1)
    assert np.isnan(row.champion_mase) and "mean MASE n/a vs n/a" in verdict.reason
