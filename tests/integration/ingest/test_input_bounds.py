"""The issue's hostile inputs over HTTP, on SQLite and PostgreSQL: each rejects its own row with a reason,
nothing else fails, and both backends answer the same."""

from __future__ import annotations

import math

import pytest


def post(client, rows: list[dict] | bytes) -> dict:
    if isinstance(rows, bytes):
        response = client.post("/post_sales", content=rows, headers={"content-type": "application/json"})
    else:
        response = client.post("/post_sales", json=rows)
    assert response.status_code == 200, response.text
    return response.json()


def assert_reads_are_finite(client) -> None:
    for path in ("/get_raw_sales", "/get_weekly_sales", "/get_monthly_sales", "/unknown_vegetables"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        for row in response.json():
            value = row.get("sales", row.get("total_sales"))
            assert value is not None and math.isfinite(value), (path, row)


VALID = {"year_week": 202010, "vegetable": "carrot", "sales": 5}
HOSTILE_BATCHES = {
    # each used to make the whole commit fail (500) or store a value reads could not return
    "fsum overflow": [
        {"year_week": 202002, "vegetable": "tomato", "sales": 2e307},
        {"year_week": 202003, "vegetable": "tomato", "sales": 2e307},
    ],
    "one week, two names": [
        {"year_week": 202002, "vegetable": "tomato", "sales": 1e308},
        {"year_week": 202002, "vegetable": "tomate", "sales": 1e308},
    ],
    "NUL in a name": [{"year_week": 202002, "vegetable": "tom\x00ato", "sales": 1}],
    "nearly the largest float": [{"year_week": 202002, "vegetable": "tomato", "sales": 1.797e308}],
    "unknown name, huge sales": [
        {"year_week": 202002, "vegetable": "zzyzx", "sales": 1e308},
        {"year_week": 202003, "vegetable": "zzyzx", "sales": 1e308},
    ],
    "only a zero-width space": [{"year_week": 202002, "vegetable": "\u200b", "sales": 1}],
}


@pytest.mark.parametrize("name", HOSTILE_BATCHES)
def test_rows_the_storage_cannot_hold_are_rejected_and_their_neighbours_stored(client, name):
    batch = HOSTILE_BATCHES[name]
    result = post(client, [*batch, VALID])
    assert result["inserted"] == 1
    assert result["rejected"] == len(batch)
    assert [error["index"] for error in result["errors"]] == list(range(len(batch)))
    assert client.get("/get_raw_sales").json() == [{"year_week": 202010, "vegetable": "carrot", "sales": 5.0}]
    assert_reads_are_finite(client)


def test_a_number_too_large_for_a_float_rejects_its_row_not_the_body(client):
    body = (
        b'[{"year_week": 202005, "vegetable": "tomato", "sales": 1e309},'
        b' {"year_week": 202006, "vegetable": "tomato", "sales": 3}]'
    )
    result = post(client, body)
    assert result["inserted"] == 1
    assert result["errors"] == [{"index": 0, "reasons": ["sales: 1e309 is out of range (at most 1e+12)"]}]
    assert [row["year_week"] for row in client.get("/get_raw_sales").json()] == [202006]


def test_sales_at_the_maximum_sum_and_spread_without_overflow(client):
    names = ["tomato", "tomate", "tomates", "jitomate", "tomatoes"]
    rows = [{"year_week": 202001 + week, "vegetable": name, "sales": 1e12} for week in range(52) for name in names]
    assert post(client, rows)["inserted"] == len(rows)
    weekly = client.get("/get_weekly_sales", params={"with_outlier_flag": True}).json()
    assert {row["sales"] for row in weekly} == {5e12}
    assert not any(row["is_outlier"] for row in weekly)
    assert sum(row["sales"] for row in client.get("/get_monthly_sales").json()) == pytest.approx(52 * 5e12)
    assert_reads_are_finite(client)


def test_names_that_normalization_expands_are_stored_on_every_backend(client):
    # U+FDFA is one character and 18 once normalized: its key must still fit PostgreSQL's index entries.
    name = "\ufdfa" * 200
    assert post(client, [{"year_week": 202005, "vegetable": name, "sales": 1}])["inserted"] == 1
    assert client.get("/unknown_vegetables").json() == [{"name": name, "rows": 1, "total_sales": 1.0}]
    response = client.post("/vegetable_aliases", json={"alias": name, "vegetable": "\ufdfb" * 200})
    assert response.status_code == 200, response.text
    assert response.json()["rows_remapped"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"alias": "tomatl", "vegetable": "x" * 1_000_000},
        {"alias": "x" * 201, "vegetable": "tomato"},
        {"alias": "tomatl", "vegetable": "tom\x00ato"},
        {"alias": "\u200b", "vegetable": "tomato"},
    ],
)
def test_alias_names_are_bounded_like_feed_names(client, body):
    response = client.post("/vegetable_aliases", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    assert client.post("/vegetable_aliases", json={"alias": "tomatl", "vegetable": "tomato"}).status_code == 200
