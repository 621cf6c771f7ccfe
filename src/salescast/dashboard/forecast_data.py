"""What the models forecast, against what happened, and the champion's forecast for the coming months.

Two kinds of forecast are shown:

- **recorded**: every registered version logged its one-month-ahead predictions for its test month
  (``error_analysis/test_month_predictions.csv``) with the actuals it was scored on. Those are true
  out-of-sample forecasts; where several versions tested the same month, the newest one is kept.
- **horizon**: the champion forecasts the months after the last complete month of the source,
  recursively (each forecast month is fed back as history for the next) — computed by the serving
  package's :class:`~salescast.serving.forecasts.ForecastService`, so the numbers are the API's.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.dashboard.model_data import ERROR_ANALYSIS_FOLDER, download_run_artifact
from salescast.lifecycle.months import format_month
from salescast.lifecycle.registry import HistoryEntry
from salescast.lifecycle.sources import CsvSource, DatabaseSource
from salescast.settings import Settings

TOTAL = "Total"
PREDICTIONS_FILE = "test_month_predictions.csv"
RECORDED_COLUMNS = ["month", "item_id", "version", "actual", "forecast", "error"]
RECORDED_BOUNDS = ["lo_80", "hi_80"]  # logged by versions with an interval calibration (NaN for older ones)
LOGGED_COLUMNS = frozenset({"dates", "item_id", "sales", "prediction", *RECORDED_BOUNDS})


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
        logged = pd.read_csv(io.BytesIO(content), usecols=lambda column: column in LOGGED_COLUMNS)
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
        for column in RECORDED_BOUNDS:
            frame[column] = logged[column].astype("float64") if column in logged else float("nan")
        frame.attrs["test_month"] = entry.test_month
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*RECORDED_COLUMNS, *RECORDED_BOUNDS])
    recorded = pd.concat(frames, ignore_index=True)
    recorded.attrs = {}
    return recorded.sort_values(["month", "item_id"], ignore_index=True)[[*RECORDED_COLUMNS, *RECORDED_BOUNDS]]


def past_coverage(recorded: pd.DataFrame) -> tuple[float, int]:
    """(percent of recorded actuals inside their logged 80 % interval, rows with one); NaN without any."""
    bounded = recorded.dropna(subset=RECORDED_BOUNDS) if len(recorded) else recorded
    if bounded.empty:
        return float("nan"), 0
    inside = (bounded["actual"] >= bounded["lo_80"]) & (bounded["actual"] <= bounded["hi_80"])
    return float(inside.mean() * 100), len(bounded)


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


def forecasting_source(settings: Settings) -> CsvSource | DatabaseSource:
    """The source the champion forecasts from, chosen as ``salescast monitor`` does.

    ``SALESCAST_PIPELINE_CONFIG``, else ``./pipeline.yaml`` when present, else the settings' database.
    Set ``SALESCAST_PIPELINE_CONFIG`` for the API too and the dashboard shows what ``GET /forecast`` serves.
    """
    from salescast.lifecycle.sources import resolve_pipeline_config

    return resolve_pipeline_config(None, settings).source


def forecasting_service(settings: Settings, store=None):
    """The API's :class:`~salescast.serving.forecasts.ForecastService` on the settings (champion + source).

    ``store``: an open ingestion store to reuse for the settings' database. The champion is looked up
    by :meth:`refresh`-ing ``service.champions``; the data snapshot follows the source's version.
    """
    from salescast.lifecycle.sources import registered_model_name, resolve_pipeline_config
    from salescast.serving.champion import ChampionHolder
    from salescast.serving.data import ServingData
    from salescast.serving.forecasts import ForecastService

    pipeline = resolve_pipeline_config(None, settings)
    data = ServingData(settings, pipeline.source, store=store)
    champions = ChampionHolder(settings, registered_model_name(pipeline, settings))
    return ForecastService(champions, data, settings.forecast_max_horizon, settings.forecast_active_months)


def horizon_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows of ``GET /forecast?horizon=H`` (``item_id``, ``month``, ``prediction``, any ``lo_``/``hi_`` bounds)
    with ``dates`` and ``step``."""
    if not rows:
        return pd.DataFrame(columns=["dates", "item_id", "prediction", "step"])
    frame = pd.DataFrame(rows)
    dates = pd.to_datetime(frame["month"], format="%Y-%m")
    steps = {month: step for step, month in enumerate(sorted(dates.unique()), start=1)}
    bounds = [column for column in frame.columns if column.startswith(("lo_", "hi_"))]
    return pd.DataFrame(
        {"dates": dates, "item_id": frame["item_id"], "prediction": frame["prediction"], "step": dates.map(steps)}
        | {column: frame[column] for column in bounds}
    )


def complete_history(sales: pd.DataFrame, partial: list[pd.Timestamp]) -> pd.DataFrame:
    """``sales`` without the ``partial`` months (a feed starting mid-month reads as a collapse on a chart)."""
    return sales[~sales["dates"].isin(partial)].reset_index(drop=True)


@dataclass(frozen=True)
class ForecastView:
    """One item's (or the total's) series for the forecast chart: actuals, recorded forecasts, horizon."""

    actual: pd.DataFrame  # month, sales
    recorded: pd.DataFrame  # month, forecast, actual, version (and lo_80, hi_80 for one item)
    horizon: pd.DataFrame  # month, forecast, and lo_<level>, hi_<level> for one item with intervals


def forecast_view(history: pd.DataFrame, recorded: pd.DataFrame, horizon: pd.DataFrame, item: str) -> ForecastView:
    """The series of ``item`` (an ``item_id`` as text) or, for :data:`TOTAL`, the sums over items per month.

    Interval bounds are kept for one item only: the sum of the items' bounds is not an interval of the total
    (it would assume every item misses in the same direction at once)."""
    history = history.assign(item_id=history["item_id"].astype(str))
    horizon = horizon.assign(item_id=horizon["item_id"].astype(str))
    if item != TOTAL:
        history = history[history["item_id"] == item]
        recorded = recorded[recorded["item_id"] == item]
        horizon = horizon[horizon["item_id"] == item]
    actual = history.groupby("dates", as_index=False)["sales"].sum().rename(columns={"dates": "month"})
    logged = recorded.groupby(["month", "version"], as_index=False)[["forecast", "actual"]].sum()
    present = [column for column in RECORDED_BOUNDS if column in recorded]  # versions recorded before intervals: none
    if item != TOTAL and len(recorded) and present:
        logged = logged.merge(recorded[["month", "version", *present]], on=["month", "version"], how="left")
    bounds = [column for column in horizon.columns if column.startswith(("lo_", "hi_"))] if item != TOTAL else []
    ahead = horizon.groupby("dates", as_index=False)[["prediction", *bounds]].sum()
    ahead = ahead.rename(columns={"dates": "month", "prediction": "forecast"})
    kept = [column for column in RECORDED_BOUNDS if column in logged and logged[column].notna().any()]
    return ForecastView(actual, logged[["month", "forecast", "actual", "version", *kept]], ahead)


def horizon_table(horizon: pd.DataFrame) -> pd.DataFrame:
    """The horizon forecast as item rows × month columns (``YYYY-MM``), with a total row."""
    if horizon.empty:
        return pd.DataFrame()
    table = horizon.assign(month=horizon["dates"].map(format_month), item_id=horizon["item_id"].astype(str))
    wide = table.pivot_table(index="item_id", columns="month", values="prediction", aggfunc="sum")
    wide.loc[TOTAL] = wide.sum()
    wide.columns.name = None
    return wide.round(1)
