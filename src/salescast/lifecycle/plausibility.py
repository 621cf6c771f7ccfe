"""The plausibility gate: a candidate's forecasts checked against each item's own history after prediction.

A forecast is **implausible** when it is not finite, is negative, or lies outside its item's history
range widened by ``multiple`` times that range on both sides::

    low  = max(0, min − multiple · (max − min))        high = max + multiple · (max − min)

where ``min`` and ``max`` are the item's sales before the forecast month. The range of an item whose
history is constant is its level (``max``), so a flat history of 5 allows 0 … 10 at ``multiple`` 1; an
item whose history is all zeros allows only 0, and an item without history is checked for finite and
≥ 0 only. ``multiple`` is the ``plausible_range_multiple`` setting (``SALESCAST_PLAUSIBLE_RANGE_MULTIPLE``,
default 1). A model with any implausible forecast is not promoted, and the reason names the items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

ITEMS_SHOWN = 5
FLAG_COLUMNS = ["dates", "item_id", "prediction", "history_min", "history_max", "low", "high", "problem"]


@dataclass(frozen=True)
class PlausibilityReport:
    """The check of one set of forecasts: the rows flagged (columns :data:`FLAG_COLUMNS`) and the multiple used."""

    flagged: pd.DataFrame
    multiple: float
    checked: int

    @property
    def plausible(self) -> bool:
        return self.flagged.empty

    @property
    def items(self) -> list:
        """The flagged items, in order of first appearance (one item may be flagged in several months)."""
        return list(dict.fromkeys(self.flagged["item_id"].tolist()))

    def describe(self, shown: int = ITEMS_SHOWN) -> str:
        """One sentence: all plausible, or how many items are flagged, the first ``shown`` with their value and
        bounds, and the rule."""
        rule = f"within each item's history range ± {self.multiple:g}× that range, finite and ≥ 0"
        if self.plausible:
            return f"plausible: all {self.checked} forecasts {rule}"
        first = self.flagged.drop_duplicates("item_id").head(shown)
        examples = ", ".join(_describe_row(row) for row in first.itertuples(index=False))
        more = f" and {len(self.items) - len(first)} more" if len(self.items) > len(first) else ""
        return (
            f"implausible forecasts for {len(self.items)} item(s) of {self.checked} forecasts: {examples}{more} "
            f"(a plausible forecast is {rule})"
        )


def _describe_row(row) -> str:
    if row.problem in ("not finite", "negative"):
        return f"{row.item_id} ({row.prediction:.4g}: {row.problem})"
    return f"{row.item_id} ({row.prediction:.4g} {row.problem}, allowed {row.low:.4g}…{row.high:.4g})"


def history_range(history: pd.DataFrame) -> pd.DataFrame:
    """Per item (index), ``history_min`` and ``history_max`` of ``sales`` in ``history`` (NaN sales ignored)."""
    grouped = history.groupby("item_id", sort=False)["sales"]
    return pd.DataFrame({"history_min": grouped.min(), "history_max": grouped.max()})


def check_plausibility(predictions: pd.DataFrame, history: pd.DataFrame, multiple: float = 1.0) -> PlausibilityReport:
    """Check ``predictions`` (``dates``, ``item_id``, ``prediction``) against ``history`` (``item_id``, ``sales``:
    the months before the forecast months); see the module docstring for the rule.

    Raises ``ValueError`` for a ``multiple`` that is not a positive finite number.
    """
    return check_ranges(predictions, history_range(history), multiple)


def check_ranges(predictions: pd.DataFrame, ranges: pd.DataFrame, multiple: float = 1.0) -> PlausibilityReport:
    """:func:`check_plausibility` against per-item ranges already computed (:func:`history_range`'s frame, e.g.
    one Spark group's items at a time)."""
    if not (isinstance(multiple, int | float) and np.isfinite(multiple) and multiple > 0):
        raise ValueError(f"the plausible range multiple must be a number > 0, got {multiple!r}")
    frame = predictions[["dates", "item_id", "prediction"]].join(ranges, on="item_id")
    value = frame["prediction"].to_numpy(dtype=np.float64)
    low_history, high_history = frame["history_min"].to_numpy(), frame["history_max"].to_numpy()
    span = high_history - low_history
    span = np.where(span > 0, span, high_history)  # a constant history: its level
    frame["low"] = np.clip(low_history - multiple * span, 0.0, None)
    frame["high"] = high_history + multiple * span
    known = ~np.isnan(high_history)
    finite = np.isfinite(value)
    problem = np.full(len(frame), "", dtype=object)
    with np.errstate(invalid="ignore"):
        problem[known & finite & (value > frame["high"].to_numpy())] = "above range"
        problem[known & finite & (value < frame["low"].to_numpy())] = "below range"
        problem[finite & (value < 0)] = "negative"
    problem[~finite] = "not finite"
    frame["problem"] = problem
    flagged = frame[frame["problem"] != ""][FLAG_COLUMNS].reset_index(drop=True)
    report = PlausibilityReport(flagged, float(multiple), len(frame))
    if not report.plausible:
        logger.warning("%s", report.describe())
    return report
