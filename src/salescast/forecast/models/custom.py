"""``CustomModel``: the issue's structural equations, parameters fitted with ``scipy.optimize.least_squares``.

For month M, from the raw history window (``structural_history``, sales at M−1 … M−WINDOW):

1. **Latent level, rebuilt recursively.** Walking the window from its oldest month to M−1, each month's
   latent level is v1 = sales / (1 + d·marketing)(1 + e·price push) (the multipliers only with ``marketing``
   / ``price`` listed). Months whose sales do not show their demand open a *group*: a stockout month
   (``stock``: sales censored, the unmet rest bought the month after) or a pushed June (``objectives``: the
   extra taken back in July), which the next ordinary month closes. A group's total sales are its total
   demand, so the total is split in proportion to each month's expected demand — the equations of step 2
   on the levels rebuilt before it, or, less than 15 months from the window's start, its level a year
   before (else equally by level) — and within what is known: a lone stockout month's demand is at least
   its sales, a pushed June's at most. A July whose payback took all its sales breaks the sum: its group
   keeps the expected demands.
2. v1(M) = a·v1(M−12) + b·mean(v1(M−1…M−12)) + c·v1(M−12)·growth + g·v1(M−1); each term is on only when
   its feature (same_month_last_year, last_year_average, growth, last_month) is listed.
3. demand(M) = v1(M) × (1 + d·marketing(M)) × (1 + e·(r(M+1) − r(M))).
4. A group still open at M−1 (a stockout or a pushed June in M−1) is closed by M: M also sells the group's
   expected demand minus its sales — the unmet demand after a stockout (≥ 0), the payback after a push (≤ 0).
5. ``objectives``: in an eligible June, demand = max(demand, remaining).

Parameters minimize the squared errors relative to each item's level (the noise is multiplicative).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin

from salescast.forecast.equations import LEVEL_DEPTH, demand, latent_level
from salescast.forecast.features.objectives import ELIGIBLE, REMAINING
from salescast.forecast.features.structural_history import WINDOW, column

HISTORY_TERMS = {"same_month_last_year": "a", "last_year_average": "b", "growth": "c", "last_month": "g"}
EXOGENOUS_TERMS = {"marketing": "d", "price": "e"}
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
        """Blocks indexed by lag (column 0 = the month forecast; sales and flags have NaN / 0 there)."""

        def block(kind: str, default: float, listed: bool = True) -> np.ndarray:
            names = [column(kind, k) for k in range(WINDOW + 1)]
            out = np.full((len(X), WINDOW + 1), default)
            if listed:
                present = [k for k, name in enumerate(names) if name in X.columns]
                if present:
                    out[:, present] = X[[names[k] for k in present]].to_numpy(dtype=np.float64)
            return out

        arrays = {
            "sales": block("sales", np.nan),
            "marketing": block("marketing", 0.0, "marketing" in self.features),
            "price_push": block("price_push", 0.0, "price" in self.features),
            "stockout": block("stockout", 0.0, "stock" in self.features) > 0,
            "pushed": block("pushed", 0.0, "objectives" in self.features) > 0,
            "june_eligible": np.zeros(len(X), dtype=bool),
            "remaining": np.zeros(len(X)),
        }
        if "objectives" in self.features:
            arrays["june_eligible"] = X[ELIGIBLE].to_numpy(dtype=np.float64) > 0
            arrays["remaining"] = X[REMAINING].to_numpy(dtype=np.float64)
        return arrays

    @staticmethod
    def _multiplier(arrays: dict[str, np.ndarray], params: dict[str, float]) -> np.ndarray:
        """(1 + d·marketing)(1 + e·price push) at every lag."""
        return demand(1.0, arrays["marketing"], arrays["price_push"], params.get("d", 0.0), params.get("e", 0.0))

    @staticmethod
    def _expected(level: np.ndarray, lag: int, params: dict[str, float]) -> np.ndarray:
        """Expected v1 at ``lag`` from the levels at lag + 1 … lag + 15 (NaN past the window)."""
        if lag + LEVEL_DEPTH >= level.shape[1]:
            return np.full(len(level), np.nan)
        chronological = level[:, lag + LEVEL_DEPTH : lag : -1]  # lag + 15 (oldest) … lag + 1
        return latent_level(chronological, params)

    def _predict(self, arrays: dict[str, np.ndarray], params: dict[str, float]) -> np.ndarray:
        """Demand in M: the latent history rebuilt group by group (module docstring), then steps 2–5."""
        multiplier = self._multiplier(arrays, params)
        level, weight, top = self._rebuild(arrays, params, multiplier)
        demand = self._expected(level, 0, params) * multiplier[:, 0]
        open_group = top > 0
        if open_group.any():  # closed by M: it sells the group's rest (unmet demand ≥ 0, or a payback ≤ 0)
            in_group = self._members(open_group, top, 1)
            expected = self._bounded(arrays, weight * multiplier, open_group & (top == 1), 1)
            rest = np.sum(np.where(in_group, expected - arrays["sales"], 0.0), axis=1)
            demand = np.where(open_group, np.maximum(demand + np.nan_to_num(rest), 0.0), demand)
        eligible = arrays["june_eligible"]
        return np.where(eligible, np.maximum(demand, arrays["remaining"]), demand)

    @staticmethod
    def _members(rows: np.ndarray, top: np.ndarray, lag: int) -> np.ndarray:
        """(rows × lags) mask of the group months lag … top of the flagged rows."""
        lags = np.arange(WINDOW + 1)
        return rows[:, np.newaxis] & (lags >= lag) & (lags <= top[:, np.newaxis])

    @staticmethod
    def _bounded(arrays: dict[str, np.ndarray], demand: np.ndarray, pair: np.ndarray, lag: int) -> np.ndarray:
        """``demand`` with a lone disturbed month at ``lag`` kept within what its sales tell.

        A stockout month's demand is at least its sales, a pushed June's at most (a June both: no bound).
        """
        sales, bounded = arrays["sales"][:, lag], demand[:, lag]
        stockout, pushed = arrays["stockout"][:, lag], arrays["pushed"][:, lag]
        bounded = np.where(pair & stockout & ~pushed, np.fmax(bounded, sales), bounded)
        bounded = np.where(pair & pushed & ~stockout, np.fmin(bounded, sales), bounded)
        demand = demand.copy()
        demand[:, lag] = bounded
        return demand

    def _rebuild(
        self, arrays: dict[str, np.ndarray], params: dict[str, float], multiplier: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(latent levels, expected levels of group months, oldest lag of the group open at M−1 or 0).

        Walks from the oldest lag to M−1. A group month's expected level comes from the levels rebuilt
        before it (or, too deep in the window, its level a year before); when the group closes, its total
        sales are split in proportion to the expected demands (equally by level if one is unknown).
        """
        sales = arrays["sales"]
        disturbed = (arrays["stockout"] | arrays["pushed"]) & np.isfinite(sales)
        rows = len(sales)
        level = sales / multiplier  # column 0 (the month forecast) is NaN
        weight = np.full(level.shape, np.nan)
        top = np.zeros(rows, dtype=np.int64)
        for lag in range(WINDOW, 0, -1):
            member = (top > 0) | disturbed[:, lag]
            if not member.any():
                continue
            top = np.where(disturbed[:, lag] & (top == 0), lag, top)
            expected = self._expected(level, lag, params)
            if lag + 12 <= WINDOW:
                expected = np.where(np.isfinite(expected), expected, level[:, lag + 12])
            weight[:, lag] = np.where(member, expected, np.nan)
            provisional = member & np.isfinite(expected)  # until the group closes (else its sales stay)
            level[provisional, lag] = expected[provisional]
            closing = member & ~disturbed[:, lag]  # an ordinary month closes the group (so lag + 1 ≤ WINDOW)
            if closing.any():
                in_group = self._members(closing, top, lag)
                known = ~np.any(in_group & ~np.isfinite(weight), axis=1)[:, np.newaxis]
                share = np.where(in_group, np.where(known, weight, 1.0) * multiplier, 0.0)
                total = np.sum(np.where(in_group, sales, 0.0), axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    demand = share * (total / np.sum(share, axis=1))[:, np.newaxis]
                pair = closing & (top == lag + 1)
                demand = self._bounded(arrays, demand, pair, lag + 1)
                demand[:, lag] = np.where(pair, total - demand[:, lag + 1], demand[:, lag])
                # a payback that took all of July (floored at 0) breaks the sum: keep the expected demands
                floored = known[:, 0] & pair & arrays["pushed"][:, lag + 1] & (sales[:, lag] <= 0)
                demand = np.where(floored[:, np.newaxis], share, demand)
                level = np.where(in_group, demand / multiplier, level)
                top = np.where(closing, 0, top)
        return level, weight, top

    def fit(self, X: pd.DataFrame, y) -> CustomModel:
        names = self._names()
        arrays = self._arrays(X)
        target = np.asarray(y, dtype=np.float64)
        recent = arrays["sales"][:, 1:13]
        counts = np.sum(~np.isnan(recent), axis=1)
        scale = np.nansum(recent, axis=1) / np.maximum(counts, 1)
        scale = np.where(scale > 0, scale, 1.0)
        usable = np.isfinite(self._predict(arrays, {name: STARTING_VALUES[name] for name in names}))
        arrays = {key: value[usable] for key, value in arrays.items()}
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
