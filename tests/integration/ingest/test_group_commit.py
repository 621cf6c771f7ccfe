"""Group commit: concurrent posts share transactions yet each gets the counts of posting alone."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import sqlalchemy as sa

from salescast.ingest.names import normalize_name, resolve_vegetable_name
from salescast.ingest.schema import SalesRow
from salescast.ingest.store import SalesStore, UpsertCounts
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


class RecordedCommit:
    """``commit`` that records the batches of each call, in order, and can be held before committing."""

    def __init__(self, commit) -> None:
        self._commit = commit
        self.calls: list[list] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def hold(self) -> None:
        """The next call waits for :attr:`release` before it commits (posts queue up meanwhile)."""
        self.entered.clear()
        self.release.clear()

    def __call__(self, batches):
        self.calls.append(list(batches))
        self.entered.set()
        self.release.wait(30)
        return self._commit(batches)


def write_versions(store: SalesStore) -> dict[tuple[int, str], int]:
    """The write version that stamped each raw row: one per transaction."""
    with store.write_engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT year_week, vegetable, version FROM raw_sales")).all()
    return {(week, vegetable): version for week, vegetable, version in rows}


def row(week: int, name: str, sales: float) -> SalesRow:
    return SalesRow(0, week, name, sales)


def test_posts_waiting_together_share_one_transaction_with_their_own_counts(store, commit):
    recorded = RecordedCommit(commit)
    writer = GroupCommitWriter(recorded)
    recorded.hold()
    first = writer.submit([row(202001, "tomato", 1.0)])
    assert recorded.entered.wait(30)  # the writer is inside the first commit: the next posts queue
    posts = [
        [row(202001, "tomato", 2.0), row(202002, "tomato", 5.0)],  # updates the first post's key, inserts one
        [row(202002, "tomato", 5.0)],  # re-sends the key just inserted, same value
        [row(202002, "tomato", 6.0), row(202003, "carrot", 3.0), row(202003, "carrot", 4.0)],  # last row wins
        [row(202001, "tomato", 2.0), row(202003, "carrot", 4.0), row(202004, "leek", 1.0)],
    ]
    futures = [writer.submit(rows) for rows in posts]
    recorded.release.set()
    assert first.result(timeout=30) == UpsertCounts(1, 0, 0)
    counts = [future.result(timeout=30) for future in futures]
    writer.close()

    # Counted as if posted one after the other, in order, each against what the previous ones left.
    assert counts == [UpsertCounts(1, 1, 0), UpsertCounts(0, 0, 1), UpsertCounts(1, 1, 0), UpsertCounts(1, 0, 2)]
    assert [len(batches) for batches in recorded.calls] == [1, 4]  # two commits for five posts
    versions = write_versions(store)
    assert len(set(versions.values())) == 1  # every row now stored was written by the second transaction
    (second,) = set(versions.values())
    with store.write_engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version FROM ingest_state")).scalar() == second
    assert {(r["year_week"], r["vegetable"]): r["sales"] for r in store.raw_sales()} == {
        (202001, "tomato"): 2.0,
        (202002, "tomato"): 6.0,
        (202003, "carrot"): 4.0,
        (202004, "leek"): 1.0,
    }


def test_concurrent_submissions_are_counted_as_if_posted_one_after_the_other(store, commit, tmp_path):
    recorded = RecordedCommit(commit)
    writer = GroupCommitWriter(recorded)
    keys = [(202001 + week, name) for week in range(5) for name in ("tomato", "carrot", "leek")]
    results: dict[int, UpsertCounts] = {}

    def post(thread: int) -> None:
        for step in range(30):
            chosen = {keys[(thread * 3 + step * 7 + offset) % len(keys)] for offset in range(4)}
            rows = [SalesRow(i, week, name, float(step % 3)) for i, (week, name) in enumerate(sorted(chosen))]
            results[id(rows)] = writer.submit(rows).result(timeout=30)

    threads = [threading.Thread(target=post, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    writer.close()

    assert len(results) == 240
    assert len(store.raw_sales()) == len(keys)
    # Replayed one post per transaction in the order the writer committed them, on a fresh store, every
    # post gets the same inserted / updated / unchanged split as it got inside its shared commit.
    order = [rows for batches in recorded.calls for rows in batches]
    assert len(order) == 240 and len(recorded.calls) < 240  # some posts did share a commit
    replay = SalesStore(f"sqlite:///{tmp_path / 'replay.db'}")
    replay.migrate()
    try:
        alone = [replay.upsert_sales(rows, normalize_name, resolve_vegetable_name) for rows in order]
        assert [results[id(rows)] for rows in order] == alone
        assert sum(counts.updated for counts in alone) > 0 and sum(counts.unchanged for counts in alone) > 0
    finally:
        replay.dispose()
    # The read caches, fed by the committed changes, agree with a store that reads everything afresh.
    fresh = SalesStore(store.database_url)
    try:
        assert fresh.raw_sales_json() == store.raw_sales_json()
        assert fresh.monthly_sales_json() == store.monthly_sales_json()
        assert fresh.monthly_sales_json(remove_outliers=True) == store.monthly_sales_json(remove_outliers=True)
    finally:
        fresh.dispose()


def test_a_failed_commit_fails_every_post_in_it_and_the_writer_recovers(store, commit):
    recorded = RecordedCommit(commit)
    writer = GroupCommitWriter(recorded)
    recorded.hold()
    blocking = writer.submit([row(202001, "tomato", 1.0)])
    assert recorded.entered.wait(30)
    queued = [writer.submit([row(202002 + index, "tomato", 1.0), row(202010, "carrot", index)]) for index in range(4)]
    with store.write_engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE weekly_sales RENAME TO weekly_sales_away"))
    recorded.release.set()
    for future in [blocking, *queued]:
        with pytest.raises(sa.exc.DBAPIError):
            future.result(timeout=30)
    assert len(recorded.calls[1]) == 4  # the four queued posts were one commit, and all four failed
    assert store.raw_sales() == []  # rolled back: nothing half-written
    with store.write_engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE weekly_sales_away RENAME TO weekly_sales"))
    assert writer.submit([row(202001, "tomato", 1.0)]).result(timeout=30).inserted == 1
    writer.close()
    with pytest.raises(WriterClosed):
        writer.submit([row(202002, "tomato", 1.0)]).result(timeout=5)
