"""The monthly training job: validate, plan, train, evaluate against baselines and the champion, register.

One call of :func:`run_training_job` is one month of production: it reads the source, checks it
(pandera + the month plan), and — unless ``dry_run`` — trains the configured model on the training
window, scores it, the baselines and the current champion on the **same** test month (pooled RMSE, MAE,
R², MAPE and the per-item mean MASE and sMAPE, MASE scaled by each item's seasonal-naive error on the
months before the test month), checks the candidate's forecasts for plausibility, logs one MLflow run
and registers one model version whose tags hold the promotion decision.

Idempotency: the fingerprint hashes every data row the job can see (all tables up to the end of the
test month) with the model config and the month plan. A version with the same fingerprint already in
the registry is returned as is — no new run, no new version.

One registered model per pipeline: each version records the source it was trained on (kind, location,
item set), and the job refuses to compare a candidate with a champion trained on another source.
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
from salescast.lifecycle.plausibility import PlausibilityReport, check_plausibility
from salescast.lifecycle.promotion import GATE_BASELINE, PromotionDecision, decide_promotion
from salescast.lifecycle.registry import CHAMPION, HistoryEntry, ModelRegistry, decision_tags
from salescast.lifecycle.run_log import log_training_run
from salescast.lifecycle.sources import (
    PipelineConfig,
    SourceData,
    SourceIdentity,
    check_same_source,
    load_source,
    source_identity,
)
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
    source_identity: SourceIdentity | None = None
    engine: str = "pandas"  # where the month was planned, trained and scored


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
    scored: pd.DataFrame | None = None  # the test month's rows (see MonthEvaluation.scored); None when reused
    plausibility: PlausibilityReport | None = None  # the candidate's check; None when reused


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
    check_features: bool = False,
) -> tuple[JobPlan, Any]:
    """Read and validate the data, plan the months; returns the plan and the catalog cut at the test month.

    Raises ``SalesValidationError``, ``MissingMonthsError``, ``MonthFormatError`` or ``ConfigError`` (a listed
    feature whose table the source does not have) with the message to show.
    """
    data = data or load_source(config.source, settings)
    catalog = data.catalog
    validate_monthly_sales(catalog.sales, source=data.description)
    months = catalog.months()
    complete = months if data.complete_months is None else sorted(set(months) & set(data.complete_months))
    plan = plan_for(config, complete, test_month, train_months, window, skip_missing, set(months) - set(complete))
    catalog = catalog_until(catalog, plan.test_month)
    dates = catalog.sales["dates"]
    features = list(config.features) if config.features is not None else _default_features()
    if check_features:  # a dry run trains nothing: computing the test month's features finds a missing table
        _forecaster(config.model, config, features).feature_frame(catalog, [plan.test_month])
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
        source_identity=source_identity(config.source, settings, catalog.items()),
    )
    return job_plan, catalog


def plan_for(config: PipelineConfig, complete, test_month, train_months, window, skip_missing, incomplete=()):
    """The month plan of ``config`` on the ``complete`` months (either engine's :func:`plan_months` call)."""
    return plan_months(
        complete,
        test_month=test_month,
        train_months=train_months,
        window=window or config.window,
        skip_missing=skip_missing,
        incomplete=sorted(incomplete),
    )


def _default_features() -> list[str]:
    from salescast.forecast.config import DEFAULT_FEATURES

    return list(DEFAULT_FEATURES)


def _forecaster(model: str, config: PipelineConfig, features: list[str]):
    """The candidate (``config.model``, with the config's params and target transforms) or a baseline."""
    from salescast.forecast.pipeline import Forecaster

    if model != config.model:
        return Forecaster(model=model, features=features)
    return Forecaster(
        model=model,
        features=features,
        model_params=config.model_params,
        target_scaling=config.target_scaling,
        target_transforms=config.target_transforms,
    )


def _score(predictions: pd.DataFrame, actual: pd.DataFrame, scale: pd.Series) -> dict[str, float]:
    """RMSE, MAE, R², MAPE, mean per-item MASE (``scale``: each item's seasonal-naive error) and sMAPE."""
    from salescast.forecast.metrics import forecast_metrics

    joined = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")
    return forecast_metrics(joined, scale)


@dataclass(frozen=True)
class ChampionEvaluation:
    """The champion scored on the test month; ``error`` says why it could not be (metrics then None)."""

    version: str | None = None
    metrics: dict[str, float] | None = None
    trained_on: list[str] = field(default_factory=list)
    error: str | None = None
    predictions: pd.DataFrame | None = None


@dataclass(frozen=True)
class Incumbent:
    """The champion a candidate is compared with: its version, training months and how to get its forecaster.

    ``forecaster`` is called only when the comparison runs (loading a registered model takes a while).
    """

    version: str
    trained_on: list[str]
    forecaster: Callable[[], Any]


def registry_incumbent(registry: ModelRegistry, champion) -> Incumbent | None:
    """The registry's champion version (an MLflow ``ModelVersion``, or None) as an :class:`Incumbent`."""
    if champion is None:
        return None

    def load():
        import mlflow

        return mlflow.pyfunc.load_model(f"models:/{registry.name}/{champion.version}").unwrap_python_model().forecaster

    trained_on = [month for month in (champion.tags or {}).get("train_months", "").split(",") if month]
    return Incumbent(str(champion.version), trained_on, load)


def _evaluate_champion(incumbent: Incumbent | None, catalog, plan: MonthPlan, actual: pd.DataFrame, scale):
    """Score the incumbent on the test month (no incumbent: an empty evaluation).

    A champion that cannot run on this data (e.g. its features read a table the source no longer
    has) is reported, not raised: the candidate is still recorded, and kept.
    """
    if incumbent is None:
        return ChampionEvaluation()
    try:
        predictions = incumbent.forecaster().predict(catalog, [plan.test_month])
        return ChampionEvaluation(
            incumbent.version, _score(predictions, actual, scale), incumbent.trained_on, None, predictions
        )
    except Exception as error:  # any failure of the old model is a fact to record, not a crash
        month = format_month(plan.test_month)
        logger.warning("champion v%s cannot be evaluated on %s: %s", incumbent.version, month, error)
        return ChampionEvaluation(incumbent.version, None, incumbent.trained_on, f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class MonthEvaluation:
    """One test month judged: the fitted candidate, its scores, the baselines', the champion's, the decision.

    ``scored`` has one row per (item) with actual sales in the test month: ``dates``, ``item_id``, ``sales``,
    ``prediction`` (the candidate), one column per baseline, and ``champion`` (NaN without one). ``scale`` is
    each item's seasonal-naive error before the test month (MASE's denominator), ``plausibility`` the
    candidate's check.
    """

    forecaster: Any
    features: pd.DataFrame
    predictions: pd.DataFrame
    scored: pd.DataFrame
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    champion: ChampionEvaluation
    decision: PromotionDecision
    scale: pd.Series
    plausibility: PlausibilityReport


def untrained_baselines(config: PipelineConfig, features: list[str], catalog, months) -> dict[str, pd.DataFrame]:
    """The predictions of the baselines that learn nothing (their value is a lag), for many months in one pass.

    A backtest scores them on every month: computed once here, they are the same numbers as month by
    month (each month's value reads only sales before it).
    """
    from salescast.forecast.models import MODELS

    predictions = {}
    for name in config.baselines:
        if not MODELS[name].needs_training:
            predictions[name] = _forecaster(name, config, features).fit(catalog, months[:1]).predict(catalog, months)
    return predictions


def evaluate_month(
    config: PipelineConfig,
    job_plan: JobPlan,
    catalog,
    incumbent: Incumbent | None,
    on_step: Step = _noop,
    baseline_predictions: dict[str, pd.DataFrame] | None = None,
    *,
    range_multiple: float = Settings.model_fields["plausible_range_multiple"].default,
    fitted: Any | None = None,
) -> MonthEvaluation:
    """Train the candidate on the plan's months and judge it against the baselines and ``incumbent``.

    ``baseline_predictions``: baselines already predicted for this month (see :func:`untrained_baselines`).
    ``range_multiple``: the plausibility gate's (:mod:`salescast.lifecycle.plausibility`). ``fitted``: a
    candidate fitted before (a backtest with ``refit: once``), scored as it is instead of trained.
    """
    from salescast.forecast.metrics import seasonal_naive_scale

    plan = job_plan.plan
    if fitted is None:
        on_step(f"training {config.model} on {len(plan.train_months)} months")
        forecaster = _forecaster(config.model, config, job_plan.features).fit(catalog, plan.train_months)
    else:
        on_step(f"scoring {config.model} fitted before (refit: once)")
        forecaster = fitted
    features = forecaster.feature_frame(catalog, [plan.test_month])
    actual = features[["dates", "item_id", "sales"]].dropna(subset=["sales"])
    history = catalog.sales[catalog.sales["dates"] < plan.test_month]
    scale = seasonal_naive_scale(history)
    predictions = forecaster.predict(catalog, [plan.test_month])
    plausibility = check_plausibility(predictions, history, range_multiple)
    metrics = _score(predictions, actual, scale)
    scored = actual.merge(predictions, on=["dates", "item_id"], how="left", validate="one_to_one")

    on_step("scoring baselines")
    baselines = {}
    for name in config.baselines:
        known = (baseline_predictions or {}).get(name)
        if known is not None:
            baseline = known[known["dates"] == plan.test_month]
        else:
            baseline_model = _forecaster(name, config, job_plan.features).fit(catalog, plan.train_months)
            baseline = baseline_model.predict(catalog, [plan.test_month])
        baselines[name] = _score(baseline, actual, scale)
        scored = scored.merge(baseline.rename(columns={"prediction": name}), on=["dates", "item_id"], how="left")

    on_step("evaluating the champion on the same month")
    champion = _evaluate_champion(incumbent, catalog, plan, actual, scale)
    return judged(plan, forecaster, features, predictions, scored, metrics, baselines, champion, scale, plausibility)


def judged(plan, forecaster, features, predictions, scored, metrics, baselines, champion, scale, plausibility):
    """The month's :class:`MonthEvaluation`: the champion's column added to ``scored``, the promotion decided."""
    if champion.metrics:
        champion_column = champion.predictions.rename(columns={"prediction": "champion"})
        scored = scored.merge(champion_column, on=["dates", "item_id"], how="left")
    else:
        scored["champion"] = float("nan")
    decision = _decide(metrics, baselines[GATE_BASELINE], champion, format_month(plan.test_month), plausibility)
    return MonthEvaluation(
        forecaster, features, predictions, scored, metrics, baselines, champion, decision, scale, plausibility
    )


def _decide(
    metrics: dict[str, float],
    baseline: dict[str, float],
    champion: ChampionEvaluation,
    month: str,
    plausibility: PlausibilityReport | None = None,
):
    """The promotion rule, plus what the rule cannot see: an unusable champion, a champion trained on ``month``."""
    if champion.error:
        gates = decide_promotion(metrics, baseline, plausibility=plausibility)
        reason = (
            f"kept champion v{champion.version}: it could not be evaluated on {month} "
            f"({champion.error}); if it is obsolete, `salescast promote VERSION` replaces it"
        )
        decision = dataclasses.replace(gates, promoted=False, reason=reason, champion_version=champion.version)
    else:
        decision = decide_promotion(metrics, baseline, champion.metrics, champion.version, plausibility)
    if month in champion.trained_on:
        warning = f"warning: champion v{champion.version} was trained on {month}, so its score there is optimistic"
        decision = dataclasses.replace(decision, reason=f"{decision.reason} ({warning})")
    return decision


@dataclass(frozen=True)
class PandasMonth:
    """A prepared month on the pandas engine: the catalog cut at the test month. The Spark engine's
    :class:`~salescast.lifecycle.spark_month.SparkMonth` has the same three methods."""

    catalog: Any

    def evaluate(self, config, job_plan, incumbent, on_step: Step = _noop, **options) -> MonthEvaluation:
        return evaluate_month(config, job_plan, self.catalog, incumbent, on_step, **options)

    def calibrate(self, forecaster, train_months) -> None:
        calibrate_intervals(forecaster, self.catalog, train_months)

    def logged_catalog(self):
        return self.catalog


def prepare_month(config: PipelineConfig, settings: Settings, engine: str = "pandas", *, data=None, **plan):
    """(JobPlan, the prepared month) on ``engine``: :func:`prepare` and a :class:`PandasMonth`, or Spark's.

    ``data``: the source read once (:func:`load_source` on pandas, ``load_spark_source`` on Spark).
    """
    if engine == "spark":  # imported only when asked for: the pandas job never loads pyspark
        from salescast.lifecycle.spark_month import prepare_spark

        plan.pop("check_features", None)  # the Spark plan always computes a synthetic item's features
        return prepare_spark(config, settings, data=data, **plan)
    job_plan, catalog = prepare(config, settings, data=data, **plan)
    return job_plan, PandasMonth(catalog)


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
    data: Any = None,
    engine: str | None = None,
) -> JobResult:
    """Run the monthly job once (see the module docstring); ``on_step`` is told each step's name.

    ``engine`` (default: the pipeline's ``engine:``) is where the month is planned, trained and scored; the
    decision, the MLflow run and the registered version are the same on both (``salescast.lifecycle.spark_month``
    says what differs on Spark).
    """
    on_step("validating data and planning months")
    job_plan, month = prepare_month(
        config,
        settings,
        engine or config.engine,
        test_month=test_month,
        train_months=train_months,
        window=window,
        skip_missing=skip_missing,
        data=data,
        check_features=dry_run,
    )
    if dry_run:
        return JobResult(job_plan=job_plan, dry_run=True)
    on_step("connecting to MLflow")
    store = TrackingStore.for_pipeline(settings, config)
    client = store.connect()
    registry = ModelRegistry(client, store.model_name)
    with store.job_lock():  # overlapping runs on one local store queue up instead of racing
        return _train_and_register(
            config, job_plan, month, store, client, registry, on_step, settings.plausible_range_multiple
        )


def _train_and_register(
    config: PipelineConfig,
    job_plan: JobPlan,
    month,
    store: TrackingStore,
    client,
    registry: ModelRegistry,
    on_step: Step,
    range_multiple: float,
) -> JobResult:
    """Everything after the plan: reuse an identical version, or train, score, decide, log and register."""
    plan = job_plan.plan
    existing = registry.version_with_fingerprint(job_plan.fingerprint)
    if existing is not None:
        logger.info("same data and config as version %s: nothing to train", existing.version)
        return _reused(job_plan, HistoryEntry.from_version(existing))
    current = registry.version_by_alias(CHAMPION)
    if current is not None and job_plan.source_identity is not None:
        champion_source = SourceIdentity.from_tags(current.tags or {})
        check_same_source(champion_source, job_plan.source_identity, model=registry.name, version=str(current.version))

    incumbent = registry_incumbent(registry, current)
    evaluation = month.evaluate(config, job_plan, incumbent, on_step, range_multiple=range_multiple)
    metrics, baselines, decision = evaluation.metrics, evaluation.baselines, evaluation.decision
    champion_metrics = evaluation.champion.metrics
    plausibility = evaluation.plausibility

    on_step("calibrating prediction intervals")
    month.calibrate(evaluation.forecaster, plan.train_months)

    on_step("logging the run")
    analysis_frame = evaluation.features.merge(evaluation.predictions, on=["dates", "item_id"]).dropna(subset=["sales"])
    analysis_frame["mase_scale"] = analysis_frame["item_id"].map(evaluation.scale).to_numpy()  # per-item MASE
    run_id, model_uri, model_id = log_training_run(
        store,
        client,
        config,
        job_plan,
        evaluation.forecaster,
        month.logged_catalog(),
        metrics | {"implausible_items": float(len(plausibility.items))},
        baselines,
        champion_metrics,
        analysis_frame,
    )
    client.set_tag(run_id, "plausibility", plausibility.describe()[:5000])

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
    if job_plan.source_identity is not None:
        tags |= job_plan.source_identity.tags()
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
        champion_version=evaluation.champion.version,
        scored=evaluation.scored,
        plausibility=plausibility,
    )


def calibrate_intervals(forecaster, catalog, train_months) -> None:
    """Store the interval calibration on the version to register (residuals from every month of history up
    to the fit; serving never recalibrates). A model that cannot be calibrated still registers, without."""
    try:
        forecaster.calibrate(catalog, [month for month in catalog.months() if month <= max(train_months)])
    except Exception as error:  # intervals are an addition to the point forecast, never a reason to fail
        logger.warning("%s: no interval calibration: %s", forecaster.model, error)


def _reused(job_plan: JobPlan, entry: HistoryEntry) -> JobResult:
    return JobResult(
        job_plan=job_plan,
        version=entry.version,
        run_id=entry.run_id,
        decision=entry.decision,
        reason=entry.reason,
        metrics={key: value for key, value in entry.candidate.items() if value is not None},
        baselines={GATE_BASELINE: entry.baseline} if entry.baseline else {},
        champion_metrics={key: value for key, value in entry.champion.items() if value is not None} or None,
        champion_version=entry.champion_version or None,
        reused=True,
    )
