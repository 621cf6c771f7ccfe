"""Metrics on hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from salescast.forecast.metrics import item_scores, regression_metrics, scale_free_metrics, seasonal_naive_scale


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


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def test_seasonal_naive_scale_pairs_only_months_a_season_apart():
    # item 1: 13 months 0, 1, …, 12 → one seasonal pair (12 − 0) → scale 12
    # item 2: constant 5 over 14 months → seasonal differences all 0 → the one-month naive error, also 0 → NaN
    # item 3: months 2020-01 and 2021-02 only (no pair 12 apart, no consecutive pair) → NaN
    import pandas as pd

    dates = pd.date_range("2020-01-01", periods=14, freq="MS")
    rows = [(d, 1, float(i)) for i, d in enumerate(dates[:13])]
    rows += [(d, 2, 5.0) for d in dates]
    rows += [(dates[0], 3, 1.0), (dates[13], 3, 9.0)]
    scale = seasonal_naive_scale(_frame(rows))
    assert scale[1] == pytest.approx(12.0)
    assert math.isnan(scale[2]) and math.isnan(scale[3])


def test_seasonal_naive_scale_falls_back_to_one_month_differences():
    import pandas as pd

    dates = pd.date_range("2020-01-01", periods=3, freq="MS")
    scale = seasonal_naive_scale(_frame([(dates[0], "a", 1.0), (dates[1], "a", 4.0), (dates[2], "a", 2.0)]))
    assert scale["a"] == pytest.approx((3 + 2) / 2)


def test_item_scores_and_the_mean_over_items_weigh_each_item_the_same():
    import pandas as pd

    scored = pd.DataFrame(
        {"item_id": ["big", "big", "small"], "sales": [1000.0, 1000.0, 0.0], "prediction": [1100.0, 900.0, 0.0]}
    )
    scale = pd.Series({"big": 50.0, "small": 2.0})
    per_item = item_scores(scored, scale).set_index("item_id")
    assert per_item.loc["big", "mase"] == pytest.approx(2.0)
    assert per_item.loc["big", "smape"] == pytest.approx((200 * 100 / 2100 + 200 * 100 / 1900) / 2)
    assert per_item.loc["small", "mase"] == 0.0 and per_item.loc["small", "smape"] == 0.0  # 0/0 is a hit
    summary = scale_free_metrics(scored, scale)
    assert summary["mase"] == pytest.approx(1.0) and summary["mase_items"] == 2


def test_interval_scores_follow_the_m4_msis_and_the_pinball_loss():
    from salescast.forecast.metrics import interval_scores

    scored = pd.DataFrame(
        {
            "item_id": ["a", "a", "b", "b"],
            "sales": [10.0, 20.0, 5.0, 1.0],
            "lo_80": [8.0, 8.0, 2.0, 2.0],
            "hi_80": [12.0, 12.0, 6.0, 6.0],
        }
    )
    scale = pd.Series({"a": 2.0, "b": 1.0})
    scores = interval_scores(scored, scale, [80])
    assert scores["coverage_80"] == 50.0  # 10 and 5 inside, 20 above, 1 below
    # a: widths 4 and 4 + (2/0.2)·(20 − 12) = 84 → mean 44 / scale 2 = 22; b: 4 and 4 + 10·1 = 14 → 9 / 1
    assert scores["msis_80"] == pytest.approx((22.0 + 9.0) / 2)
    # pinball of row a2: lo 8 at τ 0.1: 0.1·12 = 1.2; hi 12 at τ 0.9: 0.9·8 = 7.2 → mean 4.2
    a = (((0.1 * 2 + 0.1 * 2) / 2) + (0.1 * 12 + 0.9 * 8) / 2) / 2 / 2.0
    b = (((0.1 * 3 + 0.1 * 1) / 2) + (0.9 * 1 + 0.1 * 5) / 2) / 2 / 1.0
    assert scores["pinball_80"] == pytest.approx((a + b) / 2)
