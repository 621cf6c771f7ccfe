"""What the HTTP routes and the CLI call: the ingestion use cases over a :class:`SalesStore`."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from salescast.ingest.names import normalize_name, resolve_vegetable_name
from salescast.ingest.schema import PostSalesResult, validate_sales_rows
from salescast.ingest.store import SalesStore, UpsertCounts
from salescast.ingest.writer import GroupCommitWriter
from salescast.ingest.writer_process import WriterProcess

logger = logging.getLogger(__name__)

# Validating this many rows takes long enough to be worth moving off the event loop.
LARGE_BATCH_ROWS = 1000


class InvalidPayload(ValueError):
    """The request body as a whole cannot be used (not a list of rows, an unusable alias, …)."""


class IngestService:
    """Validates, resolves and stores the weekly feed, and answers the three layers' reads."""

    def __init__(self, store: SalesStore, *, writer_process: bool = False) -> None:
        """``writer_process``: commit in a child process (the server's choice, see :mod:`writer_process`)."""
        self.store = store
        self._writer_process = WriterProcess(store, normalize_name, resolve_vegetable_name) if writer_process else None
        commit = (
            self._writer_process.commit
            if self._writer_process
            else partial(store.upsert_sales_batches, name_key=normalize_name, resolve=resolve_vegetable_name)
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

        Returns once the rows are committed.
        """
        valid, rejected = self._validate(payload)
        counts = self.writer.submit(valid).result() if valid else UpsertCounts(0, 0, 0)
        return self._result(counts, rejected, len(payload))

    async def post_sales_async(self, payload: Any) -> PostSalesResult:
        """:meth:`post_sales` for the event loop: waits for the commit without holding a thread."""
        if isinstance(payload, list) and len(payload) > LARGE_BATCH_ROWS:
            valid, rejected = await asyncio.to_thread(self._validate, payload)
        else:
            valid, rejected = self._validate(payload)
        counts = await asyncio.wrap_future(self.writer.submit(valid)) if valid else UpsertCounts(0, 0, 0)
        return self._result(counts, rejected, len(payload))

    def _validate(self, payload: Any) -> tuple[list, list]:
        if not isinstance(payload, list):
            raise InvalidPayload(
                f"expected a JSON list of {{year_week, vegetable, sales}} objects, got {type(payload).__name__}"
            )
        return validate_sales_rows(payload)

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
        alias_key, target_key = normalize_name(alias), normalize_name(vegetable)
        if not alias_key:
            raise InvalidPayload("alias: empty or blank")
        if not target_key:
            raise InvalidPayload("vegetable: empty or blank")
        canonical = resolve_vegetable_name(vegetable)
        remapped = self.store.add_alias(alias_key, canonical or target_key)
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
