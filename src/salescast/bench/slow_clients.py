"""Slow clients against a running server: connections that send nothing, or trickle their headers or body.

:func:`slow_client_attack` opens them all at once, keeps every one trickling a byte every
``interval`` seconds, polls ``/health`` meanwhile and reports how long the server took to close each
kind of connection and how fast ``/health`` answered. Used by ``benchmarks/slow_clients.py`` (numbers)
and by the slow-client tests (behaviour).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import httpx

# What each kind sends at once before trickling; the trickle goes on until the server closes.
_OPENINGS = {
    "idle": b"",
    "headers": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
    "body": (
        b"POST /post_sales HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000\r\n\r\n["
    ),
}
_TRICKLE = {"idle": b"", "headers": b"a", "body": b" "}


@dataclass
class AttackReport:
    """Seconds until the server closed each connection (None: still open at the end), by kind; /health latencies."""

    closed_after: dict[str, list[float | None]] = field(default_factory=dict)
    answers: dict[str, list[bytes]] = field(default_factory=dict)
    health_seconds: list[float] = field(default_factory=list)
    health_statuses: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        def percentile(values: list[float], share: float) -> float:
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

        closed = {
            kind: {
                "connections": len(delays),
                "still_open": sum(delay is None for delay in delays),
                "closed_after_s_min": min((d for d in delays if d is not None), default=None),
                "closed_after_s_max": max((d for d in delays if d is not None), default=None),
            }
            for kind, delays in self.closed_after.items()
        }
        latencies_ms = [seconds * 1000 for seconds in self.health_seconds]
        health = {
            "requests": len(latencies_ms),
            "non_200": sum(status != 200 for status in self.health_statuses),
            "p50_ms": statistics.median(latencies_ms) if latencies_ms else None,
            "p99_ms": percentile(latencies_ms, 0.99) if latencies_ms else None,
            "max_ms": max(latencies_ms, default=None),
        }
        return {"connections": closed, "health": health}


async def _slow_connection(
    host: str, port: int, kind: str, interval: float, limit: float
) -> tuple[float | None, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    writer.write(_OPENINGS[kind])

    async def trickle() -> None:
        while True:
            await asyncio.sleep(interval)
            if _TRICKLE[kind]:
                writer.write(_TRICKLE[kind])
                await writer.drain()

    trickling = asyncio.create_task(trickle())
    answer = b""
    try:
        async with asyncio.timeout(limit):
            while chunk := await reader.read(65536):
                answer += chunk
        return time.monotonic() - started, answer
    except TimeoutError:
        return None, answer
    except (ConnectionError, OSError):  # reset while we were writing: closed all the same
        return time.monotonic() - started, answer
    finally:
        trickling.cancel()
        writer.close()


async def _poll_health(url: str, until: float, every: float, report: AttackReport) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            started = time.monotonic()
            response = await client.get("/health")
            report.health_seconds.append(time.monotonic() - started)
            report.health_statuses.append(response.status_code)
            await asyncio.sleep(every)


async def _attack(url: str, counts: dict[str, int], interval: float, limit: float, poll_every: float) -> AttackReport:
    parsed = httpx.URL(url)
    report = AttackReport()
    tasks = {
        kind: [asyncio.create_task(_slow_connection(parsed.host, parsed.port, kind, interval, limit)) for _ in range(n)]
        for kind, n in counts.items()
    }
    await _poll_health(url, time.monotonic() + limit, poll_every, report)
    for kind, kind_tasks in tasks.items():
        results = await asyncio.gather(*kind_tasks)
        report.closed_after[kind] = [delay for delay, _ in results]
        report.answers[kind] = [answer for _, answer in results]
    return report


def slow_client_attack(
    url: str,
    counts: dict[str, int] | None = None,
    *,
    interval: float = 0.5,
    limit: float = 30.0,
    poll_every: float = 0.05,
) -> AttackReport:
    """Open ``counts`` connections per kind (``idle``, ``headers``, ``body``) to ``url`` and watch for ``limit`` s."""
    counts = counts or {"idle": 100, "headers": 50, "body": 50}
    return asyncio.run(_attack(url, counts, interval, limit, poll_every))
