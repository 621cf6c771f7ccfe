"""The forecasting engine on Apache Spark (``engine: spark``): the same feature and model modules, per group of items.

Nothing here is imported by the pandas engine; :mod:`.pipeline` is loaded only when a config asks for Spark.
"""
