"""The pyfunc wrapper: monthly history in, one forecast per item out; stored tables and input columns."""

from __future__ import annotations

import pandas as pd
import pytest

from salescast.forecast.catalog import load_catalog
from salescast.forecast.generate import generate_sales_data
from salescast.forecast.pipeline import Forecaster
from salescast.lifecycle.fingerprint import catalog_until
from salescast.lifecycle.model import ForecasterModel, context_tables


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    generate_sales_data(folder, seed=3, items=4, months=30)
    catalog = load_catalog({"sales": folder / "sales.csv", "marketing": folder / "marketing.csv"})
    months = catalog.months()
    catalog = catalog_until(catalog, months[-1])
    features = ["last_month", "same_month_last_year", "marketing"]
    forecaster = Forecaster("Ridge", features).fit(catalog, months[-4:-1])
    return catalog, ForecasterModel(forecaster, context_tables(catalog, features)), months


def test_forecasts_the_month_after_the_history_for_every_item(fitted):
    catalog, model, months = fitted
    history = catalog.sales[catalog.sales["dates"] < months[-1]]
    forecast = model.predict(None, history)
    assert list(forecast.columns) == ["dates", "item_id", "prediction"]
    assert (forecast["dates"] == months[-1]).all()
    assert sorted(forecast["item_id"]) == sorted(catalog.sales["item_id"].unique())
    assert forecast["prediction"].notna().all()
    expected = model.forecaster.predict(catalog, [months[-1]]).sort_values("item_id", ignore_index=True)
    assert forecast.sort_values("item_id", ignore_index=True)["prediction"].tolist() == pytest.approx(
        expected["prediction"].tolist()
    )


def test_month_parameter_and_marketing_from_the_input(fitted):
    catalog, model, months = fitted
    history = catalog.sales[catalog.sales["dates"] < months[-1]]
    earlier = model.predict(None, history, params={"month": months[-2].strftime("%Y-%m")})
    assert (earlier["dates"] == months[-2]).all()
    plan = pd.DataFrame({"dates": months[-1], "item_id": history["item_id"].unique(), "marketing": 50.0})
    with_campaign = model.predict(None, pd.concat([history, plan], ignore_index=True))
    assert not with_campaign["prediction"].equals(model.predict(None, history)["prediction"])


def test_missing_columns_are_named(fitted):
    _, model, _ = fitted
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['sales'\]"):
        model.predict(None, pd.DataFrame({"dates": ["2020-01-01"], "item_id": [1]}))
