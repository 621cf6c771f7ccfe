"""The promotion rule: 2 of RMSE/MAE/R² beat the champion on the same month, and the baseline gates (RMSE, MASE,
plausibility)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from salescast.lifecycle.promotion import decide_promotion, is_improvement

CHAMPION = {"rmse": 10.0, "mae": 8.0, "r2": 0.50}


def test_first_model_becomes_champion_when_it_beats_the_baseline():
    decision = decide_promotion({"rmse": 9.0, "mae": 7.0, "r2": 0.6}, baseline={"rmse": 12.0})
    assert decision.promoted and decision.outcome == "promoted"
    assert "first champion" in decision.reason


def test_first_model_is_kept_when_it_does_not_beat_the_baseline():
    decision = decide_promotion({"rmse": 12.5, "mae": 7.0, "r2": 0.6}, baseline={"rmse": 12.0})
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
    decision = decide_promotion(candidate, baseline={"rmse": 20.0}, champion=CHAMPION, champion_version="3")
    assert decision.promoted
    assert decision.improved == improved
    assert "champion v3" in decision.reason


def test_one_improvement_is_not_enough():
    decision = decide_promotion({"rmse": 9.0, "mae": 8.5, "r2": 0.4}, baseline={"rmse": 20.0}, champion=CHAMPION)
    assert not decision.promoted
    assert decision.improved == ["rmse"]
    assert "only 1/3" in decision.reason


def test_ties_do_not_count_as_improvements():
    tie_with_one_better = {"rmse": 10.0, "mae": 8.0, "r2": 0.55}
    decision = decide_promotion(tie_with_one_better, baseline={"rmse": 20.0}, champion=CHAMPION)
    assert not decision.promoted
    assert decision.improved == ["r2"]
    float_noise = {"rmse": 10.0 * (1 - 1e-13), "mae": 8.0 * (1 - 1e-13), "r2": 0.5}
    assert not decide_promotion(float_noise, baseline={"rmse": 20.0}, champion=CHAMPION).promoted


def test_baseline_gate_blocks_a_better_challenger():
    decision = decide_promotion({"rmse": 9.0, "mae": 7.0, "r2": 0.6}, baseline={"rmse": 8.0}, champion=CHAMPION)
    assert not decision.promoted
    assert decision.improved == ["rmse", "mae", "r2"]
    assert not decision.beats_baseline
    assert "does not beat SameMonthLastYearSales" in decision.reason


def test_baseline_tie_does_not_pass_the_gate():
    assert not decide_promotion({"rmse": 12.0, "mae": 7.0, "r2": 0.6}, baseline={"rmse": 12.0}).promoted


def test_missing_baseline_fails_the_gate():
    decision = decide_promotion({"rmse": 1.0, "mae": 1.0, "r2": 0.9}, baseline={"rmse": math.nan})
    assert not decision.promoted
    assert "n/a" in decision.reason


def test_nan_metric_never_improves():
    assert not is_improvement("r2", math.nan, 0.5)
    assert not is_improvement("rmse", 1.0, math.nan)
    assert is_improvement("r2", 0.6, 0.5)
    assert not is_improvement("rmse", 1.1, 1.0)


def test_a_candidate_worse_than_the_baseline_on_mase_is_kept_with_the_numbers():
    # pooled RMSE better than the baseline (the big items), mean MASE worse (the small items)
    candidate = {"rmse": 9.0, "mae": 7.0, "r2": 0.6, "mase": 3.5}
    decision = decide_promotion(candidate, baseline={"rmse": 12.0, "mase": 0.9})
    assert not decision.promoted and decision.beats_baseline and not decision.mase_ok
    assert decision.reason.startswith("no champion yet and fails the MASE gate: ")
    assert "worse than SameMonthLastYearSales on mean MASE (mean MASE 3.5 vs SameMonthLastYearSales 0.9)" in (
        decision.reason
    )
    over_champion = decide_promotion(candidate, baseline={"rmse": 12.0, "mase": 0.9}, champion=CHAMPION)
    assert not over_champion.promoted and over_champion.improved == ["rmse", "mae", "r2"]
    assert over_champion.reason.startswith("kept champion: 3/3 metrics improve over champion")
    assert "but fails the MASE gate" in over_champion.reason


def test_mase_not_worse_passes_and_a_tie_is_not_worse():
    decision = decide_promotion({"rmse": 9.0, "mae": 7.0, "r2": 0.6, "mase": 0.9}, baseline={"rmse": 12.0, "mase": 0.9})
    assert decision.promoted and decision.mase_ok
    assert "not worse on mean MASE (mean MASE 0.9 vs SameMonthLastYearSales 0.9)" in decision.reason


def test_mase_that_cannot_be_computed_does_not_block_and_says_so():
    candidate = {"rmse": 9.0, "mae": 7.0, "r2": 0.6, "mase": math.nan}
    decision = decide_promotion(candidate, baseline={"rmse": 12.0, "mase": math.nan})
    assert decision.promoted and "MASE cannot judge" in decision.reason


def test_both_gates_failing_are_both_named():
    decision = decide_promotion(
        {"rmse": 13.0, "mae": 7.0, "r2": 0.6, "mase": 2.0}, baseline={"rmse": 12.0, "mase": 1.0}
    )
    assert decision.reason.startswith("no champion yet and fails the RMSE and MASE gates: does not beat")


def test_an_implausible_candidate_is_kept_and_the_reason_names_the_items():
    from salescast.lifecycle.plausibility import check_plausibility

    history = pd.DataFrame({"item_id": ["big", "small"], "sales": [1000.0, 2.0]})
    predictions = pd.DataFrame(
        {"dates": pd.Timestamp("2024-01-01"), "item_id": ["big", "small"], "prediction": [1000.0, 40.0]}
    )
    report = check_plausibility(predictions, history)
    candidate = {"rmse": 9.0, "mae": 7.0, "r2": 0.6, "mase": 0.5}
    decision = decide_promotion(candidate, baseline={"rmse": 12.0, "mase": 0.9}, champion=CHAMPION, plausibility=report)
    assert not decision.promoted and not decision.plausible and decision.mase_ok and decision.beats_baseline
    assert "fails the plausibility gate" in decision.reason
    assert "implausible forecasts for 1 item(s) of 2 forecasts: small (40 above range" in decision.reason
