"""Target transforms: applied on the grid, inverted exactly, and parsed with clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from salescast.forecast.transforms import TargetTransformError, parse_target_transforms, recent_scale


def test_differences_and_log1p_invert_to_the_original_sales():
    sales = np.array([[1.0, 4.0, 9.0, 16.0, 25.0, 36.0], [0.0, 0.0, 5.0, np.nan, 7.0, 8.0]])
    transforms = parse_target_transforms(["log1p", {"difference": 2}, "difference"])
    stages = transforms.apply(sales)
    rows, cols = np.array([0, 0, 0]), np.array([3, 4, 5])
    recovered = transforms.invert(stages[-1][rows, cols], stages, rows, cols)
    np.testing.assert_allclose(recovered, sales[rows, cols])
    # inverting item 2's month 5 needs its missing month 3: NaN (the pipeline's fallback), never a neighbour
    assert np.isnan(transforms.invert(np.array([0.5]), stages, np.array([1]), np.array([5])))[0]


def test_seasonal_difference_by_hand():
    sales = np.arange(26, dtype=float)[np.newaxis, :] * 2
    transforms = parse_target_transforms(["seasonal_difference", "item_level"])
    assert transforms.names == ["seasonal_difference", "item_level"]
    differenced = transforms.apply(sales)[-1]
    assert np.isnan(differenced[0, 11]) and differenced[0, 12] == 24.0
    # item_level divides by the mean |value| of the 12 months before (of the differenced series here)
    assert recent_scale(differenced)[0, 25] == 24.0


def test_recent_scale_of_a_silent_item_is_one():
    assert recent_scale(np.zeros((1, 14)))[0, 13] == 1.0
    assert np.isnan(recent_scale(np.full((1, 3), np.nan))[0, 2])


def test_default_is_item_level_scaling_only():
    default = parse_target_transforms(None)
    assert default.names == ["item_level"] and default.matrix == ()
    assert parse_target_transforms([]).names == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["item_level", "log1p"], "must be the last entry"),
        (["sqrt"], "unknown entry 'sqrt'"),
        ([{"difference": 0}], "integer 1…36"),
        ([{"difference": 2.5}], "integer 1…36"),
        (["log1p", "log1p"], "repeated"),
        ("log1p", "must be a list"),
    ],
)
def test_bad_entries_explain_themselves(value, message):
    with pytest.raises(TargetTransformError, match=message):
        parse_target_transforms(value)
