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


def summary_row(output: str) -> dict[str, int]:
    """The numbers of the import summary table, by column."""
    lines = [line for line in output.splitlines() if "│" in line or "┃" in line]
    header = [cell.strip() for cell in lines[0].strip("┃").split("┃")]
    values = [int(cell) for cell in lines[1].strip("│").split("│")]
    return dict(zip(header, values, strict=True))


def test_an_extra_column_is_an_error_that_names_it_and_the_way_to_sum(tmp_path, sqlite_url):
    path = tmp_path / "stores.csv"
    path.write_text("year_week,vegetable,sales,store\n202005,tomato,70,north\n202005,tomato,30,south\n")
    result = runner.invoke(app, ["import-sales", str(path), "--database-url", sqlite_url])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "unexpected column(s) store" in text and "pass --sum-over store" in text
    assert not (tmp_path / "sales.db").exists()  # nothing written, not even an empty database

    summed = runner.invoke(app, ["import-sales", str(path), "--database-url", sqlite_url, "--sum-over", "store"])
    assert summed.exit_code == 0, summed.output
    assert summary_row(summed.output) == {
        "rows": 2,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "duplicates in file": 0,
        "summed": 1,
    }
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        assert client.get("/get_raw_sales").json() == [{"year_week": 202005, "vegetable": "tomato", "sales": 100.0}]
    wrong = runner.invoke(app, ["import-sales", str(path), "--database-url", sqlite_url, "--sum-over", "region"])
    assert wrong.exit_code == 1 and "--sum-over names region, which is not an extra column" in wrong.output


def test_the_summary_adds_up_with_duplicates_in_the_file(tmp_path, sqlite_url):
    first = tmp_path / "first.csv"
    first.write_text("year_week,vegetable,sales\n202005,tomato,70\n202006,tomato,10\n")
    assert runner.invoke(app, ["import-sales", str(first), "--database-url", sqlite_url]).exit_code == 0
    path = tmp_path / "feed.csv"
    path.write_text(
        "year_week,vegetable,sales\n"
        "202005,tomato,70\n"  # unchanged
        "202006,tomato,11\n"  # updated…
        "202006,tomato,12\n"  # …by its last row: one duplicate
        "202007,carrot,5\n"  # inserted
        "202007,carrot,5\n"  # duplicate
        "202007,carrot,6\n"  # duplicate, the last wins
        "202008,carrot,x\n"  # rejected
    )
    result = runner.invoke(app, ["import-sales", str(path), "--database-url", sqlite_url, "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    counts = summary_row(result.output)
    assert counts == {
        "rows": 7,
        "inserted": 1,
        "updated": 1,
        "unchanged": 1,
        "rejected": 1,
        "duplicates in file": 3,
    }
    assert counts["rows"] == sum(value for name, value in counts.items() if name != "rows")
    assert "8" in result.output.split("Rejected rows")[1]  # the rejected row's line in the file
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        raw = {(row["year_week"], row["vegetable"]): row["sales"] for row in client.get("/get_raw_sales").json()}
    assert raw == {(202005, "tomato"): 70.0, (202006, "tomato"): 12.0, (202007, "carrot"): 6.0}
