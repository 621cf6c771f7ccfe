"""The sales process's equations, each written once.

The generator simulates them, the oracle applies them to the generator's recorded truth, and the features
and ``CustomModel`` read the data through the same definitions, so a mistake in a formula shows up as a
disagreement with hand-computed values (tests/unit/forecast/test_generate.py), not as two copies agreeing.

* latent level: v1(M) = a·v1(M−12) + b·mean(v1(M−1…M−12)) + c·v1(M−12)·growth [+ g·v1(M−1) for models],
  growth = Σ v1(M−1…M−3) / Σ v1(M−13…M−15);
* demand multiplier: (1 + d·marketing(M)) × (1 + e·(r(M+1) − r(M))), r(M) = price(M)/price(M−1) − 1;
* June push: in a June where 0 < remaining ≤ PUSH_THRESHOLD × objective (remaining = objective − sales of
  July … May), demand below remaining rises to remaining; July's demand loses the same extra (floored at 0);
* stock: sold = min(demand + last month's unmet demand, available stock).

Arrays are (items × months) or (items,), numpy broadcasting rules.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

PUSH_THRESHOLD = 0.20  # the June push is tried when at most this share of the objective remains
LEVEL_DEPTH = 15  # months of history the latent level equation reads (M−1 … M−15)
LEVEL_TERMS = ("a", "b", "c", "g")  # v1(M−12), mean(v1(M−1…M−12)), v1(M−12)·growth, v1(M−1)


def latent_level(history: np.ndarray, coefficients: Mapping[str, float], empty_growth: float = np.nan) -> np.ndarray:
    """v1(M) from a chronological (items × ≥ 15) window of levels ending at M−1, with the coefficients given.

    Only the terms whose coefficient is in ``coefficients`` (among :data:`LEVEL_TERMS`; other keys such as d
    or e are ignored) are computed, so a NaN in an unused term does not spread. Growth is ``empty_growth``
    where the year-ago quarter (M−13 … M−15) sums to 0 or less (the generator uses 1: no growth seen).
    """
    if history.shape[-1] < LEVEL_DEPTH:
        raise ValueError(f"the latent level needs {LEVEL_DEPTH} months of history, got {history.shape[-1]}")
    if not any(name in coefficients for name in LEVEL_TERMS):
        raise ValueError(f"the latent level needs at least one of the coefficients {list(LEVEL_TERMS)}")
    year_ago = history[:, -12]
    level = np.zeros(len(history))
    if "a" in coefficients:
        level = level + coefficients["a"] * year_ago
    if "b" in coefficients:
        level = level + coefficients["b"] * history[:, -12:].mean(axis=1)
    if "c" in coefficients:
        recent, before = history[:, -3:].sum(axis=1), history[:, -15:-12].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = np.where(before > 0, recent / np.where(before > 0, before, 1.0), empty_growth)
        level = level + coefficients["c"] * year_ago * growth
    if "g" in coefficients:
        level = level + coefficients["g"] * history[:, -1]
    return level


def relative_price_changes(price: np.ndarray) -> np.ndarray:
    """r(M) = price(M) / price(M−1) − 1 for each column; 0 for the first column and where a price is unknown."""
    change = np.zeros(price.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        change[:, 1:] = price[:, 1:] / price[:, :-1] - 1.0
    return np.nan_to_num(change, nan=0.0, posinf=0.0, neginf=0.0)


def price_push(price: np.ndarray) -> np.ndarray:
    """r(M+1) − r(M) for a price matrix with one column past the months (the change announced for next month)."""
    changes = relative_price_changes(price)
    return changes[:, 1:] - changes[:, :-1]


def demand(level, marketing, push, d: float, e: float) -> np.ndarray:
    """level × (1 + d·marketing) × (1 + e·price push): marketing and a price change move demand off the level.

    ``demand(1.0, …)`` is the multiplier alone.
    """
    return level * (1 + d * np.asarray(marketing)) * (1 + e * np.asarray(push))


def push_possible(remaining: np.ndarray, objective: np.ndarray) -> np.ndarray:
    """Whether a June can be pushed: 0 < remaining ≤ PUSH_THRESHOLD × objective (NaN: no)."""
    with np.errstate(invalid="ignore"):
        return (remaining > 0) & (remaining <= PUSH_THRESHOLD * objective)


def june_push(demand: np.ndarray, remaining: np.ndarray, objective: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(June's demand after the push, pushed flag): a possible push lifts demand below remaining to remaining."""
    with np.errstate(invalid="ignore"):
        pushed = push_possible(remaining, objective) & (demand < remaining)
    return np.where(pushed, remaining, demand), pushed


def july_payback(demand: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """July's demand after a push of ``extra`` in June: buyers pulled it forward (floored at 0)."""
    return np.maximum(demand - extra, 0.0)


def sold_from_stock(wanted: np.ndarray, available: np.ndarray) -> np.ndarray:
    """What a month sells: its demand plus last month's unmet demand, up to the stock available."""
    return np.minimum(wanted, available)
