"""``salescast dashboard``: run the Streamlit app headless with the platform's settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import typer

APP_FILE = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501


def streamlit_command(host: str, port: int, log_level: str = "INFO") -> list[str]:
    """The ``streamlit run`` command line for the app: headless, no file watcher, no usage statistics."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_FILE),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--theme.base=light",
        "--client.toolbarMode=viewer",
        f"--logger.level={log_level.lower()}",
    ]


def dashboard_environment(settings, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` plus every effective setting as ``SALESCAST_*`` (the app reads them back with ``Settings()``)."""
    environment = dict(base)
    for name, value in settings.model_dump(exclude_none=True).items():
        environment[f"SALESCAST_{name.upper()}"] = str(value)
    return environment


def register(app: typer.Typer, generate_app: typer.Typer) -> None:
    """Add ``salescast dashboard`` to the ``salescast`` app."""

    @app.command()
    def dashboard(
        host: str = typer.Option("127.0.0.1", help="Interface to bind."),
        port: int = typer.Option(DEFAULT_PORT, min=1, max=65535, help="Port."),
        database_url: str | None = typer.Option(None, help="Sales database (default: SALESCAST_DATABASE_URL)."),
        mlflow_tracking_uri: str | None = typer.Option(
            None, help="MLflow store (default: SALESCAST_MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)."
        ),
        reports_dir: Path | None = typer.Option(
            None, help="Where `salescast monitor` writes its reports (default: SALESCAST_REPORTS_DIR, else reports)."
        ),
        config: Path | None = typer.Option(
            None,
            "--config",
            help="Pipeline config whose source the champion forecasts from (default: SALESCAST_PIPELINE_CONFIG, "
            "./pipeline.yaml, else the database), as for `salescast monitor`.",
        ),
    ) -> None:
        """Start the dashboard (sales, forecasts, models, drift) on http://HOST:PORT."""
        from salescast.cli_common import console, is_loopback, settings_with

        settings = settings_with(
            database_url=database_url,
            mlflow_tracking_uri=mlflow_tracking_uri,
            reports_dir=reports_dir,
            pipeline_config=config,
        )
        environment = dashboard_environment(settings, os.environ)
        if not is_loopback(host):
            console.print(f"[yellow]No login: anyone who reaches {host}:{port} sees the sales and the models.[/yellow]")
        console.print(f"Dashboard on http://{host}:{port} (Ctrl+C to stop)")
        sys.stdout.flush()
        # Replace this process: stopping it stops Streamlit, with no orphan left behind.
        os.execve(sys.executable, streamlit_command(host, port, settings.log_level), environment)
