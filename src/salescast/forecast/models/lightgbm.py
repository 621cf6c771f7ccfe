"""``LightGBM``: one gradient-boosting model shared by every item.

The pipeline trains it on a per-item scaled target by default (``target_scaling="item_level"``): items
sell at different scales, and a global tree model learns shared shapes only once each row is expressed
relative to its item's level. Missing feature values are left to LightGBM (it learns where they go).
One thread by default (``n_jobs``): the pipeline often fits many models in a row, and threads
oversubscribe a small machine (12 monthly refits took 259 s with 2 threads on 2 cores, 39 s with 1).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin


class LightGBMModel(RegressorMixin, BaseEstimator):
    """``lightgbm.LGBMRegressor`` with deterministic, quiet defaults sized for monthly panels."""

    required_features: ClassVar[tuple[str, ...]] = ()
    uses_listed_features: ClassVar[bool] = True
    needs_training: ClassVar[bool] = True
    handles_missing: ClassVar[bool] = True
    default_target_scaling: ClassVar[str | None] = "item_level"
    accepts_target_transforms: ClassVar[bool] = True

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        reg_lambda: float = 0.0,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: pd.DataFrame, y) -> LightGBMModel:
        import lightgbm

        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.booster_ = lightgbm.LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        self.booster_.fit(X.to_numpy(dtype=np.float64), np.asarray(y, dtype=np.float64))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster_.predict(X[list(self.feature_names_in_)].to_numpy(dtype=np.float64))
