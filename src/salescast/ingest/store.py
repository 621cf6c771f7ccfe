"""Storage of the three sales layers, on SQLite (default) or PostgreSQL, with identical behaviour.

Tables:

- ``raw_sales`` (bronze): rows exactly as received, keyed by ``(year_week, vegetable as sent)``,
  with the name's normalized key and the canonical vegetable it resolved to (NULL if unknown).
- ``weekly_sales`` (silver): per ``(year_week, canonical vegetable)`` the sum of its raw rows.
- ``monthly_sales`` (gold): per ``(year_month, vegetable)`` the weeks' sales prorated by days.
- ``regular_monthly_sales``: the same without the weeks flagged as outliers.
- ``vegetable_stats``: per vegetable the count, mean and sample variance of its weekly sales, from
  which each weekly row's ``is_outlier`` flag is kept current.
- ``week_month_split``: how many days of each stored week fall in each month.
- ``vegetable_aliases``: operator mappings from a name key to a vegetable.
- ``ingest_state``: the version counters behind the read models (see :mod:`read_model`).

Writes keep the derived layers exactly consistent in the same transaction: for each
``(week, vegetable)`` a write touches, the weekly row is recomputed from its raw rows, then the
months those weeks overlap from their weekly rows, then the vegetable's statistics and outlier
flags, then the regular months of every week whose flag changed.
Recomputing the touched keys (instead of adding deltas) means no floating-point drift, ever, and
costs a handful of indexed statements per batch. Writers are serialized (SQLite ``BEGIN IMMEDIATE``,
a PostgreSQL transaction-level advisory lock), which is what makes the recomputation race-free.
"""

from __future__ import annotations

import functools
import logging
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from salescast.ingest.calendar import days_per_month, weeks_overlapping_month
from salescast.ingest.outliers import candidate_bounds, is_outlier, outlier_condition, sample_variance
from salescast.ingest.read_model import VersionedRowsCache
from salescast.ingest.schema import SalesRow
from salescast.settings import Settings, get_settings

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

metadata = MetaData()

raw_sales = Table(
    "raw_sales",
    metadata,
    Column("year_week", Integer, primary_key=True),
    Column("vegetable", String, primary_key=True),
    Column("sales", Double, nullable=False),
    Column("name_key", String, nullable=False),
    Column("canonical", String, nullable=True),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Index("ix_raw_sales_canonical_week", "canonical", "year_week"),
    Index("ix_raw_sales_name_key", "name_key"),
    Index("ix_raw_sales_version", "version"),
)
weekly_sales = Table(
    "weekly_sales",
    metadata,
    Column("year_week", Integer, primary_key=True),
    Column("vegetable", String, primary_key=True),
    Column("sales", Double, nullable=False),
    Column("is_outlier", Boolean, nullable=False, server_default=sa.false()),
    Index("ix_weekly_sales_vegetable_sales", "vegetable", "sales"),
    Index(
        "ix_weekly_sales_outliers",
        "vegetable",
        sqlite_where=sa.text("is_outlier"),
        postgresql_where=sa.text("is_outlier"),
    ),
)
monthly_sales = Table(
    "monthly_sales",
    metadata,
    Column("year_month", Integer, primary_key=True),
    Column("vegetable", String, primary_key=True),
    Column("sales", Double, nullable=False),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Index("ix_monthly_sales_version", "version"),
)
regular_monthly_sales = Table(
    "regular_monthly_sales",
    metadata,
    Column("year_month", Integer, primary_key=True),
    Column("vegetable", String, primary_key=True),
    Column("sales", Double, nullable=False),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Index("ix_regular_monthly_sales_version", "version"),
)
vegetable_stats = Table(
    "vegetable_stats",
    metadata,
    Column("vegetable", String, primary_key=True),
    Column("weeks", Integer, nullable=False),
    Column("mean", Double, nullable=False),
    Column("variance", Double, nullable=True),
)
week_month_split = Table(
    "week_month_split",
    metadata,
    Column("year_week", Integer, primary_key=True),
    Column("year_month", Integer, primary_key=True),
    Column("days", Integer, nullable=False),
)
vegetable_aliases = Table(
    "vegetable_aliases",
    metadata,
    Column("alias", String, primary_key=True),
    Column("vegetable", String, nullable=False),
)

ingest_state = Table(
    "ingest_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("layout_version", BigInteger, nullable=False),
    Column("outlier_threshold", Double, nullable=True),
)

SALES_TABLES = (raw_sales, weekly_sales, monthly_sales, regular_monthly_sales, vegetable_stats, week_month_split)

# SQLite accepts 32,766 bound parameters per statement; two per key leaves ample room.
KEYS_PER_STATEMENT = 5000
# Any constant works: it names the one lock all PostgreSQL writers of this database share.
POSTGRES_WRITE_LOCK = 0x5A1E5CA57


class StorageError(RuntimeError):
    """The database cannot be used as configured."""


class RowsRefused(ValueError):
    """The database refused rows of a write (a value or constraint it cannot hold), not the database's state."""


WriteFailure = Literal["unavailable", "data", "unexpected"]
# The database's state: down, locked past the busy timeout, out of disk, connection lost, writer gone.
_UNAVAILABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
    StorageError,
    OSError,
)
# The rows' content: a value out of range, a string the driver cannot encode, a constraint violated.
_DATA = (sa.exc.DataError, sa.exc.IntegrityError, RowsRefused, ArithmeticError, ValueError)


def write_failure_kind(error: BaseException) -> WriteFailure:
    """Why a write transaction failed: ``unavailable`` (retrying the same rows alone cannot help),
    ``data`` (something in the rows: the batch that holds them is at fault) or ``unexpected``."""
    if isinstance(error, _UNAVAILABLE):
        return "unavailable"
    if isinstance(error, _DATA) or isinstance(getattr(error, "orig", None), _DATA):
        return "data"
    return "unexpected"


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class CommittedChange:
    """The rows one write transaction stamped with ``version``, as ``(key..., sales)`` tuples per layer."""

    version: int
    layout_version: int
    raw: list[tuple]
    monthly: list[tuple]
    regular_monthly: list[tuple]


def _chunks(items: Sequence, size: int = KEYS_PER_STATEMENT) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rows_for_keys(connection: Connection, query: str, keys: Sequence[tuple]) -> list[tuple]:
    """Run ``query`` once per chunk of ``keys``, each ``{keys}`` in it replaced by a ``VALUES`` list of them.

    ``query`` joins that list (columns ``column1``, ``column2``, …) to a table's index, one lookup per key.
    Written as driver SQL: a row-value ``IN`` list makes SQLite scan the whole table, and hundreds of
    pairs through SQLAlchemy's expanding IN cost more to name than the lookups themselves.
    """
    if not keys:
        return []
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    row = "(" + ", ".join([mark] * len(keys[0])) + ")"
    uses = query.count("{keys}")
    rows: list[tuple] = []
    # SQLite binds at most 32,766 parameters per statement.
    for chunk in _chunks(keys, min(KEYS_PER_STATEMENT, 30_000 // (len(keys[0]) * uses))):
        parameters = tuple(value for key in chunk for value in key) * uses
        statement = query.format(keys="VALUES " + ", ".join([row] * len(chunk)))
        rows += connection.exec_driver_sql(statement, parameters).all()
    return rows


# Mean and the sum of squared deviations of each listed vegetable's weekly sales (two passes, exact).
_VEGETABLE_STATS = (
    "SELECT m.vegetable, m.weeks, m.mean, sum((t.sales - m.mean) * (t.sales - m.mean)) FROM ("
    "SELECT t.vegetable AS vegetable, count(*) AS weeks, avg(t.sales) AS mean FROM ({keys}) AS k "
    "JOIN weekly_sales AS t ON t.vegetable = k.column1 GROUP BY t.vegetable) AS m "
    "JOIN weekly_sales AS t ON t.vegetable = m.vegetable GROUP BY m.vegetable, m.weeks, m.mean"
)
# Unflagged weeks beyond each vegetable's band (column2 = low, column3 = high): two range scans on
# (vegetable, sales) per vegetable.
_UNFLAGGED_BEYOND_BAND = (
    "SELECT t.year_week, t.vegetable, t.sales FROM ({keys}) AS k JOIN weekly_sales AS t "
    "ON t.vegetable = k.column1 AND t.sales >= k.column3 WHERE NOT t.is_outlier "
    "UNION ALL SELECT t.year_week, t.vegetable, t.sales FROM ({keys}) AS k JOIN weekly_sales AS t "
    "ON t.vegetable = k.column1 AND t.sales <= k.column2 WHERE NOT t.is_outlier"
)
_VERSIONS_QUERY = "SELECT version, layout_version FROM ingest_state WHERE id = 1"
_EXISTING_RAW = (
    "SELECT t.year_week, t.vegetable, t.sales, t.canonical FROM ({keys}) AS k "
    "JOIN raw_sales AS t ON t.year_week = k.column1 AND t.vegetable = k.column2"
)
_RAW_TOTALS = (
    "SELECT t.year_week, t.canonical, sum(t.sales) FROM ({keys}) AS k "
    "JOIN raw_sales AS t ON t.canonical = k.column2 AND t.year_week = k.column1 GROUP BY t.year_week, t.canonical"
)
_WEEKLY_ROWS = (
    "SELECT t.year_week, t.vegetable, t.sales, t.is_outlier FROM ({keys}) AS k "
    "JOIN weekly_sales AS t ON t.year_week = k.column1 AND t.vegetable = k.column2"
)


def create_engine_for_url(database_url: str, *, sqlite_synchronous: str = "FULL", immediate: bool = False) -> Engine:
    """An engine for ``database_url``; SQLite gets WAL, a busy timeout and, when ``immediate``, write locks at BEGIN."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StorageError("an in-memory SQLite database cannot be shared by the server's threads; use a file path")
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # As many pooled connections as the server has request threads: a connection opened per read
        # (overflow) pays for its PRAGMAs every time.
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=48, max_overflow=16
        )

        @event.listens_for(engine, "connect")
        def _configure_sqlite(dbapi_connection, _record) -> None:
            # Let SQLAlchemy's "begin" event issue BEGIN itself, so writers can take the lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.get_backend_name() == "postgresql":
        # Readers see one snapshot per transaction: the version they read matches the rows they fetch.
        isolation = "READ COMMITTED" if immediate else "REPEATABLE READ"
        return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, isolation_level=isolation)
    raise StorageError(f"unsupported database URL {database_url!r}: use sqlite:///path or postgresql+psycopg://…")


@functools.cache
def _upsert_statement(dialect_name: str, table: Table, key: tuple[str, ...], update: tuple[str, ...]):
    # Built once: constructing an INSERT … ON CONFLICT and its cache key cost more than running it.
    statement = (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={column: statement.excluded[column] for column in update}
    )


@functools.cache
def _insert_missing_statement(dialect_name: str, table: Table, key: tuple[str, ...]):
    statement = (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_nothing(index_elements=list(key))


def _upsert(connection: Connection, table: Table, rows: list[dict], key: list[str], update: list[str]) -> None:
    if rows:
        connection.execute(_upsert_statement(connection.dialect.name, table, tuple(key), tuple(update)), rows)


def _insert_missing(connection: Connection, table: Table, rows: list[dict], key: list[str]) -> None:
    if rows:
        connection.execute(_insert_missing_statement(connection.dialect.name, table, tuple(key)), rows)


def open_store(settings: Settings) -> SalesStore:
    """The store the settings describe."""
    return SalesStore(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        outlier_std_threshold=settings.outlier_std_threshold,
    )


class SalesStore:
    """Data access for the ingestion layers. One instance per database, shared by all requests."""

    def __init__(
        self, database_url: str, *, sqlite_synchronous: str = "FULL", outlier_std_threshold: float | None = None
    ) -> None:
        self.database_url = database_url
        self.sqlite_synchronous = sqlite_synchronous
        # The outlier flags are stored, so the threshold belongs to the database; see :meth:`migrate`.
        self.outlier_std_threshold = (
            get_settings().outlier_std_threshold if outlier_std_threshold is None else outlier_std_threshold
        )
        self.read_engine = create_engine_for_url(database_url, sqlite_synchronous=sqlite_synchronous)
        self.write_engine = create_engine_for_url(database_url, sqlite_synchronous=sqlite_synchronous, immediate=True)
        self.dialect = self.read_engine.dialect.name
        # Within one process, queue writers on a lock instead of in SQLite's busy-wait loop.
        self._write_lock = threading.Lock()
        url = sa.make_url(database_url)
        self._sqlite_path = url.database if url.get_backend_name() == "sqlite" else None
        self._probes = threading.local()
        self._probes_lock = threading.Lock()
        self._probe_connections: list[sqlite3.Connection] = []
        self._raw_cache = VersionedRowsCache(raw_sales, ["year_week", "vegetable"], ["sales"])
        self._monthly_cache = VersionedRowsCache(monthly_sales, ["year_month", "vegetable"], ["sales"])
        self._regular_monthly_cache = VersionedRowsCache(regular_monthly_sales, ["year_month", "vegetable"], ["sales"])
        self._caches = {
            "raw": self._raw_cache,
            "monthly": self._monthly_cache,
            "regular_monthly": self._regular_monthly_cache,
        }

    # -- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (creating it if missing); keeps all data."""
        from salescast.migrations import upgrade_to_head

        upgrade_to_head(self.write_engine)
        self._apply_outlier_threshold()

    def _apply_outlier_threshold(self) -> None:
        """Re-flag every week when this store's threshold differs from the one the flags were made with."""
        with self._writing() as connection:
            stored = connection.execute(
                select(ingest_state.c.outlier_threshold).where(ingest_state.c.id == 1)
            ).scalar_one()
            if stored == self.outlier_std_threshold:
                return
            version, _ = self._next_version(connection)
            connection.execute(weekly_sales.update().values(is_outlier=self._is_outlier()))
            connection.execute(regular_monthly_sales.delete())
            connection.execute(
                regular_monthly_sales.insert().from_select(
                    ["year_month", "vegetable", "sales", "version"],
                    self._monthly_totals(regular_only=True).add_columns(sa.literal(version, BigInteger)),
                )
            )
            self._layout_changed(connection)
            connection.execute(
                ingest_state.update().where(ingest_state.c.id == 1).values(outlier_threshold=self.outlier_std_threshold)
            )
            logger.info("outlier flags recomputed for threshold %s (was %s)", self.outlier_std_threshold, stored)

    def _is_outlier(self):
        """The outlier rule on a weekly row, against its vegetable's statistics (correlated subqueries)."""
        stats = select(vegetable_stats).where(vegetable_stats.c.vegetable == weekly_sales.c.vegetable)
        mean = stats.with_only_columns(vegetable_stats.c.mean).scalar_subquery()
        variance = stats.with_only_columns(vegetable_stats.c.variance).scalar_subquery()
        return sa.func.coalesce(
            outlier_condition(weekly_sales.c.sales, mean, variance, self.outlier_std_threshold), False
        )

    @staticmethod
    def _monthly_totals(*, regular_only: bool):
        """SELECT year_month, vegetable, Σ sales × days / 7 over weekly rows (optionally non-outliers only)."""
        split = week_month_split
        query = (
            select(
                split.c.year_month.label("year_month"),
                weekly_sales.c.vegetable.label("vegetable"),
                (func.sum(weekly_sales.c.sales * split.c.days) / 7.0).label("sales"),
            )
            .join_from(weekly_sales, split, split.c.year_week == weekly_sales.c.year_week)
            .group_by(split.c.year_month, weekly_sales.c.vegetable)
        )
        return query.where(sa.not_(weekly_sales.c.is_outlier)) if regular_only else query

    def reset(self) -> None:
        """Empty every sales table (aliases are configuration and are kept)."""
        with self._writing() as connection:
            for table in SALES_TABLES:
                connection.execute(table.delete())
            self._next_version(connection)
            self._layout_changed(connection)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.read_engine.connect() as connection:
            connection.execute(select(1))

    def dispose(self) -> None:
        with self._probes_lock:
            for probe in self._probe_connections:
                probe.close()
            self._probe_connections.clear()
        self.read_engine.dispose()
        self.write_engine.dispose()

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One serialized write transaction: committed on exit, rolled back on error."""
        with self._write_lock, self.write_engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(POSTGRES_WRITE_LOCK)))
            yield connection

    @staticmethod
    def _next_version(connection: Connection) -> tuple[int, int]:
        """Take the next write version (the rows this transaction writes are stamped with it); with the layout."""
        statement = (
            ingest_state.update()
            .where(ingest_state.c.id == 1)
            .values(version=ingest_state.c.version + 1)
            .returning(ingest_state.c.version, ingest_state.c.layout_version)
        )
        version, layout_version = connection.execute(statement).one()
        return version, layout_version

    @staticmethod
    def _layout_changed(connection: Connection) -> None:
        """Rows were deleted: readers must reload instead of applying changes."""
        connection.execute(
            ingest_state.update().where(ingest_state.c.id == 1).values(layout_version=ingest_state.c.layout_version + 1)
        )

    def upsert_sales(
        self, rows: Sequence[SalesRow], name_key: Callable[[str], str], resolve: Callable[[str], str | None]
    ) -> UpsertCounts:
        """Store one batch of valid rows; see :meth:`upsert_sales_batches`."""
        return self.upsert_sales_batches([rows], name_key, resolve)[0]

    def upsert_sales_batches(
        self,
        batches: Sequence[Sequence[SalesRow]],
        name_key: Callable[[str], str],
        resolve: Callable[[str], str | None],
    ) -> list[UpsertCounts]:
        """Store several batches in one transaction, with the outcome of posting them one after the other.

        Last write wins per ``(year_week, vegetable)`` key, also within a batch. ``name_key``
        normalizes a name for alias lookup; ``resolve`` maps a name to its canonical vegetable or
        None; operator aliases take precedence over ``resolve``. The derived layers the rows touch
        are refreshed once, in the same transaction. Returns the counts of each batch, in order.
        """
        results, change = self.write_sales_batches(batches, name_key, resolve)
        self.apply_committed(change)
        return results

    def apply_committed(self, change: CommittedChange | None) -> None:
        """Push what a writer committed (in this process or the writer process) into this store's read caches."""
        if change is None:
            return
        self._raw_cache.push(change.version, change.layout_version, change.raw)
        self._monthly_cache.push(change.version, change.layout_version, change.monthly)
        self._regular_monthly_cache.push(change.version, change.layout_version, change.regular_monthly)

    def write_sales_batches(
        self,
        batches: Sequence[Sequence[SalesRow]],
        name_key: Callable[[str], str],
        resolve: Callable[[str], str | None],
    ) -> tuple[list[UpsertCounts], CommittedChange | None]:
        """:meth:`upsert_sales_batches` without touching the read caches: the counts, and what was committed.

        The change is None when nothing was written or readers must reload (a month disappeared).
        """
        keys = list(dict.fromkeys((row.year_week, row.vegetable) for batch in batches for row in batch))
        if not keys:
            return [UpsertCounts(0, 0, 0) for _ in batches], None
        names = {vegetable: name_key(vegetable) for _, vegetable in keys}
        with self._writing() as connection:
            version, layout_version = self._next_version(connection)
            state = self._existing_raw(connection, keys)
            aliases = self._aliases_for(connection, set(names.values()))
            canonical_of = {vegetable: aliases.get(key) or resolve(vegetable) for vegetable, key in names.items()}
            to_write: dict[tuple[int, str], dict] = {}
            touched: set[tuple[int, str]] = set()
            results = []
            for batch in batches:
                inserted = updated = unchanged = 0
                for (year_week, vegetable), sales in {
                    (row.year_week, row.vegetable): row.sales for row in batch
                }.items():
                    canonical = canonical_of[vegetable]
                    previous = state.get((year_week, vegetable))
                    if previous is None:
                        inserted += 1
                    elif previous == (sales, canonical):
                        unchanged += 1
                        continue
                    else:
                        updated += 1
                        if previous[1] is not None:
                            touched.add((year_week, previous[1]))
                    state[(year_week, vegetable)] = (sales, canonical)
                    to_write[(year_week, vegetable)] = {
                        "year_week": year_week,
                        "vegetable": vegetable,
                        "sales": sales,
                        "name_key": names[vegetable],
                        "canonical": canonical,
                        "version": version,
                    }
                    if canonical is not None:
                        touched.add((year_week, canonical))
                results.append(UpsertCounts(inserted, updated, unchanged))
            _upsert(
                connection,
                raw_sales,
                list(to_write.values()),
                ["year_week", "vegetable"],
                ["sales", "name_key", "canonical", "version"],
            )
            monthly_changes = self._refresh_derived(connection, touched, version)
        if monthly_changes is None:
            return results, None
        monthly, regular_monthly = monthly_changes
        raw = [(row["year_week"], row["vegetable"], row["sales"]) for row in to_write.values()]
        return results, CommittedChange(version, layout_version, raw, monthly, regular_monthly)

    def add_alias(self, alias_key: str, vegetable: str) -> int:
        """Map a name key to ``vegetable`` for past and future rows; returns how many raw rows it re-mapped."""
        with self._writing() as connection:
            version, _ = self._next_version(connection)
            _upsert(
                connection, vegetable_aliases, [{"alias": alias_key, "vegetable": vegetable}], ["alias"], ["vegetable"]
            )
            affected = connection.execute(
                select(raw_sales.c.year_week, raw_sales.c.canonical).where(raw_sales.c.name_key == alias_key)
            ).all()
            connection.execute(raw_sales.update().where(raw_sales.c.name_key == alias_key).values(canonical=vegetable))
            touched = {(week, vegetable) for week, _ in affected}
            touched |= {(week, old) for week, old in affected if old is not None}
            self._refresh_derived(connection, touched, version)
        return len(affected)

    def _existing_raw(self, connection: Connection, keys: list[tuple[int, str]]) -> dict:
        rows = _rows_for_keys(connection, _EXISTING_RAW, keys)
        return {(year_week, vegetable): (sales, canonical) for year_week, vegetable, sales, canonical in rows}

    def _aliases_for(self, connection: Connection, name_keys: Iterable[str]) -> dict[str, str]:
        aliases = {}
        for chunk in _chunks(sorted(name_keys)):
            query = select(vegetable_aliases.c.alias, vegetable_aliases.c.vegetable)
            aliases.update(connection.execute(query.where(vegetable_aliases.c.alias.in_(chunk))).all())
        return aliases

    def _refresh_derived(
        self, connection: Connection, touched: set[tuple[int, str]], version: int
    ) -> tuple[list[tuple], list[tuple]] | None:
        """Recompute the weekly rows, months and vegetable statistics that the touched keys feed.

        Returns the monthly rows written, ``(year_month, vegetable, sales)``, of both monthly layers, or
        None when a month disappeared (then readers reload instead).
        """
        if not touched:
            return [], []
        weeks = sorted({year_week for year_week, _ in touched})
        _insert_missing(
            connection,
            week_month_split,
            [
                {"year_week": week, "year_month": month, "days": days}
                for week in weeks
                for month, days in days_per_month(week)
            ],
            ["year_week", "year_month"],
        )
        # Upserted, not replaced: a week keeps its outlier flag until the flags are re-judged below.
        totals = _rows_for_keys(connection, _RAW_TOTALS, sorted(touched))
        _upsert(
            connection,
            weekly_sales,
            [{"year_week": week, "vegetable": vegetable, "sales": sales} for week, vegetable, sales in totals],
            ["year_week", "vegetable"],
            ["sales"],
        )
        emptied = touched - {(week, vegetable) for week, vegetable, _ in totals}
        if emptied:
            connection.execute(
                weekly_sales.delete().where(
                    weekly_sales.c.year_week == bindparam("week"), weekly_sales.c.vegetable == bindparam("name")
                ),
                [{"week": week, "name": vegetable} for week, vegetable in sorted(emptied)],
            )
        vegetables = sorted({vegetable for _, vegetable in touched})
        statistics = self._refresh_stats(connection, vegetables)
        flipped = self._refresh_outlier_flags(connection, vegetables, statistics)
        vanished, written = self._refresh_months(connection, touched | flipped, version)
        if vanished:
            self._layout_changed(connection)
            return None
        return written[monthly_sales.name], written[regular_monthly_sales.name]

    def _refresh_months(
        self, connection: Connection, weeks: set[tuple[int, str]], version: int
    ) -> tuple[bool, dict[str, list[tuple]]]:
        """Recompute both monthly layers for the months the (week, vegetable) keys overlap.

        Reads only the weekly rows of those months (primary-key lookups) and sums them here: a month's
        sales are Σ sales × days / 7 over its weeks, summed with ``math.fsum`` (exactly rounded, so the
        result does not depend on row order). Returns whether a month disappeared from either layer,
        and the rows written to each table, ``(year_month, vegetable, sales)``.
        """
        months = {(month, vegetable) for week, vegetable in weeks for month, _ in days_per_month(week)}
        needed = sorted({(week, vegetable) for month, vegetable in months for week in weeks_overlapping_month(month)})
        every: dict[tuple[int, str], list[float]] = {key: [] for key in months}
        regular: dict[tuple[int, str], list[float]] = {key: [] for key in months}
        for year_week, vegetable, sales, outlier in _rows_for_keys(connection, _WEEKLY_ROWS, needed):
            for month, days in days_per_month(year_week):
                if (month, vegetable) in every:
                    every[(month, vegetable)].append(sales * days)
                    if not outlier:
                        regular[(month, vegetable)].append(sales * days)
        vanished = False
        written: dict[str, list[tuple]] = {}
        for table, terms in ((monthly_sales, every), (regular_monthly_sales, regular)):
            present = [
                {"year_month": month, "vegetable": vegetable, "sales": math.fsum(values) / 7, "version": version}
                for (month, vegetable), values in sorted(terms.items())
                if values
            ]
            _upsert(connection, table, present, ["year_month", "vegetable"], ["sales", "version"])
            written[table.name] = [(row["year_month"], row["vegetable"], row["sales"]) for row in present]
            gone = sorted(key for key, values in terms.items() if not values)
            for chunk in _chunks(gone):
                deleted = connection.execute(
                    table.delete().where(tuple_(table.c.year_month, table.c.vegetable).in_(chunk))
                )
                vanished = vanished or deleted.rowcount > 0
        return vanished, written

    def _refresh_outlier_flags(
        self, connection: Connection, vegetables: list[str], statistics: dict[str, tuple[float, float | None]]
    ) -> set[tuple[int, str]]:
        """Re-judge the vegetables' weeks against their new statistics; returns the weeks whose flag changed.

        Only candidates are read: weeks flagged now (a partial index) and unflagged weeks beyond the
        vegetable's band (a range scan on ``(vegetable, sales)``); :func:`is_outlier` decides on each.
        """
        week = weekly_sales.c
        threshold = self.outlier_std_threshold
        flips: list[dict] = []
        for chunk in _chunks(vegetables):
            flagged = select(week.year_week, week.vegetable, week.sales).where(
                week.is_outlier, week.vegetable.in_(chunk)
            )
            for year_week, vegetable, sales in connection.execute(flagged):
                mean, variance = statistics.get(vegetable, (0.0, None))
                if not is_outlier(sales, mean, variance, threshold):
                    flips.append({"week": year_week, "name": vegetable, "flag": False})
        bands = [
            (vegetable, *candidate_bounds(mean, variance, threshold))
            for vegetable, (mean, variance) in sorted(statistics.items())
            if variance is not None
        ]
        for year_week, vegetable, sales in _rows_for_keys(connection, _UNFLAGGED_BEYOND_BAND, bands):
            mean, variance = statistics[vegetable]
            if is_outlier(sales, mean, variance, threshold):
                flips.append({"week": year_week, "name": vegetable, "flag": True})
        if flips:
            connection.execute(
                weekly_sales.update()
                .where(week.year_week == bindparam("week"), week.vegetable == bindparam("name"))
                .values(is_outlier=bindparam("flag")),
                flips,
            )
        return {(flip["week"], flip["name"]) for flip in flips}

    def _refresh_stats(self, connection: Connection, vegetables: list[str]) -> dict[str, tuple[float, float | None]]:
        """Recompute the vegetables' mean and sample variance (two passes, exact); returns them."""
        statistics: dict[str, tuple[float, float | None]] = {}
        for chunk in _chunks(vegetables):
            rows = _rows_for_keys(connection, _VEGETABLE_STATS, [(vegetable,) for vegetable in chunk])
            connection.execute(vegetable_stats.delete().where(vegetable_stats.c.vegetable.in_(chunk)))
            fresh = [
                {
                    "vegetable": vegetable,
                    "weeks": weeks,
                    "mean": float(mean),
                    "variance": sample_variance(weeks, float(squares)),
                }
                for vegetable, weeks, mean, squares in rows
            ]
            if fresh:
                connection.execute(vegetable_stats.insert(), fresh)
            statistics.update({row["vegetable"]: (row["mean"], row["variance"]) for row in fresh})
        return statistics

    # -- reads --------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[tuple[Connection, int, int]]:
        """A read snapshot and the write version and layout version it reflects."""
        with self.read_engine.connect() as connection:
            version, layout_version = connection.execute(
                select(ingest_state.c.version, ingest_state.c.layout_version).where(ingest_state.c.id == 1)
            ).one()
            yield connection, version, layout_version

    def _probe_versions(self) -> tuple[int, int] | None:
        """The current (version, layout_version) through this thread's own SQLite connection; None elsewhere.

        A plain autocommit ``sqlite3`` connection per reading thread answers in microseconds, where a
        pooled SQLAlchemy transaction costs a checkout, BEGIN and ROLLBACK: most reads find their cache
        current and stop here. PostgreSQL reads keep the snapshot path of :meth:`_reading`.
        """
        if self._sqlite_path is None:
            return None
        probe = getattr(self._probes, "connection", None)
        if probe is None:
            probe = sqlite3.connect(self._sqlite_path, isolation_level=None, check_same_thread=False, timeout=30)
            self._probes.connection = probe
            with self._probes_lock:
                self._probe_connections.append(probe)
        return probe.execute(_VERSIONS_QUERY).fetchone()

    def data_version(self) -> tuple[int, int]:
        """(write version, layout version): changes whenever any stored row changes; microseconds on SQLite.

        Consumers that derive something from the tables (the forecasting catalog) rebuild it only when this moves.
        """
        versions = self._probe_versions()
        if versions is not None:
            return int(versions[0]), int(versions[1])
        with self._reading() as (_, version, layout_version):
            return int(version), int(layout_version)

    def _json_if_current(self, cache: VersionedRowsCache) -> bytes | None:
        versions = self._probe_versions()
        return None if versions is None else cache.json_if_current(*versions)

    def _cached_json(self, cache: VersionedRowsCache) -> bytes:
        current = self._json_if_current(cache)
        if current is not None:
            return current
        with self._reading() as (connection, version, layout_version):
            return cache.json(connection, version, layout_version)

    def raw_sales_json(self) -> bytes:
        """Every row as received, ordered by (year_week, vegetable), as a JSON array."""
        return self._cached_json(self._raw_cache)

    def json_if_current(self, layer: str) -> bytes | None:
        """A layer's cached JSON (``raw``, ``monthly``, ``regular_monthly``) when a quick probe shows it current.

        Cheap enough for an event loop on SQLite (no pool, no transaction); None means "ask the
        blocking method" (``raw_sales_json`` / ``monthly_sales_json``), always so on PostgreSQL.
        """
        return self._json_if_current(self._caches[layer])

    def raw_sales(self) -> list[dict]:
        """Every row as received, ordered by (year_week, vegetable)."""
        return orjson.loads(self.raw_sales_json())

    def weekly_sales(self, *, with_outlier_flag: bool = False, remove_outliers: bool = False) -> list[dict]:
        """Cleaned weekly sales ordered by (year_week, vegetable), optionally flagged or without outliers."""
        query = select(
            weekly_sales.c.year_week, weekly_sales.c.vegetable, weekly_sales.c.sales, weekly_sales.c.is_outlier
        )
        if remove_outliers:
            query = query.where(sa.not_(weekly_sales.c.is_outlier))
        with self.read_engine.connect() as connection:
            rows = sorted(connection.execute(query))  # code-point order, as every read, on every backend
        if with_outlier_flag:
            return [
                {"year_week": week, "vegetable": vegetable, "sales": sales, "is_outlier": bool(flag)}
                for week, vegetable, sales, flag in rows
            ]
        return [{"year_week": week, "vegetable": vegetable, "sales": sales} for week, vegetable, sales, _ in rows]

    def monthly_sales_json(self, *, remove_outliers: bool = False) -> bytes:
        """Monthly sales ordered by (year_month, vegetable) as a JSON array; see :meth:`monthly_sales_rows`."""
        return self._cached_json(self._regular_monthly_cache if remove_outliers else self._monthly_cache)

    def monthly_sales_rows(self, *, remove_outliers: bool = False) -> list[dict]:
        """Monthly sales ordered by (year_month, vegetable); with ``remove_outliers``, outlier weeks left out.

        Both forms are maintained on write, so a read serves them from memory once current.
        """
        return orjson.loads(self.monthly_sales_json(remove_outliers=remove_outliers))

    def monthly_sales(self, remove_outliers: bool = False) -> pd.DataFrame:
        """Monthly sales as a DataFrame: ``year_month`` (int YYYYMM), ``vegetable`` (str), ``sales`` (float)."""
        import pandas as pd  # here, not at the top: the writer process never needs it (a second of start-up)

        rows = self.monthly_sales_rows(remove_outliers=remove_outliers)
        frame = pd.DataFrame(rows, columns=["year_month", "vegetable", "sales"])
        return frame.astype({"year_month": "int64", "sales": "float64"})

    def unknown_vegetables(self) -> list[dict]:
        """Names that resolved to no vegetable: name as sent, number of rows, total sales; most sales first."""
        query = (
            select(raw_sales.c.vegetable, func.count().label("rows"), func.sum(raw_sales.c.sales).label("total"))
            .where(raw_sales.c.canonical.is_(None))
            .group_by(raw_sales.c.vegetable)
            .order_by(sa.desc("total"), raw_sales.c.vegetable)
        )
        with self.read_engine.connect() as connection:
            return [
                {"name": name, "rows": count, "total_sales": float(total)}
                for name, count, total in connection.execute(query)
            ]

    def aliases(self) -> dict[str, str]:
        with self.read_engine.connect() as connection:
            return dict(connection.execute(select(vegetable_aliases.c.alias, vegetable_aliases.c.vegetable)).all())
