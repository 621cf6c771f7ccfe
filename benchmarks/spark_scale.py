"""The Spark engine at scale: generated items × 60 months, end to end, against the pandas engine and statsforecast.

Every run is a fresh process (its peak memory is its own): read the Parquet sales, validate, compute the
features, fit, predict the last ``--test-months`` months, write the predictions as Parquet.

* ``pandas``: ``make_predictions`` on the frame read with ``pandas.read_parquet``;
* ``spark local[N]``: ``engine: spark`` (:func:`salescast.forecast.spark.pipeline.spark_predictions`), the
  session started inside the timed run (its start-up is reported apart too);
* ``statsforecast+fugue``: the peer for per-item AutoETS — ``StatsForecast(...).forecast(df=spark_df, h=1)``
  on the same Spark DataFrame (statsforecast distributes it through Fugue), one fit per item like ours.

Driver memory: the peak RSS of the driver's Python process, the peak RSS of the JVM (which in local mode
also runs the executors), and the peak summed RSS of all its children (the JVM and the Python workers; sampled
every 0.2 s).

A run whose estimated memory (from the per-item costs measured at 100,000 items) does not fit in half the
machine's available memory is not started: it is recorded with ``skipped`` and the reason (the pandas engine
and the driver-fitted Ridge at 1,000,000 items on a 24 GiB machine). Results are merged into the JSON by
(model, items, engine, master, test months): a new run replaces the same case, others are kept.

    nice -n 10 uv run python benchmarks/spark_scale.py                    # the README table
    nice -n 10 uv run python benchmarks/spark_scale.py --items 10000 --ets-items 200   # a quick look
    nice -n 10 uv run python benchmarks/spark_scale.py --items 1000000 --ets-items 0 --masters 'local[2]'
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "spark_scale.json"
MONTHS = 60
FIRST_MONTH = "2019-01-01"


def generate(path: Path, items: int, seed: int = 0, chunk: int = 50_000) -> Path:
    """``items`` seasonal series with a trend, noise and staggered starts, 60 months at most, as one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    months = pd.date_range(FIRST_MONTH, periods=MONTHS, freq="MS")
    writer = None
    for start in range(0, items, chunk):
        ids = np.arange(start, min(start + chunk, items))
        level = rng.lognormal(4.0, 1.2, ids.size)
        phase = rng.uniform(0, 2 * np.pi, ids.size)
        trend = rng.normal(0.0, 0.004, ids.size)
        first = rng.integers(0, 24, ids.size)  # an item starts in one of the first 24 months
        step = np.arange(MONTHS)
        values = (
            level[:, None]
            * (1 + 0.3 * np.sin(2 * np.pi * step[None, :] / 12 + phase[:, None]))
            * np.maximum(1 + trend[:, None] * step[None, :], 0.2)
            * np.exp(rng.normal(0.0, 0.08, (ids.size, MONTHS)))
        )
        keep = step[None, :] >= first[:, None]
        rows, cols = np.nonzero(keep)
        table = pa.table(
            {
                "dates": pa.array(months[cols].to_numpy().astype("datetime64[us]")),
                "item_id": pa.array(ids[rows].astype(np.int64)),
                "sales": pa.array(np.round(values[rows, cols], 2)),
            }
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    return path


class MemorySampler:
    """Peak RSS of this process's children (the JVM and the Python workers it starts), sampled every 0.2 s."""

    def __init__(self) -> None:
        import threading

        self.peak_children = 0
        self.peak_jvm = 0
        self.peak_self = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.2):
            self.peak_self = max(self.peak_self, me.memory_info().rss)
            total = jvm = 0
            for child in me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                    jvm += rss if child.name() == "java" else 0
                except psutil.Error:
                    continue
                total += rss
            self.peak_children = max(self.peak_children, total)
            self.peak_jvm = max(self.peak_jvm, jvm)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {
            # sampled, not getrusage: a child's ru_maxrss starts at its parent's RSS at fork
            "driver_peak_mb": round(self.peak_self / 2**20, 1),
            "jvm_and_workers_peak_mb": round(self.peak_children / 2**20, 1),
            "jvm_peak_mb": round(self.peak_jvm / 2**20, 1),
        }


def _session(master: str):
    from salescast.forecast.spark.session import spark_session

    return spark_session(
        {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.memory": "3g",
            "spark.sql.shuffle.partitions": "8",
        },
        master=master,
    )


def run_one(spec: dict) -> dict:
    """One timed end-to-end run (in this process)."""
    from salescast.forecast.config import parse_config

    data, out = spec["data"], spec["out"]
    start_test = str(pd.Timestamp(FIRST_MONTH) + pd.DateOffset(months=MONTHS - spec["test_months"]))[:10]
    config = {"data": {"sales": data}, "start_test": start_test, "model": spec["model"]}
    sampler = MemorySampler()
    started = time.perf_counter()
    result: dict = {}
    if spec["engine"] == "pandas":
        from salescast import make_predictions

        sales = pd.read_parquet(data)
        predictions = make_predictions({**config, "data": {"sales": sales}})
        predictions.to_parquet(out)
        result["rows"] = len(predictions)
    elif spec["engine"] == "spark":
        from salescast.forecast.spark.pipeline import spark_predictions

        spark = _session(spec["master"])
        result["session_s"] = round(time.perf_counter() - started, 1)
        checked = parse_config({**config, "engine": "spark"})
        predictions, report = spark_predictions(checked, spark=spark)
        predictions.write.mode("overwrite").parquet(out)
        result.update(rows=report["rows"], groups=report["groups"], failed_items=report["failed_items"])
        spark.stop()
    else:  # statsforecast's own AutoETS on the Spark DataFrame, through Fugue
        from pyspark.sql import functions as F
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS

        spark = _session(spec["master"])
        result["session_s"] = round(time.perf_counter() - started, 1)
        frame = spark.read.parquet(data).filter(F.col("dates") < F.lit(start_test).cast("timestamp"))
        frame = frame.select(
            F.col("item_id").cast("string").alias("unique_id"), F.col("dates").alias("ds"), F.col("sales").alias("y")
        )
        forecasts = StatsForecast(models=[AutoETS(season_length=12)], freq="MS").forecast(df=frame, h=1)
        forecasts.write.mode("overwrite").parquet(out)
        result["rows"] = spark.read.parquet(out).count()
        spark.stop()
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["items_per_s"] = round(spec["items"] / result["seconds"], 1)
    return {**spec, **result, **sampler.stop()}


# Memory per run, MB: (fixed, per item), fitted to the 10,000 and 100,000-item runs of results/spark_scale.json
# (Python driver + JVM + workers). Ridge on Spark collects its training rows to the driver (Python and JVM:
# spark.driver.maxResultSize and spark.driver.memory would have to hold them); PrevMonthSale collects nothing,
# so its JVM is bounded by spark.driver.memory (3g) whatever the catalog.
MEMORY_MB = {
    ("Ridge", "pandas"): (185.0, 0.0239),
    ("Ridge", "spark"): (1569.0, 0.0263),
    ("PrevMonthSale", "spark"): (5000.0, 0.0),
}


def skip_reason(model: str, engine: str, items: int) -> str | None:
    """Why a run is not started (its estimated memory exceeds half the machine's available memory), or None."""
    import psutil

    fixed, per_item = MEMORY_MB.get((model, engine), (0.0, 0.0))
    needed = fixed + per_item * items
    budget = psutil.virtual_memory().available / 2**20 / 2
    if needed <= budget:
        return None
    return (
        f"estimated {needed / 1024:.1f} GiB ({per_item * 1024:.0f} MiB per 1,000 items, measured at 10k and 100k) "
        f"> half the available memory ({budget / 1024:.1f} GiB): not started, so as not to exhaust a shared machine"
    )


def run_child(script: str, spec: dict) -> dict:
    """``script --one SPEC`` in a fresh process (its peak memory is its own); the JSON line it prints last."""
    command = [sys.executable, script, "--one", json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"run {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(spec: dict) -> dict:
    result = run_child(__file__, spec)
    print(
        f"{result['model']:>14} {result['items']:>7} items  {result['engine']:>20} {result.get('master') or '':>9}  "
        f"{result['seconds']:>7.1f} s  {result['items_per_s']:>8.1f} items/s  driver {result['driver_peak_mb']:.0f} MB"
        f"  JVM {result['jvm_peak_mb']:.0f} MB  JVM+workers {result['jvm_and_workers_peak_mb']:.0f} MB",
        flush=True,
    )
    return result


def _case(run: dict) -> tuple:
    return run["model"], run["items"], run["engine"], run.get("master"), run["test_months"]


def merge_results(previous: dict, runs: list[dict], command: str) -> dict:
    """The results file with ``runs`` merged in: a run replaces the previous one of its case in place, new cases
    are appended, the others are kept as they were."""
    fresh = {_case(run): {**run, "command": command} for run in runs}
    merged = [fresh.pop(_case(run), run) for run in previous.get("runs", [])]
    merged += list(fresh.values())
    measured = [run for run in merged if "seconds" in run]
    return {
        "command": previous.get("command", command),
        "merged_commands": [*previous.get("merged_commands", []), command] if previous else [],
        "machine": f"{os.cpu_count()} cores shared with other jobs",
        "months": MONTHS,
        "runs": merged,
        "speedup_local1_to_local2": {
            f"{r1['model']} {r1['items']}": round(r1["seconds"] / r2["seconds"], 2)
            for r1 in measured
            for r2 in measured
            if r1["engine"] == r2["engine"] == "spark"
            and r1["model"] == r2["model"]
            and r1["items"] == r2["items"]
            and r1["master"] == "local[1]"
            and r2["master"] == "local[2]"
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, nargs="*", default=[10_000, 100_000], help="catalog sizes (Ridge; none: only AutoETS)"
    )
    parser.add_argument("--ets-items", type=int, default=600, help="items of the AutoETS comparison (0: none)")
    parser.add_argument(
        "--masters", nargs="+", default=["local[1]", "local[2]"], help="Spark masters of the Ridge runs"
    )
    parser.add_argument("--test-months", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return
    runs = []
    with tempfile.TemporaryDirectory(prefix="spark_scale_") as folder:
        folder = Path(folder)

        def run(model: str, items: int, engine: str, master: str | None = None) -> None:
            spec = {"model": model, "items": items, "engine": engine, "master": master, "test_months": args.test_months}
            reason = skip_reason(model, engine, items)
            if reason:
                print(f"{model:>14} {items:>7} items  {engine:>20} {master or '':>9}  skipped: {reason}", flush=True)
                runs.append({**spec, "skipped": reason})
                return
            data = folder / f"sales_{items}.parquet"
            if not data.exists():
                started = time.perf_counter()
                generate(data, items)
                print(f"generated {items} items in {time.perf_counter() - started:.0f} s", flush=True)
            cores = "".join(c for c in master or "" if c.isdigit())  # no brackets: Hadoop reads them as a glob
            out = folder / f"out_{model}_{items}_{engine.replace('+', '_')}_{cores}.parquet"
            result = _child({**spec, "data": str(data), "out": str(out)})
            result.pop("data"), result.pop("out")
            runs.append(result)

        for items in sorted(args.items):
            run("Ridge", items, "pandas")
            for master in args.masters:
                run("Ridge", items, "spark", master)
            run("PrevMonthSale", items, "spark", "local[2]")
        if args.ets_items:
            args.test_months = 1  # the peer forecasts one month after one fit per item: so do we
            run("AutoETS", args.ets_items, "pandas")
            run("AutoETS", args.ets_items, "spark", "local[1]")
            run("AutoETS", args.ets_items, "spark", "local[2]")
            run("AutoETS", args.ets_items, "statsforecast+fugue", "local[2]")
    command = "nice -n 10 uv run python benchmarks/spark_scale.py " + " ".join(sys.argv[1:])
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    summary = merge_results(previous, runs, command)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["speedup_local1_to_local2"]), f"→ {RESULTS}")


if __name__ == "__main__":
    main()
