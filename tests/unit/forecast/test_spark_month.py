"""A Spark group of the training job's month is plain pandas: its rows are the whole catalog's, item by item."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.metrics import seasonal_naive_scale
from salescast.forecast.pipeline import Forecaster
from salescast.forecast.spark.groups import FAILED
from salescast.forecast.spark.month import MonthJob, assemble_local, score_month_group

MONTHS = pd.date_range("2019-01-01", "2021-12-01", freq="MS")
TEST = pd.Timestamp("2021-12-01")
TRAIN = tuple(month for month in MONTHS if month < TEST)[-18:]


def _sales() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = [
        (month, item, 50.0 * (1 + item) * (1 + 0.3 * np.sin(month.month)) + rng.normal())
        for item in range(4)
        for month in MONTHS[item * 4 :]
    ]
    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def _job(candidate: Forecaster, fitted: bool, champion=None) -> MonthJob:
    baselines = (("PrevMonthSale", Forecaster("PrevMonthSale")), ("ThreeMonthMean", Forecaster("ThreeMonthMean")))
    columns = () if candidate.kind == "local" else tuple(candidate.feature_columns_)
    return MonthJob(candidate, fitted, baselines, champion, MONTHS[0], TRAIN, TEST, "long", columns)


def test_a_group_s_rows_are_the_whole_catalog_s_for_its_items():
    sales = _sales()
    whole = catalog_from_frames(sales)
    expected = Forecaster("AutoETS").fit(whole, list(TRAIN))
    champion = Forecaster("Ridge").fit(whole, list(TRAIN))
    late = sales[sales["item_id"] >= 2]  # a group whose items start after the catalog's first month
    rows = score_month_group(late, None, _job(Forecaster("AutoETS"), False, champion)).set_index("item_id")

    predicted = expected.predict(whole, [TEST]).set_index("item_id")["prediction"]
    np.testing.assert_allclose(rows["prediction"], predicted.loc[[2, 3]], rtol=1e-9)
    np.testing.assert_allclose(
        rows["champion"], champion.predict(whole, [TEST]).set_index("item_id").loc[[2, 3]].iloc[:, -1]
    )
    baseline = Forecaster("PrevMonthSale").fit(whole, list(TRAIN)).predict(whole, [TEST]).set_index("item_id")
    np.testing.assert_allclose(rows["baseline:PrevMonthSale"], baseline.loc[[2, 3], "prediction"])
    history = sales[sales["dates"] < TEST]
    np.testing.assert_allclose(rows["scale"], seasonal_naive_scale(history).loc[[2, 3]])
    assert rows["history_max"].tolist() == history.groupby("item_id")["sales"].max().loc[[2, 3]].tolist()
    assert (rows["status"] == "ok").all() and (rows["champion_error"] == "").all()

    # The forecaster assembled from the groups' pickled models predicts as the one fitted on the whole catalog.
    first = score_month_group(sales[sales["item_id"] < 2], None, _job(Forecaster("AutoETS"), False))
    assembled = assemble_local(Forecaster("AutoETS"), TRAIN, pd.concat([first, rows.reset_index()]))
    assert assembled.n_training_rows_ == expected.n_training_rows_
    np.testing.assert_allclose(
        assembled.predict(whole, [TEST])["prediction"], expected.predict(whole, [TEST])["prediction"]
    )
    assert pickle.loads(pickle.dumps(assembled)).model_.n_fitted_ == 4


class _RaisesOnItem(Forecaster):
    def predict(self, catalog, months, *args, **kwargs):
        if 1 in set(catalog.items()):
            raise RuntimeError("item 1 is poisoned")
        return super().predict(catalog, months, *args, **kwargs)


def test_an_item_whose_candidate_raises_gets_the_fallback_and_a_failing_champion_is_recorded():
    sales = _sales()
    whole = catalog_from_frames(sales)
    candidate = _RaisesOnItem("PrevMonthSale").fit(whole, list(TRAIN))
    champion = _RaisesOnItem("ThreeMonthMean").fit(whole, list(TRAIN))
    rows = score_month_group(sales, None, _job(candidate, True, champion)).set_index("item_id")
    assert rows.loc[1, "status"].startswith(FAILED) and "poisoned" in rows.loc[1, "status"]
    assert (rows.drop(index=1)["status"] == "ok").all()
    last = sales[(sales["item_id"] == 1) & (sales["dates"] < TEST)]["sales"].iloc[-1]
    assert rows.loc[1, "prediction"] == pytest.approx(last)  # the pipeline's fallback
    assert rows.loc[1, "sales"] == pytest.approx(
        sales[(sales["item_id"] == 1) & (sales["dates"] == TEST)]["sales"].iloc[0]
    )
    assert "poisoned" in rows["champion_error"].iloc[0]
