"""``Forecaster`` (catalog → features → model → predictions) and ``make_predictions(config)``.

Rules the pipeline owns, whatever the model:

* **One month ahead.** The value for (item, M) uses actual sales strictly before M (the grid's lags) and
  the exogenous data known in advance. ``refit="once"`` fits the model on the months before ``start_test``;
  ``refit="monthly"`` refits it before each test month on every month before it (rolling origin).
* **Three kinds of model.** *Pooled* models (Ridge, LightGBM, CustomModel) are one estimator over every
  item's feature rows; *local* models (the statsforecast families) are one model per item fitted on its own
  series; *baselines* read one lag. ``Auto`` combines them per item (:mod:`salescast.forecast.models.auto`).
* **Scale-free pooled models.** Ridge and LightGBM fit on the target after ``target_transforms`` (default:
  ``["item_level"]``, each row divided by its item's recent level), and predictions are transformed back
  (:mod:`salescast.forecast.transforms`). CustomModel fits errors relative to each item's level itself.
* **Fallback.** When the model cannot predict a pair — a feature it needs is missing (short history, a
  gap in the window, a zero denominator), or a per-item model could not fit — the prediction is the item's
  **last known sales before M** (any distance back); an item with no sales before M gets **0**. Every
  requested pair gets a value; the counts are logged.
* **Stock cap.** With the ``stock`` feature, a prediction never exceeds the stock available in M
  (closing stock of M−1 plus refills in M). Predictions are never negative.
* **Intervals.** ``calibrate`` (after ``fit``) stores the model's rolling-origin residuals per horizon step;
  ``predict`` / ``forecast`` with ``levels`` then add ``lo_<level>``, ``hi_<level>`` under the same rules
  (never negative, capped, a stated width for the fallback): :mod:`salescast.forecast.intervals`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog, DataValidationError, load_catalog
from salescast.forecast.config import DEFAULT_FEATURES, ConfigError, parse_config
from salescast.forecast.features import FeatureOutput, check_feature_names, feature_function, reads_target_history
from salescast.forecast.features.base import MissingSourceError
from salescast.forecast.intervals import Calibration, calibrate, interval_bounds, interval_columns
from salescast.forecast.models import MODELS, check_model_name, make_model, model_kind
from salescast.forecast.models.statistical import regular_history
from salescast.forecast.panel import Panel, build_panel, month_number, month_start
from salescast.forecast.transforms import TargetTransforms, parse_target_transforms, recent_scale

logger = logging.getLogger(__name__)

TARGET_SCALINGS = ("auto", "item_level", None)
OUTPUT_COLUMNS = ["dates", "item_id", "prediction"]


@dataclass(frozen=True)
class Design:
    """The rows to fit or predict, with what the pipeline needs beside the model columns."""

    frame: pd.DataFrame  # dates, item_id, sales (actual), model columns
    target: np.ndarray  # the sales after the matrix target transforms (= sales without any)
    scale: np.ndarray  # per-row divisor of the target and the sales-unit columns (1: none; NaN: no history)
    train_ok: np.ndarray  # False on stockout months and the month after
    cap: np.ndarray  # stock available in M, NaN: no cap
    last_known: np.ndarray  # last sales before M, NaN without history
    sales_unit_columns: frozenset[str]
    panel: Panel
    stages: list[np.ndarray]  # the sales matrix before each target transform, and after the last
    rows: np.ndarray  # panel row of each design row
    cols: np.ndarray  # panel column of each design row


class Forecaster:
    """Features + model, sklearn style: the constructor only stores and checks names; ``fit`` then ``predict``."""

    def __init__(
        self,
        model: str = "Ridge",
        features: Sequence[str] = DEFAULT_FEATURES,
        model_params: Mapping[str, Any] | None = None,
        target_scaling: str | None = "auto",
        target_transforms: Sequence[Any] | None = None,
    ) -> None:
        self.model = check_model_name(model)
        self.features = tuple(check_feature_names(features))
        self.model_params = dict(model_params or {})
        if target_scaling not in TARGET_SCALINGS:
            raise ValueError(f"unknown target_scaling {target_scaling!r}; valid values are {list(TARGET_SCALINGS)}")
        self.target_scaling = target_scaling
        if target_transforms is None or isinstance(target_transforms, str | Mapping):
            self.target_transforms = target_transforms  # not a list: parse_target_transforms says so
        else:
            self.target_transforms = list(target_transforms)
        self.transforms = self._resolve_transforms()

    # -- configuration ----------------------------------------------------------------------------------

    @property
    def _model_class(self) -> type:
        return MODELS[self.model]

    @property
    def kind(self) -> str:
        """``pooled``, ``local``, ``baseline`` or ``auto``."""
        return model_kind(self.model)

    def _resolve_transforms(self) -> TargetTransforms:
        accepts = getattr(self._model_class, "accepts_target_transforms", False)
        if self.target_transforms is not None:
            if not accepts:
                raise ValueError(
                    f"target_transforms apply to the pooled Ridge and LightGBM models; {self.model} "
                    + (
                        "fits errors relative to each item's level itself"
                        if self.kind == "pooled"
                        else "does not pool items"
                    )
                )
            if self.target_scaling != "auto":
                raise ValueError(
                    "give either target_scaling or target_transforms, not both (item_level is a transform)"
                )
            return parse_target_transforms(self.target_transforms)
        scaling = self.target_scaling
        if scaling == "auto":
            scaling = getattr(self._model_class, "default_target_scaling", None)
        return TargetTransforms((), scaling == "item_level")

    def fresh(self) -> Forecaster:
        """An unfitted forecaster with the same configuration."""
        return Forecaster(self.model, self.features, self.model_params, self.target_scaling, self.target_transforms)

    @property
    def native_intervals(self) -> bool:
        """True for the statsforecast families that give their own intervals (``level=``)."""
        return bool(getattr(self._model_class, "native_intervals", False))

    def _computed_features(self) -> list[str]:
        return list(dict.fromkeys([*self.features, *self._model_class.required_features]))

    # -- the design -------------------------------------------------------------------------------------

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
        stages = self.transforms.apply(panel.sales)
        transformed = dataclasses.replace(panel, sales=stages[-1]) if self.transforms.matrix else panel
        outputs: dict[str, FeatureOutput] = {}
        for name in self._computed_features():
            try:
                outputs[name] = feature_function(name)(transformed if reads_target_history(name) else panel)
            except MissingSourceError as error:
                raise ConfigError(str(error)) from error
        columns: dict[str, np.ndarray] = {}
        sales_units: set[str] = set()
        model_features = self.features if self._model_class.uses_listed_features else ()
        for name in dict.fromkeys([*model_features, *self._model_class.required_features]):
            for column, matrix in outputs[name].columns.items():
                if column in columns or column in ("dates", "item_id", "sales"):
                    raise ConfigError(f"feature column {column!r} of {name!r} is already a column of another feature")
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
        scale = np.ones(len(pairs))
        if self.transforms.item_level:
            scale = recent_scale(stages[-1])[rows, cols]
        frame = pd.DataFrame(
            {
                "dates": month_start(pairs["month"].to_numpy()),
                "item_id": pairs["item_id"].to_numpy(),
                "sales": panel.sales[rows, cols],
                **columns,
            }
        )
        return Design(
            frame,
            stages[-1][rows, cols],
            scale,
            train_ok,
            cap,
            last_known_before,
            frozenset(sales_units),
            panel,
            stages,
            rows,
            cols,
        )

    def feature_frame(self, catalog: Catalog, months: Sequence, items: Sequence | None = None) -> pd.DataFrame:
        """dates, item_id, sales (actual or NaN), then one column per feature column the model uses."""
        return self._design(catalog, months, items).frame

    def _model_input(self, design: Design) -> tuple[pd.DataFrame, np.ndarray]:
        """(X, predictable): X divided by the row scale where the columns are in sales units."""
        columns = [column for column in design.frame.columns if column not in ("dates", "item_id", "sales")]
        X = design.frame[columns].astype(np.float64)
        predictable = np.ones(len(X), dtype=bool)
        if not getattr(self._model_class, "handles_missing", False) and columns:
            predictable &= ~X.isna().any(axis=1).to_numpy()
        if self.transforms.item_level:
            predictable &= ~np.isnan(design.scale)
            scaled = [column for column in columns if column in design.sales_unit_columns]
            if scaled:
                X = X.copy()
                X[scaled] = X[scaled].to_numpy() / np.where(np.isnan(design.scale), 1.0, design.scale)[:, np.newaxis]
        return X, predictable

    # -- fit ----------------------------------------------------------------------------------------------

    def fit(self, catalog: Catalog, target_months: Sequence[pd.Timestamp]) -> Forecaster:
        """Train on the (month, item) rows with sales in ``target_months``; features use all earlier history.

        A local model fits each item on its whole series up to the last of ``target_months``.
        """
        self.start_fit(target_months)
        if self.kind == "auto":
            self.model_.fit_forecaster(self, catalog, target_months)
            self.feature_columns_ = self.model_.feature_columns_
            self.n_training_rows_ = self.model_.n_training_rows_
            return self
        if self.kind == "local":
            panel = build_panel(catalog, last_month=self.fit_end_)
            end = int(month_number([self.fit_end_])[0]) - panel.first_month + 1
            series = {item: regular_history(panel.sales[row], end) for row, item in enumerate(panel.items)}
            self.model_.fit(series)
            self.feature_columns_ = []
            self.n_training_rows_ = int(np.sum(~np.isnan(panel.sales[:, :end])))
            logger.info("fitted %s on %d of %d items", self.model, self.model_.n_fitted_, len(series))
            return self
        _, X, y = self.training_rows(catalog, target_months)
        return self.fit_rows(X, y)

    def start_fit(self, target_months: Sequence[pd.Timestamp]) -> None:
        """A fresh unfitted model and the end of the fit period (the first step of :meth:`fit`)."""
        params = dict(self.model_params)
        if "features" in self._model_class().get_params() and "features" not in params:
            params["features"] = self.features  # a structural model switches its terms on the listed features
        self.model_ = make_model(self.model, params)
        self.fit_end_ = max(pd.Timestamp(month) for month in target_months)

    def training_rows(
        self, catalog: Catalog, target_months: Sequence[pd.Timestamp]
    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """A pooled model's training rows (keys: dates and item_id, X, y) on ``target_months``, in (month, item_id)
        order.

        Each row depends only on its own item's history, so the rows of any subset of items are the rows of the
        whole catalog for those items (the Spark engine computes them per group of items).
        """
        design = self._design(catalog, target_months)
        X, predictable = self._model_input(design)
        y = design.target / design.scale
        usable = predictable & design.train_ok & np.isfinite(y)
        return design.frame.loc[usable, ["dates", "item_id"]], X[usable], y[usable]

    def fit_rows(self, X: pd.DataFrame, y: np.ndarray) -> Forecaster:
        """Fit the pooled model of :meth:`start_fit` on training rows from :meth:`training_rows`."""
        self.feature_columns_ = list(X.columns)
        self.n_training_rows_ = len(X)
        if self._model_class.needs_training and self.n_training_rows_ == 0:
            raise DataValidationError(
                f"no training rows for {self.model}: every month before the test period lacks a feature among "
                f"{self.feature_columns_} (lags need up to 15 months of history) or was a stockout. "
                "Give more history or move start_test later."
            )
        self.model_.fit(X, y)
        logger.info("fitted %s on %d rows, columns %s", self.model, self.n_training_rows_, self.feature_columns_)
        return self

    def calibrate(
        self,
        catalog: Catalog,
        target_months: Sequence[pd.Timestamp],
        refit: str = "once",
        method: str = "conformal",
        **window: int,
    ) -> Forecaster:
        """Compute and keep the interval calibration (``calibration_``) for forecasts after ``target_months``.

        Conformal: rolling-origin residuals of fresh copies of this forecaster on those months, split by
        step and computed as ``refit`` refits (:mod:`salescast.forecast.intervals`); ``window`` may set
        ``validation_months`` and ``horizon``. Native: the model's own intervals (statsforecast families).
        """
        if method == "native" and not self.native_intervals:
            raise ValueError(
                f"{self.model} has no native intervals; native intervals come from the statsforecast families "
                "AutoETS, AutoARIMA, AutoTheta, AutoCES and ARIMA (use interval_method 'conformal')"
            )
        self.calibration_ = calibrate(self.fresh, catalog, target_months, refit, method, **window)
        return self

    def _calibration(self) -> Calibration:
        calibration = getattr(self, "calibration_", None)
        if calibration is None:
            raise RuntimeError("this forecaster has no interval calibration: call calibrate after fit")
        return calibration

    def _bounds(
        self,
        catalog: Catalog,
        design: Design,
        raw: np.ndarray,
        prediction: np.ndarray,
        steps: np.ndarray,
        levels: Sequence[float],
        native: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Interval bounds of finished predictions (:func:`salescast.forecast.intervals.interval_bounds`)."""
        calibration = self._calibration()
        items = design.frame["item_id"].to_numpy()
        scale = calibration.item_scale(catalog, items, design.frame["dates"])
        fallback = ~np.isfinite(raw)
        no_history = fallback & np.isnan(design.last_known)
        use_native = native if calibration.method == "native" else None
        return interval_bounds(
            prediction, steps, scale, fallback, no_history, design.cap, calibration, levels, use_native
        )

    # -- predict ------------------------------------------------------------------------------------------

    def _raw_pooled(self, design: Design) -> np.ndarray:
        """The model's predictions in sales units, NaN where it cannot predict."""
        X, predictable = self._model_input(design)
        prediction = np.full(len(X), np.nan)
        if predictable.any():
            scaled = self.model_.predict(X[predictable]) * design.scale[predictable]
            prediction[predictable] = self.transforms.invert(
                scaled, design.stages, design.rows[predictable], design.cols[predictable]
            )
        return prediction

    def _raw_local(
        self, design: Design, levels: Sequence[float] | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Each pair's forecast from the item's actual history before its month (fitted parameters kept),
        and the model's own bounds ``{"lo-80": …}`` for ``levels`` (NaN where it has none)."""
        prediction = np.full(len(design.rows), np.nan)
        native: dict[str, np.ndarray] = {}
        sales = design.panel.sales
        for index, (row, col) in enumerate(zip(design.rows, design.cols, strict=True)):
            observed = np.flatnonzero(~np.isnan(sales[row, :col]))
            if observed.size == 0:
                continue
            steps = int(col - observed[-1])
            path = self.model_.forecast(design.panel.items[row], regular_history(sales[row], col), steps, levels)
            prediction[index] = path["mean"][steps - 1]
            for key, values in path.items():
                if key != "mean":
                    native.setdefault(key, np.full(len(design.rows), np.nan))[index] = values[steps - 1]
        return prediction, native

    def _finish(self, design: Design, prediction: np.ndarray) -> np.ndarray:
        """The pipeline's rules on raw predictions: fallback, stock cap, never negative."""
        prediction = prediction.copy()
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
        return np.clip(prediction, 0.0, None)

    def predict(
        self,
        catalog: Catalog,
        months: Sequence[pd.Timestamp],
        items: Sequence | None = None,
        levels: Sequence[float] | None = None,
        horizon_step: int = 1,
    ) -> pd.DataFrame:
        """One row per requested (month, item): columns dates (Timestamp), item_id, prediction.

        ``items=None`` means the items with a sales row that month, or every item for a month after the last
        month of sales. Pairs the model cannot predict get the fallback (module docstring). ``levels``
        (percent) add ``lo_<level>``, ``hi_<level>`` columns (needs :meth:`calibrate`): one-step intervals, or
        those of step ``horizon_step`` when the caller recurses (its catalog holds earlier steps' predictions).
        """
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit before predict")
        if levels:
            self._calibration()
        design = self._design(catalog, months, items)
        native = None
        if self.kind == "auto":
            raw = self.model_.predict_design(self, catalog, design)
        elif self.kind == "local":
            native_levels = levels if levels and self._calibration().method == "native" else None
            raw, native = self._raw_local(design, native_levels)
        else:
            raw = self._raw_pooled(design)
        return self._finished_frame(catalog, design, raw, native, levels, horizon_step)

    def _finished_frame(self, catalog, design, raw, native, levels, step: int) -> pd.DataFrame:
        """``dates, item_id, prediction`` of the design's rows after the pipeline's rules, with the bounds of
        ``levels`` at horizon ``step``."""
        prediction = self._finish(design, raw)
        frame = pd.DataFrame(
            {"dates": design.frame["dates"], "item_id": design.frame["item_id"], "prediction": prediction}
        )
        if levels:
            steps = np.full(len(frame), step, dtype=np.int64)
            for column, values in self._bounds(catalog, design, raw, prediction, steps, levels, native).items():
                frame[column] = values
        return frame

    # -- horizon ------------------------------------------------------------------------------------------

    def _local_paths(
        self, catalog: Catalog, last_month: pd.Timestamp, horizon: int, items: list, levels=None
    ) -> dict[Any, dict[str, np.ndarray]]:
        """Each item's own multi-step path ``{"mean": …, "lo-80": …}`` for ``last_month + 1 … + horizon``
        (NaN: the fallback)."""
        panel = build_panel(catalog, last_month=last_month, items=items)
        end = int(month_number([last_month])[0]) - panel.first_month + 1
        paths = {}
        for item in items:
            row = panel.items.get_loc(item)
            observed = np.flatnonzero(~np.isnan(panel.sales[row, :end]))
            path = {"mean": np.full(horizon, np.nan)}
            if observed.size:
                gap = int(end - 1 - observed[-1])  # months without sales before the first step
                own = self.model_.forecast(item, regular_history(panel.sales[row], end), gap + horizon, levels)
                path = {key: values[gap : gap + horizon] for key, values in own.items()}
            paths[item] = path
        return paths

    def forecast(
        self,
        catalog: Catalog,
        last_month: pd.Timestamp,
        horizon: int,
        items: Sequence | None = None,
        levels: Sequence[float] | None = None,
    ) -> pd.DataFrame:
        """Predictions for ``last_month + 1 … last_month + horizon`` from the sales up to ``last_month``.

        Pooled models and baselines recurse: each step's prediction stands in as that month's sales for the
        next steps' lags. Local models give their own multi-step path. The pipeline's rules apply at every
        step; the stock cap applies up to the last month of stock data (later refills are unknown, so
        capping at what is left would forecast a stockout nobody planned), and the stock history is kept.
        Returns ``dates``, ``item_id``, ``prediction`` rows, step by step; ``levels`` add each step's
        ``lo_<level>``, ``hi_<level>`` (calibrated on the errors at that step, :meth:`calibrate`).
        """
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit before forecast")
        native_levels = None
        if levels:
            native_levels = levels if self._calibration().method == "native" else None
        last_month = pd.Timestamp(last_month)
        known = catalog.sales[catalog.sales["dates"] <= last_month]
        current = dataclasses.replace(catalog, sales=known.reset_index(drop=True))
        items = list(items) if items is not None else sorted(known["item_id"].unique().tolist())
        stock_end = None
        if catalog.stock is not None and len(catalog.stock):
            stock_end = catalog.stock["dates"].max()
        local = None
        if self.kind == "local":
            local = self._local_paths(current, last_month, horizon, items, native_levels)
        if self.kind == "auto":
            combined = self.model_.horizon_paths(self, current, last_month, horizon, items)
            local = {item: {"mean": path} for item, path in combined.items()}
        steps = []
        for step in range(1, horizon + 1):
            month = last_month + pd.DateOffset(months=step)
            design = self._design(current, [month], items=items)
            if stock_end is not None and month > stock_end:
                design = dataclasses.replace(design, cap=np.full(len(design.cap), np.nan))
            native = None
            if local is not None:
                order = design.frame["item_id"]
                raw = np.array([local[item]["mean"][step - 1] for item in order])
                if native_levels:
                    keys = {key for item in order for key in local[item] if key != "mean"}
                    native = {
                        key: np.array([local[item].get(key, [np.nan] * horizon)[step - 1] for item in order])
                        for key in keys
                    }
            else:
                raw = self._raw_pooled(design)
            predicted = self._finished_frame(current, design, raw, native, levels, step)
            steps.append(predicted)
            appended = predicted[["dates", "item_id", "prediction"]].rename(columns={"prediction": "sales"})
            current = dataclasses.replace(current, sales=pd.concat([current.sales, appended], ignore_index=True))
        return pd.concat(steps, ignore_index=True)


def split_months(catalog: Catalog, start_test: pd.Timestamp) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """(training months, test months) of the sales file around ``start_test``, which must leave both non-empty."""
    return split_month_list(catalog.months(), start_test)


def split_month_list(months: Sequence[pd.Timestamp], start_test: pd.Timestamp):
    """:func:`split_months` of the sorted months present in sales."""
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


def forecaster_from_config(checked) -> Forecaster:
    """An unfitted :class:`Forecaster` of a checked configuration."""
    return Forecaster(
        checked.model, checked.features, checked.model_params, checked.target_scaling, checked.target_transforms
    )


def backtest_predictions(
    forecaster: Forecaster,
    catalog: Catalog,
    train: Sequence[pd.Timestamp],
    test: Sequence[pd.Timestamp],
    refit: str,
    levels: Sequence[float] = (),
    interval_method: str = "conformal",
) -> pd.DataFrame:
    """One-month-ahead predictions of ``test``: fitted once on ``train``, or refitted before each test month
    on every month before it (``refit="monthly"``, the rolling origin of the monthly job).

    ``levels`` add interval columns, calibrated once on ``train`` the way the model is refit (a monthly
    refit reuses that calibration for every test month: no residual comes from the test months).
    """
    forecaster = forecaster.fit(catalog, train)
    if levels:
        forecaster.calibrate(catalog, train, refit=refit, method=interval_method)
    if refit == "once":
        return forecaster.predict(catalog, test, levels=levels or None)
    months = sorted({*train, *test})
    frames = [forecaster.predict(catalog, [test[0]], levels=levels or None)]
    for month in test[1:]:
        history = [earlier for earlier in months if earlier < month]
        fresh = forecaster.fresh().fit(catalog, history)
        if levels:
            fresh.calibration_ = forecaster.calibration_
        frames.append(fresh.predict(catalog, [month], levels=levels or None))
    return pd.concat(frames, ignore_index=True)


def make_predictions(config: Mapping[str, Any], base_dir: Path | None = None) -> pd.DataFrame:
    """One-month-ahead predictions for every (month ≥ start_test, item) row of the sales file.

    Returns columns exactly ``["dates", "item_id", "prediction"]`` (then ``lo_80, hi_80, …`` with
    ``"intervals": [80, …]``, see :mod:`salescast.forecast.intervals`), ``dates`` as ``"YYYY-MM-01"`` strings,
    sorted by dates then item_id, index 0…n−1. ``data`` entries are CSV paths or DataFrames; relative paths
    resolve against ``base_dir`` (default: the current directory). Bad configuration raises
    :class:`ConfigError`, bad data :class:`DataValidationError` (both ``ValueError``).
    """
    checked = parse_config(config)
    if checked.engine == "spark":  # imported only when asked for: the pandas engine never loads pyspark
        from salescast.forecast.spark.pipeline import spark_make_predictions

        return spark_make_predictions(checked, base_dir=base_dir)
    catalog = load_catalog(checked.data, base_dir=base_dir)
    train, test = split_months(catalog, checked.start_test)
    predictions = backtest_predictions(
        forecaster_from_config(checked), catalog, train, test, checked.refit, checked.intervals, checked.interval_method
    )
    predictions["dates"] = predictions["dates"].dt.strftime("%Y-%m-%d")
    predictions = predictions.sort_values(["dates", "item_id"], ignore_index=True)
    return predictions[OUTPUT_COLUMNS + interval_columns(checked.intervals)]
