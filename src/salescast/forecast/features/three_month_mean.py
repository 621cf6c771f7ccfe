"""``three_month_mean``: the mean of M−1 … M−3 (the ThreeMonthMean baseline's input)."""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, window_mean
from salescast.forecast.panel import Panel

NAME = "three_month_mean"
TARGET_HISTORY = True  # reads only past sales: computed on the transformed target


def compute(panel: Panel) -> FeatureOutput:
    """Mean sales of the three previous months; NaN when any of them has no sales row."""
    return FeatureOutput({NAME: window_mean(panel.sales, 1, 3)}, frozenset({NAME}))
