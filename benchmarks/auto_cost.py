"""What ``Auto`` costs: fit + predict time for 1,000 items × 120 months, next to AutoETS alone.

Run: ``uv run python benchmarks/auto_cost.py [--items 1000] [--months 120]``. Generates the sales once (not
timed; the generator's defaults, sales only), then times, on the same data, ``make_predictions`` fitted on
every month but the last 12 and predicting those 12 one month ahead (``refit: once``) for ``Auto`` with its
default candidates, salescast's ``AutoETS`` and statsforecast's ``AutoETS`` alone (the peer's fit and its
forecasts of the same months with the fitted parameters). Each run is timed once, after a warm-up on a
few items that compiles statsforecast's numba code, so no run pays the compilation. Prints the table and
Auto's own record (validation MASE, seconds and items per candidate); saves
``benchmarks/results/auto_cost.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd

from salescast import make_predictions
from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.pipeline import Forecaster

RESULTS = Path(__file__).parent / "results" / "auto_cost.json"
TEST_MONTHS = 12


def statsforecast_autoets(sales: pd.DataFrame, start_test: pd.Timestamp) -> pd.DataFrame:
    """The peer: AutoETS fitted per series on the training months, forecasting each test month from its history."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    frame = sales.rename(columns={"item_id": "unique_id", "dates": "ds", "sales": "y"})
    engine = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=1)
    months = sorted(frame["ds"].unique())
    windows = sum(month >= start_test for month in months)
    return engine.cross_validation(df=frame, h=1, n_windows=windows, step_size=1, refit=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        generate_sales_data(Path(folder), seed=0, items=args.items, months=args.months)
        sales = pd.read_csv(Path(folder) / "sales.csv", parse_dates=["dates"])
    months = sorted(sales["dates"].unique())
    start_test = pd.Timestamp(months[-TEST_MONTHS])
    config = {"data": {"sales": sales}, "start_test": start_test.strftime("%Y-%m-%d")}

    few = sales[sales["item_id"].isin(sales["item_id"].unique()[:3])]
    make_predictions({**config, "data": {"sales": few}, "model": "AutoETS"})  # compile numba once
    statsforecast_autoets(few, start_test)

    runs = {}
    for label, run in (
        ("Auto", lambda: make_predictions({**config, "model": "Auto"})),
        ("AutoETS (salescast)", lambda: make_predictions({**config, "model": "AutoETS"})),
        ("AutoETS (statsforecast)", lambda: statsforecast_autoets(sales, start_test)),
    ):
        began = time.perf_counter()
        predictions = run()
        runs[label] = {"seconds": round(time.perf_counter() - began, 1), "predictions": len(predictions)}
        print(f"{label:26} {runs[label]['seconds']:8.1f} s  {len(predictions)} predictions", flush=True)
    ratio = runs["Auto"]["seconds"] / runs["AutoETS (statsforecast)"]["seconds"]
    print(f"Auto / statsforecast AutoETS: {ratio:.2f}×")

    catalog = catalog_from_frames(sales)
    auto = Forecaster("Auto").fit(catalog, [month for month in months if month < start_test]).model_
    usage = auto.candidate_usage()
    print(usage.round(3).to_string(index=False))
    results = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "items": args.items,
        "months": args.months,
        "runs": runs,
        "auto_over_statsforecast_autoets": round(ratio, 2),
        "auto_candidates": orjson.loads(usage.to_json(orient="records")),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
