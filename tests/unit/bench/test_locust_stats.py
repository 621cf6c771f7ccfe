"""The benchmark reads Locust's final JSON statistics (its periodic CSV can be stale when a short run ends)."""

from __future__ import annotations

import math

import orjson
import pytest

from salescast.bench.ingest import _percentile, _read_stats


def entry(name: str, times: dict[int, int], failures: int, start: float, last: float) -> dict:
    """One entry as ``locust --json-file`` writes it (response times keyed by rounded ms, as JSON strings)."""
    return {
        "name": name,
        "method": name.split()[0],
        "num_requests": sum(times.values()),
        "num_none_requests": 0,
        "num_failures": failures,
        "start_time": start,
        "last_request_timestamp": last,
        "response_times": {str(ms): count for ms, count in times.items()},
    }


def test_percentiles_follow_locust_s_rule():
    times = {5: 1, 7: 1, 9: 1, 40: 1}  # four requests
    # Locust: walk down from the slowest until no more than int(n × p) requests remain.
    assert [_percentile(times, 4, p) for p in (0.5, 0.95, 0.99)] == [9.0, 40.0, 40.0]
    assert _percentile({6: 90, 100: 10}, 100, 0.5) == 6.0 and _percentile({6: 90, 100: 10}, 100, 0.95) == 100.0
    assert math.isnan(_percentile({}, 0, 0.5))


def test_final_json_statistics_per_endpoint_and_aggregated(tmp_path):
    path = tmp_path / "service.json"
    path.write_bytes(
        orjson.dumps(
            [
                entry("POST /post_sales", {5: 1, 7: 1, 9: 1, 40: 1}, 0, 1000.0, 1009.0),
                entry("GET /get_raw_sales", {3: 5, 4: 1}, 1, 1001.0, 1010.0),
            ]
        )
    )

    endpoints, total = _read_stats(path)

    post, raw = endpoints
    assert (post.name, post.requests, post.failures, post.p50_ms, post.p99_ms) == ("POST /post_sales", 4, 0, 9.0, 40.0)
    assert (raw.requests, raw.failures, raw.p50_ms) == (6, 1, 3.0)
    assert post.requests_per_s == pytest.approx(0.4)  # over the whole run: 10 s from first start to last request
    assert (total.name, total.requests, total.failures) == ("Aggregated", 10, 1)
    assert total.requests_per_s == pytest.approx(1.0) and total.p99_ms == 40.0 and total.p50_ms == 4.0


def test_a_run_without_requests_reads_as_zero_not_an_error(tmp_path):
    (tmp_path / "empty.json").write_text("[]")
    endpoints, total = _read_stats(tmp_path / "empty.json")
    assert endpoints == [] and total.requests == 0 and total.requests_per_s == 0.0
