"""CLI commands of the forecasting engine: ``predict``, ``evaluate`` and ``generate sales``.

Registered on the main app by :func:`register`; heavy libraries load inside the commands so that
``salescast --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def _read_config(path: Path) -> dict[str, Any]:
    import yaml

    from salescast.cli_common import fail

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        fail(f"cannot read {path} as YAML: {error}")
    if not isinstance(config, dict):
        fail(f"{path} must hold a YAML mapping with data, start_test, model and features")
    return config


def _parse_assignments(assignments: list[str]) -> dict[str, Any]:
    import yaml

    from salescast.cli_common import fail

    values: dict[str, Any] = {}
    for item in assignments:
        name, separator, raw = item.partition("=")
        if not separator or not name:
            fail(f"--param takes NAME=VALUE, got {item!r}")
        values[name.replace("-", "_")] = yaml.safe_load(raw)
    return values


def predict(
    config: Path = typer.Option(
        ..., "--config", exists=True, dir_okay=False, help="YAML: data, start_test, model, features."
    ),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="CSV to write: dates,item_id,prediction."),
    engine: str | None = typer.Option(None, "--engine", help="pandas or spark; overrides the config's engine."),
) -> None:
    """Write one-month-ahead predictions for every (month ≥ start_test, item) of the sales file."""
    from salescast.cli_common import check_engine, console, fail
    from salescast.forecast.pipeline import make_predictions

    settings = _read_config(config)
    if check_engine(engine):
        settings["engine"] = engine
    try:
        with console.status("Forecasting…"):
            predictions = make_predictions(settings, base_dir=config.parent)
    except ValueError as error:
        fail(str(error))
    out.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(out, index=False)
    console.print(
        f"[green]Wrote[/green] {out}: {len(predictions)} predictions, {predictions['item_id'].nunique()} items, "
        f"{predictions['dates'].min()} … {predictions['dates'].max()} ({settings.get('model', 'Ridge')})"
    )


def evaluate(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="YAML: data and start_test."),
    json_out: Path | None = typer.Option(None, "--json", dir_okay=False, help="Also save the table as JSON."),
    engine: str | None = typer.Option(
        None, "--engine", help="pandas or spark; overrides the config's engine (spark: no intervals, no +marketing…)."
    ),
    intervals: str | None = typer.Option(
        None,
        "--intervals",
        help="Interval levels in percent, e.g. 80,95: adds coverage and MSIS per level (pinball in --json).",
    ),
) -> None:
    """Score every model and feature set on the test months (R², RMSE, MAE, MAPE, mean per-item MASE and sMAPE),
    with the oracle if truth exists; --intervals adds interval coverage and MSIS."""
    import orjson
    from rich.table import Table

    from salescast.cli_common import check_engine, console, fail
    from salescast.forecast.evaluate import reference_table
    from salescast.forecast.intervals import IntervalLevelError, parse_levels

    settings = _read_config(config)
    if check_engine(engine):
        settings["engine"] = engine
    on_spark = settings.get("engine", "pandas") == "spark"
    if intervals is not None:
        if on_spark:
            fail(
                "--intervals: intervals are computed on the pandas engine only for now; "
                "drop --intervals or evaluate with --engine pandas"
            )
        try:
            settings["intervals"] = list(parse_levels(intervals))
        except IntervalLevelError as error:
            fail(f"--intervals: {error}")
    if on_spark and isinstance(settings.get("data"), dict):
        from salescast.forecast.spark.evaluate import spark_left_out

        left_out = spark_left_out(settings["data"])
        if left_out:
            console.print(
                f"[yellow]engine spark reads sales and exogenous only: the feature sets {', '.join(left_out)} "
                "are left out (evaluate with --engine pandas for them)[/yellow]"
            )
    try:
        with console.status("Evaluating…") as status:
            rows = reference_table(settings, base_dir=config.parent, progress=lambda step: status.update(step))
    except ValueError as error:
        fail(str(error))
    console.print(render_table(rows, Table, title=f"Reference table ({config})"))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
        console.print(f"[green]Saved[/green] {json_out}")


def render_table(rows: list[dict[str, Any]], table_class, title: str):
    """A Rich table of reference rows (R², RMSE, MAE, MAPE %, MASE, sMAPE %, then coverage % and MSIS per
    interval level when the rows have them; n/a for the oracle, which has no intervals)."""
    levels = list(
        dict.fromkeys(key.removeprefix("coverage_") for row in rows for key in row if key.startswith("coverage_"))
    )
    table = table_class(title=title)
    columns = [("model", "left"), ("features", "left")]
    columns += [(name, "right") for name in ("R²", "RMSE", "MAE", "MAPE %", "MASE", "sMAPE %")]
    columns += [(name, "right") for level in levels for name in (f"cover {level} %", f"MSIS {level}")]
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in rows:
        interval_cells = [
            cell
            for level in levels
            for cell in (_fixed(row.get(f"coverage_{level}"), 1), _fixed(row.get(f"msis_{level}"), 2))
        ]
        table.add_row(
            row["model"],
            row["features"],
            f"{row['r2']:.4f}",
            f"{row['rmse']:.2f}",
            f"{row['mae']:.2f}",
            f"{row['mape']:.2f}",
            _fixed(row.get("mase"), 3),
            _fixed(row.get("smape"), 2),
            *interval_cells,
        )
    return table


def _fixed(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals; a missing or NaN value (no item with a usable scale) as ``n/a``."""
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def generate_sales(
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder for the five CSVs, truth.csv and truth.json."),
    seed: int = typer.Option(0, help="Random seed; the same seed writes the same files."),
    items: int = typer.Option(50, min=1, help="Number of items."),
    months: int = typer.Option(72, min=27, help="Number of months (≥ 27: 15 warm-up months and a year)."),
    start: str = typer.Option("2018-07-01", help="First month (YYYY-MM-01)."),
    noise: float = typer.Option(0.05, min=0.0, help="σ of the multiplicative noise on v1."),
    param: list[str] = typer.Option(
        [],
        "--param",
        help="Any other generator parameter, NAME=VALUE: a, b, c, d (lift per unit of spend), e, marketing_low/high, "
        "price_low/high, level_low/high, objective_low/high, shortage_probability, refill_days=weekly, … "
        "(README, Generative process).",
    ),
) -> None:
    """Write monthly sales following the documented generative process, with its truth (truth.json, truth.csv)."""
    from salescast.cli_common import console, fail
    from salescast.forecast.generate import generate_sales_data

    options = _parse_assignments(param) | {"months": months, "start": start, "noise": noise}
    try:
        summary = generate_sales_data(out, seed=seed, items=items, **options)
    except (ValueError, TypeError) as error:
        fail(str(error))
    console.print(f"[green]Wrote[/green] {out}: {summary}")


def register(app: typer.Typer, generate_app: typer.Typer) -> None:
    """Add ``predict``, ``evaluate`` and ``generate sales`` to the salescast app."""
    app.command("predict")(predict)
    app.command("evaluate")(evaluate)
    generate_app.command("sales")(generate_sales)
