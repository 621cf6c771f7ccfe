"""Where MLflow keeps runs, artifacts and the model registry, and how the job connects to it.

The tracking URI is, in order: ``Settings.mlflow_tracking_uri`` (``SALESCAST_MLFLOW_TRACKING_URI``),
``MLFLOW_TRACKING_URI``, else :data:`DEFAULT_TRACKING_URI` — a SQLite file under ``./mlruns/``.
For a SQLite store the artifacts live in an ``artifacts/`` folder beside the database file, so a
store is one self-contained folder. The registry uses the same URI as tracking.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from salescast.settings import Settings

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
ARTIFACTS_FOLDER = "artifacts"
LOCK_NAME = "salescast-train.lock"
LOCK_TIMEOUT_SECONDS = 3600.0


class StoreLockedError(RuntimeError):
    """Another training job kept the store locked for longer than the timeout."""


logger = logging.getLogger(__name__)


def resolve_tracking_uri(settings: Settings) -> str:
    """The tracking URI the settings, then ``MLFLOW_TRACKING_URI``, then the default name."""
    return settings.mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///path`` URI (relative paths stay relative), else None."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri == "sqlite:///:memory:":
        return None
    return Path(uri[len(prefix) :].split("?", 1)[0])


def _route_mlflow_logs() -> None:
    """Once the application has configured logging, send MLflow's records through it (one log format)."""
    if not logging.getLogger().handlers:
        return
    mlflow_logger = logging.getLogger("mlflow")
    mlflow_logger.handlers.clear()
    mlflow_logger.propagate = True


@dataclass(frozen=True)
class TrackingStore:
    """One MLflow store: its URI, the local artifact folder (None for a server) and the names used in it."""

    uri: str
    artifact_root: Path | None
    experiment_name: str
    model_name: str

    @classmethod
    def from_settings(cls, settings: Settings, model_name: str | None = None) -> TrackingStore:
        """The settings' store; ``model_name`` is the pipeline's registered model (see ``registered_model_name``)."""
        from salescast.lifecycle.sources import DEFAULT_MODEL_NAME

        uri = resolve_tracking_uri(settings)
        database = sqlite_path(uri)
        artifact_root = database.resolve().parent / ARTIFACTS_FOLDER if database is not None else None
        name = model_name or settings.registered_model_name or DEFAULT_MODEL_NAME
        return cls(uri, artifact_root, settings.mlflow_experiment, name)

    @classmethod
    def for_pipeline(cls, settings: Settings, pipeline) -> TrackingStore:
        """The settings' store, holding ``pipeline``'s registered model."""
        from salescast.lifecycle.sources import registered_model_name

        return cls.from_settings(settings, registered_model_name(pipeline, settings))

    def connect(self):
        """Point MLflow (tracking and registry) at this store and return an ``MlflowClient``.

        Creates the SQLite folder when needed; MLflow creates its tables on first use (a few seconds).
        """
        import mlflow
        from mlflow import MlflowClient

        database = sqlite_path(self.uri)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        _route_mlflow_logs()
        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def experiment_id(self, client) -> str:
        """The experiment's id, creating it (artifacts under :attr:`artifact_root`) on first use."""
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        location = self.artifact_root.as_uri() if self.artifact_root is not None else None
        logger.info("creating MLflow experiment %r (artifacts: %s)", self.experiment_name, location or "server default")
        return client.create_experiment(self.experiment_name, artifact_location=location)

    @contextlib.contextmanager
    def job_lock(self, timeout: float = LOCK_TIMEOUT_SECONDS):
        """Hold an exclusive lock on a local store while a job registers (overlapping cron runs queue up).

        A file lock beside the SQLite database; a server store (no local folder) is not locked.
        Raises :class:`StoreLockedError` after ``timeout`` seconds of waiting.
        """
        if self.artifact_root is None:
            yield
            return
        path = self.artifact_root.parent / LOCK_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            deadline = time.monotonic() + timeout
            waited = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreLockedError(
                            f"another training job has held {path} for over {timeout:.0f} s; "
                            "wait for it to finish (or remove the file if no job is running)"
                        ) from None
                    if not waited:
                        logger.info("another training job is running on this store; waiting for it")
                        waited = True
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ui_command(self, host: str, port: int) -> list[str]:
        """The ``mlflow ui`` command line serving this store."""
        import sys

        command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", self.uri]
        if self.artifact_root is not None:
            command += ["--default-artifact-root", self.artifact_root.as_uri()]
        # One worker: a local UI serves one person, and each worker takes seconds to import MLflow.
        return [*command, "--workers", "1", "--host", host, "--port", str(port)]
