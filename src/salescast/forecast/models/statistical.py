"""Per-item statistical families from statsforecast: one model per item, fitted on its own history.

``AutoETS``, ``AutoARIMA``, ``AutoTheta`` (automatic selection within each family, monthly seasonality) and,
for items with many zero months, ``CrostonOptimized``, ``ADIDA``, ``IMAPA`` and ``TSB``. They are never
re-implemented here: statsforecast fits them (numba-compiled; the compiled code is cached on disk,
``NIXTLA_NUMBA_CACHE``, and statsforecast is imported only when one of these models is used).

The rules that make them behave like the other salescast models:

* **History.** An item's series runs from its first sales month to the month before the one forecast;
  a missing month inside it is filled by linear interpolation (the families need a regular series); an
  item with fewer than ``min_history`` months of sales is left to the pipeline's fallback, and so is an
  item whose model fails to fit (logged).
* **Fitted once, applied to new months.** ``fit`` estimates each item's parameters on the training
  history. Forecasting month M then applies those parameters to the actual history before M
  (statsforecast's ``forward``: the state is updated, the parameters are not), so test months' actuals
  serve as history exactly as for the pooled models. An item first seen after fitting gets its own fit on
  the history it has.
* **Multi-step.** ``forecast(series, h)`` gives the model's own h-step path (and its native intervals),
  not a recursion on one-step forecasts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

logger = logging.getLogger(__name__)

SEASON_LENGTH = 12


def import_statsforecast_models():
    """``statsforecast.models``, with numba's compiled code cached on disk (compiled once per machine)."""
    os.environ.setdefault("NIXTLA_NUMBA_CACHE", "1")
    import statsforecast.models

    return statsforecast.models


def regular_history(sales_row: np.ndarray, end: int) -> np.ndarray | None:
    """The item's sales before column ``end``, from its first sales month, interior gaps interpolated.

    Trailing months without sales are dropped (the forecast then starts after the last observed month);
    ``None`` if the item has no sales before ``end``.
    """
    values = sales_row[:end]
    observed = np.flatnonzero(~np.isnan(values))
    if observed.size == 0:
        return None
    span = values[observed[0] : observed[-1] + 1]
    missing = np.isnan(span)
    if missing.any():
        positions = np.arange(span.size)
        span = span.copy()
        span[missing] = np.interp(positions[missing], positions[~missing], span[~missing])
    return span


class StatisticalModel(BaseEstimator):
    """One statsforecast model per item; subclasses name the family and its constructor arguments."""

    kind: ClassVar[str] = "local"
    family: ClassVar[str]
    required_features: ClassVar[tuple[str, ...]] = ()
    uses_listed_features: ClassVar[bool] = False
    needs_training: ClassVar[bool] = True
    has_forward: ClassVar[bool] = True  # statsforecast can apply fitted parameters to a longer series
    native_intervals: ClassVar[bool] = True  # statsforecast gives model-based intervals (level=)

    def __init__(self, season_length: int = SEASON_LENGTH, min_history: int = 3) -> None:
        self.season_length = season_length
        self.min_history = min_history

    def _family_arguments(self) -> dict[str, Any]:
        return {"season_length": self.season_length}

    def _new(self):
        return getattr(import_statsforecast_models(), self.family)(**self._family_arguments())

    def _fit_one(self, y: np.ndarray | None):
        if y is None or y.size < self.min_history:
            return None
        try:
            return self._new().fit(y)
        except Exception as error:  # a family that cannot fit this series: the pipeline's fallback answers
            logger.info("%s could not fit a series of %d months: %s", self.family, y.size, error)
            return None

    def fit(self, series: dict[Any, np.ndarray | None]) -> StatisticalModel:
        """Fit each item's model on its regular history (``None`` or too short: no model, the fallback)."""
        self.fitted_ = {item: self._fit_one(y) for item, y in series.items()}
        self.n_fitted_ = sum(model is not None for model in self.fitted_.values())
        return self

    def forecast(self, item: Any, y: np.ndarray | None, h: int, level: Sequence[float] | None = None) -> dict:
        """``{"mean": (h,), "lo-80": …}`` for the h months after ``y``; NaN means: use the fallback."""
        empty = {"mean": np.full(h, np.nan)}
        if y is None or y.size < self.min_history:
            return empty
        levels = [float(value) for value in level] if level and self.native_intervals else None
        model = self.fitted_.get(item)
        try:
            if model is None or not self.has_forward:
                result = self._new().forecast(y=y, h=h, level=levels)
            else:
                result = model.forward(y=y, h=h, level=levels)
        except Exception as error:
            logger.info("%s could not forecast item %r: %s", self.family, item, error)
            return empty
        return {key: np.asarray(value, dtype=np.float64) for key, value in result.items()}


class AutoETSModel(StatisticalModel):
    """Exponential smoothing, error/trend/season chosen by AICc (statsforecast ``AutoETS``)."""

    family = "AutoETS"


class AutoARIMAModel(StatisticalModel):
    """Seasonal ARIMA, orders chosen stepwise by AICc (statsforecast ``AutoARIMA``)."""

    family = "AutoARIMA"


class AutoThetaModel(StatisticalModel):
    """The Theta family (standard, optimized, dynamic) chosen by in-sample MSE (statsforecast ``AutoTheta``)."""

    family = "AutoTheta"


class ARIMAModel(StatisticalModel):
    """ARIMA with fixed orders, by default the "airline" model (0,1,1)(0,1,1)₁₂ (statsforecast ``ARIMA``).

    No order search: one likelihood fit per item, a fraction of ``AutoARIMA``'s stepwise search.
    """

    family = "ARIMA"

    def __init__(
        self,
        season_length: int = SEASON_LENGTH,
        min_history: int = 3,
        order: tuple[int, int, int] = (0, 1, 1),
        seasonal_order: tuple[int, int, int] = (0, 1, 1),
    ) -> None:
        super().__init__(season_length, min_history)
        self.order = order
        self.seasonal_order = seasonal_order

    def _family_arguments(self) -> dict[str, Any]:
        return {
            "season_length": self.season_length,
            "order": tuple(self.order),
            "seasonal_order": tuple(self.seasonal_order),
        }


class AutoCESModel(StatisticalModel):
    """Complex exponential smoothing, the variant chosen by AICc (statsforecast ``AutoCES``)."""

    family = "AutoCES"


class IntermittentModel(StatisticalModel):
    """A family for items with many zero months; it has no seasonality and refits on each new history."""

    has_forward = False
    native_intervals = False  # statsforecast's intermittent families give no intervals: conformal ones

    def _family_arguments(self) -> dict[str, Any]:
        return {}


class CrostonOptimizedModel(IntermittentModel):
    """Croston's method with optimized smoothing of sizes and intervals (statsforecast ``CrostonOptimized``)."""

    family = "CrostonOptimized"


class ADIDAModel(IntermittentModel):
    """Aggregate–disaggregate intermittent demand approach (statsforecast ``ADIDA``)."""

    family = "ADIDA"


class IMAPAModel(IntermittentModel):
    """Intermittent multiple aggregation prediction algorithm (statsforecast ``IMAPA``)."""

    family = "IMAPA"


class TSBModel(IntermittentModel):
    """Teunter–Syntetos–Babai: smoothed demand probability and size (statsforecast ``TSB``)."""

    family = "TSB"

    def __init__(
        self, season_length: int = SEASON_LENGTH, min_history: int = 3, alpha_d: float = 0.2, alpha_p: float = 0.2
    ) -> None:
        super().__init__(season_length, min_history)
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def _family_arguments(self) -> dict[str, Any]:
        return {"alpha_d": self.alpha_d, "alpha_p": self.alpha_p}
