"""Recursive horizon forecasts: each step reads the previous step's prediction; the stock history is kept,
and only months without known refills go uncapped."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames, load_catalog
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.models import MODELS
from salescast.forecast.pipeline import Forecaster
from salescast.lifecycle.months import shift_month
from salescast.serving.forecasts import recursive_forecast

MONTHS = pd.date_range("2019-01-01", "2022-12-01", freq="MS")
LAST = pd.Timestamp("2022-12-01")
JANUARY, FEBRUARY = pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-01")
ITEMS = [1, 2, 3]
HISTORY = ["last_month", "same_month_last_year", "last_year_average", "growth"]


def stocked_catalog(*, january_refill: float | None = None, stockout_in_last_month: bool = False):
    """Three items selling ~100 a month; refills equal sales after a first delivery of 130 (30 always left).

    ``january_refill``: a delivery already scheduled for January 2023 (after the last month of sales).
    ``stockout_in_last_month``: item 1 gets only 30 in December 2022, so it sells the 60 it has (demand
    ~100) and closes at 0 — a stockout whose unmet demand is bought in January.
    """
    rng = np.random.default_rng(0)
    sales, stock = [], []
    for item in ITEMS:
        for index, month in enumerate(MONTHS):
            value = round(100 * (1 + 0.2 * np.sin(month.month + item)) + rng.normal(0, 2), 2)
            refill = value + (30.0 if index == 0 else 0.0)
            if stockout_in_last_month and item == 1 and month == LAST:
                value, refill = 60.0, 30.0
            sales.append((month, item, value))
            stock.append((month, item, refill))
        if january_refill is not None:
            stock.append((JANUARY, item, january_refill))
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
    january = path[path["dates"] == JANUARY].rename(columns={"prediction": "sales"})
    extended = dataclasses.replace(catalog, sales=pd.concat([catalog.sales, january], ignore_index=True))
    february = forecaster.predict(extended, [FEBRUARY], items=ITEMS)
    assert path[path["dates"] == FEBRUARY]["prediction"].tolist() == pytest.approx(february["prediction"].tolist())


def test_a_month_without_known_refills_is_not_capped_and_step_one_is_the_month_forecast(forecaster):
    catalog = stocked_catalog()
    month = forecaster.predict(catalog, [JANUARY], items=ITEMS)
    assert (month["prediction"] > 60).all()  # demand, not the 30 left: no refill for January is known
    path = recursive_forecast(forecaster, catalog, LAST, 2)
    assert path[path["dates"] == JANUARY]["prediction"].tolist() == month["prediction"].tolist()
    assert (path["prediction"] > 60).all()


def test_a_refill_already_scheduled_still_caps_its_month_and_the_next_month_is_uncapped(forecaster):
    catalog = stocked_catalog(january_refill=10.0)
    path = recursive_forecast(forecaster, catalog, LAST, 2)
    january = path[path["dates"] == JANUARY]["prediction"]
    assert january.tolist() == pytest.approx([40.0] * 3)  # 30 left + 10 delivered: nothing more can sell
    assert january.tolist() == forecaster.predict(catalog, [JANUARY], items=ITEMS)["prediction"].tolist()
    assert (path[path["dates"] == FEBRUARY]["prediction"] > 60).all()  # February's refills are unknown


def test_the_stock_history_keeps_the_stockout_correction_at_every_step():
    # Regression: the horizon path used to drop the whole stock table past its last row, so a champion
    # with ``stock`` lost the unmet demand of a stockout in the last month, at step 1 already.
    catalog = stocked_catalog(stockout_in_last_month=True)
    model = Forecaster("CustomModel", features=[*HISTORY, "stock"]).fit(catalog, MONTHS[-12:])
    month = model.predict(catalog, [JANUARY], items=ITEMS).set_index("item_id")["prediction"]
    path = recursive_forecast(model, catalog, LAST, 2)
    steps = path.pivot(index="item_id", columns="dates", values="prediction")
    assert steps[JANUARY].tolist() == month.tolist()

    blind = dataclasses.replace(catalog, stock=catalog.stock.iloc[:0])  # what the old path forecast from
    without_stock = model.predict(blind, [JANUARY], items=ITEMS).set_index("item_id")["prediction"]
    # Item 1 sold 60 of a ~100 demand in December and buys the ~40 it missed in January on top of its own.
    assert steps.loc[1, JANUARY] > without_stock[1] + 30
    assert steps.loc[[2, 3], JANUARY].tolist() == pytest.approx(without_stock[[2, 3]].tolist(), rel=1e-6)
    # February is again ~demand: the missed units were bought in January, nothing is added twice.
    assert 80 < steps.loc[1, FEBRUARY] < 125


ALL_FEATURES = [*HISTORY, "marketing", "price", "stock", "objectives"]


@pytest.fixture(scope="module")
def generated_catalog(tmp_path_factory):
    """Eight generated items with every source, stockouts in a third of the months (some in the last one)."""
    folder = tmp_path_factory.mktemp("generated")
    generate_sales_data(folder, seed=0, items=8, months=48, shortage_probability=0.3)
    sources = ("sales", "marketing", "price", "stock", "objectives")
    return load_catalog({name: folder / f"{name}.csv" for name in sources})


@pytest.mark.parametrize("model", sorted(MODELS))
def test_step_one_is_the_next_month_forecast_for_every_model_with_all_eight_features(model, generated_catalog):
    months = generated_catalog.months()
    last = months[-1]
    forecaster = Forecaster(model, features=ALL_FEATURES).fit(generated_catalog, months[-13:-1])
    items = generated_catalog.items()
    following = forecaster.predict(generated_catalog, [shift_month(last, 1)], items=items)
    path = recursive_forecast(forecaster, generated_catalog, last, 2)
    assert path[path["dates"] == shift_month(last, 1)]["prediction"].tolist() == following["prediction"].tolist()
