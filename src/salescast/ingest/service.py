"""What the HTTP routes and the CLI call: the ingestion use cases over a :class:`SalesStore`."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from salescast.ingest.names import name_key, resolve_vegetable_name
from salescast.ingest.schema import PostSalesResult, name_problem, validate_sales_rows
from salescast.ingest.store import SalesStore, UpsertCounts, write_failure_kind
from salescast.ingest.writer import GroupCommitWriter
from salescast.ingest.writer_process import WriterProcess
from salescast.settings import get_settings

logger = logging.getLogger(__name__)

# Validating this many rows takes long enough to be worth moving off the event loop.
LARGE_BATCH_ROWS = 1000


class InvalidPayload(ValueError):
    """The request body as a whole cannot be used (not a list of rows, an unusable alias, …)."""


class BatchRefused(ValueError):
    """The database refused this post's rows although they passed validation; nothing of the post was stored."""


class StorageUnavailable(RuntimeError):
    """The database cannot store posts right now (down, locked, shutting down); nothing was stored: retry."""


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:limit]


def _storage_failure(error: Exception, what: str = "this batch") -> Exception:
    """The domain error a failed write means for its request (``error`` itself when it is a bug)."""
    kind = write_failure_kind(error)
    if kind == "data":
        return BatchRefused(f"the database refused {what}, nothing of it was stored: {_first_line(error)}")
    if kind == "unavailable":
        return StorageUnavailable(f"the database cannot write right now, nothing was stored: {_first_line(error)}")
    return error


class IngestService:
    """Validates, resolves and stores the weekly feed, and answers the three layers' reads."""

    def __init__(self, store: SalesStore, *, writer_process: bool = False, max_sales: float | None = None) -> None:
        """``writer_process``: commit in a child process (the server's choice, see :mod:`writer_process`);
        ``max_sales``: the largest sales a row may carry (default: the settings' ``max_sales``)."""
        self.store = store
        self.max_sales = get_settings().max_sales if max_sales is None else max_sales
        self._writer_process = WriterProcess(store, name_key, resolve_vegetable_name) if writer_process else None
        commit = (
            self._writer_process.commit
            if self._writer_process
            else partial(store.upsert_sales_batches, name_key=name_key, resolve=resolve_vegetable_name)
        )
        self.writer = GroupCommitWriter(commit)

    def close(self) -> None:
        """Commit queued posts, stop the writer and release the database connections."""
        self.writer.close()
        if self._writer_process is not None:
            self._writer_process.close()
        self.store.dispose()

    def post_sales(self, payload: Any) -> PostSalesResult:
        """Store the valid rows of ``payload`` (a list of row objects) and report what happened to each.

        Returns once the rows are committed. Raises :class:`BatchRefused` when the database refuses the
        rows and :class:`StorageUnavailable` when it cannot write; in both cases nothing was stored.
        """
        valid, rejected = self._validate(payload)
        try:
            counts = self.writer.submit(valid).result() if valid else UpsertCounts(0, 0, 0)
        except Exception as error:
            raise _storage_failure(error) from error
        return self._result(counts, rejected, len(payload))

    async def post_sales_async(self, payload: Any) -> PostSalesResult:
        """:meth:`post_sales` for the event loop: waits for the commit without holding a thread."""
        if isinstance(payload, list) and len(payload) > LARGE_BATCH_ROWS:
            valid, rejected = await asyncio.to_thread(self._validate, payload)
        else:
            valid, rejected = self._validate(payload)
        try:
            counts = await asyncio.wrap_future(self.writer.submit(valid)) if valid else UpsertCounts(0, 0, 0)
        except Exception as error:
            raise _storage_failure(error) from error
        return self._result(counts, rejected, len(payload))

    def _validate(self, payload: Any) -> tuple[list, list]:
        if not isinstance(payload, list):
            raise InvalidPayload(
                f"expected a JSON list of {{year_week, vegetable, sales}} objects, got {type(payload).__name__}"
            )
        return validate_sales_rows(payload, self.max_sales)

    @staticmethod
    def _result(counts: UpsertCounts, rejected: list, posted: int) -> PostSalesResult:
        if rejected:
            logger.info("rejected %d of %d posted rows", len(rejected), posted)
        return PostSalesResult(
            inserted=counts.inserted,
            updated=counts.updated,
            unchanged=counts.unchanged,
            rejected=len(rejected),
            errors=rejected,
        )

    def raw_sales(self) -> list[dict]:
        return self.store.raw_sales()

    def raw_sales_json(self) -> bytes:
        return self.store.raw_sales_json()

    async def raw_sales_json_async(self) -> bytes:
        """The raw layer's JSON without leaving the event loop when the cache is current (SQLite)."""
        return self.store.json_if_current("raw") or await asyncio.to_thread(self.store.raw_sales_json)

    def weekly_sales(self, *, with_outlier_flag: bool = False, remove_outliers: bool = False) -> list[dict]:
        return self.store.weekly_sales(with_outlier_flag=with_outlier_flag, remove_outliers=remove_outliers)

    def monthly_sales(self, *, remove_outliers: bool = False) -> list[dict]:
        return self.store.monthly_sales_rows(remove_outliers=remove_outliers)

    def monthly_sales_json(self, *, remove_outliers: bool = False) -> bytes:
        return self.store.monthly_sales_json(remove_outliers=remove_outliers)

    async def monthly_sales_json_async(self, *, remove_outliers: bool = False) -> bytes:
        """The monthly layer's JSON without leaving the event loop when the cache is current (SQLite)."""
        current = self.store.json_if_current("regular_monthly" if remove_outliers else "monthly")
        return current or await asyncio.to_thread(self.store.monthly_sales_json, remove_outliers=remove_outliers)

    def unknown_vegetables(self) -> list[dict]:
        return self.store.unknown_vegetables()

    def add_alias(self, alias: str, vegetable: str) -> dict:
        """Map ``alias`` (matched on its normalized form) to a vegetable, for past and future rows.

        ``vegetable`` may be any known name of a vegetable in any language (``"tomate"`` means
        ``tomato``); a name the lexicon does not know becomes a new canonical vegetable, lowercased.
        """
        for field, name in (("alias", alias), ("vegetable", vegetable)):
            if problem := name_problem(name):
                raise InvalidPayload(f"{field}: {problem}")
        alias_key, target_key = name_key(alias), name_key(vegetable)
        canonical = resolve_vegetable_name(vegetable)
        try:
            remapped = self.store.add_alias(alias_key, canonical or target_key)
        except Exception as error:
            raise _storage_failure(error, "this alias") from error
        logger.info("alias %r -> %r re-mapped %d raw rows", alias_key, canonical or target_key, remapped)
        return {
            "alias": alias_key,
            "vegetable": canonical or target_key,
            "known_vegetable": canonical is not None,
            "rows_remapped": remapped,
        }

    def init_database(self) -> None:
        """Create the schema if missing and empty every sales table."""
        self.store.migrate()
        self.store.reset()
        logger.warning("sales tables emptied by init_database")
