"""What the models forecast, against what happened, and the champion's forecast for the coming months.

Two kinds of forecast are shown:

- **recorded**: every registered version logged its one-month-ahead predictions for its test month
  (``error_analysis/test_month_predictions.csv``) with the actuals it was scored on. Those are true
  out-of-sample forecasts; where several versions tested the same month, the newest one is kept.
- **horizon**: the champion forecasts the months after the last complete month of its training
  source, recursively (each forecast month is fed back as history for the next).

``forecast_horizon`` is local to the dashboard until the serving package (issue 6) offers the same.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.dashboard.model_data import ERROR_ANALYSIS_FOLDER, download_run_artifact
from salescast.lifecycle.months import format_month, latest_complete_month, shift_month
from salescast.lifecycle.registry import HistoryEntry
from salescast.lifecycle.sources import CsvSource, DatabaseSource, load_source
from salescast.settings import Settings

TOTAL = "Total"
PREDICTIONS_FILE = "test_month_predictions.csv"
RECORDED_COLUMNS = ["month", "item_id", "version", "actual", "forecast", "error"]
_DATABASE_SOURCE = re.compile(r"^database: (?P<url>.*) \(remove_outliers=(?P<remove>True|False)\)$")
_SETTINGS_DATABASE = "settings database_url"


class UnknownTrainingSource(ValueError):
    """A run's ``source`` tag names no source the dashboard can read back."""


def recorded_forecasts(client, entries: list[HistoryEntry]) -> pd.DataFrame:
    """Each test month's logged forecasts and actuals (newest version per month), oldest month first.

    ``error`` is ``forecast - actual`` (positive: over-forecast), as in the error analysis.
    """
    frames = []
    for entry in sorted(entries, key=lambda entry: int(entry.version), reverse=True):
        if not entry.run_id or any(frame.attrs["test_month"] == entry.test_month for frame in frames):
            continue
        content = download_run_artifact(client, entry.run_id, f"{ERROR_ANALYSIS_FOLDER}/{PREDICTIONS_FILE}")
        if content is None:
            continue
        logged = pd.read_csv(io.BytesIO(content), usecols=["dates", "item_id", "sales", "prediction"])
        frame = pd.DataFrame(
            {
                "month": pd.to_datetime(logged["dates"]),
                "item_id": logged["item_id"].astype(str),
                "version": entry.version,
                "actual": logged["sales"].astype("float64"),
                "forecast": logged["prediction"].astype("float64"),
            }
        )
        frame["error"] = frame["forecast"] - frame["actual"]
        frame.attrs["test_month"] = entry.test_month
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=RECORDED_COLUMNS)
    recorded = pd.concat(frames, ignore_index=True)
    recorded.attrs = {}
    return recorded.sort_values(["month", "item_id"], ignore_index=True)[RECORDED_COLUMNS]


def error_by_month(recorded: pd.DataFrame, entries: list[HistoryEntry]) -> pd.DataFrame:
    """Per recorded month: RMSE, MAE, bias and the total forecast against the total actual.

    ``baseline_rmse`` is SameMonthLastYearSales on the same month (from the version's tags), so a bar
    above its line is a month where the naive forecast did better.
    """
    baseline = {entry.version: entry.baseline_rmse for entry in entries}
    rows = []
    for (month, version), group in recorded.groupby(["month", "version"], sort=True):
        actual_total, forecast_total = group["actual"].sum(), group["forecast"].sum()
        rows.append(
            {
                "month": month,
                "version": version,
                "items": len(group),
                "rmse": float(np.sqrt((group["error"] ** 2).mean())),
                "mae": float(group["error"].abs().mean()),
                "bias": float(group["error"].mean()),
                "actual_total": float(actual_total),
                "forecast_total": float(forecast_total),
                "total_error_pct": float((forecast_total - actual_total) / actual_total * 100)
                if actual_total
                else math.nan,
                "baseline_rmse": baseline.get(version),
            }
        )
    columns = ["month", "version", "items", "rmse", "mae", "bias", "actual_total", "forecast_total"]
    return pd.DataFrame(rows, columns=[*columns, "total_error_pct", "baseline_rmse"])


def parse_training_source(description: str) -> CsvSource | DatabaseSource:
    """The source a run's ``source`` tag describes (see ``describe()`` in :mod:`salescast.lifecycle.sources`)."""
    from pathlib import Path

    match = _DATABASE_SOURCE.match(description)
    if match:
        url = None if match["url"] == _SETTINGS_DATABASE else match["url"]
        return DatabaseSource(url, match["remove"] == "True")
    if description.startswith("csv: "):
        files = {}
        for part in description[len("csv: ") :].split(", "):
            name, _, path = part.partition("=")
            files[name] = Path(path)
        if "sales" in files:
            return CsvSource(files)
    raise UnknownTrainingSource(f"cannot read back the training source {description!r}")


@dataclass(frozen=True)
class TrainingHistory:
    """The monthly sales of the champion's source, up to its last complete month (``dates``, ``item_id``, ``sales``)."""

    sales: pd.DataFrame
    last_month: pd.Timestamp | None
    description: str


def load_training_history(description: str, settings: Settings) -> TrainingHistory:
    """Read the source a run was trained on again, as it is now; partly covered months are left out.

    For the database source a month counts once every one of its days is in an ingested week: the
    month still being fed, and the month before the feed's first Monday, would read as collapses.
    """
    data = load_source(parse_training_source(description), settings)
    sales = data.catalog.sales[["dates", "item_id", "sales"]]
    last = latest_complete_month(sales["dates"].unique(), data.complete_months)
    if data.complete_months is not None:  # also the first month, when the feed starts mid-month
        sales = sales[sales["dates"].isin(data.complete_months)]
    return TrainingHistory(sales.reset_index(drop=True), last, data.description)


def forecast_horizon(model, history: pd.DataFrame, months: int) -> pd.DataFrame:
    """``months`` months after the history's last month for every item, each step fed back as history.

    ``model`` is the champion's pyfunc (:class:`~salescast.lifecycle.model.ForecasterModel`): it
    forecasts the month named by ``params["month"]`` from the history it is given. Returns ``dates``,
    ``item_id``, ``prediction`` and ``step`` (1 = the month after the last actual).
    """
    if history.empty or months < 1:
        return pd.DataFrame(columns=["dates", "item_id", "prediction", "step"])
    known = history[["dates", "item_id", "sales"]]
    last = known["dates"].max()
    steps = []
    for step in range(1, months + 1):
        month = shift_month(last, step)
        predicted = model.predict(known, params={"month": format_month(month)})
        predicted = predicted.assign(step=step)
        steps.append(predicted)
        fed_back = predicted.rename(columns={"prediction": "sales"})[["dates", "item_id", "sales"]]
        known = pd.concat([known, fed_back], ignore_index=True)
    return pd.concat(steps, ignore_index=True)[["dates", "item_id", "prediction", "step"]]


@dataclass(frozen=True)
class ForecastView:
    """One item's (or the total's) series for the forecast chart: actuals, recorded forecasts, horizon."""

    actual: pd.DataFrame  # month, sales
    recorded: pd.DataFrame  # month, forecast, actual, version
    horizon: pd.DataFrame  # month, forecast


def forecast_view(history: pd.DataFrame, recorded: pd.DataFrame, horizon: pd.DataFrame, item: str) -> ForecastView:
    """The series of ``item`` (an ``item_id`` as text) or, for :data:`TOTAL`, the sums over items per month."""
    history = history.assign(item_id=history["item_id"].astype(str))
    horizon = horizon.assign(item_id=horizon["item_id"].astype(str))
    if item != TOTAL:
        history = history[history["item_id"] == item]
        recorded = recorded[recorded["item_id"] == item]
        horizon = horizon[horizon["item_id"] == item]
    actual = history.groupby("dates", as_index=False)["sales"].sum().rename(columns={"dates": "month"})
    logged = recorded.groupby(["month", "version"], as_index=False)[["forecast", "actual"]].sum()
    ahead = horizon.groupby("dates", as_index=False)["prediction"].sum()
    ahead = ahead.rename(columns={"dates": "month", "prediction": "forecast"})
    return ForecastView(actual, logged[["month", "forecast", "actual", "version"]], ahead)


def horizon_table(horizon: pd.DataFrame) -> pd.DataFrame:
    """The horizon forecast as item rows × month columns (``YYYY-MM``), with a total row."""
    if horizon.empty:
        return pd.DataFrame()
    table = horizon.assign(month=horizon["dates"].map(format_month), item_id=horizon["item_id"].astype(str))
    wide = table.pivot_table(index="item_id", columns="month", values="prediction", aggfunc="sum")
    wide.loc[TOTAL] = wide.sum()
    wide.columns.name = None
    return wide.round(1)
