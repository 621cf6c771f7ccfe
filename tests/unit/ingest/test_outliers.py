import numpy as np
import pytest
import sqlalchemy as sa

from salescast.ingest import outliers
from salescast.ingest.outliers import candidate_bounds, outlier_condition, sample_variance


def test_sample_variance_uses_ddof_one_and_needs_two_weeks():
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    mean = sum(values) / len(values)
    squares = sum((value - mean) ** 2 for value in values)
    assert sample_variance(len(values), squares) == pytest.approx(32 / 7)
    assert sample_variance(1, 0.0) is None
    assert sample_variance(0, 0.0) is None


def is_outlier(sales, mean, variance, threshold) -> bool:
    condition = outlier_condition(sa.literal(sales), sa.literal(mean), sa.literal(variance, sa.Float), threshold)
    with sa.create_engine("sqlite://").connect() as connection:
        return bool(connection.execute(sa.select(condition)).scalar())


@pytest.mark.parametrize(
    ("sales", "expected"),
    [(100.0, False), (149.9, False), (150.0, False), (150.1, True), (49.9, True), (50.1, False)],
)
def test_outlier_lies_strictly_beyond_threshold_standard_deviations_on_either_side(sales, expected):
    # mean 100, std 10, threshold 5: the band is [50, 150], its edges included.
    assert is_outlier(sales, 100.0, 100.0, 5.0) is expected


def test_no_variance_means_no_outlier():
    assert is_outlier(1e9, 1.0, None, 5.0) is False


def test_python_rule_agrees_with_sql_rule_at_the_band_edges():
    for sales in (49.9, 50.0, 50.1, 100.0, 149.9, 150.0, 150.1):
        assert outliers.is_outlier(sales, 100.0, 100.0, 5.0) is is_outlier(sales, 100.0, 100.0, 5.0)
    assert outliers.is_outlier(1e9, 1.0, None, 5.0) is False


def test_every_outlier_lies_outside_the_candidate_band():
    rng = np.random.default_rng(7)
    for _ in range(200):
        values = rng.lognormal(rng.uniform(0, 8), rng.uniform(0.05, 2), size=int(rng.integers(2, 60)))
        mean = float(values.mean())
        variance = float(values.var(ddof=1))
        threshold = float(rng.uniform(0.5, 5))
        low, high = candidate_bounds(mean, variance, threshold)
        # Values placed exactly on the band's edges, where rounding could hide an outlier.
        probes = [*values, mean + threshold * variance**0.5, mean - threshold * variance**0.5]
        for sales in probes:
            if outliers.is_outlier(float(sales), mean, variance, threshold):
                assert sales >= high or sales <= low
