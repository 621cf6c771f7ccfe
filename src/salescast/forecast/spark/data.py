"""Sales and exogenous tables as Spark DataFrames, validated by Spark aggregations with the catalog's messages.

A source is a CSV or Parquet path — local, or any Hadoop URI the cluster has a connector for (``s3a://``,
``hdfs://``, ``abfss://``) — or a pandas DataFrame (tests, small jobs). ``.csv`` / ``.csv.gz`` paths are read
as CSV with a header, every column as text (so ``"000"`` stays ``"000"``, as the pandas catalog reads it);
anything else as Parquet (a file or a folder of part files). Validation is one aggregation pass for the
row rules and one for the duplicate keys; only counts and the first offending rows reach the driver.
The clean tables have ``dates`` (timestamp_ntz, month start), ``item_id`` (long when every sales id is a plain
integer, else string), ``sales`` or the exogenous columns (double).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.forecast.catalog import (
    EMPTY_SALES_MESSAGE,
    SHOWN_ROWS,
    SOURCES,
    DataValidationError,
    below_minimum_message,
    check_columns,
    duplicate_key_message,
    empty_item_message,
    not_dates_message,
    not_finite_message,
    not_month_message,
    not_numeric_message,
    show_rows_text,
)
from salescast.forecast.config import ConfigError

logger = logging.getLogger(__name__)

SPARK_SOURCES = ("sales", "exogenous")
INTEGER_ID = r"^(-?[1-9][0-9]{0,17}|0)$"


@dataclass(frozen=True)
class SparkCatalog:
    """The validated Spark tables; ``id_type`` is ``long`` or ``string`` (the sales ids' form)."""

    sales: Any
    exogenous: Any | None
    id_type: str
    exogenous_columns: tuple[str, ...] = ()


def _is_uri(location: str) -> bool:
    return "://" in location or location.startswith(("file:", "hdfs:", "s3a:", "abfss:", "gs:", "dbfs:"))


def read_source(spark, name: str, location: Any, base_dir: Path | None = None):
    """One source as a Spark DataFrame (module docstring for the formats); a missing path names the source."""
    if isinstance(location, pd.DataFrame):
        return spark.createDataFrame(location) if len(location.columns) else None
    text = str(location)
    if not _is_uri(text):
        path = Path(text)
        path = path if path.is_absolute() else (Path.cwd() if base_dir is None else Path(base_dir)) / path
        if not path.exists():
            raise DataValidationError(f"{name}: file {path} does not exist; fix the path under config 'data'")
        text = str(path)
    reader = spark.read
    try:
        if text.lower().endswith((".csv", ".csv.gz")):
            return reader.option("header", True).option("inferSchema", False).csv(text)
        return reader.parquet(text)
    except Exception as error:  # AnalysisException: path not found, not Parquet, no permission…
        message = str(error).splitlines()[0]
        raise DataValidationError(f"{name}: cannot read {text}: {message}") from error


def _rows_text(frame, condition, total: int) -> str:
    rows = frame.filter(condition).limit(SHOWN_ROWS).toPandas()
    return show_rows_text(rows, total)


def _month_columns(F, frame):
    """(parsed timestamp, month start) of ``dates`` strings, dates or timestamps (ISO 8601, or YYYY-MM)."""
    from pyspark.sql.types import DateType, StringType, TimestampNTZType, TimestampType

    kind = frame.schema["dates"].dataType
    column = F.col("dates")
    if isinstance(kind, TimestampType | TimestampNTZType | DateType):
        parsed = column.cast("timestamp_ntz")
    elif isinstance(kind, StringType):
        text = F.trim(column)
        parsed = F.try_to_timestamp(text).cast("timestamp_ntz")  # cast semantics: YYYY, YYYY-MM, ISO dates
    else:
        parsed = F.lit(None).cast("timestamp_ntz")
    start = F.date_trunc("month", parsed).cast("timestamp_ntz")
    return parsed, start


def _item_ids(F, frame, name: str, id_type: str | None):
    """(clean id column, bad-row condition, message, the sales id type) of a source's ``item_id``."""
    from pyspark.sql.types import FractionalType, IntegralType

    kind = frame.schema["item_id"].dataType
    raw = F.col("item_id")
    if id_type is None:  # the sales file decides
        if isinstance(kind, IntegralType):
            return raw.cast("long"), F.lit(False), "", "long"
        if isinstance(kind, FractionalType):
            bad = raw != F.round(raw)
            message = f"{name}: column 'item_id' has non-integer numbers; use ints or names"
            return raw.cast("long"), bad, message, "long"
        text = raw.cast("string")
        plain = frame.filter(raw.isNotNull() & ~text.rlike(INTEGER_ID)).limit(1).count() == 0
        return (text.cast("long"), F.lit(False), "", "long") if plain else (text, F.lit(False), "", "string")
    if id_type == "long":
        number = raw.cast("string").try_cast("double")
        bad = raw.isNotNull() & (number.isNull() | (number != F.round(number)))
        message = f"{name}: item_id must be integers like in the sales file; these rows are not"
        return number.cast("long"), bad, message, id_type
    return raw.cast("string"), F.lit(False), "", id_type


def _finite(F, column: str):
    value = F.col(column).cast("string").try_cast("double")
    bad = value.isNull() | F.isnan(value) | (F.abs(value) == float("inf"))
    return value, bad


def validate_source(frame, name: str, id_type: str | None = None):
    """(clean frame, id type, value columns): the catalog's checks as Spark aggregations, in the same order."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType, StringType

    values = check_columns(name, list(frame.columns))
    if name == "exogenous":
        not_numeric = [
            column
            for column in values
            if not isinstance(frame.schema[column].dataType, NumericType | StringType)
            or (
                isinstance(frame.schema[column].dataType, StringType)
                and frame.filter(F.col(column).isNotNull() & F.col(column).try_cast("double").isNull()).limit(1).count()
            )
        ]
        if not_numeric:
            raise DataValidationError(not_numeric_message(not_numeric))
    else:
        values = [SOURCES[name][2]]
    frame = frame.select("dates", "item_id", *values)
    ids, bad_ids, ids_message, id_type = _item_ids(F, frame, name, id_type)
    parsed, start = _month_columns(F, frame)
    is_month = (parsed == start) | (F.to_date(parsed) == F.last_day(parsed))
    checks = {
        "rows": F.count(F.lit(1)),
        "empty_id": F.sum(F.col("item_id").isNull().cast("long")),
        "bad_id": F.sum(bad_ids.cast("long")),
        "not_date": F.sum(parsed.isNull().cast("long")),
        "not_month": F.sum((parsed.isNotNull() & ~is_month).cast("long")),
    }
    cleaned = {}
    for column in values:
        value, bad = _finite(F, column)
        cleaned[column] = value
        checks[f"bad:{column}"] = F.sum(bad.cast("long"))
        if name == "sales":
            checks[f"below:{column}"] = F.sum((~bad & (value < 0)).cast("long"))
    counts = frame.agg(*[expression.alias(key) for key, expression in checks.items()]).first().asDict()
    counts = {key: int(value or 0) for key, value in counts.items()}
    if name == "sales" and counts["rows"] == 0:
        raise DataValidationError(EMPTY_SALES_MESSAGE)
    if counts["empty_id"]:
        raise DataValidationError(
            f"{empty_item_message(name)}:\n{_rows_text(frame, F.col('item_id').isNull(), counts['empty_id'])}"
        )
    if counts["bad_id"]:
        raise DataValidationError(f"{ids_message}:\n{_rows_text(frame, bad_ids, counts['bad_id'])}")
    if counts["not_date"]:
        message = not_dates_message(name, counts["not_date"], monthly=True)
        raise DataValidationError(f"{message}:\n{_rows_text(frame, parsed.isNull(), counts['not_date'])}")
    if counts["not_month"]:
        message = not_month_message(name, counts["not_month"])
        raise DataValidationError(f"{message}:\n{_rows_text(frame, ~is_month, counts['not_month'])}")
    for column in values:
        _, bad = _finite(F, column)
        if counts[f"bad:{column}"]:
            message = not_finite_message(name, column, counts[f"bad:{column}"])
            raise DataValidationError(f"{message}:\n{_rows_text(frame, bad, counts[f'bad:{column}'])}")
        if counts.get(f"below:{column}"):
            message = below_minimum_message(name, column, 0.0, counts[f"below:{column}"])
            raise DataValidationError(
                f"{message}:\n{_rows_text(frame, cleaned[column] < 0, counts[f'below:{column}'])}"
            )
    clean = frame.select(
        start.alias("dates"), ids.alias("item_id"), *[cleaned[column].alias(column) for column in values]
    )
    # Read and parsed once: the stages below read it again. A session's cache matches by plan, so a table read
    # before from the same path (a notebook, a nightly driver that stays up) is dropped first: the files may
    # have changed since, and a cached copy would silently answer with the old rows.
    clean.unpersist()
    clean = clean.persist()
    duplicated = clean.groupBy("dates", "item_id").count().filter(F.col("count") > 1)
    total = duplicated.agg(F.sum("count")).first()[0]
    if total:
        key = ["dates", "item_id"]
        rows = clean.join(duplicated.select(*key), key).orderBy(*key).limit(SHOWN_ROWS).toPandas()
        rows["dates"] = pd.to_datetime(rows["dates"])
        raise DataValidationError(
            f"{duplicate_key_message(name, int(total), key)}:\n{show_rows_text(rows, int(total))}"
        )
    logger.info("spark: %s validated, %d rows", name, counts["rows"])
    return clean, id_type, values


def load_spark_catalog(spark, data: Mapping[str, Any], base_dir: Path | None = None) -> SparkCatalog:
    """Read and validate ``sales`` (and ``exogenous``); other sources are for the pandas engine (ConfigError)."""
    others = sorted(name for name, location in data.items() if name not in SPARK_SOURCES and location is not None)
    if others:
        raise ConfigError(
            f"engine: spark reads the sales and exogenous sources; {others} are read by the pandas engine only. "
            "Remove them (and their features) or use engine: pandas"
        )
    sales, id_type, _ = validate_source(read_source(spark, "sales", data["sales"], base_dir), "sales")
    exogenous, columns = None, ()
    if data.get("exogenous") is not None:
        raw = read_source(spark, "exogenous", data["exogenous"], base_dir)
        exogenous, _, values = validate_source(raw, "exogenous", id_type)
        columns = tuple(values)
    return SparkCatalog(sales, exogenous, id_type, columns)
