"""The ``salescast`` command line. Each command is a thin call into a package."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import typer
from rich.console import Console

from salescast import __version__

app = typer.Typer(help="salescast: sales ingestion, forecasting and model lifecycle.", no_args_is_help=True)
generate_app = typer.Typer(help="Write synthetic data sets with known structure.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")

console = Console()
error_console = Console(stderr=True, style="bold red")


def fail(message: str, code: int = 1) -> None:
    """Print a user-facing error in red and exit non-zero."""
    error_console.print(f"Error: {message}")
    raise typer.Exit(code)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"salescast {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Show the version."),
) -> None:
    """salescast command line."""


def _settings_with(**overrides):
    """The settings, with the CLI flags that were given taking precedence over the environment."""
    from pydantic import ValidationError

    from salescast.settings import Settings

    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        fail(f"invalid configuration:\n{error}")


def _export_settings(settings) -> None:
    """Hand the effective settings to server worker processes, which read them from the environment."""
    for name, value in settings.model_dump(exclude_none=True).items():
        os.environ[f"SALESCAST_{name.upper()}"] = ",".join(value) if isinstance(value, list) else str(value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8000)."),
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL (default: SQLite under ./data/)."),
    workers: int | None = typer.Option(None, help="uvicorn worker processes (default 1)."),
) -> None:
    """Run the HTTP API (docs at /docs)."""
    import uvicorn

    from salescast.api.http_protocol import PROTOCOL
    from salescast.ingest.store import StorageError, open_store
    from salescast.logging_config import configure_logging

    settings = _settings_with(host=host, port=port, database_url=database_url, workers=workers)
    configure_logging(settings.log_level)
    if not _is_loopback(settings.host) and not settings.admin_token:
        fail(
            f"refusing to bind {settings.host}: admin endpoints would be open to the network. "
            "Set SALESCAST_ADMIN_TOKEN, or bind 127.0.0.1."
        )
    try:
        store = open_store(settings)
        store.migrate()  # once, before workers start, so they never race to create the schema
        store.dispose()
    except (StorageError, OSError) as error:
        fail(str(error))
    except Exception as error:
        fail(f"cannot prepare the database {settings.database_url!r}: {error}")
    _export_settings(settings)
    uvicorn.run(
        "salescast.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        access_log=settings.access_log,
        http=PROTOCOL,  # uvicorn's httptools protocol with header/body deadlines (slow clients)
    )


@app.command("init-db")
def init_db(
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL (default: SQLite under ./data/)."),
) -> None:
    """Create the schema if missing and empty every sales table."""
    from salescast.ingest.service import IngestService
    from salescast.ingest.store import open_store

    settings = _settings_with(database_url=database_url)
    service = IngestService(open_store(settings))
    try:
        service.init_database()
    finally:
        service.close()
    console.print(f"[green]Database ready and empty:[/green] {settings.database_url}")


@app.command("import-sales")
def import_sales(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV: year_week,vegetable,sales"),
    database_url: str | None = typer.Option(None, help="SQLAlchemy URL (default: SQLite under ./data/)."),
    batch_size: int = typer.Option(1000, min=1, max=20000, help="Rows per transaction."),
) -> None:
    """Bulk-load a weekly sales CSV through the same validation as POST /post_sales."""
    from rich.progress import Progress
    from rich.table import Table

    from salescast.ingest.csv_import import CsvFormatError, read_sales_csv
    from salescast.ingest.service import IngestService
    from salescast.ingest.store import open_store

    settings = _settings_with(database_url=database_url)
    try:
        rows = read_sales_csv(file)
    except CsvFormatError as error:
        fail(str(error))
    store = open_store(settings)
    store.migrate()
    service = IngestService(store)
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    rejected_lines: list[tuple[int, list[str]]] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"Importing {file.name}", total=len(rows))
        for start in range(0, len(rows), batch_size):
            result = service.post_sales(rows[start : start + batch_size])
            for name in totals:
                totals[name] += getattr(result, name)
            # +2: one for the header line, one because CSV lines count from 1.
            rejected_lines += [(start + error.index + 2, error.reasons) for error in result.errors]
            progress.advance(task, min(batch_size, len(rows) - start))
    service.close()
    summary = Table(title=f"Imported {file}")
    for name in ("rows", *totals):
        summary.add_column(name, justify="right")
    summary.add_row(str(len(rows)), *(str(value) for value in totals.values()))
    console.print(summary)
    if rejected_lines:
        details = Table(title="Rejected rows (first 20)")
        details.add_column("line", justify="right")
        details.add_column("reasons")
        for line, reasons in rejected_lines[:20]:
            details.add_row(str(line), "; ".join(reasons))
        console.print(details)


@generate_app.command("vegetables")
def generate_vegetables(
    out: Path = typer.Option(..., "--out", dir_okay=False, help="CSV file to write."),
    seed: int = typer.Option(0, help="Random seed; the same seed writes the same file."),
) -> None:
    """Write the weekly multilingual vegetable feed (2020-W01 … 2023-W52) with typos, outliers and invalid rows."""
    from salescast.ingest.generate import write_vegetable_csv

    out.parent.mkdir(parents=True, exist_ok=True)
    summary = write_vegetable_csv(out, seed=seed)
    console.print(f"[green]Wrote[/green] {out}: {summary}")


from salescast.forecast.cli import register as _register_forecast  # noqa: E402

_register_forecast(app, generate_app)

from salescast.lifecycle.cli import register as _register_lifecycle  # noqa: E402

_register_lifecycle(app, generate_app)

from salescast.bench.cli import register as _register_bench  # noqa: E402

_register_bench(app, generate_app)

from salescast.monitoring.cli import register as _register_monitoring  # noqa: E402

_register_monitoring(app, generate_app)

from salescast.dashboard.cli import register as _register_dashboard  # noqa: E402

_register_dashboard(app, generate_app)
