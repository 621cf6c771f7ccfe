"""``salescast dashboard`` as a real process, every page opened in headless Chromium (Debian's package)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.dashboard_support import shared_dashboard_data

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
# page title, URL path, plotly charts the page draws on the fixture data, a text the page must show
PAGES = [
    ("Sales", "", 2, "Names waiting for an alias"),
    ("Forecasts", "forecasts", 2, "Champion forecast, next 3 month(s)"),
    ("Models", "models", 3, "Promotion history"),
    ("Drift", "drift", 2, "Performance drift"),
]
START_TIMEOUT = 90
PAGE_TIMEOUT_MS = 90_000

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"salescast dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"salescast dashboard did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip(
            f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (Playwright never downloads one)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    """The dashboard started by its command, on the shared fixture data; stopped after the module."""
    data = shared_dashboard_data(tmp_path_factory)
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard-log") / "dashboard.log"
    command = [sys.executable, "-m", "salescast", "dashboard", "--port", str(port)]
    command += [
        "--database-url",
        data.database_url,
        "--reports-dir",
        str(data.reports_dir),
        "--config",
        str(data.pipeline),
    ]
    environment = {**os.environ, "SALESCAST_MLFLOW_TRACKING_URI": data.tracking_uri}
    with log.open("w") as output:
        process = subprocess.Popen(command, env=environment, cwd=data.root, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()  # the command exec'd Streamlit: this is the server itself
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_every_page_renders_its_charts_in_chromium(dashboard_url, chromium_path):
    from playwright.sync_api import sync_playwright

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            for title, path, charts, text in PAGES:
                page.goto(f"{dashboard_url}/{path}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=title).first.wait_for(timeout=PAGE_TIMEOUT_MS)
                page.get_by_text(text, exact=False).first.wait_for(timeout=PAGE_TIMEOUT_MS)
                plots = page.locator("div.js-plotly-plot .main-svg")
                page.wait_for_function(
                    f"document.querySelectorAll('div.js-plotly-plot').length >= {charts}", timeout=PAGE_TIMEOUT_MS
                )
                page.wait_for_load_state("networkidle")
                page.wait_for_function(
                    "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=PAGE_TIMEOUT_MS
                )
                assert page.locator("div.js-plotly-plot").count() == charts, title
                assert plots.count() >= charts, title
                assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
                assert "Traceback" not in page.inner_text("body"), title
                page.screenshot(path=str(ARTIFACTS / f"{title.lower()}.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    assert sorted(path.name for path in ARTIFACTS.iterdir()) == [
        "drift.png",
        "forecasts.png",
        "models.png",
        "sales.png",
    ]
