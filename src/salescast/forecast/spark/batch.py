"""``salescast forecast --engine spark``: every item's next H months from the champion, written by Spark as Parquet.

The rows are those of the pandas batch forecast (:func:`salescast.serving.batch.batch_forecast`, which is
``GET /forecast?horizon=H``): the same champion, the same latest complete month, the same active items
(a sale in the ``SALESCAST_FORECAST_ACTIVE_MONTHS`` before the first month forecast), the same recursion
(:func:`salescast.serving.forecasts.recursive_forecast`) — run per group of items on the executors, the fitted
forecaster broadcast to them. The output is a Parquet dataset partitioned by ``month`` (``PATH/month=2024-01/
part-….parquet``), overwritten as a whole, so a failed run is simply run again. Counts are checked: active
items × horizon rows are written, and items that failed alone are logged with their reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from salescast.forecast.spark.data import SparkCatalog, load_spark_catalog, read_source
from salescast.forecast.spark.groups import FAILED, HorizonJob, horizon_group
from salescast.forecast.spark.pipeline import RowCountError, grouped, n_groups_for, session_conf
from salescast.forecast.spark.session import spark_session

logger = logging.getLogger(__name__)


class SparkSourceError(ValueError):
    """The pipeline's source cannot be read by the Spark engine (a database, weekly sales, a CSV output)."""


def check_spark_source(pipeline) -> None:
    """Raise :class:`SparkSourceError` unless the pipeline reads sales files (what the Spark engine reads)."""
    from salescast.lifecycle.sources import CsvSource

    if not isinstance(pipeline.source, CsvSource):
        raise SparkSourceError(
            "engine spark reads sales files (CSV or Parquet, source kind: csv); this pipeline reads the ingestion "
            "database: use engine: pandas, or export the monthly sales to a file"
        )


def load_pipeline_catalog(spark, pipeline) -> SparkCatalog:
    """The pipeline's monthly sales (and exogenous) files, read and validated by Spark; weekly files refused."""
    check_spark_source(pipeline)
    data = {name: str(path) for name, path in pipeline.source.data.items()}
    header = read_source(spark, "sales", data["sales"]).columns
    if "year_week" in header and "dates" not in header:
        raise SparkSourceError(
            f"engine spark reads monthly sales (dates, item_id, sales); {data['sales']} holds weekly sales "
            "(year_week): use engine: pandas, which prorates weeks to months"
        )
    return load_spark_catalog(spark, data)


@dataclass(frozen=True)
class SparkBatchForecast:
    """What was written: where, how many rows and items, by which champion, from which month on."""

    path: str
    rows: int
    items: int
    failed_items: int
    champion: object
    last_month: pd.Timestamp
    source: str
    months: list[str]


def spark_batch_forecast(
    settings,
    pipeline,
    horizon: int,
    out: str,
    *,
    version: str | None = None,
    from_month: pd.Timestamp | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
    spark=None,
    levels: tuple[float, ...] = (),
) -> SparkBatchForecast:
    """Write the batch forecast to ``out`` (a ``.parquet`` path or URI); raises as the pandas command does.

    ``levels`` (percent) add the ``lo_``/``hi_`` columns of the champion's stored calibration after ``prediction``,
    as ``salescast forecast --intervals`` does on pandas (a champion without one is refused the same way)."""
    from pyspark.sql import functions as F

    from salescast.lifecycle.months import format_month, shift_month
    from salescast.lifecycle.sources import check_same_source, source_identity
    from salescast.serving.batch import load_champion
    from salescast.serving.champion import ChampionSourceError
    from salescast.serving.data import NoDataError
    from salescast.serving.forecasts import ForecastRequestError, ForecastService

    if not str(out).lower().endswith(".parquet"):
        raise SparkSourceError(
            f"engine spark writes a Parquet dataset: give --out a path ending in .parquet, not {out}"
        )
    if horizon < 1 or horizon > settings.forecast_max_horizon:
        raise ForecastRequestError(
            f"horizon must be between 1 and {settings.forecast_max_horizon} months (got {horizon}); "
            "recursive forecasts compound their errors, so longer horizons are refused"
        )
    check_spark_source(pipeline)
    started = time.perf_counter()
    on_stage("loading the model")
    champion = load_champion(settings, pipeline, version).champion
    ForecastService.check_calibrated(champion, tuple(levels))
    extra = sorted(name for name, table in champion.context.items() if table is not None)
    if extra:
        raise SparkSourceError(
            f"the champion was trained with the {extra} tables, which the Spark engine does not read; "
            "use engine: pandas"
        )
    on_stage("reading the data")
    spark = spark or spark_session(session_conf(pipeline.spark))
    catalog = load_pipeline_catalog(spark, pipeline)
    months = sorted(pd.Timestamp(row[0]) for row in catalog.sales.select("dates").distinct().collect())
    description = pipeline.source.describe()
    last = months[-1]
    if from_month is not None:
        until = shift_month(from_month, -1)
        if until > last:
            raise NoDataError(
                f"cannot forecast as of {until:%Y-%m}: the latest complete month of {description} is "
                f"{last:%Y-%m}, so the first month to forecast is at most the month after it"
            )
        last = until
    known = catalog.sales.filter(F.col("dates") <= F.lit(last))
    items = [row[0] for row in known.select("item_id").distinct().collect()]  # ids only: the source's fingerprint
    try:
        check_same_source(
            champion.source,
            source_identity(pipeline.source, settings, items),
            model=champion.name,
            version=champion.version,
        )
    except ValueError as error:
        raise ChampionSourceError(f"the champion does not serve this source: {error}") from None
    first = shift_month(last, 1)
    active_from = shift_month(first, -settings.forecast_active_months) if settings.forecast_active_months else None
    window = known if active_from is None else known.filter(F.col("dates") >= F.lit(active_from))
    active = window.select("item_id").distinct().count()
    groups = n_groups_for(spark, len(items), pipeline.spark)
    job = HorizonJob(
        champion.forecaster,
        months[0],
        last,
        horizon,
        active_from,
        catalog.id_type,
        str(champion.version),
        catalog.exogenous_columns,
        tuple(levels),
    )
    logger.info(
        "spark: forecasting %d of %d items for %d months after %s with %s v%s, %d groups",
        active,
        len(items),
        horizon,
        format_month(last),
        champion.name,
        champion.version,
        groups,
    )
    on_stage(f"forecasting {horizon} months after {format_month(last)}")
    shipped = spark.sparkContext.broadcast(job)
    id_type = "long" if catalog.id_type == "long" else "string"
    kinds = {"item_id": id_type, "month": "string", "model_version": "string", "status": "string"}
    schema = ", ".join(f"{column} {kinds.get(column, 'double')}" for column in job.columns())
    rows = grouped(catalog, groups, lambda s, e: horizon_group(s, e, shipped.value), schema).persist()
    written = rows.count()
    if written != active * horizon:
        raise RowCountError(f"engine spark: {active} active items × {horizon} months, but {written} forecasts")
    failed = rows.filter(F.col("status").startswith(FAILED)).select("item_id").distinct().count()
    if failed:
        logger.warning("spark: %d item(s) failed and got the fallback (status column of the output)", failed)
    on_stage("writing")
    columns = [column for column in job.columns() if column != "status"]
    output = rows.select(*columns, "status") if failed else rows.select(*columns)
    output.repartition("month").write.mode("overwrite").partitionBy("month").parquet(str(out))
    rows.unpersist()
    logger.info(
        "spark: wrote %d forecasts of %d items to %s in %.1f s", written, active, out, time.perf_counter() - started
    )
    written_months = [format_month(shift_month(last, step)) for step in range(1, horizon + 1)] if active else []
    return SparkBatchForecast(str(out), written, active, failed, champion, last, description, written_months)
