"""HTTP side of the benchmark: uvicorn with 2 workers on a loopback port, quick checks, WMS.

`Server` starts `arealsjekk serve --workers 2` against the bench database on a free
127.0.0.1 port in its own process group and stops exactly that group again. `throughput`
POSTs the S plan to /api/v1/check from concurrent client threads (a bounded number of
requests, each client with its own keep-alive connection); `get_timings` times repeated
GETs (the WMS). Only the standard library is used on the client side.
"""

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import common


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`arealsjekk serve` on a loopback port, started and stopped by this benchmark."""

    def __init__(self, workers: int = 2, log: Path | None = None):
        self.port = free_port()
        self.workers = workers
        self.log = log or common.WORK_DIR / "uvicorn.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        command = [
            str(common.ROOT / ".venv" / "bin" / "arealsjekk"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=common.ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped at start; see {self.log}")
            try:
                status, _, _ = request(self.port, "GET", "/readyz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"the server did not become ready in 90 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The server runs in its own session: its process group holds uvicorn and its workers.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes, float]:
    """One request; returns status, body and seconds (a new connection unless given one)."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started
    finally:
        if own:
            connection.close()


def create_admin_key() -> str:
    """Create an admin API key in the bench database and return its token."""
    from app.access import create_api_key
    from app.db import get_sessionmaker

    with get_sessionmaker()() as session:
        _, token = create_api_key(session, "benchmark (bench/run.py)", "admin", None)
    return token


def throughput(port: int, token: str, body: bytes, clients: int, requests: int) -> dict[str, Any]:
    """POST the plan `requests` times from `clients` threads; checks per second and latency."""
    headers = {"Content-Type": "application/geo+json", "Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    remaining = [requests]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                status, _, seconds = request(
                    port, "POST", "/api/v1/check", body, headers, connection
                )
                with lock:
                    latencies.append(seconds)
                    if status != 200:
                        failures.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": requests,
        "wall_s": wall,
        "checks_per_s": requests / wall,
        "latency_s": common.summary(latencies),
        "non_200": len(failures),
        "statuses": sorted(set(failures)),
    }


def get_timings(port: int, path: str, repeat: int, out: Path | None = None) -> dict[str, Any]:
    """GET a path once to warm up (saving the body), then `repeat` times; latency figures."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        status, data, _ = request(port, "GET", path, connection=connection)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {data[:300]!r}")
        if out is not None:
            out.write_bytes(data)
        seconds = []
        for _ in range(repeat):
            status, data, elapsed = request(port, "GET", path, connection=connection)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}")
            seconds.append(elapsed)
        return {"latency_s": common.summary(seconds), "bytes": len(data)}
    finally:
        connection.close()
