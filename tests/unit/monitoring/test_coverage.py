"""Coverage drift: the champion's stored intervals against the actuals after its training window."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.pipeline import Forecaster
from salescast.monitoring.coverage import coverage_drift

MONTHS = pd.date_range("2014-01-01", "2021-12-01", freq="MS")


def _catalog(items: int = 20):
    rng = np.random.default_rng(5)
    rows = []
    for item in range(items):
        level = (30.0, 400.0)[item % 2]
        for month in MONTHS:
            rows.append(
                (month, item, level * (1 + 0.3 * np.sin(2 * np.pi * month.month / 12)) * (1 + 0.1 * rng.normal()))
            )
    return catalog_from_frames(pd.DataFrame(rows, columns=["dates", "item_id", "sales"]))


def test_calibrated_intervals_hold_and_a_level_shift_is_coverage_drift():
    catalog = _catalog()
    train, scored = catalog.months()[:-6], catalog.months()[-6:]
    champion = Forecaster("Ridge").fit(catalog, train).calibrate(catalog, train)
    steady = coverage_drift(champion, catalog, scored, [80, 95])
    assert not steady.drifted and [row.level for row in steady.levels] == [80.0, 95.0]
    assert all(abs(row.coverage - row.level) <= 12 for row in steady.levels), steady
    assert steady.levels[0].rows == 20 * 6

    sales = catalog.sales.copy()
    later = sales["dates"].isin(scored)
    sales.loc[later, "sales"] *= np.where(sales.loc[later, "dates"] == scored[0], 1.0, 1.6)  # demand jumps
    shifted = coverage_drift(champion, dataclasses.replace(catalog, sales=sales), scored, [80, 95])
    assert shifted.drifted and "too narrow" in shifted.reason
    assert all(row.coverage < row.level - 10 for row in shifted.levels)
    strict = coverage_drift(champion, catalog, scored, [80], tolerance_points=0.0)
    assert strict.drifted == (strict.levels[0].coverage < 80)


def test_an_uncalibrated_champion_or_no_month_is_no_drift_and_says_why():
    catalog = _catalog(4)
    train = catalog.months()[:-6]
    plain = Forecaster("Ridge").fit(catalog, train)
    verdict = coverage_drift(plain, catalog, catalog.months()[-6:], [80])
    assert not verdict.drifted and "no interval calibration" in verdict.reason
    plain.calibrate(catalog, train)
    assert "no month" in coverage_drift(plain, catalog, [], [80]).reason
