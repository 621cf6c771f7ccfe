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

import contextlib
import dataclasses
import hashlib
import json
import logging
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.lifecycle.error_analysis import analyze_errors, write_error_analysis
from salescast.lifecycle.months import (
    MonthPlan,
    format_month,
    latest_complete_month,
    plan_months,
    shift_month,
)
from salescast.lifecycle.promotion import GATE_BASELINE, PromotionDecision, decide_promotion
from salescast.lifecycle.registry import CHAMPION, HistoryEntry, ModelRegistry, decision_tags
from salescast.lifecycle.sources import PipelineConfig, SourceData, load_source
from salescast.lifecycle.tracking import TrackingStore
from salescast.lifecycle.validation import validate_monthly_sales
from salescast.settings import Settings

logger = logging.getLogger(__name__)

Step = Callable[[str], None]
EXAMPLE_MONTHS = 15  # history per item in the logged input example: enough for every lag feature
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


def catalog_until(catalog, month: pd.Timestamp):
    """The catalog without any row after the end of ``month`` (objectives: fiscal years up to its year)."""
    end = shift_month(month, 1)
    changes: dict[str, Any] = {"sales": catalog.sales[catalog.sales["dates"] < end].reset_index(drop=True)}
    for name in ("marketing", "price", "stock"):
        table = getattr(catalog, name)
        if table is not None:
            changes[name] = table[table["dates"] < end].reset_index(drop=True)
    if catalog.objectives is not None:
        changes["objectives"] = catalog.objectives[catalog.objectives["fiscal_year"] <= month.year]
    return dataclasses.replace(catalog, **changes)


def fingerprint(catalog, config: PipelineConfig, plan: MonthPlan) -> str:
    """SHA-256 of every row of every table of ``catalog`` plus the model config and the month plan."""
    digest = hashlib.sha256()
    for name in ("sales", "marketing", "price", "stock", "objectives"):
        table = getattr(catalog, name)
        digest.update(name.encode())
        if table is None:
            digest.update(b"<none>")
            continue
        ordered = table.sort_values(list(table.columns), ignore_index=True)
        digest.update(",".join(map(str, ordered.columns)).encode())
        digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    settings = {"config": config.as_params(), "plan": plan.as_params()}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


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
    plan = plan_months(
        months,
        test_month=test_month,
        train_months=train_months,
        window=window or config.window,
        skip_missing=skip_missing,
        latest_complete=latest_complete_month(months, data.complete_months),
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
    plan = job_plan.plan
    if dry_run:
        return JobResult(job_plan=job_plan, dry_run=True)
    on_step("connecting to MLflow")
    store = TrackingStore.from_settings(settings)
    client = store.connect()
    registry = ModelRegistry(client, store.model_name)
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
    baseline_rmse = baselines[GATE_BASELINE]["rmse"]
    if champion.error:
        beats = decide_promotion(metrics, baseline_rmse).beats_baseline
        reason = (
            f"kept champion v{champion_version}: it could not be evaluated on {format_month(plan.test_month)} "
            f"({champion.error}); move the alias by hand if it is obsolete"
        )
        decision = PromotionDecision(False, reason, beats, [], champion_version)
    else:
        decision = decide_promotion(metrics, baseline_rmse, champion_metrics, champion_version)
    if format_month(plan.test_month) in champion.trained_on:
        decision = dataclasses.replace(
            decision,
            reason=f"{decision.reason} (warning: champion v{champion_version} was trained on "
            f"{format_month(plan.test_month)}, so its score there is optimistic)",
        )

    on_step("logging the run")
    analysis_frame = features.merge(predictions, on=["dates", "item_id"]).dropna(subset=["sales"])
    run_id, model_uri = _log_run(
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
    version = registry.register(model_uri, run_id, tags, promote=decision.promoted)
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


def _log_run(
    store: TrackingStore,
    client,
    config: PipelineConfig,
    job_plan: JobPlan,
    forecaster,
    catalog,
    metrics: dict[str, float],
    baselines: dict[str, dict[str, float]],
    champion_metrics: dict[str, float] | None,
    analysis_frame: pd.DataFrame,
) -> tuple[str, str]:
    """Log params, metrics, error analysis and the pyfunc model in one run; returns (run id, model URI)."""
    import mlflow
    from mlflow.models import infer_signature

    from salescast.lifecycle.model import ForecasterModel, context_tables

    plan = job_plan.plan
    experiment_id = store.experiment_id(client)
    run_name = f"{config.model}-{format_month(plan.test_month)}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        mlflow.set_tags({"fingerprint": job_plan.fingerprint, "source": job_plan.source, "job": "monthly-training"})
        mlflow.log_params(
            {
                "model": config.model,
                "model_params": json.dumps(config.model_params, sort_keys=True),
                "features": ",".join(job_plan.features),
                "feature_columns": ",".join(forecaster.feature_columns_),
                "target_scaling": str(config.target_scaling),
                "window": len(plan.train_months) + len(plan.skipped_months),
                "source": config.source.kind,
                "rows_train": job_plan.rows_train,
                "rows_test": job_plan.rows_test,
                "items": job_plan.items,
                "history_start": format_month(job_plan.first_month),
                **plan.as_params(),
            }
        )
        logged = {name: value for name, value in metrics.items()}
        for name, values in baselines.items():
            logged |= {f"baseline_{name}_{metric}": value for metric, value in values.items()}
        for metric, value in (champion_metrics or {}).items():
            logged[f"champion_{metric}"] = value
        mlflow.log_metrics(logged)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder)
            analysis = analyze_errors(analysis_frame)
            title = f"{config.model} on {format_month(plan.test_month)}"
            write_error_analysis(analysis, out / "error_analysis", title=title)
            analysis_frame.to_csv(out / "error_analysis" / "test_month_predictions.csv", index=False)
            mlflow.log_artifacts(str(out / "error_analysis"), artifact_path="error_analysis")
        history = catalog.sales[["dates", "item_id", "sales"]]
        first_items = history["item_id"].drop_duplicates().head(2)
        example = history[history["item_id"].isin(first_items)].tail(2 * EXAMPLE_MONTHS)
        model = ForecasterModel(forecaster, context_tables(catalog, job_plan.features))
        with warnings.catch_warnings(), _quiet("mlflow"):
            warnings.simplefilter("ignore")
            signature = infer_signature(example, model.predict(None, example), params={"month": ""})
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=model,
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(),
            )
    return run.info.run_id, info.model_uri


@contextlib.contextmanager
def _quiet(name: str):
    """Silence logger ``name`` below ERROR for a block (MLflow warns about pickling, which is our choice)."""
    target = logging.getLogger(name)
    previous = target.level
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(previous)


def _requirements() -> list[str]:
    """Pinned runtime requirements of the pyfunc (the salescast package itself must be installed too)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for package in ("mlflow", "pandas", "numpy", "scikit-learn", "lightgbm", "scipy"):
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins
