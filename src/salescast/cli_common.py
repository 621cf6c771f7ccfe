"""What every command module shares: the consoles, the red error exit, settings from flags, user errors, tables.

``salescast.cli`` and each package's ``cli.py`` import from here and never from each other, so the
command modules form a tree (``cli.py`` registers them) instead of a circle. Nothing heavy is imported
at module level: ``salescast --help`` loads this module.
"""

from __future__ import annotations

import ipaddress
import math
import os
import sys
import warnings
from typing import NoReturn

import typer
from rich.console import Console

console = Console()
error_console = Console(stderr=True, style="bold red")
_verbosity = {"verbose": False}


def set_verbose(verbose: bool) -> None:
    """Remember ``salescast --verbose`` for :func:`configure_cli_logging`."""
    _verbosity["verbose"] = verbose


def configure_cli_logging(settings) -> None:
    """The logging of a command: warnings only, unless ``--verbose`` (then ``SALESCAST_LOG_LEVEL``, INFO by default).

    A command reports through its own tables and messages; the INFO records of MLflow, matplotlib,
    Alembic or our own packages would be mixed into them. MLflow installs its own handler at import,
    so its level is set through ``MLFLOW_LOGGING_LEVEL`` before it is imported.
    """
    from salescast.logging_config import configure_logging

    verbose = _verbosity["verbose"]
    level = settings.log_level if verbose else "WARNING"
    configure_logging(level)
    if not verbose:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        # Libraries' deprecation notices are for their users' developers, not for this command's user.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(mlflow|pydantic|sqlalchemy|alembic)\b.*")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a user-facing error in red and exit non-zero.

    The message is printed literally: it often quotes YAML (``features: [last_month, …]``) or paths
    with brackets, which Rich markup would otherwise swallow.
    """
    error_console.print(f"Error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def settings_with(**overrides):
    """The settings, with the CLI flags that were given taking precedence over the environment."""
    from pydantic import ValidationError

    from salescast.settings import Settings

    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        fail(f"invalid configuration:\n{error}")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (binding elsewhere exposes the service)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# (module, exception class) of the errors whose message is the whole story for a user.
_USER_ERRORS = (
    ("salescast.lifecycle.sources", "PipelineConfigError"),
    ("salescast.lifecycle.sources", "SourceMismatchError"),
    ("salescast.lifecycle.registry", "RegistryError"),
    ("salescast.frame_files", "OutputFormatError"),
    ("salescast.lifecycle.validation", "SalesValidationError"),
    ("salescast.lifecycle.months", "MissingMonthsError"),
    ("salescast.lifecycle.months", "MonthFormatError"),
    ("salescast.lifecycle.tracking", "StoreLockedError"),
    ("salescast.forecast.config", "ConfigError"),
    ("salescast.forecast.catalog", "DataValidationError"),
    ("mlflow.exceptions", "MlflowException"),
    ("salescast.forecast.spark.batch", "SparkSourceError"),
    ("salescast.forecast.spark.pipeline", "RowCountError"),
)


def user_errors() -> tuple[type[Exception], ...]:
    """The exception classes a command prints in red (exit 1) instead of a traceback.

    Only modules already imported are consulted: an exception of a module nobody imported cannot have
    been raised, and importing MLflow just to name its exception class costs seconds.
    """
    found = []
    for module_name, class_name in _USER_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None:
            found.append(getattr(module, class_name))
    return tuple(found)


def format_number(value: float | None) -> str:
    """Four significant digits; ``–`` for a missing or NaN value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4g}"


def compact_table(title: str, columns: list[tuple[str, str]]):
    """A Rich table that fits 80 columns: light box, one space between columns, no wrapping of numbers."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True)
    return table


def progress_bar(*, bar: bool = True):
    """The Rich progress display of a command that takes more than a second (it vanishes when done)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        [TextColumn("{task.description}"), BarColumn()] if bar else [SpinnerColumn(), TextColumn("{task.description}")]
    )
    return Progress(*columns, TimeElapsedColumn(), console=console, transient=True)


ENGINES = ("pandas", "spark")
ENGINE_HELP = "pandas (default) or spark (SALESCAST_SPARK_MASTER, the config's spark: section); overrides engine:."


def check_engine(engine: str | None) -> str | None:
    """The ``--engine`` value checked (None: the config's ``engine:``)."""
    if engine is None:
        return None
    if engine not in ENGINES:
        fail(f"--engine must be one of {list(ENGINES)}, got {engine!r}")
    return engine
