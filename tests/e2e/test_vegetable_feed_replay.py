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


def test_generated_feed_replayed_over_http_conserves_sales_per_vegetable(feed_csv, database_url):
    rows = read_sales_csv(feed_csv)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        totals = defaultdict(int)
        for start in range(0, len(rows), 500):
            result = client.post("/post_sales", json=rows[start : start + 500]).json()
            for name in ("inserted", "updated", "unchanged", "rejected"):
                totals[name] += result[name]
        assert totals["rejected"] > 0  # the generator injects invalid rows
        raw = client.get("/get_raw_sales").json()
        assert len(raw) == totals["inserted"]
        assert len(raw) == len({(row["year_week"], row["vegetable"]) for row in raw})

        weekly = client.get("/get_weekly_sales", params={"with_outlier_flag": True}).json()
        assert len({row["vegetable"] for row in weekly}) >= 12
        assert any(row["is_outlier"] for row in weekly)  # the generator injects outliers
        # Raw rows that resolved add up to the cleaned weekly layer, per week.
        resolved_total = sum(row["sales"] for row in raw) - sum(
            item["total_sales"] for item in client.get("/unknown_vegetables").json()
        )
        assert sum(row["sales"] for row in weekly) == pytest.approx(resolved_total, rel=1e-9)
        assert_layers_conserve(client)

        # Replaying the whole feed again is a no-op.
        again = client.post("/post_sales", json=rows[:500]).json()
        assert again["inserted"] == 0 and again["updated"] == 0


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
