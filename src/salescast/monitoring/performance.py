"""Performance drift: the champion's one-month-ahead error against the SameMonthLastYearSales baseline.

Scored months are the months with actuals **after** the champion's training window (its test month
onwards — a model scored on months it was fitted on looks better than it is), up to the monitored
month, the last ``window_months`` of them (3 by default). RMSE and MAE are computed month by month on
the same (item, month) rows for both; the verdict pools the window (RMSE over all its rows):

    performance drift  ⇔  champion RMSE > baseline RMSE × (1 + tolerance)      (tolerance 0 by default)

i.e. the champion has become worse than simply repeating last year's sales for the month.

Beside the pooled errors, each month reports the champion's and the baseline's **mean per-item MASE**
(each item's mean absolute error over its seasonal-naive error on the history before the first scored
month, averaged over items: every item weighs the same, so a champion absurd on the small items shows
even when the big ones keep its RMSE low), and the verdict reports both over the window (the months'
values weighted by their rows). The verdict itself stays the RMSE rule above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from salescast.forecast.metrics import forecast_metrics, seasonal_naive_scale
from salescast.lifecycle.months import format_month
from salescast.lifecycle.promotion import GATE_BASELINE


@dataclass(frozen=True)
class MonthPerformance:
    """One row of the report's ``performance`` list."""

    month: str
    champion_rmse: float
    baseline_rmse: float
    champion_mae: float
    baseline_mae: float
    rows: int
    champion_mase: float = math.nan
    baseline_mase: float = math.nan

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PerformanceDrift:
    """The report's ``performance_drift`` verdict."""

    drifted: bool
    reason: str
    window_months: int
    champion_mase: float = math.nan
    baseline_mase: float = math.nan

    def as_dict(self) -> dict:
        return asdict(self)


def scored_months(
    available: Sequence[pd.Timestamp], trained_on: Sequence[pd.Timestamp], month: pd.Timestamp, window: int
) -> list[pd.Timestamp]:
    """The months scored (module docstring): after the training window, up to ``month``, the last ``window``."""
    after = max(trained_on) if trained_on else None
    eligible = sorted(m for m in available if m <= month and (after is None or m > after))
    return eligible[-window:]


def scored_rows(forecaster, catalog, months: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """dates, item_id, sales, champion, baseline: the rows with actual sales in ``months`` and both forecasts.

    Per item (the baseline repeats the item's sales of a year before), so a subset of items gives its rows.
    """
    from salescast.forecast.pipeline import Forecaster

    months = sorted(months)
    baseline = Forecaster(GATE_BASELINE, features=["same_month_last_year"]).fit(catalog, months)
    actual = catalog.sales[catalog.sales["dates"].isin(months)][["dates", "item_id", "sales"]]
    return actual.merge(
        forecaster.predict(catalog, months).rename(columns={"prediction": "champion"}), on=["dates", "item_id"]
    ).merge(baseline.predict(catalog, months).rename(columns={"prediction": "baseline"}), on=["dates", "item_id"])


def month_performance(forecaster, catalog, months: Sequence[pd.Timestamp]) -> list[MonthPerformance]:
    """Champion and baseline errors for each of ``months`` (oldest first), on the rows with actual sales; MASE's
    scale is each item's seasonal-naive error before the first of ``months``."""
    if not months:
        return []
    months = sorted(months)
    joined = scored_rows(forecaster, catalog, months)
    scale = seasonal_naive_scale(catalog.sales[catalog.sales["dates"] < months[0]])
    rows = []
    for month, group in joined.groupby("dates", sort=True):
        champion = forecast_metrics(group.rename(columns={"champion": "prediction"}), scale)
        base = forecast_metrics(group.rename(columns={"baseline": "prediction"}), scale)
        rows.append(
            MonthPerformance(
                format_month(pd.Timestamp(month)),
                champion["rmse"],
                base["rmse"],
                champion["mae"],
                base["mae"],
                len(group),
                champion["mase"],
                base["mase"],
            )
        )
    return rows


def window_mase(rows: Sequence[MonthPerformance], which: str) -> float:
    """The months' mean MASE weighted by their rows (NaN when no month has one)."""
    pairs = [(row.rows, getattr(row, f"{which}_mase")) for row in rows]
    pairs = [(count, value) for count, value in pairs if value is not None and not math.isnan(value)]
    total = sum(count for count, _ in pairs)
    return sum(count * value for count, value in pairs) / total if total else math.nan


def pooled_rmse(rows: Sequence[MonthPerformance], which: str) -> float:
    """RMSE over every row of the months (months weighted by their row counts)."""
    total = sum(row.rows for row in rows)
    return math.sqrt(sum(row.rows * getattr(row, f"{which}_rmse") ** 2 for row in rows) / total)


def performance_drift(rows: Sequence[MonthPerformance], window: int, tolerance: float = 0.0) -> PerformanceDrift:
    """The verdict on the scored months (module docstring)."""
    if not rows:
        return PerformanceDrift(False, "no month with actuals after the champion's training window yet", window)
    champion, baseline = pooled_rmse(rows, "champion"), pooled_rmse(rows, "baseline")
    champion_mase, baseline_mase = window_mase(rows, "champion"), window_mase(rows, "baseline")
    span = rows[0].month if len(rows) == 1 else f"{rows[0].month}..{rows[-1].month}"
    comparison = f"champion RMSE {champion:.4g} vs {GATE_BASELINE} {baseline:.4g} over {span}"
    mase = f"; mean MASE {_number(champion_mase)} vs {_number(baseline_mase)}"
    if champion > baseline * (1 + tolerance):
        allowed = f" (+{tolerance:.0%} allowed)" if tolerance else ""
        reason = f"champion worse than the baseline: {comparison}{allowed}{mase}"
        return PerformanceDrift(True, reason, window, champion_mase, baseline_mase)
    reason = f"champion at least as good as the baseline: {comparison}{mase}"
    return PerformanceDrift(False, reason, window, champion_mase, baseline_mase)


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"
