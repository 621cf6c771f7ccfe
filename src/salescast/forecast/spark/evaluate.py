"""``salescast evaluate --engine spark``: the reference table of :mod:`salescast.forecast.evaluate`, every prediction
made by the Spark engine.

One SparkSession, one read and validation of the sources (:func:`.pipeline.load_spark_sales`) shared by every
model; each model is :func:`.pipeline.spark_predictions` on it. The scores never collect the sales table:

* each item's seasonal-naive scale (MASE's denominator) is the pandas :func:`seasonal_naive_scale` run per group
  of items on their months before ``start_test`` — exact, since the scale is per item; one number per item
  reaches the driver, once for all models;
* a model's predictions are joined with the actual sales of the test months in Spark, and only that joined
  frame (item_id, sales, prediction: one row per prediction, the size of ``make_predictions``' output) is
  collected and scored by the pandas :func:`forecast_metrics`, so the numbers are the pandas table's.

**Sources the Spark engine does not read.** The marketing, price, stock and objectives tables are read by the
pandas engine only; their feature sets (``+marketing`` …) are left out of the Spark table and named
(:func:`spark_left_out`, logged and printed by the CLI); the baselines and the history (and exogenous) rows are
computed. The oracle row (the generator's truth file) is computed on the driver, as in pandas.
Intervals are not computed on Spark (the config is refused by :func:`salescast.forecast.config.parse_config`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.forecast.config import ForecastConfig
from salescast.forecast.evaluate import (
    EXOGENOUS_ORDER,
    LEARNED_MODELS,
    reference_runs,
    score_row,
    truth_folder,
)
from salescast.forecast.metrics import seasonal_naive_scale
from salescast.forecast.oracle import oracle_predictions
from salescast.forecast.pipeline import split_month_list
from salescast.forecast.spark.data import SparkCatalog
from salescast.forecast.spark.pipeline import SparkSales, grouped, load_spark_sales, session_conf, spark_predictions
from salescast.forecast.spark.session import spark_session

logger = logging.getLogger(__name__)


def spark_left_out(data: Mapping[str, Any]) -> list[str]:
    """The feature sets of the pandas table that need a source the Spark engine does not read (``+marketing`` …)."""
    return [f"+{name}" for name in EXOGENOUS_ORDER if data.get(name) is not None]


def _group_scale(sales: pd.DataFrame, _exogenous) -> pd.DataFrame:
    """item_id, scale of one group's items: :func:`seasonal_naive_scale` of their history."""
    scale = seasonal_naive_scale(sales.assign(dates=pd.to_datetime(sales["dates"])))
    return pd.DataFrame({"item_id": scale.index.to_numpy(), "scale": scale.to_numpy(dtype="float64")})


def spark_scale(loaded: SparkSales, start_test: pd.Timestamp) -> pd.Series:
    """Each item's seasonal-naive scale on the months before ``start_test``, computed per group (one row per item
    reaches the driver), indexed by item_id like :func:`seasonal_naive_scale`."""
    from pyspark.sql import functions as F

    catalog = loaded.catalog
    history = SparkCatalog(catalog.sales.filter(F.col("dates") < start_test), None, catalog.id_type)
    id_type = "long" if catalog.id_type == "long" else "string"
    frame = grouped(history, loaded.groups, _group_scale, f"item_id {id_type}, scale double").toPandas()
    return pd.Series(frame["scale"].to_numpy(dtype="float64"), index=pd.Index(frame["item_id"]), name="scale")


def spark_reference_table(
    checked: ForecastConfig,
    base_dir: Path | None = None,
    models: tuple[str, ...] = LEARNED_MODELS,
    progress: Callable[[str], None] | None = None,
    spark=None,
) -> list[dict[str, Any]]:
    """:func:`salescast.forecast.evaluate.reference_table` of an ``engine: spark`` config (module docstring): the
    same rows, columns and numbers, without the feature sets of :func:`spark_left_out`."""
    from pyspark.sql import functions as F

    left_out = spark_left_out(checked.data)
    data = {name: location for name, location in checked.data.items() if name not in EXOGENOUS_ORDER}
    if left_out:
        logger.warning(
            "spark: the feature sets %s are left out: engine spark does not read %s (use engine: pandas for them)",
            left_out,
            [label[1:] for label in left_out],
        )
    spark = spark or spark_session(session_conf(checked.spark))
    source = ForecastConfig(data=data, start_test=checked.start_test, engine="spark", spark=checked.spark)
    loaded = load_spark_sales(source, base_dir, spark)
    scale = spark_scale(loaded, checked.start_test)
    id_type = "long" if loaded.catalog.id_type == "long" else "string"
    actual = loaded.catalog.sales.filter(F.col("dates") >= checked.start_test).select("dates", "item_id", "sales")

    def score(model: str, label: str, predictions) -> dict[str, Any]:
        joined = actual.join(predictions.select("dates", "item_id", "prediction"), ["dates", "item_id"], "left")
        scored = joined.select("item_id", "sales", "prediction").toPandas()
        return score_row(model, label, scored, scale)

    rows = []
    for model, label, features in reference_runs(models, data):
        if progress:
            progress(f"{model} {label}")
        run = ForecastConfig(
            data=data,
            start_test=checked.start_test,
            model=model,
            features=features,
            engine="spark",
            spark=checked.spark,
        )
        predictions, _ = spark_predictions(run, base_dir, spark, loaded)
        rows.append(score(model, label, predictions))
        predictions.unpersist()
    folder = truth_folder(checked.data["sales"], Path.cwd() if base_dir is None else Path(base_dir))
    if folder is not None:
        _, test = split_month_list(loaded.months, checked.start_test)
        oracle = oracle_predictions(folder, test)[["dates", "item_id", "prediction"]]
        frame = spark.createDataFrame(oracle.assign(dates=oracle["dates"].dt.strftime("%Y-%m-%d")))
        frame = frame.select(
            F.to_timestamp("dates").cast("timestamp_ntz").alias("dates"),
            F.col("item_id").cast(id_type).alias("item_id"),
            F.col("prediction").cast("double").alias("prediction"),
        )
        rows.append(score("Oracle", "true equations", frame))
    return rows
