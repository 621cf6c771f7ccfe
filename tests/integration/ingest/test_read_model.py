"""The incremental read models stay exact across writers in other processes, deletions and upgrades."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa
from alembic import command

from salescast.ingest.schema import SalesRow
from salescast.ingest.store import SalesStore
from salescast.migrations import alembic_config


def name_key(name: str) -> str:
    return name.lower()


def resolve(name: str) -> str | None:
    return {"tomate": "tomato", "tomato": "tomato", "carrot": "carrot"}.get(name.lower())


@pytest.fixture
def stores(database_url):
    """Two stores on one database: two server processes, each with its own cache."""
    first, second = SalesStore(database_url), SalesStore(database_url)
    first.migrate()
    yield first, second
    first.dispose()
    second.dispose()


def test_a_reader_sees_every_write_committed_by_another_process(stores):
    reader, writer = stores
    assert reader.raw_sales() == [] and reader.monthly_sales_rows() == []
    writer.upsert_sales([SalesRow(0, 202005, "Tomate", 70.0)], name_key, resolve)
    assert reader.raw_sales() == [{"year_week": 202005, "vegetable": "Tomate", "sales": 70.0}]
    writer.upsert_sales([SalesRow(0, 202005, "Tomate", 7.0), SalesRow(1, 202001, "zz", 1.0)], name_key, resolve)
    assert reader.raw_sales() == [
        {"year_week": 202001, "vegetable": "zz", "sales": 1.0},
        {"year_week": 202005, "vegetable": "Tomate", "sales": 7.0},
    ]
    assert [row["sales"] for row in reader.monthly_sales_rows()] == pytest.approx([5.0, 2.0])


def test_rows_that_vanish_make_readers_reload(stores):
    reader, writer = stores
    writer.upsert_sales([SalesRow(0, 202005, "tomatl", 70.0)], name_key, resolve)
    writer.add_alias("tomatl", "tomato")
    assert [row["vegetable"] for row in reader.monthly_sales_rows()] == ["tomato", "tomato"]
    writer.add_alias("tomatl", "carrot")  # tomato's months disappear
    assert [row["vegetable"] for row in reader.monthly_sales_rows()] == ["carrot", "carrot"]
    writer.reset()
    assert reader.raw_sales() == [] and reader.monthly_sales_rows() == []


def test_order_is_by_code_point_on_every_backend(stores):
    reader, writer = stores
    names = ["b", "B", "a b", "ab", "É", "e"]
    writer.upsert_sales([SalesRow(i, 202001, name, 1.0) for i, name in enumerate(names)], name_key, resolve)
    assert [row["vegetable"] for row in reader.raw_sales()] == sorted(names)


def test_upgrading_a_database_from_the_first_schema_keeps_its_rows(database_url):
    config = alembic_config()
    engine = SalesStore(database_url).write_engine
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            sa.text(
                "INSERT INTO raw_sales (year_week, vegetable, sales, name_key, canonical) "
                "VALUES (202005, 'Tomate', 70, 'tomate', 'tomato')"
            )
        )
        connection.execute(sa.text("INSERT INTO monthly_sales VALUES (202001, 'tomato', 50), (202002, 'tomato', 20)"))
    engine.dispose()
    store = SalesStore(database_url)
    store.migrate()
    assert store.raw_sales() == [{"year_week": 202005, "vegetable": "Tomate", "sales": 70.0}]
    assert [row["sales"] for row in store.monthly_sales_rows()] == [50.0, 20.0]
    store.upsert_sales([SalesRow(0, 202005, "Tomate", 7.0)], name_key, resolve)
    assert store.raw_sales()[0]["sales"] == 7.0
    store.dispose()


def test_a_writer_pushes_its_commit_into_its_own_cache_and_interleaved_writers_fall_back_to_pulling(sqlite_url):
    first, second = SalesStore(sqlite_url), SalesStore(sqlite_url)
    first.migrate()
    assert first.raw_sales() == [] and first.monthly_sales_rows(remove_outliers=True) == []
    first.upsert_sales([SalesRow(0, 202005, "Tomate", 70.0)], name_key, resolve)
    # Current without a read: the write itself brought the cache to the new version.
    assert orjson.loads(first.json_if_current("raw")) == [{"year_week": 202005, "vegetable": "Tomate", "sales": 70.0}]
    monthly = orjson.loads(first.json_if_current("regular_monthly"))
    assert [(row["year_month"], row["sales"]) for row in monthly] == [(202001, 50.0), (202002, 20.0)]

    second.upsert_sales([SalesRow(0, 202001, "carrot", 7.0)], name_key, resolve)
    first.upsert_sales([SalesRow(0, 202005, "Tomate", 14.0)], name_key, resolve)
    # The other process's version lies in between: no push, the next read pulls both changes.
    assert first.json_if_current("raw") is None
    assert first.raw_sales() == [
        {"year_week": 202001, "vegetable": "carrot", "sales": 7.0},
        {"year_week": 202005, "vegetable": "Tomate", "sales": 14.0},
    ]
    assert first.raw_sales() == second.raw_sales()
    first.dispose()
    second.dispose()
