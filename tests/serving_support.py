"""Shared pieces of the serving tests: an app whose champion is loaded, and waiting for a version."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient


def wait_for_health(client: TestClient, condition: Callable[[dict], bool], what: str, timeout: float = 60.0) -> dict:
    """Poll ``/health`` until its ``champion`` part meets ``condition``; returns that part."""
    deadline = time.monotonic() + timeout
    champion: dict = {}
    while time.monotonic() < deadline:
        champion = client.get("/health").json()["champion"]
        if condition(champion):
            return champion
        time.sleep(0.05)
    raise AssertionError(f"{what} not reported within {timeout}s: {champion}")


def wait_for_champion(client: TestClient, version: str | None = None, timeout: float = 60.0) -> dict:
    """Poll ``/health`` until a champion (``version`` if given) is served; returns its description."""
    return wait_for_health(
        client,
        lambda champion: champion.get("status") == "ok" and (version is None or champion["version"] == version),
        f"champion {version or ''} served",
        timeout,
    )


def wait_for_forecast_version(client: TestClient, params: dict, version: str, timeout: float = 60.0) -> list[dict]:
    """Poll ``/forecast`` until its rows come from ``version``; returns them."""
    deadline = time.monotonic() + timeout
    rows: list[dict] = []
    while time.monotonic() < deadline:
        response = client.get("/forecast", params=params)
        rows = response.json() if response.status_code == 200 else []
        if rows and all(row["model_version"] == version for row in rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"/forecast did not answer with version {version} within {timeout}s: {rows}")
