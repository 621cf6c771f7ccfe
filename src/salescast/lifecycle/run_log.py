"""One MLflow run of the monthly job: params, metrics, error analysis artifacts and the pyfunc model."""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salescast.lifecycle.error_analysis import analyze_errors, write_error_analysis
from salescast.lifecycle.months import format_month
from salescast.lifecycle.sources import PipelineConfig
from salescast.lifecycle.tracking import TrackingStore

if TYPE_CHECKING:
    from salescast.lifecycle.job import JobPlan

logger = logging.getLogger(__name__)

AUTO_FOLDER = "auto"  # the run's artifact folder for Auto's selection tables
AUTO_USED_TAG = "auto_candidates_used"
EXAMPLE_MONTHS = 15  # history per item in the logged input example: enough for every lag feature


RECORDED_LEVELS = (80.0, 95.0)  # interval bounds logged with the test month's predictions


def with_interval_bounds(frame: pd.DataFrame, forecaster, catalog) -> pd.DataFrame:
    """``frame`` (the test month's predictions) with the calibrated forecaster's ``lo_80, hi_80, lo_95, hi_95``
    (unchanged without a calibration): the dashboard's recorded bands and past coverage read them."""
    if getattr(forecaster, "calibration_", None) is None or frame.empty:
        return frame
    months = sorted(frame["dates"].unique())
    bounds = forecaster.predict(catalog, months, levels=RECORDED_LEVELS).drop(columns="prediction")
    return frame.merge(bounds, on=["dates", "item_id"], how="left")


def log_training_run(
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
) -> tuple[str, str, str]:
    """Log params, metrics, error analysis and the pyfunc model in one run; returns (run id, model URI, model id)."""
    import mlflow
    from mlflow.models import infer_signature

    from salescast.lifecycle.model import ForecasterModel, context_tables

    plan = job_plan.plan
    experiment_id = store.experiment_id(client)
    run_name = f"{config.model}-{format_month(plan.test_month)}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        identity = job_plan.source_identity.tags() if job_plan.source_identity else {}
        mlflow.set_tags(
            {
                "fingerprint": job_plan.fingerprint,
                "source": job_plan.source,
                "job": "monthly-training",
                "engine": job_plan.engine,
                **identity,
            }
        )
        mlflow.log_params(
            {
                "model": config.model,
                "model_params": json.dumps(config.model_params, sort_keys=True),
                "features": ",".join(job_plan.features),
                "feature_columns": ",".join(forecaster.feature_columns_),
                "target_scaling": str(config.target_scaling),
                "target_transforms": json.dumps(config.target_transforms),
                "refit": config.refit,
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
            if forecaster.kind == "auto":
                log_auto_selection(forecaster.model_, out / "auto")
            analysis = analyze_errors(analysis_frame)
            title = f"{config.model} on {format_month(plan.test_month)}"
            write_error_analysis(analysis, out / "error_analysis", title=title)
            recorded = with_interval_bounds(analysis_frame, forecaster, catalog)
            recorded.to_csv(out / "error_analysis" / "test_month_predictions.csv", index=False)
            mlflow.log_artifacts(str(out / "error_analysis"), artifact_path="error_analysis")
        history = catalog.sales[["dates", "item_id", "sales"]]
        first_items = history["item_id"].drop_duplicates().head(2)
        example = history[history["item_id"].isin(first_items)].tail(2 * EXAMPLE_MONTHS)
        model = ForecasterModel(forecaster, context_tables(catalog, job_plan.features))
        with warnings.catch_warnings(), _quiet("mlflow"):
            warnings.simplefilter("ignore")
            signature = infer_signature(example, model.predict(None, example), params={"month": "", "intervals": ""})
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=model,
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(),
            )
    return run.info.run_id, info.model_uri, info.model_id


def log_auto_selection(auto, folder: Path) -> None:
    """``Auto``'s choice in the active run: settings as params, candidates used as a tag, the tables as artifacts.

    ``auto/selection.csv`` has one row per item and candidate it uses (weights one step ahead and at the
    horizon, the item's validation MASE); ``auto/candidates.csv`` one row per validated candidate (mean
    validation MASE, fit seconds, how many items use it).
    """
    import mlflow

    usage = auto.candidate_usage()
    used = usage[(usage["items_one_step"] > 0) | (usage["items_horizon"] > 0)]
    mlflow.log_params(
        {
            "auto_candidates": ",".join(usage["candidate"]),
            "auto_top": auto.top,
            "auto_shrinkage": auto.shrinkage,
            "auto_validation_months": auto.validation_months,
            "auto_horizon": auto.horizon,
        }
    )
    mlflow.set_tag(
        AUTO_USED_TAG, ",".join(f"{row.candidate}:{row.items_one_step}" for row in used.itertuples(index=False))
    )
    folder.mkdir(parents=True, exist_ok=True)
    auto.selection_.to_csv(folder / "selection.csv", index=False)
    usage.to_csv(folder / "candidates.csv", index=False)
    mlflow.log_artifacts(str(folder), artifact_path=AUTO_FOLDER)
    logger.info(
        "Auto uses %s (items one step ahead)",
        ", ".join(f"{row.candidate}: {row.items_one_step}" for row in used.itertuples(index=False)),
    )


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
