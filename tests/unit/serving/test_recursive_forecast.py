"""Recursive horizon forecasts: each step reads the previous step's prediction; no stock cap past the stock data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.pipeline import Forecaster
from salescast.serving.forecasts import recursive_forecast

MONTHS = pd.date_range("2019-01-01", "2022-12-01", freq="MS")
LAST = pd.Timestamp("2022-12-01")


def stocked_catalog():
    """Three items selling ~100 a month; refills equal sales after a first delivery of 130 (30 always left)."""
    rng = np.random.default_rng(0)
    sales, stock = [], []
    for item in (1, 2, 3):
        for index, month in enumerate(MONTHS):
            value = round(100 * (1 + 0.2 * np.sin(month.month + item)) + rng.normal(0, 2), 2)
            sales.append((month, item, value))
            stock.append((month, item, value + (30.0 if index == 0 else 0.0)))
    return catalog_from_frames(
        pd.DataFrame(sales, columns=["dates", "item_id", "sales"]),
        stock=pd.DataFrame(stock, columns=["dates", "item_id", "refill"]),
    )


@pytest.fixture(scope="module")
def forecaster():
    catalog = stocked_catalog()
    return Forecaster("Ridge", features=["last_month", "same_month_last_year", "stock"]).fit(catalog, MONTHS[-12:])


def test_steps_feed_the_next_step(forecaster):
    catalog = stocked_catalog()
    path = recursive_forecast(forecaster, catalog, LAST, 3)
    assert path["dates"].drop_duplicates().tolist() == list(pd.date_range("2023-01-01", periods=3, freq="MS"))
    january = path[path["dates"] == "2023-01-01"].rename(columns={"prediction": "sales"})
    extended = dataclasses.replace(
        catalog,
        sales=pd.concat([catalog.sales, january], ignore_index=True),
        stock=catalog.stock.iloc[:0],
    )
    february = forecaster.predict(extended, [pd.Timestamp("2023-02-01")], items=[1, 2, 3])
    assert path[path["dates"] == "2023-02-01"]["prediction"].tolist() == pytest.approx(february["prediction"].tolist())


def test_no_stock_cap_after_the_stock_data_ends(forecaster):
    catalog = stocked_catalog()
    capped = forecaster.predict(catalog, [pd.Timestamp("2023-01-01")], items=[1, 2, 3])
    assert (capped["prediction"] <= 30.0 + 1e-6).all()  # what is left, with no refill known for January
    path = recursive_forecast(forecaster, catalog, LAST, 2)
    assert (path["prediction"] > 60).all()  # demand, not the leftover stock
