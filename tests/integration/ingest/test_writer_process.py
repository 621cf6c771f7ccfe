"""The writer process: crash recovery, kills mid-commit, no orphan (group commits and errors: test_group_commit)."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest

from salescast.ingest.names import normalize_name, resolve_vegetable_name
from salescast.ingest.schema import SalesRow
from salescast.ingest.store import SalesStore, StorageError
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


VEGETABLES = ("tomato", "carrot", "leek", "potato", "onion")
KEYS = [(202001 + week, name) for week in range(52) for name in VEGETABLES]


def post_rows(post: int, rng: random.Random, keys: int = 150) -> list[SalesRow]:
    """One post: ``keys`` shared keys set to values unique to the post, and a marker row only this post writes."""
    rows = [SalesRow(i, week, name, post + rng.random()) for i, (week, name) in enumerate(rng.sample(KEYS, keys))]
    return [*rows, SalesRow(keys, 202001, f"marker-{post}", 1.0)]


def layers(database_url: str) -> dict:
    """Every stored layer, read afresh."""
    store = SalesStore(database_url)
    try:
        return {
            "raw": store.raw_sales(),
            "weekly": store.weekly_sales(with_outlier_flag=True),
            "monthly": store.monthly_sales_rows(),
            "monthly_regular": store.monthly_sales_rows(remove_outliers=True),
        }
    finally:
        store.dispose()


@pytest.mark.slow
def test_a_child_killed_mid_commit_loses_nothing_acknowledged_and_half_applies_nothing(store, tmp_path):
    rng = random.Random(18)
    process = WriterProcess(store, normalize_name, resolve_vegetable_name)
    commits: list[tuple[list[list[SalesRow]], bool]] = []  # (posts, acknowledged), in commit order
    post = 0

    def commit_next() -> tuple[float, float]:
        """Commit the next four posts in one transaction; (start, end) of the call."""
        nonlocal post
        posts = []
        for _ in range(4):
            posts.append(post_rows(post, rng))
            post += 1
        started = time.monotonic()
        try:
            process.commit(posts)
        except StorageError:
            commits.append((posts, False))
        else:
            commits.append((posts, True))
        return started, time.monotonic()

    def kill(pid: int, killed_at: list[float]) -> None:
        killed_at.append(time.monotonic())
        os.kill(pid, signal.SIGKILL)

    try:
        shortest = min(end - start for start, end in (commit_next() for _ in range(5)))  # a warm commit, here
        inside = attempts = 0
        while inside < 8:  # eight kills inside a commit (on a loaded machine a timer may fire late)
            attempts += 1
            assert attempts <= 40, f"only {inside} of 40 kills landed inside a commit (shortest {shortest:.3f} s)"
            if process.pid is None:  # the last kill came after its commit: start the next child first
                commit_next()
            killed_at: list[float] = []
            killer = threading.Timer(rng.uniform(0, shortest), kill, (process.pid, killed_at))
            killer.start()  # a random point of the commit (most take longer than the shortest)
            start, end = commit_next()
            killer.join()
            inside += start <= killed_at[0] <= end
            commit_next()  # a new child takes the next commit
    finally:
        process.close()

    stored = layers(store.database_url)
    markers = {row["vegetable"] for row in stored["raw"] if row["vegetable"].startswith("marker-")}
    applied = []
    for posts, acknowledged in commits:
        for rows in posts:
            present = rows[-1].vegetable in markers
            assert present or not acknowledged, f"acknowledged {rows[-1].vegetable} lost"
            if present:
                applied.append(rows)
    assert len(applied) < post  # some commits in flight were lost, as they may be
    # Replaying exactly the posts that got in, one after the other, on a fresh store gives every layer
    # as stored: no post is half-applied, and the derived layers and flags hold no trace of the lost ones.
    replay_url = f"sqlite:///{tmp_path / 'replay.db'}"
    replay = SalesStore(replay_url)
    replay.migrate()
    for rows in applied:
        replay.upsert_sales(rows, normalize_name, resolve_vegetable_name)
    replay.dispose()
    expected = layers(replay_url)
    assert stored["raw"] == expected["raw"]
    for layer in ("weekly", "monthly", "monthly_regular"):
        assert len(stored[layer]) == len(expected[layer])
        for got, want in zip(stored[layer], expected[layer], strict=True):
            assert got == {**want, "sales": pytest.approx(want["sales"], rel=1e-9)}, layer
