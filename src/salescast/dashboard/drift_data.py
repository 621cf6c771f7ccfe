"""Monitoring reports as ``salescast monitor`` writes them (issue 6's contract), read back for the Drift page.

Layout: ``<reports_dir>/monitoring/<YYYY-MM>/report.json`` per monitored month and
``<reports_dir>/monitoring/latest.json``, a copy of the newest. The reports directory is the
``reports_dir`` setting (``SALESCAST_REPORTS_DIR``, default ``./reports``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from salescast.settings import Settings

MONITORING_FOLDER = "monitoring"
LATEST_NAME = "latest.json"
REPORT_NAME = "report.json"
REQUIRED_KEYS = ("month", "created_at", "thresholds", "data_drift", "performance", "performance_drift", "drifted")
DRIFT_COLUMNS = ["name", "kind", "psi", "ks_statistic", "ks_pvalue", "reference_rows", "current_rows", "drifted"]
PERFORMANCE_COLUMNS = [
    "month",
    "champion_rmse",
    "baseline_rmse",
    "champion_mae",
    "baseline_mae",
    "champion_mase",  # mean per-item MASE (reports written before it have none: NaN)
    "baseline_mase",
    "rows",
]
_MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")


class ReportFormatError(ValueError):
    """A monitoring report is not valid JSON or lacks a key of the contract; the message names the file and key."""


def reports_dir(settings: Settings) -> Path:
    """Where ``salescast monitor`` writes: the ``reports_dir`` setting."""
    return Path(settings.reports_dir)


def monthly_reports(root: Path) -> dict[str, Path]:
    """``{"YYYY-MM": path of its report.json}`` for every monitored month, newest first."""
    folder = root / MONITORING_FOLDER
    if not folder.is_dir():
        return {}
    found = {
        child.name: child / REPORT_NAME
        for child in folder.iterdir()
        if child.is_dir() and _MONTH_FOLDER.match(child.name) and (child / REPORT_NAME).is_file()
    }
    return dict(sorted(found.items(), reverse=True))


def load_report(path: Path) -> dict[str, Any]:
    """The report at ``path``, checked against the contract's top-level keys."""
    try:
        report = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise ReportFormatError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(report, dict):
        raise ReportFormatError(f"{path} must hold a JSON object, not {type(report).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in report]
    if missing:
        raise ReportFormatError(f"{path} lacks key(s) {missing} of the monitoring report format")
    return report


def latest_report_path(root: Path) -> Path | None:
    """``latest.json`` when present, else the newest month's ``report.json``, else None."""
    latest = root / MONITORING_FOLDER / LATEST_NAME
    if latest.is_file():
        return latest
    return next(iter(monthly_reports(root).values()), None)


def data_drift_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per feature, then the target and the prediction: PSI, KS statistic and p-value, rows, flag."""
    return pd.DataFrame(report["data_drift"], columns=DRIFT_COLUMNS)


def performance_frame(report: dict[str, Any]) -> pd.DataFrame:
    """Champion and baseline error per month with actuals (RMSE, MAE, mean per-item MASE), oldest first
    (``month`` as a timestamp)."""
    frame = pd.DataFrame(report["performance"], columns=PERFORMANCE_COLUMNS)
    frame["month"] = pd.to_datetime(frame["month"], format="%Y-%m")
    return frame.sort_values("month", ignore_index=True)


def drifted_names(report: dict[str, Any]) -> list[str]:
    """The names of the drifted features (and target/prediction), in report order."""
    return [row["name"] for row in report["data_drift"] if row.get("drifted")]
