"""Group commit: concurrent posts share one write transaction (and one fsync).

Writers are serialized anyway (one SQLite writer; one PostgreSQL advisory lock), so instead of
queueing on the lock, each post joins a queue and one writer thread commits everything waiting as a
single transaction, then acknowledges every post in it. Each post still gets its own counts, as if
posted alone in arrival order. Under load this turns hundreds of small transactions per second into
a few larger ones; with one client it behaves exactly like a direct write.

One post's rows can still make the shared transaction fail (a value or constraint the database
refuses). Then each post of the group is committed alone, in arrival order: the posts alongside are
stored and acknowledged, and only the one at fault gets the error. A database that cannot write at all
(down, locked, writer gone) fails the whole group at once: retrying alone could not help.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from salescast.ingest.schema import SalesRow
from salescast.ingest.store import StorageError, UpsertCounts, write_failure_kind

logger = logging.getLogger(__name__)

_STOP = object()


class WriterClosed(StorageError):
    """The writer was shut down; the post was not stored."""


class GroupCommitWriter:
    """One background thread that stores queued batches together; :meth:`submit` returns a future.

    ``commit`` stores a list of batches in one transaction and returns each batch's counts
    (:meth:`SalesStore.upsert_sales_batches` with its name functions bound, or
    :meth:`WriterProcess.commit`).
    """

    def __init__(
        self,
        commit: Callable[[list[Sequence[SalesRow]]], list[UpsertCounts]],
        max_rows_per_commit: int = 20_000,
    ) -> None:
        self._commit_batches = commit
        self._max_rows = max_rows_per_commit
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="salescast-group-commit", daemon=True)
        self._thread.start()

    def submit(self, rows: Sequence[SalesRow]) -> Future[UpsertCounts]:
        """Queue ``rows`` for the next commit; the future resolves once they are committed."""
        future: Future[UpsertCounts] = Future()
        if self._closed:
            future.set_exception(WriterClosed("the ingestion writer is shut down"))
            return future
        self._queue.put((rows, future))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            pending = [item]
            rows = len(item[0])
            stop_after = False
            while rows < self._max_rows:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                pending.append(item)
                rows += len(item[0])
            self._commit(pending)
            if stop_after:
                return

    def _commit(self, pending: list[tuple[Sequence[SalesRow], Future]]) -> None:
        try:
            results = self._commit_batches([rows for rows, _ in pending])
        except BaseException as error:  # every waiting post learns it was not stored
            kind = write_failure_kind(error)
            if len(pending) > 1 and kind != "unavailable" and isinstance(error, Exception):
                # Something in one post's rows: commit each post alone, so only the post at fault fails.
                logger.warning("group commit of %d posts failed (%s); committing each alone", len(pending), error)
                for post in pending:
                    self._commit([post])
                return
            if kind == "data":
                logger.warning("the database refused a post's rows: %s", error)
            else:
                logger.exception("commit of %d post(s) failed", len(pending))
            for _, future in pending:
                future.set_exception(error)
            return
        for (_, future), counts in zip(pending, results, strict=True):
            future.set_result(counts)
