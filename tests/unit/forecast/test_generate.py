"""The generator follows its documented process: hand-computed literal examples, the oracle, seeds, units."""

from __future__ import annotations

import hashlib

import numpy as np
import orjson
import pandas as pd
import pytest

from salescast.forecast.catalog import load_catalog
from salescast.forecast.generate import (
    GeneratorParameters,
    ProcessInputs,
    draw_inputs,
    generate_sales_data,
    run_process,
    write_simulation,
)
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


MONTHS = 27  # July 2018 … September 2020: fiscal years 2019 (t = 0 … 11) and 2020 (t = 12 … 23) are complete


def _literal_inputs(**changes) -> ProcessInputs:
    """One item at level 100, no season, no noise, flat price 10, one delivery on the 5th covering 110 %."""
    inputs = {
        "levels": np.array([100.0]),
        "amplitudes": np.array([0.0]),
        "peaks": np.array([1]),
        "shocks": np.zeros((1, MONTHS)),
        "marketing": np.zeros((1, MONTHS)),
        "price": np.full((1, MONTHS + 1), 10.0),
        "objective_factor": {2019: np.array([0.5]), 2020: np.array([0.5])},  # far below the sales: no push
        "cover": np.full((1, MONTHS), 1.1),
        "split": np.ones((1, MONTHS)),
        "days": np.full((1, MONTHS, 2), 5),
    }
    return ProcessInputs(**(inputs | changes))


PARAMETERS = GeneratorParameters(items=1, months=MONTHS, noise=0.0)  # a, b, c, d, e = 0.3, 0.2, 0.5, 0.2, 1.5


def test_the_latent_level_equation_on_hand_computed_values():
    shocks = np.zeros((1, MONTHS))
    shocks[0, :3] = -0.2  # v1 = 80 in t = 0, 1, 2; 100 in t = 3 … 14
    shocks[0, 15] = 0.1
    simulation = run_process(PARAMETERS, _literal_inputs(shocks=shocks))
    # t = 15: 0.3·v1(3) + 0.2·mean(v1(3…14)) + 0.5·v1(3)·Σv1(12…14)/Σv1(0…2)
    #       = 0.3·100 + 0.2·100 + 0.5·100·300/240 = 30 + 20 + 62.5 = 112.5, times (1 + 0.1) = 123.75
    assert simulation.v1[0, 15] == pytest.approx(123.75)
    # t = 16: 0.3·100 + 0.2·(11·100 + 123.75)/12 + 0.5·100·(100 + 100 + 123.75)/(80 + 80 + 100)
    #       = 30 + 20.3958333… + 62.2596153… = 112.6554487…
    assert simulation.v1[0, 16] == pytest.approx(112.6554487, abs=1e-6)
    assert simulation.v1[0, 3] == 100.0 and simulation.v1[0, 0] == 80.0


def _literal_example() -> ProcessInputs:
    """Marketing in t = 15, a 10 % price rise in t = 18, a March shortage, and a June push in 2020."""
    marketing = np.zeros((1, MONTHS))
    marketing[0, 15] = 1.5
    price = np.full((1, MONTHS + 1), 10.0)
    price[0, 18:] = 11.0
    cover = np.full((1, MONTHS), 1.1)
    cover[0, 20] = 0.5  # March 2020: refilled to half of the demand only
    factors = {2019: np.array([0.9]), 2020: np.array([1.05])}
    return _literal_inputs(marketing=marketing, price=price, cover=cover, objective_factor=factors)


# By hand: v1 = 100 every month (a + b + c = 1, no growth). v2 = 100 except
#   t = 15: 100·(1 + 0.2·1.5) = 130;  t = 17: 100·(1 + 1.5·(0.1 − 0)) = 115;  t = 18: 100·(1 + 1.5·(0 − 0.1)) = 85.
# Stock (cover 1.1, closing 10 after an ordinary month): t = 20 refills 0.5·100 − 10 = 40, so it sells 50 and
#   misses 50; t = 21 sells its own 100 plus those 50 (refilled to 1.1·150 = 165).
# FY2019: objective 0.9·1200 = 1080 < the 1100 sold in July … May 2019: no push.
# FY2020: objective round(1.05·(1200 + 30 + 15 − 15)) = round(1291.5) = 1292; sales of July 2019 … May 2020 =
#   100·3 + 130 + 100 + 115 + 85 + 100 + 50 + 150 + 100 = 1130, remaining 162 ≤ 20 % of 1292 = 258.4 and
#   v2(June) = 100 < 162: June 2020 (t = 23) sells 162, extra 62, and July 2020 (t = 24) 100 − 62 = 38.
HAND_SALES = [100.0] * 15 + [130.0, 100.0, 115.0, 85.0, 100.0, 50.0, 150.0, 100.0, 162.0, 38.0, 100.0, 100.0]


def test_the_process_on_a_hand_computed_example():
    simulation = run_process(PARAMETERS, _literal_example())
    np.testing.assert_allclose(simulation.v1[0], 100.0)
    assert simulation.v2[0, [15, 17, 18]] == pytest.approx([130.0, 115.0, 85.0])
    np.testing.assert_allclose(simulation.sold[0], HAND_SALES)
    assert simulation.unmet[0, 20] == pytest.approx(50.0) and simulation.unmet[0].sum() == pytest.approx(50.0)
    assert simulation.available[0, [20, 21, 23]] == pytest.approx([50.0, 165.0, 178.2])  # 1.1·162 = 178.2
    assert simulation.objectives == {2019: pytest.approx([1080.0]), 2020: pytest.approx([1292.0])}
    assert simulation.objective_shift[0, 23] == pytest.approx(62.0) and simulation.objective_push[0, 24]
    assert simulation.refill[0, 0] == pytest.approx(110.0) and simulation.refill[0, 1] == pytest.approx(100.0)


def test_the_oracle_predicts_the_hand_computed_sales(tmp_path):
    write_simulation(tmp_path, run_process(PARAMETERS, _literal_example()), PARAMETERS, seed=None)
    oracle = oracle_predictions(tmp_path)  # every month after the 15 warm-up months
    np.testing.assert_allclose(oracle["prediction"], HAND_SALES[15:])


def test_weekly_refills_arrive_every_week_on_one_weekday():
    simulation = run_process(PARAMETERS, _literal_inputs(weekday=np.array([0])))  # Mondays
    deliveries = simulation.deliveries.assign(day=simulation.deliveries["dates"].dt.day)
    july, august = (
        deliveries[deliveries["dates"].dt.month.eq(m) & deliveries["dates"].dt.year.eq(2018)] for m in (7, 8)
    )
    # July 2018 has five Mondays (2, 9, 16, 23, 30): 110 in five parts; August four (6, 13, 20, 27): 100 in four
    assert july["day"].tolist() == [2, 9, 16, 23, 30] and july["refill"].tolist() == [22.0] * 5
    assert august["day"].tolist() == [6, 13, 20, 27] and august["refill"].tolist() == [25.0] * 4
    assert (simulation.deliveries["dates"].dt.day_of_week == 0).all()
    np.testing.assert_allclose(simulation.sold[0], 100.0)  # the schedule moves the days, not the monthly stock


def test_weekly_parts_round_down_so_none_is_negative():
    # refills to the cent (6 digits of level_high = 1000); July 2018 refills 0.03 over five Mondays: rounding
    # 0.006 to the nearest cent would make four parts of 0.01 and a last one of −0.01
    parameters = GeneratorParameters(items=1, months=MONTHS, noise=0.0, level_low=0.01, level_high=1000.0)
    simulation = run_process(parameters, _literal_inputs(levels=np.array([0.03]), weekday=np.array([0])))
    assert simulation.refill[0, 0] == pytest.approx(0.03)
    assert (simulation.deliveries["refill"] > 0).all()
    assert simulation.deliveries["refill"].sum() == pytest.approx(simulation.refill.sum())


def test_drawn_inputs_respect_their_ranges_and_units():
    parameters = GeneratorParameters(
        items=40, marketing_low=5000.0, marketing_high=20000.0, d=0.2 / 10000, price_low=0.2, price_high=5.0
    )
    inputs = draw_inputs(parameters, seed=1)
    spend = inputs.marketing[inputs.marketing > 0]
    assert spend.min() >= 5000.0 and spend.max() <= 20000.0 and np.all(spend % 100 == 0)  # 3 digits of 20,000
    assert inputs.price.min() > 0.15 and np.allclose(inputs.price, np.round(inputs.price, 3))  # 4 digits of 5
    assert set(inputs.objective_factor) == {2019, 2020, 2021, 2022, 2023, 2024}
    assert inputs.weekday is None


def test_generator_parameters_explain_what_is_wrong():
    for options, message in (
        ({"refill_days": "daily"}, "refill_days must be one of"),
        ({"noise": "high"}, "noise must be a finite number"),
        ({"items": 2.5}, "items must be an integer"),
        ({"shortage_probability": 1.5}, "shortage_probability is a probability"),
        ({"price_low": 0.0}, "price_low must be > 0"),
        ({"marketing_low": 3.0}, "marketing_low must be ≤ marketing_high"),
        ({"d": -1.0}, "d × marketing_high must stay above −1"),
    ):
        with pytest.raises(ValueError, match=message):
            GeneratorParameters(**options)
