"""``exogenous``: every column of the generic exogenous table, for M, as a model column (NaN without a row).

The table holds numeric values known in advance per (month, item): promotions, holidays, weather plans. The
columns keep their names, as mlforecast's exogenous features do.
"""

from __future__ import annotations

from salescast.forecast.features.base import FeatureOutput, require
from salescast.forecast.panel import Panel

NAME = "exogenous"
TARGET_HISTORY = False


def compute(panel: Panel) -> FeatureOutput:
    """The table's columns on the grid."""
    return FeatureOutput(dict(require(panel.exogenous, NAME, "exogenous")))
