"""Generated monthly data for the monitoring tests: many items of very different sizes, optional level shift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salescast.forecast.catalog import catalog_from_frames


def monthly_sales_frame(items: int = 40, shift_from: str | None = None, factor: float = 1.8, seed: int = 0):
    """Seasonal monthly sales 2019-01..2022-12, sales × ``factor`` from ``shift_from``.

    Each item: a level (10 … 3,000), a yearly season of ±10 % and a persistent AR(1) deviation (φ 0.9, ±5 % a
    month, ±11 % overall): stable in distribution, yet last month says more than the same month last year.
    """
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", "2022-12-01", freq="MS")
    rows = []
    for item in range(items):
        level = rng.lognormal(5, 1.2)  # from ~10 to ~3,000 a month
        phase = rng.uniform(0, 2 * np.pi)
        deviation = rng.normal(0, 0.11)
        for month in months:
            deviation = 0.9 * deviation + rng.normal(0, 0.05)
            value = level * (1 + 0.1 * np.sin(2 * np.pi * month.month / 12 + phase)) * np.exp(deviation)
            if shift_from is not None and month >= pd.Timestamp(shift_from):
                value *= factor
            rows.append((month, item, max(value, 0.0)))
    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def monthly_frames(items: int = 40, shift_from: str | None = None, factor: float = 1.8, seed: int = 0):
    """:func:`monthly_sales_frame` as a validated catalog."""
    return catalog_from_frames(monthly_sales_frame(items, shift_from, factor, seed))
