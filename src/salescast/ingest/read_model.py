"""In-process read models: a table's rows kept as ready JSON, refreshed with only what changed.

Every write transaction takes the next number of a global ``version`` (in ``ingest_state``) and
stamps the rows it writes with it. A reader compares the version it last saw with the current
one: equal means its cached JSON is current; greater means it fetches only the rows stamped since.
A write that deletes rows (an alias moving sales away, ``init_database``) also moves
``layout_version``, and the next read reloads the table. A writer in the same process also pushes
what it committed straight into the cache (:meth:`VersionedRowsCache.push`), so with one server
process most reads find the cache current. So a read costs at most one indexed query, never a
recomputation of the whole history, and always reflects every write acknowledged before it started.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence

import orjson
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection


class VersionedRowsCache:
    """The rows of ``table`` ordered by ``key_columns`` (code-point order on every backend), as JSON."""

    def __init__(self, table: Table, key_columns: Sequence[str], value_columns: Sequence[str]) -> None:
        self._table = table
        self._columns = [*key_columns, *value_columns]
        self._key_width = len(key_columns)
        self._lock = threading.Lock()
        self._version = -1
        self._layout_version = -1
        self._rows: dict[tuple, dict] = {}
        self._order: list[tuple] = []  # the keys, sorted
        self._fragments: list[bytes] = []  # each row's JSON, in the order of ``_order``
        self._json: bytes | None = None
        self._row_list: list[dict] | None = None

    def json(self, connection: Connection, version: int, layout_version: int) -> bytes:
        """The JSON array as of ``version``; ``connection`` must see that version's snapshot."""
        with self._lock:
            self._catch_up(connection, version, layout_version)
            return self._joined()

    def json_if_current(self, version: int, layout_version: int) -> bytes | None:
        """The cached JSON array if it already reflects ``version``, else None (no database access)."""
        with self._lock:
            if self._version < version or self._layout_version != layout_version:
                return None
            return self._joined()

    def _joined(self) -> bytes:
        if self._json is None:
            self._json = b"[" + b",".join(self._fragments) + b"]"
        return self._json

    def push(self, version: int, layout_version: int, rows: Iterable[Sequence]) -> None:
        """Apply the rows a writer of this process committed as ``version``, if nothing else came between.

        Only when the cache stands exactly at ``version - 1`` in the same layout: versions are
        consecutive across every process, so then ``rows`` is the whole change. Otherwise (another
        process wrote in between, a reader already caught up, rows vanished) the next read pulls.
        """
        with self._lock:
            if self._version != version - 1 or self._layout_version != layout_version:
                return
            for values in rows:
                self._store(values)
            self._version = version
            self._json = self._row_list = None

    def rows(self, connection: Connection, version: int, layout_version: int) -> list[dict]:
        """The rows as of ``version``, in order (shared: do not modify them)."""
        with self._lock:
            self._catch_up(connection, version, layout_version)
            if self._row_list is None:
                self._row_list = [self._rows[key] for key in self._order]
            return self._row_list

    def _catch_up(self, connection: Connection, version: int, layout_version: int) -> None:
        if version <= self._version:
            return
        if layout_version != self._layout_version:
            self._reload(connection)
        else:
            self._apply_changes(connection)
        self._version, self._layout_version = version, layout_version
        # Built again only when asked for: a read of one form does not pay for the other.
        self._json = self._row_list = None

    def _select(self):
        return select(*(self._table.c[name] for name in self._columns))

    def _reload(self, connection: Connection) -> None:
        self._rows = {
            tuple(values[: self._key_width]): self._row(values) for values in connection.execute(self._select())
        }
        self._order = sorted(self._rows)
        self._fragments = [orjson.dumps(self._rows[key]) for key in self._order]

    def _apply_changes(self, connection: Connection) -> None:
        changed = connection.execute(self._select().where(self._table.c.version > self._version)).all()
        for values in changed:
            self._store(values)

    def _row(self, values) -> dict:
        return dict(zip(self._columns, values, strict=True))

    def _store(self, values) -> None:
        """Keep one row, new or replacing the one with its key, in key order."""
        key = tuple(values[: self._key_width])
        row = self._row(values)
        position = bisect.bisect_left(self._order, key)
        if key in self._rows:
            self._fragments[position] = orjson.dumps(row)
        else:
            self._order.insert(position, key)
            self._fragments.insert(position, orjson.dumps(row))
        self._rows[key] = row
