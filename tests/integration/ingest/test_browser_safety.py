"""A browser on another site cannot write, wipe or rebind its way into the API; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from salescast.api.security import allowed_host_names
from salescast.cli import app as cli
from salescast.settings import Settings

TOKEN = "s3cret-token"
ROW = [{"year_week": 202010, "vegetable": "carrot", "sales": 1}]


def stored(client) -> list:
    return client.get("/get_raw_sales").json()


def test_a_cross_site_text_plain_post_is_refused_and_stores_nothing(client):
    # What a hostile page's <form> or fetch(mode: "no-cors") can send without a preflight.
    response = client.post(
        "/post_sales",
        content=b'[{"year_week": 202010, "vegetable": "carrot", "sales": 1}]',
        headers={"content-type": "text/plain", "origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "evil.example" in response.json()["detail"]
    assert stored(client) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},  # sandboxed frames and file:// pages
        {"sec-fetch-site": "cross-site"},
        {"origin": "http://testserver.evil.example"},
    ],
)
@pytest.mark.parametrize(("path", "body"), [("/post_sales", ROW), ("/init_database", None)])
def test_state_changing_requests_from_another_site_get_403(client, headers, path, body):
    client.post("/post_sales", json=ROW)
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/json"
    assert len(stored(client)) == 1


def test_same_origin_and_listed_origins_may_write_and_listed_ones_get_cors_headers(make_client):
    client = make_client(allowed_origins=["https://partner.example"])
    assert client.post("/post_sales", json=ROW, headers={"origin": "http://testserver"}).status_code == 200
    response = client.post("/post_sales", json=ROW, headers={"origin": "https://partner.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://partner.example"
    preflight = client.options(
        "/post_sales",
        headers={
            "origin": "https://partner.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert client.post("/post_sales", json=ROW, headers={"origin": "https://other.example"}).status_code == 403


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_post_sales_requires_a_json_content_type(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(
        "/post_sales", content=b'[{"year_week": 202010, "vegetable": "carrot", "sales": 1}]', headers=headers
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert stored(client) == []
    assert (
        client.post("/post_sales", json=ROW, headers={"content-type": "application/json; charset=utf-8"}).status_code
        == 200
    )


def test_the_alias_route_requires_json_too(client):
    response = client.post(
        "/vegetable_aliases",
        content=b"alias=x&vegetable=y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("browser_headers", "reason"),
    [
        ({"sec-fetch-site": "none", "sec-fetch-mode": "navigate"}, "POST /init_database"),  # typed in the address bar
        ({"sec-fetch-site": "same-origin", "sec-fetch-dest": "image"}, "POST /init_database"),  # an <img src>
        ({"sec-fetch-mode": "no-cors"}, "POST /init_database"),
        ({"origin": "http://testserver"}, "POST /init_database"),
        ({"sec-fetch-site": "cross-site", "sec-fetch-dest": "image"}, "cross-site"),
    ],
)
def test_get_init_database_from_a_browser_without_authentication_is_refused(client, browser_headers, reason):
    client.post("/post_sales", json=ROW)
    response = client.get("/init_database", headers=browser_headers)
    assert response.status_code == 403
    assert reason in response.json()["detail"]
    assert len(stored(client)) == 1


def test_get_init_database_still_works_for_scripts_and_for_authenticated_browsers(make_client):
    client = make_client()
    client.post("/post_sales", json=ROW)
    assert client.get("/init_database").status_code == 200  # curl, scripts: no browser headers
    assert stored(client) == []

    guarded = make_client(admin_token=TOKEN)
    guarded.post("/post_sales", json=ROW)
    browser = {"sec-fetch-site": "same-origin", "authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/init_database", headers={"sec-fetch-site": "same-origin"}).status_code == 401
    assert guarded.get("/init_database", headers=browser).status_code == 200
    assert stored(guarded) == []
    cross_site = {"origin": "http://evil.example", "authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/init_database", headers=cross_site).status_code == 403


def test_head_never_empties_the_tables(client):
    client.post("/post_sales", json=ROW)
    assert client.head("/init_database").status_code == 405
    assert len(stored(client)) == 1


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""])
def test_a_host_header_that_does_not_name_the_server_is_refused(client, host):
    # DNS rebinding: the hostile page's own name, resolved to our address.
    response = client.get("/get_raw_sales", headers={"host": host})
    assert response.status_code == 400
    assert "SALESCAST_ALLOWED_HOSTS" in response.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]:8000", "api.example.com"])
def test_loopback_names_the_bound_host_and_listed_hosts_are_served(make_client, host):
    client = make_client(allowed_hosts=["api.example.com"])
    assert client.get("/health", headers={"host": host}).status_code == 200


def test_allowed_hosts_default_to_loopback_and_the_bound_host_and_take_wildcards(make_client):
    names = allowed_host_names(Settings(host="10.1.2.3"))
    assert {"localhost", "127.0.0.1", "::1", "10.1.2.3"} <= names
    client = make_client(allowed_hosts=["*.example.com"])
    assert client.get("/health", headers={"host": "api.example.com"}).status_code == 200
    assert client.get("/health", headers={"host": "example.com.evil"}).status_code == 400


@pytest.mark.parametrize("token", ["", "   ", "\t\n"])
def test_a_blank_token_is_no_token(token, monkeypatch):
    assert Settings(admin_token=token).admin_token is None
    monkeypatch.setenv("SALESCAST_ADMIN_TOKEN", token)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "refusing to bind 0.0.0.0" in result.output
