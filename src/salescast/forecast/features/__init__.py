"""The feature registry: a name maps to a module with ``NAME`` and ``compute(panel) -> FeatureOutput``.

Adding a feature is adding one module here. ``FEATURES`` is the list users may name in a config;
``INTERNAL_FEATURES`` are computed only for the models that require them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

from salescast.forecast.features import (
    growth,
    last_month,
    last_year_average,
    marketing,
    objectives,
    price,
    same_month_last_year,
    stock,
    structural_history,
    three_month_mean,
)
from salescast.forecast.features.base import FeatureOutput, MissingSourceError
from salescast.forecast.panel import Panel

_MODULES: tuple[ModuleType, ...] = (
    last_month,
    same_month_last_year,
    last_year_average,
    growth,
    three_month_mean,
    marketing,
    price,
    stock,
    objectives,
)
FEATURES: dict[str, Callable[[Panel], FeatureOutput]] = {module.NAME: module.compute for module in _MODULES}
# Computed when a model requires them, never named in a config.
INTERNAL_FEATURES: dict[str, Callable[[Panel], FeatureOutput]] = {structural_history.NAME: structural_history.compute}

__all__ = ["FEATURES", "INTERNAL_FEATURES", "FeatureOutput", "MissingSourceError", "check_feature_names"]


def check_feature_names(names: Iterable[str]) -> list[str]:
    """The names as a list without repeats; an unknown name raises ValueError listing the valid ones."""
    if isinstance(names, str):
        raise ValueError(f"features must be a list of names, got the string {names!r}; valid: {sorted(FEATURES)}")
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; valid features are {sorted(FEATURES)}")
    return names
