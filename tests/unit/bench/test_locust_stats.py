"""The benchmark reads Locust's final JSON statistics (its periodic CSV can be stale when a short run ends)."""

from __future__ import annotations

import pytest
from locust.stats import RequestStats, save_stats_json

from salescast.bench.ingest import _read_stats


def test_final_json_statistics_per_endpoint_and_aggregated(tmp_path):
    stats = RequestStats()
    for milliseconds in (5, 7, 9, 40):
        stats.log_request("POST", "POST /post_sales", milliseconds, 10)
    for milliseconds in (3, 4):
        stats.log_request("GET", "GET /get_raw_sales", milliseconds, 100)
    stats.log_error("GET", "GET /get_raw_sales", "boom")
    expected_total = (stats.total.num_requests, stats.total.get_response_time_percentile(0.99))
    post = stats.get("POST /post_sales", "POST")
    expected_post = [float(post.get_response_time_percentile(p)) for p in (0.5, 0.95, 0.99)]  # Locust's own
    save_stats_json(stats, str(tmp_path / "service"))

    endpoints, total = _read_stats(tmp_path / "service.json")

    by_name = {entry.name: entry for entry in endpoints}
    assert (by_name["POST /post_sales"].requests, by_name["POST /post_sales"].failures) == (4, 0)
    assert (by_name["GET /get_raw_sales"].requests, by_name["GET /get_raw_sales"].failures) == (2, 1)
    entry = by_name["POST /post_sales"]
    assert [entry.p50_ms, entry.p95_ms, entry.p99_ms] == expected_post and entry.p99_ms == 40.0
    assert (total.requests, total.p99_ms) == (expected_total[0], float(expected_total[1]))
    assert total.failures == 1 and total.p50_ms <= total.p95_ms <= total.p99_ms


def test_a_run_without_requests_reads_as_zero_not_an_error(tmp_path):
    (tmp_path / "empty.json").write_text("[]")
    endpoints, total = _read_stats(tmp_path / "empty.json")
    assert endpoints == [] and total.requests == 0 and total.requests_per_s == pytest.approx(0.0)
