"""The reference table: every model and feature set against the baselines and, on generated data, the oracle.

Feature sets grow one data source at a time — history (last_month, same_month_last_year,
last_year_average, growth), then + marketing, + price, + stock, + objectives — limited to the sources the
configuration gives. Scores are on every (month ≥ start_test, item) row of the sales file: RMSE, MAE, R² and
MAPE pooled over the rows, and MASE and sMAPE per item, averaged over items (MASE's scale is each item's
seasonal-naive error on the months before start_test), so a model absurd on the small items shows.

With ``"intervals": [80, 95]`` every model row (baselines included, not the oracle) also gets, per level,
``coverage_<l>``, ``msis_<l>`` and ``pinball_<l>`` (:func:`salescast.forecast.metrics.interval_scores`, same
seasonal-naive scale), from intervals calibrated on the training months exactly as ``make_predictions`` does
(:func:`salescast.forecast.pipeline.backtest_predictions`). ``interval_method: native`` applies to the models
that have native intervals; the others are calibrated conformally, and ``interval_method`` in the row says which.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.forecast.catalog import load_catalog
from salescast.forecast.config import DEFAULT_FEATURES, parse_config
from salescast.forecast.metrics import forecast_metrics, interval_scores, seasonal_naive_scale
from salescast.forecast.models import BASELINES
from salescast.forecast.oracle import has_truth, oracle_predictions
from salescast.forecast.pipeline import Forecaster, backtest_predictions, split_months

logger = logging.getLogger(__name__)

EXOGENOUS_ORDER = ("marketing", "price", "stock", "objectives")
LEARNED_MODELS = ("Ridge", "LightGBM", "CustomModel")


def feature_sets(sources: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(label, features) pairs: the history features, then one more available source at a time."""
    sets = [("history", DEFAULT_FEATURES)]
    features = list(DEFAULT_FEATURES)
    for name in EXOGENOUS_ORDER:
        if name in sources:
            features.append(name)
            sets.append((f"+{name}", tuple(features)))
    return sets


def reference_table(
    config: Mapping[str, Any],
    base_dir: Path | None = None,
    models: tuple[str, ...] = LEARNED_MODELS,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of {model, features, n, r2, rmse, mae, mape, mase, smape, mase_items}; baselines first, the oracle last
    when truth exists. ``mase_items`` counts the items with a usable seasonal-naive scale (the others are left out
    of the mean MASE). With ``intervals`` in the config, model rows add ``interval_method`` and per level
    ``coverage_<l>``, ``msis_<l>``, ``pinball_<l>`` (module docstring)."""
    checked = parse_config(config)
    base = Path.cwd() if base_dir is None else Path(base_dir)
    catalog = load_catalog(checked.data, base_dir=base)
    train, test = split_months(catalog, checked.start_test)
    actual = catalog.sales[catalog.sales["dates"] >= checked.start_test][["dates", "item_id", "sales"]]
    scale = seasonal_naive_scale(catalog.sales[catalog.sales["dates"] < checked.start_test])

    def score(model: str, label: str, predictions: pd.DataFrame, levels=()) -> dict[str, Any]:
        merged = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
        if merged["prediction"].isna().any():
            raise ValueError(f"{model} left {int(merged['prediction'].isna().sum())} test rows without a prediction")
        row = {"model": model, "features": label, "n": len(merged)}
        return row | forecast_metrics(merged, scale) | (interval_scores(merged, scale, levels) if levels else {})

    runs: list[tuple[str, str, tuple[str, ...]]] = [(name, "own lag", DEFAULT_FEATURES) for name in BASELINES]
    runs += [(model, label, features) for model in models for label, features in feature_sets(checked.data)]
    rows = []
    for model, label, features in runs:
        if progress:
            progress(f"{model} {label}")
        forecaster = Forecaster(model, features if model not in BASELINES else ())
        method = checked.interval_method if forecaster.native_intervals else "conformal"
        predictions = backtest_predictions(forecaster, catalog, train, test, "once", checked.intervals, method)
        row = score(model, label, predictions, checked.intervals)
        rows.append(row | {"interval_method": method} if checked.intervals else row)
    sales_path = Path(checked.data["sales"])
    folder = (sales_path if sales_path.is_absolute() else base / sales_path).parent
    if has_truth(folder):
        rows.append(score("Oracle", "true equations", oracle_predictions(folder, test)))
    return rows
