"""Forecasts do not depend on the units of the data: spend in any scale, prices in any currency, sales in any unit.

Each learned model with all eight features is fitted on one generated set and on the same set in other units;
the predictions must agree (sales units: scaled by the same factor).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.config import DEFAULT_FEATURES
from salescast.forecast.evaluate import EXOGENOUS_ORDER
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.pipeline import Forecaster, split_months

SOURCES = ("sales", "marketing", "price", "stock", "objectives")
FEATURES = (*DEFAULT_FEATURES, *EXOGENOUS_ORDER)
START_TEST = pd.Timestamp("2021-07-01")
RUNS = (("Ridge", None), ("Ridge", "item_level"), ("LightGBM", "auto"), ("CustomModel", "auto"))


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("units")
    generate_sales_data(folder, seed=3, items=20, months=48, shortage_probability=0.08)
    return {name: pd.read_csv(folder / f"{name}.csv") for name in SOURCES}


def _scaled(frames: dict[str, pd.DataFrame], factors: dict[tuple[str, str], float]) -> dict[str, pd.DataFrame]:
    out = {name: frame.copy() for name, frame in frames.items()}
    for (name, column), factor in factors.items():
        out[name][column] = out[name][column] * factor
    return out


def _predict(frames: dict[str, pd.DataFrame], model: str, scaling: str | None) -> np.ndarray:
    catalog = catalog_from_frames(**frames)
    train, test = split_months(catalog, START_TEST)
    forecaster = Forecaster(model, FEATURES, target_scaling=scaling).fit(catalog, train)
    return forecaster.predict(catalog, test)["prediction"].to_numpy()


@pytest.mark.slow
@pytest.mark.parametrize(("model", "scaling"), RUNS, ids=[f"{m}-{s}" for m, s in RUNS])
def test_predictions_do_not_depend_on_the_units(frames, model, scaling):
    base = _predict(frames, model, scaling)
    spend = _predict(_scaled(frames, {("marketing", "marketing"): 1000.0}), model, scaling)
    currency = _predict(_scaled(frames, {("price", "price"): 0.01}), model, scaling)
    units = {("sales", "sales"): 1000.0, ("stock", "refill"): 1000.0, ("objectives", "objective"): 1000.0}
    sales_unit = _predict(_scaled(frames, units), model, scaling)
    np.testing.assert_allclose(spend, base, rtol=1e-5, atol=1e-6 * base.mean())
    np.testing.assert_allclose(currency, base, rtol=1e-5, atol=1e-6 * base.mean())
    np.testing.assert_allclose(sales_unit, 1000.0 * base, rtol=1e-5, atol=1e-3 * base.mean())
