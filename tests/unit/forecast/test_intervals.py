"""Prediction intervals: levels, the residual split, widths by step, coverage, the bounds' rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast import make_predictions
from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.config import ConfigError
from salescast.forecast.intervals import (
    MONTHLY_REFITS,
    ORIGIN_STEP,
    Calibration,
    IntervalLevelError,
    calibration_residuals,
    conformal_quantile,
    fallback_half_width,
    interval_bounds,
    interval_columns,
    parse_levels,
)
from salescast.forecast.pipeline import Forecaster
from salescast.forecast.validation import validation_window

MONTHS = pd.date_range("2013-01-01", "2021-12-01", freq="MS")


def _seasonal_sales(items: int = 12, noise: float = 0.15, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(items):
        level = (20.0, 300.0, 5000.0)[item % 3]
        for month in MONTHS:
            seasonal = 1 + 0.3 * np.sin(2 * np.pi * month.month / 12)
            rows.append((month, item, level * seasonal * (1 + noise * rng.normal())))
    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def _random_walks(items: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(items):
        path = 1000.0 + np.cumsum(rng.normal(0, 40.0, len(MONTHS)))
        rows += [(month, item, max(value, 0.0)) for month, value in zip(MONTHS, path, strict=True)]
    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def test_levels_parse_from_lists_and_strings_and_bad_ones_say_why():
    assert parse_levels([95, 80, 80]) == (80.0, 95.0)
    assert parse_levels("80, 97.5") == (80.0, 97.5)
    assert parse_levels(None) == ()
    assert interval_columns((80.0, 97.5)) == ["lo_80", "hi_80", "lo_97.5", "hi_97.5"]
    for bad, words in (([0], "between 0 and 100"), ([100], "between 0 and 100"), ("80,x", "not a number"),
                       ("80,", "comma-separated"), ([True], "not a number"), ({"a": 1}, "not a number")):  # fmt: skip
        with pytest.raises(IntervalLevelError, match=words):
            parse_levels(bad)


def test_config_checks_levels_and_method(tmp_path):
    sales = _seasonal_sales(3)
    base = {"data": {"sales": sales}, "start_test": "2021-01-01", "model": "Ridge"}
    with pytest.raises(ConfigError, match=r"'intervals'.*between 0 and 100"):
        make_predictions(base | {"intervals": [80, 120]})
    with pytest.raises(ConfigError, match="native"):
        make_predictions(base | {"intervals": [80], "interval_method": "native"})
    with pytest.raises(ConfigError, match="needs 'intervals'"):
        make_predictions(base | {"interval_method": "conformal"})
    assert list(make_predictions(base).columns) == ["dates", "item_id", "prediction"]


def test_conformal_quantile_is_the_finite_sample_rank():
    errors = np.arange(1.0, 11.0)  # n = 10
    assert conformal_quantile(errors, 80) == 9.0  # ⌈11·0.8⌉ = 9
    assert conformal_quantile(errors, 95) == 10.0  # ⌈11·0.95⌉ = 11 > n: the largest
    assert np.isnan(conformal_quantile(np.array([]), 80))


def test_residual_split_once_one_fit_before_the_window_and_each_step_its_own_errors():
    catalog = catalog_from_frames(_seasonal_sales(4))
    history = catalog.months()[:-12]
    window = validation_window(history, 24, 12, ORIGIN_STEP)
    residuals, description = calibration_residuals(Forecaster("Ridge").fresh, catalog, history, "once")
    one = residuals[residuals["step"] == 1]
    assert sorted(one["dates"].unique()) == window.months  # every window month calibrates step 1
    assert (residuals["fit_end"] == window.fit_months[-1]).all()  # one fit, before the window
    assert residuals["dates"].max() <= history[-1]  # nothing from after the training months
    later = residuals[residuals["step"] >= 2]
    assert set(later["step"]) == set(range(2, 13))
    # step h's errors are the h-th months of the paths from the window's origins
    origins = window.origins
    assert set(later.loc[later["step"] == 12, "dates"]) == {origin + pd.DateOffset(months=12) for origin in origins}
    assert description["first_month"] == window.months[0].strftime("%Y-%m")


def test_residual_split_monthly_refits_before_each_month():
    catalog = catalog_from_frames(_seasonal_sales(3))
    history = catalog.months()[:-12]
    residuals, _ = calibration_residuals(Forecaster("Ridge").fresh, catalog, history, "monthly")
    one = residuals[residuals["step"] == 1]
    months = sorted(one["dates"].unique())
    assert months == history[-MONTHLY_REFITS:]
    gaps = (one["dates"].dt.year - one["fit_end"].dt.year) * 12 + one["dates"].dt.month - one["fit_end"].dt.month
    assert (gaps == 1).all()  # each month's model was fitted through the month before it


def test_widths_grow_with_the_step_on_a_random_walk():
    catalog = catalog_from_frames(_random_walks())
    train = catalog.months()[:-12]
    forecaster = Forecaster("PrevMonthSale").fit(catalog, train).calibrate(catalog, train)
    path = forecaster.forecast(catalog, train[-1], 12, levels=[80, 95])
    path["width"] = path["hi_80"] - path["lo_80"]
    widths = path.pivot(index="item_id", columns="dates", values="width")
    assert (np.diff(widths.to_numpy(), axis=1) >= -1e-9).all()
    ratio = widths.iloc[:, -1] / widths.iloc[:, 0]  # a random walk's error grows like √h: √12 ≈ 3.5
    assert (ratio > 1.5).all() and ratio.median() > 2
    assert ((path["hi_95"] - path["lo_95"]) >= path["width"] - 1e-9).all()


@pytest.mark.parametrize("refit", ["once", "monthly"])
def test_one_step_coverage_is_near_nominal_on_a_simulated_series(refit):
    sales = _seasonal_sales(24, seed=3)
    config = {"data": {"sales": sales}, "start_test": "2020-01-01", "model": "Ridge", "refit": refit}
    predictions = make_predictions(config | {"intervals": [80, 95]})
    assert list(predictions.columns) == ["dates", "item_id", "prediction", "lo_80", "hi_80", "lo_95", "hi_95"]
    merged = predictions.assign(dates=pd.to_datetime(predictions["dates"])).merge(sales, on=["dates", "item_id"])
    for level in (80, 95):
        inside = (merged["sales"] >= merged[f"lo_{level}"]) & (merged["sales"] <= merged[f"hi_{level}"])
        assert abs(inside.mean() * 100 - level) <= 6, (level, inside.mean())
    assert (merged["lo_80"] <= merged["prediction"]).all() and (merged["prediction"] <= merged["hi_80"]).all()
    # the intervals do not change the point forecast
    plain = make_predictions(config)
    assert np.allclose(plain["prediction"], predictions["prediction"])


def test_bounds_are_never_negative_and_fallback_rows_get_the_stated_width():
    sales = _seasonal_sales(3, noise=0.8)
    sales["sales"] = sales["sales"].clip(lower=0.0)
    sales.loc[sales["item_id"] == 0, "sales"] *= 0.01  # an item selling almost nothing
    new = pd.DataFrame({"dates": MONTHS[-2:], "item_id": [99, 99], "sales": [7.0, 9.0]})
    sales = pd.concat([sales, new], ignore_index=True)
    predictions = make_predictions(
        {"data": {"sales": sales}, "start_test": "2021-11-01", "model": "Ridge", "intervals": [80]}
    ).set_index(["dates", "item_id"])
    assert (predictions[["lo_80", "hi_80"]] >= 0).all().all()
    assert (predictions.loc[("2021-11-01", 99), ["prediction", "lo_80", "hi_80"]] == 0).all()  # no sales before
    fallback = predictions.loc[("2021-12-01", 99)]  # one month of history: the fallback (last known sales 7)
    assert fallback["prediction"] == 7.0
    half = fallback["hi_80"] - fallback["prediction"]
    assert half == pytest.approx(fallback_half_width(np.array([7.0]), 80)[0])  # scale: its mean sales


def test_interval_bounds_apply_the_stock_cap_and_the_floor():
    residuals = pd.DataFrame(
        {"dates": MONTHS[:10], "item_id": 0, "step": 1, "fit_end": MONTHS[0], "scaled_error": np.arange(1.0, 11.0)}
    )
    calibration = Calibration("conformal", "once", residuals, pd.Series({0: 1.0}))
    bounds = interval_bounds(
        prediction=np.array([5.0, 5.0, 5.0]),
        steps=np.array([1, 1, 4]),
        scale=np.array([1.0, 1.0, 1.0]),
        fallback=np.zeros(3, dtype=bool),
        no_history=np.zeros(3, dtype=bool),
        cap=np.array([np.nan, 8.0, np.nan]),
        calibration=calibration,
        levels=[80],
    )
    assert bounds["lo_80"].tolist() == [0.0, 0.0, 0.0]  # 5 − 9 floored at 0
    assert bounds["hi_80"][:2].tolist() == [14.0, 8.0]  # the cap binds the upper bound
    assert bounds["hi_80"][2] == pytest.approx(5.0 + 9.0 * 2.0)  # beyond the calibrated step: × √(4/1)
