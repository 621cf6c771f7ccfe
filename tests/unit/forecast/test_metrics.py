"""Metrics on hand-computed values."""

from __future__ import annotations

import math

import pytest

from salescast.forecast.metrics import regression_metrics


def test_metrics_by_hand():
    metrics = regression_metrics([0.0, 2.0, 4.0], [1.0, 2.0, 2.0])
    assert metrics["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert metrics["mae"] == pytest.approx(1.0)
    assert metrics["r2"] == pytest.approx(1 - 5 / 8)
    assert metrics["mape"] == pytest.approx(25.0)  # the zero actual is left out: (0 + 50) / 2


def test_mismatched_or_missing_values_are_rejected():
    with pytest.raises(ValueError, match="shape"):
        regression_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        regression_metrics([1.0, float("nan")], [1.0, 2.0])
