"""Running the job queue in tests: in this process (`run_jobs`) or as real
`arealsjekk worker` processes (`start_worker`), configured like a deployment by environment."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from app import jobs
from app.db import get_engine
from app.settings import get_settings


def run_jobs(monkeypatch: pytest.MonkeyPatch, raster_dir: Path | None = None) -> None:
    """Run every job due now in this process, as a worker configured with `raster_dir`."""
    if raster_dir is not None:
        monkeypatch.setenv("AREALSJEKK_RASTER_DIR", str(raster_dir))
    get_settings.cache_clear()
    try:
        jobs.drain(get_settings())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


class WorkerProcess:
    """One `arealsjekk worker` process; its log is kept for the test to read."""

    def __init__(self, log: Path, **env: str):
        self.log_path = log
        environment = {**os.environ, **{f"AREALSJEKK_{k.upper()}": v for k, v in env.items()}}
        environment["AREALSJEKK_LOG_FORMAT"] = "text"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """What the worker wrote so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """End the process at once, as a crash or an OOM kill would (no clean-up)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        """Ask the worker to stop (SIGTERM, as Kubernetes does) and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    """Poll `condition` until it returns something true; fail naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def job_rows(task_name: str | None = None) -> list[dict]:
    """The queue's job rows (all, or one task's), oldest first."""
    query = "SELECT id, task_name, status::text, args, lock, attempts FROM procrastinate_jobs"
    if task_name:
        query += " WHERE task_name = :task"
    with get_engine().connect() as connection:
        rows = connection.execute(text(query + " ORDER BY id"), {"task": task_name})
        return [dict(row._mapping) for row in rows]
