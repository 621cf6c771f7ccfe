"""``structural_history`` (internal, for CustomModel): the window of raw history the structural equations need.

For month M: sales at M−1 … M−30, marketing and the price push r(M−k+1) − r(M−k) at M … M−30 (when those
sources exist), flags at M−1 … M−30 for months whose sales do not show demand: a stockout (sales
censored, the unmet rest sold the month after) and a June pushed to its objective (the extra taken back
in July; an eligible June with a stockout in it or in May is flagged too, as its sales cannot tell), and
the remaining amount of each eligible June at M … M−30 (0 elsewhere; sales units).
Thirty lags let the model rebuild the demand of any such month in M−1 … M−15 from its own 15-month history.
"""

from __future__ import annotations

import numpy as np

from salescast.forecast.equations import price_push
from salescast.forecast.features import objectives, stock
from salescast.forecast.features.base import FeatureOutput, lag
from salescast.forecast.panel import Panel

NAME = "structural_history"
WINDOW = 30


def column(kind: str, k: int) -> str:
    """The column name of ``kind`` (sales, marketing, price_push, stockout, pushed, remaining) at lag ``k``."""
    return f"hist_{kind}_{k}"


def compute(panel: Panel) -> FeatureOutput:
    """Lagged sales, exogenous inputs and disturbance flags (only for the sources the panel has)."""
    columns = {column("sales", k): lag(panel.sales, k) for k in range(1, WINDOW + 1)}
    if panel.marketing is not None:
        columns |= {column("marketing", k): lag(panel.marketing, k) for k in range(WINDOW + 1)}
    if panel.price is not None:
        push = price_push(panel.price)
        columns |= {column("price_push", k): lag(push, k) for k in range(WINDOW + 1)}
    stockout = None
    if panel.refill is not None:
        stockout = stock.closing_stock(panel)[2]
        columns |= {column("stockout", k): np.nan_to_num(lag(stockout.astype(float), k)) for k in range(1, WINDOW + 1)}
    sales_units = {column("sales", k) for k in range(1, WINDOW + 1)}
    if panel.objective is not None:
        remaining, eligible = objectives.june_remaining(panel)
        pushed = objectives.june_met(panel)
        if stockout is not None:  # a stockout in June or May hides whether June was pushed
            pushed = pushed | (eligible & (stockout | (lag(stockout.astype(float), 1) > 0)))
        columns |= {column("pushed", k): np.nan_to_num(lag(pushed.astype(float), k)) for k in range(1, WINDOW + 1)}
        columns |= {column("remaining", k): np.nan_to_num(lag(remaining, k)) for k in range(WINDOW + 1)}
        sales_units |= {column("remaining", k) for k in range(WINDOW + 1)}
    return FeatureOutput(columns, frozenset(sales_units))
