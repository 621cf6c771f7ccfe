"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from salescast import __version__
from salescast.api.responses import json_response, route

router = APIRouter(tags=["health"])


@route(router, "/health", ["GET"], errors=(503,))
def health(request: Request) -> Response:
    """Service status, database reachability (503 when it does not answer) and the served champion."""
    champion = _champion(request)
    try:
        request.app.state.ingest_service.store.ping()
    except Exception as error:
        return json_response(
            {
                "status": "degraded",
                "database": f"unreachable: {type(error).__name__}",
                "version": __version__,
                "champion": champion,
            },
            status_code=503,
        )
    return json_response({"status": "ok", "database": "ok", "version": __version__, "champion": champion})


def _champion(request: Request) -> dict:
    """The served champion's name, version and training month and its problems, or why there is none.

    A champion that serves despite a problem (a newer version that fails to load, a vanished alias)
    is ``"degraded"``, not down: the endpoint stays 200.
    """
    runtime = getattr(request.app.state, "serving", None)
    if runtime is None:
        return {"status": "unavailable", "detail": "forecasting is starting", "problems": []}
    if runtime.forecasts is None:
        return {"status": "unavailable", "detail": runtime.error, "problems": []}
    return runtime.forecasts.describe()
