"""GET /forecast and the reload endpoint on a real MLflow store and a CSV pipeline source."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline
from tests.serving_support import wait_for_champion, wait_for_forecast_version, wait_for_health

from salescast.api.app import create_app
from salescast.forecast.catalog import load_catalog
from salescast.forecast.generate import generate_sales_data
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import format_month, parse_month, shift_month
from salescast.lifecycle.sources import load_pipeline_config
from salescast.serving.champion import ChampionProblem, NoChampionError
from salescast.serving.runtime import ServingRuntime

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "pipeline"


@pytest.fixture
def pipeline(tmp_path):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=4, first="2020-01", last="2022-12")
    return write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})


@pytest.fixture
def settings(mlflow_settings, pipeline):
    return mlflow_settings.model_copy(update={"pipeline_config": pipeline, "champion_poll_seconds": 0})


def test_without_champion_forecast_is_503_and_ingestion_still_works(settings):
    with TestClient(create_app(settings)) as client:
        wait = client.get("/health")
        assert wait.status_code == 200
        response = client.get("/forecast", params={"month": "2023-01"})
        assert response.status_code == 503
        assert "champion" in response.json()["detail"]
        posted = client.post("/post_sales", json=[{"year_week": 202301, "vegetable": "tomato", "sales": 3.0}])
        assert posted.status_code == 200 and posted.json()["inserted"] == 1
        reload = client.post("/admin/reload_model")
        assert reload.status_code == 503 and "salescast train" in reload.json()["detail"]
        assert client.get("/health").json()["champion"]["status"] == "unavailable"


def test_each_reason_for_no_champion_is_a_503_that_says_it(settings, tmp_path):
    missing = tmp_path / "elsewhere" / "mlflow.db"
    nowhere = settings.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{missing}"})
    with TestClient(create_app(nowhere)) as client:
        champion = wait_for_health(client, lambda champion: champion["problems"], "the missing store")
        assert champion["status"] == "unavailable" and f"no MLflow store at {missing}" in champion["detail"]
        response = client.get("/forecast", params={"month": "2023-01"})
        assert response.status_code == 503 and f"no MLflow store at {missing}" in response.json()["detail"]
        posted = client.post("/post_sales", json=[{"year_week": 202301, "vegetable": "leek", "sales": 2.0}])
        assert posted.status_code == 200 and posted.json()["inserted"] == 1  # ingestion needs no MLflow
    assert not missing.parent.exists()  # serving never creates a store
    runtime = ServingRuntime.start(settings, watch=False)  # before the watcher's first look-up
    try:
        with pytest.raises(NoChampionError, match="loading: the champion has not been looked up yet"):
            runtime.service().month_forecast("2023-01")
    finally:
        runtime.stop()


@pytest.fixture
def champion_v1(settings, pipeline):
    return run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-10"))


def test_month_and_horizon_forecasts_of_the_champion(settings, pipeline, champion_v1):
    assert champion_v1.decision == "promoted"
    forecaster = mlflow.pyfunc.load_model(f"models:/{MODEL}/1").unwrap_python_model().forecaster
    catalog = load_catalog({"sales": str(pipeline.parent / "data" / "sales.csv")})
    with TestClient(create_app(settings)) as client:
        champion = wait_for_champion(client, "1")
        assert champion == {
            "status": "ok",
            "name": MODEL,
            "version": "1",
            "training_month": "2022-10",
            "train_months": ["2022-07", "2022-08", "2022-09"],
            "intervals": forecaster.calibration_.describe(),
            "problems": [],
        }
        assert champion["intervals"]["calibrated"] and champion["intervals"]["method"] == "conformal"

        rows = client.get("/forecast", params={"month": "2023-01"}).json()
        expected = forecaster.predict(catalog, [parse_month("2023-01")], items=[1, 2, 3, 4])
        assert [row["item_id"] for row in rows] == [1, 2, 3, 4]
        assert {row["month"] for row in rows} == {"2023-01"} and {row["model_version"] for row in rows} == {"1"}
        assert [row["prediction"] for row in rows] == pytest.approx(expected["prediction"].tolist())

        one = client.get("/forecast/", params={"month": "2022-11", "item_id": "2"})
        assert one.status_code == 200
        [row] = one.json()
        past = forecaster.predict(catalog, [parse_month("2022-11")], items=[2])
        assert row["item_id"] == 2 and row["prediction"] == pytest.approx(past["prediction"].iloc[0])

        path = client.get("/forecast", params={"item_id": "3", "horizon": 3}).json()
        assert [row["month"] for row in path] == ["2023-01", "2023-02", "2023-03"]
        assert path[0]["prediction"] == pytest.approx(rows[2]["prediction"])
        # Step 2 reads step 1's prediction as January's sales.
        january = pd.DataFrame({"dates": [parse_month("2023-01")], "item_id": [3], "sales": [path[0]["prediction"]]})
        extended = dataclasses.replace(catalog, sales=pd.concat([catalog.sales, january], ignore_index=True))
        step2 = forecaster.predict(extended, [parse_month("2023-02")], items=[3])
        assert path[1]["prediction"] == pytest.approx(step2["prediction"].iloc[0])
        every = client.get("/forecast", params={"horizon": 2}).json()
        assert len(every) == 8 and every[2]["prediction"] == pytest.approx(path[0]["prediction"])

        # January's sales arrive in the CSV: the next request forecasts from them, no restart.
        sales = pipeline.parent / "data" / "sales.csv"
        frame = pd.read_csv(sales)
        january = frame[frame["dates"] == "2022-12-01"].assign(dates="2023-01-01")
        pd.concat([frame, january]).to_csv(sales, index=False)
        moved = client.get("/forecast", params={"item_id": "3", "horizon": 1}).json()
        assert [row["month"] for row in moved] == ["2023-02"]
        assert client.get("/forecast", params={"month": "2023-02"}).status_code == 200


def test_source_data_the_champion_cannot_read_is_a_503_until_it_is_fixed(settings, pipeline, champion_v1):
    sales = pipeline.parent / "data" / "sales.csv"
    good = sales.read_text()
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        assert client.get("/forecast", params={"month": "2023-01"}).status_code == 200
        sales.write_text(good + good.splitlines()[-1] + "\n")  # the last row twice: a duplicate (dates, item_id)
        response = client.get("/forecast", params={"month": "2023-01"})
        assert response.status_code == 503
        assert response.json()["detail"].startswith("the champion cannot forecast from this data: ")
        assert "duplicate" in response.json()["detail"]
        assert client.get("/health").json()["champion"]["status"] == "ok"  # the model is fine; the data is not
        sales.write_text(good)
        assert client.get("/forecast", params={"month": "2023-01"}).status_code == 200


BAD_REQUESTS = [
    ({"month": "2023-13"}, 422, "YYYY-MM"),
    ({"month": "january"}, 422, "YYYY-MM"),
    ({"month": "2023-05"}, 422, "horizon=5"),
    ({"month": "2020-01"}, 422, "data starts in 2020-01"),
    ({"month": "2023-01", "item_id": "99"}, 404, "unknown item_id '99'"),
    ({"item_id": "99", "horizon": 2}, 404, "unknown item_id"),
    ({"item_id": "1", "horizon": 0}, 422, "between 1 and 24"),
    ({"item_id": "1", "horizon": 25}, 422, "between 1 and 24"),
    ({"month": "2023-01", "horizon": 2}, 422, "either month"),
    ({}, 422, "either month"),
]


def test_intervals_come_from_the_stored_calibration_and_widen_with_the_step(settings, pipeline, champion_v1):
    forecaster = mlflow.pyfunc.load_model(f"models:/{MODEL}/1").unwrap_python_model().forecaster
    catalog = load_catalog({"sales": str(pipeline.parent / "data" / "sales.csv")})
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        plain = client.get("/forecast", params={"month": "2023-01"}).json()
        rows = client.get("/forecast", params={"month": "2023-01", "intervals": "95,80"}).json()
        assert list(rows[0]) == ["item_id", "month", "prediction", "lo_80", "hi_80", "lo_95", "hi_95", "model_version"]
        assert [row["prediction"] for row in rows] == [row["prediction"] for row in plain]
        expected = forecaster.predict(catalog, [parse_month("2023-01")], items=[1, 2, 3, 4], levels=[80, 95])
        assert [row["hi_95"] for row in rows] == pytest.approx(expected["hi_95"].tolist())
        for row in rows:
            assert 0 <= row["lo_95"] <= row["lo_80"] <= row["prediction"] <= row["hi_80"] <= row["hi_95"]
        path = client.get("/forecast", params={"item_id": "3", "horizon": 6, "intervals": "80"}).json()
        widths = [row["hi_80"] - row["lo_80"] for row in path]
        assert (np.diff(widths) >= -1e-9).all() and widths[-1] > widths[0]
        assert path[0]["hi_80"] == pytest.approx(rows[2]["hi_80"])  # step 1 is the one-month-ahead interval
        for bad, words in (("0,80", "between 0 and 100"), ("80,,95", "comma-separated"), ("high", "not a number")):
            response = client.get("/forecast", params={"month": "2023-01", "intervals": bad})
            assert response.status_code == 422 and words in response.json()["detail"], response.text
        served = client.app.state.serving.champions.champion.forecaster
        del served.calibration_  # a champion from before intervals existed
        response = client.get("/forecast", params={"month": "2023-01", "intervals": "80"})
        assert response.status_code == 422 and "without interval calibration" in response.json()["detail"]
        assert client.get("/health").json()["champion"]["intervals"] == {"calibrated": False, "method": None}
        assert client.get("/forecast", params={"month": "2023-01"}).status_code == 200


def test_bad_requests_get_4xx_with_a_message(settings, champion_v1):
    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, "1")
        for params, status, words in BAD_REQUESTS:
            response = client.get("/forecast", params=params)
            assert response.status_code == status, (params, response.text)
            assert words in response.json()["detail"], (params, response.text)


def test_a_new_champion_is_served_without_restart(settings, pipeline, champion_v1):
    second = run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-12"))
    assert second.version == "2"
    client_mlflow = store_client(settings)
    client_mlflow.set_registered_model_alias(MODEL, "champion", "1")  # whatever the rule said: v1 serves first
    admin = settings.model_copy(update={"admin_token": "s3cret"})
    with TestClient(create_app(admin)) as client:
        wait_for_champion(client, "1")
        assert client.get("/forecast", params={"month": "2023-01"}).json()[0]["model_version"] == "1"
        client_mlflow.set_registered_model_alias(MODEL, "champion", "2")
        assert client.post("/admin/reload_model").status_code == 401
        reloaded = client.post("/admin/reload_model/", headers={"Authorization": "Bearer s3cret"})
        assert reloaded.status_code == 200
        assert reloaded.json()["changed"] is True and reloaded.json()["champion"]["version"] == "2"
        assert {row["model_version"] for row in client.get("/forecast", params={"month": "2023-01"}).json()} == {"2"}
        assert client.get("/health").json()["champion"]["training_month"] == "2022-12"

    watched = settings.model_copy(update={"champion_poll_seconds": 0.2})
    with TestClient(create_app(watched)) as client:
        wait_for_champion(client, "2")
        client_mlflow.set_registered_model_alias(MODEL, "champion", "1")
        rows = wait_for_forecast_version(client, {"item_id": "1", "horizon": 2}, "1", timeout=30)
        assert len(rows) == 2


def corrupt_model_files(settings, version: str) -> None:
    """Overwrite the pickled model of ``version`` in the artifact store: it is registered but cannot load."""
    client = store_client(settings)
    source = client.get_model_version(MODEL, version).source  # models:/<logged model id>
    location = client.get_logged_model(source.removeprefix("models:/")).artifact_location
    (Path(unquote(urlparse(location).path)) / "python_model.pkl").write_bytes(b"not a pickle")


def test_health_reports_each_champion_problem_while_the_champion_keeps_serving(settings, pipeline, champion_v1):
    # Regression: /health answered "ok" whenever some champion was loaded, whatever happened next.
    second = run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-12"))
    assert second.version == "2"
    corrupt_model_files(settings, "2")
    registry = store_client(settings)
    registry.set_registered_model_alias(MODEL, "champion", "1")
    admin = {"Authorization": "Bearer s3cret"}
    with TestClient(create_app(settings.model_copy(update={"admin_token": "s3cret"}))) as client:
        wait_for_champion(client, "1")
        served = [row["prediction"] for row in client.get("/forecast", params={"month": "2023-01"}).json()]

        # A promoted version that fails to load: v1 keeps serving, /health says which version failed and why.
        registry.set_registered_model_alias(MODEL, "champion", "2")
        reloaded = client.post("/admin/reload_model", headers=admin)
        assert reloaded.status_code == 200 and reloaded.json()["changed"] is False
        health = client.get("/health")
        assert health.status_code == 200
        champion = health.json()["champion"]
        assert (champion["status"], champion["version"]) == ("degraded", "1")
        [problem] = champion["problems"]
        assert (problem["problem"], problem["version"]) == ("load_failed", "2")
        assert problem["detail"].startswith(f"could not load {MODEL} v2: ")
        assert problem["detail"].endswith("still serving v1")
        rows = client.get("/forecast", params={"month": "2023-01"}).json()
        assert {row["model_version"] for row in rows} == {"1"} and [row["prediction"] for row in rows] == served

        # The alias disappears: still v1, and the problem is now the missing alias (the failed load is moot).
        registry.delete_registered_model_alias(MODEL, "champion")
        client.post("/admin/reload_model", headers=admin)
        champion = client.get("/health").json()["champion"]
        assert (champion["status"], champion["version"]) == ("degraded", "1")
        assert [(item["problem"], item["version"]) for item in champion["problems"]] == [("alias_missing", None)]
        assert f"no version of {MODEL} holds the 'champion' alias any more" in champion["problems"][0]["detail"]
        assert client.get("/forecast", params={"month": "2023-01"}).status_code == 200

        # Checks outside the registry (the served source, issue 16) report through the same list.
        holder = client.app.state.serving.champions
        holder.report_problem(ChampionProblem("source_mismatch", "trained on another source", "1"))
        kinds = [item["problem"] for item in client.get("/health").json()["champion"]["problems"]]
        assert kinds == ["alias_missing", "source_mismatch"]
        holder.clear_problem("source_mismatch")

        # The alias comes back: nothing is wrong any more.
        registry.set_registered_model_alias(MODEL, "champion", "1")
        client.post("/admin/reload_model", headers=admin)
        champion = client.get("/health").json()["champion"]
        assert (champion["status"], champion["version"], champion["problems"]) == ("ok", "1", [])

    # A server that starts on the broken version has nothing to serve: 503, and /health says why (still 200).
    registry.set_registered_model_alias(MODEL, "champion", "2")
    with TestClient(create_app(settings)) as client:
        champion = wait_for_health(client, lambda champion: champion["problems"], "the failed first load")
        assert client.get("/health").status_code == 200
        assert champion["status"] == "unavailable"
        assert [(item["problem"], item["version"]) for item in champion["problems"]] == [("load_failed", "2")]
        response = client.get("/forecast", params={"month": "2023-01"})
        assert response.status_code == 503 and f"could not load {MODEL} v2" in response.json()["detail"]


ALL_FEATURES = [
    "last_month", "same_month_last_year", "last_year_average", "growth", "marketing", "price", "stock", "objectives",
]  # fmt: skip


@pytest.mark.slow
def test_horizon_one_is_the_next_month_forecast_for_a_champion_with_all_eight_features(tmp_path, mlflow_settings):
    # Regression: the horizon path dropped the stock history, so a CustomModel with stock lost its
    # stockout correction and horizon=1 differed from month=L+1.
    data = tmp_path / "data"
    generate_sales_data(data, seed=0, items=8, months=48, shortage_probability=0.3)
    tables = {name: f"data/{name}.csv" for name in ("sales", "marketing", "price", "stock", "objectives")}
    pipeline = write_pipeline(
        tmp_path / "pipeline.yaml",
        {"kind": "csv", "data": tables},
        model="CustomModel",
        features=ALL_FEATURES,
        lifecycle={"window": 12},
    )
    trained = run_training_job(load_pipeline_config(pipeline), mlflow_settings)
    store_client(mlflow_settings).set_registered_model_alias(MODEL, "champion", trained.version)
    settings = mlflow_settings.model_copy(update={"pipeline_config": pipeline, "champion_poll_seconds": 0})
    catalog = load_catalog(tables, base_dir=tmp_path)
    last = catalog.months()[-1]
    following = format_month(shift_month(last, 1))
    forecaster = mlflow.pyfunc.load_model(f"models:/{MODEL}/{trained.version}").unwrap_python_model().forecaster

    with TestClient(create_app(settings)) as client:
        wait_for_champion(client, trained.version)
        month = client.get("/forecast", params={"month": following}).json()
        horizon = client.get("/forecast", params={"horizon": 1}).json()
        assert [row["month"] for row in horizon] == [following] * 8
        assert horizon == month
        for row in month:  # one item's path is computed on that item alone: the same number
            [alone] = client.get("/forecast", params={"item_id": str(row["item_id"]), "horizon": 2}).json()[:1]
            assert alone == row

    expected = forecaster.predict(catalog, [shift_month(last, 1)], items=list(range(1, 9)))
    assert [row["prediction"] for row in month] == pytest.approx(expected["prediction"].tolist(), rel=1e-12)
    # The equality is not trivial: items that ran out of stock in the last month get their unmet demand back,
    # which a forecast without the stock history misses.
    truth = pd.read_csv(data / "truth.csv", parse_dates=["dates"])
    stocked_out = truth.loc[(truth["dates"] == last) & truth["stockout"], "item_id"].tolist()
    assert stocked_out
    blind = dataclasses.replace(catalog, stock=catalog.stock.iloc[:0])
    without_stock = forecaster.predict(blind, [shift_month(last, 1)], items=stocked_out)
    served = {row["item_id"]: row["prediction"] for row in month}
    for item, prediction in zip(stocked_out, without_stock["prediction"], strict=True):
        assert served[item] > prediction, item


def test_a_request_never_sees_half_of_a_hot_swap(settings, pipeline, champion_v1):
    second = run_training_job(load_pipeline_config(pipeline), settings, test_month=parse_month("2022-12"))
    registry = store_client(settings)
    requests = [{"month": "2023-01"}, {"item_id": "2", "horizon": 3}]
    admin = {"Authorization": "Bearer s3cret"}
    with TestClient(create_app(settings.model_copy(update={"admin_token": "s3cret"}))) as client:
        expected = {}  # what each version answers when it is alone
        for version in ("1", second.version):
            registry.set_registered_model_alias(MODEL, "champion", version)
            client.post("/admin/reload_model", headers=admin)
            expected[version] = [client.get("/forecast", params=params).json() for params in requests]
        assert expected["1"] != expected["2"]

        stop = threading.Event()
        answers: list[tuple[int, list[dict]]] = []

        def read() -> None:
            while not stop.is_set():
                for index, params in enumerate(requests):
                    answers.append((index, client.get("/forecast", params=params).json()))

        readers = [threading.Thread(target=read) for _ in range(3)]
        for reader in readers:
            reader.start()
        try:
            for swap in range(20):
                registry.set_registered_model_alias(MODEL, "champion", "2" if swap % 2 else "1")
                assert client.post("/admin/reload_model", headers=admin).json()["changed"] is True
                time.sleep(0.02)
        finally:
            stop.set()
            for reader in readers:
                reader.join(30)

    seen = set()
    for index, rows in answers:
        [version] = {row["model_version"] for row in rows}  # one version per answer, never a mix
        assert rows == expected[version][index]  # and that version's numbers, every one of them
        seen.add(version)
    assert seen == {"1", "2"} and len(answers) > 40
