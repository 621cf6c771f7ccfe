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


# True parameters far from the optimizer's start (a = b = c = g = 0.25, d = e = 0) and from the generator's
# defaults (a, b, c, d, e = 0.3, 0.2, 0.5, 0.2, 1.5), in other units: spend 2,000…8,000 with a lift of 5e-5 per
# unit (10…40 %), prices 200…5,000, tight objectives (big June pushes), weekly refills.
OTHER_TRUTH = {
    "a": 0.1,
    "b": 0.15,
    "c": 0.75,
    "d": 5e-5,
    "e": 2.2,
    "marketing_low": 2000.0,
    "marketing_high": 8000.0,
    "price_low": 200.0,
    "price_high": 5000.0,
    "objective_low": 1.0,
    "objective_high": 1.15,
    "refill_days": "weekly",
    "noise": 0.04,
}


@pytest.fixture(scope="module")
def other_truth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("other_truth")
    generate_sales_data(folder, seed=1, **OTHER_TRUTH)
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


def test_other_true_parameters_are_recovered_from_noisy_censored_sales_in_other_units(other_truth):
    forecaster, merged = other_truth
    params = forecaster.model_.params_
    for name, tolerance in (("a", 0.05), ("b", 0.03), ("c", 0.06), ("e", 0.06)):
        assert params[name] == pytest.approx(OTHER_TRUTH[name], abs=tolerance), name
    assert params["d"] == pytest.approx(OTHER_TRUTH["d"], rel=0.05)  # per unit of a spend in the thousands
    assert abs(params["g"]) < 0.03  # the process has no last-month term
    assert merged["objective_push"].any() and merged["stockout"].any()


def _window(
    sales: list[float],
    stockout_lags: tuple[int, ...] = (),
    pushed_lags: tuple[int, ...] = (),
    remaining: dict[int, float] | None = None,
) -> pd.DataFrame:
    """One row: sales at lags 1 … len(sales) (lag 1 first), stockout and push flags, Junes' remaining by lag."""
    row = {column("sales", k): value for k, value in enumerate(sales, start=1)}
    row |= {column("stockout", k): float(k in stockout_lags) for k in range(1, len(sales) + 1)}
    row |= {column("pushed", k): float(k in pushed_lags) for k in range(1, len(sales) + 1)}
    row |= {column("remaining", k): (remaining or {}).get(k, 0.0) for k in range(len(sales) + 1)}
    return pd.DataFrame([row])


def _repeating_year(model: CustomModel) -> CustomModel:
    model.params_ = {"a": 1.0}  # v1(M) = v1(M−12): every month repeats last year
    return model


YEAR = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1100.0, 1200.0]
HISTORY = YEAR * 2 + YEAR[:6]  # lag 1 first: 30 months, the same year over and over; lag 12 = 1200


def test_a_stockout_pair_is_split_by_expected_demand_and_its_unmet_rest_is_added_back():
    model = _repeating_year(CustomModel(features=("same_month_last_year", "stock")))
    history = list(HISTORY)
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


OBJECTIVES = ("same_month_last_year", "stock", "objectives")


def test_a_june_is_pushed_on_its_own_demand_before_may_unmet_rest_is_added():
    model = _repeating_year(CustomModel(features=OBJECTIVES))
    history = list(HISTORY)
    history[0] = 60.0  # May (lag 1) ran out: 60 sold of its demand 100 (last May)
    # June's own demand: max(last June's 1200, remaining 1500) = 1500; plus May's unmet 40
    assert model.predict(_window(history, (1,), remaining={0: 1500.0}))[0] == pytest.approx(1540.0)


def test_a_july_after_a_pushed_june_loses_the_extra_floored_at_zero_and_sells_june_unmet_rest():
    model = _repeating_year(CustomModel(features=OBJECTIVES))
    history = list(HISTORY)
    history[0] = 900.0  # June (lag 1): expected 100, pushed to its remaining 1500, but only 900 in stock
    window = _window(history, stockout_lags=(1,), pushed_lags=(1,), remaining={1: 1500.0})
    # the push took 1500 − 100 = 1400 of July's 1200 (floored at 0); July sells June's unmet 1500 − 900
    assert model.predict(window)[0] == pytest.approx(600.0)
    history[0] = 1500.0  # the same June, in stock: July keeps nothing of its own and has no unmet rest
    assert model.predict(_window(history, pushed_lags=(1,), remaining={1: 1500.0}))[0] == pytest.approx(0.0)


def test_a_july_stockout_after_a_push_has_unmet_demand_net_of_the_payback():
    model = _repeating_year(CustomModel(features=OBJECTIVES))
    history = [100.0] * 30
    history[1] = 180.0  # June (lag 2): expected 100, pushed to 180 → July's own demand 100 − 80 = 20
    history[0] = 5.0  # July (lag 1) ran out after 5: unmet 15
    window = _window(history, stockout_lags=(1,), pushed_lags=(2,), remaining={2: 180.0})
    assert model.predict(window)[0] == pytest.approx(115.0)


def test_a_june_and_july_that_sold_only_the_remaining_keep_their_expected_levels():
    model = _repeating_year(CustomModel(features=OBJECTIVES))
    history = [100.0] * 30
    history[12], history[11] = 250.0, 0.0  # last June pushed 100 → 250, last July's 100 all paid back
    window = _window(history, pushed_lags=(13,), remaining={13: 250.0})
    assert model.predict(window)[0] == pytest.approx(100.0)  # not (250 + 0) / 2


def test_deep_in_the_window_a_floored_group_gives_its_other_months_the_rest():
    model = CustomModel(features=OBJECTIVES)
    history = [100.0] * 30
    # May (lag 28) sold 40 of 100; June (lag 27) was pushed to 250 and sold it plus May's 60; July paid all back
    history[27], history[26], history[25] = 40.0, 310.0, 0.0
    window = _window(history, stockout_lags=(28,), pushed_lags=(27,), remaining={27: 250.0})
    arrays = model._arrays(window)
    params = {"a": 1.0}
    level, _, _ = model._rebuild(arrays, params, model._multiplier(arrays, params))
    # too deep for the equations: each month expected at its neighbours' mean level, 100; June and July
    # demanded the remaining 250 at most (100 each kept), May the rest of 350 sold: 100
    np.testing.assert_allclose(level[0, 26:29], [100.0, 100.0, 100.0])
