"""PSI and KS on generated samples, and data drift of a fitted forecaster on generated monthly frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.monitoring_support import monthly_frames

from salescast.forecast.pipeline import Forecaster
from salescast.monitoring.data_drift import data_drift
from salescast.monitoring.drift import (
    DriftThresholds,
    compare_distributions,
    population_stability_index,
    psi_bins,
)


def test_psi_is_zero_for_the_same_sample_and_large_for_a_shifted_one():
    rng = np.random.default_rng(0)
    sample = rng.normal(100, 10, 1000)
    assert population_stability_index(sample, sample) == pytest.approx(0.0, abs=1e-12)
    assert population_stability_index(sample, rng.normal(100, 10, 1000)) < 0.05
    assert population_stability_index(sample, sample + 20) > 1.0


def test_psi_of_a_constant_reference_and_of_empty_bins_stays_finite():
    assert np.isfinite(population_stability_index(np.full(50, 3.0), np.arange(50.0)))
    assert np.isfinite(population_stability_index(np.arange(100.0), np.full(10, 1e6)))


def test_psi_bins_shrink_with_small_samples():
    assert psi_bins(1000, 1000) == 10
    assert psi_bins(120, 40) == 4
    assert psi_bins(48, 16) is None  # fewer than 4 bins of 10 rows: PSI cannot judge


def test_a_level_shift_drifts_and_noise_does_not():
    rng = np.random.default_rng(1)
    reference = rng.normal(1.0, 0.1, 120)
    stable = compare_distributions("x", "feature", reference, rng.normal(1.0, 0.1, 40))
    shifted = compare_distributions("x", "feature", reference, rng.normal(1.5, 0.1, 40))
    assert not stable.drifted and stable.ks_pvalue > 0.01
    assert shifted.drifted and shifted.psi > 0.2 and shifted.ks_pvalue < 0.01
    assert (shifted.reference_rows, shifted.current_rows) == (120, 40)


def test_small_samples_need_both_psi_and_ks():
    # 16 vs 48 values drawn from one distribution: PSI can exceed 0.2 by chance, KS says it is noise.
    rng = np.random.default_rng(3)
    flagged = [
        compare_distributions("x", "feature", rng.lognormal(4, 1, 48), rng.lognormal(4, 1, 16)).drifted
        for _ in range(50)
    ]
    assert sum(flagged) <= 2


def test_nothing_to_compare_is_not_drift():
    result = compare_distributions("x", "target", [np.nan, 1.0], [])
    assert (result.psi, result.ks_pvalue, result.drifted, result.reference_rows) == (None, None, False, 1)


# Twelve training months: the reference holds a whole seasonal cycle, so a season is not a drift.
TRAIN = list(pd.date_range("2021-10-01", "2022-09-01", freq="MS"))


@pytest.fixture(scope="module")
def champion():
    return Forecaster("Ridge").fit(monthly_frames(), TRAIN)


def test_data_drift_is_quiet_on_a_stable_series(champion):
    results, _, current = data_drift(champion, monthly_frames(), TRAIN, pd.Timestamp("2022-12-01"))
    names = [row.name for row in results]
    assert names[-2:] == ["sales", "prediction"] and "last_month" in names
    assert [row.name for row in results if row.drifted] == []
    assert results[-2].reference_rows == 480 and results[-2].current_rows == 40
    # Sales units are relative to each item's reference level: a stable item sits near 1.
    assert current["sales"].median() == pytest.approx(1.0, abs=0.15)


def test_data_drift_finds_an_injected_level_shift(champion):
    shifted = monthly_frames(shift_from="2022-10-01")
    results, _, current = data_drift(champion, shifted, TRAIN, pd.Timestamp("2022-12-01"), DriftThresholds())
    drifted = {row.name for row in results if row.drifted}
    assert {"sales", "prediction", "last_month"} <= drifted
    assert current["sales"].median() == pytest.approx(1.8, rel=0.15)
