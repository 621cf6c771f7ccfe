"""``salescast evaluate --engine spark``: the pandas reference table, its predictions made by the Spark engine."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from salescast.cli import app
from salescast.forecast.evaluate import reference_table
from salescast.forecast.generate import generate_sales_data

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

METRICS = ("n", "r2", "rmse", "mae", "mape", "mase", "smape", "mase_items")


def _assert_same_rows(spark_rows: list[dict], pandas_rows: list[dict]) -> None:
    assert [(row["model"], row["features"]) for row in spark_rows] == [
        (row["model"], row["features"]) for row in pandas_rows
    ]
    for mine, theirs in zip(spark_rows, pandas_rows, strict=True):
        assert set(mine) == set(theirs)
        for metric in METRICS:
            if isinstance(theirs[metric], float) and math.isnan(theirs[metric]):
                assert math.isnan(mine[metric]), (mine["model"], metric)
            else:
                assert mine[metric] == pytest.approx(theirs[metric], rel=1e-6, abs=1e-12), (mine["model"], metric)


def _evaluate(folder, config: dict, *extra: str):
    path = folder / "evaluate.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    out = folder / "table.json"
    result = CliRunner().invoke(app, ["evaluate", "--config", str(path), "--json", str(out), *extra])
    return result, out


def test_cli_spark_table_equals_the_pandas_table_and_names_the_sets_left_out(spark, tmp_path):
    generate_sales_data(tmp_path, seed=2, items=5, months=30, shortage_probability=0.1)
    sources = ("sales", "marketing", "price", "stock", "objectives")
    config = {"data": {name: f"{name}.csv" for name in sources}, "start_test": "2020-07-01"}
    expected = reference_table(config, base_dir=tmp_path)

    result, out = _evaluate(tmp_path, config, "--engine", "spark")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "the feature sets +marketing, +price, +stock, +objectives are left out" in output
    rows = orjson.loads(out.read_bytes())
    kept = [row for row in expected if not row["features"].startswith("+")]
    assert rows[-1]["model"] == "Oracle" and len(rows) == 3 + 3 + 1  # baselines, 3 models on history, the oracle
    _assert_same_rows(rows, kept)


def test_engine_spark_in_the_config_with_exogenous_string_ids_a_gap_and_a_new_item(spark, tmp_path):
    rng = np.random.default_rng(4)
    months = pd.date_range("2018-07-01", "2021-12-01", freq="MS")
    rows = [
        (month.strftime("%Y-%m-%d"), f"sku-{item}", level * (1 + 0.3 * np.sin(month.month)) * rng.uniform(0.9, 1.1))
        for item, level in enumerate(rng.uniform(5, 500, 5))
        for month in months[item:]
        if not (item == 2 and month == pd.Timestamp("2021-08-01"))  # a gap in the test months
    ]
    rows += [("2021-10-01", "sku-new", 7.0), ("2021-11-01", "sku-new", 9.0)]  # no history: no MASE scale
    sales = pd.DataFrame(rows, columns=["dates", "item_id", "sales"])
    sales.to_csv(tmp_path / "sales.csv", index=False)
    exogenous = sales[["dates", "item_id"]].assign(promotion=rng.integers(0, 2, len(sales)).astype(float))
    exogenous.to_csv(tmp_path / "exogenous.csv", index=False)
    config = {"data": {"sales": "sales.csv", "exogenous": "exogenous.csv"}, "start_test": "2021-07-01"}
    expected = reference_table(config, base_dir=tmp_path, models=("Ridge",))
    assert {row["mase_items"] for row in expected} == {5}  # sku-new has no scale: the path is exercised

    rows = reference_table({**config, "engine": "spark"}, base_dir=tmp_path, models=("Ridge",))
    _assert_same_rows(rows, expected)


def test_intervals_on_spark_are_refused_with_the_reason(tmp_path):
    config = {"data": {"sales": "sales.csv"}, "start_test": "2021-07-01"}
    result, _ = _evaluate(tmp_path, config, "--engine", "spark", "--intervals", "80")
    assert result.exit_code == 1
    assert "intervals are computed on the pandas engine only for now" in " ".join(result.output.split())
    result, _ = _evaluate(tmp_path, {**config, "engine": "spark"}, "--intervals", "80,95")
    assert result.exit_code == 1 and "drop --intervals" in " ".join(result.output.split())
    result, _ = _evaluate(tmp_path, {**config, "engine": "spark", "intervals": [80]})
    assert result.exit_code == 1 and "not computed on the Spark engine" in " ".join(result.output.split())
