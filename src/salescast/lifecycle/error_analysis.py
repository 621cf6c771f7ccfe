"""Where a model's errors are on its test month: per item, per sales-size bucket, worst rows, bias.

The error of a row is ``prediction - actual`` (positive: over-forecast). Buckets are the four
equal-count quartiles of *actual* sales on the test month (ties split by row order; fewer buckets
with fewer than four rows). With a ``mase_scale`` column (each item's seasonal-naive error on the months
before, :func:`salescast.forecast.metrics.seasonal_naive_scale`), each item also gets its ``scale`` and its
``mase`` (MAE ÷ scale; null without a usable scale), and items are listed by MASE, worst first — the
scale-free view, where a small item forecast absurdly stands out. Written as
``error_analysis.json`` and ``error_analysis.png`` (matplotlib, Agg backend: no display needed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

WORST_ROWS = 10
JSON_NAME = "error_analysis.json"
PNG_NAME = "error_analysis.png"


def _summary(errors: pd.Series, actual: pd.Series) -> dict[str, float]:
    """rows, RMSE, MAE, mean signed error and MAPE (%, over nonzero actuals) of one group."""
    nonzero = actual != 0
    mape = float((errors[nonzero].abs() / actual[nonzero]).mean() * 100) if nonzero.any() else math.nan
    return {
        "rows": len(errors),
        "rmse": float(np.sqrt((errors**2).mean())),
        "mae": float(errors.abs().mean()),
        "mean_signed_error": float(errors.mean()),
        "mape": mape,
    }


def analyze_errors(frame: pd.DataFrame, worst: int = WORST_ROWS) -> dict[str, Any]:
    """The analysis of ``frame`` (columns ``dates``, ``item_id``, ``sales``, ``prediction``, features and,
    optionally, ``mase_scale``).

    Returns a JSON-ready dict with keys ``overall``, ``bias``, ``per_item``, ``per_bucket`` and
    ``worst`` (the ``worst`` largest absolute errors with every feature column of their row). ``per_item``
    rows are sorted by MAE, or by MASE when the scale is given (items without a usable scale last).
    """
    if frame.empty:
        raise ValueError("error analysis needs at least one row with an actual and a prediction")
    data = frame.copy()
    data["error"] = data["prediction"] - data["sales"]
    data["abs_error"] = data["error"].abs()
    scaled = "mase_scale" in data.columns
    per_item = []
    for item, group in data.groupby("item_id", sort=True):
        row = {"item_id": _plain(item), **_summary(group["error"], group["sales"])}
        if scaled:
            scale = float(group["mase_scale"].iloc[0])
            usable = math.isfinite(scale) and scale > 0
            row |= {"scale": scale if usable else None, "mase": row["mae"] / scale if usable else None}
        per_item.append(row)
    if scaled:
        per_item.sort(key=lambda row: -math.inf if row["mase"] is None else row["mase"], reverse=True)
    else:
        per_item.sort(key=lambda row: row["mae"], reverse=True)
    buckets = pd.qcut(data["sales"].rank(method="first"), q=min(4, len(data)), labels=False)
    per_bucket = []
    for bucket, group in data.groupby(buckets, sort=True):
        per_bucket.append(
            {
                "bucket": f"Q{int(bucket) + 1}",
                "actual_min": float(group["sales"].min()),
                "actual_max": float(group["sales"].max()),
                **_summary(group["error"], group["sales"]),
            }
        )
    worst_rows = data.nlargest(worst, "abs_error")
    bias = {
        "share_over": float((data["error"] > 0).mean()),
        "share_under": float((data["error"] < 0).mean()),
        "share_exact": float((data["error"] == 0).mean()),
        "mean_signed_error": float(data["error"].mean()),
    }
    return {
        "overall": _summary(data["error"], data["sales"]),
        "bias": bias,
        "per_item": per_item,
        "per_bucket": per_bucket,
        "worst": [{key: _plain(value) for key, value in row.items()} for row in worst_rows.to_dict("records")],
    }


def _plain(value: Any) -> Any:
    """numpy / pandas scalars → JSON-native values (timestamps as ``YYYY-MM-DD``, NaN as None)."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_error_analysis(analysis: dict[str, Any], folder: Path, title: str = "") -> list[Path]:
    """Write the JSON and the PNG chart of ``analysis`` into ``folder``; return both paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / JSON_NAME
    json_path.write_bytes(orjson.dumps(analysis, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    figure, (by_bucket, by_item, signed) = plt.subplots(1, 3, figsize=(15, 4.5))
    buckets = analysis["per_bucket"]
    by_bucket.bar([row["bucket"] for row in buckets], [row["mae"] for row in buckets], color="#4c72b0")
    by_bucket.set_title("MAE by sales quartile (actual)")
    by_bucket.set_ylabel("MAE")
    items = analysis["per_item"][:15]
    metric = "mase" if items and "mase" in items[0] else "mae"
    values = [row[metric] or 0.0 for row in items]
    by_item.barh([str(row["item_id"]) for row in items][::-1], values[::-1], color="#dd8452")
    by_item.set_title(f"{metric.upper()} per item (worst 15)")
    signed_errors = [row["prediction"] - row["sales"] for row in analysis["worst"]]
    bias = analysis["bias"]
    signed.bar(["over", "under"], [bias["share_over"], bias["share_under"]], color=["#c44e52", "#55a868"])
    signed.set_ylim(0, 1)
    signed.set_title(f"bias: mean signed error {bias['mean_signed_error']:.3g}")
    signed.set_ylabel("share of forecasts")
    if signed_errors:
        worst_text = f"worst error {max(signed_errors, key=abs):.3g}"
        signed.text(0.5, 0.92, worst_text, transform=signed.transAxes, ha="center")
    figure.suptitle(title)
    figure.tight_layout()
    png_path = folder / PNG_NAME
    figure.savefig(png_path, dpi=90)
    plt.close(figure)
    return [json_path, png_path]
