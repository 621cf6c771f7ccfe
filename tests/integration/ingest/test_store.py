"""The storage layer on SQLite and PostgreSQL, with a tiny explicit resolver so each rule is visible."""

from __future__ import annotations

import pytest

from salescast.ingest.schema import SalesRow
from salescast.ingest.store import SalesStore

NAMES = {"tomato": "tomato", "tomate": "tomato", "carrot": "carrot", "zanahoria": "carrot"}


def name_key(name: str) -> str:
    return name.strip().lower()


def resolve(name: str) -> str | None:
    return NAMES.get(name_key(name))


def rows(*triples) -> list[SalesRow]:
    return [SalesRow(index, week, name, float(sales)) for index, (week, name, sales) in enumerate(triples)]


def test_weekly_sums_names_resolving_to_the_same_vegetable_and_months_are_prorated(store):
    counts = store.upsert_sales(rows((202005, "Tomate", 40), (202005, "tomato", 30)), name_key, resolve)
    assert (counts.inserted, counts.updated, counts.unchanged) == (2, 0, 0)
    assert store.weekly_sales() == [{"year_week": 202005, "vegetable": "tomato", "sales": 70.0}]
    assert store.monthly_sales_rows() == [
        {"year_month": 202001, "vegetable": "tomato", "sales": pytest.approx(50.0)},
        {"year_month": 202002, "vegetable": "tomato", "sales": pytest.approx(20.0)},
    ]


def test_week_53_splits_across_the_year_boundary(store):
    store.upsert_sales(rows((202053, "carrot", 70)), name_key, resolve)
    months = {row["year_month"]: row["sales"] for row in store.monthly_sales_rows()}
    assert months == {202012: pytest.approx(40.0), 202101: pytest.approx(30.0)}


def test_last_write_wins_and_same_batch_twice_changes_nothing(store):
    batch = rows((202010, "carrot", 5), (202011, "Zanahoria", 7))
    store.upsert_sales(batch, name_key, resolve)
    again = store.upsert_sales(batch, name_key, resolve)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = store.upsert_sales(rows((202010, "carrot", 9)), name_key, resolve)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 0)
    assert store.raw_sales() == [
        {"year_week": 202010, "vegetable": "carrot", "sales": 9.0},
        {"year_week": 202011, "vegetable": "Zanahoria", "sales": 7.0},
    ]
    assert sum(row["sales"] for row in store.monthly_sales_rows()) == pytest.approx(16.0)


def test_a_key_sent_twice_in_one_batch_keeps_its_last_row(store):
    counts = store.upsert_sales(rows((202010, "carrot", 5), (202010, "carrot", 8)), name_key, resolve)
    assert counts.inserted == 1
    assert store.raw_sales() == [{"year_week": 202010, "vegetable": "carrot", "sales": 8.0}]


def test_unknown_names_stay_raw_until_an_alias_maps_them_past_rows_included(store):
    store.upsert_sales(rows((202010, "tomatl", 4), (202011, "tomatl", 6), (202010, "tomato", 1)), name_key, resolve)
    assert store.unknown_vegetables() == [{"name": "tomatl", "rows": 2, "total_sales": 10.0}]
    assert sum(row["sales"] for row in store.weekly_sales()) == 1.0

    assert store.add_alias("tomatl", "tomato") == 2
    assert store.unknown_vegetables() == []
    assert store.weekly_sales() == [
        {"year_week": 202010, "vegetable": "tomato", "sales": 5.0},
        {"year_week": 202011, "vegetable": "tomato", "sales": 6.0},
    ]
    assert sum(row["sales"] for row in store.monthly_sales_rows()) == pytest.approx(11.0)
    # …and future rows with that name follow the alias too.
    store.upsert_sales(rows((202012, "tomatl", 2)), name_key, resolve)
    assert store.weekly_sales()[-1] == {"year_week": 202012, "vegetable": "tomato", "sales": 2.0}


def test_remapping_an_alias_moves_past_sales_between_vegetables(store):
    store.upsert_sales(rows((202010, "tomatl", 4)), name_key, resolve)
    store.add_alias("tomatl", "tomato")
    store.add_alias("tomatl", "carrot")
    assert store.weekly_sales() == [{"year_week": 202010, "vegetable": "carrot", "sales": 4.0}]
    assert [row["vegetable"] for row in store.monthly_sales_rows()] == ["carrot"]


def outlier_history() -> list[SalesRow]:
    """Carrots sell ~100 a week with one 10,000 week; tomatoes ~10 with one 200 week (small scale)."""
    triples = []
    for week in range(1, 31):
        triples.append((202000 + week, "carrot", 100 + (week % 3)))
        triples.append((202000 + week, "tomato", 10 + (week % 2)))
    triples[2 * 19] = (202020, "carrot", 10_000)
    triples[2 * 9 + 1] = (202010, "tomato", 200)
    return rows(*triples)


def test_outliers_are_judged_against_their_own_vegetable(store):
    store.upsert_sales(outlier_history(), name_key, resolve)
    flagged = [row for row in store.weekly_sales(with_outlier_flag=True) if row["is_outlier"]]
    # A global mean would flag neither small tomato anomaly nor be fair to carrots; per vegetable finds both.
    assert {(row["year_week"], row["vegetable"]) for row in flagged} == {(202020, "carrot"), (202010, "tomato")}
    kept = store.weekly_sales(remove_outliers=True)
    assert len(kept) == 58 and all("is_outlier" not in row for row in kept)


def test_a_store_with_another_threshold_re_flags_every_week(store, database_url):
    store.upsert_sales(outlier_history(), name_key, resolve)
    lenient = SalesStore(database_url, outlier_std_threshold=100.0)
    lenient.migrate()
    assert not any(row["is_outlier"] for row in lenient.weekly_sales(with_outlier_flag=True))
    assert lenient.monthly_sales_rows(remove_outliers=True) == lenient.monthly_sales_rows()
    lenient.dispose()


@pytest.mark.parametrize(("threshold", "flagged"), [(1.78, True), (1.79, False)])
def test_outlier_threshold_uses_the_sample_standard_deviation(database_url, threshold, flagged):
    # Values 0,0,0,0,x: with ddof=1, x is exactly 1.7889 std from the mean (ddof=0 would give 2.0).
    store = SalesStore(database_url, outlier_std_threshold=threshold)
    store.migrate()
    store.upsert_sales(rows(*[(202001 + i, "carrot", 0) for i in range(4)], (202005, "carrot", 10)), name_key, resolve)
    assert any(row["is_outlier"] for row in store.weekly_sales(with_outlier_flag=True)) is flagged
    store.dispose()


def test_monthly_without_outliers_leaves_out_exactly_the_outlier_weeks(store):
    store.upsert_sales(outlier_history(), name_key, resolve)
    weekly_kept = store.weekly_sales(remove_outliers=True)
    monthly_kept = store.monthly_sales_rows(remove_outliers=True)
    for vegetable in ("carrot", "tomato"):
        weekly_total = sum(row["sales"] for row in weekly_kept if row["vegetable"] == vegetable)
        monthly_total = sum(row["sales"] for row in monthly_kept if row["vegetable"] == vegetable)
        assert monthly_total == pytest.approx(weekly_total, rel=1e-12)
    all_months = store.monthly_sales_rows()
    assert sum(row["sales"] for row in all_months) - sum(row["sales"] for row in monthly_kept) == pytest.approx(10_200)


def test_reset_empties_sales_but_keeps_aliases(store):
    store.upsert_sales(rows((202010, "tomatl", 4)), name_key, resolve)
    store.add_alias("tomatl", "tomato")
    store.reset()
    assert store.raw_sales() == [] and store.monthly_sales_rows() == []
    assert store.aliases() == {"tomatl": "tomato"}


def test_monthly_sales_frame_has_the_documented_types(store):
    store.upsert_sales(rows((202005, "tomato", 70)), name_key, resolve)
    frame = store.monthly_sales()
    assert list(frame.columns) == ["year_month", "vegetable", "sales"]
    assert frame["year_month"].tolist() == [202001, 202002]
    assert str(frame["sales"].dtype) == "float64"


def test_a_week_that_stops_being_an_outlier_returns_to_the_regular_months(store):
    store.upsert_sales(outlier_history(), name_key, resolve)
    assert (202020, "carrot") in {
        (row["year_week"], row["vegetable"]) for row in store.weekly_sales(with_outlier_flag=True) if row["is_outlier"]
    }
    # Carrot sales move to a much higher level: 10,000 is no longer exceptional for carrots.
    store.upsert_sales(rows(*[(202100 + week, "carrot", 9_000 + week) for week in range(1, 31)]), name_key, resolve)
    flagged = {
        (row["year_week"], row["vegetable"]) for row in store.weekly_sales(with_outlier_flag=True) if row["is_outlier"]
    }
    assert (202020, "carrot") not in flagged
    regular = {
        (row["year_month"], row["vegetable"]): row["sales"] for row in store.monthly_sales_rows(remove_outliers=True)
    }
    everything = {(row["year_month"], row["vegetable"]): row["sales"] for row in store.monthly_sales_rows()}
    assert regular[(202005, "carrot")] == pytest.approx(everything[(202005, "carrot")])


def recomputed_layers(raw: list[dict], threshold: float) -> tuple[dict, dict, dict]:
    """Weekly flags and both monthly layers computed from scratch from the raw rows, with pandas."""
    import pandas as pd

    from salescast.ingest.calendar import days_per_month

    frame = pd.DataFrame(raw)
    frame["canonical"] = frame["vegetable"].map(resolve)
    weekly = frame.dropna(subset=["canonical"]).groupby(["year_week", "canonical"], as_index=False)["sales"].sum()
    stats = weekly.groupby("canonical")["sales"].agg(["mean", "var"])
    joined = weekly.join(stats, on="canonical")
    weekly["is_outlier"] = ((joined["sales"] - joined["mean"]) ** 2 > threshold**2 * joined["var"]).fillna(False)
    split = [(week, month, days) for week in weekly["year_week"].unique() for month, days in days_per_month(week)]
    months = weekly.merge(pd.DataFrame(split, columns=["year_week", "year_month", "days"]), on="year_week")
    months["share"] = months["sales"] * months["days"] / 7
    every = months.groupby(["year_month", "canonical"])["share"].sum().to_dict()
    regular = months[~months["is_outlier"]].groupby(["year_month", "canonical"])["share"].sum().to_dict()
    flags = {(week, name): bool(flag) for week, name, flag in weekly[["year_week", "canonical", "is_outlier"]].values}
    return flags, every, regular


def test_incremental_layers_equal_a_full_recomputation_after_random_bursts(database_url):
    import random

    store = SalesStore(database_url, outlier_std_threshold=3.0)
    store.migrate()

    rng = random.Random(3)
    weeks = [202001 + offset for offset in range(40)] + [202053, 202101, 202102]
    for _ in range(60):
        batch = []
        for _ in range(rng.randint(1, 6)):
            name = rng.choice(["tomato", "Tomate", "carrot", "zanahoria", "pomme"])
            sales = 5000.0 if rng.random() < 0.03 else rng.uniform(10, 30)  # a few outliers, some later replaced
            batch.append((rng.choice(weeks), name, round(sales, 2)))
        store.upsert_sales(rows(*batch), name_key, resolve)
    flags, every, regular = recomputed_layers(store.raw_sales(), store.outlier_std_threshold)
    stored_weekly = store.weekly_sales(with_outlier_flag=True)
    assert {(row["year_week"], row["vegetable"]): row["is_outlier"] for row in stored_weekly} == flags
    assert any(flags.values()), "the burst should contain outliers"
    for stored, expected in (
        (store.monthly_sales_rows(), every),
        (store.monthly_sales_rows(remove_outliers=True), regular),
    ):
        assert {(row["year_month"], row["vegetable"]) for row in stored} == set(expected)
        for row in stored:
            assert row["sales"] == pytest.approx(expected[(row["year_month"], row["vegetable"])], rel=1e-12)
    store.dispose()


@pytest.mark.parametrize(("setting", "level"), [("FULL", 2), ("NORMAL", 1)])
def test_sqlite_writes_in_wal_mode_with_the_configured_synchronous_level(sqlite_url, setting, level):
    store = SalesStore(sqlite_url, sqlite_synchronous=setting)
    try:
        store.migrate()
        with store.write_engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == level
    finally:
        store.dispose()
