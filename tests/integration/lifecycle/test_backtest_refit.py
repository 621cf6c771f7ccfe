"""``refit`` from pipeline.yaml in a backtest: ``once`` scores one fitted candidate every month, ``monthly`` refits."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, write_monthly_sales, write_pipeline

from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.pipeline import Forecaster
from salescast.lifecycle.backtest import BacktestError, run_backtest
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MONTHS = [parse_month(month) for month in ("2022-07", "2022-08", "2022-09")]


@pytest.mark.slow
@pytest.mark.parametrize("refit", ["once", "monthly"])
def test_refit_decides_whether_the_candidate_is_refitted_each_month(tmp_path, mlflow_settings, refit):
    sales = write_monthly_sales(tmp_path / "data" / "sales.csv")
    path = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, refit=refit)
    result = run_backtest(
        load_pipeline_config(path),
        mlflow_settings,
        MONTHS[0],
        MONTHS[-1],
        report_dir=tmp_path / "reports",
        store=tmp_path / "scratch",
    )
    catalog = catalog_from_frames(sales.assign(dates=pd.to_datetime(sales["dates"])))
    window = [parse_month(month) for month in ("2022-04", "2022-05", "2022-06")]  # the 3 months before 2022-07
    once = Forecaster("Ridge").fit(catalog, window).predict(catalog, MONTHS)
    got = result.predictions.sort_values(["month", "item_id"])["prediction"].to_numpy()
    expected = once.sort_values(["dates", "item_id"])["prediction"].to_numpy()
    if refit == "once":
        assert got == pytest.approx(expected)  # the candidate fitted at the first month, scored on every month
    else:
        assert got[:4] == pytest.approx(expected[:4]) and got[4:] != pytest.approx(expected[4:])


def test_an_in_place_backtest_refuses_refit_once(tmp_path, mlflow_settings):
    write_monthly_sales(tmp_path / "data" / "sales.csv")
    path = write_pipeline(
        tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, refit="once"
    )
    with pytest.raises(BacktestError, match="cannot keep one fitted candidate"):
        run_backtest(
            load_pipeline_config(path), mlflow_settings, MONTHS[0], MONTHS[-1], report_dir=tmp_path, in_place=True
        )
