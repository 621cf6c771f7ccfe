"""Replay the generated multilingual feed through HTTP and the CLI; check conservation between layers."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from salescast.api.app import create_app
from salescast.cli import app
from salescast.ingest.csv_import import read_sales_csv
from salescast.ingest.generate import expected_cleaned_weekly_sales, generate_labelled_vegetable_sales
from salescast.settings import Settings


@pytest.fixture(scope="module")
def feed_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("feed") / "vegetables.csv"
    result = CliRunner().invoke(app, ["generate", "vegetables", "--out", str(path), "--seed", "7"])
    assert result.exit_code == 0, result.output
    return path


def assert_layers_conserve(client: TestClient) -> None:
    for remove_outliers in (False, True):
        params = {"remove_outliers": remove_outliers}
        weekly, monthly = defaultdict(float), defaultdict(float)
        for row in client.get("/get_weekly_sales", params=params).json():
            weekly[row["vegetable"]] += row["sales"]
        for row in client.get("/get_monthly_sales", params=params).json():
            monthly[row["vegetable"]] += row["sales"]
        assert weekly.keys() == monthly.keys()
        for vegetable, total in weekly.items():
            assert monthly[vegetable] == pytest.approx(total, rel=1e-9), (vegetable, remove_outliers)


POST_ROWS = 500


def counts_of_posting_in_order(rows: list[dict], chunk: int, is_valid) -> dict[str, int]:
    """inserted / updated / unchanged / rejected of posting ``rows`` in chunks of ``chunk``, one after the other.

    The service's rules, written out: a key is (year_week, name as sent), the last row of a key within a
    post wins, a key already stored with the same value is unchanged, with another value updated.
    """
    stored: dict[tuple[int, str], float] = {}
    totals = defaultdict(int)
    for start in range(0, len(rows), chunk):
        post: dict[tuple[int, str], float] = {}
        for row in rows[start : start + chunk]:
            if is_valid(row):
                post[(row["year_week"], row["vegetable"])] = float(row["sales"])
            else:
                totals["rejected"] += 1
        for key, sales in post.items():
            kind = "inserted" if key not in stored else "unchanged" if stored[key] == sales else "updated"
            totals[kind] += 1
            stored[key] = sales
    return dict(totals)


def test_generated_feed_replayed_over_http_matches_its_ground_truth(feed_csv, database_url):
    rows = read_sales_csv(feed_csv)
    labelled = generate_labelled_vegetable_sales(seed=7)
    assert len(rows) == len(labelled)  # the CSV is the labelled feed, row for row
    invalid_rows = {index for index, kind in enumerate(labelled["row_kind"]) if kind == "invalid"}
    indexed = [dict(row, _index=index) for index, row in enumerate(rows)]
    expected = counts_of_posting_in_order(indexed, POST_ROWS, lambda row: row["_index"] not in invalid_rows)
    assert expected["rejected"] == 9
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        totals = defaultdict(int)
        for start in range(0, len(rows), POST_ROWS):
            result = client.post("/post_sales", json=rows[start : start + POST_ROWS]).json()
            for name in ("inserted", "updated", "unchanged", "rejected"):
                totals[name] += result[name]
        assert dict(totals) == {name: expected.get(name, 0) for name in totals}  # exact counts, every post
        raw = client.get("/get_raw_sales").json()
        assert len(raw) == totals["inserted"]
        assert len(raw) == len({(row["year_week"], row["vegetable"]) for row in raw})

        # The cleaned weekly layer is the feed's ground truth: names resolved, duplicates last-wins, summed,
        # and exactly the injected outlier weeks flagged.
        truth = expected_cleaned_weekly_sales(labelled)
        weekly = client.get("/get_weekly_sales", params={"with_outlier_flag": True}).json()
        assert [(row["year_week"], row["vegetable"]) for row in weekly] == list(
            zip(truth["year_week"], truth["vegetable"], strict=True)
        )
        assert [row["sales"] for row in weekly] == pytest.approx(truth["sales"].tolist(), rel=1e-12)
        assert [row["is_outlier"] for row in weekly] == truth["is_injected_outlier"].tolist()
        fruits = labelled[labelled["row_kind"] == "unknown"]
        unknown = client.get("/unknown_vegetables").json()
        assert {(item["name"], item["rows"], item["total_sales"]) for item in unknown} == {
            (name, 1, float(sales)) for name, sales in zip(fruits["vegetable"], fruits["sales"], strict=True)
        }
        resolved_total = sum(row["sales"] for row in raw) - sum(item["total_sales"] for item in unknown)
        assert sum(row["sales"] for row in weekly) == pytest.approx(resolved_total, rel=1e-9)
        assert_layers_conserve(client)

        # Replaying the whole feed again, as one post, changes nothing: every valid key is unchanged.
        again = client.post("/post_sales", json=rows).json()
        assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, len(raw))
        assert again["rejected"] == 9
        assert client.get("/get_raw_sales").json() == raw


def test_import_sales_cli_loads_the_same_feed_and_reports_a_summary(feed_csv, sqlite_url):
    runner = CliRunner()
    result = runner.invoke(app, ["import-sales", str(feed_csv), "--database-url", sqlite_url, "--batch-size", "700"])
    assert result.exit_code == 0, result.output
    with feed_csv.open() as handle:
        line_count = sum(1 for _ in csv.reader(handle)) - 1
    assert str(line_count) in result.output
    assert "Rejected rows" in result.output
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        assert len(client.get("/get_raw_sales").json()) > 0
        assert_layers_conserve(client)
