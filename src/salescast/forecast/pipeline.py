"""``Forecaster`` (catalog → features → model → predictions) and ``make_predictions(config)``.

Rules the pipeline owns, whatever the model:

* **One month ahead.** The value for (item, M) uses actual sales strictly before M (the grid's lags) and
  the exogenous data known in advance; a model is fitted once on the training months.
* **Fallback.** When the model cannot predict a pair — a feature it needs is missing (short history, a
  gap in the window, a zero denominator) — the prediction is the item's **last known sales before M**
  (any distance back); an item with no sales before M gets **0**. Every requested pair gets a value;
  the counts are logged.
* **Stock cap.** With the ``stock`` feature, a prediction never exceeds the stock available in M
  (closing stock of M−1 plus refills in M). Predictions are never negative.
* **Target scaling.** ``"item_level"`` divides the target and every sales-unit feature by the item's
  level (mean of its sales in M−1…M−12) before fitting and multiplies predictions back; ``"auto"`` uses
  the model's default (LightGBM: item_level; others: none).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog, DataValidationError, load_catalog
from salescast.forecast.config import DEFAULT_FEATURES, ConfigError, parse_config
from salescast.forecast.features import FEATURES, INTERNAL_FEATURES, FeatureOutput, check_feature_names
from salescast.forecast.features.base import MissingSourceError, item_level
from salescast.forecast.models import MODELS, check_model_name, make_model
from salescast.forecast.panel import build_panel, month_number, month_start

logger = logging.getLogger(__name__)

TARGET_SCALINGS = ("auto", "item_level", None)
OUTPUT_COLUMNS = ["dates", "item_id", "prediction"]


@dataclass(frozen=True)
class Design:
    """The rows to fit or predict, with what the pipeline needs beside the model columns."""

    frame: pd.DataFrame  # dates, item_id, sales, model columns
    level: np.ndarray  # item level (mean of available M−1…M−12), NaN without history
    train_ok: np.ndarray  # False on stockout months and the month after
    cap: np.ndarray  # stock available in M, NaN: no cap
    last_known: np.ndarray  # last sales before M, NaN without history
    sales_unit_columns: frozenset[str]


class Forecaster:
    """Features + model, sklearn style: the constructor only stores and checks names; ``fit`` then ``predict``."""

    def __init__(
        self,
        model: str = "Ridge",
        features: Sequence[str] = DEFAULT_FEATURES,
        model_params: Mapping[str, Any] | None = None,
        target_scaling: str | None = "auto",
    ) -> None:
        self.model = check_model_name(model)
        self.features = tuple(check_feature_names(features))
        self.model_params = dict(model_params or {})
        if target_scaling not in TARGET_SCALINGS:
            raise ValueError(f"unknown target_scaling {target_scaling!r}; valid values are {list(TARGET_SCALINGS)}")
        self.target_scaling = target_scaling

    # -- features -------------------------------------------------------------------------------------------

    @property
    def _model_class(self) -> type:
        return MODELS[self.model]

    def _computed_features(self) -> list[str]:
        return list(dict.fromkeys([*self.features, *self._model_class.required_features]))

    def _scaling(self) -> str | None:
        if self.target_scaling == "auto":
            return getattr(self._model_class, "default_target_scaling", None)
        return self.target_scaling

    def _pairs(self, catalog: Catalog, months: Sequence, items: Sequence | None, first: int) -> pd.DataFrame:
        wanted = np.unique(month_number(pd.DatetimeIndex(months)))
        if wanted.size == 0:
            raise ValueError("no months requested")
        if wanted[0] < first:
            raise ValueError(
                f"month {month_start(wanted[:1])[0].date()} is before the first month of sales: "
                "there is no history to forecast from"
            )
        if items is not None:
            item_list = list(dict.fromkeys(items))
            grid = pd.MultiIndex.from_product([wanted, item_list], names=["month", "item_id"])
            return grid.to_frame(index=False)
        sales_months = month_number(catalog.sales["dates"])
        in_data = np.isin(sales_months, wanted)
        pairs = pd.DataFrame({"month": sales_months[in_data], "item_id": catalog.sales["item_id"].to_numpy()[in_data]})
        future = wanted[wanted > sales_months.max()]
        if future.size:
            every = pd.MultiIndex.from_product([future, catalog.items()], names=["month", "item_id"])
            pairs = pd.concat([pairs, every.to_frame(index=False)], ignore_index=True)
        return pairs

    def _design(self, catalog: Catalog, months: Sequence, items: Sequence | None = None) -> Design:
        last = max(pd.Timestamp(month) for month in months)
        panel = build_panel(catalog, last_month=last, items=items)
        pairs = self._pairs(catalog, months, items, panel.first_month)
        pairs = pairs.sort_values(["month", "item_id"], ignore_index=True)
        rows = panel.items.get_indexer(pairs["item_id"])
        cols = pairs["month"].to_numpy() - panel.first_month
        outputs: dict[str, FeatureOutput] = {}
        for name in self._computed_features():
            try:
                outputs[name] = (FEATURES | INTERNAL_FEATURES)[name](panel)
            except MissingSourceError as error:
                raise ConfigError(str(error)) from error
        columns: dict[str, np.ndarray] = {}
        sales_units: set[str] = set()
        model_features = self.features if self._model_class.uses_listed_features else ()
        for name in dict.fromkeys([*model_features, *self._model_class.required_features]):
            for column, matrix in outputs[name].columns.items():
                columns[column] = matrix[rows, cols]
            sales_units |= outputs[name].sales_unit_columns
        train_ok = np.ones(len(pairs), dtype=bool)
        cap = np.full(len(pairs), np.nan)
        for output in outputs.values():
            if output.train_mask is not None:
                train_ok &= output.train_mask[rows, cols]
            if output.cap is not None:
                cap = np.fmin(cap, output.cap[rows, cols])
        last_known = pd.DataFrame(panel.sales).ffill(axis=1).to_numpy()
        last_known_before = np.full(len(pairs), np.nan)
        has_previous = cols > 0
        last_known_before[has_previous] = last_known[rows[has_previous], cols[has_previous] - 1]
        frame = pd.DataFrame(
            {
                "dates": month_start(pairs["month"].to_numpy()),
                "item_id": pairs["item_id"].to_numpy(),
                "sales": panel.sales[rows, cols],
                **columns,
            }
        )
        return Design(frame, item_level(panel)[rows, cols], train_ok, cap, last_known_before, frozenset(sales_units))

    def feature_frame(self, catalog: Catalog, months: Sequence, items: Sequence | None = None) -> pd.DataFrame:
        """dates, item_id, sales (actual or NaN), then one column per feature column the model uses."""
        return self._design(catalog, months, items).frame

    # -- fit / predict --------------------------------------------------------------------------------------

    def _model_input(self, design: Design) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """(X, scale, predictable): X scaled if needed; rows the model can predict."""
        columns = [column for column in design.frame.columns if column not in ("dates", "item_id", "sales")]
        X = design.frame[columns].astype(np.float64)
        scale = np.ones(len(X))
        predictable = np.ones(len(X), dtype=bool)
        if not getattr(self._model_class, "handles_missing", False) and columns:
            predictable &= ~X.isna().any(axis=1).to_numpy()
        if self._scaling() == "item_level":
            scale = np.where(design.level > 0, design.level, np.where(design.level == 0, 1.0, np.nan))
            predictable &= ~np.isnan(scale)
            scaled = [column for column in columns if column in design.sales_unit_columns]
            X = X.copy()
            X[scaled] = X[scaled].to_numpy() / np.where(np.isnan(scale), 1.0, scale)[:, np.newaxis]
        return X, scale, predictable

    def fit(self, catalog: Catalog, target_months: Sequence[pd.Timestamp]) -> Forecaster:
        """Train on the (month, item) rows with sales in ``target_months``; features use all earlier history."""
        params = dict(self.model_params)
        if "features" in self._model_class().get_params() and "features" not in params:
            params["features"] = self.features  # a structural model switches its terms on the listed features
        self.model_ = make_model(self.model, params)
        design = self._design(catalog, target_months)
        X, scale, predictable = self._model_input(design)
        y = design.frame["sales"].to_numpy()
        usable = predictable & design.train_ok & ~np.isnan(y)
        self.feature_columns_ = list(X.columns)
        self.n_training_rows_ = int(usable.sum())
        if self._model_class.needs_training and self.n_training_rows_ == 0:
            raise DataValidationError(
                f"no training rows for {self.model}: every month before the test period lacks a feature among "
                f"{self.feature_columns_} (lags need up to 15 months of history) or was a stockout. "
                "Give more history or move start_test later."
            )
        self.model_.fit(X[usable], y[usable] / scale[usable])
        logger.info("fitted %s on %d rows, columns %s", self.model, self.n_training_rows_, self.feature_columns_)
        return self

    def predict(self, catalog: Catalog, months: Sequence[pd.Timestamp], items: Sequence | None = None) -> pd.DataFrame:
        """One row per requested (month, item): columns dates (Timestamp), item_id, prediction.

        ``items=None`` means the items with a sales row that month, or every item for a month after the last
        month of sales. Pairs the model cannot predict get the fallback (module docstring).
        """
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit before predict")
        design = self._design(catalog, months, items)
        X, scale, predictable = self._model_input(design)
        prediction = np.full(len(X), np.nan)
        if predictable.any():
            prediction[predictable] = self.model_.predict(X[predictable]) * scale[predictable]
        missing = ~np.isfinite(prediction)
        from_last = missing & ~np.isnan(design.last_known)
        prediction[from_last] = design.last_known[from_last]
        zero = missing & np.isnan(design.last_known)
        prediction[zero] = 0.0
        if missing.any():
            logger.info(
                "%s: %d of %d pairs use the fallback (%d last known sales, %d without history → 0)",
                self.model,
                int(missing.sum()),
                len(prediction),
                int(from_last.sum()),
                int(zero.sum()),
            )
        prediction = np.fmin(prediction, design.cap)
        prediction = np.clip(prediction, 0.0, None)
        return pd.DataFrame(
            {"dates": design.frame["dates"], "item_id": design.frame["item_id"], "prediction": prediction}
        )


def split_months(catalog: Catalog, start_test: pd.Timestamp) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """(training months, test months) of the sales file around ``start_test``, which must leave both non-empty."""
    months = catalog.months()
    train = [month for month in months if month < start_test]
    test = [month for month in months if month >= start_test]
    if not test:
        raise ConfigError(
            f"start_test {start_test.date()} is after the last month of sales ({months[-1].date()}); "
            "choose a month present in the sales file"
        )
    if not train:
        raise ConfigError(
            f"start_test {start_test.date()} leaves no training months (sales start {months[0].date()}); "
            "choose a later month"
        )
    return train, test


def make_predictions(config: Mapping[str, Any], base_dir: Path | None = None) -> pd.DataFrame:
    """One-month-ahead predictions for every (month ≥ start_test, item) row of the sales file.

    Returns columns exactly ``["dates", "item_id", "prediction"]``, ``dates`` as ``"YYYY-MM-01"`` strings,
    sorted by dates then item_id, index 0…n−1. Relative data paths resolve against ``base_dir`` (default:
    the current directory). Bad configuration raises :class:`ConfigError`, bad data
    :class:`DataValidationError` (both ``ValueError``).
    """
    checked = parse_config(config)
    catalog = load_catalog(checked.data, base_dir=base_dir)
    train, test = split_months(catalog, checked.start_test)
    forecaster = Forecaster(checked.model, checked.features, checked.model_params, checked.target_scaling)
    forecaster.fit(catalog, train)
    predictions = forecaster.predict(catalog, test)
    predictions["dates"] = predictions["dates"].dt.strftime("%Y-%m-%d")
    predictions = predictions.sort_values(["dates", "item_id"], ignore_index=True)
    return predictions[OUTPUT_COLUMNS]
