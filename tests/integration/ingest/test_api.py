"""Every ingestion endpoint over HTTP (ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

TOKEN = "s3cret-token"


def post(client, rows, path="/post_sales"):
    response = client.post(path, json=rows)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_every_path_answers_with_and_without_trailing_slash(client, suffix):
    assert (
        post(client, [{"year_week": 202005, "vegetable": "Tomate", "sales": 70}], "/post_sales" + suffix)["inserted"]
        == 1
    )
    for path in ("/get_raw_sales", "/get_weekly_sales", "/get_monthly_sales", "/unknown_vegetables", "/health"):
        response = client.get(path + suffix, follow_redirects=False)
        assert response.status_code == 200, (path + suffix, response.status_code)
    assert client.post("/init_database" + suffix).status_code == 200
    assert client.get("/init_database" + suffix).status_code == 200
    assert (
        client.post("/vegetable_aliases" + suffix, json={"alias": "tomatl", "vegetable": "tomato"}).status_code == 200
    )


def test_the_three_layers_from_the_issue_example(client):
    result = post(
        client,
        [
            {"year_week": 202005, "vegetable": "Tomate", "sales": 40},
            {"year_week": 202005, "vegetable": "tomatoes", "sales": 30},
            {"year_week": 202053, "vegetable": "Zanahorias", "sales": 7},
        ],
    )
    assert result == {"inserted": 3, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    assert client.get("/get_raw_sales").json() == [
        {"year_week": 202005, "vegetable": "Tomate", "sales": 40.0},
        {"year_week": 202005, "vegetable": "tomatoes", "sales": 30.0},
        {"year_week": 202053, "vegetable": "Zanahorias", "sales": 7.0},
    ]
    assert client.get("/get_weekly_sales").json() == [
        {"year_week": 202005, "vegetable": "tomato", "sales": 70.0},
        {"year_week": 202053, "vegetable": "carrot", "sales": 7.0},
    ]
    flagged = client.get("/get_weekly_sales", params={"with_outlier_flag": "true"}).json()
    assert [set(row) for row in flagged] == [{"year_week", "vegetable", "sales", "is_outlier"}] * 2
    monthly = client.get("/get_monthly_sales").json()
    assert [(row["year_month"], row["vegetable"]) for row in monthly] == [
        (202001, "tomato"),
        (202002, "tomato"),
        (202012, "carrot"),
        (202101, "carrot"),
    ]
    assert [row["sales"] for row in monthly] == pytest.approx([50.0, 20.0, 4.0, 3.0])


def test_partial_insert_stores_valid_rows_and_reports_the_invalid_one(client):
    rows = [
        {"year_week": 202010, "vegetable": "carrot", "sales": 1},
        {"year_week": 202011, "vegetable": "carrot", "sales": 2},
        {"year_week": 202054, "vegetable": "carrot", "sales": 3},
        {"year_week": 202012, "vegetable": "carrot", "sales": 4},
    ]
    result = post(client, rows)
    assert (result["inserted"], result["rejected"]) == (3, 1)
    assert result["errors"] == [{"index": 2, "reasons": ["year_week 202054: 2020 has only 53 ISO weeks"]}]
    assert [row["year_week"] for row in client.get("/get_raw_sales").json()] == [202010, 202011, 202012]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"year_week": 202010, "sales": 1}, "vegetable: missing"),
        ({"year_week": 202010, "vegetable": "", "sales": 1}, "vegetable: empty or blank"),
        ({"year_week": 202010, "vegetable": "  ", "sales": 1}, "vegetable: empty or blank"),
        ({"year_week": 202010, "vegetable": ["x"], "sales": 1}, "vegetable: expected a string"),
        ({"year_week": 202010, "vegetable": "carrot"}, "sales: missing"),
        ({"year_week": 202010, "vegetable": "carrot", "sales": "ten"}, "sales: expected a number"),
        ({"year_week": 202010, "vegetable": "carrot", "sales": -1}, "sales: must be ≥ 0"),
        ({"year_week": "2020-10", "vegetable": "carrot", "sales": 1}, "year_week: expected an integer"),
        ({"year_week": 202000, "vegetable": "carrot", "sales": 1}, "week 0 does not exist"),
        ({"year_week": 202054, "vegetable": "carrot", "sales": 1}, "only 53 ISO weeks"),
        ({"year_week": 202153, "vegetable": "carrot", "sales": 1}, "only 52 ISO weeks"),
    ],
)
def test_each_bad_row_is_rejected_over_http(client, row, reason):
    result = post(client, [row])
    assert result["rejected"] == 1 and result["inserted"] == 0
    assert any(reason in text for text in result["errors"][0]["reasons"])
    assert client.get("/get_raw_sales").json() == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_sales_sent_as_json_literals_are_rejected(client, literal):
    body = f'[{{"year_week": 202010, "vegetable": "carrot", "sales": {literal}}}]'
    response = client.post("/post_sales", content=body, headers={"content-type": "application/json"})
    # orjson refuses these non-standard literals outright: the body is not JSON, nothing is stored.
    assert response.status_code == 400
    assert client.get("/get_raw_sales").json() == []


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "not valid JSON"),
        (b'{"year_week": 202010, "vegetable": "carrot", "sales": 1}', 422, "expected a JSON list"),
        (b'"text"', 422, "expected a JSON list"),
    ],
)
def test_bodies_that_are_not_a_json_list_get_a_json_error_and_store_nothing(client, body, status, fragment):
    response = client.post("/post_sales", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert fragment in response.json()["detail"]
    assert client.get("/get_raw_sales").json() == []


def test_oversized_bodies_get_413(make_client):
    client = make_client(max_request_bytes=2000)
    rows = [{"year_week": 202010, "vegetable": f"carrot{i}", "sales": i} for i in range(100)]
    response = client.post("/post_sales", json=rows)
    assert response.status_code == 413
    assert "2000-byte limit" in response.json()["detail"]

    def chunked():
        yield b"[" + b" " * 1500
        yield b" " * 1500 + b"]"

    streamed = client.post("/post_sales", content=chunked(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert client.get("/get_raw_sales").json() == []


def test_posting_a_key_again_replaces_it_and_the_same_batch_twice_changes_nothing(client):
    batch = [
        {"year_week": 202010, "vegetable": "Carotte", "sales": 5},
        {"year_week": 202010, "vegetable": "carrot", "sales": 6},
    ]
    post(client, batch)
    before = [client.get(path).json() for path in ("/get_raw_sales", "/get_weekly_sales", "/get_monthly_sales")]
    assert post(client, batch) == {"inserted": 0, "updated": 0, "unchanged": 2, "rejected": 0, "errors": []}
    after = [client.get(path).json() for path in ("/get_raw_sales", "/get_weekly_sales", "/get_monthly_sales")]
    assert before == after
    assert post(client, [{"year_week": 202010, "vegetable": "Carotte", "sales": 50}])["updated"] == 1
    assert client.get("/get_weekly_sales").json() == [{"year_week": 202010, "vegetable": "carrot", "sales": 56.0}]


def test_unknown_names_wait_for_an_alias_which_changes_past_monthly_figures(make_client):
    client = make_client(admin_token=TOKEN)
    post(
        client,
        [
            {"year_week": 202005, "vegetable": "salsify", "sales": 70},
            {"year_week": 202005, "vegetable": "apple", "sales": 9},
            {"year_week": 202005, "vegetable": "salsifis", "sales": 7},
        ],
    )
    assert client.get("/get_monthly_sales").json() == []
    unknown = client.get("/unknown_vegetables").json()
    assert unknown == [
        {"name": "salsify", "rows": 1, "total_sales": 70.0},
        {"name": "apple", "rows": 1, "total_sales": 9.0},
        {"name": "salsifis", "rows": 1, "total_sales": 7.0},
    ]
    alias = {"alias": "SALSIFIS", "vegetable": "salsify"}
    assert client.post("/vegetable_aliases", json=alias).status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = client.post("/vegetable_aliases", json=alias, headers=headers)
    assert response.status_code == 200
    assert response.json()["rows_remapped"] == 1
    client.post("/vegetable_aliases", json={"alias": "salsify", "vegetable": "salsify"}, headers=headers)
    monthly = client.get("/get_monthly_sales").json()
    assert [(row["year_month"], row["vegetable"], row["sales"]) for row in monthly] == [
        (202001, "salsify", pytest.approx(55.0)),
        (202002, "salsify", pytest.approx(22.0)),
    ]
    assert [row["name"] for row in client.get("/unknown_vegetables").json()] == ["apple"]


def test_aliases_to_a_known_vegetable_in_another_language_resolve_to_the_canonical_name(client):
    post(client, [{"year_week": 202010, "vegetable": "xitomatl", "sales": 3}])
    assert client.get("/get_weekly_sales").json() == []
    response = client.post("/vegetable_aliases", json={"alias": "xitomatl", "vegetable": "Tomate"})
    assert response.json()["vegetable"] == "tomato"
    assert client.get("/get_weekly_sales").json() == [{"year_week": 202010, "vegetable": "tomato", "sales": 3.0}]


@pytest.mark.parametrize(
    "body", [{"alias": "", "vegetable": "tomato"}, {"alias": "x"}, {"alias": " ", "vegetable": "t"}]
)
def test_bad_alias_bodies_are_rejected(client, body):
    response = client.post("/vegetable_aliases", json=body)
    assert response.status_code == 422
    assert "detail" in response.json()


def test_init_database_requires_the_token_when_set_and_empties_the_tables(make_client):
    client = make_client(admin_token=TOKEN)
    post(client, [{"year_week": 202010, "vegetable": "carrot", "sales": 1}])
    assert client.get("/init_database").status_code == 401
    assert client.post("/init_database", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/init_database", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/get_raw_sales").json() == []
    assert client.get("/get_monthly_sales").json() == []


def test_health_reports_database_reachability(client):
    assert client.get("/health").json()["database"] == "ok"
    store = client.app.state.ingest_service.store
    store.read_engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")  # nothing listens on 9
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


def test_remove_outliers_leaves_outlier_weeks_out_of_weekly_and_monthly(client):
    rows = [{"year_week": 202001 + week, "vegetable": "carrot", "sales": 100 + week % 3} for week in range(30)]
    rows[12]["sales"] = 10_000
    post(client, rows)
    flagged = client.get("/get_weekly_sales", params={"with_outlier_flag": True}).json()
    assert [row["year_week"] for row in flagged if row["is_outlier"]] == [202013]
    weekly = client.get("/get_weekly_sales", params={"remove_outliers": True}).json()
    assert 202013 not in [row["year_week"] for row in weekly]
    monthly = client.get("/get_monthly_sales", params={"remove_outliers": "true"}).json()
    assert sum(row["sales"] for row in monthly) == pytest.approx(sum(row["sales"] for row in weekly))


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/post_sales" in schema["paths"] and "/post_sales/" not in schema["paths"]
