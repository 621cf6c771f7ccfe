"""Fast JSON responses (orjson) and routes that answer with and without a trailing slash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Response


def json_response(content: Any, status_code: int = 200) -> Response:
    """Serialize with orjson: several times faster than the standard library on row lists."""
    return Response(content=orjson.dumps(content), status_code=status_code, media_type="application/json")


def route(router: APIRouter, path: str, methods: list[str], **options: Any) -> Callable:
    """Register an endpoint on ``path`` and on ``path + '/'`` (the latter hidden from the docs).

    A redirect is not an answer for a POST client, so both spellings are real routes.
    """

    def register(endpoint: Callable) -> Callable:
        for method in methods:
            # One route per method keeps OpenAPI operation ids unique.
            name = endpoint.__name__ if len(methods) == 1 else f"{endpoint.__name__}_{method.lower()}"
            router.add_api_route(path, endpoint, methods=[method], name=name, **options)
            router.add_api_route(path + "/", endpoint, methods=[method], name=name, include_in_schema=False, **options)
        return endpoint

    return register
