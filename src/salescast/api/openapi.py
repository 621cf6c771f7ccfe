"""The OpenAPI document, made to say what the server does (checked by schemathesis in the test suite).

FastAPI's generated document is completed where the routes alone cannot tell:

- ``HEAD`` operations answer like their ``GET`` without a body; ``OPTIONS`` on every path answers
  ``204`` with the ``Allow`` header (the methods the path serves, as a ``405`` lists them too);
- the admin bearer scheme is declared only when ``SALESCAST_ADMIN_TOKEN`` is set (without it the
  admin routes are open, and a document claiming otherwise would lie);
- limits that come from the settings (``sales`` ≤ ``SALESCAST_MAX_SALES``, ``horizon`` ≤
  ``SALESCAST_FORECAST_MAX_HORIZON``).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from salescast.settings import Settings

ALLOW_HEADER = {
    "description": "The methods this path serves, comma-separated.",
    "schema": {"type": "string", "example": "GET, HEAD, OPTIONS"},
}
REQUEST_ID_HEADER = {
    "description": "The request's id (the client's own X-Request-ID when it sent a plain one); the server "
    "logs errors under it.",
    "schema": {"type": "string"},
}
_UNUSED_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _without_bodies(responses: dict[str, Any]) -> dict[str, Any]:
    return {
        status: {key: part for key, part in answer.items() if key != "content"} for status, answer in responses.items()
    }


def _complete(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    for path, operations in document["paths"].items():
        methods = sorted({*operations, "options"})
        for method, operation in operations.items():
            for answer in operation.get("responses", {}).values():
                answer.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
            if method == "head":
                operation["responses"] = _without_bodies(operation["responses"])
                operation["summary"] = f"{operation.get('summary', path)} (headers only)"
            if not settings.admin_token:
                operation.pop("security", None)
        operations["options"] = {
            "summary": "The methods this path serves",
            "operationId": f"options_{path.strip('/').replace('/', '_')}",
            "tags": ["http"],
            "responses": {
                "204": {
                    "description": f"No body; Allow: {', '.join(method.upper() for method in methods)}.",
                    "headers": {"Allow": ALLOW_HEADER, "X-Request-ID": REQUEST_ID_HEADER},
                }
            },
        }
    components = document.setdefault("components", {})
    if not settings.admin_token:
        components.pop("securitySchemes", None)
    for name in _UNUSED_FASTAPI_SCHEMAS:
        components.get("schemas", {}).pop(name, None)
    _document_settings_limits(document["paths"], settings)
    return document


def _document_settings_limits(paths: dict[str, Any], settings: Settings) -> None:
    """The bounds the routes take from the settings: a row's largest sales, the largest forecast horizon."""
    body = paths["/post_sales"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body["items"]["anyOf"][0]["properties"]["sales"]["maximum"] = settings.max_sales
    for method in ("get", "head"):
        for parameter in paths.get("/forecast", {}).get(method, {}).get("parameters", []):
            if parameter["name"] == "horizon":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": settings.forecast_max_horizon}


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the completed document at /openapi.json (built once, on the first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = _complete(copy.deepcopy(generated), settings)
        return app.openapi_schema

    app.openapi = openapi
