"""The fingerprint: same rows and config → same hash; later months never count; any change does."""

from __future__ import annotations

import dataclasses

import pandas as pd

from salescast.forecast.catalog import catalog_from_frames
from salescast.lifecycle.fingerprint import catalog_until, fingerprint
from salescast.lifecycle.months import parse_month, plan_months
from salescast.lifecycle.sources import CsvSource, PipelineConfig


def catalog(extra_month: bool = False, bump: float = 0.0):
    months = pd.date_range("2022-01-01", "2022-07-01" if extra_month else "2022-06-01", freq="MS")
    sales = pd.DataFrame({"dates": months.repeat(2), "item_id": [1, 2] * len(months), "sales": 10.0})
    sales.loc[0, "sales"] += bump
    marketing = pd.DataFrame({"dates": months, "item_id": 1, "marketing": 1.0})
    return catalog_from_frames(sales, marketing=marketing)


CONFIG = PipelineConfig(CsvSource({}))
PLAN = plan_months(pd.date_range("2022-01-01", "2022-06-01", freq="MS"), test_month=parse_month("2022-06"))


def hashed(data, config=CONFIG, plan=PLAN) -> str:
    return fingerprint(catalog_until(data, plan.test_month), config, plan)


def test_stable_and_blind_to_later_months():
    assert hashed(catalog()) == hashed(catalog())
    assert hashed(catalog(extra_month=True)) == hashed(catalog())
    assert len(catalog_until(catalog(extra_month=True), PLAN.test_month).marketing) == 6


def test_any_row_config_or_plan_change_changes_it():
    base = hashed(catalog())
    assert hashed(catalog(bump=0.001)) != base
    assert hashed(catalog(), config=dataclasses.replace(CONFIG, model="LightGBM")) != base
    assert hashed(catalog(), config=dataclasses.replace(CONFIG, model_params={"alpha": 2})) != base
    other_plan = plan_months(pd.date_range("2022-01-01", "2022-06-01", freq="MS"), window=2)
    assert hashed(catalog(), plan=other_plan) != base
