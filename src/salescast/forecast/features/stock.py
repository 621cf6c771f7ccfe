"""``stock``: stockouts leave training, and predictions are capped at the stock available.

Stock starts at 0 and closing(M) = Σ refills up to M − Σ sales up to M. Before an item's first sales row
its sales count as 0; after a month with no sales row the stock is unknown (NaN) from then on — no cap —
and so it is after the stock file's last month, whose refills are not known yet.
An item the stock file does not list is not tracked (no cap, no mask), and where recorded sales exceed
the recorded refills (negative stock) the stock data is incomplete: no cap there either.

* A month whose closing stock is 0 sold less than its demand, and the next month sold that unmet demand
  on top of its own: both are left out of training (``train_mask``).
* ``cap`` = available(M) = closing(M−1) + refills scheduled in M: nothing can sell beyond it.

It adds no model column.
"""

from __future__ import annotations

import numpy as np

from salescast.forecast.features.base import FeatureOutput, lag, require
from salescast.forecast.panel import Panel

NAME = "stock"
RELATIVE_TOLERANCE = 1e-9


def closing_stock(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(closing stock, available stock, stockout flag) on the grid."""
    refill = require(panel.refill, NAME, "stock")
    started = np.cumsum(~np.isnan(panel.sales), axis=1) > 0
    sales = np.where(started, panel.sales, 0.0)
    cumulative_refill = np.cumsum(refill, axis=1)
    closing = cumulative_refill - np.cumsum(sales, axis=1)  # NaN from the first gap on
    previous = lag(closing, 1)
    previous[:, 0] = 0.0
    available = previous + refill
    tolerance = RELATIVE_TOLERANCE * np.maximum(1.0, cumulative_refill)  # float error of the running sums
    with np.errstate(invalid="ignore"):
        available = np.where(np.abs(available) <= tolerance, 0.0, available)
        available = np.where(available >= 0, available, np.nan)
    with np.errstate(invalid="ignore"):  # NaN compares False: an unknown stock is not a stockout
        stockout = (closing <= tolerance) & (closing >= -tolerance)
    return closing, available, stockout


def compute(panel: Panel) -> FeatureOutput:
    """Mask out stockout months and the months after them; cap at the available stock."""
    _, available, stockout = closing_stock(panel)
    after = np.zeros_like(stockout)
    after[:, 1:] = stockout[:, :-1]
    return FeatureOutput({}, frozenset(), train_mask=~(stockout | after), cap=available)
