"""Replay the monthly job month by month, as a scheduler would, without touching production by default.

Each month of ``[first, last]`` is a test month: the candidate is trained on the window before it,
scored with the baselines and the champion of the months before on that same month, and the
promotion rule decides — so promotions chain as in production. Two ways to keep the books:

* **scratch** (the default): nothing is registered. One MLflow run in a scratch store (``./backtests``
  by default, never the production store) holds a nested run per month (params, metrics, the
  decision and its reason) and the chart, the summary and the predictions; the champion of the replay
  is kept in memory. Registering a version per month (pickling, signature, requirements, aliases)
  was almost all of a backtest's time.
* **in place** (``in_place=True``): the real training job every month against the settings' store and
  the pipeline's registered model — versions are registered and the aliases move, as the monthly job
  would have done. Months whose version exists are reused, not retrained.

With ``refit: once`` in ``pipeline.yaml`` the scratch replay fits the candidate once, on the window before
the first month, and scores that same fitted model every month (what "never retrain" would have given);
``refit: monthly`` (and any in-place replay: the production job trains every month) refits it each month.

Whichever the mode, each month's outcome is the decision actually taken in this replay (in place:
read back from where the ``champion`` alias is after the month), and the per-item predictions of
every month are written with per-item MASE and sMAPE, next to the pooled RMSE/MAE/R².
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
import pandas as pd

from salescast.lifecycle.job import (
    Incumbent,
    JobResult,
    prepare_month,
    run_training_job,
    untrained_baselines,
)
from salescast.lifecycle.months import format_month, month_range
from salescast.lifecycle.promotion import GATE_BASELINE, PROMOTED
from salescast.lifecycle.registry import CHAMPION, ModelRegistry
from salescast.lifecycle.sources import PipelineConfig, load_source
from salescast.lifecycle.tracking import TrackingStore, resolve_tracking_uri, sqlite_path
from salescast.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_SCRATCH_STORE = Path("backtests")
SCRATCH_EXPERIMENT_SUFFIX = "-backtest"


class BacktestError(RuntimeError):
    """A month of the backtest failed; ``outcomes`` holds the months done before it."""

    def __init__(self, message: str, outcomes: list[MonthOutcome] | None = None) -> None:
        super().__init__(message)
        self.outcomes = list(outcomes or [])


@dataclass(frozen=True)
class MonthOutcome:
    """One backtest month, flattened for tables and charts (NaN where a value does not exist).

    ``decision`` is what happened in this replay; ``recorded_decision`` what the version's tags say (they
    differ for a version reused from an earlier run, in place).
    """

    month: str
    version: str
    decision: str
    recorded_decision: str
    reused: bool
    rmse: float
    mae: float
    r2: float
    mase: float
    smape: float
    champion_before_rmse: float
    champion_after_rmse: float
    baseline_rmse: float
    reason: str = ""


@dataclass
class BacktestResult:
    """Every month's outcome, the per-item predictions, and where the files and the MLflow run are."""

    outcomes: list[MonthOutcome]
    predictions: pd.DataFrame
    item_scores: pd.DataFrame
    store_uri: str
    run_id: str | None = None
    chart: Path | None = None
    summary: Path | None = None
    predictions_path: Path | None = None
    item_scores_path: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def scratch_tracking_uri(store: str | Path | None) -> str:
    """A tracking URI for ``--store``: a URI as given, a folder as ``sqlite:///<folder>/mlflow.db``."""
    if store is None:
        store = DEFAULT_SCRATCH_STORE
    text = str(store)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text) / 'mlflow.db'}"


def _same_store(uri: str, other: str) -> bool:
    left, right = sqlite_path(uri), sqlite_path(other)
    if left is not None and right is not None:
        return left.resolve() == right.resolve()
    return uri.rstrip("/") == other.rstrip("/")


def run_backtest(
    config: PipelineConfig,
    settings: Settings,
    first,
    last,
    *,
    report_dir: Path,
    predictions_path: Path | None = None,
    window: int | None = None,
    skip_missing: bool = False,
    in_place: bool = False,
    store: str | Path | None = None,
    on_month: Callable[[str, MonthOutcome | None], None] | None = None,
    engine: str | None = None,
) -> BacktestResult:
    """Replay every month from ``first`` to ``last`` (see the module docstring); write the chart and files.

    ``predictions_path`` defaults to ``report_dir/backtest_<first>_<last>_predictions.csv``; the per-item
    scores go beside it (``…_items``). ``engine`` (default: the pipeline's) runs each month's job on pandas or
    Spark (:mod:`salescast.lifecycle.spark_month`). Raises :class:`BacktestError` for a month that cannot run.
    """
    from salescast.frame_files import check_output_path

    months = month_range(first, last)
    if not months:
        raise BacktestError(f"--from {format_month(first)} is after --to {format_month(last)}")
    stem = f"backtest_{format_month(months[0])}_{format_month(months[-1])}"
    predictions_path = check_output_path(predictions_path or report_dir / f"{stem}_predictions.csv")
    started = time.perf_counter()
    engine = engine or config.engine
    data = _read_source(config, settings, engine)  # read once, replayed month by month
    seconds = {"read": time.perf_counter() - started}
    if in_place:
        replay = _InPlaceReplay(config, settings, engine)
    else:
        replay = _ScratchReplay(config, settings, store, months, engine)
    outcomes: list[MonthOutcome] = []
    scored: list[pd.DataFrame] = []
    started = time.perf_counter()
    for month in months:
        if on_month:
            on_month(format_month(month), None)
        try:
            outcome, rows = replay.month(month, data, window=window, skip_missing=skip_missing)
        except ValueError as error:
            raise BacktestError(f"month {format_month(month)}: {error}", outcomes) from error
        outcomes.append(outcome)
        scored.append(rows.assign(month=outcome.month, version=outcome.version, decision=outcome.decision))
        if on_month:
            on_month(format_month(month), outcome)
    seconds["months"] = time.perf_counter() - started

    started = time.perf_counter()
    predictions, item_scores, outcomes = _scale_free(scored, _history_scale(data, engine, months[0]), outcomes)
    report_dir.mkdir(parents=True, exist_ok=True)
    chart = write_backtest_chart(outcomes, report_dir / f"{stem}.png")
    summary = report_dir / f"{stem}.json"
    summary.write_bytes(orjson.dumps([asdict(outcome) for outcome in outcomes], option=orjson.OPT_INDENT_2))
    from salescast.frame_files import write_frame

    write_frame(predictions, predictions_path)
    items_path = write_frame(
        item_scores, predictions_path.with_name(f"{predictions_path.stem}_items{predictions_path.suffix}")
    )
    run_id = replay.finish(stem, [chart, summary, predictions_path, items_path])
    seconds["report"] = time.perf_counter() - started
    logger.info("backtest %s: %s", stem, {name: round(value, 2) for name, value in seconds.items()})
    return BacktestResult(
        outcomes,
        predictions,
        item_scores,
        replay.store.uri,
        run_id,
        chart,
        summary,
        predictions_path,
        items_path,
        seconds,
    )


def _read_source(config: PipelineConfig, settings: Settings, engine: str):
    if engine == "spark":
        from salescast.lifecycle.spark_month import load_spark_source

        return load_spark_source(config)
    return load_source(config.source, settings)


def _history_scale(data, engine: str, before) -> pd.Series:
    """Each item's seasonal-naive error on the months before ``before`` (the backtest's MASE scale)."""
    if engine == "spark":
        from salescast.lifecycle.spark_month import history_scale

        return history_scale(data, before)
    from salescast.forecast.metrics import seasonal_naive_scale

    return seasonal_naive_scale(data.catalog.sales[data.catalog.sales["dates"] < before])


def _scale_free(scored: list[pd.DataFrame], scale: pd.Series, outcomes: list[MonthOutcome]):
    """Per-row absolute scaled error and sMAPE, per-item MASE/sMAPE over the months, and each month's means.

    The scale is each item's seasonal-naive error on the history before the first backtest month, so an
    item's mean scaled error over the months is its MASE.
    """
    from salescast.forecast.metrics import item_scores, scale_free_metrics

    frame = pd.concat(scored, ignore_index=True)
    error = (frame["prediction"] - frame["sales"]).abs()
    total = frame["prediction"].abs() + frame["sales"].abs()
    frame["scaled_error"] = error / frame["item_id"].map(scale).to_numpy()
    frame["smape"] = (200.0 * error / total.where(total > 0)).fillna(0.0)
    with_scores = []
    for outcome in outcomes:
        rows = frame[frame["month"] == outcome.month]
        metrics = scale_free_metrics(rows, scale) if len(rows) else {"mase": math.nan, "smape": math.nan}
        with_scores.append(_replace(outcome, mase=metrics["mase"], smape=metrics["smape"]))
    columns = ["month", "item_id", "sales", "prediction"]
    rest = [c for c in frame.columns if c not in {*columns, "dates", "version", "decision", "scaled_error", "smape"}]
    frame = frame[[*columns, *rest, "version", "decision", "scaled_error", "smape"]]
    return frame.rename(columns={"sales": "actual"}), item_scores(frame, scale), with_scores


def _replace(outcome: MonthOutcome, **changes) -> MonthOutcome:
    return MonthOutcome(**(asdict(outcome) | changes))


def _outcome(month, version, decision, recorded, reused, metrics, baselines, champion_rmse, reason) -> MonthOutcome:
    nan = math.nan
    rmse = metrics.get("rmse", nan)
    return MonthOutcome(
        month=format_month(month),
        version=version,
        decision=decision,
        recorded_decision=recorded,
        reused=reused,
        rmse=rmse,
        mae=metrics.get("mae", nan),
        r2=metrics.get("r2", nan),
        mase=nan,
        smape=nan,
        champion_before_rmse=champion_rmse,
        champion_after_rmse=rmse if decision == PROMOTED else champion_rmse,
        baseline_rmse=baselines.get(GATE_BASELINE, {}).get("rmse", nan),
        reason=reason,
    )


class _ScratchReplay:
    """The default: decisions in memory, one MLflow run with a nested run per month in a scratch store.

    The store is opened in a background thread while the months are computed (importing MLflow and
    creating a new SQLite store's tables take seconds), and the month runs are logged at the end.
    """

    def __init__(
        self, config: PipelineConfig, settings: Settings, store: str | Path | None, months: list, engine: str
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        uri = scratch_tracking_uri(store)
        if _same_store(uri, resolve_tracking_uri(settings)):
            raise BacktestError(
                f"the scratch store {uri} is the production store: name another with --store, "
                "or pass --in-place to replay into production on purpose"
            )
        self.config = config
        self.settings = settings
        self.engine = engine
        experiment = settings.mlflow_experiment + SCRATCH_EXPERIMENT_SUFFIX
        scratch = settings.model_copy(update={"mlflow_tracking_uri": uri, "mlflow_experiment": experiment})
        self.store = TrackingStore.for_pipeline(scratch, config)
        self.incumbent: Incumbent | None = None
        self.fitted = None  # refit: once — the candidate fitted at the first month
        self.months = months
        self.baselines: dict[str, pd.DataFrame] | None = None  # every month's, computed at the first month
        self.records: list[tuple[str, dict, dict, dict]] = []  # (month, params, metrics, tags) per month
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backtest-mlflow")
        self._connection = self._executor.submit(self._connect)

    def _connect(self):
        client = self.store.connect()
        return client, self.store.experiment_id(client)

    def month(self, month, data, *, window, skip_missing) -> tuple[MonthOutcome, pd.DataFrame]:
        job_plan, prepared = prepare_month(
            self.config,
            self.settings,
            self.engine,
            test_month=month,
            window=window,
            skip_missing=skip_missing,
            data=data,
        )
        if self.baselines is None and self.engine == "pandas":  # on Spark each month's groups predict them
            self.baselines = untrained_baselines(self.config, job_plan.features, data.catalog, self.months)
        evaluation = prepared.evaluate(
            self.config,
            job_plan,
            self.incumbent,
            baseline_predictions=self.baselines,
            range_multiple=self.settings.plausible_range_multiple,
            fitted=self.fitted,
        )
        if self.config.refit == "once":
            self.fitted = evaluation.forecaster
        version = str(len(self.records) + 1)
        decision = evaluation.decision
        outcome = _outcome(
            month,
            version,
            decision.outcome,
            decision.outcome,
            False,
            evaluation.metrics,
            evaluation.baselines,
            (evaluation.champion.metrics or {}).get("rmse", math.nan),
            decision.reason,
        )
        self.records.append(self._record(job_plan, evaluation, version))
        if decision.promoted:
            trained_on = [format_month(m) for m in job_plan.plan.train_months]
            self.incumbent = Incumbent(version, trained_on, lambda fitted=evaluation.forecaster: fitted)
        return outcome, evaluation.scored

    def _record(self, job_plan, evaluation, version: str) -> tuple[str, dict, dict, dict]:
        """One month's nested run: the plan as params, every score as metrics, the decision as tags."""
        metrics = dict(evaluation.metrics) | {"implausible_items": float(len(evaluation.plausibility.items))}
        for name, values in evaluation.baselines.items():
            metrics |= {f"baseline_{name}_{metric}": value for metric, value in values.items()}
        for metric, value in (evaluation.champion.metrics or {}).items():
            metrics[f"champion_{metric}"] = value
        params = {
            "model": self.config.model,
            "features": ",".join(job_plan.features),
            "rows_train": job_plan.rows_train,
            "rows_test": job_plan.rows_test,
            **job_plan.plan.as_params(),
        }
        tags = {
            "job": "backtest-month",
            "step": version,
            "decision": evaluation.decision.outcome,
            "decision_reason": evaluation.decision.reason[:5000],
            "plausible": str(evaluation.decision.plausible).lower(),
            "champion_step": evaluation.champion.version or "",
        }
        return format_month(job_plan.plan.test_month), params, metrics, tags

    def finish(self, name: str, files: list[Path]) -> str | None:
        """The parent run, a nested run per month (one batch each), the files as the parent's artifacts."""
        from mlflow.entities import Metric, Param
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        try:
            client, experiment_id = self._connection.result()
        finally:
            self._executor.shutdown(wait=False)
        tags = {"job": "backtest", "mode": "scratch", "registered_model": self.store.model_name}
        parent = client.create_run(experiment_id, tags=tags, run_name=name).info.run_id
        stamp = int(time.time() * 1000)
        for month, params, metrics, month_tags in self.records:
            run = client.create_run(experiment_id, tags={MLFLOW_PARENT_RUN_ID: parent, **month_tags}, run_name=month)
            finite = {key: float(value) for key, value in metrics.items() if value is not None and math.isfinite(value)}
            client.log_batch(
                run.info.run_id,
                metrics=[Metric(key, value, stamp, 0) for key, value in finite.items()],
                params=[Param(key, str(value)) for key, value in params.items()],
            )
            client.set_terminated(run.info.run_id)
        for path in files:
            client.log_artifact(parent, str(path), artifact_path="backtest")
        client.set_terminated(parent)
        return parent


class _InPlaceReplay:
    """``--in-place``: the real training job every month, into the settings' store and registered model."""

    def __init__(self, config: PipelineConfig, settings: Settings, engine: str) -> None:
        if config.refit == "once":
            raise BacktestError(
                "an in-place backtest runs the production job, which trains a candidate every month: it cannot "
                "keep one fitted candidate (refit: once). Set refit: monthly in pipeline.yaml, or drop --in-place "
                "to replay refit: once in a scratch store"
            )
        self.config = config
        self.settings = settings
        self.engine = engine
        self.store = TrackingStore.for_pipeline(settings, config)
        self.registry: ModelRegistry | None = None

    def _champion_version(self) -> str | None:
        if self.registry is None:
            self.registry = ModelRegistry(self.store.connect(), self.store.model_name)
        version = self.registry.version_by_alias(CHAMPION)
        return str(version.version) if version is not None else None

    def month(self, month, data, *, window, skip_missing) -> tuple[MonthOutcome, pd.DataFrame]:
        before = self._champion_version()
        result = run_training_job(
            self.config,
            self.settings,
            test_month=month,
            window=window,
            skip_missing=skip_missing,
            data=data,
            engine=self.engine,
        )
        after = self._champion_version()
        if after == result.version and before != after:
            decision = PROMOTED
        elif after == result.version:
            decision = "champion"  # reused: it already held the alias
        else:
            decision = "kept"
        champion_rmse = (result.champion_metrics or {}).get("rmse", math.nan)
        outcome = _outcome(
            month,
            result.version or "",
            decision,
            result.decision or "",
            result.reused,
            result.metrics,
            result.baselines,
            champion_rmse,
            result.reason or "",
        )
        return outcome, result.scored if result.scored is not None else _recorded_predictions(result)

    def finish(self, name: str, files: list[Path]) -> str | None:
        import mlflow

        client = self.store.connect()
        with mlflow.start_run(experiment_id=self.store.experiment_id(client), run_name=name) as run:
            mlflow.set_tags({"job": "backtest", "mode": "in-place", "registered_model": self.store.model_name})
            for path in files:
                mlflow.log_artifact(str(path), artifact_path="backtest")
        return run.info.run_id


def _recorded_predictions(result: JobResult) -> pd.DataFrame:
    """A reused version's test-month predictions, from its run's error-analysis artifact."""
    import mlflow

    path = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path="error_analysis/test_month_predictions.csv"
    )
    frame = pd.read_csv(path)
    frame["dates"] = pd.to_datetime(frame["dates"])
    return frame[["dates", "item_id", "sales", "prediction"]]


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
        if outcome.decision == PROMOTED:
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
