"""The oracle: the generator's true equations and parameters applied to its recorded latent history.

For month M it knows what no model can — v1 up to M−1, June's realized push, the unmet demand of M−1 —
and only lacks M's own noise, so its error is the noise floor: with zero noise it reproduces the
recorded sales up to float error. Expected values stand in for the noise (E[1 + ε] = 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from salescast.forecast.equations import LEVEL_DEPTH, demand, july_payback, june_push, latent_level, sold_from_stock
from salescast.forecast.generate import WARMUP_MONTHS
from salescast.forecast.panel import fiscal_year, month_number, month_start


class TruthNotFoundError(FileNotFoundError):
    """The folder has no truth.json / truth.csv: it was not written by the generator."""


def has_truth(folder: Path) -> bool:
    """Whether ``folder`` holds the generator's truth files."""
    return (Path(folder) / "truth.json").exists() and (Path(folder) / "truth.csv").exists()


def _matrix(truth: pd.DataFrame, column: str) -> np.ndarray:
    return truth.pivot(index="item_id", columns="month", values=column).to_numpy(dtype=np.float64)


def oracle_predictions(folder: Path, months: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
    """Oracle predictions (dates as Timestamps, item_id, prediction) for ``months`` (default: all after warm-up)."""
    folder = Path(folder)
    if not has_truth(folder):
        raise TruthNotFoundError(f"{folder} has no truth.json and truth.csv; run `salescast generate sales --out DIR`")
    parameters = orjson.loads((folder / "truth.json").read_bytes())["parameters"]
    coefficients = {name: parameters[name] for name in "abc"}
    truth = pd.read_csv(folder / "truth.csv")
    truth["month"] = month_number(pd.to_datetime(truth["dates"]))
    items = np.sort(truth["item_id"].unique())
    numbers = np.sort(truth["month"].unique())
    v1, sales, unmet, available, shift = (
        _matrix(truth, column) for column in ("v1", "sales", "unmet", "available", "objective_shift")
    )
    marketing, r_this, r_next = (
        _matrix(truth, column) for column in ("marketing", "price_change_this", "price_change_next")
    )
    objective = np.full(v1.shape, np.nan)
    objectives_file = folder / "objectives.csv"
    calendar = numbers % 12 + 1
    years = fiscal_year(numbers)
    if objectives_file.exists():
        table = pd.read_csv(objectives_file).pivot(index="item_id", columns="fiscal_year", values="objective")
        table = table.reindex(index=items, columns=np.unique(years))
        objective = table.to_numpy(dtype=np.float64)[:, np.searchsorted(np.unique(years), years)]

    wanted = np.arange(WARMUP_MONTHS, len(numbers))
    if months is not None:
        wanted = np.searchsorted(numbers, month_number(pd.DatetimeIndex(months)))
        if (wanted < WARMUP_MONTHS).any() or (wanted >= len(numbers)).any():
            raise ValueError(f"the oracle covers months {WARMUP_MONTHS + 1}… of the generated range only")
    predictions = np.empty((len(items), len(wanted)))
    for column, t in enumerate(wanted):
        level = latent_level(v1[:, t - LEVEL_DEPTH : t], coefficients, empty_growth=1.0)  # as generated
        expected = demand(level, marketing[:, t], r_next[:, t] - r_this[:, t], parameters["d"], parameters["e"])
        if calendar[t] == 6 and t >= 11:
            remaining = objective[:, t] - sales[:, t - 11 : t].sum(axis=1)
            expected = june_push(expected, remaining, objective[:, t])[0]
        if calendar[t] == 7 and t >= 1:
            expected = july_payback(expected, np.clip(shift[:, t - 1], 0.0, None))
        previous_unmet = unmet[:, t - 1] if t > 0 else 0.0
        predictions[:, column] = sold_from_stock(expected + previous_unmet, available[:, t])
    return pd.DataFrame(
        {
            "dates": np.repeat(month_start(numbers[wanted]), len(items)),
            "item_id": np.tile(items, len(wanted)),
            "prediction": predictions.T.reshape(-1),
        }
    )
