"""Group commit: concurrent posts share transactions yet each gets the counts of posting alone."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import sqlalchemy as sa

from salescast.ingest.names import normalize_name, resolve_vegetable_name
from salescast.ingest.schema import SalesRow
from salescast.ingest.store import SalesStore
from salescast.ingest.writer import GroupCommitWriter, WriterClosed
from salescast.ingest.writer_process import WriterProcess


@pytest.fixture(params=["in-process", "writer-process"])
def commit(request, store):
    """Both ways the server commits: in its own thread, or through the writer process."""
    if request.param == "in-process":
        yield partial(store.upsert_sales_batches, name_key=normalize_name, resolve=resolve_vegetable_name)
        return
    process = WriterProcess(store, normalize_name, resolve_vegetable_name)
    yield process.commit
    process.close()


def test_concurrent_submissions_are_counted_as_if_posted_one_after_the_other(store, commit):
    writer = GroupCommitWriter(commit)
    keys = [(202001 + week, name) for week in range(5) for name in ("tomato", "carrot", "leek")]
    results = []
    lock = threading.Lock()

    def post(thread: int) -> None:
        for step in range(30):
            chosen = {keys[(thread * 3 + step * 7 + offset) % len(keys)] for offset in range(4)}
            rows = [SalesRow(i, week, name, float(step % 3)) for i, (week, name) in enumerate(sorted(chosen))]
            counts = writer.submit(rows).result(timeout=30)
            with lock:
                results.append((len(rows), counts))

    threads = [threading.Thread(target=post, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    writer.close()

    assert len(results) == 240
    assert sum(counts.inserted for _, counts in results) == len(keys)
    assert all(counts.inserted + counts.updated + counts.unchanged == rows for rows, counts in results)
    assert len(store.raw_sales()) == len(keys)
    # The read caches, fed by the committed changes, agree with a store that reads everything afresh.
    fresh = SalesStore(store.database_url)
    try:
        assert fresh.raw_sales_json() == store.raw_sales_json()
        assert fresh.monthly_sales_json() == store.monthly_sales_json()
        assert fresh.monthly_sales_json(remove_outliers=True) == store.monthly_sales_json(remove_outliers=True)
    finally:
        fresh.dispose()


def test_a_failed_commit_fails_every_post_in_it_and_the_writer_recovers(store, commit):
    writer = GroupCommitWriter(commit)
    with store.write_engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE weekly_sales RENAME TO weekly_sales_away"))
    failed = writer.submit([SalesRow(0, 202001, "tomato", 1.0)])
    with pytest.raises(sa.exc.DBAPIError):
        failed.result(timeout=30)
    assert store.raw_sales() == []  # rolled back: nothing half-written
    with store.write_engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE weekly_sales_away RENAME TO weekly_sales"))
    assert writer.submit([SalesRow(0, 202001, "tomato", 1.0)]).result(timeout=30).inserted == 1
    writer.close()
    with pytest.raises(WriterClosed):
        writer.submit([SalesRow(0, 202002, "tomato", 1.0)]).result(timeout=5)
