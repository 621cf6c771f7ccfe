"""The ``make_predictions`` configuration: parsed and checked before any data is read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salescast.forecast.catalog import SOURCES
from salescast.forecast.features import check_feature_names
from salescast.forecast.models import check_model_name

DEFAULT_FEATURES: tuple[str, ...] = ("last_month", "same_month_last_year", "last_year_average", "growth")
CONFIG_KEYS = ("data", "start_test", "model", "features", "model_params", "target_scaling")


class ConfigError(ValueError):
    """The configuration is wrong; the message says which key and what is expected."""


@dataclass(frozen=True)
class ForecastConfig:
    """A checked configuration. ``start_test`` is a month start."""

    data: dict[str, str]
    start_test: pd.Timestamp
    model: str = "Ridge"
    features: tuple[str, ...] = DEFAULT_FEATURES
    model_params: dict[str, Any] = field(default_factory=dict)
    target_scaling: str | None = "auto"


def parse_month(value: Any, key: str = "start_test") -> pd.Timestamp:
    """A ``YYYY-MM-01`` string (or date) as a Timestamp; anything else raises ConfigError."""
    try:
        month = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{key} must be a month start like '2023-07-01', got {value!r}") from error
    if month is pd.NaT or month.day != 1 or month != month.normalize():
        raise ConfigError(f"{key} must be the first day of a month like '2023-07-01', got {value!r}")
    return month


def parse_config(config: Mapping[str, Any]) -> ForecastConfig:
    """Check keys, names and types; unknown keys, models or features raise ConfigError naming the valid ones."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"the configuration must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown configuration key(s) {unknown}; valid keys are {list(CONFIG_KEYS)}")
    for key in ("data", "start_test"):
        if key not in config:
            raise ConfigError(f"the configuration needs '{key}'")
    data = config["data"]
    if not isinstance(data, Mapping) or "sales" not in data:
        raise ConfigError("'data' must map source names to CSV paths and include 'sales'")
    unknown_sources = sorted(set(data) - set(SOURCES))
    if unknown_sources:
        raise ConfigError(f"unknown data source(s) {unknown_sources}; valid sources are {list(SOURCES)}")
    model = config.get("model", "Ridge")
    features = config.get("features", DEFAULT_FEATURES)
    params = config.get("model_params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"'model_params' must be a mapping of parameter names to values, got {params!r}")
    try:
        check_model_name(model)
        features = tuple(check_feature_names(features))
    except ValueError as error:
        raise ConfigError(str(error)) from error
    return ForecastConfig(
        data={name: str(path) for name, path in data.items()},
        start_test=parse_month(config["start_test"]),
        model=model,
        features=features,
        model_params=dict(params),
        target_scaling=config.get("target_scaling", "auto"),
    )
