"""The ``make_predictions`` configuration: parsed and checked before any data is read."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salescast.forecast.catalog import SOURCES
from salescast.forecast.features import check_feature_names
from salescast.forecast.intervals import METHODS, IntervalLevelError, parse_levels
from salescast.forecast.models import check_model_name, make_model

DEFAULT_FEATURES: tuple[str, ...] = ("last_month", "same_month_last_year", "last_year_average", "growth")
CONFIG_KEYS = (
    "data",
    "start_test",
    "model",
    "features",
    "model_params",
    "target_scaling",
    "target_transforms",
    "refit",
    "intervals",
    "interval_method",
    "engine",
    "spark",
)
REFITS = ("once", "monthly")
ENGINES = ("pandas", "spark")


class ConfigError(ValueError):
    """The configuration is wrong; the message says which key and what is expected."""


@dataclass(frozen=True)
class ForecastConfig:
    """A checked configuration. ``start_test`` is a month start."""

    data: dict[str, Any]  # source name → CSV path (str) or DataFrame
    start_test: pd.Timestamp
    model: str = "Ridge"
    features: tuple[str, ...] = DEFAULT_FEATURES
    model_params: dict[str, Any] = field(default_factory=dict)
    target_scaling: str | None = "auto"
    target_transforms: list[Any] | None = None
    refit: str = "once"
    intervals: tuple[float, ...] = ()  # interval levels in percent, sorted
    interval_method: str = "conformal"
    engine: str = "pandas"
    spark: dict[str, Any] = field(default_factory=dict)  # Spark configuration keys → values (builder.config)


def parse_month(value: Any, key: str = "start_test") -> pd.Timestamp:
    """A ``YYYY-MM-01`` string (or date) as a Timestamp; anything else raises ConfigError."""
    try:
        month = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{key} must be a month start like '2023-07-01', got {value!r}") from error
    if month is pd.NaT or month.day != 1 or month != month.normalize():
        raise ConfigError(f"{key} must be the first day of a month like '2023-07-01', got {value!r}")
    return month


def check_refit(refit: Any) -> str:
    """``refit`` as given when it is ``"once"`` or ``"monthly"``; anything else raises ConfigError saying both."""
    if not isinstance(refit, str) or refit not in REFITS:
        raise ConfigError(
            f"refit must be one of {list(REFITS)} (once: fitted on the months before start_test; monthly: refitted "
            f"before each test month on every month before it), got {refit!r}"
        )
    return refit


def parse_engine(engine: Any, spark: Any = None) -> tuple[str, dict[str, Any]]:
    """(engine, Spark configuration): ``engine`` is pandas or spark; ``spark`` maps Spark keys to scalar values."""
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    if spark is None:
        spark = {}
    if not isinstance(spark, Mapping):
        raise ConfigError(
            f"'spark' must map Spark configuration keys to values (e.g. spark.executor.memory: 4g), got {spark!r}"
        )
    bad = [key for key, value in spark.items() if not isinstance(key, str) or not isinstance(value, str | int | float)]
    if bad:
        raise ConfigError(f"'spark' keys must be strings and values strings or numbers; these are not: {bad}")
    if spark and engine != "spark":
        raise ConfigError("a 'spark' section configures engine: spark; set engine: spark or remove it")
    return engine, dict(spark)


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
        raise ConfigError("'data' must map source names to CSV paths or DataFrames and include 'sales'")
    unknown_sources = sorted(set(data) - set(SOURCES))
    if unknown_sources:
        raise ConfigError(f"unknown data source(s) {unknown_sources}; valid sources are {list(SOURCES)}")
    model = config.get("model", "Ridge")
    features = config.get("features", DEFAULT_FEATURES)
    params = config.get("model_params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"'model_params' must be a mapping of parameter names to values, got {params!r}")
    refit = check_refit(config.get("refit", "once"))
    try:
        intervals = parse_levels(config.get("intervals"))
    except IntervalLevelError as error:
        raise ConfigError(f"'intervals': {error}") from None
    interval_method = config.get("interval_method", "conformal")
    if interval_method not in METHODS:
        raise ConfigError(
            f"interval_method must be one of {list(METHODS)} (conformal: from the model's own rolling-origin "
            f"errors, any model; native: the statsforecast families' own intervals), got {interval_method!r}"
        )
    if "interval_method" in config and not intervals:
        raise ConfigError("interval_method needs 'intervals', the levels to compute (e.g. [80, 95])")
    engine, spark = parse_engine(config.get("engine", "pandas"), config.get("spark"))
    if engine == "spark" and intervals:
        raise ConfigError("'intervals' are not computed on the Spark engine yet; use engine: pandas for intervals")
    checked = ForecastConfig(
        data={name: source if isinstance(source, pd.DataFrame) else str(source) for name, source in data.items()},
        start_test=parse_month(config["start_test"]),
        model=model,
        features=features,
        model_params=dict(params),
        target_scaling=config.get("target_scaling", "auto"),
        target_transforms=config.get("target_transforms"),
        refit=refit,
        intervals=intervals,
        interval_method=interval_method,
        engine=engine,
        spark=spark,
    )
    try:
        check_model_name(model)
        checked = dataclasses.replace(checked, features=tuple(check_feature_names(features)))
        from salescast.forecast.pipeline import forecaster_from_config

        forecaster = forecaster_from_config(checked)  # model, scaling and transforms fit together
        if checked.interval_method == "native" and not forecaster.native_intervals:
            raise ConfigError(
                f"interval_method 'native' needs a statsforecast family with intervals (AutoETS, AutoARIMA, "
                f"AutoTheta, AutoCES, ARIMA); {model} uses conformal intervals"
            )
        make_model(model, checked.model_params)  # parameters the model takes
    except ValueError as error:
        raise ConfigError(str(error)) from error
    return checked
