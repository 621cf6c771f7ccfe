"""``last_year_average``: the mean of M−1 … M−12."""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, window_mean
from salescast.forecast.panel import Panel

NAME = "last_year_average"
TARGET_HISTORY = True  # reads only past sales: computed on the transformed target


def compute(panel: Panel) -> FeatureOutput:
    """Mean sales of the twelve previous months; NaN when any of them has no sales row."""
    return FeatureOutput({NAME: window_mean(panel.sales, 1, 12)}, frozenset({NAME}))
