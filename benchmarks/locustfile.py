"""The ingestion workload: 2 POST /post_sales : 1 GET /get_raw_sales : 1 GET /get_monthly_sales.

Posts carry 1-5 rows drawn from the generated vegetable feed (EN/FR/ES names, typos included, 2020-2023):
most rows re-send a key the feed already holds, half of those with the same value (unchanged) and half
with a corrected value (update); ``NEW_KEY_SHARE`` of the rows are keys the feed never had (a week of
2020-2023 with one of the feed's names). Half of the monthly reads ask for ``remove_outliers=true``.

Run it through ``salescast bench ingest`` (which starts a fresh server, runs this headless and checks that
every acknowledged row is in the database with a value it may hold); with ``SALESCAST_BENCH_ACKED`` set,
every row posted is written there when the test stops, one JSON list per line: ``[year_week, vegetable,
sales, sent, acked]``, the monotonic times the post was sent and answered 200 (``acked`` null when it
was not acknowledged: it may or may not have been stored).
"""

from __future__ import annotations

import os
import random
import time

import orjson
from locust import FastHttpUser, constant, constant_throughput, events, task

from salescast.ingest.generate import generate_labelled_vegetable_sales, iso_weeks

NEW_KEY_SHARE = 0.02
_RATE_PER_USER = float(os.environ.get("SALESCAST_BENCH_RATE_PER_USER", "0"))


def _feed_rows() -> list[tuple[int, str, float]]:
    feed = generate_labelled_vegetable_sales(seed=0)
    valid = feed[feed["row_kind"] != "invalid"]
    columns = valid[["year_week", "vegetable", "sales"]]
    return [(int(week), str(name), float(sales)) for week, name, sales in columns.itertuples(index=False)]


FEED = _feed_rows()
WEEKS = [int(week) for week in iso_weeks()]
NAMES = sorted({name for _, name, _ in FEED})
WRITES: list[tuple[int, str, float, float, float | None]] = []  # (year_week, vegetable, sales, sent, acked)


def _post_rows(rng: random.Random) -> list[dict]:
    rows = []
    for _ in range(rng.randint(1, 5)):
        if rng.random() < NEW_KEY_SHARE:
            week, name, sales = rng.choice(WEEKS), rng.choice(NAMES), float(rng.randint(1, 3000))
        else:
            week, name, sales = rng.choice(FEED)
            if rng.random() < 0.5:
                sales = round(sales * rng.uniform(0.9, 1.1), 1)
        rows.append({"year_week": week, "vegetable": name, "sales": sales})
    return rows


class FeedAndReaders(FastHttpUser):
    """One client of the service: posts feed batches and reads the raw and monthly layers."""

    wait_time = constant_throughput(_RATE_PER_USER) if _RATE_PER_USER > 0 else constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task(2)
    def post_sales(self) -> None:
        rows = _post_rows(self.rng)
        sent = time.monotonic()
        acked = None
        with self.client.post(
            "/post_sales",
            data=orjson.dumps(rows),
            headers={"Content-Type": "application/json"},
            name="POST /post_sales",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
            elif (result := orjson.loads(response.content))["rejected"]:
                response.failure(f"valid rows rejected: {result}")
            else:
                acked = time.monotonic()
        WRITES.extend((row["year_week"], row["vegetable"], row["sales"], sent, acked) for row in rows)

    @task(1)
    def get_raw_sales(self) -> None:
        self.client.get("/get_raw_sales", name="GET /get_raw_sales")

    @task(1)
    def get_monthly_sales(self) -> None:
        path = "/get_monthly_sales?remove_outliers=true" if self.rng.random() < 0.5 else "/get_monthly_sales"
        self.client.get(path, name=f"GET {path}")


@events.test_stop.add_listener
def _save_acknowledged(**_kwargs) -> None:
    path = os.environ.get("SALESCAST_BENCH_ACKED")
    if path:
        with open(path, "ab") as handle:  # appended: the benchmark's warm-up post is already recorded there
            handle.writelines(orjson.dumps(write) + b"\n" for write in WRITES)
