"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from salescast import __version__
from salescast.api.responses import json_response, route

router = APIRouter(tags=["health"])


@route(router, "/health", ["GET"])
def health(request: Request) -> Response:
    """Service status and database reachability; 503 when the database does not answer."""
    try:
        request.app.state.ingest_service.store.ping()
    except Exception as error:
        return json_response(
            {"status": "degraded", "database": f"unreachable: {type(error).__name__}", "version": __version__},
            status_code=503,
        )
    return json_response({"status": "ok", "database": "ok", "version": __version__})
