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
    unchecked = coverage_unchecked(forecaster, months, levels, tolerance_points)
    if unchecked is not None:
        return unchecked
    months = sorted(months)
    joined = interval_rows(forecaster, catalog, months, levels)
    if joined.empty:
        return coverage_verdict(months, levels, [], 0, tolerance_points)
    scores = interval_scores(joined, pd.Series(dtype=float), levels)
    coverages = [scores[f"coverage_{level_name(level)}"] for level in levels]
    return coverage_verdict(months, levels, coverages, len(joined), tolerance_points)


def coverage_unchecked(
    forecaster, months: Sequence[pd.Timestamp], levels: Sequence[float], tolerance_points: float
) -> CoverageDrift | None:
    """The verdict when there is nothing to check (no calibration, no month, no level); None otherwise."""
    if getattr(forecaster, "calibration_", None) is None:
        return CoverageDrift(
            [], False, "the champion has no interval calibration (retrain to get one)", tolerance_points
        )
    if not months or not levels:
        reason = "no month with actuals after the champion's training window yet" if levels else "no levels to check"
        return CoverageDrift([], False, reason, tolerance_points)
    return None


def interval_rows(forecaster, catalog, months: Sequence[pd.Timestamp], levels: Sequence[float]) -> pd.DataFrame:
    """The rows with actual sales in ``months`` and the champion's one-month-ahead bounds of ``levels``.

    Per item (the calibration keeps each item's scale), so a subset of items gives its rows.
    """
    actual = catalog.sales[catalog.sales["dates"].isin(list(months))][["dates", "item_id", "sales"]]
    predicted = forecaster.predict(catalog, sorted(months), levels=levels)
    return actual.merge(predicted, on=["dates", "item_id"])


def coverage_verdict(
    months: Sequence[pd.Timestamp],
    levels: Sequence[float],
    coverages: Sequence[float],
    rows: int,
    tolerance_points: float,
) -> CoverageDrift:
    """The verdict from each level's coverage (percent) over ``rows`` rows; no row: nothing to judge."""
    if rows == 0:
        return CoverageDrift([], False, "no forecast row has an actual in the scored months", tolerance_points)
    months = sorted(months)
    checked = [
        LevelCoverage(float(level), coverage, rows, coverage < level - tolerance_points)
        for level, coverage in zip(levels, coverages, strict=True)
    ]
    span = format_month(months[0]) if len(months) == 1 else f"{format_month(months[0])}..{format_month(months[-1])}"
    measured = ", ".join(f"{row.level:g} %: {row.coverage:.1f} %" for row in checked)
    drifted = [row for row in checked if row.drifted]
    if drifted:
        worst = ", ".join(f"{row.level:g} %" for row in drifted)
        reason = (
            f"intervals too narrow at {worst} (coverage {measured} over {span}; {tolerance_points:g} points allowed)"
        )
        return CoverageDrift(checked, True, reason, tolerance_points)
    return CoverageDrift(checked, False, f"coverage {measured} over {span}", tolerance_points)
