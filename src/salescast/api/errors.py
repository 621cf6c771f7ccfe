"""One error model for every answer that is not a success, and one place where unexpected errors end.

Every error body is ``{"detail": "<what is wrong>"}`` (422s on malformed parameters add ``errors``:
each problem as ``{loc, msg, type}``). An exception no route handled becomes a JSON 500 here, logged
with the request id that the response carries in ``X-Request-ID`` — and, unlike Starlette's own
error middleware, without re-raising it to the server: uvicorn would then drop the keep-alive
connection without a ``Connection: close``, and the client's next request on it would fail.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from salescast.api.responses import json_response

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
# A client's own id is kept when it is a plain token (it ends up in our logs and headers).
_CLIENT_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_SHOWN_PROBLEMS = 5


def error_body(detail: str, **extra: Any) -> bytes:
    return orjson.dumps({"detail": detail, **extra})


async def send_json_error(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """Answer from a pure ASGI middleware with the API's error body."""
    body = error_body(detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ErrorBoundary:
    """Outermost middleware: gives each request an id (``X-Request-ID``, the client's own if it sent a
    plain one) and turns an unhandled exception into a logged JSON 500 that keeps the connection usable."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = (value for name, value in scope["headers"] if name == REQUEST_ID_HEADER)
        request_id = next((value for value in sent if _CLIENT_REQUEST_ID.match(value)), None)
        request_id = request_id or os.urandom(16).hex().encode()  # uuid4's randomness, a third of its cost
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        response_started = False

        async def send_with_id(message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            logger.info("client went away during %s %s [request %s]", scope["method"], scope["path"], request_id)
        except Exception:
            logger.exception("unhandled error in %s %s [request %s]", scope["method"], scope["path"], request_id)
            if response_started:
                raise  # half a response is out: only closing the connection can tell the client
            await send_json_error(
                send_with_id,
                500,
                f"internal error: the server logged it under request id {request_id.decode()}",
            )


def _methods_on(routes: Iterable, path: str) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers whole
        if included is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            if path.startswith(prefix):
                methods |= _methods_on(included.routes, path[len(prefix) :] or "/")
        elif getattr(route, "methods", None) and route.path_regex.match(path):
            methods |= route.methods
    return methods


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this request's path (what ``Allow`` must list)."""
    return sorted(_methods_on(request.app.router.routes, request.url.path) | {"OPTIONS"})


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    headers = dict(error.headers or {})
    if error.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":  # what this resource supports: an answer, not an error
            return Response(status_code=204, headers={"Allow": allow})
        headers["Allow"] = allow
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    response = json_response({"detail": detail}, status_code=error.status_code)
    response.headers.update(headers)
    return response


def _problem_text(problem: dict) -> str:
    location = ".".join(str(part) for part in problem.get("loc", ()))
    return f"{location}: {problem.get('msg', 'invalid')}" if location else str(problem.get("msg", "invalid"))


async def validation_error(request: Request, error: RequestValidationError) -> Response:
    problems = [
        {"loc": list(problem.get("loc", ())), "msg": str(problem.get("msg", "")), "type": str(problem.get("type", ""))}
        for problem in error.errors()
    ]  # the offending input is left out: it can be a megabyte of it
    if any(problem["type"] == "json_invalid" for problem in problems):
        return json_response({"detail": "body is not valid JSON"}, status_code=400)
    shown = "; ".join(_problem_text(problem) for problem in problems[:_SHOWN_PROBLEMS])
    more = f" (and {len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
    return json_response({"detail": shown + more, "errors": problems}, status_code=422)


def install_error_handling(app: FastAPI) -> None:
    """JSON bodies for HTTP errors and request validation; the boundary middleware is added by the app."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
