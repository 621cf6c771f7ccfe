"""The registered model's versions, aliases and decision tags, through the MLflow client.

Every version the monthly job registers carries its whole decision as tags (see :func:`decision_tags`),
so the promotion history is the list of versions with their tags — nothing is kept outside MLflow.
The newest version holds the ``challenger`` alias; the promoted one also holds ``champion``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from salescast.lifecycle.promotion import GATE_BASELINE, PromotionDecision

CHAMPION = "champion"
CHALLENGER = "challenger"
FINGERPRINT_TAG = "fingerprint"
REPORTED_METRICS = ("rmse", "mae", "r2", "mape")

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

    @classmethod
    def from_version(cls, version) -> HistoryEntry:
        tags = version.tags
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
        )


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
            self.client.set_registered_model_alias(self.name, CHAMPION, version.version)
        logger.info("registered %s version %s (%s)", self.name, version.version, tags.get("decision"))
        return self.client.get_model_version(self.name, version.version)

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
