"""The forecast commands through Typer's CliRunner: generate, predict, evaluate, and their errors."""

from __future__ import annotations

import orjson
import pandas as pd
import yaml
from typer.testing import CliRunner

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
