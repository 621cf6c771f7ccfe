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


def reference_runs(models: tuple[str, ...], sources: Mapping[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(model, feature-set label, features) of each table row: the baselines on their own lag (no features),
    then every model × :func:`feature_sets` of ``sources``."""
    runs: list[tuple[str, str, tuple[str, ...]]] = [(name, "own lag", ()) for name in BASELINES]
    return runs + [(model, label, features) for model in models for label, features in feature_sets(sources)]


def truth_folder(sales: Any, base: Path) -> Path | None:
    """The folder of the sales file when it holds the generator's truth (the oracle row), else None."""
    if not isinstance(sales, str | Path) or "://" in str(sales):
        return None
    path = Path(sales)
    folder = (path if path.is_absolute() else base / path).parent
    return folder if has_truth(folder) else None


def score_row(model: str, label: str, scored: pd.DataFrame, scale: pd.Series, levels=()) -> dict[str, Any]:
    """A table row: ``scored`` (item_id, sales, prediction, bounds) of every test row, NaN where a model gave none,
    scored by :func:`forecast_metrics` (and :func:`interval_scores` for ``levels``) with the items' ``scale``."""
    if scored["prediction"].isna().any():
        raise ValueError(f"{model} left {int(scored['prediction'].isna().sum())} test rows without a prediction")
    row = {"model": model, "features": label, "n": len(scored)}
    return row | forecast_metrics(scored, scale) | (interval_scores(scored, scale, levels) if levels else {})


def reference_table(
    config: Mapping[str, Any],
    base_dir: Path | None = None,
    models: tuple[str, ...] = LEARNED_MODELS,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of {model, features, n, r2, rmse, mae, mape, mase, smape, mase_items}; baselines first, the oracle last
    when truth exists. ``mase_items`` counts the items with a usable seasonal-naive scale (the others are left out
    of the mean MASE). With ``intervals`` in the config, model rows add ``interval_method`` and per level
    ``coverage_<l>``, ``msis_<l>``, ``pinball_<l>`` (module docstring). ``engine: spark`` computes the table with
    :func:`salescast.forecast.spark.evaluate.spark_reference_table`."""
    checked = parse_config(config)
    if checked.engine == "spark":  # imported only when asked for: the pandas engine never loads pyspark
        from salescast.forecast.spark.evaluate import spark_reference_table

        return spark_reference_table(checked, base_dir, models, progress)
    base = Path.cwd() if base_dir is None else Path(base_dir)
    catalog = load_catalog(checked.data, base_dir=base)
    train, test = split_months(catalog, checked.start_test)
    actual = catalog.sales[catalog.sales["dates"] >= checked.start_test][["dates", "item_id", "sales"]]
    scale = seasonal_naive_scale(catalog.sales[catalog.sales["dates"] < checked.start_test])

    def score(model: str, label: str, predictions: pd.DataFrame, levels=()) -> dict[str, Any]:
        merged = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
        return score_row(model, label, merged, scale, levels)

    rows = []
    for model, label, features in reference_runs(models, checked.data):
        if progress:
            progress(f"{model} {label}")
        forecaster = Forecaster(model, features if model not in BASELINES else ())
        method = checked.interval_method if forecaster.native_intervals else "conformal"
        predictions = backtest_predictions(forecaster, catalog, train, test, "once", checked.intervals, method)
        row = score(model, label, predictions, checked.intervals)
        rows.append(row | {"interval_method": method} if checked.intervals else row)
    folder = truth_folder(checked.data["sales"], base)
    if folder is not None:
        rows.append(score("Oracle", "true equations", oracle_predictions(folder, test)))
    return rows
