"""CustomModel on generated data: parameters recovered, stockouts and June pushes rebuilt, rows it cannot read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import load_catalog
from salescast.forecast.config import DEFAULT_FEATURES, parse_config
from salescast.forecast.evaluate import EXOGENOUS_ORDER
from salescast.forecast.features.structural_history import column
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.models.custom import CustomModel
from salescast.forecast.pipeline import Forecaster, split_months

SOURCES = ("sales", "marketing", "price", "stock", "objectives")
FEATURES = (*DEFAULT_FEATURES, *EXOGENOUS_ORDER)  # all eight


def _fit_and_predict(folder, start_test: str) -> tuple[Forecaster, pd.DataFrame]:
    config = parse_config({"data": {name: f"{name}.csv" for name in SOURCES}, "start_test": start_test})
    catalog = load_catalog(config.data, base_dir=folder)
    train, test = split_months(catalog, config.start_test)
    forecaster = Forecaster("CustomModel", FEATURES).fit(catalog, train)
    predictions = forecaster.predict(catalog, test)
    truth = pd.read_csv(folder / "truth.csv", parse_dates=["dates"]).sort_values(["item_id", "dates"])
    truth["after_stockout"] = truth.groupby("item_id")["unmet"].shift(1) > 0
    truth["after_push"] = truth.groupby("item_id")["objective_shift"].shift(1) > 0
    return forecaster, predictions.merge(truth, on=["dates", "item_id"], validate="one_to_one")


@pytest.fixture(scope="module")
def noiseless(tmp_path_factory):
    folder = tmp_path_factory.mktemp("noiseless")
    generate_sales_data(folder, seed=5, items=30, months=60, noise=0.0)
    return _fit_and_predict(folder, "2022-07-01")


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("noisy")
    generate_sales_data(folder, seed=0)
    return _fit_and_predict(folder, "2023-07-01")


def test_without_noise_the_predictions_reproduce_sales(noiseless):
    _, merged = noiseless
    relative = (merged["prediction"] - merged["sales"]).abs() / merged["sales"]
    assert relative.median() < 0.002
    assert relative.max() < 0.05


def test_without_noise_the_month_after_a_stockout_sells_the_unmet_demand_too(noiseless):
    _, merged = noiseless
    after = merged[merged["after_stockout"]]
    assert len(after) >= 3
    np.testing.assert_allclose(after["prediction"], after["sales"], rtol=0.01)


def test_without_noise_july_gives_back_the_june_push(noiseless):
    _, merged = noiseless
    july = merged[merged["after_push"]]
    assert len(july) >= 5
    np.testing.assert_allclose(july["prediction"], july["sales"], rtol=0.015)


def test_without_noise_the_multipliers_are_recovered(noiseless):
    forecaster, _ = noiseless
    params = forecaster.model_.params_
    assert params["d"] == pytest.approx(0.2, abs=0.005)
    assert params["e"] == pytest.approx(1.5, abs=0.02)


def test_the_generator_parameters_are_recovered_from_noisy_censored_sales(noisy):
    forecaster, _ = noisy
    params = forecaster.model_.params_
    for name, true, tolerance in (("a", 0.3, 0.06), ("b", 0.2, 0.03), ("c", 0.5, 0.06), ("d", 0.2, 0.01)):
        assert params[name] == pytest.approx(true, abs=tolerance), name
    assert params["e"] == pytest.approx(1.5, abs=0.05)
    assert abs(params["g"]) < 0.05  # the process has no last-month term


def _window(sales: list[float], stockout_lags: tuple[int, ...] = ()) -> pd.DataFrame:
    """One row: sales at lags 1 … len(sales) (lag 1 first) and stockout flags."""
    row = {column("sales", k): value for k, value in enumerate(sales, start=1)}
    row |= {column("stockout", k): float(k in stockout_lags) for k in range(1, len(sales) + 1)}
    return pd.DataFrame([row])


def test_a_stockout_pair_is_split_by_expected_demand_and_its_unmet_rest_is_added_back():
    model = CustomModel(features=("same_month_last_year", "stock"))
    model.params_ = {"a": 1.0}  # v1(M) = v1(M−12): every month repeats last year
    year = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1100.0, 1200.0]
    history = year * 2 + year[:6]  # lag 1 first: 30 months, the same year over and over; lag 12 = 1200
    assert model.predict(_window(history))[0] == pytest.approx(1200.0)
    # lag 13 (demand 100) ran out after 40; lag 12 (demand 1200) sold its own 1200 and the unmet 60
    censored = history.copy()
    censored[12], censored[11] = 40.0, 1260.0
    assert model.predict(_window(censored, stockout_lags=(13,)))[0] == pytest.approx(1200.0)
    assert model.predict(_window(censored))[0] == pytest.approx(1260.0)  # unflagged, the censored sales stay
    # a stockout in M−1: sold 50 of its demand 100, so M sells its own 1200 plus the unmet 50
    at_lag_one = history.copy()
    at_lag_one[0] = 50.0
    assert model.predict(_window(at_lag_one, stockout_lags=(1,)))[0] == pytest.approx(1250.0)


def test_a_row_without_the_history_its_terms_read_gets_no_prediction():
    model = CustomModel(features=("same_month_last_year", "growth"))
    model.params_ = {"a": 0.5, "c": 0.5}
    assert model.predict(_window([100.0] * 15))[0] == pytest.approx(100.0)
    assert np.isnan(model.predict(_window([100.0] * 14))[0])  # growth needs M−13 … M−15 (the pipeline falls back)
