"""Per-request cost of the HTTP guards (request id and 500 boundary, Host check, cross-site refusal).

Run: ``uv run python benchmarks/http_guard_cost.py``. Calls the middleware stack around an ASGI app that
answers at once, for a POST with a browser-like set of headers: with the body-size limit alone (before
issue 15) and with the guards, best of 5 rounds of 20,000 requests; prints microseconds per request and
saves ``benchmarks/results/http_guard_cost.json``. The protocol's deadlines (two event-loop timers per
request) and the JSON Content-Type dependency are not in it.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from salescast.api.errors import ErrorBoundary
from salescast.api.limits import RequestSizeLimit
from salescast.api.security import CrossSiteGuard, HostCheck

RESULTS = Path(__file__).parent / "results" / "http_guard_cost.json"
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"python-httpx/0.28.1"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"content-type", b"application/json"),
    (b"content-length", b"120"),
]


async def answer_at_once(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


def middleware(guards: bool):
    app = RequestSizeLimit(answer_at_once, max_bytes=5 << 20)
    if guards:
        app = ErrorBoundary(HostCheck(CrossSiteGuard(app, []), ["localhost", "127.0.0.1", "::1"]))
    return app


async def microseconds_per_request(app, requests: int) -> float:
    async def receive():
        return {"type": "http.request", "body": b"[]", "more_body": False}

    async def send(message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app({"type": "http", "method": "POST", "path": "/post_sales", "headers": HEADERS}, receive, send)
    return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    results = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.node()}
    for label, guards in (("size_limit_only_us", False), ("with_guards_us", True)):
        app = middleware(guards)
        asyncio.run(microseconds_per_request(app, 2000))  # warm-up
        results[label] = round(min(asyncio.run(microseconds_per_request(app, 20_000)) for _ in range(5)), 2)
        print(f"{label}: {results[label]} µs per request")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
