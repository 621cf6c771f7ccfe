"""``lag_<k>``: sales at M−k for any k in 1…36 (``lag_1`` is ``last_month``, ``lag_12``
``same_month_last_year``), for the lags the named features do not cover."""

from __future__ import annotations

import re

from salescast.forecast.features.base import FeatureOutput, lag
from salescast.forecast.panel import Panel

PATTERN = re.compile(r"lag_([1-9]\d?)")
MAX_LAG = 36
TARGET_HISTORY = True


def lag_of(name: str) -> int | None:
    """k for a name ``lag_<k>`` with 1 ≤ k ≤ 36, else None."""
    match = PATTERN.fullmatch(name)
    if match is None or int(match.group(1)) > MAX_LAG:
        return None
    return int(match.group(1))


def feature(k: int):
    def compute(panel: Panel) -> FeatureOutput:
        return FeatureOutput({f"lag_{k}": lag(panel.sales, k)}, frozenset({f"lag_{k}"}))

    compute.__doc__ = f"Sales at M−{k} (NaN if that month has no sales row)."
    return compute
