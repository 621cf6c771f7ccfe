"""``Ridge``: scikit-learn's Ridge on the standardized configured feature columns.

The pipeline fits it on a per-item scaled target by default (``target_transforms: [item_level]``): one
linear model with an intercept in sales units cannot serve an item selling 1 and one selling 100,000.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


class RidgeModel(RegressorMixin, BaseEstimator):
    """Linear least squares with an L2 penalty ``alpha`` on standardized features (so the penalty is scale-free)."""

    required_features: ClassVar[tuple[str, ...]] = ()
    uses_listed_features: ClassVar[bool] = True
    needs_training: ClassVar[bool] = True
    handles_missing: ClassVar[bool] = False
    default_target_scaling: ClassVar[str | None] = "item_level"
    accepts_target_transforms: ClassVar[bool] = True

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def fit(self, X: pd.DataFrame, y) -> RidgeModel:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.pipeline_: Pipeline = make_pipeline(
            StandardScaler(), Ridge(alpha=self.alpha, fit_intercept=self.fit_intercept)
        )
        self.pipeline_.fit(X.to_numpy(dtype=np.float64), np.asarray(y, dtype=np.float64))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.pipeline_.predict(X[list(self.feature_names_in_)].to_numpy(dtype=np.float64))

    @property
    def coefficients_(self) -> dict[str, float]:
        """Coefficients per feature, in the features' own units (undoing the standardization)."""
        scaler, ridge = self.pipeline_.named_steps["standardscaler"], self.pipeline_.named_steps["ridge"]
        return dict(zip(self.feature_names_in_, ridge.coef_ / scaler.scale_, strict=True))
