"""``month_of_year``: the calendar month of M as twelve 0/1 columns (``month_1`` … ``month_12``).

Indicators rather than one number 1…12, so that a linear model can give each month its own effect (a tree
model splits on them just as well). It reads only the calendar.
"""

from __future__ import annotations

import numpy as np

from salescast.forecast.features.base import FeatureOutput
from salescast.forecast.panel import Panel

NAME = "month_of_year"
TARGET_HISTORY = False


def compute(panel: Panel) -> FeatureOutput:
    """One column per calendar month, 1 where M is that month."""
    calendar = panel.calendar_month
    shape = (len(panel.items), panel.n_months)
    columns = {f"month_{m}": np.broadcast_to((calendar == m).astype(np.float64), shape).copy() for m in range(1, 13)}
    return FeatureOutput(columns)
