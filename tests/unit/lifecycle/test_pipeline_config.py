"""pipeline.yaml parsing: both sources, defaults and the errors a user can act on."""

from __future__ import annotations

import pytest

from salescast.lifecycle.sources import (
    CsvSource,
    DatabaseSource,
    PipelineConfigError,
    load_pipeline_config,
    parse_pipeline_config,
)


def test_csv_source_paths_are_relative_to_the_file(tmp_path):
    path = tmp_path / "conf" / "pipeline.yaml"
    path.parent.mkdir()
    path.write_text(
        "source: {kind: csv, data: {sales: ../data/sales.csv}}\nmodel: LightGBM\n"
        "features: [last_month]\nlifecycle: {window: 4, baselines: [PrevMonthSale]}\n"
    )
    config = load_pipeline_config(path)
    assert isinstance(config.source, CsvSource)
    assert config.source.data["sales"] == (tmp_path / "conf" / "../data/sales.csv")
    assert (config.model, config.features, config.window) == ("LightGBM", ["last_month"], 4)
    assert config.baselines == ["SameMonthLastYearSales", "PrevMonthSale"]


def test_make_predictions_style_data_key_means_csv(tmp_path):
    config = parse_pipeline_config({"data": {"sales": "s.csv"}}, base_dir=tmp_path)
    assert config.source.data == {"sales": tmp_path / "s.csv"}
    assert config.model == "Ridge" and config.window == 3 and config.features is None


def test_database_source(tmp_path):
    config = parse_pipeline_config({"source": {"kind": "database", "remove_outliers": True}}, base_dir=tmp_path)
    assert config.source == DatabaseSource(database_url=None, remove_outliers=True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "must be a mapping"),
        ({"model": "Ridge"}, "'source' must be a mapping with kind"),
        ({"source": {"kind": "parquet"}}, "unknown source kind 'parquet'"),
        ({"source": {"kind": "csv", "data": {}}}, "needs data: {sales:"),
        ({"source": {"kind": "database", "remove_outliers": "yes"}}, "remove_outliers must be true or false"),
        ({"source": {"kind": "database", "url": "x"}}, "unknown database source key"),
        ({"data": {"sales": "s"}, "lifecycle": {"window": 0}}, "window must be a whole number"),
        ({"data": {"sales": "s"}, "modle": "Ridge"}, "unknown key(s) ['modle']"),
        ({"data": {"sales": "s"}, "model": "Prophet"}, "Ridge"),
        ({"data": {"sales": "s"}, "features": ["last_month", "weather"]}, "weather"),
        ({"data": {"sales": "s"}, "target_scaling": True}, "valid values are ['auto', 'item_level', None]"),
        ({"data": {"sales": "s"}, "lifecycle": {"baselines": ["Naive"]}}, "Naive"),
    ],
)
def test_errors_name_what_to_fix(raw, message, tmp_path):
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(raw, base_dir=tmp_path)
    assert message in str(raised.value)


def test_missing_file_shows_an_example(tmp_path):
    with pytest.raises(PipelineConfigError, match=r"not found; create it .* e.g.:\nname: .*\nsource:"):
        load_pipeline_config(tmp_path / "pipeline.yaml")


def test_engine_keys_are_read_and_passed_as_make_predictions_takes_them(tmp_path):
    raw = {
        "data": {"sales": "s.csv"},
        "model": "Ridge",
        "target_transforms": ["seasonal_difference", "item_level"],
        "refit": "once",
    }
    config = parse_pipeline_config(raw, base_dir=tmp_path)
    assert config.target_transforms == ["seasonal_difference", "item_level"] and config.refit == "once"
    assert config.as_params()["target_transforms"] == ["seasonal_difference", "item_level"]
    assert config.as_params()["refit"] == "once"
    default = parse_pipeline_config({"data": {"sales": "s.csv"}}, base_dir=tmp_path)
    assert default.target_transforms is None and default.refit == "monthly"  # the monthly job's own rolling origin
    # unset keys stay out of the fingerprint's params: older pipelines keep their fingerprints and versions
    assert "target_transforms" not in default.as_params() and "refit" not in default.as_params()
    difference = parse_pipeline_config({**raw, "target_transforms": [{"difference": 12}]}, base_dir=tmp_path)
    assert difference.target_transforms == [{"difference": 12}]


def test_auto_is_a_pipeline_model(tmp_path):
    config = parse_pipeline_config({"data": {"sales": "s.csv"}, "model": "Auto"}, base_dir=tmp_path)
    assert config.model == "Auto"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"refit": "weekly"}, "refit must be one of ['once', 'monthly']"),
        ({"refit": True}, "refit must be one of ['once', 'monthly']"),
        ({"target_transforms": "log1p"}, "target_transforms must be a list"),
        ({"target_transforms": ["sqrt"]}, "unknown entry 'sqrt'"),
        ({"target_transforms": ["item_level", "log1p"]}, "must be the last entry"),
        ({"target_transforms": [{"difference": 0}]}, "difference must be an integer"),
        ({"target_transforms": ["log1p"], "target_scaling": "item_level"}, "not both"),
        ({"target_transforms": ["log1p"], "model": "CustomModel"}, "apply to the pooled Ridge and LightGBM"),
        ({"model": "Ridge", "model_params": {"alpah": 1}}, "has no parameter(s) ['alpah']"),
    ],
)
def test_bad_engine_keys_fail_with_the_engine_message(raw, message, tmp_path):
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config({"data": {"sales": "s.csv"}, **raw}, base_dir=tmp_path)
    assert message in str(raised.value)
    assert str(raised.value).startswith("pipeline config: ")
