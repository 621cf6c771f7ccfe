"""``CustomModel``: the issue's structural equations, parameters fitted with ``scipy.optimize.least_squares``.

For month M, from the raw history window (``structural_history``, sales at M−1 … M−WINDOW), with the
equations of :mod:`forecast.equations`:

1. **Latent level, rebuilt recursively.** Walking the window from its oldest month to M−1, each month's
   latent level is v1 = sales / (1 + d·marketing)(1 + e·price push) (the multipliers only with ``marketing``
   / ``price`` listed). Months whose sales do not show their demand open a *group*: a stockout month
   (``stock``: sales censored, the unmet rest bought the month after) or a pushed June (``objectives``: the
   extra taken back in July), which the next ordinary month closes. A group's total sales are its total
   demand, so the total is split in proportion to each month's expected demand — the equations of step 2
   on the levels rebuilt before it, or, less than 15 months from the window's start, its level a year
   before, else the mean level of the ordinary months on either side of the group — and within what is
   known: a lone stockout month's demand is at least its sales, a pushed June's at most. A July whose
   payback took all of its own demand breaks the sum (June and July then sold exactly June's remaining):
   its group keeps the expected demands.
2. v1(M) = a·v1(M−12) + b·mean(v1(M−1…M−12)) + c·v1(M−12)·growth + g·v1(M−1); each term is on only when
   its feature (same_month_last_year, last_year_average, growth, last_month) is listed.
3. demand(M) = v1(M) × (1 + d·marketing(M)) × (1 + e·(r(M+1) − r(M))).
4. ``objectives``: in an eligible June, demand = max(demand, remaining); in the July after one, the push
   took extra = max(remaining − June's expected demand, 0) of July's own demand (floored at 0).
5. A group with a stockout still open at M−1 is closed by M: M also sells the group's unmet demand, its
   expected demand (an eligible June's at least its remaining) minus its sales.

Parameters minimize the squared errors relative to each item's level (the noise is multiplicative), from
scale-free starting values within bounds that keep demand positive (:meth:`CustomModel._search_space`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, RegressorMixin

from salescast.forecast.equations import LEVEL_DEPTH, demand, latent_level
from salescast.forecast.features.structural_history import WINDOW, column

HISTORY_TERMS = {"same_month_last_year": "a", "last_year_average": "b", "growth": "c", "last_month": "g"}
EXOGENOUS_TERMS = {"marketing": "d", "price": "e"}
LEVEL_BOUNDS = (-1.0, 2.0)  # a, b, c, g: weights of past levels (they sum to about 1 for a stable item)
MULTIPLIER_FLOOR_SHARE = 0.99  # d and e keep every training row's (1 + d·spend), (1 + e·push) above 0.01
MAX_TYPICAL_LIFT = 10.0  # a typical spend lifts demand at most tenfold


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
            "remaining": block("remaining", 0.0, "objectives" in self.features),  # > 0 in eligible Junes only
        }
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
        remaining = arrays["remaining"]
        expected = level * multiplier  # demand at every lag: rebuilt (or, in an open group, expected) levels
        expected[:, 0] = self._expected(level, 0, params) * multiplier[:, 0]
        demand = self._after_push(expected[:, :2], remaining[:, :2])[:, 0]
        in_group = self._members(top > 0, top, 1)
        stocked_out = np.any(in_group & arrays["stockout"], axis=1)
        if stocked_out.any():  # a group with a stockout, closed by M: M also sells its unmet demand
            expected = np.where(np.isfinite(weight), weight * multiplier, expected)
            expected = self._after_push(self._bounded(arrays, expected, stocked_out & (top == 1), 1), remaining)
            unmet = np.sum(np.where(in_group[:, :-1], expected - arrays["sales"][:, :-1], 0.0), axis=1)
            demand = np.where(stocked_out, demand + np.clip(np.nan_to_num(unmet), 0.0, None), demand)
        return demand

    @staticmethod
    def _after_push(expected: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """Demands at lags 0 … n−2 from the expected demands at lags 0 … n−1: a June's at least its remaining
        (the push); in the month after a June, less the push's extra over that June's expected demand
        (floored at 0)."""
        demand = np.where(remaining > 0, np.maximum(expected, remaining), expected)[:, :-1]
        extra = np.nan_to_num(np.clip(remaining[:, 1:] - expected[:, 1:], 0.0, None))
        return np.where(remaining[:, 1:] > 0, np.maximum(demand - extra, 0.0), demand)

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
                filled = np.where(np.isfinite(weight), weight, self._local_level(level, disturbed, top, lag)[:, None])
                known = ~np.any(in_group & ~np.isfinite(filled), axis=1)[:, np.newaxis]
                share = np.where(in_group, np.where(known, filled, 1.0) * multiplier, 0.0)
                total = np.sum(np.where(in_group, sales, 0.0), axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    demand = share * (total / np.sum(share, axis=1))[:, np.newaxis]
                pair = closing & (top == lag + 1)
                demand = self._bounded(arrays, demand, pair, lag + 1)
                demand[:, lag] = np.where(pair, total - demand[:, lag + 1], demand[:, lag])
                demand = self._floored_july(demand, share, in_group, closing & (top > lag), total, arrays, lag)
                level = np.where(in_group, demand / multiplier, level)
                top = np.where(closing, 0, top)
        return level, weight, top

    @staticmethod
    def _floored_july(
        demand: np.ndarray,
        share: np.ndarray,
        in_group: np.ndarray,
        rows: np.ndarray,
        total: np.ndarray,
        arrays: dict[str, np.ndarray],
        lag: int,
    ) -> np.ndarray:
        """``demand`` of groups closed by a July at ``lag`` whose June's payback took all its own demand.

        Then June and July together demanded exactly June's remaining, whatever they would have (their
        expected demands say how much, scaled down to at most the remaining), so the group's other months
        demanded the rest of its sales. A group is taken as floored when its sales less the other months'
        expected demand do not exceed the remaining (exactly equal for a lone June and July).
        """
        june = arrays["remaining"][:, lag + 1]
        pair = np.isin(np.arange(WINDOW + 1), (lag, lag + 1))[np.newaxis, :]
        others = in_group & ~pair
        others_share = np.sum(np.where(others, share, 0.0), axis=1)
        floored = rows & (june > 0) & (total - others_share <= june * (1 + 1e-9))
        if not floored.any():
            return demand
        pair_share = share[:, lag] + share[:, lag + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            pair_demand = share * np.fmin(1.0, june / pair_share)[:, np.newaxis]
            others_demand = share * (np.clip(total - june, 0.0, None) / others_share)[:, np.newaxis]
        kept = np.where(others, others_demand, np.where(in_group & pair, pair_demand, demand))
        return np.where(floored[:, np.newaxis], kept, demand)

    @staticmethod
    def _local_level(level: np.ndarray, disturbed: np.ndarray, top: np.ndarray, lag: int) -> np.ndarray:
        """Mean level of the ordinary months just before (top + 1) and just after (lag − 1) a group.

        It stands in for a group month's expected level too deep in the window for the equations.
        """
        rows = np.arange(len(level))
        before = np.minimum(top + 1, WINDOW)
        older = np.where((top + 1 <= WINDOW) & ~disturbed[rows, before], level[rows, before], np.nan)
        newer = level[:, lag - 1] if lag > 1 else np.full(len(level), np.nan)
        newer = np.where(disturbed[:, lag - 1], np.nan, newer)
        both = np.stack([older, newer])
        counts = np.sum(np.isfinite(both), axis=0)
        return np.where(counts > 0, np.nansum(both, axis=0) / np.maximum(counts, 1), np.nan)

    def fit(self, X: pd.DataFrame, y) -> CustomModel:
        names = self._names()
        arrays = self._arrays(X)
        target = np.asarray(y, dtype=np.float64)
        recent = arrays["sales"][:, 1:13]
        counts = np.sum(~np.isnan(recent), axis=1)
        scale = np.nansum(recent, axis=1) / np.maximum(counts, 1)
        scale = np.where(scale > 0, scale, 1.0)
        start, lower, upper, unit = self._search_space(names, arrays)

        def natural(theta: np.ndarray) -> dict[str, float]:
            return {name: float(value) * unit[name] for name, value in zip(names, theta, strict=True)}

        usable = np.isfinite(self._predict(arrays, natural(start)))
        arrays = {key: value[usable] for key, value in arrays.items()}
        target, scale = target[usable], scale[usable]
        if target.size == 0:
            raise ValueError("CustomModel has no training row with a complete 15-month history")

        def residuals(theta: np.ndarray) -> np.ndarray:
            return np.nan_to_num((self._predict(arrays, natural(theta)) - target) / scale, nan=0.0)

        result = least_squares(residuals, start, bounds=(lower, upper), max_nfev=self.max_nfev, x_scale="jac")
        self.params_ = natural(result.x)
        self.n_training_rows_ = int(target.size)
        return self

    @staticmethod
    def _search_space(
        names: list[str], arrays: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
        """(start, lower bounds, upper bounds, unit of each parameter) for the optimizer, free of the data's units.

        The optimizer works on scale-free values: the level coefficients share 1 equally at the start; the
        marketing lift is searched per *typical* spend (the mean positive spend of the training rows, so
        ``d`` = value / that spend) and the price effect as it is (price pushes are relative). Both start at
        no effect, and are bounded so that no training row's multiplier falls below 0.01 (demand stays
        positive) and a typical spend lifts demand at most tenfold.
        """
        level_terms = [name for name in names if name in HISTORY_TERMS.values()]
        spend = arrays["marketing"][arrays["marketing"] > 0]
        typical = float(spend.mean()) if spend.size else 1.0
        largest_push = float(np.max(np.abs(arrays["price_push"]), initial=0.0))
        push_bound = MULTIPLIER_FLOOR_SHARE / largest_push if largest_push > 0 else 10.0
        space = {name: (1.0 / len(level_terms), *LEVEL_BOUNDS, 1.0) for name in level_terms}
        if "d" in names:
            largest = float(spend.max()) if spend.size else 1.0
            space["d"] = (0.0, -MULTIPLIER_FLOOR_SHARE * typical / largest, MAX_TYPICAL_LIFT, 1.0 / typical)
        if "e" in names:
            space["e"] = (0.0, -push_bound, push_bound, 1.0)
        start, lower, upper = (np.array([space[name][k] for name in names]) for k in range(3))
        return start, lower, upper, {name: space[name][3] for name in names}

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._predict(self._arrays(X), self.params_)
