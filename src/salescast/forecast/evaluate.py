"""The reference table: every model and feature set against the baselines and, on generated data, the oracle.

Feature sets grow one data source at a time — history (last_month, same_month_last_year,
last_year_average, growth), then + marketing, + price, + stock, + objectives — limited to the sources the
configuration gives. Scores are on every (month ≥ start_test, item) row of the sales file: RMSE, MAE, R² and
MAPE pooled over the rows, and MASE and sMAPE per item, averaged over items (MASE's scale is each item's
seasonal-naive error on the months before start_test), so a model absurd on the small items shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.forecast.catalog import load_catalog
from salescast.forecast.config import DEFAULT_FEATURES, parse_config
from salescast.forecast.metrics import forecast_metrics, seasonal_naive_scale
from salescast.forecast.models import BASELINES
from salescast.forecast.oracle import has_truth, oracle_predictions
from salescast.forecast.pipeline import Forecaster, split_months

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
    of the mean MASE)."""
    checked = parse_config(config)
    base = Path.cwd() if base_dir is None else Path(base_dir)
    catalog = load_catalog(checked.data, base_dir=base)
    train, test = split_months(catalog, checked.start_test)
    actual = catalog.sales[catalog.sales["dates"] >= checked.start_test][["dates", "item_id", "sales"]]
    scale = seasonal_naive_scale(catalog.sales[catalog.sales["dates"] < checked.start_test])

    def score(model: str, label: str, predictions: pd.DataFrame) -> dict[str, Any]:
        merged = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
        if merged["prediction"].isna().any():
            raise ValueError(f"{model} left {int(merged['prediction'].isna().sum())} test rows without a prediction")
        row = {"model": model, "features": label, "n": len(merged)}
        return row | forecast_metrics(merged, scale)

    runs: list[tuple[str, str, tuple[str, ...]]] = [(name, "own lag", DEFAULT_FEATURES) for name in BASELINES]
    runs += [(model, label, features) for model in models for label, features in feature_sets(checked.data)]
    rows = []
    for model, label, features in runs:
        if progress:
            progress(f"{model} {label}")
        forecaster = Forecaster(model, features if model not in BASELINES else ())
        predictions = forecaster.fit(catalog, train).predict(catalog, test)
        rows.append(score(model, label, predictions))
    sales_path = Path(checked.data["sales"])
    folder = (sales_path if sales_path.is_absolute() else base / sales_path).parent
    if has_truth(folder):
        rows.append(score("Oracle", "true equations", oracle_predictions(folder, test)))
    return rows
