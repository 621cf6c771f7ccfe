"""What a pipeline names and reads: its registered model, its source identity, weekly and monthly CSV files."""

from __future__ import annotations

import pandas as pd
import pytest

from salescast.forecast.catalog import DataValidationError
from salescast.lifecycle.sources import (
    DEFAULT_MODEL_NAME,
    CsvSource,
    DatabaseSource,
    PipelineConfigError,
    SourceIdentity,
    SourceMismatchError,
    check_same_source,
    iso_dates,
    items_fingerprint,
    load_pipeline_config,
    load_source,
    monthly_from_weekly,
    parse_pipeline_config,
    registered_model_name,
    resolve_model_name,
    source_identity,
)
from salescast.settings import Settings


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- the registered model's name ------------------------------------------------------------------


def test_the_model_is_named_by_name_else_by_the_file_stem(tmp_path):
    named = write(tmp_path / "pipeline.yaml", "name: us-employment\ndata: {sales: s.csv}\n")
    assert load_pipeline_config(named).name == "us-employment"
    unnamed = write(tmp_path / "weekly stores.yaml", "data: {sales: s.csv}\n")
    assert load_pipeline_config(unnamed).name == "weekly-stores"  # made a valid MLflow name
    assert parse_pipeline_config({"data": {"sales": "s"}}, base_dir=tmp_path).name == DEFAULT_MODEL_NAME


@pytest.mark.parametrize("name", ["", "with/slash", "-starts-with-dash", 3, "x" * 101])
def test_an_invalid_name_is_refused(tmp_path, name):
    with pytest.raises(PipelineConfigError, match="'name' must be letters, digits"):
        parse_pipeline_config({"name": name, "data": {"sales": "s"}}, base_dir=tmp_path)


def test_the_setting_names_every_pipeline_s_model_when_given(tmp_path):
    config = parse_pipeline_config({"name": "mine", "data": {"sales": "s"}}, base_dir=tmp_path)
    assert registered_model_name(config, Settings()) == "mine"
    assert registered_model_name(config, Settings(registered_model_name="shared")) == "shared"
    assert registered_model_name(None, Settings()) == DEFAULT_MODEL_NAME


def test_resolve_model_name_reads_only_the_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_model_name(None, Settings()) == DEFAULT_MODEL_NAME  # no pipeline.yaml: the database's
    # An unknown model would fail a full load; the name alone is enough for history/promote/rollback.
    write(tmp_path / "pipeline.yaml", "name: fast\nmodel: NoSuchModel\ndata: {sales: s.csv}\n")
    assert resolve_model_name(None, Settings()) == "fast"
    other = write(tmp_path / "other.yaml", "data: {sales: s.csv}\n")
    assert resolve_model_name(other, Settings()) == "other"
    with pytest.raises(PipelineConfigError, match="not found"):
        resolve_model_name(tmp_path / "missing.yaml", Settings())


# -- source identity ------------------------------------------------------------------------------


def test_identity_of_a_csv_source_is_its_resolved_sales_file_and_items(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    identity = source_identity(CsvSource({"sales": tmp_path / "a" / ".." / "sales.csv"}), Settings(), [2, 1])
    assert identity.kind == "csv" and identity.location == str((tmp_path / "sales.csv").resolve())
    assert identity.item_count == 2 and identity.items_fingerprint == items_fingerprint(["1", "2"])
    assert SourceIdentity.from_tags(identity.tags()) == identity
    assert SourceIdentity.from_tags({}) is None  # a version registered before sources were recorded


def test_identity_of_a_database_hides_the_password_and_makes_sqlite_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = source_identity(DatabaseSource(), Settings(database_url="sqlite:///data/sales.db"), ["tomato"])
    assert local.location == f"sqlite:///{(tmp_path / 'data' / 'sales.db').resolve()}"
    remote = source_identity(DatabaseSource("postgresql+psycopg://me:secret@db:5432/sales"), Settings(), [])
    assert "secret" not in remote.location and remote.location.startswith("postgresql+psycopg://me:***@db")


def test_same_source_needs_the_kind_and_the_location_or_the_items():
    csv = SourceIdentity("csv", "/data/sales.csv", items_fingerprint([1, 2]), 2)
    moved = SourceIdentity("csv", "/elsewhere/sales.csv", items_fingerprint([1, 2]), 2)
    grown = SourceIdentity("csv", "/data/sales.csv", items_fingerprint([1, 2, 3]), 3)
    other = SourceIdentity("csv", "/other.csv", items_fingerprint([7]), 1)
    database = SourceIdentity("database", "/data/sales.csv", items_fingerprint([1, 2]), 2)
    assert csv.same_source(moved) and csv.same_source(grown)
    assert not csv.same_source(other) and not csv.same_source(database)


def test_a_champion_from_another_source_is_refused_with_both_sources_named():
    champion = SourceIdentity("csv", "/data/sales.csv", items_fingerprint(range(1, 51)), 50)
    served = SourceIdentity("database", "sqlite:////srv/salescast.db", items_fingerprint(["tomato"]), 1)
    check_same_source(None, served, model="m", version="1")  # unknown source: not judged
    check_same_source(champion, champion, model="m", version="1")
    with pytest.raises(SourceMismatchError) as raised:
        check_same_source(champion, served, model="vegetables", version="3")
    message = str(raised.value)
    assert "champion v3 of registered model 'vegetables' was trained on csv /data/sales.csv, 50 items" in message
    assert "database sqlite:////srv/salescast.db, 1 items" in message and "`name:`" in message


# -- CSV files --------------------------------------------------------------------------------------


def test_iso_dates_accept_days_and_months_and_refuse_ambiguous_formats():
    assert iso_dates(pd.Series(["2023-04-01", "2023-05", " 2023-06-01 "]), where="sales").tolist() == [
        "2023-04-01",
        "2023-05-01",
        "2023-06-01",
    ]
    with pytest.raises(DataValidationError) as raised:
        iso_dates(pd.Series(["2023-04-01", "01/05/2023", "13/05/2023"]), where="sales data/s.csv")
    message = str(raised.value)
    assert "sales data/s.csv: column 'dates' must be written YYYY-MM-DD" in message
    assert "2 row(s) are not: '01/05/2023' (row 3), '13/05/2023' (row 4)" in message and "ambiguous" in message


def test_a_day_first_monthly_file_is_refused_not_read_month_first(tmp_path):
    sales = write(tmp_path / "sales.csv", "dates,item_id,sales\n01/02/2023,1,5\n01/03/2023,1,6\n")
    with pytest.raises(DataValidationError, match="must be written YYYY-MM-DD"):
        load_source(CsvSource({"sales": sales}), Settings())


def test_weekly_sales_are_prorated_into_months_by_days():
    # 2020-W05 runs Mon 27 Jan – Sun 2 Feb: 5 days in January, 2 in February.
    weekly = pd.DataFrame({"year_week": [202005, 202005], "item_id": ["a", "b"], "sales": [70.0, 7.0]})
    monthly, complete = monthly_from_weekly(weekly, where="sales")
    assert monthly.to_dict("list") == {
        "dates": [
            pd.Timestamp("2020-01-01"),
            pd.Timestamp("2020-01-01"),
            pd.Timestamp("2020-02-01"),
            pd.Timestamp("2020-02-01"),
        ],
        "item_id": ["a", "b", "a", "b"],
        "sales": [50.0, 5.0, 20.0, 2.0],
    }
    assert complete == []  # one week covers no whole month


def test_a_weekly_file_s_complete_months_and_leading_partial_month(tmp_path):
    # ISO weeks 2020-W01 … W10 run Mon 30 Dec 2019 – Sun 8 Mar 2020: January and February are complete,
    # the two days of December 2019 are a partial month before them (dropped), March is partial (kept, not complete).
    rows = "".join(f"2020{week:02d},sku-1,7\n" for week in range(1, 11))
    sales = write(tmp_path / "weekly.csv", "year_week,item_id,sales\n" + rows)
    data = load_source(CsvSource({"sales": sales}), Settings())
    assert [f"{month:%Y-%m}" for month in data.complete_months] == ["2020-01", "2020-02"]
    monthly = data.catalog.sales
    assert [f"{month:%Y-%m}" for month in monthly["dates"]] == ["2020-01", "2020-02", "2020-03"]
    assert monthly["sales"].tolist() == pytest.approx([31.0, 29.0, 8.0])  # one unit a day


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("202054,a,1\n", "ISO week YYYYWW"),
        ("2020-05,a,1\n", "ISO week YYYYWW"),
        ("202005,a,1\n202005,a,2\n", "(year_week, item_id) must be unique"),
        ("202005,a,x\n", "'sales' must be a number"),
    ],
)
def test_weekly_file_errors(tmp_path, rows, message):
    sales = write(tmp_path / "weekly.csv", "year_week,item_id,sales\n" + rows)
    with pytest.raises(DataValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_source(CsvSource({"sales": sales}), Settings())
