"""Every item's next H months in one table, for ``salescast forecast``: the API's horizon forecasts, computed once.

The rows are exactly those of ``GET /forecast?horizon=H`` — the same :class:`ForecastService`, the same
champion, the same data snapshot (complete months only) — so the file and the API give the same
numbers. A pinned ``version`` forecasts with that registered version instead of the champion alias;
``from_month`` forecasts as the service would have at the end of the month before it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from salescast.lifecycle.months import format_month, shift_month
from salescast.lifecycle.sources import PipelineConfig, registered_model_name
from salescast.serving.champion import Champion, ChampionHolder
from salescast.serving.data import ServingData
from salescast.serving.forecasts import ForecastService
from salescast.settings import Settings

logger = logging.getLogger(__name__)

KEY_COLUMNS = ("item_id", "month", "prediction")
LAST_COLUMN = "model_version"


@dataclass(frozen=True)
class BatchForecast:
    """The forecast rows, the champion that made them and the last month of data they start after."""

    frame: pd.DataFrame
    champion: Champion
    last_month: pd.Timestamp
    source: str


def load_champion(settings: Settings, pipeline: PipelineConfig, version: str | None = None) -> ChampionHolder:
    """A holder of the pipeline's champion (or of registered ``version``); :class:`NoChampionError` says why not."""
    holder = ChampionHolder(settings, registered_model_name(pipeline, settings))
    if version is None:
        holder.refresh()
        holder.require()
    else:
        holder.load_version(version)
    return holder


def batch_forecast(
    settings: Settings,
    pipeline: PipelineConfig,
    horizon: int,
    *,
    version: str | None = None,
    from_month: pd.Timestamp | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
    levels: tuple[float, ...] = (),
) -> BatchForecast:
    """Every item's forecasts for the ``horizon`` months after the data (``from_month`` on, if given), with
    the interval columns of ``levels`` (percent) after ``prediction``.

    Raises ``NoChampionError``, ``NoDataError`` and ``ForecastRequestError`` as the API's route does.
    """
    on_stage("loading the model")
    champions = load_champion(settings, pipeline, version)
    on_stage("reading the data")
    until = shift_month(from_month, -1) if from_month is not None else None
    data = ServingData(settings, pipeline.source, until=until)
    try:
        service = ForecastService(champions, data, settings.forecast_max_horizon, settings.forecast_active_months)
        snapshot = data.snapshot()
        on_stage(f"forecasting {horizon} months after {format_month(snapshot.last_month)}")
        rows = service.horizon_forecast(None, horizon, tuple(levels))
    finally:
        data.close()
    on_stage("writing")
    return BatchForecast(forecast_frame(rows), champions.champion, snapshot.last_month, snapshot.description)


def forecast_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a table: ``item_id``, ``month``, ``prediction``, any further column (intervals), ``model_version``.

    Sorted by item, then month.
    """
    frame = pd.DataFrame(rows, columns=None if rows else [*KEY_COLUMNS, LAST_COLUMN])
    extra = [column for column in frame.columns if column not in (*KEY_COLUMNS, LAST_COLUMN)]
    frame = frame[[*KEY_COLUMNS, *extra, LAST_COLUMN]]
    return frame.sort_values(["item_id", "month"], ignore_index=True)
