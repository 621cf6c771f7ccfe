"""Where the MLflow store is: settings first, then MLFLOW_TRACKING_URI, then ./mlruns/."""

from __future__ import annotations

from pathlib import Path

import pytest

from salescast.lifecycle.tracking import DEFAULT_TRACKING_URI, StoreLockedError, TrackingStore, sqlite_path
from salescast.settings import Settings


def test_default_store_is_sqlite_under_mlruns_with_artifacts_beside(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    store = TrackingStore.from_settings(Settings())
    assert store.uri == DEFAULT_TRACKING_URI == "sqlite:///mlruns/mlflow.db"
    assert store.artifact_root == tmp_path / "mlruns" / "artifacts"
    assert (store.experiment_name, store.model_name) == ("salescast-lifecycle", "salescast-forecaster")


def test_settings_win_over_the_mlflow_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert TrackingStore.from_settings(Settings()).uri == "http://mlflow.internal:5000"
    assert TrackingStore.from_settings(Settings()).artifact_root is None
    monkeypatch.setenv("SALESCAST_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/store/m.db")
    monkeypatch.setenv("SALESCAST_REGISTERED_MODEL_NAME", "backtest-model")
    store = TrackingStore.from_settings(Settings())
    assert store.uri == f"sqlite:///{tmp_path}/store/m.db"
    assert store.artifact_root == tmp_path / "store" / "artifacts"
    assert store.model_name == "backtest-model"


def test_sqlite_path_and_ui_command(tmp_path):
    assert sqlite_path("sqlite:///mlruns/mlflow.db") == Path("mlruns/mlflow.db")
    assert sqlite_path("sqlite:////abs/m.db?timeout=5") == Path("/abs/m.db")
    assert sqlite_path("postgresql://db/mlflow") is None
    store = TrackingStore(f"sqlite:///{tmp_path}/m.db", tmp_path / "artifacts", "e", "m")
    command = store.ui_command("127.0.0.1", 5001)
    assert command[1:5] == ["-m", "mlflow", "ui", "--backend-store-uri"]
    assert command[5] == f"sqlite:///{tmp_path}/m.db"
    assert command[command.index("--default-artifact-root") + 1] == (tmp_path / "artifacts").as_uri()
    assert command[-6:] == ["--workers", "1", "--host", "127.0.0.1", "--port", "5001"]


def test_job_lock_is_exclusive_and_released(tmp_path):
    store = TrackingStore(f"sqlite:///{tmp_path}/m.db", tmp_path / "artifacts", "e", "m")
    with (
        store.job_lock(),
        pytest.raises(StoreLockedError, match="another training job has held"),
        store.job_lock(timeout=0.3),
    ):
        pass
    with store.job_lock(timeout=0.3):
        assert (tmp_path / "salescast-train.lock").exists()
