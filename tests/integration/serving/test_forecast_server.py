"""A real ``salescast serve`` with two workers: each worker watches the registry and swaps its own champion."""

from __future__ import annotations

import http.client
import json
import time

import pytest
from tests.lifecycle_support import empty_mlflow_db, mlflow_settings, store_client, write_monthly_sales, write_pipeline

from salescast.bench.server_process import ServerProcess
from salescast.lifecycle.job import run_training_job
from salescast.lifecycle.months import parse_month
from salescast.lifecycle.sources import load_pipeline_config

__all__ = ["empty_mlflow_db", "mlflow_settings"]
MODEL = "pipeline"  # the registered model is named after pipeline.yaml
pytestmark = pytest.mark.slow


def ask_a_worker(server: ServerProcess, workers: list) -> tuple[int, set[str]]:
    """GET /forecast on a new connection: (pid of the worker that answered, model versions in the answer).

    The worker is the one holding the server end of our connection (found while it is still open).
    """
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/forecast?month=2023-01")
        response = connection.getresponse()
        body = response.read()
        client_port = connection.sock.getsockname()[1]
        [pid] = [
            worker.pid
            for worker in workers
            if any(c.raddr and c.raddr.port == client_port for c in worker.net_connections("tcp"))
        ]
    finally:
        connection.close()
    rows = json.loads(body) if response.status == 200 else []
    return pid, {row["model_version"] for row in rows}


def wait_until_every_worker_serves(server: ServerProcess, workers: list, version: str, timeout: float = 120.0):
    """Ask on new connections until each worker has answered with ``version`` alone."""
    deadline = time.monotonic() + timeout
    serving: set[int] = set()
    answers = []
    while serving != {worker.pid for worker in workers}:
        assert time.monotonic() < deadline, f"not every worker serves v{version}: {answers[-10:]}"
        pid, versions = ask_a_worker(server, workers)
        answers.append((pid, versions))
        if versions == {version}:
            serving.add(pid)
        else:
            serving.discard(pid)
            time.sleep(0.1)


def test_every_worker_picks_up_a_new_champion_without_a_restart(tmp_path, mlflow_settings):
    write_monthly_sales(tmp_path / "data" / "sales.csv", items=3)
    pipeline = write_pipeline(tmp_path / "pipeline.yaml", {"kind": "csv", "data": {"sales": "data/sales.csv"}})
    config = load_pipeline_config(pipeline)
    run_training_job(config, mlflow_settings, test_month=parse_month("2022-10"))
    run_training_job(config, mlflow_settings, test_month=parse_month("2022-12"))
    registry = store_client(mlflow_settings)
    registry.set_registered_model_alias(MODEL, "champion", "1")
    server = ServerProcess(
        mlflow_settings.database_url,
        tmp_path / "server.log",
        workers=2,
        extra_env={
            "SALESCAST_MLFLOW_TRACKING_URI": mlflow_settings.mlflow_tracking_uri,
            "SALESCAST_PIPELINE_CONFIG": str(pipeline),
            "SALESCAST_CHAMPION_POLL_SECONDS": "0.2",
        },
    ).start(timeout=240)  # two workers importing MLflow at once: slow on a busy 2-core machine
    try:
        _, *workers = server.serving_processes()  # the supervisor, then its workers
        assert len(workers) == 2
        wait_until_every_worker_serves(server, workers, "1")
        registry.set_registered_model_alias(MODEL, "champion", "2")
        wait_until_every_worker_serves(server, workers, "2")  # each worker swapped on its own, no restart
    finally:
        server.stop()
