"""``price``: the relative price change announced for next month and the one that happened this month.

With r(M) = price(M) / price(M−1) − 1, the columns are ``price_change_next`` = r(M+1) (announced, so
known when forecasting M), ``price_change_this`` = r(M), and ``price_push_x_level`` = (r(M+1) − r(M)) ×
the item's level — buyers stock up before a rise and buy less after it, proportionally to their size.
A month without a price row keeps the last known price, so an unknown change counts as no change (0).
"""

from __future__ import annotations

from salescast.forecast.equations import relative_price_changes
from salescast.forecast.features.base import FeatureOutput, item_level, require
from salescast.forecast.panel import Panel

NAME = "price"
NEXT = "price_change_next"
THIS = "price_change_this"
SCALED = "price_push_x_level"


def compute(panel: Panel) -> FeatureOutput:
    """r(M+1), r(M) and (r(M+1) − r(M)) × level; ``panel.price`` has one column past the grid for r(M+1)."""
    changes = relative_price_changes(require(panel.price, NAME, "price"))
    this, following = changes[:, :-1], changes[:, 1:]
    push = (following - this) * item_level(panel)
    return FeatureOutput({NEXT: following, THIS: this, SCALED: push}, frozenset({SCALED}))
