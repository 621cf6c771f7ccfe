"""What one Spark group runs: plain pandas in, plain pandas out, through the pandas engine's own code.

A group is a batch of items (every row of those items). It becomes a :class:`Catalog` that keeps the whole
catalog's first month, and the same :class:`Forecaster` methods run on it: each item's features and
predictions depend only on its own history, so a group's rows are the whole catalog's rows for its items.
These functions import nothing of Spark and are tested as they are.

**Isolation.** If a group raises, each of its items is retried alone; an item that still raises gets the
pipeline's fallback (its last known sales before the month, 0 without any) and ``status`` says why. The job
goes on; the driver counts and logs those items.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog
from salescast.forecast.pipeline import Forecaster, backtest_predictions

logger = logging.getLogger(__name__)

OK = "ok"
NO_MODEL = "no model"  # a per-item model could not fit this item: the fallback answers
FAILED = "failed: "  # prefix of the error of an item whose computation raised


@dataclass(frozen=True)
class GroupJob:
    """Everything a group needs, shipped to the executors once (it is pickled into the task closure).

    ``fitted`` holds the driver's fitted pooled forecasters: key ``None`` for ``refit="once"``, each test month
    for ``refit="monthly"``; empty for per-item families, which fit inside the group.
    """

    forecaster: Forecaster
    first_month: pd.Timestamp
    train: tuple[pd.Timestamp, ...]
    test: tuple[pd.Timestamp, ...]
    refit: str
    id_type: str
    exogenous_columns: tuple[str, ...] = ()
    fitted: dict = field(default_factory=dict)


def group_catalog(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: GroupJob) -> Catalog:
    """The group's rows as a validated-form :class:`Catalog` (the Spark tables are validated already)."""

    def tidy(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
        frame = frame.loc[:, ["dates", "item_id", *columns]].copy()
        frame["dates"] = pd.to_datetime(frame["dates"]).astype("datetime64[ns]")
        frame["item_id"] = frame["item_id"].astype("int64") if job.id_type == "long" else frame["item_id"].astype(str)
        for column in columns:
            frame[column] = frame[column].astype("float64")
        return frame.sort_values(["item_id", "dates"], ignore_index=True)

    exo = None
    if job.exogenous_columns:
        exo = tidy(
            exogenous if exogenous is not None else pd.DataFrame(columns=["dates", "item_id", *job.exogenous_columns]),
            job.exogenous_columns,
        )
    return Catalog(sales=tidy(sales, ["sales"]), exogenous=exo, first_month=job.first_month)


def fresh(forecaster: Forecaster) -> Forecaster:
    """An unfitted copy of a forecaster's configuration."""
    return Forecaster(
        forecaster.model,
        forecaster.features,
        forecaster.model_params,
        forecaster.target_scaling,
        forecaster.target_transforms,
    )


def training_rows(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: GroupJob, months) -> pd.DataFrame:
    """The pooled model's training rows of the group's items on ``months``: dates, item_id, y, X columns."""
    catalog = group_catalog(sales, exogenous, job)
    keys, X, y = fresh(job.forecaster).training_rows(catalog, list(months))
    frame = keys.reset_index(drop=True)
    frame["y"] = np.asarray(y, dtype=np.float64)
    return pd.concat([frame, X.reset_index(drop=True)], axis=1)


def _predict_catalog(catalog: Catalog, job: GroupJob) -> pd.DataFrame:
    forecaster = job.forecaster
    if job.fitted:
        if job.refit == "once":
            predictions = job.fitted[None].predict(catalog, list(job.test))
        else:
            predictions = pd.concat(
                [job.fitted[month].predict(catalog, [month]) for month in job.test], ignore_index=True
            )
        predictions["status"] = OK
        return predictions
    local = fresh(forecaster)
    predictions = backtest_predictions(local, catalog, list(job.train), list(job.test), job.refit)
    predictions["status"] = OK
    if local.kind == "local" and job.refit == "once":
        unfitted = [item for item, model in local.model_.fitted_.items() if model is None]
        predictions.loc[predictions["item_id"].isin(unfitted), "status"] = NO_MODEL
    return predictions


def fallback_predictions(catalog: Catalog, months: Sequence[pd.Timestamp], reason: str) -> pd.DataFrame:
    """The pipeline's fallback for every sales row of ``months``: last known sales before the month, else 0."""
    sales = catalog.sales
    rows = sales[sales["dates"].isin(list(months))][["dates", "item_id"]].reset_index(drop=True)
    values = []
    for item, month in zip(rows["item_id"], rows["dates"], strict=True):
        before = sales[(sales["item_id"] == item) & (sales["dates"] < month)]["sales"]
        values.append(float(before.iloc[-1]) if len(before) else 0.0)
    rows["prediction"] = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    rows["status"] = reason
    return rows


def isolated(catalog: Catalog, compute, fallback, columns: list[str]) -> pd.DataFrame:
    """``compute(catalog)``; if it raises, ``compute`` on each item alone, ``fallback(item_catalog, reason)`` for an
    item that still raises (module docstring)."""
    try:
        return compute(catalog)
    except Exception as error:
        logger.warning("a group of %d items failed (%s); retrying its items one by one", len(catalog.items()), error)
    frames = []
    for item in catalog.items():
        alone = _one_item(catalog, item)
        try:
            frames.append(compute(alone))
        except Exception as error:
            logger.warning("item %r failed, it gets the fallback: %s", item, error)
            frames.append(fallback(alone, f"{FAILED}{type(error).__name__}: {error}"[:500]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def predict_group(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: GroupJob) -> pd.DataFrame:
    """dates, item_id, prediction, status for every sales row of the test months of the group's items."""
    return isolated(
        group_catalog(sales, exogenous, job),
        lambda catalog: _predict_catalog(catalog, job),
        lambda catalog, reason: fallback_predictions(catalog, job.test, reason),
        ["dates", "item_id", "prediction", "status"],
    )


@dataclass(frozen=True)
class HorizonJob:
    """A batch forecast: the champion's fitted forecaster, the months after ``last_month``, the active window."""

    forecaster: Forecaster
    first_month: pd.Timestamp
    last_month: pd.Timestamp
    horizon: int
    active_from: pd.Timestamp | None  # items with a sale from this month to last_month are forecast (None: any)
    id_type: str
    version: str
    exogenous_columns: tuple[str, ...] = ()
    levels: tuple[float, ...] = ()  # interval levels (percent): lo_/hi_ columns from the champion's calibration

    def columns(self) -> list[str]:
        """The output's columns: the pandas batch forecast's (intervals after ``prediction``), then ``status``."""
        from salescast.forecast.intervals import interval_columns

        return ["item_id", "month", "prediction", *interval_columns(self.levels), "model_version", "status"]


def _horizon_catalog(catalog: Catalog, job: HorizonJob) -> pd.DataFrame:
    from salescast.lifecycle.months import format_month
    from salescast.serving.forecasts import recursive_forecast

    sales = catalog.sales
    recent = sales["dates"] <= job.last_month
    if job.active_from is not None:
        recent &= sales["dates"] >= job.active_from
    items = sorted(sales.loc[recent, "item_id"].unique().tolist())
    if not items:
        return pd.DataFrame(columns=job.columns())
    path = recursive_forecast(job.forecaster, catalog, job.last_month, job.horizon, items, job.levels)
    frame = path.drop(columns="dates").assign(
        month=[format_month(month) for month in path["dates"]], model_version=job.version, status=OK
    )
    return frame[job.columns()]


def horizon_group(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: HorizonJob) -> pd.DataFrame:
    """item_id, month, prediction, model_version, status: the next ``horizon`` months of the group's active items,
    as ``GET /forecast?horizon=H`` computes them (:func:`salescast.serving.forecasts.recursive_forecast`)."""
    catalog = group_catalog(sales, exogenous, job)
    catalog = Catalog(
        sales=catalog.sales[catalog.sales["dates"] <= job.last_month].reset_index(drop=True),
        exogenous=catalog.exogenous,
        first_month=catalog.first_month,
    )
    return isolated(
        catalog,
        lambda part: _horizon_catalog(part, job),
        lambda part, reason: _horizon_fallback(part, job, reason),
        job.columns(),
    )


def _horizon_fallback(catalog: Catalog, job: HorizonJob, reason: str) -> pd.DataFrame:
    """Every step of an item that failed: its last known sales (the pipeline's fallback), if it is active; no
    interval (NaN bounds: ``status`` says why)."""
    from salescast.lifecycle.months import format_month, shift_month

    sales = catalog.sales.sort_values("dates")
    if job.active_from is not None and not (sales["dates"] >= job.active_from).any():
        return pd.DataFrame(columns=job.columns())
    frame = pd.DataFrame(
        {
            "item_id": [sales["item_id"].iloc[0]] * job.horizon,
            "month": [format_month(shift_month(job.last_month, step)) for step in range(1, job.horizon + 1)],
            "prediction": max(float(sales["sales"].iloc[-1]), 0.0),
            "model_version": job.version,
            "status": reason,
        }
    )
    return frame.reindex(columns=job.columns())


def _one_item(catalog: Catalog, item) -> Catalog:
    """The catalog of one item (the whole catalog's calendar kept)."""
    return Catalog(
        sales=catalog.sales[catalog.sales["item_id"] == item].reset_index(drop=True),
        exogenous=None
        if catalog.exogenous is None
        else catalog.exogenous[catalog.exogenous["item_id"] == item].reset_index(drop=True),
        first_month=catalog.first_month,
    )
