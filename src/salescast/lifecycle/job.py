"""The monthly training job: validate, plan, train, evaluate against baselines and the champion, register.

One call of :func:`run_training_job` is one month of production: it reads the source, checks it
(pandera + the month plan), and — unless ``dry_run`` — trains the configured model on the training
window, scores it, the baselines and the current champion on the **same** test month, logs one MLflow
run and registers one model version whose tags hold the promotion decision.

Idempotency: the fingerprint hashes every data row the job can see (all tables up to the end of the
test month) with the model config and the month plan. A version with the same fingerprint already in
the registry is returned as is — no new run, no new version.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salescast.lifecycle.fingerprint import catalog_until, fingerprint
from salescast.lifecycle.months import (
    MonthPlan,
    format_month,
    plan_months,
)
from salescast.lifecycle.promotion import GATE_BASELINE, PromotionDecision, decide_promotion
from salescast.lifecycle.registry import CHAMPION, HistoryEntry, ModelRegistry, decision_tags
from salescast.lifecycle.run_log import log_training_run
from salescast.lifecycle.sources import PipelineConfig, SourceData, load_source
from salescast.lifecycle.tracking import TrackingStore
from salescast.lifecycle.validation import validate_monthly_sales
from salescast.settings import Settings

logger = logging.getLogger(__name__)

Step = Callable[[str], None]
TRAINING_STEPS = 7  # steps reported through ``on_step`` by a full (non dry-run, non reused) run


@dataclass(frozen=True)
class JobPlan:
    """What a run will do: the months, how many rows, which model — printed by ``--dry-run``."""

    plan: MonthPlan
    source: str
    model: str
    features: list[str]
    model_params: dict[str, Any]
    rows_total: int
    rows_train: int
    rows_test: int
    items: int
    first_month: pd.Timestamp
    fingerprint: str


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job run; ``reused`` means an identical run existed and nothing was trained."""

    job_plan: JobPlan
    version: str | None = None
    run_id: str | None = None
    decision: str | None = None
    reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    champion_metrics: dict[str, float] | None = None
    champion_version: str | None = None
    reused: bool = False
    dry_run: bool = False


def _noop(_: str) -> None:
    return None


def prepare(
    config: PipelineConfig,
    settings: Settings,
    *,
    test_month: pd.Timestamp | None = None,
    train_months: Sequence[pd.Timestamp] | None = None,
    window: int | None = None,
    skip_missing: bool = False,
    data: SourceData | None = None,
) -> tuple[JobPlan, Any]:
    """Read and validate the data, plan the months; returns the plan and the catalog cut at the test month.

    Raises ``SalesValidationError``, ``MissingMonthsError`` or ``MonthFormatError`` with the message to show.
    """
    data = data or load_source(config.source, settings)
    catalog = data.catalog
    validate_monthly_sales(catalog.sales, source=data.description)
    months = catalog.months()
    complete = months if data.complete_months is None else sorted(set(months) & set(data.complete_months))
    plan = plan_months(
        complete,
        test_month=test_month,
        train_months=train_months,
        window=window or config.window,
        skip_missing=skip_missing,
        incomplete=sorted(set(months) - set(complete)),
    )
    catalog = catalog_until(catalog, plan.test_month)
    dates = catalog.sales["dates"]
    features = list(config.features) if config.features is not None else _default_features()
    job_plan = JobPlan(
        plan=plan,
        source=data.description,
        model=config.model,
        features=features,
        model_params=config.model_params,
        rows_total=len(catalog.sales),
        rows_train=int(dates.isin(plan.train_months).sum()),
        rows_test=int((dates == plan.test_month).sum()),
        items=int(catalog.sales["item_id"].nunique()),
        first_month=min(months),
        fingerprint=fingerprint(catalog, config, plan),
    )
    return job_plan, catalog


def _default_features() -> list[str]:
    from salescast.forecast.config import DEFAULT_FEATURES

    return list(DEFAULT_FEATURES)


def _forecaster(model: str, config: PipelineConfig, features: list[str]):
    from salescast.forecast.pipeline import Forecaster

    params = config.model_params if model == config.model else {}
    return Forecaster(model=model, features=features, model_params=params, target_scaling=config.target_scaling)


def _score(predictions: pd.DataFrame, actual: pd.DataFrame) -> dict[str, float]:
    from salescast.forecast.metrics import regression_metrics

    joined = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
    return regression_metrics(joined["sales"].to_numpy(), joined["prediction"].to_numpy())


@dataclass(frozen=True)
class ChampionEvaluation:
    """The champion scored on the test month; ``error`` says why it could not be (metrics then None)."""

    version: str | None = None
    metrics: dict[str, float] | None = None
    trained_on: list[str] = field(default_factory=list)
    error: str | None = None


def _evaluate_champion(registry: ModelRegistry, catalog, plan: MonthPlan, actual: pd.DataFrame):
    """Load the champion's model and score it on the test month (no champion: an empty evaluation).

    A champion that cannot run on this data (e.g. its features read a table the source no longer
    has) is reported, not raised: the job still registers the new version, which is then kept.
    """
    import mlflow

    champion = registry.version_by_alias(CHAMPION)
    if champion is None:
        return ChampionEvaluation()
    version = str(champion.version)
    trained_on = [month for month in champion.tags.get("train_months", "").split(",") if month]
    try:
        model = mlflow.pyfunc.load_model(f"models:/{registry.name}@{CHAMPION}")
        predictions = model.unwrap_python_model().forecaster.predict(catalog, [plan.test_month])
        return ChampionEvaluation(version, _score(predictions, actual), trained_on)
    except Exception as error:  # any failure of the old model is a fact to record, not a crash
        logger.warning("champion v%s cannot be evaluated on %s: %s", version, format_month(plan.test_month), error)
        return ChampionEvaluation(version, None, trained_on, f"{type(error).__name__}: {error}")


def _decide(metrics: dict[str, float], baseline_rmse: float, champion: ChampionEvaluation, month: str):
    """The promotion rule, plus what the rule cannot see: an unusable champion, a champion trained on ``month``."""
    if champion.error:
        beats = decide_promotion(metrics, baseline_rmse).beats_baseline
        reason = (
            f"kept champion v{champion.version}: it could not be evaluated on {month} "
            f"({champion.error}); move the alias by hand if it is obsolete"
        )
        decision = PromotionDecision(False, reason, beats, [], champion.version)
    else:
        decision = decide_promotion(metrics, baseline_rmse, champion.metrics, champion.version)
    if month in champion.trained_on:
        warning = f"warning: champion v{champion.version} was trained on {month}, so its score there is optimistic"
        decision = dataclasses.replace(decision, reason=f"{decision.reason} ({warning})")
    return decision


def run_training_job(
    config: PipelineConfig,
    settings: Settings,
    *,
    test_month: pd.Timestamp | None = None,
    train_months: Sequence[pd.Timestamp] | None = None,
    window: int | None = None,
    skip_missing: bool = False,
    dry_run: bool = False,
    on_step: Step = _noop,
    data: SourceData | None = None,
) -> JobResult:
    """Run the monthly job once (see the module docstring); ``on_step`` is told each step's name."""
    on_step("validating data and planning months")
    job_plan, catalog = prepare(
        config,
        settings,
        test_month=test_month,
        train_months=train_months,
        window=window,
        skip_missing=skip_missing,
        data=data,
    )
    if dry_run:
        return JobResult(job_plan=job_plan, dry_run=True)
    on_step("connecting to MLflow")
    store = TrackingStore.from_settings(settings)
    client = store.connect()
    registry = ModelRegistry(client, store.model_name)
    with store.job_lock():  # overlapping runs on one local store queue up instead of racing
        return _train_and_register(config, job_plan, catalog, store, client, registry, on_step)


def _train_and_register(
    config: PipelineConfig,
    job_plan: JobPlan,
    catalog,
    store: TrackingStore,
    client,
    registry: ModelRegistry,
    on_step: Step,
) -> JobResult:
    """Everything after the plan: reuse an identical version, or train, score, decide, log and register."""
    plan = job_plan.plan
    existing = registry.version_with_fingerprint(job_plan.fingerprint)
    if existing is not None:
        logger.info("same data and config as version %s: nothing to train", existing.version)
        return _reused(job_plan, HistoryEntry.from_version(existing))

    on_step(f"training {config.model} on {len(plan.train_months)} months")
    forecaster = _forecaster(config.model, config, job_plan.features).fit(catalog, plan.train_months)
    features = forecaster.feature_frame(catalog, [plan.test_month])
    actual = features[["dates", "item_id", "sales"]].dropna(subset=["sales"])
    predictions = forecaster.predict(catalog, [plan.test_month])
    metrics = _score(predictions, actual)

    on_step("scoring baselines")
    baselines = {
        name: _score(
            _forecaster(name, config, job_plan.features)
            .fit(catalog, plan.train_months)
            .predict(catalog, [plan.test_month]),
            actual,
        )
        for name in config.baselines
    }

    on_step("evaluating the champion on the same month")
    champion = _evaluate_champion(registry, catalog, plan, actual)
    champion_version, champion_metrics = champion.version, champion.metrics
    decision = _decide(metrics, baselines[GATE_BASELINE]["rmse"], champion, format_month(plan.test_month))

    on_step("logging the run")
    analysis_frame = features.merge(predictions, on=["dates", "item_id"]).dropna(subset=["sales"])
    run_id, model_uri, model_id = log_training_run(
        store, client, config, job_plan, forecaster, catalog, metrics, baselines, champion_metrics, analysis_frame
    )

    on_step("registering the version")
    tags = decision_tags(
        fingerprint=job_plan.fingerprint,
        test_month=format_month(plan.test_month),
        train_months=",".join(format_month(month) for month in plan.train_months),
        decision=decision,
        candidate=metrics,
        baselines=baselines,
        champion=champion_metrics,
    )
    version = registry.register(model_uri, run_id, tags, promote=decision.promoted, model_id=model_id)
    client.set_tag(run_id, "registered_version", str(version.version))
    client.set_tag(run_id, "decision", decision.outcome)
    on_step("done")
    return JobResult(
        job_plan=job_plan,
        version=str(version.version),
        run_id=run_id,
        decision=decision.outcome,
        reason=decision.reason,
        metrics=metrics,
        baselines=baselines,
        champion_metrics=champion_metrics,
        champion_version=champion_version,
    )


def _reused(job_plan: JobPlan, entry: HistoryEntry) -> JobResult:
    return JobResult(
        job_plan=job_plan,
        version=entry.version,
        run_id=entry.run_id,
        decision=entry.decision,
        reason=entry.reason,
        metrics={key: value for key, value in entry.candidate.items() if value is not None},
        baselines={GATE_BASELINE: {"rmse": entry.baseline_rmse}} if entry.baseline_rmse is not None else {},
        champion_metrics={key: value for key, value in entry.champion.items() if value is not None} or None,
        champion_version=entry.champion_version or None,
        reused=True,
    )
