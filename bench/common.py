"""Shared settings of the county-scale benchmark: paths, the bench database, small helpers.

Import this module before any `app.*` module: it points AREALSJEKK_DATABASE_URL and
AREALSJEKK_RASTER_DIR at the benchmark database and raster directory (unless they are set).
"""

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import superuser_sql

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"
LAYER_DIR = DATA_DIR / "layers"
PLAN_DIR = DATA_DIR / "plans"
RASTER_DIR = DATA_DIR / "rasters"
WORK_DIR = DATA_DIR / "work"
RESULTS_DIR = BENCH_DIR / "results"

PG_BIN = superuser_sql.PG_BIN
PGSOCK = ROOT / ".local" / "pgsock"
PGPORT = os.environ.get("AREALSJEKK_PGPORT", "5432")
BENCH_DB = os.environ.get("AREALSJEKK_BENCH_DB", "arealsjekk_bench")
DB_ROLE = "arealsjekk"
DATABASE_URL = os.environ.get(
    "AREALSJEKK_BENCH_DATABASE_URL",
    f"postgresql+psycopg://{DB_ROLE}@/{BENCH_DB}?host={PGSOCK}&port={PGPORT}",
)
BENCH_LICENCE = "synthetic county-scale benchmark data"
BENCH_SOURCE = "Arealsjekk benchmark generator (bench/generate.py), synthetic, deterministic"

os.environ["AREALSJEKK_DATABASE_URL"] = DATABASE_URL
os.environ["AREALSJEKK_RASTER_DIR"] = str(RASTER_DIR)

# The plans of the benchmark: S and M are one plan each, L is one kommuneplan per
# municipality (a plan belongs to one municipality), 30,000 features in all.
PLAN_SIZES = ("S", "M", "L")


def plan_files(size: str) -> list[Path]:
    """Return the GeoJSON files of a plan size (L: one file per municipality)."""
    files = sorted(PLAN_DIR.glob(f"{size}_*.geojson"))
    if not files:
        raise SystemExit(f"no {size} plans in {PLAN_DIR}; run bench/generate.py first")
    return files


def psql(database: str, sql: str) -> str:
    """Run one SQL statement as the cluster superuser over the project's socket."""
    return superuser_sql.psql(PGSOCK, PGPORT, database, sql)


def ensure_database() -> None:
    """Create the benchmark database with PostGIS (as scripts/dev.sh does) and migrate it."""
    if psql("postgres", f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_ROLE}'").strip() != "1":
        psql("postgres", f"CREATE ROLE {DB_ROLE} LOGIN")
    if psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{BENCH_DB}'").strip() != "1":
        psql("postgres", f"CREATE DATABASE {BENCH_DB} OWNER {DB_ROLE}")
    psql(BENCH_DB, "CREATE EXTENSION IF NOT EXISTS postgis")
    from migrations.runner import upgrade

    upgrade(DATABASE_URL)


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB (VmHWM).

    Not getrusage's ru_maxrss: Linux carries that over from the parent across fork and
    exec, so a worker started by run.py would report at least run.py's own peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Return this process's current resident memory in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def percentile(values: list[float], q: float) -> float | None:
    """Return the q-th percentile (linear interpolation), None for no values."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def summary(values: list[float]) -> dict[str, Any]:
    """Return n, p50, p95, min and max of timings."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "min": min(values) if values else None,
        "max": max(values) if values else None,
    }


class Timer:
    """A context manager measuring wall-clock seconds."""

    def __enter__(self) -> "Timer":
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def warm_runs(run_once: Callable[[], dict[str, Any]], repeat: int, paced: bool) -> list[dict]:
    """Repeat a warm run `repeat` times, or (paced) once per "run" line on stdin until EOF.

    Paced, the worker says "ready" after its cold run and answers each run with its total,
    so that `PacedWorker` can alternate two workers run by run.
    """
    if not paced:
        return [run_once() for _ in range(repeat)]
    print(json.dumps({"ready": True}), flush=True)
    runs = []
    for line in sys.stdin:
        if line.strip() != "run":
            raise SystemExit(f"paced worker: expected 'run', got {line!r}")
        runs.append(run_once())
        print(json.dumps({"total_s": runs[-1]["total_s"]}), flush=True)
    return runs


class PacedWorker:
    """A bench script in its own process (own peak memory) that runs once per `run()` call.

    The engine and the baseline are measured by two such workers taking turns, run by run,
    so that slow and fast spells of the machine fall on both sides alike.
    """

    def __init__(self, script: str, *args: str):
        self.script = script
        self.command = [sys.executable, str(BENCH_DIR / script), *args, "--paced"]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "PacedWorker":
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self._answer()  # {"ready": true} after the cold run
        return self

    def _answer(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=60)
            raise RuntimeError(f"{' '.join(self.command[1:])} stopped with exit code {code}")
        return json.loads(line)

    def run(self) -> float:
        """One warm run; returns its seconds."""
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return self._answer()["total_s"]

    def finish(self, timeout: float = 1800) -> dict[str, Any]:
        """End the runs; return the worker's summary (its last JSON line)."""
        self.process.stdin.close()
        lines = self.process.stdout.read().strip().splitlines()
        code = self.process.wait(timeout=timeout)
        if code != 0 or not lines:
            raise RuntimeError(f"{' '.join(self.command[1:])} failed with exit code {code}")
        return json.loads(lines[-1])

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)
