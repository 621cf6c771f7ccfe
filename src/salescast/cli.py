"""The ``salescast`` command line. Each command is a thin call into a package."""

from __future__ import annotations

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
