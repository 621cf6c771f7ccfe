"""Catalog validation: every rule gives an error that names the source, the column and the rows."""

from __future__ import annotations

import pandas as pd
import pytest

from salescast.forecast.catalog import DataValidationError, catalog_from_frames, load_catalog


def _sales(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"dates": ["2020-02-01", "2020-01-01", "2020-01-01"], "item_id": [1, 1, 2], "sales": [3.0, 2.0, 0.0]}
    )
    return frame.assign(**overrides)


def test_sorted_by_item_then_month_with_parsed_types():
    catalog = catalog_from_frames(_sales())
    assert catalog.sales["item_id"].tolist() == [1, 1, 2]
    assert catalog.sales["dates"].dt.strftime("%Y-%m").tolist() == ["2020-01", "2020-02", "2020-01"]
    assert catalog.sales["item_id"].dtype == "int64"
    assert catalog.sales["sales"].dtype == "float64"
    assert catalog.months() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01")]


def test_duplicate_dates_and_item_is_rejected():
    duplicated = pd.concat([_sales(), _sales().iloc[[0]]])
    with pytest.raises(DataValidationError, match=r"sales: 2 rows share a \(dates, item_id\) key"):
        catalog_from_frames(duplicated)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dates": ["2020-02-15", "2020-01-01", "2020-01-01"]}, "fall inside a month"),
        ({"dates": ["soon", "2020-01-01", "2020-01-01"]}, "not dates"),
        ({"sales": [3.0, -1.0, 0.0]}, "must be ≥ 0"),
        ({"sales": [3.0, None, 0.0]}, "finite number"),
    ],
)
def test_bad_sales_values_are_named(overrides, message):
    with pytest.raises(DataValidationError, match=message):
        catalog_from_frames(_sales(**overrides))


def test_missing_column_lists_the_expected_header():
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['sales'\]"):
        catalog_from_frames(_sales().drop(columns="sales"))


def test_string_item_ids_are_kept_and_other_sources_follow_the_sales_type():
    sales = _sales(item_id=["tomato", "tomato", "leek"])
    marketing = pd.DataFrame({"dates": ["2020-01-01"], "item_id": ["leek"], "marketing": [1.0]})
    catalog = catalog_from_frames(sales, marketing=marketing)
    assert catalog.items() == ["leek", "tomato"]
    with pytest.raises(DataValidationError, match="item_id must be integers"):
        catalog_from_frames(_sales(), marketing=marketing)


def test_stock_refills_on_the_same_day_are_summed():
    stock = pd.DataFrame({"dates": ["2020-01-03", "2020-01-03"], "item_id": [1, 1], "refill": [2.0, 3.0]})
    assert catalog_from_frames(_sales(), stock=stock).stock["refill"].tolist() == [5.0]


def test_load_catalog_resolves_relative_paths_and_reports_missing_files(tmp_path):
    _sales().to_csv(tmp_path / "sales.csv", index=False)
    assert len(load_catalog({"sales": "sales.csv"}, base_dir=tmp_path).sales) == 3
    with pytest.raises(DataValidationError, match=r"price: file .*price\.csv does not exist"):
        load_catalog({"sales": "sales.csv", "price": "price.csv"}, base_dir=tmp_path)
    with pytest.raises(DataValidationError, match="unknown data source"):
        load_catalog({"sales": "sales.csv", "weather": "w.csv"}, base_dir=tmp_path)


def test_month_forms_and_ambiguous_dates():
    months = catalog_from_frames(_sales(dates=["2020-02", "2020-01-31", "2020-01-01"]))
    assert months.sales["dates"].dt.strftime("%Y-%m-%d").tolist() == ["2020-01-01", "2020-02-01", "2020-01-01"]
    with pytest.raises(DataValidationError, match="ambiguous"):
        catalog_from_frames(_sales(dates=["01/02/2020", "2020-01-01", "2020-01-01"]))


def test_item_ids_that_are_not_plain_integers_stay_text(tmp_path):
    pd.DataFrame({"dates": ["2020-01-01", "2020-01-01"], "item_id": ["000", "12"], "sales": [1.0, 2.0]}).to_csv(
        tmp_path / "sales.csv", index=False
    )
    assert load_catalog({"sales": "sales.csv"}, base_dir=tmp_path).items() == ["000", "12"]
    pd.DataFrame({"dates": ["2020-01-01"], "item_id": ["12"], "sales": [1.0]}).to_csv(
        tmp_path / "ints.csv", index=False
    )
    assert load_catalog({"sales": "ints.csv"}, base_dir=tmp_path).items() == [12]
