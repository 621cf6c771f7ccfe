"""The ``salescast`` command line. Each command is a thin call into a package."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from salescast import __version__
from salescast.bench.cli import register as register_bench
from salescast.cli_common import console, fail, is_loopback, progress_bar, set_verbose, settings_with
from salescast.dashboard.cli import register as register_dashboard
from salescast.forecast.cli import register as register_forecast
from salescast.lifecycle.cli import register as register_lifecycle
from salescast.monitoring.cli import register as register_monitoring
from salescast.serving.cli import register as register_serving

app = typer.Typer(help="salescast: sales ingestion, forecasting and model lifecycle.", no_args_is_help=True)
generate_app = typer.Typer(help="Write synthetic data sets with known structure.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")


def _print_version(value: bool) -> None:
    if value:
        console.print(f"salescast {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Show the version."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show the libraries' log records (INFO, or SALESCAST_LOG_LEVEL)."
    ),
) -> None:
    """salescast command line."""
    set_verbose(verbose)


def _export_settings(settings) -> None:
    """Hand the effective settings to server worker processes, which read them from the environment."""
    for name, value in settings.model_dump(exclude_none=True).items():
        os.environ[f"SALESCAST_{name.upper()}"] = ",".join(value) if isinstance(value, list) else str(value)


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

    settings = settings_with(host=host, port=port, database_url=database_url, workers=workers)
    configure_logging(settings.log_level)
    if not is_loopback(settings.host) and not settings.admin_token:
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

    settings = settings_with(database_url=database_url)
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
    sum_over: list[str] = typer.Option(
        [], "--sum-over", help="An extra column whose rows are added up per week and vegetable (e.g. store)."
    ),
) -> None:
    """Bulk-load a weekly sales CSV through the same validation as POST /post_sales."""
    from rich.table import Table

    from salescast.ingest.csv_import import CsvFormatError, import_sales_rows, read_sales_rows
    from salescast.ingest.service import IngestService
    from salescast.ingest.store import open_store

    settings = settings_with(database_url=database_url)
    try:
        rows = read_sales_rows(file, sum_over)  # header errors before the database is opened
    except CsvFormatError as error:
        fail(str(error))
    store = open_store(settings)
    store.migrate()
    service = IngestService(store)
    try:
        with progress_bar() as progress:
            task = progress.add_task(f"Importing {file.name}", total=len(rows))
            summary = import_sales_rows(
                service, rows, batch_size=batch_size, on_rows=lambda count: progress.advance(task, count)
            )
    finally:
        service.close()
    counts = summary.counts()
    if not sum_over:
        counts.pop("summed")
    table = Table(title=f"Imported {file}", caption=" + ".join(list(counts)[1:]) + " = rows")
    for name in counts:
        table.add_column(name.replace("duplicates", "duplicates in file"), justify="right")
    table.add_row(*(str(value) for value in counts.values()))
    console.print(table)
    if summary.rejected_lines:
        details = Table(title="Rejected rows (first 20)")
        details.add_column("line", justify="right")
        details.add_column("reasons")
        for line, reasons in summary.rejected_lines[:20]:
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


for register in (
    register_forecast,
    register_lifecycle,
    register_serving,
    register_bench,
    register_monitoring,
    register_dashboard,
):
    register(app, generate_app)
