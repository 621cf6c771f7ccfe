"""``salescast bench ingest``: the mixed ingestion workload against a fresh server, and the stack's ceiling.

One run: start ``salescast serve`` on a fresh database, drive it with ``benchmarks/locustfile.py``
headless, check that every acknowledged row is stored with a value its last writes allow and that the
monthly layer still adds up to the cleaned weekly one, stop it; then drive the ceiling app (same routes,
constant answers) with the same users for the same time. Both results, the CPU time each side used and
the ratio go to one JSON file.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from salescast.bench.server_process import ServerProcess, free_port

logger = logging.getLogger(__name__)

BENCHMARKS_DIR = Path(__file__).resolve().parents[3] / "benchmarks"
LOCUSTFILE = BENCHMARKS_DIR / "locustfile.py"
WARM_UP_TIMEOUT_S = 120.0
WARM_UP_ROW = {"year_week": 202001, "vegetable": "tomato", "sales": 1.0}
BENCH_SCHEMA = "salescast_bench"
PERCENTILES = ("50%", "95%", "99%")


class BenchmarkError(RuntimeError):
    """The benchmark could not run, or the service lost or corrupted data under load."""


@dataclass
class EndpointStats:
    name: str
    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass
class LoadResult:
    """What Locust measured against one server, and the CPU seconds the server and Locust used."""

    endpoints: list[EndpointStats]
    total: EndpointStats
    server_cpu_s: float
    locust_cpu_s: float
    failures_sample: list[str] = field(default_factory=list)


class CeilingProcess(ServerProcess):
    """The ceiling app under uvicorn, configured as ``salescast serve`` configures the real one."""

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "salescast.bench.ceiling:create_ceiling_app", "--factory",
            "--port", str(self.port), "--workers", str(self.workers), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip


def fresh_database_url(database_url: str | None, work_dir: Path) -> str:
    """A database with no sales in it, never one holding someone's data.

    No URL: a new SQLite file in ``work_dir``. A SQLite URL: that file, which must not exist yet.
    A PostgreSQL URL: a dedicated schema (``salescast_bench``) in that database, dropped and created again.
    """
    if database_url is None:
        return f"sqlite:///{work_dir / 'bench.db'}"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and Path(url.database).exists():
            raise BenchmarkError(f"{url.database} exists; the benchmark needs a fresh database: give a new file")
        return database_url
    if url.get_backend_name() == "postgresql":
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
                connection.execute(sa.text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
        except sa.exc.OperationalError as error:
            raise BenchmarkError(f"cannot reach {url.render_as_string(hide_password=True)}: {error.orig}") from None
        finally:
            engine.dispose()
        return url.update_query_dict({"options": f"-csearch_path={BENCH_SCHEMA}"}).render_as_string(hide_password=False)
    raise BenchmarkError(f"unsupported database {url.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def _process_tree_cpu_seconds(pid: int) -> float:
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _percentile(response_times: dict[int, int], requests: int, percent: float) -> float:
    """Locust's rule (``locust.stats.calculate_response_time_percentile``): the response time (ms, rounded as
    Locust rounds them) within which ``percent`` of the requests finished."""
    within = int(requests * percent)
    counted = 0
    for milliseconds in sorted(response_times, reverse=True):
        counted += response_times[milliseconds]
        if requests - counted <= within:
            return float(milliseconds)
    return math.nan


def _read_stats(json_path: Path) -> tuple[list[EndpointStats], EndpointStats]:
    """Per-endpoint and aggregated statistics from Locust's final JSON (``--json-file``).

    Not from its CSV: Locust rewrites the CSV every few seconds from a greenlet that users with no wait
    time can starve, so on a busy machine a short run's CSV may still hold zero requests at exit. Read
    without importing Locust, whose import monkey-patches this process with gevent.
    """
    entries = orjson.loads(json_path.read_bytes())
    starts = [entry["start_time"] for entry in entries if entry.get("start_time")]
    lasts = [entry["last_request_timestamp"] for entry in entries if entry.get("last_request_timestamp")]
    span = max(lasts) - min(starts) if starts and lasts else 0.0

    def stats(name: str, group: list[dict]) -> EndpointStats:
        times: dict[int, int] = defaultdict(int)
        for entry in group:
            for milliseconds, count in entry["response_times"].items():
                times[int(float(milliseconds))] += count
        requests = sum(entry["num_requests"] for entry in group)
        timed = requests - sum(entry.get("num_none_requests", 0) for entry in group)
        return EndpointStats(
            name=name,
            requests=requests,
            failures=sum(entry["num_failures"] for entry in group),
            requests_per_s=round(requests / span, 1) if span > 0 else 0.0,
            **{f"p{percent}_ms": _percentile(times, timed, percent / 100) for percent in (50, 95, 99)},
        )

    return [stats(entry["name"], [entry]) for entry in entries], stats("Aggregated", entries)


def _failure_sample(csv_prefix: Path, limit: int = 5) -> list[str]:
    path = Path(f"{csv_prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))[:limit]
    return [f"{row['Name']}: {row['Error']} (x{row['Occurrences']})" for row in rows]


def run_locust(url: str, server_pid: int, *, users: int, duration: int, rate: float, work_dir: Path, label: str,
               acknowledged_path: Path | None = None) -> LoadResult:  # fmt: skip
    """Run the locustfile headless against ``url`` for ``duration`` seconds with ``users`` users."""
    csv_prefix = work_dir / label
    env = {**os.environ, "SALESCAST_BENCH_RATE_PER_USER": str(rate / users if rate else 0)}
    if acknowledged_path is not None:
        env["SALESCAST_BENCH_ACKED"] = str(acknowledged_path)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{duration}s",
        "--csv", str(csv_prefix), "--json-file", str(csv_prefix), "--only-summary", "--loglevel", "WARNING",
        "--stop-timeout", "5",
    ]  # fmt: skip
    server_cpu_before = _process_tree_cpu_seconds(server_pid)
    with (work_dir / f"{label}-locust.log").open("wb") as log:
        locust = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(locust.pid, 0)
    locust.returncode = os.waitstatus_to_exitcode(status)
    server_cpu = _process_tree_cpu_seconds(server_pid) - server_cpu_before
    if not Path(f"{csv_prefix}.json").exists():
        log_tail = (work_dir / f"{label}-locust.log").read_text()[-2000:]
        raise BenchmarkError(f"locust exited with {locust.returncode} and wrote no statistics:\n{log_tail}")
    endpoints, total = _read_stats(Path(f"{csv_prefix}.json"))
    return LoadResult(
        endpoints=endpoints,
        total=total,
        server_cpu_s=round(server_cpu, 2),
        locust_cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        failures_sample=_failure_sample(csv_prefix),
    )


def possible_final_values(writes: list[tuple[float, float, float]]) -> set[float]:
    """The values one key may hold after ``writes`` to it: ``(sales, sent, acked)``, ``acked`` inf if never answered.

    Last write wins, so the stored value comes from a write that no acknowledged write started after:
    a write sent once another was acknowledged committed after it. A write never acknowledged may have
    committed at any time (or not at all).
    """
    last_sent_after_an_ack = max((sent for _, sent, acked in writes if acked != math.inf), default=-math.inf)
    return {sales for sales, _, acked in writes if acked >= last_sent_after_an_ack}


def warm_up(url: str, acknowledged_path: Path | None = None) -> None:
    """One request to each route before the timed run, with a generous timeout.

    The first requests pay one-off costs (the writer's first commit, the read caches' first fill, lazy
    imports): on a busy machine they could outlast a short timed run and leave it with no request at all.
    The warm-up row is recorded in ``acknowledged_path`` like the load's posts, so the integrity check
    knows it was posted.
    """
    with httpx.Client(base_url=url, timeout=WARM_UP_TIMEOUT_S) as client:
        sent = time.monotonic()  # the locustfile's clock
        client.post("/post_sales", json=[WARM_UP_ROW]).raise_for_status()
        if acknowledged_path is not None:
            record = [WARM_UP_ROW["year_week"], WARM_UP_ROW["vegetable"], WARM_UP_ROW["sales"], sent, time.monotonic()]
            with acknowledged_path.open("ab") as file:
                file.write(orjson.dumps(record) + b"\n")
        for path in ("/get_raw_sales", "/get_monthly_sales", "/get_monthly_sales?remove_outliers=true"):
            client.get(path).raise_for_status()


def check_nothing_lost(url: str, acknowledged_path: Path) -> dict:
    """Every acknowledged row is stored with a value it may hold; per vegetable, Σ monthly = Σ cleaned weekly.

    ``acknowledged_path`` holds every posted row with its send and acknowledgement times (the locustfile's
    ``SALESCAST_BENCH_ACKED``): a stored value must be one of :func:`possible_final_values` of its key.
    """
    writes: dict[tuple[int, str], list[tuple[float, float, float]]] = defaultdict(list)
    for line in acknowledged_path.read_bytes().splitlines():
        week, vegetable, sales, sent, acked = orjson.loads(line)
        writes[(week, vegetable)].append((float(sales), sent, math.inf if acked is None else acked))
    acknowledged = {key for key, key_writes in writes.items() if any(ack != math.inf for *_, ack in key_writes)}
    with httpx.Client(base_url=url, timeout=120) as client:
        raw = client.get("/get_raw_sales").raise_for_status().json()
        weekly = client.get("/get_weekly_sales").raise_for_status().json()
        monthly = client.get("/get_monthly_sales").raise_for_status().json()
    stored = {(row["year_week"], row["vegetable"]): row["sales"] for row in raw}
    lost = sorted(acknowledged - stored.keys())
    if lost:
        raise BenchmarkError(f"{len(lost)} acknowledged rows are missing, for example {lost[:5]}")
    never_posted = sorted(stored.keys() - writes.keys())
    if never_posted:
        raise BenchmarkError(f"{len(never_posted)} stored rows were never posted, for example {never_posted[:5]}")
    wrong = [
        (key, value, sorted(possible_final_values(writes[key])))
        for key, value in stored.items()
        if value not in possible_final_values(writes[key])
    ]
    if wrong:
        raise BenchmarkError(f"{len(wrong)} rows hold a value no last write gave them, for example {wrong[:3]}")
    weekly_totals: dict[str, float] = defaultdict(float)
    monthly_totals: dict[str, float] = defaultdict(float)
    for row in weekly:
        weekly_totals[row["vegetable"]] += row["sales"]
    for row in monthly:
        monthly_totals[row["vegetable"]] += row["sales"]
    drift = {
        vegetable: round(monthly_totals[vegetable] - total, 6)
        for vegetable, total in weekly_totals.items()
        if abs(monthly_totals[vegetable] - total) > 1e-6 * max(1.0, abs(total))
    }
    if drift or set(monthly_totals) != set(weekly_totals):
        raise BenchmarkError(f"monthly totals differ from cleaned weekly totals: {drift}")
    return {
        "acknowledged_keys": len(acknowledged),
        "stored_raw_rows": len(raw),
        "posted_rows": sum(len(key_writes) for key_writes in writes.values()),
        "lost_rows": 0,
        "wrong_values": 0,
    }


@dataclass
class IngestBenchmark:
    """The settings of one benchmark run."""

    duration: int = 60
    users: int = 32
    workers: int = 1
    rate: float = 0.0
    database_url: str | None = None
    ceiling: bool = True
    results_dir: Path = BENCHMARKS_DIR / "results"

    def _load(self, server: ServerProcess, work_dir: Path, label: str, acknowledged_path: Path | None = None):
        warm_up(server.url, acknowledged_path)
        return run_locust(
            server.url,
            server.process.pid,
            users=self.users,
            duration=self.duration,
            rate=self.rate,
            work_dir=work_dir,
            label=label,
            acknowledged_path=acknowledged_path,
        )

    def run(self, progress=lambda message: None) -> dict:
        """Run the service and the ceiling, save the JSON report, return it."""
        if not LOCUSTFILE.exists():
            raise BenchmarkError(f"{LOCUSTFILE} not found: run the benchmark from a checkout of the repository")
        with tempfile.TemporaryDirectory(prefix="salescast-bench-") as tmp:
            work_dir = Path(tmp)
            database_url = fresh_database_url(self.database_url, work_dir)
            backend = make_url(database_url).get_backend_name()
            server = ServerProcess(
                database_url,
                work_dir / "server.log",
                workers=self.workers,
                extra_env={"SALESCAST_LOG_LEVEL": "WARNING"},
            )
            progress(f"service on {backend}: {self.users} users for {self.duration}s")
            server.start()
            acknowledged_path = work_dir / "acknowledged.jsonl"
            try:
                service = self._load(server, work_dir, "service", acknowledged_path)
                progress("checking that every acknowledged row is stored")
                integrity = check_nothing_lost(server.url, acknowledged_path)
            finally:
                server.stop()
            ceiling = None
            if self.ceiling:
                progress(f"ceiling (same routes, constant answers): {self.users} users for {self.duration}s")
                ceiling_server = CeilingProcess("", work_dir / "ceiling.log", workers=self.workers, port=free_port())
                ceiling_server.start()
                try:
                    ceiling = self._load(ceiling_server, work_dir, "ceiling")
                finally:
                    ceiling_server.stop()
        report = {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": backend,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "settings": {
                "duration_s": self.duration,
                "users": self.users,
                "workers": self.workers,
                "target_rate": self.rate or None,
            },
            "service": _as_dict(service),
            "integrity": integrity,
            "ceiling": _as_dict(ceiling) if ceiling else None,
            "fraction_of_ceiling": (
                round(service.total.requests_per_s / ceiling.total.requests_per_s, 3)
                if ceiling and ceiling.total.requests_per_s
                else None
            ),
        }
        self.results_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.results_dir / f"ingest-{backend}-{stamp}.json"
        path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        report["path"] = str(path)
        return report


def _as_dict(result: LoadResult) -> dict:
    from dataclasses import asdict

    return asdict(result)
