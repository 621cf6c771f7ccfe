"""``Auto``: salescast's recommended model — per item, a combination of the candidates that forecast it best.

1. **Candidates** (:data:`CANDIDATES`): the per-item statistical families (AutoETS, AutoTheta, the airline
   ARIMA), the pooled models with per-item scaling or seasonal differencing (Ridge, LightGBM), and the
   seasonal-naive baseline; CustomModel joins when exogenous features are listed, CrostonOptimized and
   IMAPA when items have many zero months. Listed features (marketing, price, stock, objectives,
   exogenous, …) are added to every pooled candidate's own features; ``stock`` caps every candidate.
2. **Rolling-origin validation** on the training months only (:mod:`salescast.forecast.validation`): each
   candidate is scored one step ahead on every month of the last ``validation_months`` and ``horizon``
   steps ahead from several origins in them, errors scaled per item. A pooled candidate is fitted on the
   months before that window for it (and refitted on all months if some item uses it). A per-item family
   is fitted once, on all training months, and scored with those parameters over the window: its
   one-step forecasts still use only the history before each month, only its few parameters have seen
   the window. This halves the cost of the families, which dominate it, and on the benchmark sets it
   chose as well as a separate validation fit (README).
3. **Selection and combination, per item.** Each candidate's score for an item blends the item's own
   relative error with the candidate's relative error over all items (``shrinkage``: a dozen months are
   a noisy verdict on one item); the item's forecast is the mean of its ``top`` best candidates — once
   for one step ahead, once for the horizon. Means of a few good forecasts beat the best single one
   more often than not (the lesson of the M4 and M5 competitions); on this project's real benchmark sets
   the shrunk top-3 mean was the most even rule across sets (README, *Forecasting engine*).
4. **Final fit.** The pooled candidates some item uses are refitted on all training months; unused
   candidates are dropped. ``selection_`` records, per item, the candidates and weights and their
   validation scores; ``validation_`` each candidate's mean scores and fit time.

Deterministic: every candidate is (LightGBM with a fixed seed, one thread). Cost: one fit of each family
and two of each pooled candidate; see the README for the measured time against AutoETS alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

logger = logging.getLogger(__name__)

HISTORY = ("last_month", "same_month_last_year", "last_year_average", "growth")
SEASONAL_LAGS = ("lag_1", "lag_2", "lag_3", "lag_6", "lag_12", "lag_13", "lag_24", "rolling_mean_3", "rolling_mean_12")
SEASONAL_DIFFERENCE = ("seasonal_difference", "item_level")
EXOGENOUS_FEATURES = ("marketing", "price", "stock", "objectives", "exogenous")
INTERMITTENT_ZERO_SHARE = 0.3  # items with at least this share of zero months bring the intermittent families


@dataclass(frozen=True)
class Candidate:
    """One way to forecast: a model, its own features and target transforms."""

    model: str
    features: tuple[str, ...] = ()
    target_transforms: tuple[Any, ...] | None = None
    pooled: bool = False


CANDIDATES: dict[str, Candidate] = {
    "SeasonalNaive": Candidate("SeasonalNaive"),
    "AutoETS": Candidate("AutoETS"),
    "AutoTheta": Candidate("AutoTheta"),
    "ARIMA": Candidate("ARIMA"),
    "Ridge": Candidate("Ridge", HISTORY, pooled=True),
    "Ridge seasonal difference": Candidate(
        "Ridge", (*SEASONAL_LAGS, "month_of_year"), SEASONAL_DIFFERENCE, pooled=True
    ),
    "Ridge double difference": Candidate(
        "Ridge",
        ("lag_1", "lag_2", "lag_3", "lag_12", "lag_13", "lag_24"),
        ("difference", "seasonal_difference", "item_level"),
        pooled=True,
    ),
    "LightGBM": Candidate("LightGBM", HISTORY, pooled=True),
    "LightGBM seasonal difference": Candidate(
        "LightGBM", ("lag_1", "lag_12", "rolling_mean_12", "month_of_year"), SEASONAL_DIFFERENCE, pooled=True
    ),
    "CustomModel": Candidate("CustomModel", HISTORY, pooled=True),
    "CrostonOptimized": Candidate("CrostonOptimized"),
    "IMAPA": Candidate("IMAPA"),
    "AutoARIMA": Candidate("AutoARIMA"),
}
DEFAULT_CANDIDATES = tuple(
    name for name in CANDIDATES if name not in ("CustomModel", "CrostonOptimized", "IMAPA", "AutoARIMA")
)


class AutoModel(BaseEstimator):
    """Per-item combinations of candidates chosen by rolling-origin validation (module docstring)."""

    kind: ClassVar[str] = "auto"
    required_features: ClassVar[tuple[str, ...]] = ()
    uses_listed_features: ClassVar[bool] = False  # the candidates read them
    needs_training: ClassVar[bool] = True

    def __init__(
        self,
        candidates: Sequence[str] | None = None,
        top: int = 3,
        shrinkage: float = 0.5,
        validation_months: int = 24,
        horizon: int = 12,
    ) -> None:
        self.candidates = candidates
        self.top = top
        self.shrinkage = shrinkage
        self.validation_months = validation_months
        self.horizon = horizon

    # -- candidates ------------------------------------------------------------------------------------

    def candidate_names(self, features: Sequence[str], catalog) -> list[str]:
        """The candidates for this data: the given list, else the defaults plus what the data calls for."""
        if self.candidates is not None:
            unknown = [name for name in self.candidates if name not in CANDIDATES]
            if unknown:
                raise ValueError(f"Auto: unknown candidate(s) {unknown}; candidates are {list(CANDIDATES)}")
            return list(dict.fromkeys(self.candidates))
        names = list(DEFAULT_CANDIDATES)
        if any(feature in EXOGENOUS_FEATURES[:4] for feature in features):
            names.append("CustomModel")
        zero_share = catalog.sales.assign(zero=catalog.sales["sales"] == 0).groupby("item_id")["zero"].mean()
        if (zero_share >= INTERMITTENT_ZERO_SHARE).any():
            names += ["CrostonOptimized", "IMAPA"]
        return names

    @staticmethod
    def make_candidate(name: str, features: Sequence[str]):
        """A fresh Forecaster for candidate ``name`` with the user's listed ``features`` added."""
        from salescast.forecast.pipeline import Forecaster

        spec = CANDIDATES[name]
        if spec.pooled:
            own = HISTORY if spec.model == "CustomModel" else spec.features
            chosen = list(dict.fromkeys([*own, *features]))
            transforms = None if spec.target_transforms is None else list(spec.target_transforms)
            return Forecaster(spec.model, chosen, target_transforms=transforms)
        return Forecaster(spec.model, [feature for feature in features if feature == "stock"])

    # -- fit -------------------------------------------------------------------------------------------

    def fit_forecaster(self, owner, catalog, target_months: Sequence[pd.Timestamp]) -> AutoModel:
        """Validate the candidates on the history up to the last target month, weight them, refit the used ones."""
        from salescast.forecast.validation import rolling_origin_errors, validation_window

        if self.top < 1:
            raise ValueError(f"Auto: top must be at least 1, got {self.top}")
        if not 0 <= self.shrinkage <= 1:
            raise ValueError(f"Auto: shrinkage must be within 0…1, got {self.shrinkage}")
        fit_end = max(pd.Timestamp(month) for month in target_months)
        features = list(owner.features)
        names = self.candidate_names(features, catalog)
        history = [month for month in catalog.months() if month <= fit_end]
        window = validation_window(history, self.validation_months, self.horizon)
        self.seconds_: dict[str, float] = {}
        scores_one, scores_horizon = {}, {}
        self.fitted_: dict[str, Any] = {}
        if window is not None:
            for name in names:
                began = time.perf_counter()
                make = partial(self.make_candidate, name, features)
                try:
                    final = None if CANDIDATES[name].pooled else make().fit(catalog, target_months)
                    errors, _ = rolling_origin_errors(make, catalog, window, fitted=final)
                except Exception as error:  # a candidate that cannot run on this data is left out, and said so
                    logger.warning("Auto: candidate %s left out: %s", name, error)
                    continue
                if final is not None:
                    self.fitted_[name] = final
                self.seconds_[name] = time.perf_counter() - began
                scores_one[name] = (
                    errors.one_step.assign(e=errors.one_step["scaled_error"].abs()).groupby("item_id")["e"].mean()
                )
                scores_horizon[name] = (
                    errors.horizon.assign(e=errors.horizon["scaled_error"].abs()).groupby("item_id")["e"].mean()
                )
        items = pd.Index(catalog.items())
        self.weights_one_ = self._weights(pd.DataFrame(scores_one).reindex(items), names)
        self.weights_horizon_ = self._weights(pd.DataFrame(scores_horizon).reindex(items), names)
        used = [name for name in names if self.weights_one_[name].any() or self.weights_horizon_[name].any()]
        for name in used:
            if name not in self.fitted_:
                began = time.perf_counter()
                self.fitted_[name] = self.make_candidate(name, features).fit(catalog, target_months)
                self.seconds_[name] = self.seconds_.get(name, 0.0) + time.perf_counter() - began
        self.fitted_ = {name: self.fitted_[name] for name in used}
        self.weights_one_ = self.weights_one_[used]
        self.weights_horizon_ = self.weights_horizon_[used]
        self.default_one_ = self._global(pd.DataFrame(scores_one), used)
        self.default_horizon_ = self._global(pd.DataFrame(scores_horizon), used)
        self.validation_ = pd.DataFrame(
            {
                "one_step_mase": pd.DataFrame(scores_one).mean(),
                "horizon_mase": pd.DataFrame(scores_horizon).mean(),
                "seconds": pd.Series(self.seconds_),
            }
        ).reindex(names)
        self.selection_ = self._selection(scores_one, scores_horizon)
        self.feature_columns_ = sorted({column for f in self.fitted_.values() for column in f.feature_columns_})
        self.n_training_rows_ = max((f.n_training_rows_ for f in self.fitted_.values()), default=0)
        logger.info(
            "Auto: %d candidates validated, %d used; mean validation MASE (one step): %s",
            len(scores_one),
            len(used),
            {name: round(float(value), 3) for name, value in pd.DataFrame(scores_one).mean().items()},
        )
        return self

    def _weights(self, scores: pd.DataFrame, names: list[str]) -> pd.DataFrame:
        """Items × candidates: 1/k on each item's k best (shrunk) candidates, 0 elsewhere."""
        scores = scores.reindex(columns=names)
        weights = pd.DataFrame(0.0, index=scores.index, columns=names)
        available = scores.columns[scores.notna().any()]
        if len(available) == 0:  # no validation possible (short history): the robust trio, equally
            trio = [name for name in ("AutoETS", "AutoTheta", "Ridge") if name in names] or names[:1]
            weights[trio] = 1.0 / len(trio)
            return weights
        table = scores[available]
        relative = table.div(table.mean(axis=1), axis=0)
        overall = table.mean() / table.mean().mean()
        shrunk = (1 - self.shrinkage) * relative + self.shrinkage * overall
        shrunk = shrunk.where(relative.notna(), overall, axis=1)  # an item without scores: the overall ranking
        shrunk = shrunk.fillna(np.inf)
        k = min(self.top, len(available))
        order = np.argsort(shrunk.to_numpy(), axis=1, kind="stable")[:, :k]
        values = np.zeros(shrunk.shape)
        np.put_along_axis(values, order, 1.0 / k, axis=1)
        weights[available] = values
        return weights

    def _global(self, scores: pd.DataFrame, used: list[str]) -> pd.Series:
        """Weights for an item first seen after fitting: the k best used candidates over all items."""
        if scores.empty:
            return pd.Series(1.0 / len(used), index=used)
        overall = scores.mean().reindex(used).fillna(np.inf).sort_values(kind="stable")
        chosen = overall.index[: min(self.top, len(used))]
        return pd.Series({name: (1.0 / len(chosen) if name in chosen else 0.0) for name in used})

    def _selection(self, scores_one: dict, scores_horizon: dict) -> pd.DataFrame:
        frames = []
        for name in self.weights_one_.columns:
            frames.append(
                pd.DataFrame(
                    {
                        "item_id": self.weights_one_.index,
                        "candidate": name,
                        "weight_one_step": self.weights_one_[name].to_numpy(),
                        "weight_horizon": self.weights_horizon_[name].to_numpy(),
                        "validation_mase_one_step": scores_one.get(name, pd.Series(dtype=float))
                        .reindex(self.weights_one_.index)
                        .to_numpy(),
                        "validation_mase_horizon": scores_horizon.get(name, pd.Series(dtype=float))
                        .reindex(self.weights_one_.index)
                        .to_numpy(),
                    }
                )
            )
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if table.empty:
            return table
        keep = (table["weight_one_step"] > 0) | (table["weight_horizon"] > 0)
        return table[keep].sort_values(["item_id", "weight_one_step"], ascending=[True, False], ignore_index=True)

    def candidate_usage(self) -> pd.DataFrame:
        """Per validated candidate: items using it one step ahead and at the horizon, and its validation scores."""
        usage = pd.DataFrame(
            {
                "items_one_step": (self.weights_one_ > 0).sum(),
                "items_horizon": (self.weights_horizon_ > 0).sum(),
            }
        )
        table = self.validation_.join(usage, how="left")
        table[["items_one_step", "items_horizon"]] = table[["items_one_step", "items_horizon"]].fillna(0).astype(int)
        return table.rename_axis("candidate").reset_index()

    # -- predict ---------------------------------------------------------------------------------------

    def _item_weights(self, weights: pd.DataFrame, default: pd.Series, items: Sequence) -> np.ndarray:
        table = weights.reindex(pd.Index(items))
        missing = table.isna().all(axis=1).to_numpy()
        values = table.to_numpy(dtype=np.float64)
        values[missing] = default.reindex(weights.columns).fillna(0.0).to_numpy()
        return np.nan_to_num(values)

    def predict_design(self, owner, catalog, design) -> np.ndarray:
        """The combination for the design's (month, item) pairs, from each used candidate's predictions."""
        keys = pd.MultiIndex.from_arrays([design.frame["dates"], design.frame["item_id"]])
        months = sorted(design.frame["dates"].unique())
        items = list(dict.fromkeys(design.frame["item_id"].tolist()))
        weights = self._item_weights(self.weights_one_, self.default_one_, design.frame["item_id"])
        combined = np.zeros(len(keys))
        for index, name in enumerate(self.weights_one_.columns):
            if not weights[:, index].any():
                continue
            predicted = self.fitted_[name].predict(catalog, months, items=items)
            values = predicted.set_index(["dates", "item_id"])["prediction"].reindex(keys).to_numpy()
            combined += weights[:, index] * values
        return combined

    def horizon_paths(self, owner, catalog, last_month: pd.Timestamp, horizon: int, items: list) -> dict:
        """Each item's combined path for ``last_month + 1 … + horizon`` from the candidates' own forecasts."""
        weights = self._item_weights(self.weights_horizon_, self.default_horizon_, items)
        paths = {item: np.zeros(horizon) for item in items}
        for index, name in enumerate(self.weights_horizon_.columns):
            if not weights[:, index].any():
                continue
            forecast = self.fitted_[name].forecast(catalog, last_month, horizon, items=items)
            table = forecast.pivot(index="item_id", columns="dates", values="prediction").reindex(items)
            for row, item in enumerate(items):
                paths[item] += weights[row, index] * table.iloc[row].to_numpy()
        return paths
