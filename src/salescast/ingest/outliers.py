"""The outlier rule for cleaned weekly sales.

A cleaned weekly sale is an outlier when it lies more than ``threshold`` sample standard deviations
(ddof = 1) from the mean of **its own vegetable's** weekly sales. Vegetables sell at very different
scales, so one global mean would flag every week of the big sellers and hide the small ones'
anomalies. A vegetable with fewer than two weeks has no standard deviation and no outliers.

The rule is written once, as a SQL condition on ``(sales - mean)² > threshold² · variance`` — the
squared form needs no square root (SQLite may lack one) and is equivalent since both sides are ≥ 0.
"""

from __future__ import annotations

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
