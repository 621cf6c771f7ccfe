"""Target transforms of the pooled models: applied to every item's sales before the history features are
computed, and inverted on predictions (as mlforecast's ``target_transforms``).

One global model across items whose sales differ by orders of magnitude learns nothing shared unless each
row is expressed relative to its own item, and a trending or seasonal series is easier to learn as changes.
A config lists them in order, e.g. ``["seasonal_difference", "item_level"]``:

* ``log1p`` — log(1 + sales); inverted by expm1 (sales are ≥ 0);
* ``difference`` / ``seasonal_difference`` / ``{"difference": k}`` — sales(M) − sales(M−k) with k = 1, 12 or
  any 1…36; inverted by adding the actual value k months before (known when forecasting M, or the step's
  own prediction in a recursive horizon);
* ``item_level`` — divides the target and every sales-unit feature of a row by the item's recent scale: the
  mean absolute value of the (transformed) series over M−1…M−12 (1 where it is 0); inverted by multiplying
  back. It is a per-row scale, not a matrix transform, so it always comes last.

The pooled models' default is ``["item_level"]``: no default can be fooled by items selling at different
scales.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from salescast.forecast.features.base import lag

ITEM_LEVEL = "item_level"
MAX_DIFFERENCE = 36
NAMED_DIFFERENCES = {"difference": 1, "seasonal_difference": 12}
VALID = "'log1p', 'difference', 'seasonal_difference', {'difference': k} (1 ≤ k ≤ 36) and 'item_level' (last)"


class TargetTransformError(ValueError):
    """A ``target_transforms`` entry is not one of the valid ones."""


@dataclass(frozen=True)
class Difference:
    """sales(M) − sales(M−k)."""

    k: int

    @property
    def name(self) -> str:
        return {1: "difference", 12: "seasonal_difference"}.get(self.k, f"difference_{self.k}")

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        return matrix - lag(matrix, self.k)

    def invert(self, predicted: np.ndarray, before: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        previous = np.full(len(rows), np.nan)
        known = cols - self.k >= 0
        previous[known] = before[rows[known], cols[known] - self.k]
        return predicted + previous


@dataclass(frozen=True)
class Log1p:
    """log(1 + sales)."""

    name: str = "log1p"

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        return np.log1p(matrix)

    def invert(self, predicted: np.ndarray, before: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.expm1(predicted)


MatrixTransform = Difference | Log1p


@dataclass(frozen=True)
class TargetTransforms:
    """The parsed list: matrix transforms in order, and whether rows are scaled by the item's level."""

    matrix: tuple[MatrixTransform, ...] = ()
    item_level: bool = True

    @property
    def names(self) -> list[str]:
        return [transform.name for transform in self.matrix] + ([ITEM_LEVEL] if self.item_level else [])

    def apply(self, sales: np.ndarray) -> list[np.ndarray]:
        """[sales, after the 1st transform, …]: each transform's input is kept for its inversion."""
        stages = [sales]
        for transform in self.matrix:
            stages.append(transform.apply(stages[-1]))
        return stages

    def invert(self, predicted: np.ndarray, stages: list[np.ndarray], rows: np.ndarray, cols: np.ndarray):
        """Predictions on the last stage's scale (already multiplied back by the level) in sales units."""
        for transform, before in zip(reversed(self.matrix), reversed(stages[:-1]), strict=True):
            predicted = transform.invert(predicted, before, rows, cols)
        return predicted


def recent_scale(matrix: np.ndarray) -> np.ndarray:
    """Mean |value| of M−1 … M−12 that are present (NaN if none; 1 where it is 0: no scale to divide by)."""
    stacked = np.abs(np.stack([lag(matrix, k) for k in range(1, 13)]))
    counts = np.sum(~np.isnan(stacked), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan)
    return np.where(scale == 0, 1.0, scale)


def _one(entry: Any) -> MatrixTransform | str:
    if isinstance(entry, str):
        if entry == ITEM_LEVEL:
            return ITEM_LEVEL
        if entry == "log1p":
            return Log1p()
        if entry in NAMED_DIFFERENCES:
            return Difference(NAMED_DIFFERENCES[entry])
    if isinstance(entry, dict) and list(entry) == ["difference"]:
        k = entry["difference"]
        if isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= MAX_DIFFERENCE:
            return Difference(k)
        raise TargetTransformError(f"target_transforms: difference must be an integer 1…{MAX_DIFFERENCE}, got {k!r}")
    raise TargetTransformError(f"target_transforms: unknown entry {entry!r}; valid entries are {VALID}")


def parse_target_transforms(value: Sequence[Any] | None) -> TargetTransforms:
    """The config list as :class:`TargetTransforms`; ``None`` is the default (item-level scaling only)."""
    if value is None:
        return TargetTransforms()
    if isinstance(value, str | dict) or not isinstance(value, Sequence):
        raise TargetTransformError(
            f"target_transforms must be a list such as ['seasonal_difference', 'item_level']; got {value!r}"
        )
    parsed = [_one(entry) for entry in value]
    if ITEM_LEVEL in parsed[:-1]:
        raise TargetTransformError(
            "target_transforms: 'item_level' scales each row by the item's recent level, so it must be the last entry"
        )
    if parsed.count(ITEM_LEVEL) > 1 or len({str(entry) for entry in parsed}) < len(parsed):
        raise TargetTransformError(f"target_transforms: an entry is repeated in {list(value)}")
    return TargetTransforms(tuple(entry for entry in parsed if entry != ITEM_LEVEL), ITEM_LEVEL in parsed)
