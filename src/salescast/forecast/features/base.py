"""What a feature returns, and the grid operations features share (lags and strict windows).

A feature is a pure function ``compute(panel) -> FeatureOutput``. Each output matrix has the panel's
shape and holds, at (item, month M), the value known when forecasting M: sales strictly before M, and
exogenous data known in advance (the marketing plan for M, prices for M and M+1, refills scheduled in M,
the objectives).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from salescast.forecast.panel import Panel


@dataclass(frozen=True)
class FeatureOutput:
    """Model columns and, for features that constrain training or predictions, a mask and a cap.

    ``sales_unit_columns`` are the columns measured in the item's sales units: a per-item target scaling
    divides them by the item's level together with the target. ``train_mask`` is False on (item, month)
    cells that must not be used for training; ``cap`` bounds predictions (NaN: no bound).
    """

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    sales_unit_columns: frozenset[str] = frozenset()
    train_mask: np.ndarray | None = None
    cap: np.ndarray | None = None


class MissingSourceError(ValueError):
    """A feature needs a data source the configuration does not give."""


def require(source: np.ndarray | None, feature: str, name: str) -> np.ndarray:
    """The panel's ``source`` matrix, or an error saying which data entry the feature needs."""
    if source is None:
        raise MissingSourceError(
            f"feature '{feature}' needs the '{name}' data source: add data.{name}: <csv path> to the config, "
            f"or remove '{feature}' from features"
        )
    return source


def lag(matrix: np.ndarray, k: int) -> np.ndarray:
    """Value at month M−k for each month M (NaN where M−k is before the grid). ``k`` may be negative (a lead)."""
    out = np.full(matrix.shape, np.nan)
    if k == 0:
        return matrix.copy()
    width = matrix.shape[1]
    if 0 < k < width:
        out[:, k:] = matrix[:, :-k]
    elif 0 < -k < width:
        out[:, :k] = matrix[:, -k:]
    return out


def window_sum(matrix: np.ndarray, first: int, last: int) -> np.ndarray:
    """Σ of months M−first … M−last; NaN if any of them is missing (a gap never borrows a neighbour)."""
    total = lag(matrix, first)
    for k in range(first + 1, last + 1):
        total = total + lag(matrix, k)
    return total


def window_mean(matrix: np.ndarray, first: int, last: int) -> np.ndarray:
    """Mean of months M−first … M−last, NaN if any is missing."""
    return window_sum(matrix, first, last) / (last - first + 1)


def item_level(panel: Panel) -> np.ndarray:
    """The item's recent level: mean of the sales it has in M−1 … M−12 (NaN if none).

    Unlike :func:`window_mean` it tolerates gaps: it scales exogenous effects and per-item targets, where a
    rough level beats none.
    """
    stacked = np.stack([lag(panel.sales, k) for k in range(1, 13)])
    counts = np.sum(~np.isnan(stacked), axis=0)
    sums = np.nansum(stacked, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is not positive or either side is missing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)
