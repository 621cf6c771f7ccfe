"""The SparkSession of an ``engine: spark`` job: an active one is reused, else one is built from the settings.

The master is ``SALESCAST_SPARK_MASTER`` (default ``local[*]``) unless the job runs under ``spark-submit``,
whose ``--master`` then rules (an explicit ``SALESCAST_SPARK_MASTER`` still wins). The config's ``spark:``
section is passed to the builder key by key (``spark.executor.memory: 4g``, ``spark.sql.shuffle.partitions``…).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

# What the engine needs of every session: dates parsed in UTC, Arrow for applyInPandas.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"


def local_shuffle_partitions(master: str | None) -> int | None:
    """Two shuffle partitions per core of a ``local[N]`` / ``local[*]`` master (None for a cluster's master).

    Spark's default of 200 is a cluster's: on one machine each of the engine's shuffles (the groups, the
    duplicate check, the monitor's statistics) then runs 200 tiny tasks, a minute of overhead on the monitor
    benchmark (README). A ``spark.sql.shuffle.partitions`` in the ``spark:`` section wins.
    """
    if master == "local":
        return 2
    match = re.fullmatch(r"local\[(\d+|\*)(?:,\d+)?\]", master or "")
    if match is None:
        return None
    cores = (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))
    return 2 * max(cores, 1)


def spark_session(conf: Mapping[str, Any] | None = None, master: str | None = None):
    """The active SparkSession, or a new one with ``conf`` and the master of the settings (module docstring)."""
    from pyspark.sql import SparkSession

    from salescast.settings import get_settings

    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in {**REQUIRED_CONF, **dict(conf or {})}.items():
            try:
                active.conf.set(key, str(value))
            except Exception as error:  # a static key of a running session: said, not silently dropped
                logger.warning("spark: cannot set %s on the running session (%s); set it when launching", key, error)
        return active
    settings = get_settings()
    builder = SparkSession.builder.appName("salescast")
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this driver with its own --master
    chosen = master or (
        settings.spark_master if "spark_master" in settings.model_fields_set or not under_submit else None
    )
    if chosen:
        builder = builder.master(chosen)
    settings_conf = {**REQUIRED_CONF, **dict(conf or {})}
    partitions = local_shuffle_partitions(chosen)
    if partitions and SHUFFLE_PARTITIONS not in settings_conf:
        settings_conf[SHUFFLE_PARTITIONS] = partitions
    for key, value in settings_conf.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    logger.info("spark: session on %s (Spark %s)", session.sparkContext.master, session.version)
    return session
