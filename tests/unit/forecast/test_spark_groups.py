"""The Spark engine's group functions are plain pandas: a group's rows are the whole catalog's rows for its items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.pipeline import Forecaster, backtest_predictions
from salescast.forecast.spark.groups import (
    FAILED,
    GroupJob,
    fallback_predictions,
    group_catalog,
    isolated,
    predict_group,
)

MONTHS = pd.date_range("2019-01-01", "2021-12-01", freq="MS")


def _sales() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [
        (month, item, 100.0 * (1 + item) * (1 + 0.3 * np.sin(month.month)) + rng.normal())
        for item in range(5)
        for month in MONTHS[item * 3 :]  # items start at different months
    ]
    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def _job(model: str = "PrevMonthSale", refit: str = "once") -> GroupJob:
    train = tuple(month for month in MONTHS if month < pd.Timestamp("2021-07-01"))
    test = tuple(month for month in MONTHS if month >= pd.Timestamp("2021-07-01"))
    return GroupJob(Forecaster(model), MONTHS[0], train, test, refit, "long")


@pytest.mark.parametrize("model", ["ThreeMonthMean", "Ridge"])
def test_a_group_of_late_starting_items_gets_the_whole_catalog_s_predictions(model):
    sales = _sales()
    job = _job(model)
    whole = catalog_from_frames(sales)
    forecaster = Forecaster(model)
    expected = backtest_predictions(forecaster, whole, list(job.train), list(job.test), "once")
    if model == "Ridge":
        job = GroupJob(**{**job.__dict__, "fitted": {None: forecaster}})
    late = sales[sales["item_id"] >= 3]  # starts 9 months after the catalog
    got = predict_group(late, None, job)
    mine = expected[expected["item_id"] >= 3].sort_values(["dates", "item_id"], ignore_index=True)
    got = got.sort_values(["dates", "item_id"], ignore_index=True)
    np.testing.assert_allclose(got["prediction"], mine["prediction"], rtol=1e-12)
    assert (got["status"] == "ok").all()


def test_an_item_that_raises_gets_the_fallback_and_the_others_their_predictions():
    job = _job()
    catalog = group_catalog(_sales(), None, job)

    def compute(part):
        if 2 in part.items():
            raise FloatingPointError("item 2 cannot be computed")
        return predict_group(part.sales, None, job)

    got = isolated(catalog, compute, lambda part, reason: fallback_predictions(part, job.test, reason), [])
    assert len(got) == 5 * len(job.test)
    failed = got[got["status"].str.startswith(FAILED)]
    assert set(failed["item_id"]) == {2}
    assert "FloatingPointError: item 2 cannot be computed" in failed["status"].iloc[0]
    sales = catalog.sales.set_index(["item_id", "dates"])["sales"]
    for _, row in failed.iterrows():  # the pipeline's fallback: the last sales before the month
        assert row["prediction"] == sales[(2, row["dates"] - pd.DateOffset(months=1))]
    assert (got[got["item_id"] != 2]["status"] == "ok").all()


@pytest.mark.parametrize(
    ("master", "partitions"),
    [("local", 2), ("local[2]", 4), ("local[16]", 32), ("local[3,2]", 6), ("yarn", None), ("spark://h:7077", None)],
)
def test_a_local_master_gets_two_shuffle_partitions_per_core(master, partitions):
    from salescast.forecast.spark.session import local_shuffle_partitions

    assert local_shuffle_partitions(master) == partitions
