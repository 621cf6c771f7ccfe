"""The registered model's versions, aliases and decision tags, through the MLflow client.

Every version the monthly job registers carries its whole decision as tags (see :func:`decision_tags`),
so the promotion history is the list of versions with their tags — nothing is kept outside MLflow.
The newest version holds the ``challenger`` alias; the promoted one also holds ``champion``, and the
champion it replaced ``previous_champion`` (what ``salescast rollback`` restores).

A promotion by hand (``salescast promote`` / ``rollback``) is recorded twice: on the promoted version
(tags ``promoted_by``, ``promoted_reason``, ``promoted_at``, ``promotion``) and as an event of the
registered model (a tag ``alias_event.<milliseconds>`` holding JSON), so the history lists every move.

:func:`read_registry` reads a local SQLite store with ``sqlite3`` directly: importing MLflow takes
seconds, and ``salescast history`` should answer in one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from salescast.lifecycle.promotion import GATE_BASELINE, PromotionDecision

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"
FINGERPRINT_TAG = "fingerprint"
EVENT_TAG_PREFIX = "alias_event."
REPORTED_METRICS = ("rmse", "mae", "r2", "mape", "mase", "smape")


class RegistryError(ValueError):
    """A registry operation that cannot be done as asked (unknown version, nothing to roll back to)."""


logger = logging.getLogger(__name__)


def _format(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


def _parse(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def decision_tags(
    *,
    fingerprint: str,
    test_month: str,
    train_months: str,
    decision: PromotionDecision,
    candidate: Mapping[str, float],
    baselines: Mapping[str, Mapping[str, float]],
    champion: Mapping[str, float] | None,
) -> dict[str, str]:
    """The tags recorded on a version: both sets of metrics, the baselines, the outcome and its reason."""
    tags = {
        FINGERPRINT_TAG: fingerprint,
        "test_month": test_month,
        "train_months": train_months,
        "decision": decision.outcome,
        "decision_reason": decision.reason,
        "decided_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "improved_metrics": ",".join(decision.improved),
        "beats_baseline": str(decision.beats_baseline).lower(),
        "mase_not_worse": str(decision.mase_ok).lower(),
        "plausible": str(decision.plausible).lower(),
        "champion_version": decision.champion_version or "",
    }
    for metric in REPORTED_METRICS:
        tags[f"candidate_{metric}"] = _format(candidate.get(metric))
        tags[f"champion_{metric}"] = _format(champion.get(metric)) if champion else ""
    for name, metrics in baselines.items():
        for metric in REPORTED_METRICS:
            tags[f"baseline_{name}_{metric}"] = _format(metrics.get(metric))
    return tags


@dataclass(frozen=True)
class HistoryEntry:
    """One decision, read back from a version's tags."""

    version: str
    created: dt.datetime
    run_id: str
    test_month: str
    train_months: str
    decision: str
    reason: str
    candidate: dict[str, float | None]
    champion: dict[str, float | None]
    champion_version: str
    baseline_rmse: float | None
    fingerprint: str
    aliases: list[str] = field(default_factory=list)
    source: str = ""
    promoted_by: str = ""
    promoted_reason: str = ""
    promoted_at: str = ""
    baseline: dict[str, float] = field(default_factory=dict)  # the gate baseline's recorded metrics

    @classmethod
    def from_version(cls, version) -> HistoryEntry:
        from salescast.lifecycle.sources import SourceIdentity

        tags = version.tags
        identity = SourceIdentity.from_tags(tags)
        return cls(
            version=str(version.version),
            created=dt.datetime.fromtimestamp(version.creation_timestamp / 1000, tz=dt.UTC),
            run_id=version.run_id or "",
            test_month=tags.get("test_month", ""),
            train_months=tags.get("train_months", ""),
            decision=tags.get("decision", "undecided"),
            reason=tags.get("decision_reason", ""),
            candidate={metric: _parse(tags.get(f"candidate_{metric}")) for metric in REPORTED_METRICS},
            champion={metric: _parse(tags.get(f"champion_{metric}")) for metric in REPORTED_METRICS},
            champion_version=tags.get("champion_version", ""),
            baseline_rmse=_parse(tags.get(f"baseline_{GATE_BASELINE}_rmse")),
            fingerprint=tags.get(FINGERPRINT_TAG, ""),
            aliases=sorted(getattr(version, "aliases", []) or []),
            source=identity.describe() if identity else "",
            promoted_by=tags.get("promoted_by", ""),
            promoted_reason=tags.get("promoted_reason", ""),
            promoted_at=tags.get("promoted_at", ""),
            baseline={
                metric: value
                for metric in REPORTED_METRICS
                if (value := _parse(tags.get(f"baseline_{GATE_BASELINE}_{metric}"))) is not None
            },
        )


@dataclass(frozen=True)
class AliasEvent:
    """A move of the ``champion`` alias by hand: who, why, from which version to which."""

    at: str
    action: str  # "promote" or "rollback"
    version: str
    previous: str
    by: str
    reason: str

    def tag(self) -> tuple[str, str]:
        """(key, value) of the registered-model tag recording this event."""
        stamp = int(dt.datetime.fromisoformat(self.at).timestamp() * 1000)
        return f"{EVENT_TAG_PREFIX}{stamp:015d}", json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> list[AliasEvent]:
        """The events among a registered model's tags, oldest first."""
        keys = sorted(key for key in tags if key.startswith(EVENT_TAG_PREFIX))
        return [cls(**json.loads(tags[key])) for key in keys]


def operator() -> str:
    """Who is running this command: ``user@host`` (``$USER`` / ``$LOGNAME`` name the user)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class ModelRegistry:
    """The registered model ``name`` in the store ``client`` talks to."""

    def __init__(self, client, name: str) -> None:
        self.client = client
        self.name = name

    def _exists(self) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(self.name)
        except MlflowException:
            return False
        return True

    def version_with_fingerprint(self, fingerprint: str):
        """The newest version whose ``fingerprint`` tag is ``fingerprint``, or None."""
        if not self._exists():
            return None
        found = self.client.search_model_versions(
            f"name = '{_quoted(self.name)}' and tags.{FINGERPRINT_TAG} = '{_quoted(fingerprint)}'"
        )
        return max(found, key=lambda version: int(version.version), default=None)

    def version_by_alias(self, alias: str):
        """The version holding ``alias``, or None when no version holds it (or no model exists yet)."""
        from mlflow.exceptions import MlflowException

        if not self._exists():
            return None
        try:
            return self.client.get_model_version_by_alias(self.name, alias)
        except MlflowException:
            return None

    def register(
        self, model_uri: str, run_id: str, tags: Mapping[str, str], promote: bool, model_id: str | None = None
    ):
        """Create a version of ``model_uri`` with ``tags``; give it ``challenger`` and, if ``promote``, ``champion``."""
        from mlflow.exceptions import MlflowException

        if not self._exists():
            try:
                self.client.create_registered_model(
                    self.name, description="Monthly sales forecaster trained by `salescast train`."
                )
            except MlflowException:  # created meanwhile by a concurrent job
                logger.info("registered model %s already exists", self.name)
        version = self.client.create_model_version(
            self.name, model_uri, run_id=run_id, tags=dict(tags), model_id=model_id
        )
        self.client.set_registered_model_alias(self.name, CHALLENGER, version.version)
        if promote:
            self._move_champion(str(version.version))
        logger.info("registered %s version %s (%s)", self.name, version.version, tags.get("decision"))
        return self.client.get_model_version(self.name, version.version)

    def _move_champion(self, version: str) -> str:
        """Give ``version`` the champion alias; the champion it replaces becomes ``previous_champion``."""
        current = self.version_by_alias(CHAMPION)
        previous = str(current.version) if current is not None else ""
        if previous and previous != version:
            self.client.set_registered_model_alias(self.name, PREVIOUS_CHAMPION, previous)
        self.client.set_registered_model_alias(self.name, CHAMPION, version)
        return previous

    def promote(self, version: str, reason: str, by: str, action: str = "promote") -> AliasEvent:
        """Move ``champion`` to ``version`` by hand and record who and why (version tags and an event).

        Raises :class:`RegistryError` for a version that does not exist or already is the champion.
        """
        from mlflow.exceptions import MlflowException

        version = str(version).strip().removeprefix("v")
        if not self._exists():
            raise RegistryError(f"no registered model {self.name!r} yet: run `salescast train` first")
        try:
            self.client.get_model_version(self.name, version)
        except MlflowException:
            known = ", ".join(entry.version for entry in self.history()) or "none"
            raise RegistryError(f"{self.name} has no version {version!r} (versions: {known})") from None
        current = self.version_by_alias(CHAMPION)
        if current is not None and str(current.version) == version:
            raise RegistryError(f"version {version} already is the champion of {self.name}")
        previous = self._move_champion(version)
        event = AliasEvent(
            at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            action=action,
            version=version,
            previous=previous,
            by=by,
            reason=reason,
        )
        tags = {"promoted_by": by, "promoted_reason": reason, "promoted_at": event.at, "promotion": action}
        for key, value in tags.items():
            self.client.set_model_version_tag(self.name, version, key, value)
        self.client.set_registered_model_tag(self.name, *event.tag())
        logger.info("%s: champion v%s -> v%s by %s (%s)", self.name, previous or "none", version, by, reason)
        return event

    def rollback(self, reason: str, by: str) -> AliasEvent:
        """Give ``champion`` back to the version holding ``previous_champion`` (which the current one then holds)."""
        target = self.version_by_alias(PREVIOUS_CHAMPION)
        if target is None:
            raise RegistryError(
                f"{self.name} has no previous champion to roll back to: no version was ever replaced as champion"
            )
        return self.promote(str(target.version), reason, by, action="rollback")

    def events(self) -> list[AliasEvent]:
        """Every champion move by hand, oldest first."""
        if not self._exists():
            return []
        return AliasEvent.from_tags(self.client.get_registered_model(self.name).tags)

    def history(self) -> list[HistoryEntry]:
        """Every version's decision, oldest first."""
        if not self._exists():
            return []
        versions = self.client.search_model_versions(f"name = '{_quoted(self.name)}'")
        aliases = self._aliases()
        return [
            dataclasses.replace(
                HistoryEntry.from_version(version), aliases=sorted(aliases.get(str(version.version), []))
            )
            for version in sorted(versions, key=lambda version: int(version.version))
        ]

    def _aliases(self) -> dict[str, list[str]]:
        """version → aliases (search results do not always carry them)."""
        by_version: dict[str, list[str]] = {}
        for alias, version in self.client.get_registered_model(self.name).aliases.items():
            by_version.setdefault(str(version), []).append(alias)
        return by_version


def _quoted(value: str) -> str:
    """``value`` safe inside a single-quoted MLflow filter string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def read_registry(store) -> tuple[list[HistoryEntry], list[AliasEvent]]:
    """The history and the champion moves of ``store``'s registered model (empty when it has none).

    A local SQLite store is read with ``sqlite3`` (no MLflow import); anything else through MLflow.
    """
    from salescast.lifecycle.tracking import sqlite_path

    database = sqlite_path(store.uri)
    if database is not None:
        import sqlite3

        try:
            return _read_sqlite_registry(database, store.model_name)
        except sqlite3.Error as error:  # a schema we do not know: let MLflow read it
            logger.info("reading %s through MLflow (%s)", database, error)
    registry = ModelRegistry(store.connect(), store.model_name)
    return registry.history(), registry.events()


def _read_sqlite_registry(database: Path, name: str) -> tuple[list[HistoryEntry], list[AliasEvent]]:
    """MLflow's registry tables (``model_versions``, ``model_version_tags``, ``registered_model_aliases``,
    ``registered_model_tags``) read directly, in the default workspace."""
    import sqlite3

    started = time.perf_counter()
    connection = sqlite3.connect(f"{Path(database).resolve().as_uri()}?mode=ro", uri=True)
    try:
        versions = connection.execute(
            "SELECT version, creation_time, run_id FROM model_versions "
            "WHERE name = ? AND current_stage != 'Deleted_Internal' ORDER BY version",
            (name,),
        ).fetchall()
        tags: dict[int, dict[str, str]] = {}
        for version, key, value in connection.execute(
            "SELECT version, key, value FROM model_version_tags WHERE name = ?", (name,)
        ):
            tags.setdefault(int(version), {})[key] = value
        aliases: dict[int, list[str]] = {}
        for alias, version in connection.execute(
            "SELECT alias, version FROM registered_model_aliases WHERE name = ?", (name,)
        ):
            aliases.setdefault(int(version), []).append(alias)
        model_tags = dict(connection.execute("SELECT key, value FROM registered_model_tags WHERE name = ?", (name,)))
    finally:
        connection.close()
    entries = [
        HistoryEntry.from_version(
            SimpleNamespace(
                version=version,
                creation_timestamp=created,
                run_id=run_id,
                tags=tags.get(int(version), {}),
                aliases=aliases.get(int(version), []),
            )
        )
        for version, created, run_id in versions
    ]
    logger.debug("read %d versions of %s in %.3f s", len(entries), name, time.perf_counter() - started)
    return entries, AliasEvent.from_tags(model_tags)
