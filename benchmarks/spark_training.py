"""The monthly training job on each engine: ``salescast train`` on generated items × 60 months, end to end.

Each run is a fresh process with its own empty MLflow store: read the CSV, validate, plan, train the
candidate, score it, the three baselines and (none yet) the champion on the test month, log the run and
register the version — :func:`salescast.lifecycle.job.run_training_job` with ``engine="pandas"`` or
``"spark"`` (local master, the session started inside the timed run). Memory as in ``spark_scale.py``: the
driver's peak RSS, and the peak summed RSS of its children (the JVM and its Python workers).

    nice -n 10 uv run python benchmarks/spark_training.py                       # the README table
    nice -n 10 uv run python benchmarks/spark_training.py --items 2000 --ets-items 100   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from spark_scale import FIRST_MONTH, MONTHS, MemorySampler, generate, run_child

RESULTS = Path(__file__).parent / "results" / "spark_training.json"


def run_one(spec: dict) -> dict:
    """One timed training job (in this process)."""
    import yaml

    from salescast.lifecycle.job import run_training_job
    from salescast.lifecycle.sources import load_pipeline_config
    from salescast.settings import Settings

    folder = Path(spec["folder"])
    pipeline = folder / f"pipeline-{spec['model']}.yaml"
    pipeline.write_text(
        yaml.safe_dump({"source": {"kind": "csv", "data": {"sales": spec["data"]}}, "model": spec["model"]})
    )
    store = folder / f"mlflow-{spec['model']}-{spec['engine']}-{spec['items']}-{spec.get('master')}.db"
    settings = Settings(mlflow_tracking_uri=f"sqlite:///{store}", database_url=f"sqlite:///{folder / 'sales.db'}")
    sampler = MemorySampler()
    started = time.perf_counter()
    result: dict = {}
    if spec["engine"] == "spark":
        from spark_scale import _session

        _session(spec["master"])
        result["session_s"] = round(time.perf_counter() - started, 1)
    test_month = pd.Timestamp(FIRST_MONTH) + pd.DateOffset(months=MONTHS - 1)
    job = run_training_job(load_pipeline_config(pipeline), settings, test_month=test_month, engine=spec["engine"])
    result.update(
        seconds=round(time.perf_counter() - started, 1),
        version=job.version,
        decision=job.decision,
        rmse=job.metrics["rmse"],
        mase=job.metrics["mase"],
    )
    result["items_per_s"] = round(spec["items"] / result["seconds"], 1)
    return {**spec, **result, **sampler.stop()}


def _child(spec: dict) -> dict:
    result = run_child(__file__, spec)
    print(
        f"{result['model']:>10} {result['items']:>7} items  {result['engine']:>6} {result.get('master') or '':>9}  "
        f"{result['seconds']:>7.1f} s  {result['items_per_s']:>8.1f} items/s  driver {result['driver_peak_mb']:.0f} MB"
        f"  JVM+workers {result['jvm_and_workers_peak_mb']:.0f} MB"
        f"  RMSE {result['rmse']:.4g}  MASE {result['mase']:.4g}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 100_000], help="catalog sizes (Ridge)")
    parser.add_argument("--ets-items", type=int, default=1000, help="items of the AutoETS job")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return
    runs = []
    with tempfile.TemporaryDirectory(prefix="spark_training_") as folder:
        plan = [("Ridge", items) for items in args.items] + [("AutoETS", args.ets_items)]
        for model, items in plan:
            parquet = generate(Path(folder) / f"sales-{items}.parquet", items)
            csv = Path(folder) / f"sales-{items}.csv"
            frame = pd.read_parquet(parquet)
            frame.assign(dates=frame["dates"].dt.strftime("%Y-%m-%d")).to_csv(csv, index=False)
            for engine in ("pandas", "spark"):
                spec = {"model": model, "items": items, "engine": engine, "data": str(csv), "folder": folder}
                runs.append(_child({**spec, "master": args.master if engine == "spark" else None}))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(runs, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
