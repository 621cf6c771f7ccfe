"""The champion model in memory: loaded from ``models:/<name>@champion`` and swapped when the alias moves.

:class:`ChampionHolder` keeps one immutable :class:`Champion` (the fitted forecaster, its version and
training month). :meth:`ChampionHolder.refresh` asks the registry which version holds the alias — one
cheap query — and loads that version only when it differs from the one in memory, then replaces the
reference in one assignment: a request sees either the old champion or the new one, never a mix.
:class:`ChampionWatcher` calls ``refresh`` from a daemon thread every ``champion_poll_seconds``
(its first call loads the champion, so the API starts without waiting for MLflow).

A version is loaded by number (``models:/<name>/<version>``), not by alias, so an alias moved between the
check and the load cannot hand us a different model than the one we report.

Problems never take a serving champion away: a version that fails to load, an alias that disappears or
a registry that stops answering leave the current champion serving, and each is kept as a
:class:`ChampionProblem` (one per kind, replaced or cleared by the next check) that ``/health`` reports
next to the version still serving. Checks outside the holder (e.g. whether the champion was trained on
the source the API reads) record theirs with :meth:`ChampionHolder.report_problem` under a kind of
their own.
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


# Kinds of problem the holder's own check finds; other checks add kinds of their own.
REGISTRY_UNREACHABLE = "registry_unreachable"
ALIAS_MISSING = "alias_missing"
LOAD_FAILED = "load_failed"
CHECK_PROBLEMS = (REGISTRY_UNREACHABLE, ALIAS_MISSING, LOAD_FAILED)


@dataclass(frozen=True)
class ChampionProblem:
    """One thing wrong with the champion: its ``kind``, the registry ``version`` it concerns (if any), why."""

    kind: str
    detail: str
    version: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"problem": self.kind, "version": self.version, "detail": self.detail}


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
        """What ``/health`` and the reload endpoint report, with whether it can give intervals."""
        return {
            "name": self.name,
            "version": self.version,
            "training_month": self.training_month,
            "train_months": self.train_months,
            "intervals": interval_metadata(self.forecaster),
        }


def interval_metadata(forecaster) -> dict[str, Any]:
    """``{"calibrated": …, "method": …}`` of a forecaster's stored interval calibration (none: not calibrated)."""
    calibration = getattr(forecaster, "calibration_", None)
    if calibration is None:
        return {"calibrated": False, "method": None}
    return calibration.describe()


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
        self._problems: dict[str, ChampionProblem] = {}  # replaced as a whole, never mutated: safe to read
        self.checked_at: float | None = None

    @property
    def champion(self) -> Champion | None:
        return self._champion

    @property
    def problems(self) -> list[ChampionProblem]:
        """What is wrong now (empty when the champion serves as it should), in the order found."""
        return list(self._problems.values())

    @property
    def status(self) -> str:
        """``"ok"``, or the problems' details (why there is no champion, or what the served one is missing)."""
        problems = self._problems
        if problems:
            return "; ".join(problem.detail for problem in problems.values())
        if self._champion is None:
            return "loading: the champion has not been looked up yet"
        return "ok"

    def describe(self) -> dict[str, Any]:
        """What ``/health`` reports: ``status`` ok / degraded (a champion serves despite ``problems``) /
        unavailable, the version serving, and each problem with the version it concerns and why."""
        champion, problems = self._champion, self.problems
        listed = [problem.describe() for problem in problems]
        if champion is None:
            return {"status": "unavailable", "detail": self.status, "problems": listed}
        return {"status": "degraded" if problems else "ok", **champion.describe(), "problems": listed}

    def report_problem(self, problem: ChampionProblem) -> None:
        """Record ``problem`` (replacing any earlier one of its kind) until :meth:`clear_problem`."""
        self._problems = {**self._problems, problem.kind: problem}

    def clear_problem(self, *kinds: str) -> None:
        """Forget the problems of these kinds (they are solved)."""
        if any(kind in self._problems for kind in kinds):
            self._problems = {kind: problem for kind, problem in self._problems.items() if kind not in kinds}

    def _still_serving(self) -> str:
        current = self._champion
        return f"; still serving v{current.version}" if current is not None else ""

    def require(self) -> Champion:
        """The current champion, or :class:`NoChampionError` saying why there is none."""
        champion = self._champion
        if champion is None:
            raise NoChampionError(f"no champion model is being served: {self.status}")
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

        Never raises for a missing store or champion (the API keeps serving what it has); what it
        finds wrong replaces the previous check's problems (:attr:`problems`).
        """
        with self._refresh_lock:
            self.checked_at = time.time()
            try:
                version = self.current_version()
            except NoChampionError as error:
                self._check_found(ChampionProblem(REGISTRY_UNREACHABLE, f"{error}{self._still_serving()}"))
                return False
            except Exception as error:  # a store that is down must not kill the watcher
                detail = f"cannot reach the MLflow registry at {self.store.uri}: {error}{self._still_serving()}"
                logger.warning(detail)
                self._check_found(ChampionProblem(REGISTRY_UNREACHABLE, detail))
                return False
            current = self._champion
            if version is None:
                if current is None:
                    detail = (
                        f"no version of {self.store.model_name} holds the '{CHAMPION_ALIAS}' alias in "
                        f"{self.store.uri}: run `salescast train` until a version is promoted"
                    )
                else:
                    detail = (
                        f"no version of {self.store.model_name} holds the '{CHAMPION_ALIAS}' alias any more in "
                        f"{self.store.uri}{self._still_serving()} (promote a version to replace it)"
                    )
                    logger.warning(detail)
                self._check_found(ChampionProblem(ALIAS_MISSING, detail))
                return False
            if current is not None and current.version == str(version.version):
                self._check_found(None)
                return False
            try:
                champion = self._load(version)
            except Exception as error:
                detail = f"could not load {self.store.model_name} v{version.version}: {error}{self._still_serving()}"
                logger.exception("loading the champion failed; keeping %s", current and f"v{current.version}")
                self._check_found(ChampionProblem(LOAD_FAILED, detail, str(version.version)))
                return False
            self._champion = champion
            self._check_found(None)
            logger.info(
                "serving %s v%s (training month %s)%s",
                champion.name,
                champion.version,
                champion.training_month,
                f", replacing v{current.version}" if current else "",
            )
            return True

    def _check_found(self, problem: ChampionProblem | None) -> None:
        """This check's result replaces the last check's problems; other checks' problems stay."""
        kept = {kind: known for kind, known in self._problems.items() if kind not in CHECK_PROBLEMS}
        self._problems = kept if problem is None else {**kept, problem.kind: problem}

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
