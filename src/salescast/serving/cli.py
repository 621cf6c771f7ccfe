"""``salescast forecast``: every item's next months from the champion into a CSV or Parquet file."""

from __future__ import annotations

from pathlib import Path

import typer

from salescast.cli_common import (
    check_engine,
    configure_cli_logging,
    console,
    fail,
    progress_bar,
    settings_with,
    user_errors,
)

DEFAULT_CONFIG = Path("pipeline.yaml")


def register(app: typer.Typer, generate_app: typer.Typer) -> None:
    """Add ``forecast`` to the ``salescast`` app."""

    @app.command()
    def forecast(
        horizon: int = typer.Option(
            ..., "--horizon", min=1, help="Months to forecast (at most SALESCAST_FORECAST_MAX_HORIZON)."
        ),
        out: Path = typer.Option(..., "--out", help="File to write: .csv or .parquet."),
        config: Path = typer.Option(
            DEFAULT_CONFIG, "--config", help="Pipeline config: its source and registered model."
        ),
        model_version: str | None = typer.Option(
            None, "--model-version", help="Forecast with this registered version (default: the champion)."
        ),
        from_month: str | None = typer.Option(
            None,
            "--from-month",
            help="First month to forecast, YYYY-MM (default: the month after the latest complete month); "
            "sales from it on are ignored, as if forecasting at the end of the month before.",
        ),
        intervals: str | None = typer.Option(
            None,
            "--intervals",
            help="Prediction interval levels in percent, e.g. 80,95: adds lo_80, hi_80, … after prediction "
            "(from the model's stored calibration).",
        ),
        engine: str | None = typer.Option(
            None,
            "--engine",
            help="pandas or spark (default: pipeline.yaml's engine:). Spark writes --out PATH.parquet as a dataset "
            "partitioned by month.",
        ),
    ) -> None:
        """Write every item's next HORIZON months (item_id, month, prediction, model_version), as GET /forecast does."""
        from salescast.forecast.intervals import IntervalLevelError, parse_levels
        from salescast.frame_files import check_output_path
        from salescast.lifecycle.months import parse_month
        from salescast.lifecycle.sources import load_pipeline_config

        settings = settings_with()
        configure_cli_logging(settings)
        check_engine(engine)
        try:
            first = parse_month(from_month) if from_month else None
            levels = parse_levels(intervals)
            pipeline = load_pipeline_config(config)
            if (engine or pipeline.engine) == "spark":
                _spark_forecast(settings, pipeline, horizon, out, model_version, first, levels)
                return
            check_output_path(out)
        except IntervalLevelError as error:
            fail(f"--intervals: {error}")
        except user_errors() as error:
            fail(str(error))
        from salescast.frame_files import write_frame
        from salescast.serving.batch import batch_forecast
        from salescast.serving.champion import NoChampionError
        from salescast.serving.data import NoDataError
        from salescast.serving.forecasts import ForecastRequestError

        try:
            with progress_bar() as progress:
                task = progress.add_task("starting", total=4)

                def stage(name: str) -> None:
                    progress.update(task, description=name, advance=0 if name == "loading the model" else 1)

                result = batch_forecast(
                    settings, pipeline, horizon, version=model_version, from_month=first, on_stage=stage, levels=levels
                )
                write_frame(result.frame, out)
                progress.advance(task)
        except (*user_errors(), NoChampionError, NoDataError, ForecastRequestError) as error:
            fail(str(error))
        frame = result.frame
        months = sorted(frame["month"].unique()) if len(frame) else []
        span = f"{months[0]} … {months[-1]}" if months else "no month"
        console.print(
            f"[green]Wrote[/green] {out}: {len(frame)} forecasts, {frame['item_id'].nunique()} items, {span} "
            f"({result.champion.name} v{result.champion.version}, data until {result.last_month:%Y-%m}, "
            f"{result.source})",
            highlight=False,
        )


def _spark_forecast(settings, pipeline, horizon: int, out: Path, version: str | None, first, levels) -> None:
    """``forecast --engine spark``: the same rows, computed and written by Spark (a Parquet dataset by month)."""
    from salescast.forecast.spark.batch import spark_batch_forecast
    from salescast.serving.champion import NoChampionError
    from salescast.serving.data import NoDataError
    from salescast.serving.forecasts import ForecastRequestError

    try:
        with console.status("Spark: starting") as status:
            result = spark_batch_forecast(
                settings,
                pipeline,
                horizon,
                str(out),
                version=version,
                from_month=first,
                on_stage=lambda name: status.update(f"Spark: {name}"),
                levels=tuple(levels),
            )
    except (*user_errors(), NoChampionError, NoDataError, ForecastRequestError) as error:
        fail(str(error))
    span = f"{result.months[0]} … {result.months[-1]}" if result.months else "no month"
    failed = f", {result.failed_items} items failed and got the fallback (status column)" if result.failed_items else ""
    console.print(
        f"[green]Wrote[/green] {out} (Parquet by month): {result.rows} forecasts, {result.items} items, {span} "
        f"({result.champion.name} v{result.champion.version}, data until {result.last_month:%Y-%m}, "
        f"{result.source}, engine spark){failed}",
        highlight=False,
    )
