"""The monthly job's month on Spark (``engine: spark``): planned and judged by Spark, decided and registered as
on pandas.

:func:`prepare_spark` is :func:`salescast.lifecycle.job.prepare` for a Spark source: the pipeline's files read
and validated by Spark (:func:`salescast.forecast.spark.batch.load_pipeline_catalog`), the month plan from the
distinct months, the row counts and the fingerprint as Spark aggregations. :class:`SparkMonth` is the prepared
month: :meth:`SparkMonth.evaluate` returns the :class:`~salescast.lifecycle.job.MonthEvaluation` the pandas
job computes — the candidate trained (pooled models on the driver from the training rows the executors compute,
per-item families on the executors), it, the baselines and the champion scored on the test month with each
item's MASE scale and history range, in one grouped pass (:mod:`salescast.forecast.spark.month`). Only one row
per item reaches the driver, plus the pooled model's training rows (the same as the pandas engine's).

What differs from pandas, on purpose:

* the fingerprint hashes the same rows with Spark's row hashes (a sum of xxhash64 and murmur3 per table),
  so a version trained by one engine is not reused by the other;
* ``model: Auto`` and the marketing, price, stock and objectives tables are refused, as by ``make_predictions``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salescast.lifecycle.months import shift_month
from salescast.settings import Settings

logger = logging.getLogger(__name__)


def load_spark_source(config, spark=None):
    """The pipeline's source read and validated by Spark once (a backtest replays months from it)."""
    from salescast.forecast.spark.batch import load_pipeline_catalog
    from salescast.forecast.spark.pipeline import session_conf
    from salescast.forecast.spark.session import spark_session

    spark = spark or spark_session(session_conf(config.spark))
    return load_pipeline_catalog(spark, config)


def history_scale(catalog, before: pd.Timestamp) -> pd.Series:
    """Each item's seasonal-naive error on its months before ``before`` (MASE's scale), computed per group."""
    from pyspark.sql import functions as F

    from salescast.forecast.metrics import seasonal_naive_scale
    from salescast.forecast.spark.data import SparkCatalog
    from salescast.forecast.spark.pipeline import grouped, n_groups_for

    sales = catalog.sales.filter(F.col("dates") < F.lit(before))
    spark = _spark_of(sales)
    groups = n_groups_for(spark, sales.select("item_id").distinct().count(), {})
    id_type = "long" if catalog.id_type == "long" else "string"

    def scale(rows: pd.DataFrame, _) -> pd.DataFrame:
        history = rows.assign(dates=pd.to_datetime(rows["dates"]).astype("datetime64[ns]"))
        return seasonal_naive_scale(history).rename_axis("item_id").reset_index()

    history = SparkCatalog(sales, None, catalog.id_type)
    frame = grouped(history, groups, scale, f"item_id {id_type}, scale double").toPandas()
    return frame.set_index("item_id")["scale"]


def _spark_of(frame):
    return frame.sparkSession


def spark_fingerprint(catalog, config, plan) -> str:
    """SHA-256 of each table's row count and the sums of two row hashes, plus the model config and the plan."""
    import hashlib
    import json

    from pyspark.sql import functions as F

    digest = hashlib.sha256(b"spark")
    for name, table in (("sales", catalog.sales), ("exogenous", catalog.exogenous)):
        digest.update(name.encode())
        if table is None:
            digest.update(b"<none>")
            continue
        columns = [F.col(f"`{column}`") for column in table.columns]
        sums = table.agg(
            F.count(F.lit(1)),
            F.sum(F.xxhash64(*columns).cast("decimal(38,0)")),
            F.sum(F.hash(*columns).cast("decimal(38,0)")),
        ).first()
        digest.update(",".join(table.columns).encode())
        digest.update(",".join(str(value) for value in sums).encode())
    settings = {"config": config.as_params(), "plan": plan.as_params()}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def prepare_spark(
    config,
    settings: Settings,
    *,
    test_month: pd.Timestamp | None = None,
    train_months: Sequence[pd.Timestamp] | None = None,
    window: int | None = None,
    skip_missing: bool = False,
    data=None,
):
    """(JobPlan, SparkMonth): :func:`salescast.lifecycle.job.prepare` on Spark (module docstring). ``data``: the
    :func:`load_spark_source` of an earlier call (read once)."""
    from pyspark.sql import functions as F

    from salescast.forecast.spark.data import SparkCatalog
    from salescast.lifecycle.job import JobPlan, _default_features, _forecaster, plan_for
    from salescast.lifecycle.sources import source_identity

    full = data if data is not None else load_spark_source(config)
    months = sorted(pd.Timestamp(row[0]) for row in full.sales.select("dates").distinct().collect())
    plan = plan_for(config, months, test_month, train_months, window, skip_missing)
    sales = full.sales.filter(F.col("dates") < F.lit(shift_month(plan.test_month, 1)))
    catalog = SparkCatalog(sales, full.exogenous, full.id_type, full.exogenous_columns)
    dates = F.col("dates")
    counts = sales.agg(
        F.count(F.lit(1)),
        F.sum(dates.isin(list(plan.train_months)).cast("long")),
        F.sum((dates == F.lit(plan.test_month)).cast("long")),
    ).first()
    items = [row[0] for row in sales.select("item_id").distinct().collect()]  # ids only: the source's identity
    features = list(config.features) if config.features is not None else _default_features()
    month = SparkMonth(catalog, months[0], len(items))
    month.probe(_forecaster(config.model, config, features), plan)  # a feature the source cannot give: an error now
    job_plan = JobPlan(
        plan=plan,
        source=config.source.describe(),
        model=config.model,
        features=features,
        model_params=config.model_params,
        rows_total=int(counts[0]),
        rows_train=int(counts[1] or 0),
        rows_test=int(counts[2] or 0),
        items=len(items),
        first_month=months[0],
        fingerprint=spark_fingerprint(catalog, config, plan),
        source_identity=source_identity(config.source, settings, items),
        engine="spark",
    )
    logger.info(
        "spark: %d items, %d rows, test month %s, %d training months",
        job_plan.items,
        job_plan.rows_total,
        plan.test_month.date(),
        len(plan.train_months),
    )
    return job_plan, month


@dataclass
class SparkMonth:
    """A prepared month on Spark: the tables cut at the end of the test month, the first month, the item count."""

    catalog: Any  # SparkCatalog
    first_month: pd.Timestamp
    items: int

    def _group_job(self, forecaster, plan):
        from salescast.forecast.spark.groups import GroupJob

        return GroupJob(
            forecaster,
            self.first_month,
            tuple(plan.train_months),
            (plan.test_month,),
            "once",
            self.catalog.id_type,
            self.catalog.exogenous_columns,
        )

    def probe(self, forecaster, plan) -> tuple[str, ...]:
        """The candidate's feature columns, from one synthetic item (a missing source raises ConfigError)."""
        from salescast.forecast.spark.pipeline import probe_columns

        return tuple(probe_columns(self._group_job(forecaster, plan)))

    def evaluate(
        self,
        config,
        job_plan,
        incumbent,
        on_step=lambda step: None,
        *,
        range_multiple: float = Settings.model_fields["plausible_range_multiple"].default,
        baseline_predictions=None,  # the pandas engine's shortcut; each group predicts its baselines here
        fitted=None,
    ):
        """The :class:`~salescast.lifecycle.job.MonthEvaluation` of the pandas job, computed on Spark."""
        from salescast.forecast.config import ConfigError
        from salescast.forecast.spark.month import MonthJob, assemble_local, score_month_group
        from salescast.forecast.spark.pipeline import AUTO_ON_SPARK, fit_pooled, grouped, n_groups_for
        from salescast.lifecycle.job import _forecaster

        plan = job_plan.plan
        candidate = _forecaster(config.model, config, job_plan.features)
        if candidate.kind == "auto":
            raise ConfigError(AUTO_ON_SPARK)
        spark = _spark_of(self.catalog.sales)
        groups = n_groups_for(spark, self.items, config.spark)
        if fitted is not None:
            on_step(f"scoring {config.model} fitted before (refit: once)")
            candidate, candidate_fitted = fitted, True
        elif candidate.kind == "local":
            on_step(f"training {config.model} per item on {len(plan.train_months)} months (Spark)")
            candidate_fitted = False
        else:
            on_step(f"training {config.model} on {len(plan.train_months)} months (rows from Spark)")
            candidate = fit_pooled(spark, self.catalog, self._group_job(candidate, plan), groups)[None]
            candidate_fitted = True
        champion, champion_error = None, ""
        if incumbent is not None:
            try:
                champion = incumbent.forecaster()
            except Exception as error:  # as on pandas: an unusable champion is recorded, not raised
                champion_error = f"{type(error).__name__}: {error}"
        job = MonthJob(
            candidate,
            candidate_fitted,
            tuple((name, _forecaster(name, config, job_plan.features)) for name in config.baselines),
            champion,
            self.first_month,
            tuple(plan.train_months),
            plan.test_month,
            self.catalog.id_type,
            self.probe(candidate, plan),
            self.catalog.exogenous_columns,
        )
        on_step("scoring baselines and the champion on the test month (Spark)")
        rows = self._score_rows(spark, job, groups, grouped, score_month_group)
        on_step("judging the month")
        if not candidate_fitted:
            candidate = assemble_local(candidate, plan.train_months, rows)
        return judged_month(config, plan, job, rows, candidate, incumbent, champion_error, range_multiple)

    def _score_rows(self, spark, job, groups, grouped, score_month_group) -> pd.DataFrame:
        id_type = "long" if job.id_type == "long" else "string"
        kinds = {"item_id": id_type, "dates": "timestamp_ntz", "status": "string", "model": "binary"}
        kinds |= {"training_rows": "long", "champion_error": "string"}
        schema = ", ".join(f"`{column}` {kinds.get(column, 'double')}" for column in job.columns())
        shipped = spark.sparkContext.broadcast(job)
        frame = grouped(self.catalog, groups, lambda s, e: score_month_group(s, e, shipped.value), schema)
        if job.candidate_fitted:
            frame = frame.drop("model")
        rows = frame.toPandas()
        if rows["item_id"].duplicated().any() or len(rows) != self.items:
            from salescast.forecast.spark.pipeline import RowCountError

            raise RowCountError(f"engine spark: {self.items} items, but {len(rows)} rows scored")
        rows["dates"] = pd.to_datetime(rows["dates"]).astype("datetime64[ns]")
        if "model" not in rows:
            rows["model"] = None
        return rows

    def calibrate(self, forecaster, train_months) -> None:
        """The pandas job's conformal calibration (refit once), computed per group: each item's residuals come
        from its own history and one copy of the model fitted before the validation window — per item in the
        groups, or, for a pooled model, on the driver from the executors' training rows (as the candidate)."""
        from salescast.forecast.intervals import HORIZON, ORIGIN_STEP, VALIDATION_MONTHS, describe_window
        from salescast.forecast.spark.groups import GroupJob
        from salescast.forecast.spark.month import CalibrationJob, assemble_calibration, calibration_group
        from salescast.forecast.spark.pipeline import fit_pooled, grouped, n_groups_for
        from salescast.forecast.validation import validation_window

        last = max(train_months)
        months = sorted(pd.Timestamp(row[0]) for row in self.catalog.sales.select("dates").distinct().collect())
        history = tuple(month for month in months if month <= last)
        window = validation_window(list(history), VALIDATION_MONTHS, HORIZON, ORIGIN_STEP)
        if window is None:
            logger.warning("spark: %s: history too short for an interval calibration", forecaster.model)
            return
        spark = _spark_of(self.catalog.sales)
        groups = n_groups_for(spark, self.items, {})
        prefitted = None
        if forecaster.kind == "pooled":
            fit_months = tuple(window.fit_months)
            copy = GroupJob(
                forecaster.fresh(), self.first_month, fit_months, (window.months[0],), "once", self.catalog.id_type,
                self.catalog.exogenous_columns,
            )  # fmt: skip
            prefitted = fit_pooled(spark, self.catalog, copy, groups)[None]
        job = CalibrationJob(
            forecaster, history, self.first_month, self.catalog.id_type, self.catalog.exogenous_columns, prefitted
        )
        id_type = "long" if job.id_type == "long" else "string"
        schema = (
            f"item_id {id_type}, dates timestamp_ntz, step long, fit_end timestamp_ntz, scaled_error double, "
            "scale double"
        )
        shipped = spark.sparkContext.broadcast(job)
        frame = grouped(self.catalog, groups, lambda s, e: calibration_group(s, e, shipped.value), schema)
        rows = frame.toPandas()
        for column in ("dates", "fit_end"):
            rows[column] = pd.to_datetime(rows[column]).astype("datetime64[ns]")
        forecaster.calibration_ = assemble_calibration(rows, describe_window(window))
        logger.info("spark: %s calibrated on %d residuals", forecaster.model, int((rows["step"] > 0).sum()))

    def logged_catalog(self):
        """The first two items' history as a pandas catalog: the input example logged with the model."""
        from pyspark.sql import functions as F

        from salescast.forecast.spark.groups import GroupJob, group_catalog

        ids = self.catalog.sales.select("item_id").distinct().orderBy("item_id").limit(2).collect()
        sales = self.catalog.sales.filter(F.col("item_id").isin([row[0] for row in ids])).toPandas()
        return group_catalog(sales, None, GroupJob(None, self.first_month, (), (), "once", self.catalog.id_type))


def judged_month(config, plan, job, rows: pd.DataFrame, forecaster, incumbent, champion_error: str, range_multiple):
    """The groups' rows turned into the pandas job's :class:`~salescast.lifecycle.job.MonthEvaluation`."""
    from salescast.forecast.spark.month import BASELINE_PREFIX, CHAMPION, CHAMPION_ERROR
    from salescast.lifecycle.job import ChampionEvaluation, _score, judged
    from salescast.lifecycle.plausibility import check_ranges

    failed = rows[rows["status"].fillna("ok") != "ok"]
    if len(failed):
        logger.warning("spark: %d item(s) failed and got the fallback: %s", len(failed), failed["status"].iloc[0])
    known = rows[rows["history_max"].notna()].set_index("item_id")
    scale = known["scale"].rename("scale")
    test = rows[rows["dates"].notna()].sort_values(["dates", "item_id"], ignore_index=True)
    keys = ["dates", "item_id"]
    features = test[[*keys, "sales", *job.feature_columns]].sort_values("item_id", ignore_index=True)
    predictions = test[[*keys, "prediction"]]
    actual = features[[*keys, "sales"]].dropna(subset=["sales"])
    metrics = _score(predictions, actual, scale)
    plausibility = check_ranges(predictions, known[["history_min", "history_max"]], range_multiple)
    scored = actual.merge(predictions, on=keys, how="left", validate="one_to_one")
    baselines = {}
    for name, _ in job.baselines:
        baseline = test[[*keys, f"{BASELINE_PREFIX}{name}"]].rename(columns={f"{BASELINE_PREFIX}{name}": "prediction"})
        baselines[name] = _score(baseline, actual, scale)
        scored = scored.merge(baseline.rename(columns={"prediction": name}), on=keys, how="left")
    errors = [error for error in rows[CHAMPION_ERROR].dropna().unique() if error]
    error = champion_error or (errors[0] if errors else "")
    if incumbent is None:
        champion = ChampionEvaluation()
    elif error:
        logger.warning("champion v%s cannot be evaluated on %s: %s", incumbent.version, plan.test_month, error)
        champion = ChampionEvaluation(incumbent.version, None, incumbent.trained_on, error)
    else:
        predicted = test[[*keys, CHAMPION]].rename(columns={CHAMPION: "prediction"})
        champion = ChampionEvaluation(
            incumbent.version, _score(predicted, actual, scale), incumbent.trained_on, None, predicted
        )
    return judged(plan, forecaster, features, predictions, scored, metrics, baselines, champion, scale, plausibility)
