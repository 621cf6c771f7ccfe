"""``rolling_mean_<w>`` and ``rolling_std_<w>`` (w = 3, 6, 12): the mean and sample standard deviation of
M−1 … M−w, and ``expanding_mean``: the mean of every month before M.

Rolling windows are strict, like the other windows: NaN when any month of the window has no sales row (a
gap never borrows a neighbour). The expanding mean averages the months present. Computed on the whole
grid at once with numpy's sliding windows.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from salescast.forecast.features.base import FeatureOutput, lag
from salescast.forecast.panel import Panel

WINDOWS = (3, 6, 12)
TARGET_HISTORY = True


def _windows(panel: Panel, width: int) -> np.ndarray:
    """(items, months, width): the values of M−width … M−1 for each M (NaN before the grid)."""
    previous = lag(panel.sales, 1)
    padded = np.concatenate([np.full((previous.shape[0], width - 1), np.nan), previous], axis=1)
    return sliding_window_view(padded, width, axis=1)


def rolling_mean(width: int):
    def compute(panel: Panel) -> FeatureOutput:
        name = f"rolling_mean_{width}"
        return FeatureOutput({name: _windows(panel, width).mean(axis=2)}, frozenset({name}))

    compute.__doc__ = f"Mean of M−1 … M−{width}; NaN when any of them is missing."
    return compute


def rolling_std(width: int):
    def compute(panel: Panel) -> FeatureOutput:
        name = f"rolling_std_{width}"
        return FeatureOutput({name: _windows(panel, width).std(axis=2, ddof=1)}, frozenset({name}))

    compute.__doc__ = f"Sample standard deviation of M−1 … M−{width}; NaN when any of them is missing."
    return compute


def expanding_mean(panel: Panel) -> FeatureOutput:
    """Mean of the sales present in every month before M (NaN before the item's first sales)."""
    previous = lag(panel.sales, 1)
    present = ~np.isnan(previous)
    counts = np.cumsum(present, axis=1)
    sums = np.cumsum(np.where(present, previous, 0.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return FeatureOutput({"expanding_mean": mean}, frozenset({"expanding_mean"}))


FEATURES = {
    **{f"rolling_mean_{width}": rolling_mean(width) for width in WINDOWS},
    **{f"rolling_std_{width}": rolling_std(width) for width in WINDOWS},
    "expanding_mean": expanding_mean,
}
