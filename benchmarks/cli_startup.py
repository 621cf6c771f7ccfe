"""How fast the CLI answers: ``salescast --help``, configuration errors and ``history`` (targets 1.5 s / 1.5 s / 3 s).

Run: ``uv run python benchmarks/cli_startup.py [--repeat 5]``. Each case is a fresh ``python -m salescast``
process, as a user runs it, timed wall-clock from start to exit; the median and the worst of ``--repeat``
runs are reported. ``history`` reads a store holding 24 versions of a registered model with the monthly
job's tags and two champion moves by hand (built once, not timed). Saves
``benchmarks/results/cli_startup.json``.

A configuration error naming an unknown model or feature (``model: Prophet``) needs the engine's
registries, which import scikit-learn: it is reported as its own case, outside the 1.5 s target.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

RESULTS = Path(__file__).parent / "results" / "cli_startup.json"
TARGETS = {"help": 1.5, "config error": 1.5, "history": 3.0}
VERSIONS = 24


def build_store(folder: Path) -> str:
    """A SQLite MLflow store with ``VERSIONS`` versions of ``pipeline`` tagged as the monthly job tags them."""
    from mlflow import MlflowClient

    from salescast.lifecycle.promotion import decide_promotion
    from salescast.lifecycle.registry import ModelRegistry, decision_tags

    uri = f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}"
    (folder / "mlruns").mkdir()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    registry = ModelRegistry(client, "pipeline")
    champion = None
    for index in range(VERSIONS):
        month = f"{2022 + index // 12}-{index % 12 + 1:02d}"
        candidate = {"rmse": 100.0 - index, "mae": 50.0 - index, "r2": 0.9 + index / 1000, "mape": 5.0}
        decision = decide_promotion(
            candidate, {"rmse": 120.0}, {"rmse": 101.0 - index, "mae": 49.0, "r2": 0.9} if champion else None
        )
        tags = decision_tags(
            fingerprint=f"{index:064d}",
            test_month=month,
            train_months=month,
            decision=decision,
            candidate=candidate,
            baselines={"SameMonthLastYearSales": {"rmse": 120.0, "mae": 60.0, "r2": 0.8, "mape": 7.0}},
            champion=None,
        )
        registry.register(f"file:///nonexistent/model-{index}", None, tags, promote=decision.promoted)
        champion = champion or decision.promoted
    registry.promote("3", "benchmark: a move by hand", "bench@host")
    registry.rollback("benchmark: and back", "bench@host")
    return uri


FLOOR = "import typer, pydantic_settings, rich.console"  # what any Typer + settings command must load


def time_command(args: list[str], env: dict[str, str], cwd: Path, expect: int) -> float:
    command = [sys.executable, "-c", FLOOR] if args == ["<floor>"] else [sys.executable, "-m", "salescast", *args]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True)
    seconds = time.perf_counter() - started
    if result.returncode != expect:
        raise SystemExit(f"{args}: exit {result.returncode}, expected {expect}:\n{result.stdout}\n{result.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    load = os.getloadavg()  # the machine may be shared: report how busy it was
    with tempfile.TemporaryDirectory(prefix="salescast-cli-") as tmp:
        folder = Path(tmp)
        uri = build_store(folder)
        (folder / "bad-key.yaml").write_text("data: {sales: sales.csv}\nmodle: Ridge\n")
        (folder / "bad-model.yaml").write_text("data: {sales: sales.csv}\nmodel: Prophet\n")
        (folder / "pipeline.yaml").write_text("data: {sales: sales.csv}\n")
        base = {**os.environ, "SALESCAST_MLFLOW_TRACKING_URI": uri}
        cases = [
            ("floor", "python + typer + pydantic-settings + rich", ["<floor>"], base, 0),
            ("help", "--help", ["--help"], base, 0),
            ("config error", "missing pipeline.yaml", ["train", "--config", "missing.yaml"], base, 1),
            ("config error", "unknown key in pipeline.yaml", ["train", "--config", "bad-key.yaml"], base, 1),
            ("config error", "malformed --test-month", ["train", "--test-month", "2023-13"], base, 1),
            ("config error", "invalid SALESCAST_LOG_LEVEL", ["history"], base | {"SALESCAST_LOG_LEVEL": "LOUD"}, 1),
            ("history", f"history, {VERSIONS} versions", ["history"], base, 0),
            ("engine names", "unknown model (imports scikit-learn)", ["train", "--config", "bad-model.yaml"], base, 1),
        ]
        rows = []
        for group, name, args, env, expect in cases:
            samples = [time_command(args, env, folder, expect) for _ in range(options.repeat)]
            target = TARGETS.get(group)
            row = {
                "case": name,
                "group": group,
                "median_s": round(statistics.median(samples), 3),
                "max_s": round(max(samples), 3),
                "target_s": target,
                "met": None if target is None else statistics.median(samples) < target,
            }
            rows.append(row)
            print(f"{name:45s} median {row['median_s']:.2f} s  max {row['max_s']:.2f} s  target {target or '–'}")
    report = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": load},
        "repeat": options.repeat,
        "cases": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"Saved {RESULTS}")


if __name__ == "__main__":
    main()
