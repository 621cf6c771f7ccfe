"""``marketing``: the marketing spend planned for M (0 without a row), raw and relative to the item's usual spend.

Marketing lifts sales proportionally (the generator multiplies demand by 1 + d·spend), so a pooled linear
model needs the spend times the item's level to express a lift that grows with the item's size. Spend
comes in any currency and scale, and items may spend on different scales: ``marketing_relative_x_level``
divides the spend by the item's *usual* spend — the mean of its positive spends up to M, which are planned
in advance, so nothing after M is read — before the product, so a campaign twice the item's usual size
reads 2 whatever the unit. Standardized (Ridge) or split on (LightGBM), every column is free of the spend's
unit.
"""

from __future__ import annotations

import numpy as np

from salescast.forecast.features.base import FeatureOutput, item_level, require, safe_ratio
from salescast.forecast.panel import Panel

NAME = "marketing"
SCALED = "marketing_x_level"
RELATIVE = "marketing_relative_x_level"


def usual_spend(spend: np.ndarray) -> np.ndarray:
    """The mean of the positive spends of each item up to and including each month (NaN before the first)."""
    positive = spend > 0
    total = np.cumsum(np.where(positive, spend, 0.0), axis=1)
    return safe_ratio(total, np.cumsum(positive, axis=1).astype(float))


def compute(panel: Panel) -> FeatureOutput:
    """Spend in M, spend × mean sales of M−1…M−12, and spend / usual spend × that mean (0 without spend)."""
    spend = require(panel.marketing, NAME, "marketing")
    level = item_level(panel)
    relative = np.where(spend > 0, safe_ratio(spend, usual_spend(spend)), 0.0)
    columns = {NAME: spend, SCALED: spend * level, RELATIVE: relative * level}
    return FeatureOutput(columns, frozenset({SCALED, RELATIVE}))
