"""``make_predictions`` with ``engine: spark``: the pandas engine's code, one group of items per Spark task.

Stages (each logged with its time and row counts):

1. **read and validate** the sales (and exogenous) tables as Spark aggregations (:mod:`.data`);
2. **group** the items into hash buckets of about ``items_per_group`` items (``spark.salescast.items_per_group``,
   default 2000): ``groupBy(bucket).applyInPandas`` (``cogroup`` with the exogenous table) runs
   :mod:`.groups` on each bucket's rows;
3. **pooled models** (Ridge, LightGBM, CustomModel): the groups compute their training rows (the months before
   ``start_test``), the driver collects them — the only data-sized transfer, the same rows the pandas engine
   trains on — fits the model in the pandas engine's row order, and broadcasts it; ``refit: monthly`` fits one
   model per test month from the same rows. **Per-item families** (statistical models, baselines) fit inside
   each group;
4. **predict** in the groups; every sales row of the test months gets a prediction: the counts in and out are
   compared (a difference is an error, never a silent loss), items that failed alone and items without a
   per-item model are counted and logged.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salescast.forecast.config import ConfigError, ForecastConfig
from salescast.forecast.pipeline import OUTPUT_COLUMNS, forecaster_from_config, split_month_list
from salescast.forecast.spark.data import SparkCatalog, load_spark_catalog
from salescast.forecast.spark.groups import FAILED, NO_MODEL, GroupJob, fresh, predict_group, training_rows
from salescast.forecast.spark.session import spark_session

logger = logging.getLogger(__name__)

ITEMS_PER_GROUP_KEY = "spark.salescast.items_per_group"
DEFAULT_ITEMS_PER_GROUP = 2000
AUTO_ON_SPARK = (
    "model Auto weighs its candidates with scores pooled over every item; engine: spark runs the per-item "
    "families, the baselines and the pooled models. Use engine: pandas for Auto"
)
PREDICTION_FIELDS = "dates timestamp_ntz, item_id {id}, prediction double, status string"


class RowCountError(RuntimeError):
    """The Spark job returned a different number of predictions than requested rows (never silently)."""


def grouped(catalog: SparkCatalog, n_groups: int, function, schema: str):
    """``function(sales_pdf, exogenous_pdf_or_None)`` applied to each bucket of items."""
    from pyspark.sql import functions as F

    def bucketed(frame):
        return frame.withColumn("_bucket", F.pmod(F.xxhash64("item_id"), F.lit(n_groups)))

    columns = [field.split(" ")[0].strip("`") for field in schema.split(", ")]
    empty = pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})

    def one(sales: pd.DataFrame, exogenous: pd.DataFrame | None) -> pd.DataFrame:
        if sales.empty:
            return empty
        frame = function(sales, exogenous)[columns]
        # pandas 3 strings concatenated from several frames are chunked Arrow arrays, which applyInPandas cannot
        # convert; plain Python strings always can.
        text = frame.select_dtypes(include=["string", "str"]).columns
        return frame.astype(dict.fromkeys(text, object)) if len(text) else frame

    sales = bucketed(catalog.sales).groupBy("_bucket")
    if catalog.exogenous is None:
        return sales.applyInPandas(lambda frame: one(frame, None), schema)
    exogenous = bucketed(catalog.exogenous).groupBy("_bucket")
    return sales.cogroup(exogenous).applyInPandas(one, schema)


def n_groups_for(spark, n_items: int, conf) -> int:
    """Enough groups to keep every core busy, each of about ``items_per_group`` items."""
    items_per_group = conf.get(ITEMS_PER_GROUP_KEY, DEFAULT_ITEMS_PER_GROUP)
    if not isinstance(items_per_group, int) or isinstance(items_per_group, bool) or items_per_group < 1:
        raise ConfigError(f"{ITEMS_PER_GROUP_KEY} must be a positive integer, got {items_per_group!r}")
    return max(spark.sparkContext.defaultParallelism, math.ceil(n_items / items_per_group))


def session_conf(conf) -> dict:
    """The ``spark:`` section without the engine's own keys (what the SparkSession builder gets)."""
    return {key: value for key, value in conf.items() if key != ITEMS_PER_GROUP_KEY}


def _spark_type(id_type: str) -> str:
    return "long" if id_type == "long" else "string"


def probe_columns(job: GroupJob) -> list[str]:
    """The pooled model's X columns, from one synthetic item (the columns depend on the config only)."""
    sales = pd.DataFrame({"dates": [job.first_month], "item_id": [0 if job.id_type == "long" else "0"], "sales": [1.0]})
    exogenous = None
    if job.exogenous_columns:
        exogenous = sales[["dates", "item_id"]].assign(**dict.fromkeys(job.exogenous_columns, 0.0))
    return [column for column in training_rows(sales, exogenous, job, [job.first_month]).columns][3:]


def fit_pooled(spark, catalog: SparkCatalog, job: GroupJob, n_groups: int) -> dict:
    """The driver's fitted pooled forecasters, keyed as :attr:`GroupJob.fitted`."""
    months = list(job.train) if job.refit == "once" else sorted({*job.train, *job.test[:-1]})
    columns = probe_columns(job)
    schema = ", ".join(
        [f"dates timestamp_ntz, item_id {_spark_type(job.id_type)}, y double", *[f"`{c}` double" for c in columns]]
    )
    shipped = spark.sparkContext.broadcast(job)
    started = time.perf_counter()
    rows = grouped(catalog, n_groups, lambda s, e: training_rows(s, e, shipped.value, months), schema).toPandas()
    rows["dates"] = pd.to_datetime(rows["dates"]).astype("datetime64[ns]")
    rows = rows.sort_values(["dates", "item_id"], kind="mergesort", ignore_index=True)  # the pandas engine's order
    logger.info(
        "spark: %d training rows of %d columns collected in %.1f s",
        len(rows),
        len(columns),
        time.perf_counter() - started,
    )
    targets = [None] if job.refit == "once" else list(job.test)
    fitted = {}
    for month in targets:
        history = list(job.train) if month is None else [m for m in months if m < month]
        subset = rows if month is None else rows[rows["dates"] < month]
        forecaster = fresh(job.forecaster)
        forecaster.start_fit(history)
        forecaster.fit_rows(subset[columns].astype("float64"), subset["y"].to_numpy())
        fitted[month] = forecaster
    return fitted


@dataclass(frozen=True)
class SparkSales:
    """The validated Spark tables of a job and what every model run on them needs: the sorted months of sales,
    the item count, the groups, and the number of sales rows from ``start_test`` on (the predictions expected)."""

    catalog: SparkCatalog
    months: list[pd.Timestamp]
    items: int
    expected: int
    groups: int


def load_spark_sales(checked: ForecastConfig, base_dir: Path | None = None, spark=None) -> SparkSales:
    """Read and validate the config's sources once (:func:`load_spark_catalog`), count items, months, test rows."""
    started = time.perf_counter()
    spark = spark or spark_session(session_conf(checked.spark))
    catalog = load_spark_catalog(spark, checked.data, base_dir)
    from pyspark.sql import functions as F

    summary = catalog.sales.agg(
        F.countDistinct("item_id").alias("items"), F.sum((F.col("dates") >= checked.start_test).cast("long"))
    ).first()
    n_items, expected = int(summary[0]), int(summary[1] or 0)
    months = sorted(pd.Timestamp(row[0]) for row in catalog.sales.select("dates").distinct().collect())
    _, test = split_month_list(months, checked.start_test)
    n_groups = n_groups_for(spark, n_items, checked.spark)
    logger.info(
        "spark: %d items, %d months (%d to test), %d groups; read and validated in %.1f s",
        n_items,
        len(months),
        len(test),
        n_groups,
        time.perf_counter() - started,
    )
    return SparkSales(catalog, months, n_items, expected, n_groups)


def spark_predictions(
    checked: ForecastConfig, base_dir: Path | None = None, spark=None, loaded: SparkSales | None = None
):
    """The predictions as a persisted Spark DataFrame (dates, item_id, prediction, status) and a run summary.

    ``loaded`` is the sources already read by :func:`load_spark_sales` (several models on one read); without it
    they are read here."""
    started = time.perf_counter()
    forecaster = forecaster_from_config(checked)
    if forecaster.kind == "auto":
        raise ConfigError(AUTO_ON_SPARK)
    spark = spark or spark_session(session_conf(checked.spark))
    loaded = loaded or load_spark_sales(checked, base_dir, spark)
    from pyspark.sql import functions as F

    catalog, months, n_items, expected, n_groups = (
        loaded.catalog,
        loaded.months,
        loaded.items,
        loaded.expected,
        loaded.groups,
    )
    train, test = split_month_list(months, checked.start_test)
    job = GroupJob(
        forecaster, months[0], tuple(train), tuple(test), checked.refit, catalog.id_type, catalog.exogenous_columns
    )
    if forecaster.kind == "pooled":
        job = GroupJob(**{**job.__dict__, "fitted": fit_pooled(spark, catalog, job, n_groups)})
    shipped = spark.sparkContext.broadcast(job)
    schema = PREDICTION_FIELDS.format(id=_spark_type(catalog.id_type))
    predictions = grouped(catalog, n_groups, lambda s, e: predict_group(s, e, shipped.value), schema).persist()
    produced = predictions.count()
    if produced != expected:
        raise RowCountError(
            f"engine spark: {expected} sales rows from {checked.start_test.date()} on, but {produced} predictions"
        )
    statuses = {
        row["status"]: (int(row["rows"]), int(row["items"]))
        for row in predictions.filter(F.col("status") != "ok")
        .groupBy("status")
        .agg(F.count(F.lit(1)).alias("rows"), F.countDistinct("item_id").alias("items"))
        .collect()
    }
    failed = sum(items for status, (_, items) in statuses.items() if status.startswith(FAILED))
    unfitted = statuses.get(NO_MODEL, (0, 0))[1]
    for status, (rows, items) in statuses.items():
        if status.startswith(FAILED):
            logger.warning("spark: %d item(s) failed and got the fallback (%d rows): %s", items, rows, status)
    logger.info(
        "spark: %s, %d predictions = %d requested rows, %d items failed alone, %d without a per-item model; %.1f s",
        checked.model,
        produced,
        expected,
        failed,
        unfitted,
        time.perf_counter() - started,
    )
    report = {
        "items": n_items,
        "rows": produced,
        "failed_items": failed,
        "items_without_model": unfitted,
        "groups": n_groups,
    }
    return predictions, report


def spark_make_predictions(checked: ForecastConfig, base_dir: Path | None = None) -> pd.DataFrame:
    """:func:`salescast.forecast.pipeline.make_predictions` on Spark: the same columns, order and values."""
    predictions, _ = spark_predictions(checked, base_dir)
    frame = predictions.select("dates", "item_id", "prediction").toPandas()
    predictions.unpersist()
    frame["dates"] = pd.to_datetime(frame["dates"]).dt.strftime("%Y-%m-%d")
    frame = frame.sort_values(["dates", "item_id"], ignore_index=True)
    return frame[OUTPUT_COLUMNS]
