"""``salescast monitor`` on pandas and on Spark, on the same generated CSV and the same champion.

Generates ``--items`` seasonal monthly series (2019-01 … 2022-12, levels from ~10 to ~3,000), trains the champion
once with the pandas ``salescast train`` (test month 2022-09, 12-month window, in a temporary MLflow store) on the
first ``--train-items`` of them (training is not what is measured, and a pooled Ridge forecasts any item), then
puts the whole file in place and runs ``salescast monitor`` once per engine, each in a fresh process (the Spark
run starts its session inside the timed run), and compares the two reports: drift flags, PSI, KS statistics and
p-values, performance rows.

    nice -n 10 uv run python benchmarks/monitor_spark.py --items 20000
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
import yaml

RESULTS = Path(__file__).parent / "results" / "monitor_spark.json"


def generate(path: Path, items: int, seed: int = 0, keep: int | None = None) -> int:
    """The monitoring tests' series (level × season × AR(1) deviation), vectorised over items; returns rows.
    ``keep``: write only the first ``keep`` items (the same series)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", "2022-12-01", freq="MS")
    level = rng.lognormal(5, 1.2, items)
    phase = rng.uniform(0, 2 * np.pi, items)
    deviation = rng.normal(0, 0.11, items)
    columns = []
    for month in months:
        deviation = 0.9 * deviation + rng.normal(0, 0.05, items)
        columns.append(level * (1 + 0.1 * np.sin(2 * np.pi * month.month / 12 + phase)) * np.exp(deviation))
    sales = np.maximum(np.stack(columns, axis=1), 0.0)
    frame = pd.DataFrame(
        {
            "dates": np.repeat(months.strftime("%Y-%m-%d").to_numpy(), items),
            "item_id": np.tile(np.arange(items), len(months)),
            "sales": np.round(sales.T.ravel(), 3),
        }
    )
    if keep is not None:
        frame = frame[frame["item_id"] < keep]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return len(frame)


def write_pipeline(folder: Path, engine: str, spark_conf: dict) -> Path:
    config = {"source": {"kind": "csv", "data": {"sales": "data/sales.csv"}}, "lifecycle": {"window": 12}}
    if engine == "spark":
        config["engine"] = "spark"
        if spark_conf:
            config["spark"] = spark_conf
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(args: list[str], env: dict) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "salescast", *args], env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def compare(pandas_report: dict, spark_report: dict) -> dict:
    """The largest differences between the two reports' numbers."""

    def gap(ours, theirs):
        if ours is None or theirs is None:
            return 0.0 if ours is theirs else float("inf")
        return abs(ours - theirs)

    drift = list(zip(spark_report["data_drift"], pandas_report["data_drift"], strict=True))
    performance = list(zip(spark_report["performance"], pandas_report["performance"], strict=True))
    relative = [
        abs(ours[key] - theirs[key]) / abs(theirs[key])
        for ours, theirs in performance
        for key in ("champion_rmse", "baseline_rmse", "champion_mae", "baseline_mae", "champion_mase", "baseline_mase")
        if theirs[key]
    ]
    return {
        "same_flags": all(ours["drifted"] == theirs["drifted"] for ours, theirs in drift)
        and spark_report["drifted"] == pandas_report["drifted"],
        "columns": len(drift),
        "max_psi_difference": max(gap(ours["psi"], theirs["psi"]) for ours, theirs in drift),
        "max_ks_statistic_difference": max(gap(ours["ks_statistic"], theirs["ks_statistic"]) for ours, theirs in drift),
        "max_ks_pvalue_difference": max(gap(ours["ks_pvalue"], theirs["ks_pvalue"]) for ours, theirs in drift),
        "max_performance_relative_difference": max(relative) if relative else 0.0,
        "same_coverage": spark_report["interval_coverage"] == pandas_report["interval_coverage"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--train-items", type=int, default=2000, help="items the champion is trained on")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="spark.sql.shuffle.partitions")
    options = parser.parse_args()
    spark_conf = {}
    if options.shuffle_partitions:
        spark_conf["spark.sql.shuffle.partitions"] = options.shuffle_partitions
    with tempfile.TemporaryDirectory(prefix="monitor-spark-") as tmp:
        folder = Path(tmp)
        trained_items = min(options.train_items, options.items)
        generate(folder / "data" / "sales.csv", options.items, keep=trained_items)
        env = {
            **os.environ,
            "SALESCAST_MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
            "SALESCAST_SPARK_MASTER": options.master,
        }
        config = write_pipeline(folder, "pandas", spark_conf)
        seconds, code, output = run(["train", "--config", str(config), "--test-month", "2022-09"], env)
        if code != 0:
            raise SystemExit(f"train failed:\n{output}")
        print(f"trained the champion on {trained_items} items in {seconds:.1f} s", flush=True)
        rows = generate(folder / "data" / "sales.csv", options.items)
        result = {
            "items": options.items,
            "rows": rows,
            "trained_items": trained_items,
            "master": options.master,
            "spark_conf": spark_conf,
            "train_seconds": round(seconds, 1),
            "monitor_seconds": {},
        }
        reports = {}
        for engine in ("pandas", "spark"):
            config = write_pipeline(folder, engine, spark_conf)
            reports_dir = folder / f"reports-{engine}"
            seconds, code, output = run(
                ["--verbose", "monitor", "--config", str(config)], {**env, "SALESCAST_REPORTS_DIR": str(reports_dir)}
            )
            stages = [line for line in output.splitlines() if "salescast." in line and " | INFO | " in line]
            print("\n".join(f"  {line}" for line in stages), flush=True)
            if code not in (0, 1):
                raise SystemExit(f"monitor ({engine}) failed:\n{output}")
            reports[engine] = json.loads((reports_dir / "monitoring" / "latest.json").read_text())
            result["monitor_seconds"][engine] = round(seconds, 1)
            print(f"monitor, engine {engine}: {seconds:.1f} s (exit {code})", flush=True)
        result["comparison"] = compare(reports["pandas"], reports["spark"])
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
    key = ("items", "master", "spark_conf")
    runs = [run for run in runs if any(run.get(name) != result[name] for name in key)] + [result]
    RESULTS.write_text(json.dumps({"runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
