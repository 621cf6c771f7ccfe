"""``CustomModel``: the issue's structural equations, parameters fitted with ``scipy.optimize.least_squares``.

For month M, from the raw history window (``structural_history``):

1. Clean the history: with ``stock`` listed, a stockout month and the month after it (the unmet rest sold
   late) are both replaced by their mean; with ``objectives`` listed, a pushed June and its July likewise
   (the pair's total is the demand's). With ``marketing`` / ``price`` listed, each month's sales are divided
   by its multiplier (1 + d·marketing)·(1 + e·price push) to recover the latent level v1.
2. v1(M) = a·v1(M−12) + b·mean(v1(M−1…M−12)) + c·v1(M−12)·growth + g·v1(M−1); each term is on only when
   its feature (same_month_last_year, last_year_average, growth, last_month) is listed.
3. demand(M) = v1(M) × (1 + d·marketing(M)) × (1 + e·(r(M+1) − r(M))).
4. ``objectives``: in an eligible June, demand = max(demand, remaining); in a July after a June that met
   its objective, demand −= June's sales − June's own expected demand (the same equations one month back).
5. ``stock``: after a run of stockout months (up to 3), add their unmet demand: each one's expected
   demand (the same equations, shifted back) minus its sales.

Parameters minimize the squared errors relative to each item's level (the noise is multiplicative).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin

from salescast.forecast.features.objectives import ELIGIBLE, REMAINING
from salescast.forecast.features.structural_history import WINDOW, column

HISTORY_TERMS = {"same_month_last_year": "a", "last_year_average": "b", "growth": "c", "last_month": "g"}
EXOGENOUS_TERMS = {"marketing": "d", "price": "e"}
MAX_STOCKOUT_RUN = 3  # consecutive stockout months whose unmet demand is rebuilt (the window holds 18 lags)
STARTING_VALUES = {"a": 0.3, "b": 0.3, "c": 0.4, "g": 0.0, "d": 0.0, "e": 0.0}


class CustomModel(RegressorMixin, BaseEstimator):
    """Structural model of the generative process; ``features`` switches its terms on (module docstring)."""

    required_features: ClassVar[tuple[str, ...]] = ("structural_history",)
    uses_listed_features: ClassVar[bool] = True
    needs_training: ClassVar[bool] = True
    handles_missing: ClassVar[bool] = True  # it reads only the columns its terms need, and says NaN itself

    def __init__(self, features: Sequence[str] = tuple(HISTORY_TERMS), max_nfev: int = 200) -> None:
        self.features = features
        self.max_nfev = max_nfev

    def _names(self) -> list[str]:
        names = [HISTORY_TERMS[f] for f in HISTORY_TERMS if f in self.features]
        if not names:
            raise ValueError(f"CustomModel needs at least one of the features {list(HISTORY_TERMS)}")
        return names + [EXOGENOUS_TERMS[f] for f in EXOGENOUS_TERMS if f in self.features]

    def _arrays(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        def block(kind: str, lags: range, default: float) -> np.ndarray:
            names = [column(kind, k) for k in lags]
            if names[0] not in X.columns:
                return np.full((len(X), len(names)), default)
            return X[names].to_numpy(dtype=np.float64)

        sales = block("sales", range(1, WINDOW + 1), np.nan)  # index j ↔ lag j + 1
        arrays = {
            "sales": sales,
            "marketing": block("marketing", range(WINDOW + 1), 0.0) if "marketing" in self.features else None,
            "price_push": block("price_push", range(WINDOW + 1), 0.0) if "price" in self.features else None,
            "june_eligible": np.zeros(len(X)),
            "remaining": np.zeros(len(X)),
        }
        if "stock" in self.features:
            arrays["stockout"] = block("stockout", range(1, WINDOW + 1), 0.0)
        if "objectives" in self.features:
            arrays["pushed"] = block("pushed", range(1, WINDOW + 1), 0.0)
            arrays["june_eligible"] = X[ELIGIBLE].to_numpy(dtype=np.float64)
            arrays["remaining"] = X[REMAINING].to_numpy(dtype=np.float64)
        arrays["cleaned"] = self._cleaned(arrays)
        return arrays

    def _cleaned(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Sales with each disturbed pair (month at lag k ≥ 2, month at lag k − 1) replaced by its mean."""
        cleaned = arrays["sales"].copy()
        disturbed = np.zeros(cleaned.shape, dtype=bool)
        for flags in ("stockout", "pushed"):
            if flags in arrays:
                disturbed |= arrays[flags] > 0
        for j in range(WINDOW - 1, 0, -1):  # lag j + 1 is disturbed; lag j is the month after it
            rows = disturbed[:, j]
            mean = (cleaned[rows, j] + cleaned[rows, j - 1]) / 2
            cleaned[rows, j] = mean
            cleaned[rows, j - 1] = mean
        return cleaned

    @staticmethod
    def _multiplier(arrays: dict[str, np.ndarray], params: dict[str, float], lag: int) -> np.ndarray:
        """(1 + d·marketing)(1 + e·price push) at lag ``lag`` (0 = the month forecast)."""
        result = np.ones(len(arrays["sales"]))
        if arrays["marketing"] is not None:
            result = result * (1 + params.get("d", 0.0) * arrays["marketing"][:, lag])
        if arrays["price_push"] is not None:
            result = result * (1 + params.get("e", 0.0) * arrays["price_push"][:, lag])
        return result

    def _demand(self, arrays: dict[str, np.ndarray], params: dict[str, float], shift: int) -> np.ndarray:
        """Expected demand at M − ``shift`` from the cleaned history before it (before the June/July rules)."""
        sales = arrays["cleaned"]
        latent = {
            lag: sales[:, lag - 1] / self._multiplier(arrays, params, lag) for lag in range(1 + shift, 16 + shift)
        }
        year_ago = latent[12 + shift]
        level = np.zeros(len(sales))
        if "a" in params:
            level = level + params["a"] * year_ago
        if "b" in params:
            level = level + params["b"] * np.mean([latent[lag] for lag in range(1 + shift, 13 + shift)], axis=0)
        if "c" in params:
            recent = latent[1 + shift] + latent[2 + shift] + latent[3 + shift]
            before = latent[13 + shift] + latent[14 + shift] + latent[15 + shift]
            with np.errstate(invalid="ignore", divide="ignore"):
                growth = np.where(before > 0, recent / np.where(before > 0, before, 1.0), np.nan)
            level = level + params["c"] * year_ago * growth
        if "g" in params:
            level = level + params["g"] * latent[1 + shift]
        return level * self._multiplier(arrays, params, shift)

    def _predict(self, arrays: dict[str, np.ndarray], params: dict[str, float]) -> np.ndarray:
        demand = self._demand(arrays, params, 0)
        if "pushed" in arrays:
            eligible = arrays["june_eligible"] > 0
            demand = np.where(eligible, np.maximum(demand, arrays["remaining"]), demand)
            after_push = arrays["pushed"][:, 0] > 0
            if after_push.any():
                extra = arrays["sales"][:, 0] - self._demand(arrays, params, 1)
                demand = np.where(after_push, np.maximum(demand - np.nan_to_num(np.clip(extra, 0, None)), 0.0), demand)
        if "stockout" in arrays:
            in_run = np.ones(len(demand), dtype=bool)
            for shift in range(1, MAX_STOCKOUT_RUN + 1):  # unmet demand accumulates over a run of stockouts
                in_run &= arrays["stockout"][:, shift - 1] > 0
                if not in_run.any():
                    break
                shortfall = np.clip(self._demand(arrays, params, shift) - arrays["sales"][:, shift - 1], 0.0, None)
                demand = demand + np.where(in_run, np.nan_to_num(shortfall), 0.0)
        return demand

    def fit(self, X: pd.DataFrame, y) -> CustomModel:
        names = self._names()
        arrays = self._arrays(X)
        target = np.asarray(y, dtype=np.float64)
        recent = arrays["sales"][:, :12]
        counts = np.sum(~np.isnan(recent), axis=1)
        scale = np.nansum(recent, axis=1) / np.maximum(counts, 1)
        scale = np.where(scale > 0, scale, 1.0)
        usable = np.isfinite(self._predict(arrays, {name: STARTING_VALUES[name] for name in names}))
        arrays = {key: (value[usable] if value is not None else None) for key, value in arrays.items()}
        target, scale = target[usable], scale[usable]
        if target.size == 0:
            raise ValueError("CustomModel has no training row with a complete 15-month history")

        def residuals(theta: np.ndarray) -> np.ndarray:
            prediction = self._predict(arrays, dict(zip(names, theta, strict=True)))
            return np.nan_to_num((prediction - target) / scale, nan=0.0)

        start = np.array([STARTING_VALUES[name] for name in names])
        result = least_squares(residuals, start, max_nfev=self.max_nfev, x_scale="jac")
        self.params_ = dict(zip(names, (float(value) for value in result.x), strict=True))
        self.n_training_rows_ = int(target.size)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._predict(self._arrays(X), self.params_)
