"""The history features added for the pooled models, on a hand-computed panel.

Item 1 sells 1, 2, 3, … from January 2020, except May 2020 (no row); item 2 sells 10 every month.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.features import check_feature_names, feature_function, reads_target_history
from salescast.forecast.panel import build_panel, month_number

MONTHS = pd.date_range("2020-01-01", "2021-03-01", freq="MS")


@pytest.fixture(scope="module")
def panel():
    rows = [(month, 1, float(k + 1)) for k, month in enumerate(MONTHS) if month != pd.Timestamp("2020-05-01")]
    rows += [(month, 2, 10.0) for month in MONTHS]
    return build_panel(catalog_from_frames(pd.DataFrame(rows, columns=["dates", "item_id", "sales"])))


def value(panel, feature: str, column: str, item: int, month: str) -> float:
    matrix = feature_function(feature)(panel).columns[column]
    return float(matrix[panel.items.get_loc(item), month_number([pd.Timestamp(month)])[0] - panel.first_month])


def test_rolling_means_and_standard_deviations_by_hand(panel):
    # April 2020 reads January…March 2020: 1, 2, 3
    assert value(panel, "rolling_mean_3", "rolling_mean_3", 1, "2020-04-01") == pytest.approx(2.0)
    assert value(panel, "rolling_std_3", "rolling_std_3", 1, "2020-04-01") == pytest.approx(1.0)  # ddof = 1
    # March 2021 reads March 2020…February 2021 for the 12-month window: May 2020 missing → NaN
    assert math.isnan(value(panel, "rolling_mean_12", "rolling_mean_12", 1, "2021-03-01"))
    # July 2020 reads April…June 2020: May missing → NaN; the constant item has a zero deviation
    assert math.isnan(value(panel, "rolling_mean_3", "rolling_mean_3", 1, "2020-07-01"))
    assert value(panel, "rolling_std_6", "rolling_std_6", 2, "2020-08-01") == 0.0
    assert math.isnan(value(panel, "rolling_mean_6", "rolling_mean_6", 2, "2020-03-01"))  # before the data


def test_expanding_mean_averages_the_months_present(panel):
    # July 2020 reads January…June without May: (1 + 2 + 3 + 4 + 6) / 5
    assert value(panel, "expanding_mean", "expanding_mean", 1, "2020-07-01") == pytest.approx(16 / 5)
    assert math.isnan(value(panel, "expanding_mean", "expanding_mean", 1, "2020-01-01"))


def test_any_lag_and_its_gap(panel):
    assert value(panel, "lag_3", "lag_3", 1, "2020-07-01") == 4.0
    assert math.isnan(value(panel, "lag_2", "lag_2", 1, "2020-07-01"))  # May
    assert value(panel, "lag_14", "lag_14", 2, "2021-03-01") == 10.0
    assert check_feature_names(["lag_36", "lag_1"]) == ["lag_36", "lag_1"]
    for bad in ("lag_0", "lag_37", "lag_x", "lag_01"):
        with pytest.raises(ValueError, match="lag_<k>"):
            check_feature_names([bad])


def test_month_of_year_is_one_indicator_per_calendar_month(panel):
    output = feature_function("month_of_year")(panel)
    assert sorted(output.columns) == sorted(f"month_{m}" for m in range(1, 13))
    stacked = np.stack([output.columns[f"month_{m}"] for m in range(1, 13)])
    assert (stacked.sum(axis=0) == 1).all()
    assert value(panel, "month_of_year", "month_3", 2, "2021-03-01") == 1.0
    assert not output.sales_unit_columns


def test_which_features_follow_the_target_transforms():
    for name in ("last_month", "lag_5", "rolling_mean_12", "expanding_mean", "growth"):
        assert reads_target_history(name)
    for name in ("month_of_year", "marketing", "stock", "exogenous"):
        assert not reads_target_history(name)
