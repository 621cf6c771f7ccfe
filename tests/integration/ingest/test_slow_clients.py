"""Slow clients are cut off by the deadlines while /health keeps answering; headers are bounded. On a real server."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest
from tests.server_support import private_database_url, served_api

from salescast.bench.slow_clients import slow_client_attack

pytestmark = pytest.mark.slow
HEADER_TIMEOUT, BODY_TIMEOUT = 2.0, 3.0
# How late a close may come on a loaded machine (the deadline itself is exact: a timer on the event loop).
LATE = 3.0


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    """One server per backend for the whole module: starting one costs seconds."""
    folder = tmp_path_factory.mktemp(f"slow-clients-{request.param}")
    timeouts = {"SALESCAST_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "SALESCAST_BODY_TIMEOUT": str(BODY_TIMEOUT)}
    with private_database_url(request.param, folder) as url, served_api(url, folder, **timeouts) as server:
        yield server


def test_200_idle_and_trickling_connections_are_closed_at_their_deadlines_while_health_answers(server):
    report = slow_client_attack(server.url, {"idle": 100, "headers": 50, "body": 50}, interval=0.5, limit=10.0)

    for kind, deadline in (("idle", HEADER_TIMEOUT), ("headers", HEADER_TIMEOUT), ("body", BODY_TIMEOUT)):
        delays = report.closed_after[kind]
        assert None not in delays, f"{delays.count(None)} {kind} connections still open after 10 s"
        # The connection is armed when the server accepts it, a little before the client measures.
        assert all(deadline - 0.5 <= delay <= deadline + LATE for delay in delays), (kind, min(delays), max(delays))
        assert all(answer.startswith(b"HTTP/1.1 408 ") and b'"detail"' in answer for answer in report.answers[kind])
    assert report.health_statuses and set(report.health_statuses) == {200}


def test_a_request_whose_headers_exceed_64_kib_gets_431(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        with contextlib.suppress(ConnectionError):  # the server may close while we are still sending
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert b"larger than 64 KiB" in answer


def test_a_keep_alive_request_trickled_after_a_first_one_is_cut_off_too(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.5)  # answered; the connection is kept alive
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # the next request starts, then stalls
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    first, second = answer.split(b"HTTP/1.1 408 ")
    assert first.startswith(b"HTTP/1.1 200 ") and b"request headers not received within 2 s" in second
