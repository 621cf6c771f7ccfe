"""One post's rows that the database refuses never fail the posts committed alongside it.

The database is made to refuse rows with a trigger (names starting with ``poison``): the stand-in for
any value or constraint the storage cannot hold although validation let it through. On SQLite and
PostgreSQL, with the commit in the server's thread and in its writer process.
"""

from __future__ import annotations

import threading

import httpx
import pytest
import sqlalchemy as sa
from tests.server_support import served_api

from salescast.ingest.names import name_key, resolve_vegetable_name
from salescast.ingest.schema import SalesRow
from salescast.ingest.writer import GroupCommitWriter
from salescast.ingest.writer_process import WriterProcess

POISON = "poison"
_SQLITE_TRIGGER = (
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON raw_sales WHEN NEW.vegetable LIKE 'poison%' "
    "BEGIN SELECT RAISE(ABORT, 'poisoned row refused'); END"
)
_POSTGRES_TRIGGER = (
    "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.vegetable LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned row refused' USING ERRCODE = 'check_violation'; "
    "END IF; RETURN NEW; END $$",
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON raw_sales FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
)


def refuse_poisoned_rows(database_url: str) -> None:
    """Make the database refuse every raw row whose name starts with ``poison`` (an integrity error)."""
    engine = sa.create_engine(database_url)
    statements = (_SQLITE_TRIGGER,) if engine.dialect.name == "sqlite" else _POSTGRES_TRIGGER
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


@pytest.fixture(params=["thread", "writer-process"])
def commit(request, store):
    """What the server's group-commit writer calls, in both writer modes."""
    if request.param == "thread":
        yield lambda batches: store.upsert_sales_batches(batches, name_key, resolve_vegetable_name)
    else:
        process = WriterProcess(store, name_key, resolve_vegetable_name)
        yield process.commit
        process.close()


def grouped_writer(commit) -> tuple[GroupCommitWriter, threading.Event, list[int]]:
    """A writer whose first commit waits for ``release``: everything submitted meanwhile forms the next group."""
    entered, release, group_sizes = threading.Event(), threading.Event(), []

    def gated(batches):
        group_sizes.append(len(batches))
        if len(group_sizes) == 1:
            entered.set()
            release.wait(30)
        return commit(batches)

    writer = GroupCommitWriter(gated)
    writer.submit([SalesRow(0, 202001, "tomato", 1.0)])
    assert entered.wait(30)
    return writer, release, group_sizes


def test_a_refused_post_fails_alone_and_the_posts_of_its_group_are_committed(store, commit):
    refuse_poisoned_rows(store.database_url)
    writer, release, group_sizes = grouped_writer(commit)
    before = writer.submit([SalesRow(0, 202002, "carrot", 2.0), SalesRow(1, 202002, "leek", 3.0)])
    poisoned = writer.submit([SalesRow(0, 202003, "carrot", 4.0), SalesRow(1, 202003, f"{POISON}ous", 5.0)])
    after = writer.submit([SalesRow(0, 202004, "carrot", 6.0), SalesRow(1, 202002, "carrot", 7.0)])
    release.set()

    assert before.result(30).inserted == 2
    with pytest.raises(sa.exc.IntegrityError, match="poisoned row refused"):
        poisoned.result(30)
    counts = after.result(30)
    assert (counts.inserted, counts.updated) == (1, 1)  # counted as committed after `before`, in arrival order
    writer.close()
    assert group_sizes == [1, 3, 1, 1, 1]  # the shared commit failed, then each post alone
    stored = {(row["year_week"], row["vegetable"]): row["sales"] for row in store.raw_sales()}
    assert stored == {
        (202001, "tomato"): 1.0,
        (202002, "carrot"): 7.0,
        (202002, "leek"): 3.0,
        (202004, "carrot"): 6.0,
    }  # nothing of the refused post, not even its acceptable row


def test_a_database_that_cannot_write_fails_the_whole_group_at_once(store):
    writer, release, group_sizes = grouped_writer(
        lambda batches: store.upsert_sales_batches(batches, name_key, resolve_vegetable_name)
    )
    store.write_engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")  # nothing listens on 9
    futures = [writer.submit([SalesRow(0, 202002 + week, "carrot", 1.0)]) for week in range(3)]
    release.set()
    for future in futures:
        with pytest.raises(sa.exc.OperationalError):
            future.result(30)
    writer.close()
    assert group_sizes == [1, 3]  # retrying each post alone could not help: not tried


ISSUE_BATCHES = [
    [
        {"year_week": 202002, "vegetable": "tomato", "sales": 2e307},
        {"year_week": 202003, "vegetable": "tomato", "sales": 2e307},
    ],
    [
        {"year_week": 202002, "vegetable": "tomato", "sales": 1e308},
        {"year_week": 202002, "vegetable": "tomate", "sales": 1e308},
    ],
    [
        {"year_week": 202002, "vegetable": "tom\x00ato", "sales": 1},
        {"year_week": 202002, "vegetable": "\u200b", "sales": 1},
    ],
    [{"year_week": 202002, "vegetable": "tomato", "sales": 1.797e308}],
]


@pytest.mark.slow
@pytest.mark.parametrize("writer_process", ["false", "true"], ids=["thread", "writer-process"])
def test_a_poisoned_client_never_fails_the_valid_posts_of_concurrent_clients(database_url, tmp_path, writer_process):
    clients, posts_each = 8, 30
    with served_api(database_url, tmp_path, SALESCAST_INGEST_WRITER_PROCESS=writer_process) as server:
        refuse_poisoned_rows(database_url)
        acknowledged: dict[tuple[int, str], float] = {}
        failures: list[str] = []
        poisoned_statuses: list[int] = []
        done = threading.Event()

        def post_valid(client_number: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for step in range(posts_each):
                    rows = [
                        {"year_week": 202001 + step % 52, "vegetable": f"c{client_number}-s{step}-{i}", "sales": step}
                        for i in range(3)
                    ]
                    response = http.post("/post_sales", json=rows)
                    if response.status_code != 200 or response.json()["inserted"] != 3:
                        failures.append(f"{response.status_code}: {response.text[:200]}")
                        continue
                    acknowledged.update({(row["year_week"], row["vegetable"]): row["sales"] for row in rows})

        def post_poison() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                step = 0
                while not done.is_set():
                    refused = [
                        {"year_week": 202001 + step % 52, "vegetable": f"alongside-{POISON}-{step}", "sales": 1},
                        {"year_week": 202001 + step % 52, "vegetable": f"{POISON}-{step}", "sales": 1},
                    ]
                    response = http.post("/post_sales", json=refused)
                    poisoned_statuses.append(response.status_code)
                    assert response.status_code == 422 and "refused this batch" in response.json()["detail"]
                    hostile = http.post("/post_sales", json=ISSUE_BATCHES[step % len(ISSUE_BATCHES)])
                    assert hostile.status_code == 200 and hostile.json()["inserted"] == 0, hostile.text
                    step += 1

        poisoner = threading.Thread(target=post_poison)
        poisoner.start()
        writers = [threading.Thread(target=post_valid, args=(number,)) for number in range(clients)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(300)
        done.set()
        poisoner.join(60)

        assert failures == []
        assert len(acknowledged) == clients * posts_each * 3
        assert poisoned_statuses and set(poisoned_statuses) == {422}
        stored = {
            (row["year_week"], row["vegetable"]): row["sales"]
            for row in httpx.get(f"{server.url}/get_raw_sales").json()
        }
        assert stored == acknowledged  # every valid post stored, nothing of a refused or hostile one
        log = server.log_path.read_text()
        assert "committing each alone" in log, "no refused post ever shared a commit: the test proved nothing"
