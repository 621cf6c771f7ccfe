"""The FastAPI application factory."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from salescast import __version__
from salescast.api import forecast, health, ingest
from salescast.api.errors import ErrorBoundary, install_error_handling
from salescast.api.limits import RequestSizeLimit
from salescast.api.openapi import install_openapi
from salescast.api.security import CrossSiteGuard, HostCheck, allowed_host_names
from salescast.ingest.service import IngestService
from salescast.ingest.store import open_store
from salescast.serving.runtime import ServingRuntime
from salescast.settings import Settings, get_settings


def install_http_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware every request crosses, outermost first: request id and 500s, Host check, CORS for
    the allowed origins, cross-site refusal, body size limit."""
    # add_middleware wraps: the last added runs first.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(CrossSiteGuard, allowed_origins=settings.allowed_origins)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(HostCheck, allowed_hosts=allowed_host_names(settings))
    app.add_middleware(ErrorBoundary)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (default: from the environment); the schema is migrated on start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = open_store(settings)
        store.migrate()
        app.state.ingest_service = IngestService(
            store, writer_process=settings.ingest_writer_process, max_sales=settings.max_sales
        )
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
        description="Weekly sales ingestion (raw, cleaned weekly, monthly) and forecasting. Every error answers "
        'with a JSON body `{"detail": "..."}`; every response carries an `X-Request-ID`.',
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(forecast.router)
    install_error_handling(app)
    install_openapi(app, settings)
    install_http_middleware(app, settings)
    return app
