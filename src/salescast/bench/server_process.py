"""A real HTTP server in a child process: ``salescast serve`` for crash and concurrency tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServerProcess:
    database_url: str
    log_path: Path
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    health_path: str = "/health"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "salescast", "serve",
            "--port", str(self.port), "--database-url", self.database_url, "--workers", str(self.workers),
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        env = {**os.environ, **self.extra_env}
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command(), env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}{self.health_path}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        log_tail = self.log_path.read_text()[-3000:]
        raise RuntimeError(f"server did not answer {self.health_path} within {timeout}s: {log_tail}")

    def serving_processes(self) -> list:
        """The server's main process and every worker listening on its port (``psutil.Process`` objects).

        With ``--workers N`` uvicorn's main process supervises N worker processes that share its socket;
        the processes those start (the ingestion writers, multiprocessing helpers) hold no listening
        socket and are not part of the list.
        """
        import psutil

        root = psutil.Process(self.process.pid)
        serving = [root]
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                if any(
                    connection.status == psutil.CONN_LISTEN and connection.laddr.port == self.port
                    for connection in child.net_connections("tcp")
                ):
                    serving.append(child)
        return serving

    def kill(self) -> None:
        """SIGKILL the main process and every worker at once: a crash, no shutdown handler runs anywhere.

        Signalling the main process alone would leave a multi-worker server's workers serving. What the
        workers started (the ingestion writers) is not signalled: it must notice the crash by itself.
        """
        import psutil

        if not self.process or self.process.poll() is not None:
            return
        serving = self.serving_processes()
        for process in serving:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        _, alive = psutil.wait_procs(serving, timeout=10)
        if alive:
            raise RuntimeError(f"server processes {[process.pid for process in alive]} survived SIGKILL")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if getattr(self, "_log", None):
            self._log.close()
