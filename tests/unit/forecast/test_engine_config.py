"""The engine switch: checked in the make_predictions config and in pipeline.yaml before any data is read."""

from __future__ import annotations

import pytest

from salescast.forecast.config import ConfigError, parse_config, parse_engine
from salescast.lifecycle.sources import PipelineConfigError, parse_pipeline_config


def test_pandas_is_the_default_and_spark_takes_a_spark_section(tmp_path):
    base = {"data": {"sales": "sales.csv"}, "start_test": "2021-07-01"}
    assert parse_config(base).engine == "pandas"
    checked = parse_config({**base, "engine": "spark", "spark": {"spark.executor.memory": "4g"}})
    assert (checked.engine, checked.spark) == ("spark", {"spark.executor.memory": "4g"})


@pytest.mark.parametrize(
    ("engine", "spark", "message"),
    [
        ("dask", None, "engine must be one of"),
        ("spark", ["spark.executor.memory=4g"], "'spark' must map Spark configuration keys"),
        ("spark", {"spark.executor.memory": {"nested": 1}}, "values strings or numbers"),
        ("pandas", {"spark.executor.memory": "4g"}, "configures engine: spark"),
    ],
)
def test_bad_engine_settings_say_what_to_fix(engine, spark, message):
    with pytest.raises(ConfigError, match=message):
        parse_engine(engine, spark)


def test_pipeline_yaml_takes_engine_and_spark(tmp_path):
    raw = {"source": {"kind": "csv", "data": {"sales": "sales.csv"}}, "engine": "spark", "spark": {"a.b": 1}}
    config = parse_pipeline_config(raw, base_dir=tmp_path)
    assert (config.engine, config.spark) == ("spark", {"a.b": 1})
    with pytest.raises(PipelineConfigError, match="engine must be one of"):
        parse_pipeline_config({**raw, "engine": "ray"}, base_dir=tmp_path)
