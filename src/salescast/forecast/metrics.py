"""Forecast metrics: RMSE, MAE, R² and MAPE pooled over rows, and the scale-free per-item MASE and sMAPE.

Pooled RMSE is dominated by the biggest sellers; MASE (scaled by each item's own seasonal-naive error) and
sMAPE weigh every item the same, so a model absurd on the small items cannot hide behind the big ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """``{"rmse", "mae", "r2", "mape"}``; MAPE is in percent and averages over the nonzero actuals only.

    R² is 1 − SSE / Σ(y − ȳ)² (NaN for a constant target); MAPE is NaN when every actual is 0. Inputs must
    have the same length and no NaN.
    """
    actual = np.asarray(y_true, dtype=np.float64)
    predicted = np.asarray(y_pred, dtype=np.float64)
    if actual.shape != predicted.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {actual.shape} vs {predicted.shape}")
    if actual.size == 0:
        raise ValueError("no values to score")
    if np.isnan(actual).any() or np.isnan(predicted).any():
        raise ValueError("y_true and y_pred must not contain NaN")
    error = predicted - actual
    total = float(np.sum((actual - actual.mean()) ** 2))
    nonzero = actual != 0
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(1.0 - np.sum(error**2) / total) if total > 0 else float("nan"),
        "mape": float(np.mean(np.abs(error[nonzero] / actual[nonzero])) * 100) if nonzero.any() else float("nan"),
    }


SEASON = 12  # months: MASE's scale is the in-sample error of the seasonal naive forecast


def seasonal_naive_scale(history: pd.DataFrame, season: int = SEASON) -> pd.Series:
    """Per item, the mean absolute error of the seasonal naive forecast on ``history`` (MASE's denominator).

    ``history`` has ``dates`` (month starts), ``item_id`` and ``sales``. Only pairs of months ``season`` apart
    that are both present count (a gap never pairs with a neighbour). An item with no such pair, or whose
    seasonal differences are all 0, falls back to the one-month naive error; with neither it is NaN (and
    left out of the mean MASE).
    """
    months = _month_numbers(history["dates"])
    keyed = pd.DataFrame({"item_id": history["item_id"].to_numpy(), "month": months, "sales": history["sales"]})

    def naive_error(lag: int) -> pd.Series:
        earlier = keyed.assign(month=keyed["month"] + lag)
        pairs = keyed.merge(earlier, on=["item_id", "month"], suffixes=("", "_before"))
        return (pairs["sales"] - pairs["sales_before"]).abs().groupby(pairs["item_id"]).mean()

    items = pd.Index(keyed["item_id"].unique())
    seasonal = naive_error(season).reindex(items)
    one_month = naive_error(1).reindex(items)
    scale = seasonal.where(seasonal > 0, one_month)
    return scale.where(scale > 0).rename("scale")


def item_scores(scored: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
    """Per item: ``n``, ``mase`` (mean |error| / the item's scale) and ``smape`` (percent, 0 where both are 0).

    ``scored`` has ``item_id``, ``sales`` (actual) and ``prediction``; ``scale`` comes from
    :func:`seasonal_naive_scale` on the history before the scored months.
    """
    error = (scored["prediction"] - scored["sales"]).abs()
    total = scored["prediction"].abs() + scored["sales"].abs()
    smape = np.where(total > 0, 200.0 * error / np.where(total > 0, total, 1.0), 0.0)
    frame = pd.DataFrame({"item_id": scored["item_id"].to_numpy(), "error": error.to_numpy(), "smape": smape})
    grouped = frame.groupby("item_id", sort=True)
    result = pd.DataFrame({"n": grouped.size(), "mae": grouped["error"].mean(), "smape": grouped["smape"].mean()})
    result["mase"] = result["mae"] / scale.reindex(result.index)
    return result.drop(columns="mae").reset_index()


def scale_free_metrics(scored: pd.DataFrame, scale: pd.Series) -> dict[str, float]:
    """``{"mase", "smape", "mase_items"}``: MASE averaged over items (each item weighs the same, whatever it
    sells), sMAPE averaged over items, and how many items had a usable scale."""
    per_item = item_scores(scored, scale)
    usable = per_item["mase"].notna()
    return {
        "mase": float(per_item.loc[usable, "mase"].mean()) if usable.any() else float("nan"),
        "smape": float(per_item["smape"].mean()),
        "mase_items": int(usable.sum()),
    }


def forecast_metrics(scored: pd.DataFrame, scale: pd.Series) -> dict[str, float]:
    """The pooled :func:`regression_metrics` and the per-item :func:`scale_free_metrics` of ``scored`` in one dict:
    ``rmse``, ``mae``, ``r2``, ``mape``, ``mase``, ``smape``, ``mase_items``.

    ``scored`` has ``item_id``, ``sales`` (actual) and ``prediction``; ``scale`` is
    :func:`seasonal_naive_scale` of the history before the scored months.
    """
    pooled = regression_metrics(scored["sales"].to_numpy(), scored["prediction"].to_numpy())
    return pooled | scale_free_metrics(scored, scale)


def _month_numbers(dates) -> np.ndarray:
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    return index.year.to_numpy().astype(np.int64) * 12 + index.month.to_numpy() - 1


def interval_scores(scored: pd.DataFrame, scale: pd.Series, levels) -> dict[str, float]:
    """Per level: ``coverage_<l>`` (percent of actuals inside ``[lo_<l>, hi_<l>]``, pooled over rows),
    ``msis_<l>`` and ``pinball_<l>``, both averaged over items (each item weighs the same).

    MSIS is the M4 competition's mean scaled interval score: per row ``(hi − lo) + (2/α)(lo − y)·[y < lo] +
    (2/α)(y − hi)·[y > hi]`` with ``α = 1 − l/100``, averaged over the item's rows and divided by its
    seasonal-naive ``scale`` (:func:`seasonal_naive_scale`). Pinball is the quantile loss of ``lo`` (quantile
    ``α/2``) and ``hi`` (``1 − α/2``), averaged, divided by the scale. Items without a usable scale are left out
    of MSIS and pinball. ``scored`` has ``item_id``, ``sales`` and the bound columns.
    """
    from salescast.forecast.intervals import level_name

    actual = scored["sales"].to_numpy(dtype=np.float64)
    item_scale = scale.reindex(scored["item_id"]).to_numpy(dtype=np.float64)
    usable = np.isfinite(item_scale) & (item_scale > 0)
    result: dict[str, float] = {}
    for level in levels:
        name = level_name(float(level))
        lo = scored[f"lo_{name}"].to_numpy(dtype=np.float64)
        hi = scored[f"hi_{name}"].to_numpy(dtype=np.float64)
        alpha = 1.0 - float(level) / 100.0
        below, above = actual < lo, actual > hi
        interval = (hi - lo) + (2 / alpha) * (lo - actual) * below + (2 / alpha) * (actual - hi) * above
        q_lo, q_hi = alpha / 2, 1 - alpha / 2
        pinball = (_quantile_loss(actual, lo, q_lo) + _quantile_loss(actual, hi, q_hi)) / 2
        frame = pd.DataFrame(
            {
                "item_id": scored["item_id"].to_numpy()[usable],
                "msis": interval[usable] / item_scale[usable],
                "pinball": pinball[usable] / item_scale[usable],
            }
        )
        per_item = frame.groupby("item_id").mean()
        result[f"coverage_{name}"] = float(np.mean(~below & ~above) * 100) if actual.size else float("nan")
        result[f"msis_{name}"] = float(per_item["msis"].mean()) if len(per_item) else float("nan")
        result[f"pinball_{name}"] = float(per_item["pinball"].mean()) if len(per_item) else float("nan")
    return result


def _quantile_loss(actual: np.ndarray, quantile: np.ndarray, tau: float) -> np.ndarray:
    difference = actual - quantile
    return np.maximum(tau * difference, (tau - 1) * difference)
