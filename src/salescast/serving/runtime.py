"""What the API starts and stops for serving: the champion holder, its watcher and the forecast service.

Nothing here may delay or break the ingestion API: the champion is loaded by the watcher thread (its
first check runs at once, in the background), and a wrong ``SALESCAST_PIPELINE_CONFIG`` is reported by
``/forecast`` (503 with the message) instead of failing the start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from salescast.lifecycle.sources import registered_model_name
from salescast.serving.champion import ChampionHolder, ChampionWatcher
from salescast.serving.data import ServingData, serving_pipeline
from salescast.serving.forecasts import ForecastService
from salescast.settings import Settings

logger = logging.getLogger(__name__)


class ServingUnavailableError(RuntimeError):
    """Serving could not be set up (e.g. an invalid pipeline config); the message says what to fix."""


@dataclass
class ServingRuntime:
    """The serving objects of one API process; ``forecasts`` is None when the setup failed (``error`` says why)."""

    champions: ChampionHolder
    watcher: ChampionWatcher | None
    forecasts: ForecastService | None
    error: str | None = None

    @classmethod
    def start(cls, settings: Settings, store=None, *, watch: bool = True) -> ServingRuntime:
        """Set up serving on ``settings`` (``store``: the API's ingestion store, reused for the database source)."""
        try:
            pipeline = serving_pipeline(settings)
        except ValueError as error:  # PipelineConfigError and friends: a message for the operator
            logger.error("forecasting disabled: %s", error)
            return cls(ChampionHolder(settings), None, None, f"forecasting is not configured: {error}")
        # One registered model per pipeline: the API serves the champion of the pipeline it reads.
        champions = ChampionHolder(settings, registered_model_name(pipeline, settings))
        data = ServingData(settings, pipeline.source, store=store)
        forecasts = ForecastService(champions, data, settings.forecast_max_horizon, settings.forecast_active_months)
        watcher = ChampionWatcher(champions, settings.champion_poll_seconds).start() if watch else None
        return cls(champions, watcher, forecasts)

    def service(self) -> ForecastService:
        """The forecast service, or :class:`ServingUnavailableError` with the setup problem."""
        if self.forecasts is None:
            raise ServingUnavailableError(self.error or "forecasting is not configured")
        return self.forecasts

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.forecasts is not None:
            self.forecasts.data.close()
