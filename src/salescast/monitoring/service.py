"""One monitoring run: data, prediction and performance drift of the champion for a month, the report,
and — with ``retrain`` — the monthly training job when something drifted (continuous training).

The data is the pipeline's source as serving sees it (complete months only, see
:mod:`salescast.serving.data`); the monitored month defaults to the latest complete month. Retraining
runs :func:`~salescast.lifecycle.job.run_training_job` on the same pipeline config for its default test
month; the promotion rule still decides whether the new version becomes the champion.
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
from salescast.monitoring.coverage import coverage_drift
from salescast.monitoring.data_drift import data_drift
from salescast.monitoring.drift import DriftThresholds
from salescast.monitoring.performance import month_performance, performance_drift, scored_months
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


def run_monitoring(
    settings: Settings,
    config: PipelineConfig,
    *,
    month: pd.Timestamp | None = None,
    retrain: bool = False,
    log_mlflow: bool = True,
) -> MonitoringOutcome:
    """Monitor ``month`` (default: the latest complete month) and write the report; see the module docstring."""
    snapshot = ServingData(settings, config.source).snapshot()
    catalog = snapshot.catalog
    month = month or snapshot.last_month
    if month not in set(catalog.months()):
        raise MonitoringError(
            f"no complete sales for {format_month(month)} in {snapshot.description}; "
            f"the latest complete month is {format_month(snapshot.last_month)}"
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
    reference = current = None
    if champion is not None:
        report["champion"] = {
            "name": champion.name,
            "version": champion.version,
            "training_month": champion.training_month,
        }
        trained_on = [parse_month(text) for text in champion.train_months]
        catalog = with_champion_context(snapshot.catalog, champion)
        drift, reference, current = data_drift(champion.forecaster, catalog, trained_on, month, thresholds)
        report["data_drift"] = [row.as_dict() for row in drift]
        months = scored_months(catalog.months(), trained_on, month, window)
        performance = month_performance(champion.forecaster, catalog, months)
        report["performance"] = [row.as_dict() for row in performance]
        verdict = performance_drift(performance, window, settings.performance_tolerance)
        report["performance_drift"] = verdict.as_dict()
        coverage = coverage_drift(
            champion.forecaster,
            catalog,
            months,
            parse_levels(settings.coverage_levels),
            settings.coverage_tolerance_points,
        )
        report["interval_coverage"] = coverage.as_dict()
        report["drifted"] = verdict.drifted or coverage.drifted or any(row.drifted for row in drift)
    if retrain and report["drifted"]:
        report["retrained"] = _retrain(settings, config)
    folder = write_report(report, settings.reports_dir, reference, current)
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
