"""``salescast monitor`` on Spark: the report of :mod:`salescast.monitoring.service`, computed by Spark aggregations.

For a pipeline with ``engine: spark`` and a files source (CSV or Parquet, read and validated by Spark with the
pandas catalog's messages: :func:`~salescast.forecast.spark.batch.load_pipeline_catalog`):

1. **rows, in groups of items** (:func:`~salescast.forecast.spark.pipeline.grouped`): each group runs the pandas
   code on its items — :func:`~salescast.monitoring.data_drift.drift_samples` (the champion's features and
   prediction per (month, item) of the reference months and the monitored month, sales units divided by the
   item's mean sales over the reference window), :func:`~salescast.monitoring.performance.scored_rows` (champion
   and baseline on the scored months) and, with a calibrated champion,
   :func:`~salescast.monitoring.coverage.interval_rows`. The champion's fitted forecaster is broadcast. Every
   value depends on one item's rows only, so the groups' rows are the whole catalog's; the counts are checked.
2. **distributions, without collecting the rows**: per compared column, the counts of each distinct value in
   each sample, sorted by value (one window per column: a column's values are sorted in one task), give both
   empirical CDFs exactly. The **KS** statistic is their largest gap, and its p-value is scipy's
   ``ks_2samp`` for that gap and the two sizes (:func:`~salescast.monitoring.drift.ks_test_at_gap`): the same
   method (exact or asymptotic) and numbers as the pandas path. The **PSI** bin edges are the reference's
   quantiles as ``numpy.quantile`` computes them (linear interpolation between the two order statistics around
   ``(n − 1)·q``): the order statistics are looked up by rank in the same sorted counts, so the edges and
   the bin counts are those of the pandas path, not an approximation (``percentile_approx`` would return
   data values at approximate ranks, without the interpolation).
3. **performance and coverage**: sums of squared and absolute errors, mean per-row MASE and the share of actuals
   inside each interval, per scored month, as aggregations.

Only small results reach the driver (per column: sizes, the gap's counts, ≤ 18 order statistics, ≤ 10 bin
counts; per month: the errors), plus a seeded sample of at most :data:`CHART_ROWS` rows per sample for the
report's charts (the page says so).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.forecast.spark.data import SPARK_SOURCES
from salescast.forecast.spark.groups import group_catalog
from salescast.lifecycle.months import format_month
from salescast.monitoring.coverage import CoverageDrift, coverage_unchecked, coverage_verdict, interval_rows
from salescast.monitoring.data_drift import drift_kinds, drift_samples
from salescast.monitoring.drift import (
    DriftResult,
    DriftThresholds,
    drift_verdict,
    ks_test_at_gap,
    psi_bins,
    psi_from_counts,
    psi_quantiles,
)
from salescast.monitoring.performance import MonthPerformance, scored_rows

logger = logging.getLogger(__name__)

CHART_ROWS = 10_000  # rows per sample drawn on the report's charts
CHART_SEED = 14
REFERENCE, CURRENT, SCORED = "reference", "current", "scored"
SCORED_COLUMNS = ["actual", "champion", "baseline", "scale"]


@dataclass(frozen=True)
class MonitorJob:
    """What a group needs (shipped once, broadcast): the champion, the months, the compared columns."""

    forecaster: object
    first_month: pd.Timestamp
    id_type: str
    exogenous_columns: tuple[str, ...]
    reference_months: tuple[pd.Timestamp, ...]
    month: pd.Timestamp
    scored: tuple[pd.Timestamp, ...]
    levels: tuple[float, ...]  # empty: no interval coverage to compute
    columns: tuple[str, ...]  # the compared columns in report order (d0, d1, … in the rows)

    def output_columns(self) -> list[str]:
        drift = [f"d{index}" for index in range(len(self.columns))]
        inside = [f"inside{index}" for index in range(len(self.levels))]
        return ["dates", "item_id", "part", *drift, *SCORED_COLUMNS, *inside]


def drift_columns(
    forecaster, first_month: pd.Timestamp, id_type: str, exogenous_columns: Sequence[str]
) -> dict[str, str]:
    """The compared columns in report order (features, ``sales``, ``prediction``) and their kinds, from one
    synthetic item: they depend on the champion's configuration only."""
    sales = pd.DataFrame({"dates": [first_month], "item_id": [0 if id_type == "long" else "0"], "sales": [1.0]})
    exogenous = sales[["dates", "item_id"]].assign(**dict.fromkeys(exogenous_columns, 0.0))
    probe = MonitorJob(forecaster, first_month, id_type, tuple(exogenous_columns), (), first_month, (), (), ())
    catalog = group_catalog(sales, exogenous if exogenous_columns else None, probe)
    _, _, features = drift_samples(forecaster, catalog, [first_month], first_month)
    return drift_kinds(features)


def monitor_group(sales: pd.DataFrame, exogenous: pd.DataFrame | None, job: MonitorJob) -> pd.DataFrame:
    """The group's rows: ``part`` reference / current (the compared values ``d0…``) and scored (``actual``,
    ``champion``, ``baseline``, the item's MASE ``scale``, ``inside0…`` = 1 when the actual is in the level's
    interval) — the pandas path's rows for these items."""
    from salescast.forecast.metrics import seasonal_naive_scale

    catalog = group_catalog(sales, exogenous, job)
    reference, current, _ = drift_samples(job.forecaster, catalog, list(job.reference_months), job.month)
    parts = []
    for part, sample in ((REFERENCE, reference), (CURRENT, current)):
        frame = sample[["dates", "item_id"]].assign(part=part)
        for index, column in enumerate(job.columns):
            frame[f"d{index}"] = sample[column].to_numpy(dtype=np.float64)
        parts.append(frame)
    if job.scored:
        months = list(job.scored)
        rows = scored_rows(job.forecaster, catalog, months)
        scale = seasonal_naive_scale(catalog.sales[catalog.sales["dates"] < min(months)])
        frame = pd.DataFrame(
            {
                "dates": rows["dates"].to_numpy(),
                "item_id": rows["item_id"].to_numpy(),
                "part": SCORED,
                "actual": rows["sales"].to_numpy(dtype=np.float64),
                "champion": rows["champion"].to_numpy(dtype=np.float64),
                "baseline": rows["baseline"].to_numpy(dtype=np.float64),
                "scale": scale.reindex(rows["item_id"]).to_numpy(dtype=np.float64),
            }
        )
        if job.levels:
            frame = frame.merge(
                _inside(job.forecaster, catalog, months, job.levels), on=["dates", "item_id"], how="left"
            )
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True).reindex(columns=job.output_columns())
    out["part"] = out["part"].astype(object)  # an Arrow string column of several chunks does not go back to Spark
    return out


def _inside(forecaster, catalog, months, levels) -> pd.DataFrame:
    """dates, item_id, ``inside<i>``: 1.0 when the actual is not outside level i's bounds (as
    :func:`~salescast.forecast.metrics.interval_scores` counts: a missing bound does not exclude)."""
    from salescast.forecast.intervals import level_name

    rows = interval_rows(forecaster, catalog, months, levels)
    out = rows[["dates", "item_id"]].copy()
    actual = rows["sales"].to_numpy(dtype=np.float64)
    for index, level in enumerate(levels):
        name = level_name(float(level))
        below = actual < rows[f"lo_{name}"].to_numpy(dtype=np.float64)
        above = actual > rows[f"hi_{name}"].to_numpy(dtype=np.float64)
        out[f"inside{index}"] = (~below & ~above).astype(np.float64)
    return out


def quantile_ranks(rows: int, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower rank, upper rank, weight) of each inner PSI edge: ``numpy.quantile``'s linear method on ``rows``
    sorted values reads the values at these 0-based ranks and interpolates with the weight."""
    virtual = (rows - 1) * psi_quantiles(bins)
    lower = np.floor(virtual)
    weight = virtual - lower
    lower = lower.astype(np.int64)
    upper = np.minimum(lower + 1, rows - 1)
    return lower, upper, weight


def interpolated_edges(low: np.ndarray, high: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The inner edges from the order statistics, with ``numpy.quantile``'s interpolation (its ``_lerp``: from
    the upper value when the weight is at least 0.5), sorted and unique as the pandas path keeps them."""
    difference = high - low
    edges = np.where(weight >= 0.5, high - difference * (1 - weight), low + difference * weight)
    return np.unique(edges)


class SparkMonitor:
    """The pipeline's files read and validated by Spark; :meth:`statistics` computes the report's numbers."""

    def __init__(self, settings, config, spark=None) -> None:
        """Raises :class:`~salescast.forecast.spark.batch.SparkSourceError` for a source Spark does not read."""
        from pyspark.sql import functions as F

        from salescast.forecast.spark.batch import SparkSourceError, check_spark_source, load_pipeline_catalog
        from salescast.forecast.spark.pipeline import session_conf
        from salescast.forecast.spark.session import spark_session

        check_spark_source(config)
        others = sorted(name for name in config.source.data if name not in SPARK_SOURCES)
        if others:
            raise SparkSourceError(
                f"engine spark reads the sales and exogenous files; this pipeline also reads {others}"
            )
        started = time.perf_counter()
        self.settings = settings
        self.config = config
        self.spark = spark or spark_session(session_conf(config.spark))
        self.catalog = load_pipeline_catalog(self.spark, config)
        summary = self.catalog.sales.agg(F.countDistinct("item_id"), F.collect_set("dates")).first()
        self.items = int(summary[0])
        self.months = sorted(pd.Timestamp(month) for month in summary[1])
        self.last_month = self.months[-1]
        self.description = config.source.describe()
        logger.info(
            "spark: %d items, %d months read and validated in %.1f s",
            self.items,
            len(self.months),
            time.perf_counter() - started,
        )

    def close(self) -> None:
        """Drop the validated tables from the session's cache: a later read of the same paths (a long-lived
        session, a notebook) must read the files again, not this run's rows."""
        self.catalog.sales.unpersist()
        if self.catalog.exogenous is not None:
            self.catalog.exogenous.unpersist()

    def statistics(self, job):
        """The :class:`~salescast.monitoring.service.Statistics` of ``job`` (a ``MonitoredChampion``)."""
        from salescast.forecast.spark.pipeline import RowCountError, grouped, n_groups_for
        from salescast.monitoring.service import PandasMonitor, Statistics

        champion = job.champion
        extra = sorted(name for name, table in champion.context.items() if table is not None)
        if extra:
            logger.warning(
                "monitoring on pandas instead of Spark: the champion was trained with the %s tables, which the "
                "Spark engine does not read",
                extra,
            )
            return PandasMonitor(self.settings, self.config).statistics(job)
        started = time.perf_counter()
        catalog = self.catalog
        calibrated = coverage_unchecked(champion.forecaster, job.scored, job.levels, job.tolerance_points) is None
        columns = drift_columns(champion.forecaster, self.months[0], catalog.id_type, catalog.exogenous_columns)
        monitor_job = MonitorJob(
            champion.forecaster,
            self.months[0],
            catalog.id_type,
            tuple(catalog.exogenous_columns),
            tuple(job.trained_on),
            job.month,
            tuple(job.scored),
            tuple(job.levels) if calibrated else (),
            tuple(columns),
        )
        shipped = self.spark.sparkContext.broadcast(monitor_job)
        id_type = "long" if catalog.id_type == "long" else "string"
        schema = ", ".join(
            [
                f"dates timestamp_ntz, item_id {id_type}, part string",
                *[f"{name} double" for name in monitor_job.output_columns()[3:]],
            ]
        )
        groups = n_groups_for(self.spark, self.items, self.config.spark)
        rows = grouped(catalog, groups, lambda s, e: monitor_group(s, e, shipped.value), schema).persist()
        produced = _part_counts(rows)
        expected = _expected_counts(catalog.sales, monitor_job)
        if produced != expected:
            raise RowCountError(f"engine spark: monitoring expected {expected} rows (sales rows), but got {produced}")
        logger.info(
            "spark: %d reference, %d current and %d scored rows computed in %d groups in %.1f s",
            expected[REFERENCE],
            expected[CURRENT],
            expected[SCORED],
            groups,
            time.perf_counter() - started,
        )
        drift = distribution_drift(rows, columns, job.thresholds)
        performance = month_errors(rows)
        if calibrated:
            coverage = interval_coverage(rows, job.scored, job.levels, job.tolerance_points)
        else:
            coverage = coverage_unchecked(champion.forecaster, job.scored, job.levels, job.tolerance_points)
        reference, current, note = chart_samples(rows, columns, expected)
        rows.unpersist()
        shipped.unpersist()
        logger.info("spark: monitoring statistics in %.1f s", time.perf_counter() - started)
        return Statistics(drift, reference, current, performance, coverage, note)


def _part_counts(rows) -> dict[str, int]:
    counts = {row["part"]: int(row["count"]) for row in rows.groupBy("part").count().collect()}
    return {part: counts.get(part, 0) for part in (REFERENCE, CURRENT, SCORED)}


def _expected_counts(sales, job: MonitorJob) -> dict[str, int]:
    """The sales rows of the reference months, the month and the scored months (each part has one row each)."""
    from pyspark.sql import functions as F

    def rows_in(months):
        return F.sum(F.col("dates").isin(list(months)).cast("long")) if months else F.lit(0)

    counts = sales.agg(rows_in(job.reference_months), rows_in([job.month]), rows_in(job.scored)).first()
    return {part: int(value or 0) for part, value in zip((REFERENCE, CURRENT, SCORED), counts, strict=True)}


def sorted_counts(rows, n_columns: int):
    """Per compared column and distinct finite value: ``ref``/``cur`` (rows of each sample with that value),
    ``ref_upto``/``cur_upto`` (rows at or below it: the two ECDFs × sizes), ``n_ref``/``n_cur`` (sizes)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    cells = F.explode(
        F.array(
            *[F.struct(F.lit(index).alias("column"), F.col(f"d{index}").alias("value")) for index in range(n_columns)]
        )
    )
    value = F.col("value")
    long = (
        rows.filter(F.col("part").isin(REFERENCE, CURRENT))
        .select(
            (F.col("part") == REFERENCE).cast("long").alias("ref"),
            (F.col("part") == CURRENT).cast("long").alias("cur"),
            cells.alias("cell"),
        )
        .select("ref", "cur", "cell.column", "cell.value")
        .filter(value.isNotNull() & ~F.isnan(value) & (F.abs(value) != float("inf")))
    )
    counts = long.groupBy("column", "value").agg(F.sum("ref").alias("ref"), F.sum("cur").alias("cur"))
    upto = Window.partitionBy("column").orderBy("value").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = Window.partitionBy("column")
    return counts.select(
        "column",
        "value",
        "ref",
        "cur",
        F.sum("ref").over(upto).alias("ref_upto"),
        F.sum("cur").over(upto).alias("cur_upto"),
        F.sum("ref").over(whole).alias("n_ref"),
        F.sum("cur").over(whole).alias("n_cur"),
    )


def distribution_drift(rows, columns: dict[str, str], thresholds: DriftThresholds) -> list[DriftResult]:
    """One :class:`DriftResult` per compared column (module docstring: KS and PSI from the sorted counts)."""
    from pyspark.sql import functions as F

    counts = sorted_counts(rows, len(columns)).persist()
    both = (F.col("n_ref") > 0) & (F.col("n_cur") > 0)
    gap = F.when(both, F.abs(F.col("ref_upto") / F.col("n_ref") - F.col("cur_upto") / F.col("n_cur")))
    summary = {
        int(row["column"]): row
        for row in counts.groupBy("column")
        .agg(
            F.max("n_ref").alias("n_ref"),
            F.max("n_cur").alias("n_cur"),
            F.max_by(F.struct("ref_upto", "cur_upto"), gap).alias("at"),
        )
        .collect()
    }
    sizes = {index: (int(row["n_ref"]), int(row["n_cur"])) for index, row in summary.items()}
    bins = {index: psi_bins(*size, thresholds.max_bins) for index, size in sizes.items() if min(size) > 0}
    edges = _psi_edges(counts, {index: (sizes[index][0], count) for index, count in bins.items() if count})
    bin_counts = _bin_counts(counts, edges)
    results = []
    for index, (name, kind) in enumerate(columns.items()):
        n_ref, n_cur = sizes.get(index, (0, 0))
        if n_ref == 0 or n_cur == 0:
            results.append(drift_verdict(name, kind, n_ref, n_cur, None, None, thresholds))
            continue
        at = summary[index]["at"]
        ks = ks_test_at_gap(int(at["ref_upto"]), int(at["cur_upto"]), n_ref, n_cur)
        psi = None
        if bins[index] is not None:
            reference_counts, current_counts = bin_counts[index]
            psi = psi_from_counts(reference_counts, current_counts)
        results.append(drift_verdict(name, kind, n_ref, n_cur, ks, psi, thresholds))
    counts.unpersist()
    return results


def _psi_edges(counts, wanted: dict[int, tuple[int, int]]) -> dict[int, np.ndarray]:
    """Per column ``index: (reference rows, bins)``, the inner edges (the reference's order statistics)."""
    from pyspark.sql import functions as F

    if not wanted:
        return {}
    ranks = {index: quantile_ranks(rows, bins) for index, (rows, bins) in wanted.items()}
    needed = pd.DataFrame(
        [
            (index, int(rank))
            for index, (lower, upper, _) in ranks.items()
            for rank in sorted({*lower.tolist(), *upper.tolist()})
        ],
        columns=["column", "rank"],
    )
    spark = counts.sparkSession
    wanted_ranks = F.broadcast(spark.createDataFrame(needed, "column int, rank long")).alias("w")
    sorted_values = counts.filter(F.col("ref") > 0).alias("c")
    matched = sorted_values.join(
        wanted_ranks,
        (F.col("c.column") == F.col("w.column"))
        & (F.col("c.ref_upto") - F.col("c.ref") <= F.col("w.rank"))
        & (F.col("w.rank") < F.col("c.ref_upto")),
    ).select(F.col("w.column").alias("column"), "w.rank", "c.value")
    value_at = {(int(row["column"]), int(row["rank"])): float(row["value"]) for row in matched.collect()}
    edges = {}
    for index, (lower, upper, weight) in ranks.items():
        low = np.array([value_at[(index, int(rank))] for rank in lower])
        high = np.array([value_at[(index, int(rank))] for rank in upper])
        edges[index] = interpolated_edges(low, high, weight)
    return edges


def _bin_counts(counts, edges: dict[int, np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per column, each sample's rows in the bins ``[e_i, e_i+1)`` of ``-inf, edges…, inf`` (``numpy.histogram``)."""
    from pyspark.sql import functions as F

    if not edges:
        return {}
    spark = counts.sparkSession
    table = spark.createDataFrame(
        [(index, [float(edge) for edge in values]) for index, values in edges.items()],
        "column int, edges array<double>",
    )
    binned = (
        counts.join(F.broadcast(table), "column")
        .withColumn("bin", F.size(F.filter("edges", lambda edge: edge <= F.col("value"))))
        .groupBy("column", "bin")
        .agg(F.sum("ref").alias("ref"), F.sum("cur").alias("cur"))
        .collect()
    )
    result = {
        index: (np.zeros(len(values) + 1, np.int64), np.zeros(len(values) + 1, np.int64))
        for index, values in edges.items()
    }
    for row in binned:
        reference, current = result[int(row["column"])]
        reference[int(row["bin"])] = int(row["ref"])
        current[int(row["bin"])] = int(row["cur"])
    return result


def month_errors(rows) -> list[MonthPerformance]:
    """:func:`~salescast.monitoring.performance.month_performance` as aggregations of the scored rows."""
    from pyspark.sql import functions as F

    def errors(which: str):
        error = F.col(which) - F.col("actual")
        scale = F.col("scale")
        usable = scale.isNotNull() & ~F.isnan(scale)
        return [
            F.sum(error * error).alias(f"{which}_sse"),
            F.sum(F.abs(error)).alias(f"{which}_sae"),
            F.avg(F.when(usable, F.abs(error) / scale)).alias(f"{which}_mase"),
        ]

    months = (
        rows.filter(F.col("part") == SCORED)
        .groupBy("dates")
        .agg(F.count(F.lit(1)).alias("rows"), *errors("champion"), *errors("baseline"))
        .collect()
    )
    result = []
    for row in sorted(months, key=lambda row: row["dates"]):
        count = int(row["rows"])
        result.append(
            MonthPerformance(
                format_month(pd.Timestamp(row["dates"])),
                math.sqrt(row["champion_sse"] / count),
                math.sqrt(row["baseline_sse"] / count),
                row["champion_sae"] / count,
                row["baseline_sae"] / count,
                count,
                math.nan if row["champion_mase"] is None else float(row["champion_mase"]),
                math.nan if row["baseline_mase"] is None else float(row["baseline_mase"]),
            )
        )
    return result


def interval_coverage(rows, months, levels, tolerance_points: float) -> CoverageDrift:
    """:func:`~salescast.monitoring.coverage.coverage_drift` as an aggregation of the scored rows' ``inside`` flags."""
    from pyspark.sql import functions as F

    scored = rows.filter(F.col("part") == SCORED)
    sums = scored.agg(
        F.count("inside0").alias("rows"), *[F.sum(f"inside{index}").alias(f"s{index}") for index in range(len(levels))]
    ).first()
    count = int(sums["rows"])
    coverages = [float(sums[f"s{index}"]) / count * 100 for index in range(len(levels))] if count else []
    return coverage_verdict(months, levels, coverages, count, tolerance_points)


def chart_samples(rows, columns: Sequence[str], counts: dict[str, int]):
    """(reference, current, note): at most :data:`CHART_ROWS` rows of each sample (seeded), for the charts only."""
    from pyspark.sql import functions as F

    frames, described = [], []
    for part in (REFERENCE, CURRENT):
        total = counts[part]
        sample = rows.filter(F.col("part") == part).select(
            "dates", "item_id", *[F.col(f"d{index}").alias(name) for index, name in enumerate(columns)]
        )
        if total > CHART_ROWS:
            fraction = min(1.0, 1.1 * CHART_ROWS / total)
            sample = sample.sample(fraction=fraction, seed=CHART_SEED).limit(CHART_ROWS)
        frame = sample.toPandas()
        frames.append(frame)
        described.append(f"{len(frame):,} of the {total:,} {part} rows")
    note = (
        "Computed with engine spark: the statistics use every row; the drift charts draw "
        + " and ".join(described)
        + f" (a seeded sample of at most {CHART_ROWS:,} rows per sample)."
    )
    return frames[0], frames[1], note
