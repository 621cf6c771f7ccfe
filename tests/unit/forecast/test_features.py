"""Each feature on a small hand-computed panel: two items, rows shuffled, item 1 missing September 2020.

Item 1 sells 100 + k in the k-th month from January 2020 (k = 0 …), except September 2020 (no row).
Item 2 starts in March 2020 and sells 10·j in its j-th month (j = 1 …).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.features import FEATURES, INTERNAL_FEATURES, check_feature_names
from salescast.forecast.features.base import MissingSourceError
from salescast.forecast.features.structural_history import column as history_column
from salescast.forecast.panel import build_panel, month_number

MONTHS = pd.date_range("2020-01-01", "2021-06-01", freq="MS")


def _sales() -> pd.DataFrame:
    rows = [(month, 1, 100.0 + k) for k, month in enumerate(MONTHS) if month != pd.Timestamp("2020-09-01")]
    rows += [(month, 2, 10.0 * j) for j, month in enumerate(MONTHS[2:], start=1)]
    frame = pd.DataFrame(rows, columns=["dates", "item_id", "sales"])
    frame["dates"] = frame["dates"].dt.strftime("%Y-%m-%d")
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


def _value(catalog, feature: str, column: str, item: int, month: str) -> float:
    panel = build_panel(catalog, last_month=max(pd.Timestamp(month), catalog.months()[-1]))
    matrix = FEATURES[feature](panel).columns[column]
    return float(matrix[panel.items.get_loc(item), month_number([pd.Timestamp(month)])[0] - panel.first_month])


@pytest.fixture
def catalog():
    return catalog_from_frames(_sales())


def test_last_month_is_the_previous_calendar_month_and_a_gap_stays_missing(catalog):
    assert _value(catalog, "last_month", "last_month", 1, "2020-11-01") == 109.0  # October: k = 9
    assert np.isnan(_value(catalog, "last_month", "last_month", 1, "2020-10-01"))  # September is the gap
    assert _value(catalog, "last_month", "last_month", 2, "2020-05-01") == 20.0
    assert np.isnan(_value(catalog, "last_month", "last_month", 2, "2020-03-01"))  # first month of item 2


def test_same_month_last_year(catalog):
    assert _value(catalog, "same_month_last_year", "same_month_last_year", 1, "2021-02-01") == 101.0
    assert np.isnan(_value(catalog, "same_month_last_year", "same_month_last_year", 1, "2021-09-01"))
    assert _value(catalog, "same_month_last_year", "same_month_last_year", 2, "2021-04-01") == 20.0
    assert np.isnan(_value(catalog, "same_month_last_year", "same_month_last_year", 2, "2021-02-01"))


def test_last_year_average_needs_twelve_complete_months(catalog):
    # Item 2, March 2021: months j = 1 … 12 → mean 10 · 6.5.
    assert _value(catalog, "last_year_average", "last_year_average", 2, "2021-03-01") == pytest.approx(65.0)
    assert np.isnan(_value(catalog, "last_year_average", "last_year_average", 2, "2021-02-01"))
    # Item 1: every window up to September 2021 contains the September 2020 gap.
    assert np.isnan(_value(catalog, "last_year_average", "last_year_average", 1, "2021-06-01"))


def test_three_month_mean_skips_windows_with_a_gap(catalog):
    assert _value(catalog, "three_month_mean", "three_month_mean", 1, "2021-01-01") == pytest.approx(110.0)
    assert np.isnan(_value(catalog, "three_month_mean", "three_month_mean", 1, "2020-12-01"))
    assert _value(catalog, "three_month_mean", "three_month_mean", 2, "2020-06-01") == pytest.approx(20.0)


def test_growth_ratio_and_its_product_with_last_year(catalog):
    # Item 2, June 2021: (13 + 14 + 15) / (1 + 2 + 3) = 7; June 2020 sold 40.
    assert _value(catalog, "growth", "growth", 2, "2021-06-01") == pytest.approx(7.0)
    assert _value(catalog, "growth", "growth_x_same_month_last_year", 2, "2021-06-01") == pytest.approx(280.0)
    # Item 1, April 2021: (114 + 113 + 112) / (100 + 101 + 102).
    assert _value(catalog, "growth", "growth", 1, "2021-04-01") == pytest.approx(339 / 303)
    assert np.isnan(_value(catalog, "growth", "growth", 2, "2021-05-01"))  # needs M−15, before item 2 starts


def test_marketing_missing_rows_are_zero_and_scaled_by_level():
    marketing = pd.DataFrame({"dates": ["2020-05-01"], "item_id": [2], "marketing": [1.5]})
    catalog = catalog_from_frames(_sales(), marketing=marketing)
    assert _value(catalog, "marketing", "marketing", 2, "2020-05-01") == 1.5
    assert _value(catalog, "marketing", "marketing", 1, "2020-05-01") == 0.0
    # Level of item 2 in May 2020: mean of the months it has before (10, 20).
    assert _value(catalog, "marketing", "marketing_x_level", 2, "2020-05-01") == pytest.approx(1.5 * 15.0)


def test_marketing_relative_to_the_item_usual_spend_is_free_of_units_and_of_the_future():
    # item 1 spends in units, item 2 in thousands; each campaign is read against the item's own earlier ones
    marketing = pd.DataFrame(
        {
            "dates": ["2020-03-01", "2020-05-01", "2020-08-01", "2020-05-01", "2020-06-01"],
            "item_id": [1, 1, 1, 2, 2],
            "marketing": [2.0, 4.0, 0.5, 3000.0, 1000.0],
        }
    )
    catalog = catalog_from_frames(_sales(), marketing=marketing)

    def relative(item: int, month: str) -> float:  # spend / usual spend: the column over the item's level
        level = _value(catalog, "marketing", "marketing_x_level", item, month) / _value(
            catalog, "marketing", "marketing", item, month
        )
        return _value(catalog, "marketing", "marketing_relative_x_level", item, month) / level

    assert relative(1, "2020-03-01") == pytest.approx(1.0)  # the first campaign is the usual one
    assert relative(1, "2020-05-01") == pytest.approx(4.0 / 3.0)  # usual spend (2 + 4) / 2 = 3
    assert relative(1, "2020-08-01") == pytest.approx(0.5 / (6.5 / 3))  # (2 + 4 + 0.5) / 3
    # item 2 in May: level of March … April = (10 + 20) / 2; June: usual (3000 + 1000) / 2 → 0.5
    assert _value(catalog, "marketing", "marketing_relative_x_level", 2, "2020-05-01") == pytest.approx(15.0)
    assert _value(catalog, "marketing", "marketing_relative_x_level", 2, "2020-06-01") == pytest.approx(0.5 * 20.0)
    assert _value(catalog, "marketing", "marketing_relative_x_level", 1, "2020-04-01") == 0.0  # no campaign
    # a later campaign never changes an earlier month's value
    later = pd.concat([marketing, pd.DataFrame({"dates": ["2021-01-01"], "item_id": [1], "marketing": [90.0]})])
    catalog_later = catalog_from_frames(_sales(), marketing=later)
    assert _value(catalog_later, "marketing", "marketing_relative_x_level", 1, "2020-08-01") == pytest.approx(
        _value(catalog, "marketing", "marketing_relative_x_level", 1, "2020-08-01")
    )


def test_price_changes_announced_and_current_with_carried_prices():
    price = pd.DataFrame(
        {
            "dates": ["2020-01-01", "2020-04-01", "2020-06-01", "2020-01-01"],
            "item_id": [1, 1, 1, 2],
            "price": [10.0, 11.0, 9.9, 5.0],
        }
    )
    catalog = catalog_from_frames(_sales(), price=price)
    assert _value(catalog, "price", "price_change_next", 1, "2020-03-01") == pytest.approx(0.1)
    assert _value(catalog, "price", "price_change_this", 1, "2020-03-01") == 0.0
    assert _value(catalog, "price", "price_change_this", 1, "2020-04-01") == pytest.approx(0.1)
    assert _value(catalog, "price", "price_change_this", 1, "2020-05-01") == 0.0  # May carries April's price
    assert _value(catalog, "price", "price_change_next", 1, "2020-05-01") == pytest.approx(-0.1)
    assert _value(catalog, "price", "price_change_next", 2, "2020-05-01") == 0.0
    # Item 1's level in May 2020 = mean(100 … 103) = 101.5; push = (−0.1 − 0) × 101.5.
    assert _value(catalog, "price", "price_push_x_level", 1, "2020-05-01") == pytest.approx(-10.15)


def test_stock_masks_stockouts_and_the_month_after_and_caps_at_available():
    sales = pd.DataFrame(
        {"dates": ["2020-02-01", "2020-01-01", "2020-03-01", "2020-04-01"], "item_id": 7, "sales": [5.0, 4.0, 6.0, 2.0]}
    )
    stock = pd.DataFrame(
        {
            "dates": ["2020-01-03", "2020-01-20", "2020-02-10", "2020-03-05", "2020-04-02", "2020-05-02"],
            "item_id": 7,
            "refill": [3.0, 3.0, 3.0, 10.0, 0.0, 1.0],
        }
    )
    catalog = catalog_from_frames(sales, stock=stock)
    output = FEATURES["stock"](build_panel(catalog, last_month=pd.Timestamp("2020-05-01")))
    # closing: Jan 6−4 = 2, Feb 2+3−5 = 0 (stockout), Mar 0+10−6 = 4, Apr 4−2 = 2.
    np.testing.assert_array_equal(output.train_mask[0], [True, False, False, True, True])
    np.testing.assert_allclose(output.cap[0], [6.0, 5.0, 10.0, 4.0, 3.0])
    assert output.columns == {}


def test_objectives_june_push_and_july_payback():
    months = pd.date_range("2019-07-01", "2021-07-01", freq="MS")
    sales = pd.DataFrame({"dates": months, "item_id": 1, "sales": 10.0})
    sales.loc[sales["dates"] == "2021-06-01", "sales"] = 25.0  # pushed to meet the objective exactly
    objectives = pd.DataFrame({"fiscal_year": [2020, 2021], "item_id": [1, 1], "objective": [200.0, 135.0]})
    catalog = catalog_from_frames(sales, objectives=objectives)
    # FY2021: July 2020 … May 2021 sold 110, objective 135 → 25 remaining (18.5 % ≤ 20 %): eligible.
    assert _value(catalog, "objectives", "objective_june_eligible", 1, "2021-06-01") == 1.0
    assert _value(catalog, "objectives", "objective_remaining", 1, "2021-06-01") == pytest.approx(25.0)
    # FY2020: 200 − 110 = 90 remaining, 45 % of the objective: too far, no push.
    assert _value(catalog, "objectives", "objective_june_eligible", 1, "2020-06-01") == 0.0
    assert _value(catalog, "objectives", "objective_remaining", 1, "2020-06-01") == 0.0
    # July 2021: June met 25 exactly; estimate June 2020 (10) × growth (1) → payback 15.
    assert _value(catalog, "objectives", "objective_july_payback", 1, "2021-07-01") == pytest.approx(15.0)
    assert _value(catalog, "objectives", "objective_remaining", 1, "2021-05-01") == 0.0


def test_features_are_pure_per_item(catalog):
    """A feature of item 1 computed alone equals the same feature computed with item 2 beside it."""
    alone = catalog_from_frames(_sales().query("item_id == 1"))
    for name in ("last_month", "last_year_average", "growth", "three_month_mean", "same_month_last_year"):
        together_panel, alone_panel = build_panel(catalog), build_panel(alone)
        together = FEATURES[name](together_panel).columns
        separate = FEATURES[name](alone_panel).columns
        for column, matrix in separate.items():
            np.testing.assert_array_equal(together[column][together_panel.items.get_loc(1)], matrix[0])


def test_a_feature_without_its_source_names_the_missing_data_entry(catalog):
    with pytest.raises(MissingSourceError, match=r"data\.marketing"):
        FEATURES["marketing"](build_panel(catalog))


def test_unknown_feature_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"valid features are .*last_month"):
        check_feature_names(["last_month", "weather"])


def test_structural_history_carries_each_eligible_june_remaining_at_every_lag():
    months = pd.date_range("2019-07-01", "2021-08-01", freq="MS")
    sales = pd.DataFrame({"dates": months, "item_id": 1, "sales": 10.0})
    sales.loc[sales["dates"] == "2021-06-01", "sales"] = 25.0  # pushed to the remaining 25 (see above)
    objectives = pd.DataFrame({"fiscal_year": [2020, 2021], "item_id": [1, 1], "objective": [200.0, 135.0]})
    catalog = catalog_from_frames(sales, objectives=objectives)
    panel = build_panel(catalog)
    output = INTERNAL_FEATURES["structural_history"](panel)
    june, july, august = (
        month_number([pd.Timestamp(m)])[0] - panel.first_month for m in ("2021-06", "2021-07", "2021-08")
    )
    assert output.columns[history_column("remaining", 0)][0, june] == pytest.approx(
        25.0
    )  # June itself: known in advance
    assert output.columns[history_column("remaining", 1)][0, july] == pytest.approx(25.0)
    assert output.columns[history_column("remaining", 2)][0, august] == pytest.approx(25.0)
    assert output.columns[history_column("pushed", 1)][0, july] == 1.0
    assert output.columns[history_column("remaining", 1)][0, june] == 0.0  # May was no eligible June
    assert history_column("remaining", 3) in output.sales_unit_columns
    assert history_column("pushed", 3) not in output.sales_unit_columns
