"""What one Spark group runs for a month of the training job: fit, predict and judge the group's items.

The monthly job (:mod:`salescast.lifecycle.job`) trains the candidate on the plan's months and scores it, the
baselines and the champion on the test month, with each item's seasonal-naive scale (MASE) and history range
(the plausibility gate). Every one of those numbers depends on one item's history only, so a group of items
computes them for its items with the pandas job's own calls and the driver only joins the groups' rows:

* the candidate: fitted on the driver and broadcast (pooled models, whose fit pools every item), or fitted
  here (the per-item families: each item's fitted model comes back pickled, and the driver assembles the
  forecaster it registers), or already fitted (a backtest that fits once);
* the baselines, fitted and predicted here as the job does on the whole catalog (they learn nothing);
* the champion's predictions (the registered forecaster, broadcast), its error recorded instead of raised.

One row per item of the group: its test-month actual and features (NaN without a sale that month), every
prediction, its MASE scale, its history range, and, for per-item families, its fitted model. Like the
engine's groups, a candidate that raises on a group is retried item by item, and an item that still raises
gets the fallback with its reason in ``status``. Nothing here imports Spark.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog
from salescast.forecast.metrics import seasonal_naive_scale
from salescast.forecast.pipeline import Forecaster
from salescast.forecast.spark.groups import OK, fallback_predictions, fresh, group_catalog, isolated

BASELINE_PREFIX = "baseline:"
CHAMPION = "champion"
CHAMPION_ERROR = "champion_error"


@dataclass(frozen=True)
class MonthJob:
    """A test month of the training job, shipped to the executors (the fields :func:`group_catalog` reads too).

    ``candidate`` is fitted when ``candidate_fitted`` (pooled models fitted on the driver, or a backtest's model
    fitted once), else an unfitted per-item family fitted in each group on ``train``. ``baselines`` are the
    job's baseline forecasters (unfitted), ``champion`` the registered champion's fitted forecaster or None.
    ``feature_columns``: the candidate's feature columns on the test month (they depend on the config only).
    """

    candidate: Forecaster
    candidate_fitted: bool
    baselines: tuple[tuple[str, Forecaster], ...]
    champion: Forecaster | None
    first_month: pd.Timestamp
    train: tuple[pd.Timestamp, ...]
    test_month: pd.Timestamp
    id_type: str
    feature_columns: tuple[str, ...]
    exogenous_columns: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """The group's output columns, in order (the driver's Spark schema follows them)."""
        return [
            "item_id",
            "dates",
            "sales",
            *self.feature_columns,
            "prediction",
            "status",
            "model",
            "training_rows",
            *[f"{BASELINE_PREFIX}{name}" for name, _ in self.baselines],
            CHAMPION,
            CHAMPION_ERROR,
            "scale",
            "history_min",
            "history_max",
        ]


def _candidate_rows(catalog: Catalog, job: MonthJob) -> pd.DataFrame:
    """item_id, dates, sales, features, prediction, status, model, training_rows for the catalog's items."""
    month = [job.test_month]
    forecaster = job.candidate if job.candidate_fitted else fresh(job.candidate).fit(catalog, list(job.train))
    features = forecaster.feature_frame(catalog, month)
    predictions = forecaster.predict(catalog, month)
    rows = features.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
    rows["status"] = OK
    items = pd.DataFrame({"item_id": catalog.items()})
    rows = items.merge(rows, on="item_id", how="left")
    if job.candidate_fitted:
        rows["model"] = None
        rows["training_rows"] = 0
    else:
        fitted = forecaster.model_.fitted_
        rows["model"] = [pickle.dumps(fitted.get(item)) for item in rows["item_id"]]
        rows["training_rows"] = _observed(catalog, job, rows)
    return rows


def _observed(catalog: Catalog, job: MonthJob, rows: pd.DataFrame) -> np.ndarray:
    """Per item, the months of sales a per-item fit saw (the forecaster's ``n_training_rows_``, item by item)."""
    seen = catalog.sales[catalog.sales["dates"] <= max(job.train)].groupby("item_id").size()
    return rows["item_id"].map(seen).fillna(0).astype("int64").to_numpy()


def _candidate_fallback(catalog: Catalog, job: MonthJob, reason: str) -> pd.DataFrame:
    """The fallback for an item whose candidate raised: last known sales, no features, no fitted model."""
    rows = fallback_predictions(catalog, [job.test_month], reason)
    actual = catalog.sales[catalog.sales["dates"] == job.test_month][["item_id", "sales"]]
    rows = pd.DataFrame({"item_id": catalog.items()}).merge(rows.merge(actual, on="item_id"), how="left")
    for column in job.feature_columns:
        rows[column] = np.nan
    rows["status"] = rows["status"].fillna(reason)
    rows["model"] = None
    rows["training_rows"] = 0
    return rows


def _predict_or_error(forecaster: Forecaster, catalog: Catalog, month: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    try:
        return forecaster.predict(catalog, [month]), ""
    except Exception as error:  # the champion's failure is a fact to record (the job keeps it), not a crash
        return pd.DataFrame(columns=["dates", "item_id", "prediction"]), f"{type(error).__name__}: {error}"[:500]


def score_month_group(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: MonthJob) -> pd.DataFrame:
    """One row per item of the group (module docstring), columns :meth:`MonthJob.columns`."""
    from salescast.lifecycle.plausibility import history_range

    catalog = group_catalog(sales, exogenous, job)
    rows = isolated(
        catalog,
        lambda part: _candidate_rows(part, job),
        lambda part, reason: _candidate_fallback(part, job, reason),
        ["item_id"],
    )
    on_month = ["dates", "item_id"]
    month = [job.test_month]
    for name, baseline in job.baselines:
        predicted = fresh(baseline).fit(catalog, list(job.train)).predict(catalog, month)
        rows = rows.merge(predicted.rename(columns={"prediction": f"{BASELINE_PREFIX}{name}"}), on=on_month, how="left")
    error = ""
    if job.champion is not None:
        predicted, error = _predict_or_error(job.champion, catalog, job.test_month)
        rows = rows.merge(predicted.rename(columns={"prediction": CHAMPION}), on=on_month, how="left")
    else:
        rows[CHAMPION] = np.nan
    rows[CHAMPION_ERROR] = error
    history = catalog.sales[catalog.sales["dates"] < job.test_month]
    rows["scale"] = rows["item_id"].map(seasonal_naive_scale(history)).astype("float64")
    ranges = history_range(history)
    rows = rows.join(ranges, on="item_id")
    rows["dates"] = pd.to_datetime(rows["dates"])
    return rows[job.columns()]


def assemble_local(candidate: Forecaster, train, rows: pd.DataFrame) -> Forecaster:
    """The per-item forecaster the driver registers: every group's fitted models under one model, as the pandas
    engine's ``fit`` on the whole catalog leaves it."""
    forecaster = fresh(candidate)
    forecaster.start_fit(list(train))
    fitted = {item: pickle.loads(blob) for item, blob in zip(rows["item_id"], rows["model"], strict=True) if blob}
    forecaster.model_.fitted_ = fitted
    forecaster.model_.n_fitted_ = sum(model is not None for model in fitted.values())
    forecaster.feature_columns_ = []
    forecaster.n_training_rows_ = int(rows["training_rows"].sum())
    return forecaster


RESIDUAL_COLUMNS = ["item_id", "dates", "step", "fit_end", "scaled_error", "scale"]
SCALE_STEP = 0  # a row of step 0 carries its item's scale, not a residual (residuals have steps from 1)


@dataclass(frozen=True)
class CalibrationJob:
    """The conformal calibration of ``forecaster`` on the whole catalog's ``history`` months.

    Its residuals (refit once) come from one copy fitted on the validation window's fit months and applied to
    each item's history: a per-item family or a baseline fits that copy in each group; a pooled model's copy
    (``prefitted``) is fitted once on the driver, like the candidate, and every group applies it.
    """

    forecaster: Forecaster
    history: tuple[pd.Timestamp, ...]
    first_month: pd.Timestamp
    id_type: str
    exogenous_columns: tuple[str, ...] = ()
    prefitted: Forecaster | None = None


@dataclass(frozen=True)
class _Prefitted:
    """What :func:`~salescast.forecast.validation.rolling_origin_errors` fits: here, a copy fitted already."""

    forecaster: Forecaster

    def fit(self, catalog, months) -> Forecaster:
        return self.forecaster


def calibration_group(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: CalibrationJob) -> pd.DataFrame:
    """The group's rolling-origin residuals (:func:`salescast.forecast.intervals.calibrate`), then one row of
    step :data:`SCALE_STEP` per item with its scale; columns :data:`RESIDUAL_COLUMNS`."""
    from salescast.forecast.intervals import calibrate

    make = job.forecaster.fresh if job.prefitted is None else lambda: _Prefitted(job.prefitted)
    calibration = calibrate(make, group_catalog(sales, exogenous, job), list(job.history))
    residuals = calibration.residuals.assign(scale=np.nan)
    scales = pd.DataFrame(
        {"item_id": calibration.scales.index, "step": SCALE_STEP, "scale": calibration.scales.to_numpy()}
    )
    frame = pd.concat([residuals, scales], ignore_index=True)
    frame["dates"] = pd.to_datetime(frame["dates"])
    frame["fit_end"] = pd.to_datetime(frame["fit_end"])
    return frame[RESIDUAL_COLUMNS]


def assemble_calibration(rows: pd.DataFrame, window: dict):
    """The :class:`~salescast.forecast.intervals.Calibration` of the whole catalog from every group's rows."""
    from salescast.forecast.intervals import Calibration

    scales = rows[rows["step"] == SCALE_STEP].set_index("item_id")["scale"]
    residuals = rows[rows["step"] != SCALE_STEP].drop(columns="scale").reset_index(drop=True)
    residuals["step"] = residuals["step"].astype(np.int64)
    return Calibration("conformal", "once", residuals[RESIDUAL_COLUMNS[1:-1]], scales.rename_axis(None), window)
