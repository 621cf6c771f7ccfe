"""``last_month``: sales at M−1."""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, lag
from salescast.forecast.panel import Panel

NAME = "last_month"
TARGET_HISTORY = True  # reads only past sales: computed on the transformed target


def compute(panel: Panel) -> FeatureOutput:
    """Sales of the previous calendar month (NaN if that month has no sales row)."""
    return FeatureOutput({NAME: lag(panel.sales, 1)}, frozenset({NAME}))
