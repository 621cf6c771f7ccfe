"""The model registry: a config name maps to an sklearn-style estimator class.

Every class has ``fit(X, y) -> self`` and ``predict(X) -> ndarray`` on the feature frame's columns, and
class attributes the pipeline reads: ``required_features`` (computed whatever the config lists),
``uses_listed_features`` (False for baselines), ``needs_training``, ``handles_missing`` (NaN features are
passed to the model instead of going to the fallback) and ``default_target_scaling``.
"""

from __future__ import annotations

from typing import Any

from salescast.forecast.models.baselines import PrevMonthSale, SameMonthLastYearSales, ThreeMonthMean
from salescast.forecast.models.custom import CustomModel
from salescast.forecast.models.lightgbm import LightGBMModel
from salescast.forecast.models.ridge import RidgeModel

MODELS: dict[str, type] = {
    "PrevMonthSale": PrevMonthSale,
    "SameMonthLastYearSales": SameMonthLastYearSales,
    "ThreeMonthMean": ThreeMonthMean,
    "Ridge": RidgeModel,
    "LightGBM": LightGBMModel,
    "CustomModel": CustomModel,
}
BASELINES = ("PrevMonthSale", "SameMonthLastYearSales", "ThreeMonthMean")


def check_model_name(name: str) -> str:
    """The name, or ValueError listing the valid ones."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models are {list(MODELS)}")
    return name


def make_model(name: str, params: dict[str, Any] | None = None):
    """A fresh, unfitted estimator; a parameter the class does not take raises ValueError naming the valid ones."""
    model_class = MODELS[check_model_name(name)]
    params = dict(params or {})
    valid = model_class().get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"model {name!r} has no parameter(s) {unknown}; its parameters are {sorted(valid)}")
    return model_class(**params)
