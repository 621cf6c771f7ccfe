"""Synthetic monthly sales that follow the issue's generative process exactly, with the truth recorded.

For each item, month by month (all items at once; the equations are those of :mod:`forecast.equations`):

1. **Latent level.** The first 15 months: v1 = level × seasonal(month) × (1 + ε). After that
   v1(M) = [a·v1(M−12) + b·mean(v1(M−1…M−12)) + c·v1(M−12)·Σv1(M−1…M−3)/Σv1(M−13…M−15)] × (1 + ε),
   ε ~ N(0, noise) (clipped at −1, so v1 ≥ 0).
2. **Marketing and price.** v2(M) = v1(M)·(1 + d·marketing(M))·(1 + e·(r(M+1) − r(M))) with
   r(M) = price(M)/price(M−1) − 1 (r of the first month is 0; prices go one month past the end so that
   the last month's announced change exists). ``d`` is the lift per unit of spend, in the spend's units.
3. **Objectives.** objective(FY) = Σ v2 over the fiscal year × U(objective_low, objective_high), rounded.
   In June: remaining = objective − recorded sales of July…May. If 0 < remaining ≤ 20 % of the objective
   and v2(June) < remaining, June's demand is `remaining` and July's demand is v2(July) − extra (floored
   at 0), extra = remaining − v2(June). Otherwise demand = v2.
4. **Stock.** Stock starts at 0. Each month a refill brings the stock to cover × (demand + unmet of last
   month), cover ~ U(refill_cover_low, refill_cover_high), or, with probability ``shortage_probability``,
   only U(shortage_cover_low, shortage_cover_high) of it; it arrives in 1–2 deliveries on random days, or
   (``refill_days="weekly"``) in equal deliveries on one weekday of every week. sold(M) = min(demand(M) +
   unmet(M−1), available(M)), available(M) = closing stock(M−1) + refills in M; unmet(M) = demand(M) +
   unmet(M−1) − sold(M), bought the month after.

Recorded sales = sold. :func:`draw_inputs` draws every random input (levels, shocks, spend, prices,
objective factors, refill covers and days), :func:`run_process` applies the steps above to them, and
:func:`generate_sales_data` writes sales.csv, marketing.csv, price.csv, stock.csv, objectives.csv,
truth.csv (the latent series and flags per month) and truth.json (every parameter), deterministically
per seed.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from salescast.forecast.equations import (
    LEVEL_DEPTH,
    PUSH_THRESHOLD,
    demand,
    july_payback,
    june_push,
    latent_level,
    price_push,
    relative_price_changes,
    sold_from_stock,
)
from salescast.forecast.panel import fiscal_year, month_number, month_start

logger = logging.getLogger(__name__)

WARMUP_MONTHS = LEVEL_DEPTH  # months drawn from the item's level and season before the equations take over
REFILL_DAYS = ("random", "weekly")


def significant_decimals(high: float, digits: int) -> int:
    """Decimals that keep ``digits`` significant digits of ``high`` (2 for 50 with 4 digits, −2 for 20,000 with 3)."""
    return digits - 1 - int(np.floor(np.log10(high)))


def _has_type(value: Any, kind: str) -> bool:
    """Whether a parameter value fits its field's annotation (``"int"``, ``"float"`` or ``"str"``)."""
    if kind == "str":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return False
    return kind == "float" or float(value).is_integer()


@dataclass(frozen=True)
class GeneratorParameters:
    """Every knob of the generative process (recorded in truth.json).

    Units are free: marketing spend is drawn in [marketing_low, marketing_high] and ``d`` is the lift per
    unit of spend (spend 1,000…4,000 with d = 5e-5 lifts as 0.5…2 with d = 0.1); prices in
    [price_low, price_high] of any currency; levels (sales and stock units) in [level_low, level_high].
    Amounts are rounded relative to their range, which at the defaults is to the cent: spend to 3
    significant digits of marketing_high, prices to 4 of price_high, refills to 6 of level_high.
    ``refill_days``: ``random`` (1–2 deliveries a month on random days) or ``weekly`` (equal deliveries on
    one weekday per item, every week).
    """

    items: int = 50
    start: str = "2018-07-01"
    months: int = 72
    a: float = 0.3
    b: float = 0.2
    c: float = 0.5
    d: float = 0.2
    e: float = 1.5
    noise: float = 0.05
    level_low: float = 20.0
    level_high: float = 2000.0
    seasonal_amplitude_low: float = 0.1
    seasonal_amplitude_high: float = 0.4
    marketing_probability: float = 0.1
    marketing_low: float = 0.5
    marketing_high: float = 2.0
    price_low: float = 2.0
    price_high: float = 50.0
    price_change_probability: float = 0.08
    price_change_low: float = 0.03
    price_change_high: float = 0.15
    price_rise_share: float = 0.6
    objective_low: float = 0.9
    objective_high: float = 1.05
    refill_cover_low: float = 1.0
    refill_cover_high: float = 1.3
    shortage_probability: float = 0.03
    shortage_cover_low: float = 0.3
    shortage_cover_high: float = 0.9
    refill_days: str = "random"

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if not _has_type(value, spec.type):
                expected = {"float": "a finite number", "int": "an integer", "str": "a string"}[spec.type]
                raise ValueError(f"{spec.name} must be {expected}, got {value!r}")
        if self.items < 1:
            raise ValueError(f"items must be ≥ 1, got {self.items}")
        if self.months < WARMUP_MONTHS + 12:
            raise ValueError(f"months must be ≥ {WARMUP_MONTHS + 12} (15 warm-up months and a year), got {self.months}")
        if self.noise < 0:
            raise ValueError(f"noise must be ≥ 0, got {self.noise}")
        if pd.Timestamp(self.start).day != 1:
            raise ValueError(f"start must be a month start like 2018-07-01, got {self.start}")
        if self.refill_days not in REFILL_DAYS:
            raise ValueError(f"refill_days must be one of {list(REFILL_DAYS)}, got {self.refill_days!r}")
        for name in ("marketing_probability", "price_change_probability", "price_rise_share", "shortage_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability: it must be in [0, 1], got {getattr(self, name)}")
        for name in ("level_low", "price_low", "marketing_high", "refill_cover_low"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("marketing_low", "shortage_cover_low", "price_change_low", "seasonal_amplitude_low"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        for low, high in (
            ("level_low", "level_high"),
            ("objective_low", "objective_high"),
            ("refill_cover_low", "refill_cover_high"),
            ("shortage_cover_low", "shortage_cover_high"),
            ("marketing_low", "marketing_high"),
            ("price_low", "price_high"),
            ("price_change_low", "price_change_high"),
            ("seasonal_amplitude_low", "seasonal_amplitude_high"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} must be ≤ {high}")
        if self.seasonal_amplitude_high >= 1:
            raise ValueError("seasonal_amplitude_high must be < 1 so the seasonal profile stays positive")
        if self.price_change_high * abs(self.e) * 2 >= 1:
            raise ValueError("price_change_high × e × 2 must stay below 1 so demand stays positive")
        if self.d * self.marketing_high <= -1:
            raise ValueError("d × marketing_high must stay above −1 so demand stays positive")

    @property
    def marketing_decimals(self) -> int:
        return significant_decimals(self.marketing_high, 3)

    @property
    def price_decimals(self) -> int:
        return significant_decimals(self.price_high, 4)

    @property
    def refill_decimals(self) -> int:
        return significant_decimals(self.level_high, 6)


@dataclass
class Simulation:
    """All series as (items × months) matrices; ``price`` has one extra month."""

    item_ids: np.ndarray
    month_numbers: np.ndarray
    v1: np.ndarray
    v2: np.ndarray
    demand: np.ndarray
    sold: np.ndarray
    unmet: np.ndarray
    available: np.ndarray
    closing: np.ndarray
    refill: np.ndarray
    marketing: np.ndarray
    price: np.ndarray
    objective_shift: np.ndarray
    objective_push: np.ndarray
    objectives: dict[int, np.ndarray]
    deliveries: pd.DataFrame
    levels: np.ndarray
    amplitudes: np.ndarray
    peaks: np.ndarray


Deliveries = list[tuple[np.ndarray, np.ndarray]]  # (amount, day of the month) per delivery slot, items in rows


def _random_day_deliveries(total: np.ndarray, split: np.ndarray, days: np.ndarray, decimals: int) -> Deliveries:
    """``total`` in one delivery (split 1) or two, on two random days of the month."""
    first_part = np.round(total * split, decimals)
    return [(first_part, days[:, 0]), (np.round(total - first_part, decimals), days[:, 1])]


def _weekly_deliveries(total: np.ndarray, month: int, weekday: np.ndarray, decimals: int) -> Deliveries:
    """``total`` in equal parts on every ``weekday`` (0 = Monday) of the month: 4 or 5 deliveries."""
    first_day = month_start([month])[0]
    first = 1 + (weekday - first_day.weekday()) % 7  # the first such day of the month, 1 … 7
    count = 4 + (first + 28 <= first_day.days_in_month)
    unit = 10.0**-decimals
    share = np.floor(total / count / unit) * unit  # rounded down, so the last delivery's rest is never negative
    rest = np.round(total - share * (count - 1), decimals)
    return [
        (np.where(week < count - 1, share, np.where(week == count - 1, rest, 0.0)), first + 7 * week)
        for week in range(5)
    ]


@dataclass
class ProcessInputs:
    """Everything random the process reads, drawn once by :func:`draw_inputs` (or written by hand in a test).

    Matrices are (items × months); ``price`` has one more month (the change announced for the month after
    the last). ``objective_factor`` maps each complete fiscal year to its items' objective / natural total.
    ``split`` is the first delivery's share of a month's refill (1: one delivery) on ``days[..., 0]``, the
    rest on ``days[..., 1]``; ``weekday`` (0 = Monday), when given, replaces them by weekly deliveries.
    """

    levels: np.ndarray
    amplitudes: np.ndarray
    peaks: np.ndarray
    shocks: np.ndarray
    marketing: np.ndarray
    price: np.ndarray
    objective_factor: dict[int, np.ndarray]
    cover: np.ndarray
    split: np.ndarray
    days: np.ndarray
    weekday: np.ndarray | None = None


def _month_numbers(parameters: GeneratorParameters) -> np.ndarray:
    first = int(month_number([pd.Timestamp(parameters.start)])[0])
    return np.arange(first, first + parameters.months)


def draw_inputs(parameters: GeneratorParameters, seed: int = 0) -> ProcessInputs:
    """Draw every random input of the process; deterministic per seed (the order of the draws is part of it)."""
    p = parameters
    rng = np.random.default_rng(seed)
    n, T = p.items, p.months
    numbers = _month_numbers(p)
    levels = np.exp(rng.uniform(np.log(p.level_low), np.log(p.level_high), n))
    amplitudes = rng.uniform(p.seasonal_amplitude_low, p.seasonal_amplitude_high, n)
    peaks = rng.integers(1, 13, n)
    shocks = np.clip(rng.normal(0.0, p.noise, (n, T)), -1.0, None)
    marketing = np.where(
        rng.random((n, T)) < p.marketing_probability, rng.uniform(p.marketing_low, p.marketing_high, (n, T)), 0.0
    )
    marketing = np.round(marketing, p.marketing_decimals)
    price = np.empty((n, T + 1))
    price[:, 0] = np.round(rng.uniform(p.price_low, p.price_high, n), p.price_decimals)
    changes = rng.random((n, T + 1)) < p.price_change_probability
    sizes = rng.uniform(p.price_change_low, p.price_change_high, (n, T + 1))
    signs = np.where(rng.random((n, T + 1)) < p.price_rise_share, 1.0, -1.0)
    for t in range(1, T + 1):
        changed = np.round(price[:, t - 1] * (1 + signs[:, t] * sizes[:, t]), p.price_decimals)
        price[:, t] = np.where(changes[:, t], changed, price[:, t - 1])
    years, counts = np.unique(fiscal_year(numbers), return_counts=True)
    objective_factor = {int(year): rng.uniform(p.objective_low, p.objective_high, n) for year in years[counts == 12]}
    shortage = rng.random((n, T)) < p.shortage_probability
    cover = np.where(
        shortage,
        rng.uniform(p.shortage_cover_low, p.shortage_cover_high, (n, T)),
        rng.uniform(p.refill_cover_low, p.refill_cover_high, (n, T)),
    )
    two_deliveries = rng.random((n, T)) < 0.5
    split = np.where(two_deliveries, rng.uniform(0.3, 0.7, (n, T)), 1.0)
    days = np.sort(rng.integers(1, 29, (n, T, 2)), axis=2)
    weekday = rng.integers(0, 7, n) if p.refill_days == "weekly" else None  # drawn last: "random" is unchanged
    return ProcessInputs(
        levels, amplitudes, peaks, shocks, marketing, price, objective_factor, cover, split, days, weekday
    )


def run_process(parameters: GeneratorParameters, inputs: ProcessInputs) -> Simulation:
    """The generative process (module docstring) on given inputs, month by month for every item at once."""
    p, x = parameters, inputs
    n, T = x.shocks.shape
    numbers = _month_numbers(p)
    calendar = numbers % 12 + 1
    seasonal = 1 + x.amplitudes[:, None] * np.cos(2 * np.pi * (calendar[None, :] - x.peaks[:, None]) / 12)
    v1 = np.zeros((n, T))
    v1[:, :WARMUP_MONTHS] = x.levels[:, None] * seasonal[:, :WARMUP_MONTHS] * (1 + x.shocks[:, :WARMUP_MONTHS])
    coefficients = {"a": p.a, "b": p.b, "c": p.c}
    for t in range(WARMUP_MONTHS, T):
        v1[:, t] = latent_level(v1[:, t - LEVEL_DEPTH : t], coefficients, empty_growth=1.0) * (1 + x.shocks[:, t])
    v2 = demand(v1, x.marketing, price_push(x.price), p.d, p.e)

    years = fiscal_year(numbers)
    objectives = {
        year: np.round(v2[:, years == year].sum(axis=1) * factor) for year, factor in x.objective_factor.items()
    }
    month_demand = v2.copy()  # demand of each month, after the June push and its July payback
    sold, unmet, available, closing, refill = (np.zeros((n, T)) for _ in range(5))
    shift, push = np.zeros((n, T)), np.zeros((n, T), dtype=bool)
    deliveries = []
    previous_closing, previous_unmet = np.zeros(n), np.zeros(n)
    for t in range(T):
        year = int(years[t])
        if calendar[t] == 6 and year in objectives and t >= 11:
            remaining = objectives[year] - sold[:, t - 11 : t].sum(axis=1)
            month_demand[:, t], pushed = june_push(v2[:, t], remaining, objectives[year])
            extra = np.where(pushed, remaining - v2[:, t], 0.0)
            shift[:, t] = extra
            push[:, t] = pushed
            if t + 1 < T:
                month_demand[:, t + 1] = np.where(pushed, july_payback(v2[:, t + 1], extra), month_demand[:, t + 1])
                shift[:, t + 1] = -np.where(pushed, np.minimum(extra, v2[:, t + 1]), 0.0)
                push[:, t + 1] = pushed
        wanted = month_demand[:, t] + previous_unmet
        total = np.maximum(np.round(x.cover[:, t] * wanted - previous_closing, p.refill_decimals), 0.0)
        if x.weekday is None:
            parts = _random_day_deliveries(total, x.split[:, t], x.days[:, t], p.refill_decimals)
        else:
            parts = _weekly_deliveries(total, int(numbers[t]), x.weekday, p.refill_decimals)
        refill[:, t] = np.sum([part for part, _ in parts], axis=0)
        for part, day in parts:
            given = part > 0
            deliveries.append((np.full(given.sum(), t), np.nonzero(given)[0], day[given], part[given]))
        available[:, t] = previous_closing + refill[:, t]
        sold[:, t] = sold_from_stock(wanted, available[:, t])
        unmet[:, t] = wanted - sold[:, t]
        closing[:, t] = available[:, t] - sold[:, t]
        previous_closing, previous_unmet = closing[:, t], unmet[:, t]

    month_of, item_of, day_of, amount = (np.concatenate(parts) for parts in zip(*deliveries, strict=True))
    item_ids = np.arange(1, n + 1)
    delivery_frame = pd.DataFrame(
        {
            "dates": month_start(numbers[month_of]) + pd.to_timedelta(day_of - 1, unit="D"),
            "item_id": item_ids[item_of],
            "refill": amount,
        }
    )
    delivery_frame = delivery_frame.groupby(["dates", "item_id"], as_index=False)["refill"].sum()
    return Simulation(
        item_ids,
        numbers,
        v1,
        v2,
        month_demand,
        sold,
        unmet,
        available,
        closing,
        refill,
        x.marketing,
        x.price,
        shift,
        push,
        objectives,
        delivery_frame,
        x.levels,
        x.amplitudes,
        x.peaks,
    )


def simulate(parameters: GeneratorParameters, seed: int = 0) -> Simulation:
    """Draw the inputs and run the process; deterministic per seed."""
    return run_process(parameters, draw_inputs(parameters, seed))


def _long(simulation: Simulation, values: dict[str, np.ndarray]) -> pd.DataFrame:
    n, T = simulation.v1.shape
    frame = pd.DataFrame(
        {
            "dates": np.tile(month_start(simulation.month_numbers).strftime("%Y-%m-%d"), n),
            "item_id": np.repeat(simulation.item_ids, T),
        }
    )
    for name, matrix in values.items():
        frame[name] = matrix.reshape(-1)
    return frame


def generate_sales_data(out_dir: Path, seed: int = 0, items: int = 50, **options: Any) -> dict[str, Any]:
    """Write the five source CSVs plus truth.csv and truth.json to ``out_dir``; return a summary.

    ``options`` are :class:`GeneratorParameters` fields (months, start, noise, a … e, probabilities …).
    """
    valid = {field.name for field in dataclasses.fields(GeneratorParameters)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ValueError(f"unknown generator option(s) {unknown}; valid options are {sorted(valid)}")
    parameters = GeneratorParameters(items=items, **options)
    return write_simulation(out_dir, simulate(parameters, seed), parameters, seed)


def write_simulation(
    out_dir: Path, simulation: Simulation, parameters: GeneratorParameters, seed: int | None
) -> dict[str, Any]:
    """Write a simulation's five source CSVs, truth.csv and truth.json to ``out_dir``; return its summary.

    ``seed`` is recorded as given (None for inputs that were not drawn from a seed).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = simulation
    _long(s, {"sales": s.sold}).to_csv(out / "sales.csv", index=False)
    marketing = _long(s, {"marketing": s.marketing})
    marketing[marketing["marketing"] > 0].to_csv(out / "marketing.csv", index=False)
    price_numbers = np.append(s.month_numbers, s.month_numbers[-1] + 1)
    price = pd.DataFrame(
        {
            "dates": np.tile(month_start(price_numbers).strftime("%Y-%m-%d"), len(s.item_ids)),
            "item_id": np.repeat(s.item_ids, len(price_numbers)),
            "price": s.price.reshape(-1),
        }
    )
    price.to_csv(out / "price.csv", index=False)
    stock = s.deliveries.assign(dates=s.deliveries["dates"].dt.strftime("%Y-%m-%d"))
    stock.sort_values(["dates", "item_id"]).to_csv(out / "stock.csv", index=False)
    objectives = pd.DataFrame(
        [
            (year, item, value)
            for year, values in s.objectives.items()
            for item, value in zip(s.item_ids, values, strict=True)
        ],
        columns=["fiscal_year", "item_id", "objective"],
    )
    objectives.to_csv(out / "objectives.csv", index=False)
    r = relative_price_changes(s.price)
    truth = _long(
        s,
        {
            "v1": s.v1,
            "v2": s.v2,
            "demand": s.demand,
            "sales": s.sold,
            "unmet": s.unmet,
            "available": s.available,
            "closing_stock": s.closing,
            "stockout": (s.closing <= 0)
            & (s.demand + np.hstack([np.zeros((len(s.item_ids), 1)), s.unmet[:, :-1]]) > 0),
            "objective_push": s.objective_push,
            "objective_shift": s.objective_shift,
            "marketing": s.marketing,
            "price_change_this": r[:, :-1],
            "price_change_next": r[:, 1:],
        },
    )
    truth.to_csv(out / "truth.csv", index=False)
    summary = {
        "seed": seed,
        "items": parameters.items,
        "first_month": str(month_start(s.month_numbers[:1])[0].date()),
        "last_month": str(month_start(s.month_numbers[-1:])[0].date()),
        "sales_rows": int(s.sold.size),
        "stockout_months": int(truth["stockout"].sum()),
        "objective_pushes": int((s.objective_shift > 0).sum()),
        "marketing_months": int((s.marketing > 0).sum()),
        "price_changes": int((r[:, 1:] != 0).sum()),
    }
    document = {
        "parameters": dataclasses.asdict(parameters),
        "seed": seed,
        "summary": summary,
        "push_threshold": PUSH_THRESHOLD,
        "warmup_months": WARMUP_MONTHS,
        "items": [
            {
                "item_id": int(item),
                "level": float(level),
                "seasonal_amplitude": float(amplitude),
                "seasonal_peak_month": int(peak),
            }
            for item, level, amplitude, peak in zip(s.item_ids, s.levels, s.amplitudes, s.peaks, strict=True)
        ],
        "equations": __doc__,
    }
    (out / "truth.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    logger.info("generated %s into %s", summary, out)
    return summary
