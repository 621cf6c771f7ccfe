"""The outlier rule for cleaned weekly sales.

A cleaned weekly sale is an outlier when it lies more than ``threshold`` sample standard deviations
(ddof = 1) from the mean of **its own vegetable's** weekly sales. Vegetables sell at very different
scales, so one global mean would flag every week of the big sellers and hide the small ones'
anomalies. A vegetable with fewer than two weeks has no standard deviation and no outliers.

The rule is ``(sales - mean)² > threshold² · variance`` — the squared form needs no square root (SQLite
may lack one) and is equivalent since both sides are ≥ 0. It exists twice, as a SQL condition (to flag
a whole table at once) and in Python (to re-judge a few candidate weeks); both evaluate the same IEEE
double expression in the same order, so they agree on every week, boundary included.
"""

from __future__ import annotations

import math

from sqlalchemy import ColumnElement, and_


def sample_variance(weeks: int, squared_deviations: float) -> float | None:
    """Sample variance (ddof = 1) from a count and the sum of squared deviations; None below two weeks."""
    if weeks < 2:
        return None
    return max(squared_deviations, 0.0) / (weeks - 1)


def outlier_condition(sales: ColumnElement, mean: ColumnElement, variance: ColumnElement, threshold: float):
    """SQL condition true for weeks beyond ``threshold`` standard deviations of their vegetable's mean."""
    deviation = sales - mean
    return and_(variance.is_not(None), deviation * deviation > (threshold * threshold) * variance)


def is_outlier(sales: float, mean: float, variance: float | None, threshold: float) -> bool:
    """The rule of :func:`outlier_condition` on plain numbers."""
    if variance is None:
        return False
    deviation = sales - mean
    return deviation * deviation > (threshold * threshold) * variance


def candidate_bounds(mean: float, variance: float, threshold: float) -> tuple[float, float]:
    """``(low, high)``: every outlier has sales ≤ low or ≥ high (a slightly widened band, for an index scan).

    The band is narrowed by a relative 1e-9 so that rounding in the square root never hides an
    outlier; the exact rule (:func:`is_outlier`) then decides on each candidate.
    """
    reach = threshold * math.sqrt(variance) * (1 - 1e-9)
    slack = 1e-9 * abs(mean)
    return mean - reach + slack, mean + reach - slack
