"""engine: spark against the pandas engine on the same small generated catalog, in one shared local[2] session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast import make_predictions
from salescast.forecast.catalog import DataValidationError
from salescast.forecast.config import ConfigError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

START_TEST = "2021-07-01"


def _catalog(folder, n_items: int = 12, seed: int = 0) -> pd.DataFrame:
    """Seasonal items that start at different months, one with a gap, one new in the test period."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2018-07-01", "2021-12-01", freq="MS")
    rows = []
    for item in range(n_items):
        level = float(rng.uniform(20, 2000))
        start = int(rng.integers(0, 14))
        for position, month in enumerate(months[start:]):
            if item == 3 and month == pd.Timestamp("2021-08-01"):
                continue  # a gap in the test period
            seasonal = 1 + 0.3 * np.sin(2 * np.pi * month.month / 12)
            trend = 1 + 0.01 * position
            rows.append((month.strftime("%Y-%m-%d"), 100 + item, level * seasonal * trend * (1 + 0.05 * rng.normal())))
    rows += [("2021-10-01", 999, 7.0), ("2021-11-01", 999, 9.0), ("2021-12-01", 999, 8.0)]
    sales = pd.DataFrame(rows, columns=["dates", "item_id", "sales"]).sample(frac=1.0, random_state=1)
    sales.to_csv(folder / "sales.csv", index=False)
    promotion = sales[["dates", "item_id"]].assign(promotion=rng.integers(0, 2, len(sales)).astype(float))
    promotion.to_csv(folder / "exogenous.csv", index=False)
    return sales


def _both(config: dict, folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    pandas_result = make_predictions(config, base_dir=folder)
    spark_result = make_predictions({**config, "engine": "spark"}, base_dir=folder)
    return pandas_result, spark_result


def _assert_same(pandas_result: pd.DataFrame, spark_result: pd.DataFrame) -> None:
    assert list(spark_result.columns) == ["dates", "item_id", "prediction"]
    assert spark_result[["dates", "item_id"]].equals(pandas_result[["dates", "item_id"]])
    np.testing.assert_allclose(spark_result["prediction"], pandas_result["prediction"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("PrevMonthSale", {}),
        ("ThreeMonthMean", {"refit": "monthly"}),
        ("Ridge", {}),
        ("Ridge", {"refit": "monthly", "features": ["last_month", "same_month_last_year", "exogenous", "lag_2"]}),
        ("LightGBM", {"model_params": {"n_estimators": 30}}),
        ("AutoETS", {}),
    ],
)
def test_spark_gives_the_pandas_predictions(spark, tmp_path, model, extra):
    _catalog(tmp_path)
    data = {"sales": "sales.csv"}
    if "exogenous" in extra.get("features", []):
        data["exogenous"] = "exogenous.csv"
    config = {"data": data, "start_test": START_TEST, "model": model, **extra}
    _assert_same(*_both(config, tmp_path))


def test_parquet_sources_and_string_ids(spark, tmp_path):
    sales = _catalog(tmp_path)
    sales = sales.assign(item_id="sku-" + sales["item_id"].astype(str))
    sales.to_parquet(tmp_path / "sales.parquet")
    sales.to_csv(tmp_path / "sales.csv", index=False)
    pandas_result = make_predictions({"data": {"sales": "sales.csv"}, "start_test": START_TEST}, base_dir=tmp_path)
    spark_result = make_predictions(
        {"data": {"sales": str(tmp_path / "sales.parquet")}, "start_test": START_TEST, "engine": "spark"}
    )
    _assert_same(pandas_result, spark_result)


def _pandas_error(config: dict, folder) -> str:
    with pytest.raises((DataValidationError, ConfigError)) as error:
        make_predictions(config, base_dir=folder)
    return str(error.value)


@pytest.mark.parametrize("defect", ["missing column", "duplicate key", "negative sales", "not a month", "bad number"])
def test_bad_input_gets_the_pandas_message(spark, tmp_path, defect):
    sales = _catalog(tmp_path, n_items=3)
    if defect == "missing column":
        sales = sales.rename(columns={"sales": "units"})
    elif defect == "duplicate key":
        sales = pd.concat([sales, sales.head(2)])
    elif defect == "negative sales":
        sales.iloc[4, 2] = -5.0
    elif defect == "not a month":
        sales.iloc[2, 0] = "2020-03-15"
    else:
        sales["sales"] = sales["sales"].astype(object)
        sales.iloc[1, 2] = "many"
    sales.to_csv(tmp_path / "sales.csv", index=False)
    config = {"data": {"sales": "sales.csv"}, "start_test": START_TEST}
    expected = _pandas_error(config, tmp_path)
    actual = _pandas_error({**config, "engine": "spark"}, tmp_path)
    # The same message; the offending rows that follow it are shown without the file's row numbers.
    assert actual.split(":\n")[0] == expected.split(":\n")[0]
    assert actual.count("\n") == expected.count("\n")


def test_an_item_that_cannot_fit_falls_back_alone_and_is_counted(spark, tmp_path):
    from salescast.forecast.config import parse_config
    from salescast.forecast.spark.pipeline import spark_predictions

    _catalog(tmp_path, n_items=4)
    sales = pd.read_csv(tmp_path / "sales.csv")
    # Item 777 has five months of history: the airline ARIMA cannot be estimated on it.
    short = pd.DataFrame(
        {"dates": pd.date_range("2021-02-01", "2021-12-01", freq="MS").strftime("%Y-%m-%d"), "item_id": 777}
    ).assign(sales=np.linspace(10, 20, 11))
    pd.concat([sales, short]).to_csv(tmp_path / "sales.csv", index=False)
    config = {"data": {"sales": "sales.csv"}, "start_test": START_TEST, "model": "ARIMA"}
    pandas_result = make_predictions(config, base_dir=tmp_path)
    predictions, report = spark_predictions(parse_config({**config, "engine": "spark"}), base_dir=tmp_path)
    frame = predictions.toPandas().assign(dates=lambda f: f["dates"].dt.strftime("%Y-%m-%d"))
    frame = frame.sort_values(["dates", "item_id"], ignore_index=True)
    _assert_same(pandas_result, frame[["dates", "item_id", "prediction"]])
    statuses = frame.drop_duplicates("item_id").set_index("item_id")["status"]
    assert statuses[777] == "no model"  # too short for the airline model
    assert statuses[999] == "no model"  # new in the test period
    assert (statuses.drop([777, 999]) == "ok").all()
    assert report["items_without_model"] == 2 and report["failed_items"] == 0
    assert report["rows"] == len(pandas_result)
    mine = frame[frame["item_id"] == 777].set_index("dates")["prediction"]
    assert mine["2021-08-01"] == pytest.approx(short.set_index("dates").loc["2021-07-01", "sales"])


def test_engine_and_spark_section_are_checked(spark, tmp_path):
    _catalog(tmp_path, n_items=2)
    config = {"data": {"sales": "sales.csv"}, "start_test": START_TEST}
    with pytest.raises(ConfigError, match="engine must be one of"):
        make_predictions({**config, "engine": "dask"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="configures engine: spark"):
        make_predictions({**config, "spark": {"spark.executor.memory": "1g"}}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="Auto"):
        make_predictions({**config, "engine": "spark", "model": "Auto"}, base_dir=tmp_path)


def test_the_pandas_engine_never_imports_pyspark(tmp_path):
    import subprocess
    import sys

    _catalog(tmp_path, n_items=2)
    code = (
        "import sys, salescast\n"
        "salescast.make_predictions({'data': {'sales': 'sales.csv'}, 'start_test': '2021-07-01'})\n"
        "assert 'pyspark' not in sys.modules, 'pyspark was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)


def test_an_item_that_raises_on_an_executor_falls_back_alone(spark, tmp_path):
    from salescast.forecast.catalog import load_catalog
    from salescast.forecast.pipeline import Forecaster, split_months
    from salescast.forecast.spark.data import load_spark_catalog
    from salescast.forecast.spark.groups import FAILED, GroupJob, predict_group
    from salescast.forecast.spark.pipeline import grouped

    class Poisoned(Forecaster):  # defined here: pickled by value to the executors
        def predict(self, catalog, months, *args, **kwargs):
            if 105 in set(catalog.items()):
                raise RuntimeError("item 105 is poisoned")
            return super().predict(catalog, months, *args, **kwargs)

    _catalog(tmp_path, n_items=8)
    catalog = load_catalog({"sales": "sales.csv"}, base_dir=tmp_path)
    train, test = split_months(catalog, pd.Timestamp(START_TEST))
    fitted = Poisoned("PrevMonthSale").fit(catalog, train)
    job = GroupJob(fitted, catalog.months()[0], tuple(train), tuple(test), "once", "long", fitted={None: fitted})
    spark_catalog = load_spark_catalog(spark, {"sales": str(tmp_path / "sales.csv")})
    schema = "dates timestamp_ntz, item_id long, prediction double, status string"
    # The job travels in the function's closure (cloudpickle, which ships the test's class by value).
    rows = grouped(spark_catalog, 2, lambda s, e: predict_group(s, e, job), schema).toPandas()
    statuses = rows.drop_duplicates("item_id").set_index("item_id")["status"]
    assert statuses[105].startswith(FAILED) and "poisoned" in statuses[105]
    assert (statuses.drop(105) == "ok").all()
    expected = Forecaster("PrevMonthSale").fit(catalog, train).predict(catalog, test)
    got = rows.assign(dates=pd.to_datetime(rows["dates"])).merge(expected, on=["dates", "item_id"])
    np.testing.assert_allclose(got["prediction_x"], got["prediction_y"])  # the fallback is last month's sales
    assert len(rows) == len(expected)


def test_a_file_rewritten_between_two_jobs_of_one_session_is_read_again(spark, tmp_path):
    _catalog(tmp_path, n_items=3)
    config = {"data": {"sales": "sales.csv"}, "start_test": START_TEST, "model": "PrevMonthSale", "engine": "spark"}
    before = make_predictions(config, base_dir=tmp_path)
    sales = pd.read_csv(tmp_path / "sales.csv")
    sales.assign(sales=sales["sales"] * 2).to_csv(tmp_path / "sales.csv", index=False)
    after = make_predictions(config, base_dir=tmp_path)
    np.testing.assert_allclose(after["prediction"], 2 * before["prediction"])
