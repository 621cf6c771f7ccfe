"""The SparkSession of an ``engine: spark`` job: an active one is reused, else one is built from the settings.

The master is ``SALESCAST_SPARK_MASTER`` (default ``local[*]``) unless the job runs under ``spark-submit``,
whose ``--master`` then rules (an explicit ``SALESCAST_SPARK_MASTER`` still wins). The config's ``spark:``
section is passed to the builder key by key (``spark.executor.memory: 4g``, ``spark.sql.shuffle.partitions``…).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

# What the engine needs of every session: dates parsed in UTC, Arrow for applyInPandas.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


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
    for key, value in {**REQUIRED_CONF, **dict(conf or {})}.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    logger.info("spark: session on %s (Spark %s)", session.sparkContext.master, session.version)
    return session
