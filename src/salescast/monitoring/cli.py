"""``salescast monitor``: drift of the champion for a month, a report, optionally retraining. Exit 0/1/2."""

from __future__ import annotations

from pathlib import Path

import typer

from salescast.cli_common import compact_table, configure_cli_logging, console, fail, settings_with, user_errors

EXIT_DRIFT = 1
EXIT_ERROR = 2


def _number(value) -> str:
    return "–" if value is None else f"{value:.3g}"


def print_summary(console, report: dict, folder: Path, run_id: str | None) -> None:
    """The drift table, the performance table and the verdict."""
    champion = report["champion"]
    who = f"{champion['name']} v{champion['version']}" if champion else "no champion"
    table = compact_table(
        f"Drift {report['month']} vs training window ({who})",
        [("name", "left"), ("kind", "left"), ("PSI", "right"), ("KS", "right"), ("KS p", "right"),
         ("ref/cur", "right"), ("drift", "left")],
    )  # fmt: skip
    for row in report["data_drift"]:
        flag = "[bold red]yes[/bold red]" if row["drifted"] else "[green]no[/green]"
        if row.get("note"):
            flag = "[yellow]n/a[/yellow]"  # too few rows for PSI: the note below says how many
        table.add_row(
            row["name"], row["kind"][:4], _number(row["psi"]), _number(row["ks_statistic"]), _number(row["ks_pvalue"]),
            f"{row['reference_rows']}/{row['current_rows']}", flag,
        )  # fmt: skip
    console.print(table)
    for row in report["data_drift"]:
        if row.get("note"):
            console.print(f"{row['name']}: {row['note']}", markup=False, highlight=False)
    if report["performance"]:
        names = ("month", "champion RMSE", "baseline RMSE", "champion MAE", "baseline MAE", "rows")
        performance = compact_table(
            "Champion vs SameMonthLastYearSales", [(name, "left" if name == "month" else "right") for name in names]
        )
        for row in report["performance"]:
            performance.add_row(
                row["month"], _number(row["champion_rmse"]), _number(row["baseline_rmse"]),
                _number(row["champion_mae"]), _number(row["baseline_mae"]), str(row["rows"]),
            )  # fmt: skip
        console.print(performance)
    if champion is None:
        console.print(f"[yellow]Nothing to monitor: {report['performance_drift']['reason']}[/yellow]")
    verdict = report["performance_drift"]
    console.print(f"Performance: {'[bold red]drift[/bold red]' if verdict['drifted'] else 'ok'} — {verdict['reason']}")
    coverage = report.get("interval_coverage")
    if coverage:
        flag = "[bold red]drift[/bold red]" if coverage["drifted"] else "ok"
        console.print(f"Interval coverage: {flag} — {coverage['reason']}")
    retrained = report["retrained"]
    if retrained:
        reason = retrained.get("reason")
        console.print(
            f"Retrained: version {retrained['version']}, {retrained['decision']}" + (f" — {reason}" if reason else ""),
            markup=False,
            highlight=False,
        )
    color, text = ("bold red", "DRIFT DETECTED") if report["drifted"] else ("green", "no drift")
    console.print(
        f"[{color}]{text}[/{color}] — report {folder / 'report.html'}" + (f", MLflow run {run_id}" if run_id else "")
    )


def register(app: typer.Typer, generate_app: typer.Typer) -> None:
    """Add ``monitor`` to the ``salescast`` app."""

    @app.command()
    def monitor(
        month: str | None = typer.Option(None, "--month", help="YYYY-MM (default: the latest complete month)."),
        retrain: bool = typer.Option(False, "--retrain", help="Run the training job when something drifted."),
        config: Path | None = typer.Option(
            None, "--config", help="Pipeline config (default: SALESCAST_PIPELINE_CONFIG, ./pipeline.yaml, database)."
        ),
    ) -> None:
        """Data, prediction and performance drift of the champion; exit 0 no drift, 1 drift, 2 error."""
        from salescast.lifecycle.months import parse_month
        from salescast.lifecycle.sources import resolve_pipeline_config

        settings = settings_with()
        configure_cli_logging(settings)
        try:
            monitored = parse_month(month) if month else None
            pipeline = resolve_pipeline_config(config, settings)
        except user_errors() as error:
            fail(str(error), code=EXIT_ERROR)
        from salescast.monitoring.service import MonitoringError, run_monitoring
        from salescast.serving.data import NoDataError

        try:
            with console.status("monitoring the champion"):
                outcome = run_monitoring(settings, pipeline, month=monitored, retrain=retrain)
        except (*user_errors(), MonitoringError, NoDataError) as error:
            fail(str(error), code=EXIT_ERROR)
        print_summary(console, outcome.report, outcome.folder, outcome.run_id)
        if outcome.report["drifted"]:
            raise typer.Exit(EXIT_DRIFT)
