"""deploy/healthcheck.py, the image's HEALTHCHECK: healthy only on a 200 from the probed URL."""

from __future__ import annotations

import importlib.util
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "healthcheck.py"


def _load():
    spec = importlib.util.spec_from_file_location("healthcheck", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Status(BaseHTTPRequestHandler):
    """Answers /health with 200, /down with 503 (the API while its database is down), anything else 404."""

    requested: ClassVar[list[str]] = []

    def do_GET(self):
        self.requested.append(self.path)
        self.send_response({"/health": 200, "/down": 503}.get(self.path, 404))
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_healthy_on_200_and_unhealthy_on_an_error_status(server, capsys):
    healthcheck = _load()
    assert healthcheck.main(["healthcheck.py", f"{server}/health"]) == 0
    assert healthcheck.main(["healthcheck.py", f"{server}/down"]) == 1
    assert "503" in capsys.readouterr().err


def test_unhealthy_when_nothing_listens(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _load().main(["healthcheck.py", f"http://127.0.0.1:{port}/health"]) == 1
    assert "unhealthy" in capsys.readouterr().err


def test_default_url_is_the_api_health_on_salescast_port(monkeypatch, server):
    port = server.rsplit(":", 1)[1]
    monkeypatch.setenv("SALESCAST_PORT", port)
    _Status.requested.clear()
    assert _load().main(["healthcheck.py"]) == 0
    assert _Status.requested == ["/health"]
