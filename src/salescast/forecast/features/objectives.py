"""``objectives``: the June push towards the yearly objective and its July payback.

Fiscal year Y runs July Y−1 … June Y. In June, remaining = objective − sales of July … May. When
0 < remaining ≤ 20 % of the objective (``equations.PUSH_THRESHOLD``) the sales team can close the gap:
June's sales rise to `remaining` if they would have been lower, and July loses the same extra amount
(buyers pulled purchases forward).

Columns (0 outside their month):

* ``objective_june_eligible`` — 1 in a June where the push is possible;
* ``objective_remaining`` — that June's remaining amount;
* ``objective_july_payback`` — in July, the estimated extra of a June that met its objective within 1 %:
  June's sales minus a parameter-free estimate of what June would have sold (last June × the growth of
  the quarter before it).
"""

from __future__ import annotations

import numpy as np

from salescast.forecast.equations import push_possible
from salescast.forecast.features.base import FeatureOutput, lag, require, safe_ratio, window_sum
from salescast.forecast.panel import Panel

NAME = "objectives"
ELIGIBLE = "objective_june_eligible"
REMAINING = "objective_remaining"
PAYBACK = "objective_july_payback"
MET_TOLERANCE = 0.01  # a June that met its objective within 1 % is taken as pushed


def june_remaining(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """(remaining amount, eligible flag) on the grid; both only in June columns."""
    objective = require(panel.objective, NAME, "objectives")
    june = (panel.calendar_month == 6)[np.newaxis, :]
    remaining = objective - window_sum(panel.sales, 1, 11)
    eligible = june & push_possible(remaining, objective)
    return np.where(eligible, remaining, 0.0), eligible


def june_met(panel: Panel) -> np.ndarray:
    """True in the June columns where the push was possible and June's sales met the objective within 1 %.

    "Met" allows a relative 1e-9 below: remaining is objective − a sum, so an exact push can miss by float error.
    """
    remaining, eligible = june_remaining(panel)
    with np.errstate(invalid="ignore"):
        return eligible & (panel.sales >= remaining * (1 - 1e-9)) & (panel.sales <= remaining * (1 + MET_TOLERANCE))


def compute(panel: Panel) -> FeatureOutput:
    """The June eligibility and remaining amount, and the July payback estimate."""
    remaining, eligible = june_remaining(panel)
    june_sales = lag(panel.sales, 1)
    met = lag(june_met(panel).astype(float), 1) == 1.0
    growth_before_june = safe_ratio(window_sum(panel.sales, 2, 4), window_sum(panel.sales, 14, 16))
    estimate = lag(panel.sales, 13) * np.where(np.isnan(growth_before_june), 1.0, growth_before_june)
    payback = np.where(met, np.clip(june_sales - np.nan_to_num(estimate, nan=np.inf), 0.0, None), 0.0)
    payback = np.nan_to_num(payback, nan=0.0, posinf=0.0)
    columns = {ELIGIBLE: eligible.astype(float), REMAINING: remaining, PAYBACK: payback}
    return FeatureOutput(columns, frozenset({REMAINING, PAYBACK}))
