"""Distribution drift between a reference sample and a current one: PSI and the two-sample KS test.

* **PSI** (population stability index) = Σ (cᵢ − rᵢ) · ln(cᵢ / rᵢ) over bins whose edges are the
  reference's quantiles, so every bin holds about the same share of the reference. Proportions are
  floored at :data:`PSI_EPSILON` (1e-4) so that an empty bin gives a large, finite term rather than
  infinity. The number of bins is ``max_bins`` (10 by default) but at most one bin per
  :data:`MIN_ROWS_PER_BIN` (10) rows of the smaller sample. With fewer than :data:`MIN_BINS` (4) bins —
  fewer than 40 rows on a side — PSI **cannot judge** (2 or 3 bins of a few dozen items call a seasonal
  peak a drift): it is not computed, the row says so in ``note``, and it is not flagged.
* **KS**: ``scipy.stats.ks_2samp`` (two-sided, exact for small samples) — the largest gap between the
  two empirical CDFs and its p-value.

A distribution has **drifted** when its shift is both large and unlikely to be noise: PSI above the
PSI threshold (0.2) **and** KS p-value below the KS threshold (0.01). PSI alone flags noise on small
samples; KS alone flags negligible shifts on large ones. Missing values are dropped first; with an
empty side nothing is computed and nothing is flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PSI_EPSILON = 1e-4
MIN_ROWS_PER_BIN = 10
MIN_BINS = 4


@dataclass(frozen=True)
class DriftThresholds:
    """When a distribution counts as drifted (see the module docstring)."""

    psi: float = 0.2
    ks_pvalue: float = 0.01
    max_bins: int = 10


@dataclass(frozen=True)
class DriftResult:
    """One row of the report's ``data_drift`` list."""

    name: str
    kind: str  # "feature", "target" or "prediction"
    psi: float | None
    ks_statistic: float | None
    ks_pvalue: float | None
    reference_rows: int
    current_rows: int
    drifted: bool
    note: str | None = None  # why PSI could not judge, when it could not

    def as_dict(self) -> dict:
        return asdict(self)


def psi_bins(reference_rows: int, current_rows: int, max_bins: int = 10) -> int | None:
    """How many quantile bins PSI uses for samples of these sizes; None when too few rows to judge."""
    bins = min(max_bins, min(reference_rows, current_rows) // MIN_ROWS_PER_BIN)
    return int(bins) if bins >= MIN_BINS else None


def population_stability_index(reference, current, bins: int = 10) -> float:
    """PSI of ``current`` against ``reference`` with ``bins`` reference-quantile bins (NaN dropped)."""
    reference = _finite(reference)
    current = _finite(current)
    if reference.size == 0 or current.size == 0:
        raise ValueError("PSI needs at least one value on each side")
    inner = np.unique(np.quantile(reference, psi_quantiles(bins)))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    return psi_from_counts(np.histogram(reference, edges)[0], np.histogram(current, edges)[0])


def psi_quantiles(bins: int) -> np.ndarray:
    """The reference quantiles (probabilities) whose values are the inner bin edges."""
    return np.linspace(0, 1, bins + 1)[1:-1]


def psi_from_counts(reference_counts, current_counts) -> float:
    """PSI from the two samples' counts in the same bins (proportions floored at :data:`PSI_EPSILON`)."""
    reference_counts = np.asarray(reference_counts, dtype=np.int64)
    current_counts = np.asarray(current_counts, dtype=np.int64)
    expected = np.maximum(reference_counts / reference_counts.sum(), PSI_EPSILON)
    actual = np.maximum(current_counts / current_counts.sum(), PSI_EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks_test(reference, current) -> tuple[float, float]:
    """(statistic, p-value) of the two-sided two-sample Kolmogorov–Smirnov test (NaN dropped)."""
    from scipy.stats import ks_2samp

    result = ks_2samp(_finite(reference), _finite(current))
    return float(result.statistic), float(result.pvalue)


def ks_test_at_gap(reference_below: int, current_below: int, reference_rows: int, current_rows: int):
    """:func:`ks_test` of two samples whose largest ECDF gap is at a point with ``reference_below`` of the
    ``reference_rows`` and ``current_below`` of the ``current_rows`` at or below it.

    The test depends on the samples only through that gap and the sizes, so it is run on the smallest samples
    with the same: 0s and 1s in those counts. scipy then picks its method (exact or asymptotic) and rounds the
    statistic as it does for the real samples.
    """
    reference = np.repeat([0.0, 1.0], [reference_below, reference_rows - reference_below])
    current = np.repeat([0.0, 1.0], [current_below, current_rows - current_below])
    return ks_test(reference, current)


def compare_distributions(
    name: str, kind: str, reference, current, thresholds: DriftThresholds = DriftThresholds()
) -> DriftResult:
    """PSI, KS and the drift verdict for one column."""
    reference = _finite(reference)
    current = _finite(current)
    if reference.size == 0 or current.size == 0:
        return drift_verdict(name, kind, int(reference.size), int(current.size), None, None, thresholds)
    bins = psi_bins(reference.size, current.size, thresholds.max_bins)
    psi = None if bins is None else population_stability_index(reference, current, bins)
    sizes = int(reference.size), int(current.size)
    return drift_verdict(name, kind, *sizes, ks_test(reference, current), psi, thresholds)


def drift_verdict(
    name: str,
    kind: str,
    reference_rows: int,
    current_rows: int,
    ks: tuple[float, float] | None,
    psi: float | None,
    thresholds: DriftThresholds,
) -> DriftResult:
    """The row of one column from its sizes, KS (statistic, p-value) and PSI (None: too few rows to judge)."""
    if reference_rows == 0 or current_rows == 0:
        return DriftResult(name, kind, None, None, None, reference_rows, current_rows, False)
    statistic, pvalue = ks
    sizes = reference_rows, current_rows
    if psi is None:
        needed = MIN_BINS * MIN_ROWS_PER_BIN
        note = (
            f"PSI cannot judge: {min(sizes)} rows on the smaller side, at least {needed} needed "
            f"({MIN_BINS} bins of {MIN_ROWS_PER_BIN} rows); not flagged"
        )
        return DriftResult(name, kind, None, statistic, pvalue, *sizes, False, note)
    drifted = psi > thresholds.psi and pvalue < thresholds.ks_pvalue
    return DriftResult(name, kind, psi, statistic, pvalue, *sizes, bool(drifted))


def _finite(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]
