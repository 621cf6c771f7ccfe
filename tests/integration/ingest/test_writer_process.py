"""The writer process: crash recovery and no orphan (its group commits and errors: test_group_commit)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from salescast.ingest.names import normalize_name, resolve_vegetable_name
from salescast.ingest.schema import SalesRow
from salescast.ingest.store import StorageError
from salescast.ingest.writer_process import WriterProcess


@pytest.fixture
def writer_process(store):
    process = WriterProcess(store, normalize_name, resolve_vegetable_name)
    yield process
    process.close()


def test_a_dead_child_fails_the_waiting_commit_and_a_new_child_takes_the_next(store, writer_process):
    assert writer_process.commit([[SalesRow(0, 202001, "tomato", 1.0)]])[0].inserted == 1
    first = writer_process.pid
    os.kill(first, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(StorageError, match="writer process died"):
        writer_process.commit([[SalesRow(0, 202002, "tomato", 2.0)]])
    counts = writer_process.commit([[SalesRow(0, 202003, "tomato", 3.0)]])[0]
    assert counts.inserted == 1
    assert writer_process.pid not in (None, first)
    assert [row["year_week"] for row in store.raw_sales()] == [202001, 202003]


def test_the_child_exits_when_the_server_end_of_the_pipe_closes(store):
    process = WriterProcess(store, normalize_name, resolve_vegetable_name)
    child = process._process
    process._connection.close()  # what a SIGKILL of the server does to the pipe
    child.join(15)
    assert child.exitcode == 0
