"""Screenshot every dashboard page of a running ``salescast dashboard`` (for the README).

    uv run python docs/screenshots/capture.py http://127.0.0.1:8501 docs/screenshots

Uses Debian's Chromium at /usr/bin/chromium through Playwright (never a downloaded browser).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {"sales": "", "forecasts": "forecasts", "models": "models", "drift": "drift"}
CHARTS = {"sales": 2, "forecasts": 2, "models": 3, "drift": 2}


def capture(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1900})
        for name, path in PAGES.items():
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            page.wait_for_function(
                f"document.querySelectorAll('div.js-plotly-plot .main-svg').length >= {CHARTS[name]}", timeout=120_000
            )
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # plotly's transitions
            page.screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    capture(sys.argv[1].rstrip("/"), Path(sys.argv[2]))
