"""The forecast commands through Typer's CliRunner: generate, predict, evaluate, and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from salescast import make_predictions
from salescast.cli import app

runner = CliRunner()


def _generate(folder) -> None:
    result = runner.invoke(
        app,
        [
            "generate",
            "sales",
            "--out",
            str(folder),
            "--items",
            "6",
            "--months",
            "40",
            "--seed",
            "3",
            "--param",
            "marketing_probability=0.2",
        ],
    )
    assert result.exit_code == 0, result.output


def _config(folder, **overrides) -> str:
    config = {
        "data": {"sales": "sales.csv", "marketing": "marketing.csv", "price": "price.csv"},
        "start_test": "2020-11-01",
        "model": "Ridge",
        "features": ["last_month", "same_month_last_year", "last_year_average", "growth", "marketing", "price"],
    } | overrides
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_generate_predict_and_evaluate(tmp_path):
    _generate(tmp_path / "data")
    truth = orjson.loads((tmp_path / "data" / "truth.json").read_bytes())
    assert truth["parameters"]["marketing_probability"] == 0.2 and truth["parameters"]["items"] == 6
    config = _config(tmp_path / "data")
    result = runner.invoke(app, ["predict", "--config", config, "--out", str(tmp_path / "out" / "p.csv")])
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(tmp_path / "out" / "p.csv")
    assert list(predictions.columns) == ["dates", "item_id", "prediction"]
    assert len(predictions) == 6 * 12 and predictions["dates"].min() == "2020-11-01"
    result = runner.invoke(app, ["evaluate", "--config", config, "--json", str(tmp_path / "table.json")])
    assert result.exit_code == 0, result.output
    rows = orjson.loads((tmp_path / "table.json").read_bytes())
    models = [row["model"] for row in rows]
    assert models[:3] == ["PrevMonthSale", "SameMonthLastYearSales", "ThreeMonthMean"] and models[-1] == "Oracle"
    assert {"+marketing", "+price"} <= {row["features"] for row in rows}
    assert "Oracle" in result.output and "RMSE" in result.output

    # The numbers: the baselines recomputed by hand from sales.csv (every item has every month, so
    # no fallback), a learned row from make_predictions on the same config, each scored by the formulas.
    sales = pd.read_csv(tmp_path / "data" / "sales.csv", parse_dates=["dates"])
    grid = sales.pivot(index="dates", columns="item_id", values="sales")
    test = grid.index >= "2020-11-01"
    by_hand = {
        "PrevMonthSale": grid.shift(1),
        "SameMonthLastYearSales": grid.shift(12),
        "ThreeMonthMean": grid.shift(1).rolling(3).mean(),
    }
    table = {(row["model"], row["features"]): row for row in rows}
    for model, predicted in by_hand.items():
        expected = metrics_by_hand(grid[test].to_numpy().ravel(), predicted[test].to_numpy().ravel())
        assert scores(table[(model, "own lag")]) == pytest.approx(expected, rel=1e-12), model
    ridge = make_predictions(yaml.safe_load(Path(config).read_text()), base_dir=tmp_path / "data")
    actual = ridge.merge(sales.assign(dates=sales["dates"].dt.strftime("%Y-%m-%d")), on=["dates", "item_id"])
    expected = metrics_by_hand(actual["sales"].to_numpy(), actual["prediction"].to_numpy())
    assert scores(table[("Ridge", "+price")]) == pytest.approx(expected, rel=1e-9)
    assert {row["n"] for row in rows} == {72}
    # MASE by hand: per item, mean |error| over the test months ÷ the mean |y(M) − y(M−12)| before them; then
    # the mean over items. sMAPE likewise per item, then averaged.
    history = grid[~test]
    scale = (history - history.shift(12)).abs().mean()
    for model, predicted in by_hand.items():
        error = (predicted[test] - grid[test]).abs()
        smape = (200 * error / (predicted[test].abs() + grid[test].abs())).mean()
        row = table[(model, "own lag")]
        assert row["mase"] == pytest.approx((error.mean() / scale).mean(), rel=1e-12), model
        assert row["smape"] == pytest.approx(smape.mean(), rel=1e-12) and row["mase_items"] == 6
    assert "MASE" in result.output and "sMAPE %" in result.output
    # The oracle knows the true equations: its error is the noise floor, below every baseline's.
    assert table[("Oracle", "true equations")]["rmse"] < min(table[(model, "own lag")]["rmse"] for model in by_hand)


def scores(row: dict) -> dict[str, float]:
    return {name: row[name] for name in ("rmse", "mae", "r2", "mape")}


def metrics_by_hand(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    error = predicted - actual
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(1 - np.sum(error**2) / np.sum((actual - actual.mean()) ** 2)),
        "mape": float(100 * np.mean(np.abs(error / actual))),
    }


def test_errors_are_red_messages_with_exit_code_1(tmp_path):
    _generate(tmp_path)
    result = runner.invoke(app, ["predict", "--config", _config(tmp_path, model="Prophet"), "--out", "p.csv"])
    assert result.exit_code == 1 and "valid models are" in result.output
    result = runner.invoke(app, ["predict", "--config", _config(tmp_path, start_test="2020-11-15"), "--out", "p.csv"])
    assert result.exit_code == 1 and "first day of a month" in result.output
    (tmp_path / "bad.yaml").write_text("- just\n- a list\n")
    result = runner.invoke(app, ["evaluate", "--config", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 1 and "YAML mapping" in result.output
    result = runner.invoke(app, ["generate", "sales", "--out", str(tmp_path / "g"), "--param", "colour=red"])
    assert result.exit_code == 1 and "unknown generator option" in result.output


def test_generate_sales_takes_units_and_refill_schedule_and_explains_bad_values(tmp_path):
    options = ["--param", "marketing_low=1000", "--param", "marketing_high=4000", "--param", "d=0.0001"]
    options += ["--param", "refill_days=weekly", "--param", "objective_high=1.25"]
    result = runner.invoke(app, ["generate", "sales", "--out", str(tmp_path), "--items", "3", *options])
    assert result.exit_code == 0, result.output
    parameters = orjson.loads((tmp_path / "truth.json").read_bytes())["parameters"]
    assert parameters["d"] == 0.0001 and parameters["refill_days"] == "weekly" and parameters["objective_high"] == 1.25
    spend = pd.read_csv(tmp_path / "marketing.csv")["marketing"]
    assert spend.between(1000, 4000).all()
    assert (pd.to_datetime(pd.read_csv(tmp_path / "stock.csv")["dates"]).dt.day_of_week.nunique()) <= 3  # 1 per item
    for bad, message in (("refill_days=daily", "refill_days must be one of"), ("d=much", "d must be a finite")):
        result = runner.invoke(app, ["generate", "sales", "--out", str(tmp_path / "bad"), "--param", bad])
        assert result.exit_code == 1 and message in result.output, result.output


def test_evaluate_with_intervals_scores_the_bounds_make_predictions_returns(tmp_path):
    folder = tmp_path / "data"
    result = runner.invoke(
        app, ["generate", "sales", "--out", str(folder), "--items", "5", "--months", "40", "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    settings = {"data": {"sales": "sales.csv"}, "start_test": "2020-11-01", "model": "Ridge"}
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(settings))
    json_out = tmp_path / "table.json"
    result = runner.invoke(
        app, ["evaluate", "--config", str(config), "--intervals", "95,80", "--json", str(json_out)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "cover 80 %" in result.output and "MSIS 95" in result.output
    rows = orjson.loads(json_out.read_bytes())
    table = {(row["model"], row["features"]): row for row in rows}
    for row in rows:
        if row["model"] == "Oracle":
            assert not any(key.startswith(("coverage_", "msis_", "pinball_")) for key in row)
            continue
        assert row["interval_method"] == "conformal"
        for level in ("80", "95"):
            assert 0 <= row[f"coverage_{level}"] <= 100 and row[f"msis_{level}"] > 0 and row[f"pinball_{level}"] > 0
        assert row["msis_95"] != row["msis_80"]

    # The row's coverage is the share of actuals inside the bounds make_predictions gives with the same intervals.
    sales = pd.read_csv(folder / "sales.csv")
    sales["dates"] = pd.to_datetime(sales["dates"]).dt.strftime("%Y-%m-%d")
    for model, features in (("Ridge", "history"), ("PrevMonthSale", "own lag")):
        predicted = make_predictions(settings | {"model": model, "intervals": [80, 95]}, base_dir=folder)
        scored = predicted.merge(sales, on=["dates", "item_id"], validate="one_to_one")
        assert len(scored) == table[(model, features)]["n"] == 5 * 12
        for level in ("80", "95"):
            inside = scored["sales"].between(scored[f"lo_{level}"], scored[f"hi_{level}"])
            assert table[(model, features)][f"coverage_{level}"] == pytest.approx(100 * inside.mean(), abs=1e-9)

    # Without --intervals the table is as before: no interval keys, no interval columns.
    result = runner.invoke(app, ["evaluate", "--config", str(config), "--json", str(json_out)], terminal_width=200)
    assert result.exit_code == 0 and "MSIS" not in result.output
    assert not any("coverage_80" in row or "interval_method" in row for row in orjson.loads(json_out.read_bytes()))

    result = runner.invoke(app, ["evaluate", "--config", str(config), "--intervals", "0,150"])
    assert result.exit_code == 1 and "--intervals" in result.output and "between 0 and 100" in result.output
