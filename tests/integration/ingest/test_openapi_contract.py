"""The OpenAPI document says what the server does, errors have one JSON shape, and a 500 keeps HTTP right."""

from __future__ import annotations

import http.client
import logging
import socket

import pytest
import sqlalchemy as sa
from tests.server_support import private_database_url, served_api

HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}


def operations(document: dict):
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_every_error_status_of_every_operation_has_the_one_error_model(client):
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in operations(document):
        responses = operation["responses"]
        if method == "options":
            assert set(responses) == {"204"}
            continue
        assert {"400", "408", "413", "431", "500"} <= set(responses), (path, method)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, (path, method)
        for status, answer in responses.items():
            assert "X-Request-ID" in answer["headers"]
            if status.startswith(("4", "5")) and method != "head":
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}


def test_head_is_documented_and_served_for_every_get_but_init_database(client):
    document = client.get("/openapi.json").json()
    for path, items in document["paths"].items():
        if "get" not in items:
            continue
        if path == "/init_database":
            assert "head" not in items and items["get"]["deprecated"] is True
            continue
        assert "head" in items, path
        assert all("content" not in answer for answer in items["head"]["responses"].values())
    response = client.head("/health")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_allow_lists_every_method_of_a_path_on_405_and_options(client):
    document = client.get("/openapi.json").json()
    for path, items in document["paths"].items():
        documented = {method.upper() for method in items if method in HTTP_METHODS}
        unsupported = client.request("PUT", path)
        assert unsupported.status_code == 405, path
        assert set(unsupported.headers["allow"].split(", ")) == documented, path
        assert unsupported.json() == {"detail": "Method Not Allowed"}
        options = client.options(path)
        assert options.status_code == 204
        assert set(options.headers["allow"].split(", ")) == documented
    assert client.request("PUT", "/init_database").headers["allow"] == "GET, OPTIONS, POST"


def test_the_post_sales_body_schema_states_row_by_row_validation(client):
    body = client.get("/openapi.json").json()["paths"]["/post_sales"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert set(body["content"]) == {"application/json"}
    assert schema["type"] == "array" and "validated one by one" in schema["description"]
    row, anything = schema["items"]["anyOf"]
    assert set(row["required"]) == {"year_week", "vegetable", "sales"}
    assert row["properties"]["sales"]["maximum"] == 1e12
    assert row["properties"]["vegetable"]["maxLength"] == 200 and "pattern" in row["properties"]["vegetable"]
    assert "type" not in anything


def test_the_bearer_scheme_is_declared_only_when_a_token_is_set(make_client):
    open_document = make_client().get("/openapi.json").json()
    assert "securitySchemes" not in open_document["components"]
    assert not any("security" in operation for _, _, operation in operations(open_document))
    guarded = make_client(admin_token="s3cret").get("/openapi.json").json()
    assert guarded["paths"]["/init_database"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in guarded["paths"]["/post_sales"]["post"]


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("GET", "/get_weekly_sales", {"params": {"with_outlier_flag": "maybe"}}),
        ("POST", "/vegetable_aliases", {"json": {"alias": "x"}}),
        ("POST", "/vegetable_aliases", {"json": {"alias": "x", "vegetable": ""}}),
        ("POST", "/post_sales", {"json": {"year_week": 202005}}),
        ("GET", "/forecast", {"params": {"month": ""}}),
        ("GET", "/forecast", {"params": {"month": "0000-01"}}),  # was a 500 (pandas has no year 0)
        ("GET", "/forecast", {"params": {"horizon": "many"}}),
    ],
)
def test_a_422_detail_is_always_a_sentence(client, method, path, options):
    response = client.request(method, path, **options)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


def test_limits_from_the_settings_are_documented(make_client):
    document = make_client(max_sales=5e13, forecast_max_horizon=6).get("/openapi.json").json()
    row = document["paths"]["/post_sales"]["post"]["requestBody"]["content"]["application/json"]["schema"]["items"]
    assert row["anyOf"][0]["properties"]["sales"]["maximum"] == 5e13
    horizon = [p for p in document["paths"]["/forecast"]["get"]["parameters"] if p["name"] == "horizon"]
    assert horizon[0]["schema"]["maximum"] == 6


def test_the_documented_forecast_month_and_horizon_bounds(client):
    parameters = {
        p["name"]: p["schema"] for p in client.get("/openapi.json").json()["paths"]["/forecast"]["get"]["parameters"]
    }
    assert parameters["horizon"] == {"type": "integer", "minimum": 1, "maximum": 24}
    assert parameters["month"]["pattern"] == "^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])$"


def test_an_unexpected_error_is_a_logged_json_500_with_the_request_id(client, caplog):
    def broken(**_):
        raise RuntimeError("a bug")

    client.app.state.ingest_service.weekly_sales = broken
    with caplog.at_level(logging.ERROR, logger="salescast.api.errors"):
        response = client.get("/get_weekly_sales", headers={"x-request-id": "trace-42"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-42"
    assert "trace-42" in response.json()["detail"]
    assert any("trace-42" in record.getMessage() and record.exc_info for record in caplog.records)
    fresh = client.get("/health", headers={"x-request-id": "not a token\t"})
    assert len(fresh.headers["x-request-id"]) == 32  # a client id that is not a plain token is replaced


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    """One real server per backend for the module's protocol tests: starting one costs seconds."""
    folder = tmp_path_factory.mktemp(f"contract-{request.param}")
    with private_database_url(request.param, folder) as url, served_api(url, folder) as server:
        yield server


def _rename(database_url: str, old: str, new: str) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))
    engine.dispose()


@pytest.mark.slow
def test_after_a_500_the_same_connection_serves_the_next_request(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/health")
    connection.getresponse().read()
    sock = connection.sock
    _rename(server.database_url, "weekly_sales", "weekly_sales_away")  # the weekly read now fails inside the route
    try:
        for _ in range(30):
            connection.request("GET", "/get_weekly_sales")
            failed = connection.getresponse()
            body = failed.read()
            assert failed.status == 500 and failed.getheader("content-type") == "application/json", body
            assert failed.getheader("x-request-id") in body.decode()
            assert failed.getheader("connection") != "close"
            connection.request("GET", "/health")
            health = connection.getresponse()
            assert health.status == 200, health.read()
            health.read()
            assert connection.sock is sock  # one connection all along: it was never dropped
    finally:
        _rename(server.database_url, "weekly_sales_away", "weekly_sales")
    connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("length", [b"12abc", b"-1", b"1, 2"])
def test_a_malformed_content_length_gets_a_json_400(server, length):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /post_sales HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + length + b"\r\n\r\n[]"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer
    assert b"content-type: application/json" in head and b"connection: close" in head
    assert b"malformed HTTP request" in body
