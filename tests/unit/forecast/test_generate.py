"""The generator follows its own documented process: the oracle reproduces it, seeds reproduce files."""

from __future__ import annotations

import hashlib

import numpy as np
import orjson
import pandas as pd
import pytest

from salescast.forecast.catalog import load_catalog
from salescast.forecast.generate import GeneratorParameters, generate_sales_data
from salescast.forecast.oracle import oracle_predictions

FILES = ("sales.csv", "marketing.csv", "price.csv", "stock.csv", "objectives.csv", "truth.csv", "truth.json")


def _digest(folder) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


def test_with_zero_noise_the_oracle_reproduces_recorded_sales(tmp_path):
    summary = generate_sales_data(tmp_path, seed=4, items=12, months=48, noise=0.0)
    assert summary["objective_pushes"] > 0 and summary["stockout_months"] > 0 and summary["price_changes"] > 0
    oracle = oracle_predictions(tmp_path)
    sales = pd.read_csv(tmp_path / "sales.csv", parse_dates=["dates"])
    merged = oracle.merge(sales, on=["dates", "item_id"], validate="one_to_one")
    assert len(merged) == 12 * (48 - 15)
    np.testing.assert_allclose(merged["prediction"], merged["sales"], rtol=1e-9, atol=1e-6)


def test_same_seed_same_files_other_seed_other_sales(tmp_path):
    generate_sales_data(tmp_path / "a", seed=7, items=5, months=30)
    generate_sales_data(tmp_path / "b", seed=7, items=5, months=30)
    generate_sales_data(tmp_path / "c", seed=8, items=5, months=30)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["sales.csv"] != _digest(tmp_path / "c")["sales.csv"]


def test_files_follow_the_issue_formats_and_truth_records_parameters(tmp_path):
    generate_sales_data(tmp_path, seed=0, items=6, months=36, d=0.25)
    catalog = load_catalog(
        {name: f"{name}.csv" for name in ("sales", "marketing", "price", "stock", "objectives")}, tmp_path
    )
    assert len(catalog.sales) == 6 * 36 and (catalog.sales["sales"] >= 0).all()
    assert catalog.price["dates"].max() == pd.Timestamp("2021-07-01")  # one month past the sales: r(M+1) exists
    stock_days = pd.read_csv(tmp_path / "stock.csv")["dates"]
    assert stock_days.str.match(r"^\d{4}-\d{2}-\d{2}$").all() and not stock_days.str.endswith("-01").all()
    truth = orjson.loads((tmp_path / "truth.json").read_bytes())
    assert truth["parameters"]["d"] == 0.25 and truth["seed"] == 0 and len(truth["items"]) == 6
    columns = pd.read_csv(tmp_path / "truth.csv", nrows=1).columns
    assert {"v1", "v2", "demand", "sales", "stockout", "objective_push"} <= set(columns)


def test_bad_generator_options_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown generator option"):
        generate_sales_data(tmp_path, seed=0, items=3, colour="red")
    with pytest.raises(ValueError, match="months must be"):
        GeneratorParameters(months=20)
