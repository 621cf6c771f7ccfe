"""The ingestion commands of the CLI."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from salescast.api.app import create_app
from salescast.cli import app
from salescast.settings import Settings

runner = CliRunner()


def test_generate_vegetables_is_deterministic_per_seed(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"]
    for path, seed in zip(paths, ["1", "1", "2"], strict=True):
        result = runner.invoke(app, ["generate", "vegetables", "--out", str(path), "--seed", seed])
        assert result.exit_code == 0, result.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert paths[0].read_text().splitlines()[0] == "year_week,vegetable,sales"


def test_import_sales_rejects_a_csv_without_the_expected_header(tmp_path, sqlite_url):
    path = tmp_path / "bad.csv"
    path.write_text("week,name,qty\n202001,tomato,3\n")
    result = runner.invoke(app, ["import-sales", str(path), "--database-url", sqlite_url])
    assert result.exit_code == 1
    assert "missing column(s) year_week, vegetable, sales" in result.output


def test_import_sales_validates_like_the_api(tmp_path, sqlite_url):
    path = tmp_path / "feed.csv"
    path.write_text("year_week,vegetable,sales\n202005,Tomate,70\n202054,tomato,1\n202006,carrot,abc\n202006,,4\n")
    result = runner.invoke(app, ["import-sales", str(path), "--database-url", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "2020 has only 53 ISO weeks" in result.output
    assert "sales: expected a number, got 'abc'" in result.output
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        assert client.get("/get_raw_sales").json() == [{"year_week": 202005, "vegetable": "Tomate", "sales": 70.0}]


def test_init_db_creates_an_empty_schema(sqlite_url):
    result = runner.invoke(app, ["init-db", "--database-url", sqlite_url])
    assert result.exit_code == 0, result.output
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        assert client.get("/get_monthly_sales").json() == []


def test_serve_refuses_a_public_interface_without_an_admin_token(sqlite_url, monkeypatch):
    monkeypatch.delenv("SALESCAST_ADMIN_TOKEN", raising=False)
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--database-url", sqlite_url])
    assert result.exit_code == 1
    assert "refusing to bind 0.0.0.0" in result.output


def test_serve_reports_an_unsupported_database_url_clearly():
    result = runner.invoke(app, ["serve", "--database-url", "mysql://nobody@localhost/x"])
    assert result.exit_code == 1
    assert "unsupported database URL" in result.output
