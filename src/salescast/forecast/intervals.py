"""Prediction intervals: conformal, from the model's own rolling-origin errors, or model-native.

**Conformal** (every model; the default). :func:`calibrate` replays the model on the last training months
with :func:`salescast.forecast.validation.rolling_origin_errors` (the same rolling origin ``Auto`` scores
its candidates with) and keeps each error divided by the item's seasonal-naive scale, so a potato's error
and an artichoke's can be pooled. The residuals are split by **horizon step**:

* **step 1** — one-step errors on every month of the validation window, computed the way the model is
  refit in production: ``refit="once"`` fits one copy before the window and applies it to each month's
  history (its parameters grow stale as in the test period); ``refit="monthly"`` refits a copy before each
  of the window's last :data:`MONTHLY_REFITS` months on every month before it;
* **step h ≥ 2** — the errors of the ``h``-th month of multi-step forecasts (``Forecaster.forecast``) from
  origins every :data:`ORIGIN_STEP` months in the window, never the one-step error reused.

The half-width of a level-``p`` interval at step ``h`` for an item is the conformal quantile (the
``⌈(n+1)p⌉``-th smallest of the ``n`` scaled absolute errors of step ``h``) times the item's scale.
Widths never shrink with the step (a later step's width is at least an earlier one's); a step beyond the
calibrated ones grows the last calibrated width by ``√(h / H)``.

**Native** (``method="native"``): the statsforecast families with ``level=`` support (AutoETS, AutoARIMA,
AutoTheta, AutoCES, ARIMA) give their own model-based intervals; every other model is conformal.

Rules shared with the point forecast: bounds are never negative, the stock cap applies to them where it
applies to the prediction, and a **fallback** row (the model could not predict; the prediction is the last
known sales) gets ``prediction ± z·1.25·scale``, a normal error the size of the item's seasonal-naive error
(mean absolute error × 1.25 ≈ its standard deviation); an item without any sales gets ``[0, 0]``.
Without enough history for a validation window every row gets that stated width (``calibrated`` False).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog
from salescast.forecast.validation import item_scales, rolling_origin_errors, scored_errors, validation_window

METHODS = ("conformal", "native")
MONTHLY_REFITS = 12  # refits for the one-step residuals of a monthly-refit model (the last months of the window)
FALLBACK_SPREAD = 1.25  # standard deviation / mean absolute error of a normal error
VALIDATION_MONTHS = 24
HORIZON = 12
ORIGIN_STEP = 3  # months between the origins of the multi-step forecasts (Auto's scoring uses 6): more residuals


class IntervalLevelError(ValueError):
    """Interval levels that are not percentages strictly between 0 and 100; the message says which."""


def parse_levels(value: Any) -> tuple[float, ...]:
    """Levels in percent, sorted and unique, from a list of numbers or a comma-separated string ``"80,95"``.

    ``None``, an empty string or an empty list gives ``()``. Anything that is not a number strictly between
    0 and 100 raises :class:`IntervalLevelError`.
    """
    if value is None:
        return ()
    if isinstance(value, str) and not value.strip():
        return ()
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        if any(part == "" for part in parts):
            raise IntervalLevelError(f"interval levels must be comma-separated percentages like 80,95, got {value!r}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parts = [value]
    elif isinstance(value, Iterable):
        parts = list(value)
    else:
        raise IntervalLevelError(f"interval levels must be a list of percentages like [80, 95], got {value!r}")
    levels = []
    for part in parts:
        if isinstance(part, bool):
            raise IntervalLevelError(f"interval level {part!r} is not a number")
        try:
            level = float(part)
        except (TypeError, ValueError):
            raise IntervalLevelError(f"interval level {part!r} is not a number (give percentages like 80,95)") from None
        if not math.isfinite(level) or not 0 < level < 100:
            raise IntervalLevelError(f"interval level {part!r} must be a percentage strictly between 0 and 100")
        levels.append(level)
    return tuple(sorted(set(levels)))


def level_name(level: float) -> str:
    """``80`` for 80.0, ``97.5`` for 97.5: the suffix of the ``lo_``/``hi_`` columns."""
    return f"{level:g}"


def interval_columns(levels: Sequence[float]) -> list[str]:
    """``["lo_80", "hi_80", "lo_95", "hi_95"]`` for levels 80 and 95, in the output's order."""
    return [f"{side}_{level_name(level)}" for level in levels for side in ("lo", "hi")]


def columns_levels(columns: Iterable[str]) -> list[float]:
    """The levels whose ``lo_``/``hi_`` columns are both among ``columns``."""
    present = set(columns)
    found = {float(match.group(1)) for column in present if (match := re.fullmatch(r"lo_([0-9.]+)", column))}
    return sorted(level for level in found if f"hi_{level_name(level)}" in present)


def conformal_quantile(sorted_errors: np.ndarray, level: float) -> float:
    """The ``⌈(n+1)p⌉``-th smallest of ``n`` sorted absolute errors (the largest when that exceeds ``n``)."""
    n = sorted_errors.size
    if n == 0:
        return float("nan")
    rank = math.ceil((n + 1) * level / 100.0)
    return float(sorted_errors[min(rank, n) - 1])


def fallback_half_width(scale: np.ndarray, level: float) -> np.ndarray:
    """``z·1.25·scale``: the stated half-width of a fallback row (module docstring)."""
    z = NormalDist().inv_cdf(0.5 + level / 200.0)
    return z * FALLBACK_SPREAD * np.asarray(scale, dtype=np.float64)


@dataclass
class Calibration:
    """What a fitted forecaster keeps to draw intervals: residuals per step, item scales, how they were made."""

    method: str  # "conformal" or "native"
    refit: str  # how the residuals were computed: "once" or "monthly"
    residuals: pd.DataFrame  # dates, item_id, step, fit_end, scaled_error
    scales: pd.Series  # item → seasonal-naive scale on the history up to the fit's end
    window: dict[str, Any] = field(default_factory=dict)  # first/last validation month, origins, seconds
    _sorted: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        errors = self.residuals["scaled_error"].astype(np.float64).abs()
        finite = np.isfinite(errors.to_numpy())
        grouped = errors[finite].groupby(self.residuals["step"][finite])
        self._sorted = {int(step): np.sort(values.to_numpy()) for step, values in grouped}

    @property
    def calibrated(self) -> bool:
        """True when residuals exist (conformal widths), or the model's own intervals are used."""
        return self.method == "native" or bool(self._sorted)

    @property
    def steps(self) -> list[int]:
        return sorted(self._sorted)

    def scaled_half_widths(self, steps: np.ndarray, level: float) -> np.ndarray:
        """The scaled half-width per row of ``steps`` (NaN without residuals): monotone in the step."""
        steps = np.asarray(steps, dtype=np.int64)
        if not self._sorted:
            return np.full(steps.shape, np.nan)
        top = max(self._sorted)
        table = np.array(
            [conformal_quantile(self._sorted.get(step, np.array([])), level) for step in range(1, top + 1)]
        )
        table = np.fmax.accumulate(np.where(np.isnan(table), -np.inf, table))  # never narrower than an earlier step
        table[~np.isfinite(table)] = np.nan
        clipped = np.clip(steps, 1, top)
        widths = table[clipped - 1]
        beyond = steps > top
        widths[beyond] = widths[beyond] * np.sqrt(steps[beyond] / top)
        return widths

    def item_scale(self, catalog: Catalog, items: Sequence, months: Sequence[pd.Timestamp]) -> np.ndarray:
        """Each row's item's stored scale; an item first sold after calibration gets its scale on the
        ``catalog`` history before the row's month."""
        scale = self.scales.reindex(pd.Index(items)).to_numpy(dtype=np.float64, copy=True)
        missing = np.isnan(scale)
        if missing.any():
            months = pd.DatetimeIndex(months)
            for month in months[missing].unique():
                rows = missing & (months == month)
                scale[rows] = item_scales(catalog, month).reindex(pd.Index(items)[rows]).fillna(1.0).to_numpy()
        return scale

    def describe(self) -> dict[str, Any]:
        """What model metadata and ``/health`` report: calibrated, method, refit, residuals per step."""
        return {
            "calibrated": self.calibrated,
            "method": self.method,
            "refit": self.refit,
            "residuals": int(sum(values.size for values in self._sorted.values())),
            "steps": len(self._sorted),
            **{key: value for key, value in self.window.items() if key != "seconds"},
        }


def calibration_residuals(
    make_forecaster: Callable[[], Any],
    catalog: Catalog,
    history_months: Sequence[pd.Timestamp],
    refit: str = "once",
    validation_months: int = VALIDATION_MONTHS,
    horizon: int = HORIZON,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The scaled residuals of the split in the module docstring: ``dates, item_id, step, fit_end, scaled_error``.

    Empty (with an empty window description) when the history is too short for a validation window.
    """
    if refit not in ("once", "monthly"):
        raise ValueError(f"refit must be 'once' or 'monthly', got {refit!r}")
    columns = ["dates", "item_id", "step", "fit_end", "scaled_error"]
    window = validation_window(list(history_months), validation_months, horizon, ORIGIN_STEP)
    if window is None:
        return pd.DataFrame(columns=columns), {}
    errors, _ = rolling_origin_errors(make_forecaster, catalog, window)
    fit_end = window.fit_months[-1]
    if refit == "once":
        one_step = errors.one_step.assign(fit_end=fit_end)
    else:
        scale = item_scales(catalog, window.months[0])
        months = sorted(history_months)
        frames = []
        for month in window.months[-MONTHLY_REFITS:]:
            before = [earlier for earlier in months if earlier < month]
            predicted = make_forecaster().fit(catalog, before).predict(catalog, [month])
            frames.append(scored_errors(predicted, catalog, scale).assign(fit_end=before[-1]))
        one_step = pd.concat(frames, ignore_index=True)
    one_step = one_step.assign(step=1)
    later = errors.horizon[errors.horizon["step"] >= 2].assign(fit_end=fit_end)
    residuals = pd.concat([one_step[columns], later[columns]], ignore_index=True)
    residuals["step"] = residuals["step"].astype(np.int64)
    return residuals, describe_window(window)


def describe_window(window) -> dict[str, Any]:
    """What a calibration records of its validation window (first and last month, origins, horizon)."""
    return {
        "first_month": window.months[0].strftime("%Y-%m"),
        "last_month": window.months[-1].strftime("%Y-%m"),
        "origins": len(window.origins),
        "horizon": window.horizon,
    }


def calibrate(
    make_forecaster: Callable[[], Any],
    catalog: Catalog,
    history_months: Sequence[pd.Timestamp],
    refit: str = "once",
    method: str = "conformal",
    validation_months: int = VALIDATION_MONTHS,
    horizon: int = HORIZON,
) -> Calibration:
    """A :class:`Calibration` for forecasts made after ``history_months`` (no residuals for ``native``)."""
    if method not in METHODS:
        raise ValueError(f"interval method must be one of {list(METHODS)}, got {method!r}")
    last = max(pd.Timestamp(month) for month in history_months)
    cutoff = last + pd.DateOffset(months=1)
    sold = catalog.sales.loc[catalog.sales["dates"] < cutoff, "item_id"].unique()
    scales = item_scales(catalog, cutoff).reindex(sold)  # an item not sold yet gets its scale when forecast
    if method == "native":
        empty = pd.DataFrame(columns=["dates", "item_id", "step", "fit_end", "scaled_error"])
        return Calibration("native", refit, empty, scales)
    residuals, window = calibration_residuals(
        make_forecaster, catalog, history_months, refit, validation_months, horizon
    )
    return Calibration("conformal", refit, residuals, scales, window)


def interval_bounds(
    prediction: np.ndarray,
    steps: np.ndarray,
    scale: np.ndarray,
    fallback: np.ndarray,
    no_history: np.ndarray,
    cap: np.ndarray,
    calibration: Calibration,
    levels: Sequence[float],
    native: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """``{"lo_80": …, "hi_80": …}`` around finished predictions (fallback applied, capped, ≥ 0).

    ``native`` holds the model's own ``lo-80``/``hi-80`` arrays (NaN where it has none); rows without them
    use the conformal widths, fallback rows the stated width, rows of items without sales ``[0, 0]``.
    """
    bounds: dict[str, np.ndarray] = {}
    for level in levels:
        half = calibration.scaled_half_widths(steps, level) * scale
        stated = fallback_half_width(scale, level)
        half = np.where(np.isnan(half) | fallback, stated, half)
        lo, hi = prediction - half, prediction + half
        if native is not None:
            name = level_name(level)
            native_lo, native_hi = native.get(f"lo-{name}"), native.get(f"hi-{name}")
            if native_lo is not None and native_hi is not None:
                usable = np.isfinite(native_lo) & np.isfinite(native_hi) & ~fallback
                lo = np.where(usable, np.fmin(native_lo, prediction), lo)
                hi = np.where(usable, np.fmax(native_hi, prediction), hi)
        lo = np.where(no_history, 0.0, lo)
        hi = np.where(no_history, 0.0, hi)
        lo = np.clip(np.fmin(lo, cap), 0.0, None)
        hi = np.clip(np.fmin(hi, cap), 0.0, None)
        bounds[f"lo_{level_name(level)}"] = lo
        bounds[f"hi_{level_name(level)}"] = hi
    return bounds
