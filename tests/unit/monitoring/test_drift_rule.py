"""The drift rule needs both halves: PSI > 0.2 **and** KS p < 0.01. Each half alone is shown not to flag.

The samples are built, not drawn, so each case sits where it is meant to whatever the random state:
quantiles of a distribution for a shift, evenly spaced points for a reshuffle between bins.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from salescast.monitoring.drift import DriftThresholds, compare_distributions

THRESHOLDS = DriftThresholds()


def normal_sample(size: int, shift: float = 0.0) -> np.ndarray:
    """``size`` evenly spaced quantiles of N(shift, 1): the distribution itself, no sampling noise."""
    return norm.ppf((np.arange(size) + 0.5) / size) + shift


def test_a_large_shift_is_flagged_by_both_halves():
    result = compare_distributions("x", "feature", normal_sample(500), normal_sample(500, shift=1.0))
    assert result.psi > THRESHOLDS.psi and result.ks_pvalue < THRESHOLDS.ks_pvalue
    assert result.drifted


def test_ks_alone_does_not_flag_a_negligible_shift_on_a_large_sample():
    # 20,000 values each, shifted by a tenth of a standard deviation: certain (p ≈ 3e-14), and negligible.
    result = compare_distributions("x", "feature", normal_sample(20_000), normal_sample(20_000, shift=0.1))
    assert result.ks_pvalue < 1e-12  # KS alone would flag it
    assert 0.005 < result.psi < 0.02  # PSI ~0.01: far below 0.2
    assert not result.drifted


def test_psi_alone_does_not_flag_a_reshuffle_within_the_range_that_ks_calls_noise():
    # 1,000 values each. The reference fills ten bins evenly; the current sample puts 15 % and 5 % in
    # alternate bins: PSI = 5·0.05·ln 3 ≈ 0.27, but the CDFs never differ by more than 5 %, p ≈ 0.16.
    reference = (np.arange(1000) + 0.5) / 1000
    current = np.concatenate([k / 10 + (np.arange(count) + 0.5) / count / 10 for k, count in enumerate([150, 50] * 5)])
    result = compare_distributions("x", "feature", reference, current)
    assert result.psi > THRESHOLDS.psi  # PSI alone would flag it
    assert result.ks_statistic <= 0.05 + 1e-9 and result.ks_pvalue > 0.1
    assert not result.drifted


def test_no_shift_is_not_flagged():
    result = compare_distributions("x", "feature", normal_sample(500), normal_sample(200))
    assert result.psi < 0.01 and result.ks_pvalue > 0.9 and not result.drifted
