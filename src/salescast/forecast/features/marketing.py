"""``marketing``: the marketing spend planned for M (0 without a row), alone and times the item's level.

Marketing lifts sales proportionally (the generator multiplies demand by 1 + d·spend), so a global linear
model needs ``marketing_x_level`` to express a lift that grows with the item's size.
"""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, item_level, require
from salescast.forecast.panel import Panel

NAME = "marketing"
SCALED = "marketing_x_level"


def compute(panel: Panel) -> FeatureOutput:
    """Spend in M and spend × mean sales of M−1…M−12."""
    spend = require(panel.marketing, NAME, "marketing")
    return FeatureOutput({NAME: spend, SCALED: spend * item_level(panel)}, frozenset({SCALED}))
