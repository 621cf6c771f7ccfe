"""Regression metrics for forecasts: RMSE, MAE, R² and MAPE."""

from __future__ import annotations

import numpy as np


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
