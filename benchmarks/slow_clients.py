"""/health under 200 slow connections, with salescast's HTTP protocol and with uvicorn's own (before).

Run: ``uv run python benchmarks/slow_clients.py [--seconds 20] [--header-timeout 5] [--body-timeout 10]``.
For each server — ``salescast serve`` (header/body deadlines) and plain ``uvicorn --http httptools`` on the
same app (no deadlines: what ran before) — measures /health for ``--seconds`` without slow clients, then
while 100 idle connections, 50 trickling their headers and 50 trickling a body (a byte every 0.5 s) are
open; prints /health p50/p99/max and how long each kind of connection stayed open, and saves
``benchmarks/results/slow_clients.json``. SQLite database in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from salescast.bench.server_process import ServerProcess
from salescast.bench.slow_clients import slow_client_attack

RESULTS = Path(__file__).parent / "results" / "slow_clients.json"


@dataclass
class PlainUvicornServer(ServerProcess):
    """The same app under uvicorn's own httptools protocol: the behaviour before the deadlines."""

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "--factory", "salescast.api.app:create_app",
            "--port", str(self.port), "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip


def measure(server: ServerProcess, seconds: float) -> dict:
    baseline = slow_client_attack(server.url, {}, limit=seconds).summary()["health"]
    attacked = slow_client_attack(server.url, limit=seconds).summary()
    return {
        "health_without_slow_clients": baseline,
        "health_with_slow_clients": attacked["health"],
        "connections": attacked["connections"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--header-timeout", type=float, default=5.0)
    parser.add_argument("--body-timeout", type=float, default=10.0)
    options = parser.parse_args()
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({platform.machine()}), shared with other jobs",
        "seconds": options.seconds,
        "header_timeout": options.header_timeout,
        "body_timeout": options.body_timeout,
    }
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {
            "SALESCAST_HEADER_TIMEOUT": str(options.header_timeout),
            "SALESCAST_BODY_TIMEOUT": str(options.body_timeout),
            "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
            "SALESCAST_CHAMPION_POLL_SECONDS": "0",
        }
        database_url = f"sqlite:///{work / 'sales.db'}"
        servers = {
            "salescast serve": ServerProcess(database_url, work / "serve.log", extra_env=env),
            "uvicorn httptools (before)": PlainUvicornServer(
                database_url, work / "uvicorn.log", extra_env={**env, "SALESCAST_DATABASE_URL": database_url}
            ),
        }
        for name, server in servers.items():
            server.start(timeout=120)
            try:
                results[name] = measure(server, options.seconds)
            finally:
                server.stop()
            print(f"{name}: {json.dumps(results[name], indent=1)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
