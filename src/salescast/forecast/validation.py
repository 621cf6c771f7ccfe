"""Rolling-origin validation on the training months: the errors a model makes when it forecasts months it
has not seen, one step ahead and at every step of a horizon. ``Auto`` scores its candidates with them and
the prediction intervals are calibrated on them.

For the last ``V`` training months (the validation window), a copy of the model is fitted once on the
months before the window (or, when the caller passes an already fitted model, that one is used). It
then forecasts:

* **one step** — each month of the window from the actual history before it (as in production: the
  parameters fitted at the window's start, the history growing month by month);
* **the horizon** — ``H`` months ahead from several origins in the window (every ``origin_step`` months),
  each step scored against the actual sales.

One fit per model, whatever the number of origins: that is what keeps ``Auto`` cheap (the per-item
families apply their fitted parameters to each longer history, the pooled models predict with their
features). Errors are divided by each item's seasonal-naive scale on the history before the window, so a
potato's error and an artichoke's can be compared and pooled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog
from salescast.forecast.metrics import seasonal_naive_scale
from salescast.forecast.panel import month_number

MIN_TRAINING_MONTHS = 24  # months kept before the window so that a model still has something to learn from
ORIGIN_STEP = 6


@dataclass(frozen=True)
class ValidationWindow:
    """The months of a rolling-origin validation: fit on ``fit_months``, score ``months``."""

    fit_months: list[pd.Timestamp]
    months: list[pd.Timestamp]
    origins: list[pd.Timestamp]  # the last known month of each horizon forecast
    horizon: int


def validation_window(
    history_months: list[pd.Timestamp], validation_months: int, horizon: int, origin_step: int = ORIGIN_STEP
) -> ValidationWindow | None:
    """The window over the last ``validation_months`` of ``history_months`` (fewer when the history is short),
    or ``None`` when fewer than 3 months can be held out."""
    months = sorted(history_months)
    size = min(validation_months, len(months) - MIN_TRAINING_MONTHS)
    if size < 3:
        return None
    held_out = months[-size:]
    steps = min(horizon, size)
    origins = [months[-size - 1 + offset] for offset in range(0, size - steps + 1, origin_step)]
    return ValidationWindow(months[:-size], held_out, origins, steps)


@dataclass(frozen=True)
class ValidationErrors:
    """Scaled errors (prediction − actual) / scale, one row per forecast that has an actual."""

    one_step: pd.DataFrame  # dates, item_id, prediction, sales, scaled_error
    horizon: pd.DataFrame  # origin, step, dates, item_id, prediction, sales, scaled_error


def item_scales(catalog: Catalog, before: pd.Timestamp) -> pd.Series:
    """Each item's seasonal-naive scale on its sales before ``before``; its mean sales where that is unknown
    or 0, and 1 for an item that never sold."""
    history = catalog.sales[catalog.sales["dates"] < before]
    items = pd.Index(catalog.items())
    scale = seasonal_naive_scale(history).reindex(items) if len(history) else pd.Series(np.nan, index=items)
    level = history.groupby("item_id")["sales"].mean().reindex(items)
    scale = scale.where(scale > 0, level)
    return scale.where(scale > 0, 1.0).rename("scale")


def scored_errors(predictions: pd.DataFrame, catalog: Catalog, scale: pd.Series) -> pd.DataFrame:
    """The predictions that have an actual, with ``sales`` and ``scaled_error`` = (prediction − actual) / scale."""
    actual = catalog.sales[["dates", "item_id", "sales"]]
    merged = predictions.merge(actual, on=["dates", "item_id"], how="inner")
    merged["scaled_error"] = (merged["prediction"] - merged["sales"]) / scale.reindex(merged["item_id"]).to_numpy()
    return merged


def rolling_origin_errors(
    make_forecaster: Callable[[], object], catalog: Catalog, window: ValidationWindow, fitted: object | None = None
) -> tuple[ValidationErrors, object]:
    """Score a forecaster on the window (module docstring): ``fitted`` if given, else a fresh one fitted on
    the window's fit months. Returns the errors and the forecaster scored.
    """
    forecaster = fitted if fitted is not None else make_forecaster().fit(catalog, window.fit_months)
    scale = item_scales(catalog, window.months[0])
    one_step = scored_errors(forecaster.predict(catalog, window.months), catalog, scale)
    paths = []
    for origin in window.origins:
        path = forecaster.forecast(catalog, origin, window.horizon)
        path["origin"] = origin
        path["step"] = month_number(path["dates"]) - month_number([origin])[0]
        paths.append(path)
    horizon = scored_errors(pd.concat(paths, ignore_index=True), catalog, scale) if paths else one_step.iloc[:0]
    return ValidationErrors(one_step, horizon), forecaster
