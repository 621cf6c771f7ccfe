"""The engine's model families, transforms, refit policy and data forms, end to end through make_predictions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from salescast import make_predictions
from salescast.forecast.catalog import catalog_from_frames
from salescast.forecast.config import ConfigError
from salescast.forecast.metrics import scale_free_metrics, seasonal_naive_scale
from salescast.forecast.pipeline import Forecaster

MONTHS = pd.date_range("2018-01-01", "2021-12-01", freq="MS")
START_TEST = "2021-01-01"


def seasonal_sales(levels: dict, seed: int = 0, noise: float = 0.03, trend: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for item, level in levels.items():
        phase = rng.uniform(0, 2 * np.pi)
        for k, month in enumerate(MONTHS):
            shape = (1 + 0.3 * np.sin(2 * np.pi * month.month / 12 + phase)) * (1 + trend * k)
            rows.append((month, item, level * shape * (1 + noise * rng.normal())))
    return pd.DataFrame(rows, columns=["dates", "item_id", "sales"])


def mase(sales: pd.DataFrame, predictions: pd.DataFrame) -> float:
    predictions = predictions.assign(dates=pd.to_datetime(predictions["dates"]))
    scored = sales[sales["dates"] >= START_TEST].merge(predictions, on=["dates", "item_id"])
    return scale_free_metrics(scored, seasonal_naive_scale(sales[sales["dates"] < START_TEST]))["mase"]


def config(sales, **overrides) -> dict:
    return {"data": {"sales": sales}, "start_test": START_TEST} | overrides


def test_a_pooled_model_is_not_fooled_by_items_whose_scales_differ_by_1e5():
    sales = seasonal_sales({"pepper": 1.0, "potato": 100_000.0, "leek": 3.0, "onion": 250_000.0})
    small = sales["item_id"] == "pepper"
    for model in ("Ridge", "LightGBM"):
        pooled = make_predictions(config(sales, model=model))
        pepper = pooled[pooled["item_id"] == "pepper"]
        assert pepper["prediction"].between(0.3, 2.0).all(), (
            f"{model}: {pepper['prediction'].max():.1f} for a 1-unit item"
        )
        # beside items selling 1e5 times more, the pepper is forecast as well as among items of its own size
        alone = make_predictions(config(sales[small | (sales["item_id"] == "leek")], model=model))
        assert mase(sales[small], pepper) <= 1.25 * mase(sales[small], alone[alone["item_id"] == "pepper"])
    # without the per-item scaling, one intercept in sales units serves every item: the test above can fail
    unscaled = make_predictions(config(sales, model="Ridge", target_scaling=None))
    assert unscaled.loc[unscaled["item_id"] == "pepper", "prediction"].abs().max() > 10


def test_seasonal_difference_transform_follows_a_trend_the_seasonal_naive_lags_behind():
    sales = seasonal_sales({1: 100.0, 2: 3000.0, 3: 40.0}, trend=0.02)
    plain = mase(sales, make_predictions(config(sales, model="SeasonalNaive")))
    differenced = mase(
        sales,
        make_predictions(
            config(
                sales,
                model="Ridge",
                features=["lag_1", "lag_12", "rolling_mean_3"],
                target_transforms=["seasonal_difference", "item_level"],
            )
        ),
    )
    assert differenced < 0.5 * plain


def test_seasonal_naive_is_same_month_last_year_sales():
    sales = seasonal_sales({1: 10.0, 2: 20.0})
    pd.testing.assert_frame_equal(
        make_predictions(config(sales, model="SeasonalNaive")),
        make_predictions(config(sales, model="SameMonthLastYearSales")),
    )


def test_monthly_refit_is_a_fit_before_each_test_month():
    sales = seasonal_sales({1: 10.0, 2: 20.0, 3: 5.0})
    monthly = make_predictions(config(sales, refit="monthly"))
    expected = []
    for month in pd.date_range(START_TEST, MONTHS[-1], freq="MS"):
        one = make_predictions(config(sales[sales["dates"] <= month], start_test=month.strftime("%Y-%m-%d")))
        expected.append(one[one["dates"] == month.strftime("%Y-%m-%d")])
    pd.testing.assert_frame_equal(monthly, pd.concat(expected, ignore_index=True))
    assert not monthly.equals(make_predictions(config(sales)))  # refit once: other predictions


def _nixtla(sales):
    return sales.rename(columns={"dates": "ds", "item_id": "unique_id", "sales": "y"})


def test_statistical_families_are_statsforecasts_own_forecasts():
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    sales = seasonal_sales({1: 50.0, 2: 400.0}, seed=3)
    for name, peer in (("AutoETS", AutoETS(season_length=12)), ("AutoTheta", AutoTheta(season_length=12))):
        engine = StatsForecast(models=[peer], freq="MS", n_jobs=1)
        for refit in ("once", "monthly"):
            ours = make_predictions(config(sales, model=name, refit=refit))
            theirs = engine.cross_validation(
                h=1, df=_nixtla(sales), n_windows=12, step_size=1, refit=refit == "monthly"
            )
            theirs = theirs.sort_values(["ds", "unique_id"])
            np.testing.assert_allclose(ours["prediction"], np.clip(theirs[name].to_numpy(), 0, None), rtol=1e-6)
        catalog = catalog_from_frames(sales)
        train = [month for month in catalog.months() if month < pd.Timestamp(START_TEST)]
        path = Forecaster(name, []).fit(catalog, train).forecast(catalog, train[-1], 6)
        native = engine.forecast(h=6, df=_nixtla(sales[sales["dates"] < START_TEST])).sort_values(["ds", "unique_id"])
        np.testing.assert_allclose(
            path.sort_values(["dates", "item_id"])["prediction"], np.clip(native[name], 0, None), rtol=1e-6
        )


def test_statistical_models_fall_back_on_too_short_or_gapped_history():
    sales = seasonal_sales({1: 50.0})
    young = pd.DataFrame({"dates": pd.to_datetime(["2021-10-01", "2021-11-01"]), "item_id": 2, "sales": [7.0, 9.0]})
    gapped = sales[sales["dates"] != "2020-06-01"]
    predictions = make_predictions(config(pd.concat([gapped, young], ignore_index=True), model="AutoETS"))
    by_key = predictions.set_index(["dates", "item_id"])["prediction"]
    assert by_key[("2021-11-01", 2)] == 7.0  # one month of history: below min_history, the last known sales
    assert by_key[("2021-10-01", 2)] == 0.0  # no history at all
    assert predictions.loc[predictions["item_id"] == 1, "prediction"].between(20, 90).all()  # the gap interpolated


def test_item_ids_keep_their_form_and_month_end_dates_are_months(tmp_path):
    sales = seasonal_sales({"000": 10.0, "007": 20.0})
    sales["dates"] = (sales["dates"] + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d")  # dated at month end
    sales.to_csv(tmp_path / "sales.csv", index=False)
    predictions = make_predictions({"data": {"sales": "sales.csv"}, "start_test": START_TEST}, base_dir=tmp_path)
    assert sorted(predictions["item_id"].unique()) == ["000", "007"]
    assert predictions["dates"].min() == START_TEST
    yyyymm = sales.assign(dates=pd.to_datetime(sales["dates"]).dt.strftime("%Y-%m"))
    pd.testing.assert_frame_equal(make_predictions(config(yyyymm)), predictions)
    with pytest.raises(ValueError, match="fall inside a month"):
        make_predictions(config(sales.assign(dates="2020-01-15")))


def test_a_generic_exogenous_table_is_a_model_column():
    rng = np.random.default_rng(5)
    sales = seasonal_sales({1: 100.0, 2: 1000.0}, noise=0.01)
    promotion = pd.DataFrame(
        {"dates": sales["dates"], "item_id": sales["item_id"], "promotion": rng.random(len(sales)) < 0.2}
    ).astype({"promotion": float})
    sales["sales"] *= 1 + 0.5 * promotion["promotion"].to_numpy()
    without = mase(sales, make_predictions(config(sales)))
    data = {"sales": sales, "exogenous": promotion}
    features = ["last_month", "same_month_last_year", "last_year_average", "exogenous"]
    with_promotion = mase(sales, make_predictions(config(sales, data=data, features=features)))
    assert with_promotion < 0.6 * without
    with pytest.raises(ConfigError, match=r"data\.exogenous"):
        make_predictions(config(sales, features=features))
    with pytest.raises(ValueError, match="not numeric"):
        make_predictions(config(sales, data={"sales": sales, "exogenous": promotion.assign(promotion="yes")}))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"refit": "weekly"}, "refit must be one of"),
        ({"model": "CustomModel", "target_transforms": ["log1p"]}, "relative to each item's level"),
        ({"model": "AutoETS", "target_transforms": ["log1p"]}, "does not pool items"),
        ({"target_scaling": None, "target_transforms": ["log1p"]}, "not both"),
        ({"target_transforms": ["item_level", "difference"]}, "last entry"),
        ({"model": "Auto", "model_params": {"candidates": ["Prophet"]}}, "unknown candidate"),
    ],
)
def test_bad_engine_settings_explain_themselves(overrides, message):
    sales = seasonal_sales({1: 10.0})
    with pytest.raises(ValueError, match=message):
        make_predictions(config(sales, **overrides))


def test_auto_combines_candidates_per_item_deterministically():
    sales = seasonal_sales({1: 50.0, 2: 400.0, 3: 9.0}, seed=7, trend=0.01)
    catalog = catalog_from_frames(sales)
    train = [month for month in catalog.months() if month < pd.Timestamp(START_TEST)]
    candidates = ["SeasonalNaive", "AutoTheta", "Ridge", "Ridge seasonal difference"]
    first = Forecaster("Auto", model_params={"candidates": candidates}).fit(catalog, train)
    again = Forecaster("Auto", model_params={"candidates": candidates}).fit(catalog, train)
    test = [month for month in catalog.months() if month >= pd.Timestamp(START_TEST)]
    pd.testing.assert_frame_equal(first.predict(catalog, test), again.predict(catalog, test))
    selection = first.model_.selection_
    assert set(selection["item_id"]) == {1, 2, 3}
    weights = selection.groupby("item_id")[["weight_one_step", "weight_horizon"]].sum()
    np.testing.assert_allclose(weights.to_numpy(), 1.0)
    assert (selection.groupby("item_id").size() <= 3).all()
    assert set(first.model_.validation_.index) == set(candidates)
    # each item's prediction is the mean of its chosen candidates' predictions
    chosen = selection[selection["item_id"] == 2]
    month = test[0]
    parts = [
        first.model_.fitted_[name].predict(catalog, [month], items=[2])["prediction"].iloc[0] * weight
        for name, weight in zip(chosen["candidate"], chosen["weight_one_step"], strict=True)
    ]
    assert first.predict(catalog, [month], items=[2])["prediction"].iloc[0] == pytest.approx(sum(parts))
    path = first.forecast(catalog, train[-1], 12)
    assert len(path) == 36 and path["prediction"].ge(0).all()


def test_auto_with_exogenous_features_adds_the_custom_model():
    from salescast.forecast.models.auto import AutoModel

    sales = seasonal_sales({1: 50.0})
    marketing = pd.DataFrame({"dates": sales["dates"], "item_id": 1, "marketing": 0.0})
    catalog = catalog_from_frames(sales, marketing=marketing)
    assert "CustomModel" in AutoModel().candidate_names(["last_month", "marketing"], catalog)
    assert "CustomModel" not in AutoModel().candidate_names(["last_month"], catalog)
    forecaster = AutoModel.make_candidate("Ridge", ["marketing"])
    assert "marketing" in forecaster.features and "last_month" in forecaster.features


def test_statsforecast_is_imported_only_by_the_models_that_use_it():
    code = (
        "import sys, pandas as pd\n"
        "from salescast import make_predictions\n"
        "d = pd.date_range('2019-01-01', periods=30, freq='MS')\n"
        "s = pd.DataFrame({'dates': d, 'item_id': 1, 'sales': range(30)})\n"
        "make_predictions({'data': {'sales': s}, 'start_test': '2021-01-01', 'model': 'Ridge'})\n"
        "print('statsforecast' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
