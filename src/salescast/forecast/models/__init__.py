"""The model registry: a config name maps to an sklearn-style estimator class.

Every class has class attributes the pipeline reads: ``kind`` (``pooled``: one estimator over every item's
feature rows, ``fit(X, y)`` / ``predict(X)``; ``local``: one statsforecast model per item, ``fit(series)`` /
``forecast(item, y, h)``; ``baseline``: reads one lag; ``auto``: a per-item combination of the others),
``required_features`` (computed whatever the config lists), ``uses_listed_features``, ``needs_training``,
``handles_missing`` (NaN features are passed to the model instead of going to the fallback),
``default_target_scaling`` and ``accepts_target_transforms``.
"""

from __future__ import annotations

from typing import Any

from salescast.forecast.models.auto import AutoModel
from salescast.forecast.models.baselines import PrevMonthSale, SameMonthLastYearSales, ThreeMonthMean
from salescast.forecast.models.custom import CustomModel
from salescast.forecast.models.lightgbm import LightGBMModel
from salescast.forecast.models.ridge import RidgeModel
from salescast.forecast.models.statistical import (
    ADIDAModel,
    ARIMAModel,
    AutoARIMAModel,
    AutoCESModel,
    AutoETSModel,
    AutoThetaModel,
    CrostonOptimizedModel,
    IMAPAModel,
    TSBModel,
)


class SeasonalNaive(SameMonthLastYearSales):
    """Sales at M−12: ``SameMonthLastYearSales`` under the name statsforecast users know."""


MODELS: dict[str, type] = {
    "PrevMonthSale": PrevMonthSale,
    "SameMonthLastYearSales": SameMonthLastYearSales,
    "SeasonalNaive": SeasonalNaive,
    "ThreeMonthMean": ThreeMonthMean,
    "Ridge": RidgeModel,
    "LightGBM": LightGBMModel,
    "CustomModel": CustomModel,
    "AutoETS": AutoETSModel,
    "AutoARIMA": AutoARIMAModel,
    "AutoTheta": AutoThetaModel,
    "AutoCES": AutoCESModel,
    "ARIMA": ARIMAModel,
    "CrostonOptimized": CrostonOptimizedModel,
    "ADIDA": ADIDAModel,
    "IMAPA": IMAPAModel,
    "TSB": TSBModel,
    "Auto": AutoModel,
}
BASELINES = ("PrevMonthSale", "SameMonthLastYearSales", "ThreeMonthMean")
STATISTICAL = ("AutoETS", "AutoARIMA", "AutoTheta", "AutoCES", "ARIMA", "CrostonOptimized", "ADIDA", "IMAPA", "TSB")


def check_model_name(name: str) -> str:
    """The name, or ValueError listing the valid ones."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models are {list(MODELS)}")
    return name


def model_kind(name: str) -> str:
    """``pooled``, ``local``, ``baseline`` or ``auto`` (module docstring)."""
    return getattr(MODELS[check_model_name(name)], "kind", "pooled")


def make_model(name: str, params: dict[str, Any] | None = None):
    """A fresh, unfitted estimator; a parameter the class does not take raises ValueError naming the valid ones."""
    model_class = MODELS[check_model_name(name)]
    params = dict(params or {})
    valid = model_class().get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"model {name!r} has no parameter(s) {unknown}; its parameters are {sorted(valid)}")
    return model_class(**params)
