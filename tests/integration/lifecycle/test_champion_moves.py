"""One registered model per pipeline, the source each version records, and moving the champion by hand."""

from __future__ import annotations

import pytest
from tests.lifecycle_support import (
    empty_mlflow_db,
    fill_database,
    mlflow_settings,
    store_client,
    write_monthly_sales,
    write_pipeline,
)
from typer.testing import CliRunner

from salescast.cli import app
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.registry import ModelRegistry, read_registry
from salescast.lifecycle.sources import SourceMismatchError, load_pipeline_config
from salescast.lifecycle.tracking import TrackingStore
from salescast.serving.champion import ChampionHolder

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "items"


@pytest.fixture
def pipeline(tmp_path):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=3)
    return write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}}, name=MODEL)


@pytest.fixture
def three_versions(pipeline, mlflow_settings):
    """v1 (first champion), then v2 and v3 on later months, whatever the rule decided for them."""
    config = load_pipeline_config(pipeline)
    return [
        run_training_job(config, mlflow_settings, test_month=parse_month(m)) for m in ("2022-10", "2022-11", "2022-12")
    ]


def cli(settings, *args):
    env = {
        "SALESCAST_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "SALESCAST_DATABASE_URL": settings.database_url,
        "USER": "alice",
    }
    return CliRunner().invoke(app, list(args), env=env)


def aliases(settings) -> dict[str, str]:
    model = store_client(settings).get_registered_model(MODEL)
    return {alias: str(version) for alias, version in model.aliases.items()}


def test_each_version_records_its_source_and_the_pipeline_s_name(pipeline, mlflow_settings, three_versions):
    version = store_client(mlflow_settings).get_model_version(MODEL, "1")
    assert version.tags["source_kind"] == "csv"
    assert version.tags["source_location"] == str((pipeline.parent / "data" / "sales.csv").resolve())
    assert version.tags["source_item_count"] == "3" and len(version.tags["source_items"]) == 16


def test_a_champion_from_another_source_is_never_compared(tmp_path, pipeline, mlflow_settings, three_versions):
    fill_database(mlflow_settings.database_url)
    database = write_pipeline(tmp_path / "vegetables.yaml", {"kind": "database"}, name=MODEL)  # same name, by mistake
    with pytest.raises(SourceMismatchError, match=r"was trained on csv .*sales.csv, 3 items"):
        run_training_job(load_pipeline_config(database), mlflow_settings, test_month=parse_month("2022-10"))
    result = cli(mlflow_settings, "train", "--config", str(database), "--test-month", "2022-10")
    assert result.exit_code == 1 and "One registered model serves one pipeline" in " ".join(result.output.split())
    assert len(store_client(mlflow_settings).search_model_versions(f"name='{MODEL}'")) == 3
    # Its own name (the file's stem by default) gives the database pipeline a model of its own.
    own = write_pipeline(tmp_path / "vegetables.yaml", {"kind": "database"})
    first = run_training_job(load_pipeline_config(own), mlflow_settings, test_month=parse_month("2022-10"))
    assert first.version == "1" and store_client(mlflow_settings).get_model_version("vegetables", "1")


def test_promote_and_rollback_move_the_champion_and_record_who_and_why(pipeline, mlflow_settings, three_versions):
    champion_before = aliases(mlflow_settings)["champion"]
    target = next(r.version for r in three_versions if r.version != champion_before)

    promoted = cli(mlflow_settings, "promote", target, "--reason", "v1 overfits the sale", "--config", str(pipeline))

    assert promoted.exit_code == 0, promoted.output
    assert f"champion v{champion_before} → v{target}" in promoted.output
    moved = aliases(mlflow_settings)
    assert moved["champion"] == target and moved["previous_champion"] == champion_before
    tags = store_client(mlflow_settings).get_model_version(MODEL, target).tags
    assert tags["promoted_reason"] == "v1 overfits the sale" and tags["promoted_by"].startswith("alice@")
    assert tags["promotion"] == "promote"

    rolled = cli(mlflow_settings, "rollback", "--reason", "worse on the dashboard", "--config", str(pipeline))

    assert rolled.exit_code == 0, rolled.output
    back = aliases(mlflow_settings)
    assert back["champion"] == champion_before and back["previous_champion"] == target
    history = cli(mlflow_settings, "history", "--config", str(pipeline))
    text = " ".join(history.output.split())
    assert "Champion moved by hand" in text
    assert f"v{champion_before} → v{target}" in text and f"v{target} → v{champion_before}" in text
    assert "v1 overfits the sale" in text and "worse on the dashboard" in text and "alice@" in text
    events = ModelRegistry(store_client(mlflow_settings), MODEL).events()
    assert [(e.action, e.previous, e.version) for e in events] == [
        ("promote", champion_before, target),
        ("rollback", target, champion_before),
    ]


def test_the_api_s_holder_picks_up_a_promotion(pipeline, mlflow_settings, three_versions):
    holder = ChampionHolder(mlflow_settings, MODEL)
    assert holder.refresh() is True
    before = holder.require().version
    target = next(r.version for r in three_versions if r.version != before)
    ModelRegistry(store_client(mlflow_settings), MODEL).promote(target, "test", "tester@host")
    assert holder.refresh() is True and holder.require().version == target


def test_promote_errors(pipeline, mlflow_settings, three_versions):
    champion = aliases(mlflow_settings)["champion"]
    unknown = cli(mlflow_settings, "promote", "9", "--config", str(pipeline))
    assert unknown.exit_code == 1 and "has no version '9' (versions: 1, 2, 3)" in unknown.output
    again = cli(mlflow_settings, "promote", champion, "--config", str(pipeline))
    assert again.exit_code == 1 and f"version {champion} already is the champion" in again.output


def test_rollback_without_a_previous_champion_says_so(pipeline, mlflow_settings):
    run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-10"))
    result = cli(mlflow_settings, "rollback", "--config", str(pipeline))
    assert result.exit_code == 1 and "no previous champion to roll back to" in result.output


def test_an_automatic_promotion_also_keeps_the_rollback_target(pipeline, mlflow_settings):
    run_training_job(load_pipeline_config(pipeline), mlflow_settings, test_month=parse_month("2022-10"))
    client = store_client(mlflow_settings)
    first = client.get_model_version(MODEL, "1")
    # What the job does when its rule promotes a candidate: register with promote=True.
    ModelRegistry(client, MODEL).register(first.source, first.run_id, {"decision": "promoted"}, promote=True)
    assert aliases(mlflow_settings) == {"champion": "2", "challenger": "2", "previous_champion": "1"}


def test_history_read_straight_from_sqlite_equals_mlflow_s_answer(pipeline, mlflow_settings, three_versions):
    registry = ModelRegistry(store_client(mlflow_settings), MODEL)
    champion = registry.version_by_alias("champion").version
    registry.promote(next(r.version for r in three_versions if r.version != str(champion)), "why", "me@host")
    store = TrackingStore.from_settings(mlflow_settings, MODEL)
    fast_entries, fast_events = read_registry(store)
    assert fast_entries == registry.history()
    assert fast_events == registry.events() and len(fast_events) == 1
