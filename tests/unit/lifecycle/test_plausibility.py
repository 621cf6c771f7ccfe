"""The plausibility gate: finite, ≥ 0, and within each item's own history range widened by a multiple."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from salescast.lifecycle.plausibility import check_plausibility

MONTH = pd.Timestamp("2024-01-01")


def history() -> pd.DataFrame:
    """Item "a" sold 100…200, item "b" 1…3 (a small item), item "c" a constant 5, item "z" only zeros."""
    rows = [("a", 100.0), ("a", 150.0), ("a", 200.0), ("b", 1.0), ("b", 3.0), ("c", 5.0), ("c", 5.0)]
    rows += [("z", 0.0), ("z", 0.0)]
    months = pd.date_range("2023-01-01", periods=len(rows), freq="MS")
    return pd.DataFrame({"dates": months, "item_id": [r[0] for r in rows], "sales": [r[1] for r in rows]})


def predictions(values: dict) -> pd.DataFrame:
    return pd.DataFrame({"dates": MONTH, "item_id": list(values), "prediction": list(values.values())})


def test_sane_forecasts_pass():
    report = check_plausibility(predictions({"a": 260.0, "b": 0.5, "c": 9.0, "z": 0.0}), history(), multiple=1.0)
    assert report.plausible and report.items == [] and report.checked == 4
    assert report.describe().startswith("plausible: all 4 forecasts")


def test_a_forecast_ten_times_beyond_the_range_is_flagged_with_its_bounds():
    # b's range is 1…3: allowed 0…5 at multiple 1; 10× beyond the range is 3 + 10 × 2 = 23
    report = check_plausibility(predictions({"a": 150.0, "b": 23.0}), history(), multiple=1.0)
    assert not report.plausible and report.items == ["b"]
    row = report.flagged.iloc[0]
    assert (row["problem"], row["low"], row["high"]) == ("above range", 0.0, 5.0)
    assert "implausible forecasts for 1 item(s)" in report.describe() and "b (23 above range, allowed 0…5)" in (
        report.describe()
    )
    # a wider multiple lets it through: the bound is settable
    assert check_plausibility(predictions({"b": 23.0}), history(), multiple=10.0).plausible


def test_below_the_range_is_flagged_and_the_lower_bound_is_clipped_at_zero():
    # a: 100…200 → low = 100 − 0.25 × 100 = 75 at multiple 0.25
    report = check_plausibility(predictions({"a": 60.0, "b": 1.0}), history(), multiple=0.25)
    assert report.items == ["a"] and report.flagged.iloc[0]["low"] == 75.0
    assert report.flagged.iloc[0]["problem"] == "below range"


@pytest.mark.parametrize(("value", "problem"), [(math.nan, "not finite"), (math.inf, "not finite"), (-0.5, "negative")])
def test_nan_infinite_and_negative_forecasts_are_flagged(value, problem):
    report = check_plausibility(predictions({"a": 150.0, "new": value}), history())
    assert report.items == ["new"]  # an item without history is still checked for finite and ≥ 0
    assert report.flagged.iloc[0]["problem"] == problem
    assert problem in report.describe()


def test_constant_and_all_zero_histories():
    # c's history is a constant 5: its range is its level, 0…10 at multiple 1; z sold nothing: only 0 is plausible
    report = check_plausibility(predictions({"c": 10.5, "z": 1.0}), history())
    assert report.items == ["c", "z"]
    assert check_plausibility(predictions({"c": 10.0, "z": 0.0}), history()).plausible


def test_the_reason_names_the_first_items_and_counts_the_rest():
    many = pd.DataFrame({"dates": MONTH, "item_id": range(12), "prediction": 1000.0})
    past = pd.DataFrame({"dates": MONTH - pd.DateOffset(months=1), "item_id": range(12), "sales": 1.0})
    text = check_plausibility(many, past).describe()
    assert "for 12 item(s)" in text and "0 (1000 above range, allowed 0…2)" in text and "and 7 more" in text


@pytest.mark.parametrize("multiple", [0, -1.0, math.nan, math.inf])
def test_the_multiple_must_be_positive(multiple):
    with pytest.raises(ValueError, match="must be a number > 0"):
        check_plausibility(predictions({"a": 1.0}), history(), multiple)


def test_the_setting_reads_the_environment_and_refuses_non_positive_values(monkeypatch):
    from pydantic import ValidationError

    from salescast.settings import Settings

    assert Settings().plausible_range_multiple == 1.0
    monkeypatch.setenv("SALESCAST_PLAUSIBLE_RANGE_MULTIPLE", "2.5")
    assert Settings().plausible_range_multiple == 2.5
    for bad in ("0", "-1", "inf", "many"):
        monkeypatch.setenv("SALESCAST_PLAUSIBLE_RANGE_MULTIPLE", bad)
        with pytest.raises(ValidationError, match="plausible_range_multiple"):
            Settings()
