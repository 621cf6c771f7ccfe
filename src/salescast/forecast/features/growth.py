"""``growth``: recent growth, Σ M−1…M−3 / Σ M−13…M−15, and its product with M−12.

The product ``growth_x_same_month_last_year`` is what a linear model needs to express "last year's
month, scaled by how the last quarter compares with the same quarter a year before" — the generative
process's third term.
"""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, lag, safe_ratio, window_sum
from salescast.forecast.panel import Panel

NAME = "growth"
TARGET_HISTORY = True  # reads only past sales: computed on the transformed target
PRODUCT = "growth_x_same_month_last_year"


def compute(panel: Panel) -> FeatureOutput:
    """Growth ratio (NaN if a month is missing or the year-ago quarter sold nothing) and its product with M−12."""
    growth = safe_ratio(window_sum(panel.sales, 1, 3), window_sum(panel.sales, 13, 15))
    return FeatureOutput({NAME: growth, PRODUCT: growth * lag(panel.sales, 12)}, frozenset({PRODUCT}))
