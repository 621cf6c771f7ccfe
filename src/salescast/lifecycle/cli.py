"""``salescast train | history | backtest | ui``: the model lifecycle commands (thin calls into the package)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from salescast.cli_common import compact_table, console, fail, format_number, settings_with, user_errors

DEFAULT_CONFIG = Path("pipeline.yaml")
WINDOW_HELP = "Training months before the test month (default: pipeline.yaml lifecycle.window, else 3)."


def _print_plan(console, job_plan) -> None:
    from rich.table import Table

    from salescast.lifecycle.months import describe_months, format_month

    plan = job_plan.plan
    table = Table(title="Training plan", show_header=False)
    table.add_row("source", job_plan.source)
    table.add_row("test month", f"{format_month(plan.test_month)} ({job_plan.rows_test} rows)")
    table.add_row("training months", f"{describe_months(plan.train_months)} ({job_plan.rows_train} rows)")
    if plan.skipped_months:
        table.add_row("skipped (missing)", describe_months(plan.skipped_months))
    table.add_row(
        "history", f"from {format_month(job_plan.first_month)}, {job_plan.rows_total} rows, {job_plan.items} items"
    )
    table.add_row("model", f"{job_plan.model} {job_plan.model_params or ''}".strip())
    table.add_row("features", ", ".join(job_plan.features))
    table.add_row("fingerprint", job_plan.fingerprint[:16])
    console.print(table)


def _print_result(console, result) -> None:
    from rich.table import Table

    from salescast.lifecycle.registry import REPORTED_METRICS

    if result.reused:
        console.print(
            f"[yellow]Same data and config as version {result.version}: nothing trained.[/yellow] "
            f"Decision: [bold]{result.decision}[/bold] — {result.reason}"
        )
        return
    table = Table(title=f"Test month metrics (version {result.version})")
    table.add_column("model")
    for metric in REPORTED_METRICS:
        table.add_column(metric, justify="right")
    table.add_row(f"new: {result.job_plan.model}", *(format_number(result.metrics.get(m)) for m in REPORTED_METRICS))
    if result.champion_metrics:
        table.add_row(
            f"champion v{result.champion_version}",
            *(format_number(result.champion_metrics.get(m)) for m in REPORTED_METRICS),
        )
    for name, metrics in result.baselines.items():
        table.add_row(name, *(format_number(metrics.get(m)) for m in REPORTED_METRICS))
    console.print(table)
    color = "green" if result.decision == "promoted" else "yellow"
    console.print(f"[{color}]Version {result.version}: {result.decision}[/{color}] — {result.reason}")


def _print_history(console, entries) -> None:
    """The promotion history as a table, then each version's reason in full (reasons are long)."""
    from salescast.lifecycle.months import describe_months, parse_months

    table = compact_table(
        "Promotion history",
        [
            *[("v", "right"), ("test\nmonth", "left"), ("trained on", "left"), ("decision", "left")],
            *[("rmse", "right"), ("champion\nrmse", "right"), ("baseline\nrmse", "right")],
        ],
    )
    for entry in entries:
        color = "green" if entry.decision == "promoted" else "yellow"
        trained_on = describe_months(parse_months(entry.train_months)) if entry.train_months else ""
        table.add_row(
            entry.version,
            entry.test_month,
            trained_on,
            f"[{color}]{entry.decision}[/{color}]",
            format_number(entry.candidate["rmse"]),
            format_number(entry.champion["rmse"]) + (f" (v{entry.champion_version})" if entry.champion_version else ""),
            format_number(entry.baseline_rmse),
        )
    console.print(table)
    for entry in entries:
        aliases = "".join(f", {alias}" for alias in entry.aliases)
        console.print(
            f"v{entry.version} ({entry.created:%Y-%m-%d %H:%M} UTC{aliases}): {entry.reason}", highlight=False
        )


def register(app: typer.Typer, generate_app: typer.Typer) -> None:
    """Add the lifecycle commands to the ``salescast`` app."""

    @app.command()
    def train(
        test_month: str | None = typer.Option(None, "--test-month", help="YYYY-MM (default: latest complete month)."),
        train_months: str | None = typer.Option(
            None, "--train-months", help="YYYY-MM,YYYY-MM,... (default: the --window months before the test month)."
        ),
        window: int | None = typer.Option(None, "--window", min=1, help=WINDOW_HELP),
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Pipeline config (source, model, features)."),
        skip_missing: bool = typer.Option(
            False, "--skip-missing", help="Train on the months present if the test month and ≥ 2 training months are."
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate and print the plan; train nothing."),
    ) -> None:
        """Train the monthly model, compare it with the champion on the same month, register it in MLflow."""
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from salescast.lifecycle.job import TRAINING_STEPS, run_training_job
        from salescast.lifecycle.months import MonthFormatError, parse_month, parse_months
        from salescast.lifecycle.sources import load_pipeline_config
        from salescast.logging_config import configure_logging

        settings = settings_with()
        configure_logging(settings.log_level)
        try:
            pipeline = load_pipeline_config(config)
            month = parse_month(test_month) if test_month else None
            months = parse_months(train_months) if train_months else None
            if months and window:
                raise MonthFormatError("give --train-months or --window, not both")
            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
            ) as progress:
                task = progress.add_task("starting", total=TRAINING_STEPS)

                def step(name: str) -> None:
                    progress.update(task, description=name, advance=1)

                result = run_training_job(
                    pipeline,
                    settings,
                    test_month=month,
                    train_months=months,
                    window=window,
                    skip_missing=skip_missing,
                    dry_run=dry_run,
                    on_step=step,
                )
        except user_errors() as error:
            fail(str(error))
        _print_plan(console, result.job_plan)
        if result.dry_run:
            console.print("[cyan]Dry run: data valid, nothing trained or registered.[/cyan]")
            return
        _print_result(console, result)

    @app.command()
    def history() -> None:
        """Print every registered version's promotion decision (from the MLflow registry)."""
        from salescast.lifecycle.registry import ModelRegistry
        from salescast.lifecycle.tracking import TrackingStore, sqlite_path

        settings = settings_with()
        store = TrackingStore.from_settings(settings)
        database = sqlite_path(store.uri)
        if database is not None and not database.exists():
            console.print(f"No MLflow store at {database} yet: run `salescast train` first.")
            return
        entries = ModelRegistry(store.connect(), store.model_name).history()
        if not entries:
            console.print(f"No version of {store.model_name} yet in {store.uri}: run `salescast train`.")
            return
        _print_history(console, entries)

    @app.command()
    def backtest(
        first: str = typer.Option(..., "--from", help="First test month, YYYY-MM."),
        last: str = typer.Option(..., "--to", help="Last test month, YYYY-MM."),
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Pipeline config (source, model, features)."),
        window: int | None = typer.Option(None, "--window", min=1, help=WINDOW_HELP),
        skip_missing: bool = typer.Option(False, "--skip-missing", help="As for train, month by month."),
        out: Path = typer.Option(Path("reports"), "--out", help="Folder for the chart and the JSON summary."),
    ) -> None:
        """Replay the monthly job from --from to --to; print the history and metrics over time, plot the errors."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from salescast.lifecycle.backtest import BacktestError, MonthOutcome, run_backtest
        from salescast.lifecycle.months import parse_month
        from salescast.lifecycle.registry import ModelRegistry
        from salescast.lifecycle.sources import load_pipeline_config
        from salescast.lifecycle.tracking import TrackingStore
        from salescast.logging_config import configure_logging

        settings = settings_with()
        configure_logging(settings.log_level)
        try:
            pipeline = load_pipeline_config(config)
            start, end = parse_month(first), parse_month(last)
            total = (end.year - start.year) * 12 + end.month - start.month + 1
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
            ) as progress:
                task = progress.add_task("backtest", total=max(total, 1))

                def on_month(month: str, result) -> None:
                    if result is None:
                        progress.update(task, description=f"training for {month}")
                    else:
                        progress.advance(task)

                outcome = run_backtest(
                    pipeline,
                    settings,
                    start,
                    end,
                    out_dir=out,
                    window=window,
                    skip_missing=skip_missing,
                    on_month=on_month,
                )
        except BacktestError as error:
            outcomes = [MonthOutcome.from_result(result) for result in error.results]
            if outcomes:
                console.print(_metrics_table(outcomes))
            fail(str(error))
        except user_errors() as error:
            fail(str(error))
        store = TrackingStore.from_settings(settings)
        versions = {result.version for result in outcome.results}
        entries = [e for e in ModelRegistry(store.connect(), store.model_name).history() if e.version in versions]
        _print_history(console, entries)
        console.print(_metrics_table(outcome.outcomes))
        console.print(f"Chart: {outcome.chart}\nSummary: {outcome.summary}")

    @app.command()
    def ui(
        host: str = typer.Option("127.0.0.1", help="Interface to bind."),
        port: int = typer.Option(5000, help="Port."),
    ) -> None:
        """Start the MLflow UI on the lifecycle's tracking store."""
        import subprocess

        from salescast.lifecycle.tracking import TrackingStore, sqlite_path

        store = TrackingStore.from_settings(settings_with())
        if not store.uri.startswith(("sqlite:", "postgresql", "mysql", "file:")) and "://" in store.uri:
            fail(f"the tracking store {store.uri} is a server: open it in a browser instead")
        database = sqlite_path(store.uri)
        if database is not None and not database.exists():
            fail(f"no MLflow store at {database} yet: run `salescast train` first (or set MLFLOW_TRACKING_URI)")
        console.print(f"MLflow UI for {store.uri} on http://{host}:{port} (Ctrl+C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(store.ui_command(host, port), check=False)


def _metrics_table(outcomes):
    """Backtest metrics by month; the champion's RMSE before and after that month's decision."""
    table = compact_table(
        "Metrics over time",
        [
            *[("month", "left"), ("v", "right"), ("decision", "left"), ("rmse", "right"), ("mae", "right")],
            *[
                ("r2", "right"),
                ("champion\nbefore", "right"),
                ("champion\nafter", "right"),
                ("baseline\nrmse", "right"),
            ],
        ],
    )
    for o in outcomes:
        table.add_row(
            o.month,
            o.version + ("*" if o.reused else ""),
            o.decision,
            format_number(o.rmse),
            format_number(o.mae),
            format_number(o.r2),
            format_number(o.champion_before_rmse),
            format_number(o.champion_after_rmse),
            format_number(o.baseline_rmse),
        )
    if any(o.reused for o in outcomes):
        table.caption = "* reused: same data and config as an existing version, nothing trained"
    return table
