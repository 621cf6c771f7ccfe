"""``same_month_last_year``: sales at M−12."""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, lag
from salescast.forecast.panel import Panel

NAME = "same_month_last_year"
TARGET_HISTORY = True  # reads only past sales: computed on the transformed target


def compute(panel: Panel) -> FeatureOutput:
    """Sales twelve calendar months earlier (NaN if that month has no sales row)."""
    return FeatureOutput({NAME: lag(panel.sales, 12)}, frozenset({NAME}))
