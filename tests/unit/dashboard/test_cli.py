"""``salescast dashboard``: the Streamlit command line and the environment it runs with."""

from __future__ import annotations

import sys

from salescast.dashboard.cli import APP_FILE, dashboard_environment, streamlit_command
from salescast.settings import Settings


def test_streamlit_runs_the_app_headless_on_the_given_address():
    command = streamlit_command("0.0.0.0", 9000, "WARNING")
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_FILE)]
    assert APP_FILE.is_file()
    for option in ("--server.headless=true", "--server.address=0.0.0.0", "--server.port=9000"):
        assert option in command
    assert "--browser.gatherUsageStats=false" in command and "--logger.level=warning" in command


def test_the_app_gets_the_effective_settings_through_the_environment(tmp_path):
    settings = Settings(
        database_url="sqlite:///x.db", mlflow_tracking_uri="sqlite:///m/mlflow.db", reports_dir=tmp_path
    )
    environment = dashboard_environment(settings, {"PATH": "/bin", "SALESCAST_DATABASE_URL": "old"})
    assert environment["PATH"] == "/bin"
    assert environment["SALESCAST_DATABASE_URL"] == "sqlite:///x.db"
    assert environment["SALESCAST_MLFLOW_TRACKING_URI"] == "sqlite:///m/mlflow.db"
    assert environment["SALESCAST_REPORTS_DIR"] == str(tmp_path)
    assert "SALESCAST_ADMIN_TOKEN" not in environment  # unset settings stay unset
    assert "SALESCAST_PIPELINE_CONFIG" not in environment  # the app then resolves it as `salescast monitor` does
