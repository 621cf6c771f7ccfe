"""Fast JSON responses (orjson), the documented error answers, routes that answer with and without a trailing slash."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """The body of every error the API answers with (4xx and 5xx)."""

    detail: str = Field(description="What is wrong, in words a sender can act on.")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Only on 422 for malformed parameters or bodies: each problem as {loc, msg, type}.",
    )


# Why each status can answer; every one of them has the body of ErrorResponse (see salescast.api.errors).
ERROR_STATUSES: dict[int, str] = {
    400: "The request is malformed: a body that is not JSON, a malformed Content-Length, or a Host header that "
    "does not name this server (SALESCAST_ALLOWED_HOSTS).",
    401: "The admin token is missing or wrong (only when SALESCAST_ADMIN_TOKEN is set).",
    403: "Refused as cross-site: an Origin that is neither this server's nor in SALESCAST_ALLOWED_ORIGINS, or "
    "Sec-Fetch-Site: cross-site; for GET /init_database, any browser request without the admin token.",
    404: "No such item.",
    408: "The client took longer than SALESCAST_HEADER_TIMEOUT / SALESCAST_BODY_TIMEOUT to send its request; "
    "the connection is closed.",
    413: "The body is larger than SALESCAST_MAX_REQUEST_BYTES.",
    415: "The body is not declared as Content-Type: application/json.",
    431: "The request line and headers are larger than 64 KiB; the connection is closed.",
    422: "The request is well-formed but unusable: see detail (and errors, for malformed parameters).",
    500: "An internal error; the response's X-Request-ID names it in the server's log.",
    503: "A dependency is not ready: the database cannot write or answer, or no champion model is served yet.",
}
# Any request can meet these: the protocol and middleware answer them before any route runs.
COMMON_ERRORS = (400, 408, 413, 431, 500)
# A body-carrying, state-changing route can also meet these.
WRITE_ERRORS = (403, 415)


def json_response(content: Any, status_code: int = 200) -> Response:
    """Serialize with orjson: several times faster than the standard library on row lists."""
    return Response(content=orjson.dumps(content), status_code=status_code, media_type="application/json")


def error_responses(statuses: Iterable[int]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (and the common ones), all with the one error model."""
    return {
        status: {"model": ErrorResponse, "description": ERROR_STATUSES[status]}
        for status in sorted({*COMMON_ERRORS, *statuses})
    }


def route(
    router: APIRouter, path: str, methods: list[str], *, errors: Iterable[int] = (), head: bool = True, **options: Any
) -> Callable:
    """Register an endpoint on ``path`` and on ``path + '/'`` (the latter hidden from the docs).

    A redirect is not an answer for a POST client, so both spellings are real routes. A GET route also
    answers HEAD (unless ``head=False``: a GET that changes state must not); ``errors`` are the error
    statuses it can answer besides the common ones, documented with the one error model.
    """
    served = [*methods, "HEAD"] if head and "GET" in methods else list(methods)
    options.setdefault("responses", {}).update(error_responses(errors))

    def register(endpoint: Callable) -> Callable:
        for method in served:
            # One route per method keeps OpenAPI operation ids unique.
            plain = len(methods) == 1 and method != "HEAD"
            name = endpoint.__name__ if plain else f"{endpoint.__name__}_{method.lower()}"
            router.add_api_route(path, endpoint, methods=[method], name=name, **options)
            router.add_api_route(path + "/", endpoint, methods=[method], name=name, include_in_schema=False, **options)
        return endpoint

    return register
