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
    from app.migrate import upgrade

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


def run_worker(script: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """Run a bench script in its own process (own peak memory) and parse its JSON output."""
    command = [sys.executable, str(BENCH_DIR / script), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"{script} {' '.join(args)} failed with exit code {done.returncode}")
    if done.stderr.strip():
        # Warnings of the libraries; kept out of the table but not hidden.
        sys.stderr.write(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
