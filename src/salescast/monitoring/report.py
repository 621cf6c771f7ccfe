"""The monitoring report on disk and in MLflow (format: docs/monitoring_report.md).

Each run writes ``<reports_dir>/monitoring/<YYYY-MM>/report.json``, ``report.html`` and the PNG charts
it shows (``data_drift.png``, ``performance.png``), copies ``report.json`` to
``<reports_dir>/monitoring/latest.json``, and logs the folder to MLflow in the experiment
``<mlflow_experiment>-monitoring`` (tags ``month`` and ``champion_version``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

DRIFT_CHART = "data_drift.png"
PERFORMANCE_CHART = "performance.png"


def report_folder(reports_dir: Path, month: str) -> Path:
    return Path(reports_dir) / "monitoring" / month


def write_report(
    report: dict[str, Any],
    reports_dir: Path,
    reference: pd.DataFrame | None,
    current: pd.DataFrame | None,
    note: str | None = None,
) -> Path:
    """Write the JSON, the charts and the HTML page; returns the report folder. ``note`` (e.g. that the charts
    draw a sample) is shown on the page under the charts, not in the JSON."""
    folder = report_folder(reports_dir, report["month"])
    folder.mkdir(parents=True, exist_ok=True)
    charts = []
    if reference is not None and current is not None and report["data_drift"]:
        _drift_chart(report, reference, current, folder / DRIFT_CHART)
        charts.append(DRIFT_CHART)
    if report["performance"]:
        _performance_chart(report, folder / PERFORMANCE_CHART)
        charts.append(PERFORMANCE_CHART)
    text = json.dumps(_json_safe(report), indent=2)
    (folder / "report.json").write_text(text, encoding="utf-8")
    (folder / "report.html").write_text(render_html(report, charts, note), encoding="utf-8")
    shutil.copyfile(folder / "report.json", folder.parent / "latest.json")
    logger.info("monitoring report written to %s", folder)
    return folder


def _json_safe(value):
    """NaN and infinities as null: the report is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def _drift_chart(report: dict, reference: pd.DataFrame, current: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["data_drift"]
    columns = 3
    lines = math.ceil(len(rows) / columns)
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 2.8 * lines), squeeze=False)
    for axis, row in zip(axes.ravel(), rows, strict=False):
        before = reference[row["name"]].dropna()
        after = current[row["name"]].dropna()
        if len(before) and len(after):
            low = min(before.min(), after.min())
            high = max(before.max(), after.max())
            bins = 20 if high > low else 1
            axis.hist(before, bins=bins, range=(low, high), density=True, alpha=0.5, label="reference")
            axis.hist(after, bins=bins, range=(low, high), density=True, alpha=0.5, label="current")
        psi = "–" if row["psi"] is None else f"{row['psi']:.2f}"
        axis.set_title(f"{row['name']} (PSI {psi}){' DRIFT' if row['drifted'] else ''}", fontsize=9,
                       color="red" if row["drifted"] else "black")  # fmt: skip
        axis.tick_params(labelsize=7)
    for axis in axes.ravel()[len(rows) :]:
        axis.set_visible(False)
    axes.ravel()[0].legend(fontsize=7)
    figure.suptitle(f"Reference (training window) vs {report['month']}; sales units relative to each item's level")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _performance_chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["performance"]
    months = [row["month"] for row in rows]
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot(months, [row["champion_rmse"] for row in rows], marker="o", label="champion RMSE")
    axis.plot(months, [row["baseline_rmse"] for row in rows], marker="s", label="SameMonthLastYearSales RMSE")
    axis.set_ylabel("RMSE")
    axis.set_title("Champion vs baseline, months after its training window")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.4g}"


def render_html(report: dict, charts: list[str], note: str | None = None) -> str:
    """A self-describing page: verdict, drift table, performance table, charts (files beside it), ``note``."""
    champion = report["champion"]
    who = (
        f"{html.escape(champion['name'])} v{html.escape(champion['version'])} "
        f"(training month {champion['training_month'] or '–'})"
        if champion
        else "no champion"
    )
    verdict = "DRIFT DETECTED" if report["drifted"] else "no drift"
    drift_rows = "".join(
        f"<tr class='{'bad' if row['drifted'] else ''}'><td>{html.escape(row['name'])}</td><td>{row['kind']}</td>"
        f"<td>{_number(row['psi'])}</td><td>{_number(row['ks_statistic'])}</td><td>{_number(row['ks_pvalue'])}</td>"
        f"<td>{row['reference_rows']}</td><td>{row['current_rows']}</td>"
        f"<td title='{html.escape(row.get('note') or '', quote=True)}'>"
        f"{'yes' if row['drifted'] else ('cannot judge' if row.get('note') else 'no')}</td></tr>"
        for row in report["data_drift"]
    )
    performance_rows = "".join(
        f"<tr><td>{row['month']}</td><td>{_number(row['champion_rmse'])}</td><td>{_number(row['baseline_rmse'])}</td>"
        f"<td>{_number(row['champion_mae'])}</td><td>{_number(row['baseline_mae'])}</td>"
        f"<td>{_number(row.get('champion_mase'))}</td><td>{_number(row.get('baseline_mase'))}</td><td>{row['rows']}</td></tr>"
        for row in report["performance"]
    )
    retrained = report["retrained"]
    retrain_text = (
        f"<p>Retrained: version {html.escape(retrained['version'] or '–')}, {html.escape(retrained['decision'])}"
        f"{' — ' + html.escape(retrained.get('reason') or '') if retrained.get('reason') else ''}</p>"
        if retrained
        else ""
    )
    images = "".join(f"<p><img src='{name}' alt='{name}'></p>" for name in charts)
    if note:
        images += f"<p class='note'>{html.escape(note)}</p>"
    thresholds = ", ".join(f"{key} {value}" for key, value in report["thresholds"].items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>salescast monitoring {report["month"]}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child{{text-align:left}}
tr.bad{{background:#fdd}} .verdict{{font-size:1.3em;font-weight:bold;color:{"#b00" if report["drifted"] else "#070"}}}
</style></head><body>
<h1>Monitoring {report["month"]}</h1>
<p>Champion: {who}. Created {report["created_at"]}.</p>
<p class="verdict">{verdict}</p>
<p>Thresholds: {html.escape(thresholds)}. A distribution drifts when PSI &gt; psi and KS p &lt; ks_pvalue.</p>
<h2>Data and prediction drift (training window vs {report["month"]})</h2>
<table><tr><th>name</th><th>kind</th><th>PSI</th><th>KS</th><th>KS p</th><th>ref rows</th><th>rows</th>
<th>drifted</th></tr>{drift_rows}</table>
<h2>Performance against SameMonthLastYearSales</h2>
<table><tr><th>month</th><th>champion RMSE</th><th>baseline RMSE</th><th>champion MAE</th><th>baseline MAE</th>
<th>champion MASE</th><th>baseline MASE</th><th>rows</th></tr>{performance_rows}</table>
<p>{html.escape(report["performance_drift"]["reason"])}</p>
{retrain_text}
{images}
</body></html>
"""


def _metric_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", text)


def log_to_mlflow(report: dict, folder: Path, settings) -> str | None:
    """Log the report folder, the statistics and the verdict as one run; returns the run id (None: no store)."""
    from salescast.lifecycle.tracking import TrackingStore, sqlite_path

    store = TrackingStore.from_settings(settings)
    database = sqlite_path(store.uri)
    if database is not None and not database.exists():
        logger.warning("no MLflow store at %s: the report is not logged to MLflow", database)
        return None
    store = dataclasses.replace(store, experiment_name=f"{settings.mlflow_experiment}-monitoring")
    client = store.connect()
    import mlflow

    champion = report["champion"] or {}
    with mlflow.start_run(experiment_id=store.experiment_id(client), run_name=f"monitor-{report['month']}") as run:
        mlflow.set_tags(
            {"month": report["month"], "champion_version": champion.get("version", ""), "job": "monitoring"}
        )
        metrics = {
            "drifted": float(report["drifted"]),
            "performance_drifted": float(report["performance_drift"]["drifted"]),
        }
        for row in report["data_drift"]:
            for key in ("psi", "ks_statistic", "ks_pvalue"):
                if row[key] is not None and math.isfinite(row[key]):
                    metrics[_metric_name(f"{key}_{row['name']}")] = row[key]
        if report["performance"]:
            last = report["performance"][-1]
            metrics["champion_rmse"] = last["champion_rmse"]
            metrics["baseline_rmse"] = last["baseline_rmse"]
            for key in ("champion_mase", "baseline_mase"):  # over the window, as the verdict's reason says
                value = report["performance_drift"].get(key)
                if value is not None and math.isfinite(value):
                    metrics[key] = value
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(folder), artifact_path="monitoring")
    return run.info.run_id
