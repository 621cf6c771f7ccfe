"""``salescast bench …``: load benchmarks (they need a checkout of the repository and the dev dependencies)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, generate_app: typer.Typer) -> None:
    """Add the ``bench`` command group to ``app``."""
    bench_app = typer.Typer(help="Load benchmarks (need a checkout and the dev dependencies).", no_args_is_help=True)
    app.add_typer(bench_app, name="bench")

    @bench_app.command("ingest")
    def bench_ingest(
        duration: int = typer.Option(60, min=5, max=3600, help="Seconds of load, for the service and for the ceiling."),
        users: int = typer.Option(32, min=1, max=1000, help="Concurrent Locust users (no wait between requests)."),
        workers: int = typer.Option(1, min=1, max=16, help="Server worker processes."),
        rate: float = typer.Option(0, min=0, help="Hold this many requests/s in total instead of as many as possible."),
        database_url: str | None = typer.Option(
            None, help="Default: a new SQLite file. PostgreSQL: a dedicated 'salescast_bench' schema, recreated."
        ),
        ceiling: bool = typer.Option(True, help="Also measure the same routes answering constants."),
        results_dir: Path | None = typer.Option(
            None, help="Where to save the JSON report (default benchmarks/results)."
        ),
    ) -> None:
        """Mixed ingestion load (2 posts : 1 raw read : 1 monthly read) with Locust on a fresh database."""
        from rich.table import Table

        from salescast.bench.ingest import BENCHMARKS_DIR, BenchmarkError, IngestBenchmark
        from salescast.cli_common import console, fail

        benchmark = IngestBenchmark(
            duration=duration,
            users=users,
            workers=workers,
            rate=rate,
            database_url=database_url,
            ceiling=ceiling,
            results_dir=results_dir or BENCHMARKS_DIR / "results",
        )
        try:
            report = benchmark.run(progress=lambda message: console.print(f"[cyan]…[/cyan] {message}"))
        except BenchmarkError as error:
            fail(str(error))
        for label in ("service", "ceiling"):
            result = report[label]
            if result is None:
                continue
            table = Table(title=f"{label} ({report['backend'] if label == 'service' else 'constant answers'})")
            for column in ("endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"):
                table.add_column(column, justify="left" if column == "endpoint" else "right")
            for stats in [*result["endpoints"], result["total"]]:
                table.add_row(
                    stats["name"], str(stats["requests"]), str(stats["failures"]), f"{stats['requests_per_s']:.0f}",
                    f"{stats['p50_ms']:.0f}", f"{stats['p95_ms']:.0f}", f"{stats['p99_ms']:.0f}",
                )  # fmt: skip
            console.print(table)
            console.print(f"CPU seconds: server {result['server_cpu_s']}, locust {result['locust_cpu_s']}")
        integrity = report["integrity"]
        console.print(
            f"Acknowledged keys {integrity['acknowledged_keys']}, stored raw rows {integrity['stored_raw_rows']}, "
            f"lost {integrity['lost_rows']}, wrong values {integrity['wrong_values']}; "
            "monthly totals equal cleaned weekly totals."
        )
        if report["fraction_of_ceiling"] is not None:
            console.print(f"Throughput: {report['fraction_of_ceiling']:.0%} of the ceiling.")
        console.print(f"Saved {report['path']}")
        if report["service"]["total"]["failures"]:
            fail(f"{report['service']['total']['failures']} requests failed: {report['service']['failures_sample']}")
