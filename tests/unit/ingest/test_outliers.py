import pytest
import sqlalchemy as sa

from salescast.ingest.outliers import outlier_condition, sample_variance


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
