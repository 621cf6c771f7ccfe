"""The promotion rule: 2 of RMSE/MAE/R² beat the champion on the same month, and the baseline gate."""

from __future__ import annotations

import math

import pytest

from salescast.lifecycle.promotion import decide_promotion, is_improvement

CHAMPION = {"rmse": 10.0, "mae": 8.0, "r2": 0.50}


def test_first_model_becomes_champion_when_it_beats_the_baseline():
    decision = decide_promotion({"rmse": 9.0, "mae": 7.0, "r2": 0.6}, baseline_rmse=12.0)
    assert decision.promoted and decision.outcome == "promoted"
    assert "first champion" in decision.reason


def test_first_model_is_kept_when_it_does_not_beat_the_baseline():
    decision = decide_promotion({"rmse": 12.5, "mae": 7.0, "r2": 0.6}, baseline_rmse=12.0)
    assert not decision.promoted and decision.outcome == "kept"
    assert "SameMonthLastYearSales" in decision.reason


@pytest.mark.parametrize(
    ("candidate", "improved"),
    [
        ({"rmse": 9.0, "mae": 7.0, "r2": 0.4}, ["rmse", "mae"]),
        ({"rmse": 9.0, "mae": 9.0, "r2": 0.6}, ["rmse", "r2"]),
        ({"rmse": 11.0, "mae": 7.0, "r2": 0.6}, ["mae", "r2"]),
        ({"rmse": 9.0, "mae": 7.0, "r2": 0.6}, ["rmse", "mae", "r2"]),
    ],
)
def test_two_of_three_improvements_promote(candidate, improved):
    decision = decide_promotion(candidate, baseline_rmse=20.0, champion=CHAMPION, champion_version="3")
    assert decision.promoted
    assert decision.improved == improved
    assert "champion v3" in decision.reason


def test_one_improvement_is_not_enough():
    decision = decide_promotion({"rmse": 9.0, "mae": 8.5, "r2": 0.4}, baseline_rmse=20.0, champion=CHAMPION)
    assert not decision.promoted
    assert decision.improved == ["rmse"]
    assert "only 1/3" in decision.reason


def test_ties_do_not_count_as_improvements():
    tie_with_one_better = {"rmse": 10.0, "mae": 8.0, "r2": 0.55}
    decision = decide_promotion(tie_with_one_better, baseline_rmse=20.0, champion=CHAMPION)
    assert not decision.promoted
    assert decision.improved == ["r2"]
    float_noise = {"rmse": 10.0 * (1 - 1e-13), "mae": 8.0 * (1 - 1e-13), "r2": 0.5}
    assert not decide_promotion(float_noise, baseline_rmse=20.0, champion=CHAMPION).promoted


def test_baseline_gate_blocks_a_better_challenger():
    decision = decide_promotion({"rmse": 9.0, "mae": 7.0, "r2": 0.6}, baseline_rmse=8.0, champion=CHAMPION)
    assert not decision.promoted
    assert decision.improved == ["rmse", "mae", "r2"]
    assert not decision.beats_baseline
    assert "does not beat SameMonthLastYearSales" in decision.reason


def test_baseline_tie_does_not_pass_the_gate():
    assert not decide_promotion({"rmse": 12.0, "mae": 7.0, "r2": 0.6}, baseline_rmse=12.0).promoted


def test_missing_baseline_fails_the_gate():
    decision = decide_promotion({"rmse": 1.0, "mae": 1.0, "r2": 0.9}, baseline_rmse=math.nan)
    assert not decision.promoted
    assert "n/a" in decision.reason


def test_nan_metric_never_improves():
    assert not is_improvement("r2", math.nan, 0.5)
    assert not is_improvement("rmse", 1.0, math.nan)
    assert is_improvement("r2", 0.6, 0.5)
    assert not is_improvement("rmse", 1.1, 1.0)
