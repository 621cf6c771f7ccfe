"""``salescast train | history | promote | rollback | backtest | ui``: the model lifecycle commands.

Thin calls into the package. Each command checks its flags and ``pipeline.yaml`` before importing
MLflow or pandas, so a configuration error answers at once.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from salescast.cli_common import (
    ENGINE_HELP,
    check_engine,
    compact_table,
    configure_cli_logging,
    console,
    fail,
    format_number,
    progress_bar,
    settings_with,
    user_errors,
)

DEFAULT_CONFIG = Path("pipeline.yaml")
CONFIG_HELP = "Pipeline config (default: SALESCAST_PIPELINE_CONFIG, ./pipeline.yaml, else the database's model)."
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


def _print_history(console, entries, events=()) -> None:
    """The promotion history as a table, each version's reason in full (reasons are long), then the moves by hand."""
    from salescast.lifecycle.months import describe_month_texts

    table = compact_table(
        "Promotion history",
        [
            *[("v", "right"), ("test\nmonth", "left"), ("trained on", "left"), ("decision", "left")],
            *[("rmse", "right"), ("champion\nrmse", "right"), ("baseline\nrmse", "right")],
        ],
    )
    for entry in entries:
        color = "green" if entry.decision == "promoted" else "yellow"
        trained_on = describe_month_texts(entry.train_months.split(",")) if entry.train_months else ""
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
            f"v{entry.version} ({entry.created:%Y-%m-%d %H:%M} UTC{aliases}): {entry.reason}",
            highlight=False,
            markup=False,
        )
    sources = {entry.source for entry in entries if entry.source}
    if sources:
        console.print(f"Trained on: {'; '.join(sorted(sources))}", highlight=False, markup=False)
    if events:
        moves = compact_table(
            "Champion moved by hand", [("when (UTC)", "left"), ("action", "left"), ("v", "left"), ("by", "left")]
        )
        for event in events:
            moves.add_row(
                event.at[:16].replace("T", " "), event.action, f"v{event.previous or '–'} → v{event.version}", event.by
            )
        console.print(moves)
        for event in events:
            console.print(f"v{event.version} ({event.action}): {event.reason}", highlight=False, markup=False)


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
        engine: str | None = typer.Option(None, "--engine", help=ENGINE_HELP),
    ) -> None:
        """Train the monthly model, compare it with the champion on the same month, register it in MLflow."""
        from salescast.lifecycle.months import MonthFormatError, parse_month, parse_months
        from salescast.lifecycle.sources import load_pipeline_config

        engine = check_engine(engine)
        settings = settings_with()
        configure_cli_logging(settings)
        try:
            month = parse_month(test_month) if test_month else None
            months = parse_months(train_months) if train_months else None
            if months and window:
                raise MonthFormatError("give --train-months or --window, not both")
            pipeline = load_pipeline_config(config)
            from salescast.lifecycle.job import TRAINING_STEPS, run_training_job

            with progress_bar(bar=False) as progress:
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
                    engine=engine,
                )
        except user_errors() as error:
            fail(str(error))
        _print_plan(console, result.job_plan)
        if result.dry_run:
            console.print("[cyan]Dry run: data valid, nothing trained or registered.[/cyan]")
            return
        _print_result(console, result)

    @app.command()
    def history(
        config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    ) -> None:
        """Print every registered version's promotion decision and every champion move by hand."""
        from salescast.lifecycle.registry import read_registry

        settings = settings_with()
        configure_cli_logging(settings)
        try:
            store, missing = _pipeline_store(config, settings)
            if missing is not None:
                console.print(f"No MLflow store at {missing} yet: run `salescast train` first.")
                return
            entries, events = read_registry(store)
        except user_errors() as error:
            fail(str(error))
        if not entries:
            console.print(f"No version of {store.model_name} yet in {store.uri}: run `salescast train`.")
            return
        _print_history(console, entries, events)

    @app.command()
    def promote(
        version: str = typer.Argument(..., help="The version to make champion (e.g. 3)."),
        reason: str = typer.Option("", "--reason", help="Why: recorded on the version and in the history."),
        config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    ) -> None:
        """Make VERSION the champion; the champion it replaces becomes the rollback target. The API follows."""
        _move_champion(config, lambda registry, who: registry.promote(version, reason or "promoted by hand", who))

    @app.command()
    def rollback(
        reason: str = typer.Option("", "--reason", help="Why: recorded on the version and in the history."),
        config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    ) -> None:
        """Give the champion back to the previous one (the current one becomes the rollback target)."""
        _move_champion(config, lambda registry, who: registry.rollback(reason or "rolled back by hand", who))

    @app.command()
    def backtest(
        first: str = typer.Option(..., "--from", help="First test month, YYYY-MM."),
        last: str = typer.Option(..., "--to", help="Last test month, YYYY-MM."),
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Pipeline config (source, model, features)."),
        window: int | None = typer.Option(None, "--window", min=1, help=WINDOW_HELP),
        skip_missing: bool = typer.Option(False, "--skip-missing", help="As for train, month by month."),
        store: str | None = typer.Option(
            None, "--store", help="Scratch MLflow store: a folder (default ./backtests) or a tracking URI."
        ),
        in_place: bool = typer.Option(
            False, "--in-place", help="Replay into the real store and registered model: versions and aliases move."
        ),
        out: Path | None = typer.Option(
            None,
            "--out",
            help="Per-item predictions of every month, .csv or .parquet (default: REPORT_DIR/backtest_<from>_<to>"
            "_predictions.csv); per-item MASE/sMAPE go beside it (…_items).",
        ),
        report_dir: Path = typer.Option(Path("reports"), "--report-dir", help="Folder for the chart and JSON summary."),
        engine: str | None = typer.Option(None, "--engine", help=ENGINE_HELP),
    ) -> None:
        """Replay the monthly job from --from to --to (in a scratch store unless --in-place); report every month."""
        from salescast.frame_files import check_output_path
        from salescast.lifecycle.months import parse_month
        from salescast.lifecycle.sources import load_pipeline_config

        engine = check_engine(engine)
        settings = settings_with()
        configure_cli_logging(settings)
        if in_place and store:
            fail("--in-place replays into the settings' MLflow store; --store names a scratch store: give one of them")
        try:
            start, end = parse_month(first), parse_month(last)
            if out is not None:
                check_output_path(out)
            pipeline = load_pipeline_config(config)
        except user_errors() as error:
            fail(str(error))
        from salescast.lifecycle.backtest import BacktestError, run_backtest
        from salescast.lifecycle.months import month_range

        try:
            with progress_bar() as progress:
                task = progress.add_task("backtest", total=max(len(month_range(start, end)), 1))

                def on_month(month: str, outcome) -> None:
                    if outcome is None:
                        progress.update(task, description=f"training for {month}")
                    else:
                        progress.advance(task)

                result = run_backtest(
                    pipeline,
                    settings,
                    start,
                    end,
                    report_dir=report_dir,
                    predictions_path=out,
                    window=window,
                    skip_missing=skip_missing,
                    in_place=in_place,
                    store=store,
                    on_month=on_month,
                    engine=engine,
                )
        except BacktestError as error:
            if error.outcomes:
                console.print(_metrics_table(error.outcomes))
            fail(str(error))
        except user_errors() as error:
            fail(str(error))
        console.print(_metrics_table(result.outcomes, in_place))
        for outcome in result.outcomes:
            console.print(f"{outcome.month} v{outcome.version}: {outcome.reason}", highlight=False, markup=False)
        mode = "in place" if in_place else "scratch store"
        console.print(
            f"MLflow ({mode}): {result.store_uri}, run {result.run_id}\n"
            f"Predictions: {result.predictions_path} (per item: {result.item_scores_path})\n"
            f"Chart: {result.chart}\nSummary: {result.summary}",
            highlight=False,
        )

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


def _pipeline_store(config: Path | None, settings):
    """(the store holding the pipeline's registered model, its SQLite file if that does not exist yet, else None)."""
    from salescast.lifecycle.sources import resolve_model_name
    from salescast.lifecycle.tracking import TrackingStore, sqlite_path

    store = TrackingStore.from_settings(settings, resolve_model_name(config, settings))
    database = sqlite_path(store.uri)
    return store, database if database is not None and not database.exists() else None


def _move_champion(config: Path | None, move) -> None:
    """Run ``move(registry, who)`` (a promote or a rollback) on the pipeline's registered model and report it."""
    from salescast.lifecycle.registry import ModelRegistry, operator

    settings = settings_with()
    configure_cli_logging(settings)
    try:
        store, missing = _pipeline_store(config, settings)
        if missing is not None:
            fail(f"no MLflow store at {missing}: run `salescast train` first (or set SALESCAST_MLFLOW_TRACKING_URI)")
        event = move(ModelRegistry(store.connect(), store.model_name), operator())
    except user_errors() as error:
        fail(str(error))
    previous = f"v{event.previous}" if event.previous else "no champion"
    console.print(
        f"[green]{store.model_name}: champion {previous} → v{event.version}[/green] ({event.action} by {event.by}: "
        f"{event.reason}). Rollback target: {previous}. The API picks it up at its next check "
        "(SALESCAST_CHAMPION_POLL_SECONDS) or on POST /admin/reload_model.",
        highlight=False,
    )


def _metrics_table(outcomes, in_place: bool = False):
    """Backtest metrics by month, with the decision taken in this replay and the champion's RMSE before/after."""
    table = compact_table(
        "Backtest: decision and metrics by month",
        [
            *[("month", "left"), ("v", "right"), ("decision", "left"), ("rmse", "right"), ("mae", "right")],
            *[("mase", "right"), ("smape", "right")],
            *[("champion\nbefore", "right"), ("champion\nafter", "right"), ("baseline\nrmse", "right")],
        ],
    )
    for o in outcomes:
        color = "green" if o.decision == "promoted" else "yellow"
        table.add_row(
            o.month,
            o.version + ("*" if o.reused else ""),
            f"[{color}]{o.decision}[/{color}]",
            format_number(o.rmse),
            format_number(o.mae),
            format_number(o.mase),
            format_number(o.smape),
            format_number(o.champion_before_rmse),
            format_number(o.champion_after_rmse),
            format_number(o.baseline_rmse),
        )
    notes = []
    if any(o.reused for o in outcomes):
        recorded = ", ".join(f"v{o.version} {o.recorded_decision}" for o in outcomes if o.reused)
        notes.append(f"* reused: same data and config as an existing version, nothing trained (recorded: {recorded})")
    if not in_place:
        notes.append("v = step of this replay (nothing registered); promotions chain within the replay")
    table.caption = "\n".join(notes) or None
    return table
