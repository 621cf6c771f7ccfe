"""Interval coverage drift: how often the champion's prediction intervals held the actual sales.

On the same scored months as performance drift (the months with actuals after the champion's training
window, the last ``window_months`` of them), the champion's one-month-ahead intervals of each level in
``levels`` (from its stored calibration) are compared with the actual sales, pooled over the rows:

    coverage drift at level p  ⇔  empirical coverage < p − tolerance_points      (10 points by default)

i.e. an 80 % band that held fewer than 70 % of the actuals is too narrow to size safety stock from. A
champion without a calibration has no intervals to check: the report says so and nothing drifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from salescast.forecast.intervals import level_name
from salescast.forecast.metrics import interval_scores
from salescast.lifecycle.months import format_month


@dataclass(frozen=True)
class LevelCoverage:
    """One level of the report's ``interval_coverage`` list."""

    level: float
    coverage: float  # percent of actuals inside the interval
    rows: int
    drifted: bool

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CoverageDrift:
    """The report's ``interval_coverage`` part: per level, and the verdict."""

    levels: list[LevelCoverage]
    drifted: bool
    reason: str
    tolerance_points: float

    def as_dict(self) -> dict:
        return {**asdict(self), "levels": [level.as_dict() for level in self.levels]}


def coverage_drift(
    forecaster, catalog, months: Sequence[pd.Timestamp], levels: Sequence[float], tolerance_points: float = 10.0
) -> CoverageDrift:
    """The verdict on ``months`` (module docstring)."""
    if getattr(forecaster, "calibration_", None) is None:
        return CoverageDrift(
            [], False, "the champion has no interval calibration (retrain to get one)", tolerance_points
        )
    if not months or not levels:
        reason = "no month with actuals after the champion's training window yet" if levels else "no levels to check"
        return CoverageDrift([], False, reason, tolerance_points)
    months = sorted(months)
    actual = catalog.sales[catalog.sales["dates"].isin(months)][["dates", "item_id", "sales"]]
    predicted = forecaster.predict(catalog, months, levels=levels)
    joined = actual.merge(predicted, on=["dates", "item_id"])
    if joined.empty:
        return CoverageDrift([], False, "no forecast row has an actual in the scored months", tolerance_points)
    scores = interval_scores(joined, pd.Series(dtype=float), levels)
    rows = []
    for level in levels:
        coverage = scores[f"coverage_{level_name(level)}"]
        rows.append(LevelCoverage(float(level), coverage, len(joined), coverage < level - tolerance_points))
    span = format_month(months[0]) if len(months) == 1 else f"{format_month(months[0])}..{format_month(months[-1])}"
    measured = ", ".join(f"{row.level:g} %: {row.coverage:.1f} %" for row in rows)
    drifted = [row for row in rows if row.drifted]
    if drifted:
        worst = ", ".join(f"{row.level:g} %" for row in drifted)
        reason = (
            f"intervals too narrow at {worst} (coverage {measured} over {span}; {tolerance_points:g} points allowed)"
        )
        return CoverageDrift(rows, True, reason, tolerance_points)
    return CoverageDrift(rows, False, f"coverage {measured} over {span}", tolerance_points)
