"""The champion model in memory: loaded from ``models:/<name>@champion`` and swapped when the alias moves.

:class:`ChampionHolder` keeps one immutable :class:`Champion` (the fitted forecaster, its version and
training month). :meth:`ChampionHolder.refresh` asks the registry which version holds the alias — one
cheap query — and loads that version only when it differs from the one in memory, then replaces the
reference in one assignment: a request sees either the old champion or the new one, never a mix.
:class:`ChampionWatcher` calls ``refresh`` from a daemon thread every ``champion_poll_seconds``
(its first call loads the champion, so the API starts without waiting for MLflow).

A version is loaded by number (``models:/<name>/<version>``), not by alias, so an alias moved between the
check and the load cannot hand us a different model than the one we report. A failed load keeps the
previous champion and is reported by :attr:`ChampionHolder.status`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from salescast.lifecycle.sources import SourceIdentity
from salescast.lifecycle.tracking import TrackingStore, sqlite_path
from salescast.settings import Settings

logger = logging.getLogger(__name__)

CHAMPION_ALIAS = "champion"


class NoChampionError(RuntimeError):
    """No champion is being served (none registered, no MLflow store, or still loading); the message says which."""


class ChampionSourceError(NoChampionError):
    """The champion was trained on another source than the one served: it is not used (503 with the reason)."""


@dataclass(frozen=True)
class Champion:
    """One loaded champion version. ``training_month`` is the month of the job that trained it (its test month)."""

    name: str
    version: str
    training_month: str | None
    train_months: list[str]
    forecaster: Any
    context: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    loaded_at: float = field(default_factory=time.time)
    source: SourceIdentity | None = None  # what it was trained on (None: a version from before sources were recorded)

    def describe(self) -> dict[str, Any]:
        """What ``/health`` and the reload endpoint report."""
        return {
            "name": self.name,
            "version": self.version,
            "training_month": self.training_month,
            "train_months": self.train_months,
        }


def champion_from_version(name: str, version, python_model) -> Champion:
    """A :class:`Champion` from an MLflow ``ModelVersion`` and its unwrapped :class:`ForecasterModel`."""
    tags = version.tags or {}
    return Champion(
        name=name,
        version=str(version.version),
        training_month=tags.get("test_month") or None,
        train_months=[month for month in tags.get("train_months", "").split(",") if month],
        forecaster=python_model.forecaster,
        context=dict(getattr(python_model, "context", {}) or {}),
        run_id=version.run_id,
        source=SourceIdentity.from_tags(tags),
    )


class ChampionHolder:
    """The champion currently served, and how to pick up a newly promoted one."""

    def __init__(self, settings: Settings, model_name: str | None = None) -> None:
        """``model_name``: the pipeline's registered model (default: the settings', see ``registered_model_name``)."""
        self.store = TrackingStore.from_settings(settings, model_name)
        self._champion: Champion | None = None
        self._client = None
        self._refresh_lock = threading.Lock()
        self._status = "loading: the champion has not been looked up yet"
        self.checked_at: float | None = None

    @property
    def champion(self) -> Champion | None:
        return self._champion

    @property
    def status(self) -> str:
        """Why there is no champion, or the last problem met while checking for a new one."""
        return self._status

    def require(self) -> Champion:
        """The current champion, or :class:`NoChampionError` saying why there is none."""
        champion = self._champion
        if champion is None:
            raise NoChampionError(f"no champion model is being served: {self._status}")
        return champion

    def _connect(self):
        if self._client is None:
            database = sqlite_path(self.store.uri)
            if database is not None and not database.exists():
                raise NoChampionError(
                    f"no MLflow store at {database}: run `salescast train` (or set SALESCAST_MLFLOW_TRACKING_URI)"
                )
            self._client = self.store.connect()
        return self._client

    def current_version(self):
        """The registry's ``ModelVersion`` holding the champion alias (one query), or None when there is none."""
        client = self._connect()  # first: no MLflow import at all while there is no store
        from mlflow.exceptions import MlflowException

        try:
            return client.get_model_version_by_alias(self.store.model_name, CHAMPION_ALIAS)
        except MlflowException:
            return None

    def refresh(self) -> bool:
        """Load the alias's version if it is not the one in memory; True when the champion changed.

        Never raises for a missing store or champion (the API keeps serving what it has); an
        unexpected error is logged and kept in :attr:`status`.
        """
        with self._refresh_lock:
            self.checked_at = time.time()
            try:
                version = self.current_version()
            except NoChampionError as error:
                self._status = str(error)
                return False
            except Exception as error:  # a store that is down must not kill the watcher
                self._status = f"cannot reach the MLflow registry at {self.store.uri}: {error}"
                logger.warning(self._status)
                return False
            if version is None:
                if self._champion is None:
                    self._status = (
                        f"no version of {self.store.model_name} holds the '{CHAMPION_ALIAS}' alias in "
                        f"{self.store.uri}: run `salescast train` until a version is promoted"
                    )
                return False
            current = self._champion
            if current is not None and current.version == str(version.version):
                return False
            try:
                champion = self._load(version)
            except Exception as error:
                self._status = f"could not load {self.store.model_name} v{version.version}: {error}"
                logger.exception("loading the champion failed; keeping %s", current and f"v{current.version}")
                return False
            self._champion = champion
            self._status = "ok"
            logger.info(
                "serving %s v%s (training month %s)%s",
                champion.name,
                champion.version,
                champion.training_month,
                f", replacing v{current.version}" if current else "",
            )
            return True

    def load_version(self, version: str) -> Champion:
        """Load registered ``version`` itself (not the alias) and hold it; :class:`NoChampionError` if it is unknown.

        For batch forecasts of a chosen version (``salescast forecast --model-version N``); a watcher would
        replace it at its next check, so this is for holders without one.
        """
        client = self._connect()
        from mlflow.exceptions import MlflowException

        try:
            model_version = client.get_model_version(self.store.model_name, str(version))
        except MlflowException:
            raise NoChampionError(f"{self.store.model_name} has no version {version!r} in {self.store.uri}") from None
        with self._refresh_lock:
            self._champion = self._load(model_version)
            self._status = "ok"
        return self._champion

    def _load(self, version) -> Champion:
        import mlflow

        started = time.perf_counter()
        model = mlflow.pyfunc.load_model(f"models:/{self.store.model_name}/{version.version}")
        champion = champion_from_version(self.store.model_name, version, model.unwrap_python_model())
        logger.info("loaded %s v%s in %.2f s", champion.name, champion.version, time.perf_counter() - started)
        return champion


class ChampionWatcher:
    """A daemon thread calling ``holder.refresh()`` now and then every ``interval`` seconds until stopped.

    ``interval`` 0 loads once and stops (reloads then only through the admin endpoint).
    """

    def __init__(self, holder: ChampionHolder, interval: float) -> None:
        self.holder = holder
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="champion-watcher", daemon=True)

    def start(self) -> ChampionWatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                self.holder.refresh()
            except Exception:  # never let the thread die
                logger.exception("champion check failed")
            if self.interval <= 0 or self._stop.wait(self.interval):
                return

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
