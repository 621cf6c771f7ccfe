"""Baselines: tomorrow looks like a recent past value. They ignore the configured features.

Each reads one feature column, so they share the pipeline's gap handling: a missing lag gives the
documented fallback, never a neighbour's value.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin


class ColumnBaseline(RegressorMixin, BaseEstimator):
    """Predicts one feature column as is; ``fit`` learns nothing."""

    kind: ClassVar[str] = "baseline"
    column: ClassVar[str]
    required_features: ClassVar[tuple[str, ...]]
    uses_listed_features: ClassVar[bool] = False
    needs_training: ClassVar[bool] = False

    def fit(self, X: pd.DataFrame, y=None) -> ColumnBaseline:
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.column].to_numpy(dtype=np.float64)


class PrevMonthSale(ColumnBaseline):
    """Sales at M−1."""

    column = "last_month"
    required_features = ("last_month",)


class SameMonthLastYearSales(ColumnBaseline):
    """Sales at M−12."""

    column = "same_month_last_year"
    required_features = ("same_month_last_year",)


class ThreeMonthMean(ColumnBaseline):
    """Mean sales of M−1 … M−3."""

    column = "three_month_mean"
    required_features = ("three_month_mean",)
