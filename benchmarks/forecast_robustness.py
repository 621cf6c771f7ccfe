"""Robustness sweep: the generator with parameters and units drawn at random, CustomModel against the oracle.

Run: ``uv run python benchmarks/forecast_robustness.py [--draws 20] [--seed 0] [--items 50] [--months 72]``.
Prints the per-draw table and the summary, saves ``benchmarks/results/forecast_robustness.json``.

Each draw (fixed seed) picks, over wide ranges: marketing spend scale 0.01…10,000 (log-uniform) with its
lift per unit scaled by 1/scale, prices in any currency (×0.1…1,000), sales and stock units (×0.1…100),
the latent-level coefficients a, b, c (weights of a Dirichlet, summing to 0.95…1.05), the price effect e,
objectives within 0.85…1.25 of the natural fiscal-year total, 0…15 % of months with half-filled refills,
weekly or random refill days, noise σ 0.01…0.1. On each draw (test: the last 12 months) it scores the
oracle and the feature ablation — Ridge without and with the per-item target scaling, LightGBM (item
scaled, its default), CustomModel — on the history features, then + marketing, + price, + stock,
+ objectives.

Targets (issue 12, item 6): CustomModel ≤ 1.15× the oracle's RMSE as the median over draws and ≤ 1.5× on
every draw; a feature matching an effect of the data never makes Ridge or LightGBM worse on average.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
from rich.console import Console
from rich.table import Table

from salescast.forecast.catalog import load_catalog
from salescast.forecast.evaluate import feature_sets
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.metrics import regression_metrics
from salescast.forecast.oracle import oracle_predictions
from salescast.forecast.pipeline import Forecaster, split_months

RESULTS = Path(__file__).parent / "results" / "forecast_robustness.json"
SOURCES = ("sales", "marketing", "price", "stock", "objectives")
# (label, model, target_scaling): the pooled models under both scalings the engine offers today
RUNS = (
    ("Ridge", "Ridge", None),
    ("Ridge item-scaled", "Ridge", "item_level"),
    ("LightGBM", "LightGBM", "auto"),
    ("CustomModel", "CustomModel", "auto"),
)
console = Console()


def draw_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """One draw of generator options over the issue's wide ranges (module docstring)."""
    spend_scale = float(10 ** rng.uniform(-2, 4))
    currency = float(10 ** rng.uniform(-1, 3))
    units = float(10 ** rng.uniform(-1, 2))
    weights = rng.dirichlet([2.0, 2.0, 2.0]) * rng.uniform(0.95, 1.05)
    objective_low = float(rng.uniform(0.85, 1.15))
    return {
        "a": round(float(weights[0]), 4),
        "b": round(float(weights[1]), 4),
        "c": round(float(weights[2]), 4),
        "d": float(rng.uniform(0.05, 0.5)) / spend_scale,  # lift per unit: a typical spend lifts by 6…100 %
        "e": round(float(rng.uniform(0.5, 3.0)), 3),
        "noise": round(float(rng.uniform(0.01, 0.1)), 4),
        "marketing_probability": round(float(rng.uniform(0.05, 0.25)), 3),
        "marketing_low": 0.5 * spend_scale,
        "marketing_high": 2.0 * spend_scale,
        "price_low": 2.0 * currency,
        "price_high": 50.0 * currency,
        "price_change_probability": round(float(rng.uniform(0.03, 0.15)), 3),
        "level_low": 20.0 * units,
        "level_high": 2000.0 * units,
        "objective_low": round(objective_low, 3),
        "objective_high": round(min(objective_low + float(rng.uniform(0.05, 0.2)), 1.25), 3),
        "refill_cover_high": round(float(rng.uniform(1.1, 1.5)), 3),
        "shortage_probability": round(float(rng.uniform(0.0, 0.15)), 4),
        "shortage_cover_low": 0.4,
        "shortage_cover_high": 0.6,
        "refill_days": str(rng.choice(["random", "weekly"])),
    }


def evaluate_draw(folder: Path, start_test: pd.Timestamp) -> list[dict[str, Any]]:
    """Rows {model, features, r2, rmse, mae, mape} for every run and feature set, the oracle last."""
    catalog = load_catalog({name: f"{name}.csv" for name in SOURCES}, base_dir=folder)
    train, test = split_months(catalog, start_test)
    actual = catalog.sales[catalog.sales["dates"] >= start_test][["dates", "item_id", "sales"]]

    def score(label: str, features: str, predictions: pd.DataFrame, seconds: float) -> dict[str, Any]:
        merged = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
        metrics = regression_metrics(merged["sales"], merged["prediction"])
        return {"model": label, "features": features, "seconds": round(seconds, 2)} | metrics

    rows = []
    for label, model, scaling in RUNS:
        for set_label, features in feature_sets(dict.fromkeys(SOURCES)):
            started = time.perf_counter()
            forecaster = Forecaster(model, features, target_scaling=scaling).fit(catalog, train)
            predictions = forecaster.predict(catalog, test)
            rows.append(score(label, set_label, predictions, time.perf_counter() - started))
            if model == "CustomModel" and set_label == "+objectives":
                rows[-1]["params"] = {name: round(value, 6) for name, value in forecaster.model_.params_.items()}
    rows.append(score("Oracle", "true equations", oracle_predictions(folder, test), 0.0))
    return rows


def summarize(draws: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and max CustomModel/oracle ratio, and per model and feature step the mean R², mean RMSE/oracle,
    how many draws the step made worse (higher RMSE than the feature set before it) and the worst change."""
    ratios = [draw["custom_over_oracle"] for draw in draws]
    ablation: dict[str, list[dict[str, Any]]] = {}
    for label, _, _ in RUNS:
        steps = []
        labels = [row["features"] for row in draws[0]["rows"] if row["model"] == label]
        for index, features in enumerate(labels):
            r2, relative, change = [], [], []
            for draw in draws:
                rows = [row for row in draw["rows"] if row["model"] == label]
                oracle = draw["rows"][-1]["rmse"]
                r2.append(rows[index]["r2"])
                relative.append(rows[index]["rmse"] / oracle)
                if index > 0:
                    change.append(rows[index]["rmse"] / rows[index - 1]["rmse"] - 1)
            steps.append(
                {
                    "features": features,
                    "mean_r2": round(statistics.fmean(r2), 4),
                    "mean_rmse_over_oracle": round(statistics.fmean(relative), 3),
                    "draws_worse_than_previous_set": sum(value > 0 for value in change),
                    "worst_rmse_change_pct": round(100 * max(change), 2) if change else None,
                }
            )
        ablation[label] = steps
    return {
        "custom_over_oracle_median": round(statistics.median(ratios), 4),
        "custom_over_oracle_max": round(max(ratios), 4),
        "draws_above_1_5": sum(ratio > 1.5 for ratio in ratios),
        "ablation": ablation,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="seed of the parameter draws (draw i generates seed i)")
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--months", type=int, default=72)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = pd.Timestamp("2018-07-01")
    start_test = start + pd.DateOffset(months=args.months - 12)
    draws = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.draws):
            options = draw_parameters(rng)
            folder = Path(scratch) / str(index)
            summary = generate_sales_data(folder, seed=index, items=args.items, months=args.months, **options)
            rows = evaluate_draw(folder, start_test)
            rmse = {(row["model"], row["features"]): row["rmse"] for row in rows}
            ratio = rmse[("CustomModel", "+objectives")] / rmse[("Oracle", "true equations")]
            draws.append(
                {"draw": index, "parameters": options, "data": summary, "custom_over_oracle": round(ratio, 4)}
                | {"rows": rows}
            )
            console.print(
                f"draw {index:2d}: CustomModel/oracle {ratio:.3f}  (spend ×{options['marketing_high'] / 2:.3g}, "
                f"noise {options['noise']}, objectives {options['objective_low']}–{options['objective_high']}, "
                f"shortages {options['shortage_probability']:.1%}, {options['refill_days']} refills; "
                f"{summary['stockout_months']} stockouts, {summary['objective_pushes']} pushes)"
            )
    seconds = time.perf_counter() - started
    summary = summarize(draws)
    print_summary(draws, summary, seconds)
    results = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "command": "uv run python benchmarks/forecast_robustness.py "
        f"--draws {args.draws} --seed {args.seed} --items {args.items} --months {args.months}",
        "seconds": round(seconds, 1),
        "start_test": str(start_test.date()),
        "summary": summary,
        "draws": draws,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    console.print(f"[green]Saved[/green] {args.out} ({seconds:.0f} s)")


def print_summary(draws: list[dict[str, Any]], summary: dict[str, Any], seconds: float) -> None:
    table = Table(title=f"Feature ablation over {len(draws)} draws ({seconds:.0f} s)")
    for name in ("model", "features", "mean R²", "mean RMSE / oracle", "draws worse than the set before", "worst"):
        table.add_column(name, justify="left" if name in ("model", "features") else "right")
    for label, steps in summary["ablation"].items():
        for step in steps:
            table.add_row(
                label,
                step["features"],
                f"{step['mean_r2']:.4f}",
                f"{step['mean_rmse_over_oracle']:.3f}",
                str(step["draws_worse_than_previous_set"]),
                "" if step["worst_rmse_change_pct"] is None else f"{step['worst_rmse_change_pct']:+.1f} %",
            )
    console.print(table)
    console.print(
        f"CustomModel / oracle RMSE: median {summary['custom_over_oracle_median']:.3f} (target ≤ 1.15), "
        f"max {summary['custom_over_oracle_max']:.3f} (target ≤ 1.5), {summary['draws_above_1_5']} draws above 1.5"
    )


if __name__ == "__main__":
    main()
