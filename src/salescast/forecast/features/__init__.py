"""The feature registry: a name maps to a function ``compute(panel) -> FeatureOutput``.

Adding a feature is adding one module here. ``FEATURES`` is the list users may name in a config (plus
``lag_<k>`` for any k in 1…36); ``INTERNAL_FEATURES`` are computed only for the models that require them.
A module with ``TARGET_HISTORY = True`` reads only past sales: with target transforms it is computed on the
transformed series (a lag of the seasonal difference, as in mlforecast); the others read their own sources
and the original sales.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

from salescast.forecast.features import (
    exogenous,
    growth,
    lags,
    last_month,
    last_year_average,
    marketing,
    month_of_year,
    objectives,
    price,
    rolling,
    same_month_last_year,
    stock,
    structural_history,
    three_month_mean,
)
from salescast.forecast.features.base import FeatureOutput, MissingSourceError
from salescast.forecast.panel import Panel

Compute = Callable[[Panel], FeatureOutput]

_MODULES: tuple[ModuleType, ...] = (
    last_month,
    same_month_last_year,
    last_year_average,
    growth,
    three_month_mean,
    month_of_year,
    marketing,
    price,
    stock,
    objectives,
    exogenous,
)
FEATURES: dict[str, Compute] = {module.NAME: module.compute for module in _MODULES} | rolling.FEATURES
# Computed when a model requires them, never named in a config.
INTERNAL_FEATURES: dict[str, Compute] = {structural_history.NAME: structural_history.compute}
_TARGET_HISTORY = {module.NAME for module in _MODULES if getattr(module, "TARGET_HISTORY", False)} | set(
    rolling.FEATURES
)

__all__ = [
    "FEATURES",
    "INTERNAL_FEATURES",
    "FeatureOutput",
    "MissingSourceError",
    "check_feature_names",
    "feature_function",
    "reads_target_history",
]


def feature_function(name: str) -> Compute:
    """The compute function of a feature name (listed, internal or ``lag_<k>``); KeyError if unknown."""
    if name in FEATURES:
        return FEATURES[name]
    if name in INTERNAL_FEATURES:
        return INTERNAL_FEATURES[name]
    k = lags.lag_of(name)
    if k is None:
        raise KeyError(name)
    return lags.feature(k)


def reads_target_history(name: str) -> bool:
    """Whether the feature reads only past sales (so it follows the target transforms)."""
    return name in _TARGET_HISTORY or lags.lag_of(name) is not None


def _listable(name: str) -> bool:
    return name in FEATURES or lags.lag_of(name) is not None


def check_feature_names(names: Iterable[str]) -> list[str]:
    """The names as a list without repeats; an unknown name raises ValueError listing the valid ones."""
    if isinstance(names, str):
        raise ValueError(f"features must be a list of names, got the string {names!r}; valid: {sorted(FEATURES)}")
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if not isinstance(name, str) or not _listable(name)]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; valid features are {sorted(FEATURES)} and lag_<k> (k = 1…36)")
    return names
