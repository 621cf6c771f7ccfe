"""The registered model as the Models page shows it: versions, aliases, decisions, error analyses.

Everything is read back from MLflow through :class:`~salescast.lifecycle.registry.ModelRegistry`
(decisions are tags on the versions) and the runs' ``error_analysis/`` artifacts.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from salescast.lifecycle.error_analysis import JSON_NAME
from salescast.lifecycle.registry import CHALLENGER, CHAMPION, HistoryEntry, ModelRegistry
from salescast.lifecycle.tracking import TrackingStore, sqlite_path

logger = logging.getLogger(__name__)

ERROR_ANALYSIS_FOLDER = "error_analysis"
HISTORY_COLUMNS = [
    "version",
    "aliases",
    "test_month",
    "decision",
    "rmse",
    "baseline_rmse",
    "champion_rmse",
    "champion_version",
    "mae",
    "r2",
    "mape",
    "trained_on",
    "created",
    "reason",
]


class TrackingStoreMissing(FileNotFoundError):
    """The MLflow SQLite store does not exist yet (no model was ever trained with these settings)."""


def connect(store: TrackingStore):
    """An ``MlflowClient`` on ``store``; a SQLite store that does not exist raises instead of being created."""
    database = sqlite_path(store.uri)
    if database is not None and not database.exists():
        raise TrackingStoreMissing(f"no MLflow store at {database}")
    return store.connect()


@dataclass(frozen=True)
class RegistryOverview:
    """The versions of one registered model, oldest first, and which hold the aliases."""

    model_name: str
    entries: list[HistoryEntry]

    def _holding(self, alias: str) -> HistoryEntry | None:
        return next((entry for entry in self.entries if alias in entry.aliases), None)

    @property
    def champion(self) -> HistoryEntry | None:
        return self._holding(CHAMPION)

    @property
    def challenger(self) -> HistoryEntry | None:
        return self._holding(CHALLENGER)

    @property
    def latest(self) -> HistoryEntry | None:
        return self.entries[-1] if self.entries else None

    def entry(self, version: str) -> HistoryEntry:
        return next(entry for entry in self.entries if entry.version == version)


def registry_overview(client, model_name: str) -> RegistryOverview:
    """Every version's decision and aliases (empty when the model is not registered yet)."""
    return RegistryOverview(model_name, ModelRegistry(client, model_name).history())


def history_frame(entries: list[HistoryEntry]) -> pd.DataFrame:
    """One row per version, newest first: aliases, test month, decision, then the RMSEs the decision compared.

    ``champion_rmse`` is the champion of that time scored on the same test month (empty for a first version).
    """
    rows = [
        {
            "version": int(entry.version),
            "aliases": ", ".join(entry.aliases),
            "created": entry.created.strftime("%Y-%m-%d %H:%M"),
            "test_month": entry.test_month,
            "trained_on": _months_span(entry.train_months),
            "decision": entry.decision,
            **{metric: entry.candidate.get(metric) for metric in ("rmse", "mae", "r2", "mape")},
            "champion_version": entry.champion_version,
            "champion_rmse": entry.champion.get("rmse"),
            "baseline_rmse": entry.baseline_rmse,
            "reason": entry.reason,
        }
        for entry in reversed(entries)
    ]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _months_span(train_months: str) -> str:
    months = [month for month in train_months.split(",") if month]
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]} ({len(months)})"


def download_run_artifact(client, run_id: str, path: str) -> bytes | None:
    """The bytes of artifact ``path`` of run ``run_id``, or None when the run has no such artifact."""
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as folder:
        try:
            local = client.download_artifacts(run_id, path, folder)
        except (MlflowException, OSError) as error:
            logger.info("run %s has no artifact %s: %s", run_id, path, error)
            return None
        return Path(local).read_bytes()


def load_error_analysis(client, run_id: str) -> dict[str, Any] | None:
    """The run's ``error_analysis.json`` (see :mod:`salescast.lifecycle.error_analysis`), or None."""
    content = download_run_artifact(client, run_id, f"{ERROR_ANALYSIS_FOLDER}/{JSON_NAME}")
    return orjson.loads(content) if content is not None else None


def load_auto_selection(client, run_id: str) -> dict[str, pd.DataFrame] | None:
    """``Auto``'s ``candidates`` (one row per validated candidate) and ``selection`` (item × candidate used)
    tables logged by the run (see :func:`salescast.lifecycle.run_log.log_auto_selection`), or None for a
    run of another model."""
    import io

    from salescast.lifecycle.run_log import AUTO_FOLDER

    tables = {}
    for name in ("candidates", "selection"):
        content = download_run_artifact(client, run_id, f"{AUTO_FOLDER}/{name}.csv")
        if content is None:
            return None
        tables[name] = pd.read_csv(io.BytesIO(content), dtype={"item_id": str})
    return tables


def error_analysis_tables(analysis: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """``per_bucket``, ``per_item`` (worst MAE first) and ``worst`` rows as DataFrames.

    The worst rows keep the columns a planner reads first (month, item, actual, forecast, error) before
    the feature values the model saw.
    """
    worst = pd.DataFrame(analysis.get("worst", []))
    if not worst.empty:
        worst = worst.rename(columns={"dates": "month", "sales": "actual", "prediction": "forecast"})
        first = [column for column in ("month", "item_id", "actual", "forecast", "error") if column in worst]
        rest = [column for column in worst.columns if column not in first and column != "abs_error"]
        worst = worst[first + rest]
    return {
        "per_bucket": pd.DataFrame(analysis.get("per_bucket", [])),
        "per_item": pd.DataFrame(analysis.get("per_item", [])),
        "worst": worst,
    }
