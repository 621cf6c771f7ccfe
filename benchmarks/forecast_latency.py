"""Latency of ``GET /forecast`` for one item with a warm champion on a real server (target: p99 < 20 ms).

Run: ``uv run python benchmarks/forecast_latency.py [--requests 2000] [--workers 1]``. In a temporary
folder (not timed): generates the vegetable feed, starts ``salescast serve`` in a child process
(:class:`~salescast.bench.server_process.ServerProcess`), posts the feed over HTTP, runs the monthly
training job on the database source, reloads the champion through the admin endpoint and warms the
caches. Then it times sequential requests from one keep-alive client — one-month-ahead for one item
(``month=…&item_id=tomato``), the 12-month recursive path for one item (``item_id=…&horizon=12``), both
again with ``intervals=80,95`` (bounds from the calibration the job stored with the champion) — and the
first (cold) request after new data arrives. Saves ``benchmarks/results/forecast_latency.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import yaml

from salescast.bench.server_process import ServerProcess
from salescast.ingest.csv_import import read_sales_csv
from salescast.ingest.generate import write_vegetable_csv
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config
from salescast.settings import Settings

RESULTS = Path(__file__).parent / "results" / "forecast_latency.json"
TOKEN = "bench-token"
TARGET_P99_MS = 20.0


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)

    return {
        "requests": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def timed(client: httpx.Client, params: dict, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/forecast", params=params)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"/forecast answered {response.status_code}: {response.text}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="Timed requests per scenario.")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the server.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        feed = root / "vegetables.csv"
        write_vegetable_csv(feed, seed=0)
        database_url = f"sqlite:///{root / 'sales.db'}"
        tracking_uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
        pipeline = root / "pipeline.yaml"
        source = {"kind": "database", "database_url": database_url, "remove_outliers": True}
        pipeline.write_text(yaml.safe_dump({"source": source, "lifecycle": {"window": 12}}))
        env = {
            "SALESCAST_MLFLOW_TRACKING_URI": tracking_uri,
            "SALESCAST_PIPELINE_CONFIG": str(pipeline),
            "SALESCAST_ADMIN_TOKEN": TOKEN,
            "SALESCAST_CHAMPION_POLL_SECONDS": "30",
            "SALESCAST_LOG_LEVEL": "WARNING",
        }
        server = ServerProcess(database_url, root / "server.log", workers=args.workers, extra_env=env).start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                rows = read_sales_csv(feed)
                for start in range(0, len(rows), 1000):
                    client.post("/post_sales", json=rows[start : start + 1000]).raise_for_status()
                settings = Settings(database_url=database_url, mlflow_tracking_uri=tracking_uri)
                result = run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-06"))
                headers = {"Authorization": f"Bearer {TOKEN}"}
                for _ in range(args.workers * 4):  # every worker process loads its champion
                    client.post("/admin/reload_model", headers=headers).raise_for_status()
                month = {"month": "2024-01", "item_id": "tomato"}
                horizon = {"item_id": "tomato", "horizon": 12}
                bounded_month = {**month, "intervals": "80,95"}
                bounded_horizon = {**horizon, "intervals": "80,95"}
                for params in (month, horizon, bounded_month, bounded_horizon):
                    timed(client, params, 200)  # warm-up: caches, connections
                scenarios = {
                    "month_one_item": percentiles(timed(client, month, args.requests)),
                    "horizon12_one_item": percentiles(timed(client, horizon, args.requests)),
                    "month_one_item_intervals_80_95": percentiles(timed(client, bounded_month, args.requests)),
                    "horizon12_one_item_intervals_80_95": percentiles(timed(client, bounded_horizon, args.requests)),
                }
                cold = []
                for week in range(1, 6):  # new data: the next request rebuilds the catalog and predicts
                    client.post(
                        "/post_sales", json=[{"year_week": 202400 + week, "vegetable": "tomato", "sales": 500.0}]
                    ).raise_for_status()
                    cold += timed(client, month, 1)
                scenarios["first_request_after_new_data"] = percentiles(cold)
                version = client.get("/forecast", params=month).json()[0]["model_version"]
        finally:
            server.stop()
    report = {
        "benchmark": "forecast_latency",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "setup": {
            "data": "generated vegetable feed 2020-2023, 16 vegetables, posted over HTTP",
            "model": f"Ridge v{version} (job version {result.version}, {result.decision})",
            "workers": args.workers,
            "client": "one httpx keep-alive client, sequential requests",
        },
        "target_p99_ms": TARGET_P99_MS,
        "scenarios": scenarios,
        "meets_target": scenarios["month_one_item"]["p99_ms"] < TARGET_P99_MS,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    for name, numbers in scenarios.items():
        print(
            f"{name:30s} n={numbers['requests']:5d} p50 {numbers['p50_ms']:7.2f} ms  p95 {numbers['p95_ms']:7.2f} ms  "
            f"p99 {numbers['p99_ms']:7.2f} ms  max {numbers['max_ms']:7.2f} ms"
        )
    print(f"target p99 < {TARGET_P99_MS} ms: {'met' if report['meets_target'] else 'NOT met'}; saved {RESULTS}")


if __name__ == "__main__":
    main()
