"""What prediction intervals add to a model's fit time: ``fit`` alone against ``fit`` + ``calibrate``.

Run: ``uv run python benchmarks/interval_cost.py [--sets departures fpp_monthly] [--models Auto Ridge]``.
On each real set (``benchmarks/real_sets.py``), the model is fitted on every month before the last 12, then
calibrated (conformal, ``refit="once"``: one more fit on the months before the 24-month validation window
and its forecasts over it). Prints the seconds and the ratio; saves ``benchmarks/results/interval_cost.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
import real_sets
from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.pipeline import Forecaster

RESULTS = Path(__file__).parent / "results" / "interval_cost.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=["departures", "fpp_monthly"], choices=real_sets.SETS)
    parser.add_argument("--models", nargs="*", default=["Auto", "Ridge"])
    args = parser.parse_args()
    rows = []
    for name in args.sets:
        catalog = catalog_from_frames(real_sets.load(name))
        train = catalog.months()[:-12]
        for model in args.models:
            began = time.perf_counter()
            forecaster = Forecaster(model).fit(catalog, train)
            fit = time.perf_counter() - began
            began = time.perf_counter()
            forecaster.calibrate(catalog, train)
            calibrate = time.perf_counter() - began
            row = {"set": name, "model": model, "fit_seconds": fit, "calibrate_seconds": calibrate,
                   "ratio": (fit + calibrate) / fit}  # fmt: skip
            rows.append(row)
            print(
                f"{name:12} {model:8} fit {fit:7.1f} s  + calibrate {calibrate:7.1f} s  = {row['ratio']:.2f}× the fit"
            )
    meta = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.platform(),
            "cpus": os.cpu_count()}  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps({"meta": meta, "rows": rows}, option=orjson.OPT_INDENT_2))
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
