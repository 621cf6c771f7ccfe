"""PSI needs 4 bins of 10 rows on each side; below that it says it cannot judge instead of flagging noise."""

from __future__ import annotations

import numpy as np
import pytest

from salescast.monitoring.drift import MIN_BINS, MIN_ROWS_PER_BIN, compare_distributions, psi_bins


@pytest.mark.parametrize(
    ("reference", "current", "bins"),
    [(1000, 1000, 10), (480, 40, 4), (480, 55, 5), (480, 39, None), (36, 400, None), (120, 16, None)],
)
def test_bins_are_one_per_ten_rows_and_never_fewer_than_four(reference, current, bins):
    assert psi_bins(reference, current) == bins


def test_a_few_dozen_items_are_not_judged_by_psi_and_the_row_says_why():
    rng = np.random.default_rng(0)
    # A seasonal peak of every item: a real shift, but 24 items are too few for PSI's bins.
    reference = rng.normal(1.0, 0.1, 72)
    peak = rng.normal(1.4, 0.1, 24)
    result = compare_distributions("sales", "target", reference, peak)
    assert result.psi is None and result.drifted is False
    assert (
        result.note
        == "PSI cannot judge: 24 rows on the smaller side, at least 40 needed (4 bins of 10 rows); not flagged"
    )
    assert result.ks_pvalue < 1e-6  # the KS numbers are still reported
    assert result.as_dict()["note"] == result.note
    assert MIN_BINS * MIN_ROWS_PER_BIN == 40


def test_enough_rows_are_judged_as_before():
    rng = np.random.default_rng(1)
    result = compare_distributions("sales", "target", rng.normal(1.0, 0.1, 480), rng.normal(1.5, 0.1, 40))
    assert result.note is None and result.psi > 0.2 and result.drifted
