"""End-to-end speed of make_predictions: 10,000 items × 60 months, Ridge (target: under 10 s).

Run: ``uv run python benchmarks/forecast_scale.py [--items 10000] [--months 60] [--profile]``. Generates the
data once into a temporary folder (not timed), then times make_predictions — reading the CSVs, validating,
computing the features, fitting Ridge and predicting the last 12 months — for the history features on
sales only and for all eight features on the five sources. Saves ``benchmarks/results/forecast_scale.json``.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd

from salescast import make_predictions
from salescast.forecast.generate import generate_sales_data

RESULTS = Path(__file__).parent / "results" / "forecast_scale.json"
SOURCES = ("sales", "marketing", "price", "stock", "objectives")
HISTORY = ["last_month", "same_month_last_year", "last_year_average", "growth"]
ALL = [*HISTORY, "marketing", "price", "stock", "objectives"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="Profile the all-features run with pyinstrument.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        generate_sales_data(Path(folder), seed=0, items=args.items, months=args.months)
        generation = time.perf_counter() - started
        first = pd.Timestamp("2018-07-01") + pd.DateOffset(months=args.months - 12)
        runs = {}
        for label, sources, features in (("history, sales only", ("sales",), HISTORY), ("all features", SOURCES, ALL)):
            config = {
                "data": {name: f"{name}.csv" for name in sources},
                "start_test": first.strftime("%Y-%m-%d"),
                "model": "Ridge",
                "features": features,
            }
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                predictions = make_predictions(config, base_dir=Path(folder))
                timings.append(time.perf_counter() - started)
            runs[label] = {"best_seconds": round(min(timings), 3), "predictions": len(predictions)}
            print(f"{label:22} {min(timings):6.2f} s (best of 3) for {len(predictions)} predictions")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            with profiler:
                make_predictions(config, base_dir=Path(folder))
            print(profiler.output_text(unicode=True, color=False, show_all=False))
    results = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "items": args.items,
        "months": args.months,
        "sales_rows": args.items * args.months,
        "generation_seconds": round(generation, 2),
        "runs": runs,
        "target_seconds": 10,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
