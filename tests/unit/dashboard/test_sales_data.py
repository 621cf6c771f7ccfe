"""The Sales page's data functions on a small database (SQLite and PostgreSQL) filled through the ingestion service."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.dashboard_support import fill_sales_database

from salescast.dashboard.sales_data import (
    SalesDatabaseMissing,
    monthly_sales_frame,
    open_sales_store,
    outlier_weeks_frame,
    partial_months,
    sales_overview,
    select_weekly,
    unknown_names_frame,
    vegetables_by_sales,
    weekly_sales_frame,
)
from salescast.settings import Settings


@pytest.fixture
def store(database_url):
    # carrot: 20 ordinary weeks and one far above them; leek smaller; "pomme" (apple) unresolved.
    rows = [{"year_week": 202101 + week, "vegetable": "zanahoria", "sales": 10.0 + week % 3} for week in range(20)]
    rows += [{"year_week": 202121, "vegetable": "carrot", "sales": 500.0}]
    rows += [{"year_week": 202101 + week, "vegetable": "poireaux", "sales": 5.0} for week in range(3)]
    rows += [{"year_week": 202105, "vegetable": "pomme", "sales": 7.0}]
    fill_sales_database(database_url, rows=rows)
    store = open_sales_store(Settings(database_url=database_url, outlier_std_threshold=3))
    yield store
    store.dispose()


def test_weekly_frame_has_mondays_and_flags(store):
    weekly = weekly_sales_frame(store)
    assert weekly.loc[0, "week_start"] == pd.Timestamp("2021-01-04")  # Monday of 2021-W01
    assert weekly.loc[weekly["is_outlier"], ["year_week", "vegetable"]].values.tolist() == [[202121, "carrot"]]
    assert vegetables_by_sales(weekly) == ["carrot", "leek"]
    without = select_weekly(weekly, ["carrot"], remove_outliers=True)
    assert len(without) == 20 and without["sales"].max() < 20
    flagged = outlier_weeks_frame(weekly, ["carrot", "leek"])
    assert flagged[["vegetable", "sales"]].values.tolist() == [["carrot", 500.0]]
    assert flagged.loc[0, "mean_weekly_sales"] == pytest.approx(weekly[weekly["vegetable"] == "carrot"]["sales"].mean())


def test_monthly_frames_with_and_without_outliers_and_the_overview(store):
    every = monthly_sales_frame(store)
    regular = monthly_sales_frame(store, remove_outliers=True)
    carrot = every[every["vegetable"] == "carrot"]["sales"].sum()
    assert carrot - regular[regular["vegetable"] == "carrot"]["sales"].sum() == pytest.approx(500.0)
    assert every["month"].min() == pd.Timestamp("2021-01-01")
    unknown = unknown_names_frame(store)
    assert unknown.values.tolist() == [["pomme", 1, 7.0]]
    # 2021-W01 starts on Monday 4 January and 2021-W21 ends on Sunday 30 May.
    assert partial_months(weekly_sales_frame(store)) == [pd.Timestamp("2021-01-01"), pd.Timestamp("2021-05-01")]
    overview = sales_overview(weekly_sales_frame(store), unknown)
    assert (overview.vegetables, overview.weeks, overview.first_week, overview.last_week) == (2, 21, 202101, 202121)
    assert (overview.outlier_weeks, overview.unknown_names) == (1, 1)


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path):
    path = tmp_path / "typo.db"
    with pytest.raises(SalesDatabaseMissing, match="no sales database at"):
        open_sales_store(Settings(database_url=f"sqlite:///{path}"))
    assert not path.exists()
