"""make_predictions end to end on small CSV sets written in each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast import make_predictions
from salescast.forecast.catalog import DataValidationError
from salescast.forecast.config import ConfigError

MONTHS = pd.date_range("2019-01-01", "2021-12-01", freq="MS")


def _write_sales(folder, drop=()) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for item, level in ((10, 100.0), (20, 1000.0), (30, 50.0)):
        for month in MONTHS:
            seasonal = 1 + 0.3 * np.sin(2 * np.pi * month.month / 12)
            rows.append((month.strftime("%Y-%m-%d"), item, level * seasonal * (1 + 0.02 * rng.normal())))
    rows.append(("2021-10-01", 40, 7.0))  # a new item with two months of history
    rows.append(("2021-11-01", 40, 9.0))
    rows.append(("2021-12-01", 40, 8.0))
    frame = pd.DataFrame(rows, columns=["dates", "item_id", "sales"])
    frame = frame[~frame.apply(lambda row: (row["dates"], row["item_id"]) in drop, axis=1)]
    frame.sample(frac=1.0, random_state=1).to_csv(folder / "sales.csv", index=False)
    return frame


def _config(**overrides) -> dict:
    return {"data": {"sales": "sales.csv"}, "start_test": "2021-07-01", "model": "Ridge"} | overrides


@pytest.mark.parametrize("model", ["PrevMonthSale", "SameMonthLastYearSales", "ThreeMonthMean", "Ridge", "LightGBM"])
def test_every_test_pair_gets_one_prediction_in_the_contract_format(tmp_path, model):
    sales = _write_sales(tmp_path, drop={("2021-08-01", 20)})
    predictions = make_predictions(_config(model=model), base_dir=tmp_path)
    expected = sales[sales["dates"] >= "2021-07-01"].sort_values(["dates", "item_id"], ignore_index=True)
    assert list(predictions.columns) == ["dates", "item_id", "prediction"]
    assert predictions[["dates", "item_id"]].equals(expected[["dates", "item_id"]])
    assert predictions.index.equals(pd.RangeIndex(len(expected)))
    assert predictions["prediction"].notna().all() and (predictions["prediction"] >= 0).all()


def test_gap_and_short_history_use_the_documented_fallback(tmp_path):
    _write_sales(tmp_path, drop={("2021-08-01", 20)})
    predictions = make_predictions(_config(), base_dir=tmp_path).set_index(["dates", "item_id"])["prediction"]
    sales = pd.read_csv(tmp_path / "sales.csv").set_index(["dates", "item_id"])["sales"]
    # September after the missing August: last_month is missing, so the last known sales (July) is used.
    assert predictions[("2021-09-01", 20)] == pytest.approx(sales[("2021-07-01", 20)])
    # The new item: no model features yet → its previous month; its first month → 0.
    assert predictions[("2021-11-01", 40)] == 7.0
    assert predictions[("2021-10-01", 40)] == 0.0


def test_ridge_beats_last_month_on_seasonal_data(tmp_path):
    sales = _write_sales(tmp_path)
    actual = sales[sales["dates"] >= "2021-07-01"].query("item_id != 40").sort_values(["dates", "item_id"])
    errors = {}
    for model in ("PrevMonthSale", "Ridge"):
        predicted = make_predictions(_config(model=model), base_dir=tmp_path).query("item_id != 40")
        errors[model] = np.sqrt(np.mean((predicted["prediction"].to_numpy() - actual["sales"].to_numpy()) ** 2))
    assert errors["Ridge"] < 0.5 * errors["PrevMonthSale"]


def test_stock_caps_predictions_at_the_available_stock(tmp_path):
    sales = _write_sales(tmp_path)
    sold_by_july = sales.query("item_id == 10 and dates < '2021-08-01'")["sales"].sum()
    stock = pd.DataFrame(
        {
            "dates": ["2019-01-02", "2019-01-02", "2021-11-05"],
            "item_id": [20, 10, 10],
            "refill": [1e9, sold_by_july, 1e9],
        }
    )
    stock.to_csv(tmp_path / "stock.csv", index=False)
    config = _config(data={"sales": "sales.csv", "stock": "stock.csv"}, features=["same_month_last_year", "stock"])
    predictions = make_predictions(config, base_dir=tmp_path).set_index(["dates", "item_id"])["prediction"]
    assert predictions[("2021-08-01", 10)] == 0.0  # item 10 sold out in July, no refill until November
    assert predictions[("2021-08-01", 30)] > 20  # item 30 is not in the stock file: not capped
    assert predictions[("2021-12-01", 10)] > 50  # refilled in November
    assert predictions[("2021-08-01", 20)] > 500


def test_duplicate_rows_are_rejected(tmp_path):
    sales = _write_sales(tmp_path)
    pd.concat([sales, sales.iloc[[5]]]).to_csv(tmp_path / "sales.csv", index=False)
    with pytest.raises(DataValidationError, match="share a \\(dates, item_id\\) key"):
        make_predictions(_config(), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model": "Prophet"}, "valid models are .*Ridge"),
        ({"features": ["last_month", "weather"]}, "valid features are"),
        ({"start_test": "2021-07-15"}, "first day of a month"),
        ({"start_test": "2030-01-01"}, "after the last month of sales"),
        ({"start_test": "2019-01-01"}, "no training months"),
        ({"horizon": 3}, "unknown configuration key"),
        ({"data": {"sales": "nope.csv"}}, "does not exist"),
        ({"features": ["last_month", "marketing"]}, "data.marketing"),
        ({"model_params": {"depth": 3}}, "has no parameter"),
    ],
)
def test_bad_configuration_explains_itself(tmp_path, overrides, message):
    _write_sales(tmp_path)
    with pytest.raises((ConfigError, DataValidationError, ValueError), match=message):
        make_predictions(_config(**overrides), base_dir=tmp_path)


def test_forecaster_pickles_and_forecasts_past_the_last_month_for_every_item(tmp_path):
    import pickle

    from salescast.forecast.catalog import load_catalog
    from salescast.forecast.pipeline import Forecaster

    _write_sales(tmp_path)
    catalog = load_catalog({"sales": "sales.csv"}, base_dir=tmp_path)
    fitted = Forecaster("LightGBM").fit(catalog, catalog.months()[:-6])
    restored = pickle.loads(pickle.dumps(fitted))
    future = restored.predict(catalog, [pd.Timestamp("2022-01-01")])
    assert future["item_id"].tolist() == [10, 20, 30, 40]
    assert future["prediction"].notna().all()
    pd.testing.assert_frame_equal(future, fitted.predict(catalog, [pd.Timestamp("2022-01-01")]))
    frame = restored.feature_frame(catalog, [pd.Timestamp("2021-12-01")], items=[10, 99])
    assert frame["item_id"].tolist() == [10, 99] and np.isnan(frame.loc[1, "last_month"])
