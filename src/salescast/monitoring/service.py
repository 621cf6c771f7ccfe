"""One monitoring run: data, prediction and performance drift of the champion for a month, the report,
and — with ``retrain`` — the monthly training job when something drifted (continuous training).

The data is the pipeline's source as serving sees it (complete months only, see
:mod:`salescast.serving.data`); the monitored month defaults to the latest complete month. Retraining
runs :func:`~salescast.lifecycle.job.run_training_job` on the same pipeline config for its default test
month; the promotion rule still decides whether the new version becomes the champion.

**Engines.** With ``engine: spark`` in the pipeline and a files source, the statistics are computed by Spark
(:mod:`salescast.monitoring.spark_drift`: the rows in groups of items, the distributions and errors as
aggregations); the report is the same. A source the Spark engine does not read (the ingestion database, weekly
files, the marketing/price/stock tables), or a champion trained with such tables, is monitored on pandas, and
the log says so: monitoring must keep working whatever the engine setting.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.forecast.intervals import parse_levels
from salescast.lifecycle.months import format_month, parse_month
from salescast.lifecycle.sources import PipelineConfig, registered_model_name
from salescast.monitoring.coverage import CoverageDrift, coverage_drift
from salescast.monitoring.data_drift import data_drift
from salescast.monitoring.drift import DriftResult, DriftThresholds
from salescast.monitoring.performance import MonthPerformance, month_performance, performance_drift, scored_months
from salescast.monitoring.report import log_to_mlflow, write_report
from salescast.serving.champion import ChampionHolder
from salescast.serving.data import ServingData
from salescast.serving.forecasts import with_champion_context
from salescast.settings import Settings

logger = logging.getLogger(__name__)


class MonitoringError(ValueError):
    """The monitoring run cannot proceed (e.g. a month without data); the message says what to change."""


@dataclass(frozen=True)
class MonitoringOutcome:
    """The report (the contract's JSON as a dict), where it was written and the MLflow run that holds it."""

    report: dict[str, Any]
    folder: Path
    run_id: str | None


def thresholds_from(settings: Settings) -> DriftThresholds:
    return DriftThresholds(settings.drift_psi_threshold, settings.drift_ks_pvalue, settings.drift_psi_bins)


@dataclass(frozen=True)
class Statistics:
    """What an engine computes for the report: drift rows, the compared samples (for the charts, possibly a
    sample of them: ``note`` says so), performance rows and the coverage verdict."""

    drift: list[DriftResult]
    reference: pd.DataFrame | None
    current: pd.DataFrame | None
    performance: list[MonthPerformance]
    coverage: CoverageDrift
    note: str | None = None


@dataclass(frozen=True)
class MonitoredChampion:
    """The champion and the months it is judged on (what both engines need)."""

    champion: Any
    trained_on: list[pd.Timestamp]
    month: pd.Timestamp
    scored: list[pd.Timestamp]
    thresholds: DriftThresholds
    levels: list[float]
    tolerance_points: float


class PandasMonitor:
    """The source as serving sees it (:class:`~salescast.serving.data.ServingData`), monitored with pandas."""

    def __init__(self, settings: Settings, config: PipelineConfig) -> None:
        self.snapshot = ServingData(settings, config.source).snapshot()
        self.months = self.snapshot.catalog.months()
        self.last_month = self.snapshot.last_month
        self.description = self.snapshot.description

    def statistics(self, job: MonitoredChampion) -> Statistics:
        forecaster = job.champion.forecaster
        catalog = with_champion_context(self.snapshot.catalog, job.champion)
        drift, reference, current = data_drift(forecaster, catalog, job.trained_on, job.month, job.thresholds)
        performance = month_performance(forecaster, catalog, job.scored)
        coverage = coverage_drift(forecaster, catalog, job.scored, job.levels, job.tolerance_points)
        return Statistics(drift, reference, current, performance, coverage)

    def close(self) -> None:
        """Nothing to release (the Spark monitor drops its cached tables)."""


def open_monitor(settings: Settings, config: PipelineConfig):
    """The engine's monitor: Spark for ``engine: spark`` on files it reads, else pandas (logged when Spark was
    asked for)."""
    if config.engine == "spark":
        from salescast.forecast.spark.batch import SparkSourceError
        from salescast.monitoring.spark_drift import SparkMonitor

        try:
            return SparkMonitor(settings, config)
        except SparkSourceError as error:
            logger.warning("monitoring on pandas instead of Spark: %s", error)
    return PandasMonitor(settings, config)


def run_monitoring(
    settings: Settings,
    config: PipelineConfig,
    *,
    month: pd.Timestamp | None = None,
    retrain: bool = False,
    log_mlflow: bool = True,
) -> MonitoringOutcome:
    """Monitor ``month`` (default: the latest complete month) and write the report; see the module docstring."""
    source = open_monitor(settings, config)
    try:
        return _monitor(settings, config, source, month, retrain, log_mlflow)
    finally:
        source.close()


def _monitor(settings, config, source, month, retrain, log_mlflow) -> MonitoringOutcome:
    month = month or source.last_month
    if month not in set(source.months):
        raise MonitoringError(
            f"no complete sales for {format_month(month)} in {source.description}; "
            f"the latest complete month is {format_month(source.last_month)}"
        )
    holder = ChampionHolder(settings, registered_model_name(config, settings))
    holder.refresh()
    champion = holder.champion
    thresholds = thresholds_from(settings)
    window = settings.performance_window_months
    report: dict[str, Any] = {
        "month": format_month(month),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "champion": None,
        "thresholds": {
            "psi": thresholds.psi,
            "ks_pvalue": thresholds.ks_pvalue,
            "psi_max_bins": thresholds.max_bins,
            "performance_window_months": window,
            "performance_tolerance": settings.performance_tolerance,
            "coverage_tolerance_points": settings.coverage_tolerance_points,
        },
        "data_drift": [],
        "performance": [],
        "performance_drift": {"drifted": False, "reason": f"no champion: {holder.status}", "window_months": window},
        "interval_coverage": {"levels": [], "drifted": False, "reason": f"no champion: {holder.status}"},
        "drifted": False,
        "retrained": None,
    }
    reference = current = note = None
    if champion is not None:
        report["champion"] = {
            "name": champion.name,
            "version": champion.version,
            "training_month": champion.training_month,
        }
        trained_on = [parse_month(text) for text in champion.train_months]
        job = MonitoredChampion(
            champion,
            trained_on,
            month,
            scored_months(source.months, trained_on, month, window),
            thresholds,
            parse_levels(settings.coverage_levels),
            settings.coverage_tolerance_points,
        )
        statistics = source.statistics(job)
        reference, current, note = statistics.reference, statistics.current, statistics.note
        report["data_drift"] = [row.as_dict() for row in statistics.drift]
        report["performance"] = [row.as_dict() for row in statistics.performance]
        verdict = performance_drift(statistics.performance, window, settings.performance_tolerance)
        report["performance_drift"] = verdict.as_dict()
        report["interval_coverage"] = statistics.coverage.as_dict()
        report["drifted"] = (
            verdict.drifted or statistics.coverage.drifted or any(row.drifted for row in statistics.drift)
        )
    if retrain and report["drifted"]:
        report["retrained"] = _retrain(settings, config)
    folder = write_report(report, settings.reports_dir, reference, current, note)
    run_id = log_to_mlflow(report, folder, settings) if log_mlflow else None
    return MonitoringOutcome(report, folder, run_id)


def _retrain(settings: Settings, config: PipelineConfig) -> dict[str, str | None]:
    """Run the training job; ``version``, ``decision`` and the rule's ``reason`` (why it was kept or promoted)."""
    from salescast.lifecycle.job import run_training_job

    logger.info("drift detected: running the monthly training job")
    result = run_training_job(config, settings)
    decision = result.decision or "undecided"
    if result.reused:
        decision = f"{decision} (reused: same data and config as version {result.version})"
    return {"version": result.version, "decision": decision, "reason": result.reason or ""}
