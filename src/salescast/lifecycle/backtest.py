"""Replay the monthly job month by month, as a scheduler would, and chart champion vs baseline error.

Each month of ``[first, last]`` runs :func:`~salescast.lifecycle.job.run_training_job` with that month
as the test month, against the same MLflow store, so promotions chain exactly as in production. The
job's idempotency makes a rerun of the same backtest free: every month finds its version.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from salescast.lifecycle.job import JobResult, run_training_job
from salescast.lifecycle.months import format_month, month_range
from salescast.lifecycle.promotion import GATE_BASELINE
from salescast.lifecycle.sources import PipelineConfig, load_source
from salescast.lifecycle.tracking import TrackingStore
from salescast.settings import Settings

logger = logging.getLogger(__name__)


class BacktestError(RuntimeError):
    """A month of the backtest failed; ``results`` holds the months done before it."""

    def __init__(self, message: str, results: list[JobResult]) -> None:
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class MonthOutcome:
    """One backtest month, flattened for tables and charts (NaN where a value does not exist)."""

    month: str
    version: str
    decision: str
    reused: bool
    rmse: float
    mae: float
    r2: float
    champion_before_rmse: float
    champion_after_rmse: float
    baseline_rmse: float

    @classmethod
    def from_result(cls, result: JobResult) -> MonthOutcome:
        nan = math.nan
        champion_before = (result.champion_metrics or {}).get("rmse", nan)
        rmse = result.metrics.get("rmse", nan)
        baseline = result.baselines.get(GATE_BASELINE, {}).get("rmse", nan)
        return cls(
            month=format_month(result.job_plan.plan.test_month),
            version=result.version or "",
            decision=result.decision or "",
            reused=result.reused,
            rmse=rmse,
            mae=result.metrics.get("mae", nan),
            r2=result.metrics.get("r2", nan),
            champion_before_rmse=champion_before,
            champion_after_rmse=rmse if result.decision == "promoted" else champion_before,
            baseline_rmse=baseline,
        )


@dataclass
class BacktestResult:
    """Every month's job result, the flattened outcomes, and where the chart and JSON were written."""

    results: list[JobResult]
    outcomes: list[MonthOutcome] = field(default_factory=list)
    chart: Path | None = None
    summary: Path | None = None


def run_backtest(
    config: PipelineConfig,
    settings: Settings,
    first,
    last,
    *,
    out_dir: Path,
    window: int | None = None,
    skip_missing: bool = False,
    on_month: Callable[[str, JobResult | None], None] | None = None,
) -> BacktestResult:
    """Run the job for every month from ``first`` to ``last``; write ``backtest_<first>_<last>.png`` / ``.json``."""
    months = month_range(first, last)
    if not months:
        raise BacktestError(f"--from {format_month(first)} is after --to {format_month(last)}", [])
    data = load_source(config.source, settings)  # read once, replayed month by month
    results: list[JobResult] = []
    for month in months:
        if on_month:
            on_month(format_month(month), None)
        try:
            result = run_training_job(
                config, settings, test_month=month, window=window, skip_missing=skip_missing, data=data
            )
        except ValueError as error:
            raise BacktestError(f"month {format_month(month)}: {error}", results) from error
        results.append(result)
        if on_month:
            on_month(format_month(month), result)
    outcomes = [MonthOutcome.from_result(result) for result in results]
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"backtest_{format_month(months[0])}_{format_month(months[-1])}"
    chart = write_backtest_chart(outcomes, out_dir / f"{stem}.png")
    summary = out_dir / f"{stem}.json"
    summary.write_bytes(orjson.dumps([outcome.__dict__ for outcome in outcomes], option=orjson.OPT_INDENT_2))
    _log_backtest_run(settings, stem, [chart, summary])
    return BacktestResult(results, outcomes, chart, summary)


def _log_backtest_run(settings: Settings, name: str, files: list[Path]) -> None:
    """Keep the chart and the summary in MLflow too, as a run tagged ``job=backtest``."""
    import mlflow

    store = TrackingStore.from_settings(settings)
    client = store.connect()
    with mlflow.start_run(experiment_id=store.experiment_id(client), run_name=name):
        mlflow.set_tag("job", "backtest")
        for path in files:
            mlflow.log_artifact(str(path), artifact_path="backtest")


def write_backtest_chart(outcomes: list[MonthOutcome], path: Path) -> Path:
    """RMSE by month: the new version, the champion after each decision, and SameMonthLastYearSales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = [outcome.month for outcome in outcomes]
    positions = list(range(len(months)))  # numeric x: month labels are set as ticks
    figure, axis = plt.subplots(figsize=(max(6, len(months) * 0.8), 4.5))
    axis.plot(positions, [o.champion_after_rmse for o in outcomes], marker="o", label="champion (after decision)")
    axis.plot(positions, [o.rmse for o in outcomes], marker="x", linestyle="--", label="new version")
    axis.plot(positions, [o.baseline_rmse for o in outcomes], marker="s", label=GATE_BASELINE)
    for position, outcome in zip(positions, outcomes, strict=True):
        if outcome.decision == "promoted":
            axis.annotate(f"v{outcome.version}", (position, outcome.rmse), textcoords="offset points", xytext=(0, 8))
    axis.set_xticks(positions, months)
    axis.set_ylabel("RMSE on the test month")
    axis.set_title("Backtest: champion vs baseline error by month")
    axis.legend()
    axis.tick_params(axis="x", rotation=45)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
