"""The ingestion writer in a process of its own, so committing never competes with HTTP for the GIL.

In one process the group-commit thread and the event loop share one interpreter lock: each SQL
statement releases it and then waits for the event loop to hand it back, so a commit's wall time
grows with the request load. Here a child process (forked from a clean ``forkserver``: no threads
or connections inherited) owns a store of its own and runs every write transaction; the server
sends it the batches through a pipe and gets back the counts and the rows committed, which it
pushes into its own read caches.
A post is still acknowledged only after the child has committed it. If the server dies, the child
sees the pipe close and exits; if the child dies, the posts waiting on it fail and a new child is
started for the next commit.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import pickle
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection

from salescast.ingest.schema import SalesRow
from salescast.ingest.store import RowsRefused, SalesStore, StorageError, UpsertCounts, write_failure_kind

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 60.0


class WriterProcessError(StorageError):
    """The writer process failed in a way that cannot be passed back as the original exception."""


def _picklable(error: BaseException) -> BaseException:
    """``error`` if it crosses the pipe intact, else one of ours that keeps its kind (see ``write_failure_kind``)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        stand_in = RowsRefused if write_failure_kind(error) == "data" else WriterProcessError
        return stand_in(f"{type(error).__name__}: {error}")
    return error


def _serve_writes(
    connection: Connection,
    database_url: str,
    sqlite_synchronous: str,
    outlier_std_threshold: float,
    name_key: Callable[[str], str],
    resolve: Callable[[str], str | None],
) -> None:
    """The child's loop: receive a list of batches, commit them, answer ``("ok", counts, change)``."""
    # Ctrl-C reaches the whole process group; the server decides when the writer stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    store = SalesStore(database_url, sqlite_synchronous=sqlite_synchronous, outlier_std_threshold=outlier_std_threshold)
    gc.freeze()  # the imported libraries and the store live as long as the process: never scan them
    connection.send(("ready",))
    try:
        while True:
            try:
                batches = connection.recv()
            except EOFError:  # the server is gone: no post is waiting for an answer
                return
            if batches is None:
                return
            try:
                results, change = store.write_sales_batches(batches, name_key, resolve)
            except Exception as error:
                connection.send(("error", _picklable(error)))
            else:
                connection.send(("ok", results, change))
    finally:
        store.dispose()


class WriterProcess:
    """Commits batches for ``store`` in a child process; :meth:`commit` is called from one thread at a time."""

    def __init__(self, store: SalesStore, name_key: Callable[[str], str], resolve: Callable[[str], str | None]) -> None:
        self._store = store
        self._name_key = name_key
        self._resolve = resolve
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._start()

    def _start(self) -> None:
        # forkserver: one clean single-threaded process imports this module once and forks each child
        # from it — no threads or connections inherited (fork of the server would copy both), and a
        # child costs milliseconds instead of the second a spawn spends importing SQLAlchemy.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve_writes,
            args=(
                child_end,
                self._store.database_url,
                self._store.sqlite_synchronous,
                self._store.outlier_std_threshold,
                self._name_key,
                self._resolve,
            ),
            name="salescast-writer",
        )
        self._process.start()
        child_end.close()  # only the child holds that end: its death closes the pipe for us
        # Wait until it can write: a server that answers /health must be able to store a post.
        try:
            ready = self._connection.poll(STARTUP_TIMEOUT_S) and self._connection.recv()
        except EOFError:
            ready = None
        if ready != ("ready",):
            code = self._stop_child(timeout=1.0)
            raise StorageError(f"the ingestion writer process did not start (exit code {code}); see the log above")

    @property
    def pid(self) -> int | None:
        """The child's process id (None between a crash and the next commit)."""
        return self._process.pid if self._process is not None else None

    def commit(self, batches: Sequence[Sequence[SalesRow]]) -> list[UpsertCounts]:
        """Commit ``batches`` in one transaction in the child; each batch's counts, as ``upsert_sales_batches``."""
        if self._process is None:  # the last child died: start another
            self._start()
        try:
            self._connection.send([list(batch) for batch in batches])
            reply = self._connection.recv()
        except (EOFError, OSError) as error:
            code = self._stop_child(timeout=1.0)
            raise StorageError(
                f"the ingestion writer process died (exit code {code}); nothing was acknowledged"
            ) from error
        if reply[0] == "error":
            raise reply[1]
        _, results, change = reply
        self._store.apply_committed(change)
        return results

    def close(self, timeout: float = 30.0) -> None:
        """Let the child finish and exit."""
        if self._process is None:
            return
        with contextlib.suppress(OSError):  # the child may already be gone
            self._connection.send(None)
        self._stop_child(timeout)

    def _stop_child(self, timeout: float) -> int | None:
        """Wait for the child to exit (terminate it after ``timeout``), reap it, close our end; its exit code."""
        self._process.join(timeout)
        if self._process.is_alive():
            logger.warning("the ingestion writer process did not exit in %.0f s; terminating it", timeout)
            self._process.terminate()
            self._process.join(5)
        self._connection.close()
        code = self._process.exitcode
        self._process = None
        return code
