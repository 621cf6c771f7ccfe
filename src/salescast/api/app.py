"""The FastAPI application factory."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI

from salescast import __version__
from salescast.api import forecast, health, ingest
from salescast.api.limits import RequestSizeLimit
from salescast.ingest.service import IngestService
from salescast.ingest.store import open_store
from salescast.serving.runtime import ServingRuntime
from salescast.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (default: from the environment); the schema is migrated on start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = open_store(settings)
        store.migrate()
        app.state.ingest_service = IngestService(store, writer_process=settings.ingest_writer_process)
        app.state.serving = ServingRuntime.start(settings, store)
        # Everything loaded so far lives as long as the server: keep it out of every collection
        # (a full collection over the imported libraries paused requests for tens of milliseconds).
        gc.freeze()
        yield
        app.state.serving.stop()
        app.state.ingest_service.close()

    app = FastAPI(
        title="salescast",
        version=__version__,
        description="Weekly sales ingestion (raw, cleaned weekly, monthly) and forecasting.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(forecast.router)
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    return app
