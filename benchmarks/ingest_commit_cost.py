"""CPU cost of one group commit: the benchmark's posts replayed straight through ``SalesStore`` (no HTTP).

Run: ``uv run python benchmarks/ingest_commit_cost.py [--profile] [DATABASE_URL]``. Loads the generated
feed, then commits 200 batches of 1, 8 and 16 posts drawn as ``benchmarks/locustfile.py`` draws them,
prints milliseconds of wall and CPU time per commit, and saves ``benchmarks/results/ingest_commit_cost.json``.
With ``--profile``, prints the cProfile of the 16-post commits (top functions by own time).
"""

from __future__ import annotations

import cProfile
import platform
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

import locustfile  # the workload's own row generator (this script's folder is on sys.path)
from salescast.ingest.names import normalize_name, resolve_vegetable_name
from salescast.ingest.schema import SalesRow
from salescast.ingest.store import SalesStore

RESULTS = Path(__file__).parent / "results" / "ingest_commit_cost.json"
COMMITS = 200


def main() -> None:
    profile = "--profile" in sys.argv
    urls = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    with tempfile.TemporaryDirectory() as folder:
        store = SalesStore(urls[0] if urls else f"sqlite:///{folder}/commit-cost.db")
        store.migrate()
        store.reset()
        feed = [SalesRow(index, week, name, sales) for index, (week, name, sales) in enumerate(locustfile.FEED)]
        store.upsert_sales_batches([feed], normalize_name, resolve_vegetable_name)
        rng = random.Random(1)

        def post() -> list[SalesRow]:
            return [
                SalesRow(i, r["year_week"], r["vegetable"], r["sales"])
                for i, r in enumerate(locustfile._post_rows(rng))
            ]

        results = {}
        for posts in (1, 8, 16):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(COMMITS):
                store.upsert_sales_batches([post() for _ in range(posts)], normalize_name, resolve_vegetable_name)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            results[f"{posts}_posts"] = {
                "wall_ms_per_commit": round(wall / COMMITS * 1000, 2),
                "cpu_ms_per_commit": round(cpu / COMMITS * 1000, 2),
                "cpu_ms_per_post": round(cpu / COMMITS / posts * 1000, 3),
            }
            print(f"{posts:>2} posts per commit: {results[f'{posts}_posts']}")
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(COMMITS // 2):
                store.upsert_sales_batches([post() for _ in range(16)], normalize_name, resolve_vegetable_name)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        store.dispose()
    report = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "database": store.dialect,
        "commits": COMMITS,
        **results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
