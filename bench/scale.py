"""Scaling (issue 22): background re-checks by 1, 2 and 4 workers; S checks by 1, 2 and 4 API
processes.

    .venv/bin/python bench/scale.py            # full run, ~12 min (+ ~6 min to load the data once)
    .venv/bin/python bench/scale.py --quick    # each setting once, shorter loads, ~6 min
    scripts/dev.sh bench scale [--quick]       # the same through the bench environment

1. Builds the county-scale data (bench/generate.py, cached in bench/.data/) and loads it with
   generate.load into the database `arealsjekk_scale` (AREALSJEKK_BENCH_DB), created like the
   benchmark's own; its COGs go to bench/.data/scale/rasters, so it shares no file with
   `arealsjekk_bench`.
2. Workers: stores the 18 L plans (one kommuneplan per municipality) as proposal versions;
   for 1, 2 and 4 `arealsjekk worker --concurrency 1 --queue checks` processes, queues one
   background check per plan (check_runner.create_check, background=True: 18 jobs at once),
   starts the workers, polls plan_check until all 18 are done and stops them. Reports plans
   per minute (from starting the workers, and from the first check started to the last job
   ended), per-check seconds (each job's run time as its worker logs it), the CPU time of the
   worker processes and of their PostgreSQL backends, and the most connections they held.
3. API: for 1, 2 and 4 `arealsjekk serve --workers N` processes on 127.0.0.1, a closed loop
   of concurrent clients (threads, a connection per request) POSTs the S plan's check for a
   fixed time after a warm-up: `POST /api/v1/proposals/{id}/versions/{v}/checks` on the S
   plan stored once (what a submitted proposal gets: the check and its findings stored) and
   the stateless `POST /api/v1/check` (the quick check: parse, validate, check, nothing
   stored). Reports requests per second, p50/p95 latency and errors.
4. Prints a table and writes bench/results/scale.json and scale.md (`--quick`:
   scale-quick.*).
Everything this starts (workers, servers) runs in its own process group and is stopped at the
end, also on errors.
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("AREALSJEKK_BENCH_DB", "arealsjekk_scale")

import common  # noqa: E402  (reads AREALSJEKK_BENCH_DB; import before any app.* module)

# Its own load stamp and COGs: loading never rewrites a file the other bench database uses
# (the generated layers and plans, and their stamp, are shared: see load_scale_data).
SCALE_DIR = common.DATA_DIR / "scale"
SCALE_RASTER_DIR = SCALE_DIR / "rasters"
os.environ["AREALSJEKK_RASTER_DIR"] = str(SCALE_RASTER_DIR)

import generate  # noqa: E402
import http_bench  # noqa: E402

FULL = {
    "workers": [1, 2, 4],
    "worker_repeats": 3,
    "api_processes": [1, 2, 4],
    "api_clients": 8,
    "api_warmup_s": 5.0,
    "api_measure_s": 20.0,
    "api_endpoints": ["stored", "quick"],
}
QUICK = {
    "workers": [1, 2, 4],
    "worker_repeats": 1,
    "api_processes": [1, 2, 4],
    "api_clients": 8,
    "api_warmup_s": 3.0,
    "api_measure_s": 10.0,
    "api_endpoints": ["stored"],
}
API_PORT = int(os.environ.get("AREALSJEKK_SCALE_PORT", "8140"))  # loopback only
ROUND_TIMEOUT_S = 900.0
ARE = common.ROOT / ".venv" / "bin" / "arealsjekk"


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps the table."""
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> float:
    """The 1-minute load average (other work on the machine disturbs the timings)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the ")" of the command: state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine spent busy and in all since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


# --- the database side --------------------------------------------------------------------


def load_scale_data() -> dict[str, Any]:
    """Generate the data (shared, cached in bench/.data) and load it into the scale database,
    with the load stamp and COGs in bench/.data/scale."""
    generated = phase_log("generate data", generate.generate)
    shared = (common.DATA_DIR, common.RASTER_DIR)
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    common.DATA_DIR, common.RASTER_DIR = SCALE_DIR, SCALE_RASTER_DIR
    try:
        loaded = phase_log("load layers into " + common.BENCH_DB, generate.load)
    finally:
        common.DATA_DIR, common.RASTER_DIR = shared
    return {"generated": generated, "loaded": loaded}


def session():
    """A session on the scale database."""
    from app.db import get_sessionmaker

    return get_sessionmaker()()


def store_plans(size: str) -> list[dict[str, Any]]:
    """Store each plan file of a size as a proposal version (the latest one when it is already
    stored byte for byte); return their version ids, keys and feature counts."""
    from app.repositories import proposals as repo
    from app.settings import get_settings
    from app.uploads import prepare_upload

    settings = get_settings()
    stored = []
    with session() as db:
        for path in common.plan_files(size):
            body = path.read_bytes()
            plan = prepare_upload(db, settings, body, {}, path.name, "application/geo+json")
            version = repo.identical_latest_version(db, plan, body)
            if version is None:
                version = repo.store_version(db, plan, body, path.name)
            stored.append(
                {
                    "version_id": version.id,
                    "proposal_id": repo.proposal_key(
                        plan.metadata.kommunenummer, plan.metadata.planidentifikasjon
                    ),
                    "version": version.version,
                    "features": version.feature_count,
                }
            )
    return stored


def queue_checks(version_ids: list[int]) -> list[int]:
    """Queue one background check per version (each committed with its job); their ids."""
    from app.check_runner import create_check
    from app.settings import get_settings
    from db.models import ProposalVersionOrm

    settings = get_settings()
    ids = []
    with session() as db:
        for version_id in version_ids:
            version = db.get(ProposalVersionOrm, version_id)
            ids.append(create_check(db, version, settings, None, background=True).id)
    return ids


CHECK_STATE = """
SELECT count(*) FILTER (WHERE status IN ('done', 'failed')) AS finished,
       count(*) FILTER (WHERE status = 'failed') AS failed
FROM plan_check WHERE id = ANY(:ids)
"""
CONNECTIONS = """
SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
"""
CHECK_ROWS = """
SELECT id, status, error, extract(epoch FROM started_at) AS started,
       (SELECT count(*) FROM check_finding f WHERE f.check_id = c.id) AS findings
FROM plan_check c WHERE id = ANY(:ids) ORDER BY id
"""
# Procrastinate's line for each finished job (procrastinate.worker, action job_success or
# job_error): how long the job ran and when it ended, by the worker's clock. Not plan_check's
# finished_at: store_result sets it to now(), which PostgreSQL fixes at the start of the
# transaction that evaluates and stores the check, so it is within milliseconds of started_at.
JOB_ENDED = re.compile(
    r"run_check\[\d+\]\(check_id=(\d+)\) ended with status: (\w+), lasted ([0-9.]+) s"
    r".*? end_timestamp=([0-9.]+)"
)


def job_durations(logs: list[Path]) -> tuple[dict[int, tuple[str, float, float]], list[int]]:
    """Each finished check job in the worker logs: check id -> (status, seconds, end time),
    and the ids of checks whose job ended more than once."""
    ended: dict[int, tuple[str, float, float]] = {}
    twice = []
    for path in logs:
        for match in JOB_ENDED.finditer(path.read_text(errors="replace")):
            check_id, status, seconds, end = match.groups()
            if int(check_id) in ended:
                twice.append(int(check_id))
            ended[int(check_id)] = (status, float(seconds), float(end))
    return ended, twice


def db_size_bytes() -> int:
    """The scale database's size on disk."""
    return int(common.psql(common.BENCH_DB, "SELECT pg_database_size(current_database())"))


def stored_bytes_per_check() -> dict[str, Any]:
    """What a stored check of an L plan costs on disk (check_finding with its indexes and
    TOAST, per stored finding and per check), from the tables as they are."""
    row = common.psql(
        common.BENCH_DB,
        "SELECT pg_total_relation_size('check_finding'), (SELECT count(*) FROM check_finding), "
        "(SELECT count(*) FROM plan_check WHERE status = 'done')",
    ).split("|")
    size, findings, checks = (int(v) for v in row)
    return {
        "check_finding_bytes": size,
        "findings": findings,
        "checks_done": checks,
        "bytes_per_finding": round(size / findings) if findings else None,
    }


# --- workers --------------------------------------------------------------------------------


def start_workers(logs: list[Path]) -> list[subprocess.Popen]:
    """Start a worker process (concurrency 1, queue checks) per log file, each in its own
    process group."""
    processes = []
    for path in logs:
        with open(path, "wb") as out:
            processes.append(
                subprocess.Popen(
                    [str(ARE), "worker", "--concurrency", "1", "--queue", "checks"],
                    cwd=common.ROOT,
                    env=dict(os.environ),
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                )
            )
    return processes


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process group this started, then SIGKILL what is left after 30 s."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def worker_round(count: int, version_ids: list[int], log_dir: Path, number: int) -> dict[str, Any]:
    """Queue one check per version, let `count` workers run them all; what it took."""
    from sqlalchemy import text

    check_ids = queue_checks(version_ids)
    load_before = load_average()
    busy_before, all_before = machine_busy()
    started = time.perf_counter()
    logs = [log_dir / f"worker-{count}-round{number}-{i}.log" for i in range(count)]
    processes = start_workers(logs)
    max_connections = 0
    backend_cpu: dict[int, float] = {}
    try:
        with session() as db:
            while True:
                finished, failed = db.execute(text(CHECK_STATE), {"ids": check_ids}).one()
                pids = [row.pid for row in db.execute(text(CONNECTIONS))]
                db.rollback()  # a fresh snapshot on the next poll
                max_connections = max(max_connections, len(pids))
                for pid in pids:  # a backend's CPU, last seen while alive
                    backend_cpu[pid] = max(backend_cpu.get(pid, 0.0), cpu_seconds(pid))
                if finished == len(check_ids):
                    break
                dead = [p.pid for p in processes if p.poll() is not None]
                if dead:
                    raise RuntimeError(f"worker(s) {dead} stopped; see {log_dir}")
                if time.perf_counter() - started > ROUND_TIMEOUT_S:
                    raise RuntimeError(f"{count} worker(s): not done in {ROUND_TIMEOUT_S:.0f} s")
                time.sleep(0.25)
        wall = time.perf_counter() - started
        worker_cpu = sum(cpu_seconds(p.pid) for p in processes)
        busy_after, all_after = machine_busy()
    finally:
        stop_processes(processes)
    with session() as db:
        rows = db.execute(text(CHECK_ROWS), {"ids": check_ids}).all()
    ended, twice = job_durations(logs)
    missing = sorted(set(check_ids) - set(ended))
    if missing:
        raise RuntimeError(f"no end of the jobs of checks {missing} in {logs}")
    seconds = [ended[i][1] for i in check_ids]
    makespan = max(ended[i][2] for i in check_ids) - min(float(r.started) for r in rows)
    return {
        "workers": count,
        "checks": len(check_ids),
        "failed": failed,
        "errors": sorted({r.error for r in rows if r.error}),
        "job_ends": len(ended) + len(twice),  # this round's run_check jobs, from the logs
        "checks_run_twice": sorted(set(twice) & set(check_ids)),
        "wall_s": round(wall, 2),
        "makespan_s": round(makespan, 2),
        "plans_per_min": round(len(check_ids) / wall * 60, 2),
        "plans_per_min_makespan": round(len(check_ids) / makespan * 60, 2),
        "per_check_s": common.summary(seconds),
        "sum_check_s": round(sum(seconds), 2),
        "findings": sum(r.findings for r in rows),
        "worker_cpu_s": round(worker_cpu, 2),
        "db_backend_cpu_s": round(sum(backend_cpu.values()), 2),
        "machine_busy_cpu_s": round(busy_after - busy_before, 2),
        "machine_utilisation_pct": round(
            100 * (busy_after - busy_before) / (all_after - all_before), 1
        ),
        "max_connections": max_connections,
        "load_before": load_before,
        "load_after": load_average(),
    }


def reset_checks() -> bool:
    """Empty the checks and findings of earlier runs (the database grows by about 1 GB a full
    run), so the storage figures are this run's; only in `arealsjekk_scale`."""
    if common.BENCH_DB != "arealsjekk_scale":
        log(f"checks of earlier runs kept: {common.BENCH_DB} is not arealsjekk_scale")
        return False
    # CASCADE: the findings, their reviews and whatever else refers to a check.
    common.psql(common.BENCH_DB, "TRUNCATE plan_check CASCADE")
    return True  # their jobs still queued are dropped by abandon_leftovers


def abandon_leftovers() -> int:
    """Fail the checks an interrupted earlier run left queued, and drop their jobs, so that
    each round's workers run that round's checks only; how many there were."""
    from sqlalchemy import text

    with session() as db:
        db.execute(
            text(
                "DELETE FROM procrastinate_jobs WHERE task_name = 'run_check' "
                "AND status IN ('todo', 'doing')"
            )
        )
        left = db.execute(
            text(
                "UPDATE plan_check SET status = 'failed', finished_at = now(), "
                "error = 'abandoned by an interrupted benchmark run (bench/scale.py)' "
                "WHERE status IN ('queued', 'running')"
            )
        ).rowcount
        db.commit()
    return left


def measure_workers(settings: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    """Worker throughput on the 18 L plans for each worker count, repeated in turns."""
    abandoned = abandon_leftovers()
    if abandoned:
        log(f"{abandoned} check(s) left queued by an interrupted run marked failed")
    plans = phase_log("store the L plans as proposal versions", lambda: store_plans("L"))
    version_ids = [p["version_id"] for p in plans]
    rounds = []
    for repeat in range(settings["worker_repeats"]):
        for count in settings["workers"]:
            log(f"workers: {count} process(es), round {repeat + 1} (load {load_average():.2f})")
            result = worker_round(count, version_ids, log_dir, repeat + 1)
            result["round"] = repeat + 1
            log(
                f"  {result['wall_s']:.1f} s, {result['plans_per_min']:.1f} plans/min, "
                f"check p50 {result['per_check_s']['p50']:.2f} s"
            )
            rounds.append(result)
    return {
        "plans": plans,
        "features": sum(p["features"] for p in plans),
        "rounds": rounds,
        "by_workers": {
            str(n): best_and_median([r for r in rounds if r["workers"] == n])
            for n in settings["workers"]
        },
    }


def best_and_median(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round figures of one worker count: every round's plans/min and their median."""
    rates = sorted(r["plans_per_min"] for r in rounds)
    per_check = sorted(r["per_check_s"]["p50"] for r in rounds)
    return {
        "rounds": len(rounds),
        "plans_per_min": rates,
        "plans_per_min_median": common.percentile(rates, 50),
        "wall_s_median": common.percentile([r["wall_s"] for r in rounds], 50),
        "makespan_s_median": common.percentile([r["makespan_s"] for r in rounds], 50),
        "per_check_p50_s_median": common.percentile(per_check, 50),
        "per_check_max_s": max(r["per_check_s"]["max"] for r in rounds),
        "sum_check_s_median": common.percentile([r["sum_check_s"] for r in rounds], 50),
        "cpu_s_per_check_median": common.percentile(
            [(r["worker_cpu_s"] + r["db_backend_cpu_s"]) / r["checks"] for r in rounds], 50
        ),
        "max_connections": max(r["max_connections"] for r in rounds),
        "failed": sum(r["failed"] for r in rounds),
    }


# --- API processes --------------------------------------------------------------------------


def closed_loop(
    port: int,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    clients: int,
    warmup_s: float,
    measure_s: float,
) -> dict[str, Any]:
    """`clients` threads each send the request again as soon as the answer is in, for
    warm-up + measuring time; requests that finish inside the measuring window count.

    Each request has a connection of its own (loopback: a fraction of a millisecond). With
    keep-alive connections the API processes of `serve --workers N` share the listening
    socket, so whichever process accepted a connection serves all of its requests: one
    process often got all 8 clients and the others none, and throughput depended on that.
    """
    lock = threading.Lock()
    done: list[tuple[float, float, int]] = []  # (finished, seconds, status)
    failures: list[str] = []
    start = time.perf_counter()
    window = (start + warmup_s, start + warmup_s + measure_s)

    def client() -> None:
        while time.perf_counter() < window[1]:
            try:
                status, _, seconds = http_bench.request(port, "POST", path, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(type(exc).__name__)
                time.sleep(0.05)  # a server that is down is not asked thousands of times
                continue
            with lock:
                done.append((time.perf_counter(), seconds, status))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = [d for d in done if window[0] <= d[0] <= window[1]]
    bad = [d[2] for d in counted if not 200 <= d[2] < 300]
    return {
        "requests_total": len(done),  # warm-up included: what the CPU figures cover
        "requests": len(counted),
        "requests_per_s": round(len(counted) / measure_s, 2),
        "latency_s": common.summary([d[1] for d in counted]),
        "errors": len(bad) + len(failures),
        "error_statuses": sorted(set(bad)),
        "connection_failures": sorted(set(failures)),
    }


def measure_api(settings: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    """S-check throughput with 1, 2 and 4 API processes, for each endpoint."""
    s_plan = store_plans("S")[0]
    token = http_bench.create_admin_key()
    body = common.plan_files("S")[0].read_bytes()
    auth = {"Authorization": f"Bearer {token}"}
    endpoints = {
        "stored": (
            f"/api/v1/proposals/{s_plan['proposal_id']}/versions/{s_plan['version']}/checks",
            None,
            auth,
        ),
        "quick": ("/api/v1/check", body, {**auth, "Content-Type": "application/geo+json"}),
    }
    # A crashed server process leaves a Python traceback of every thread in its log.
    os.environ.setdefault("PYTHONFAULTHANDLER", "1")
    runs, crashes = [], []
    for processes in settings["api_processes"]:
        for name in settings["api_endpoints"]:
            for attempt in range(1, 3):  # a run whose server crashed is tried once more
                log(
                    f"api: {processes} process(es), {name} ({endpoints[name][0]}), "
                    f"{settings['api_clients']} clients, attempt {attempt} "
                    f"(load {load_average():.2f})"
                )
                server_log = log_dir / f"serve-{processes}-{name}-{attempt}.log"
                run = api_run(processes, endpoints[name], settings, server_log)
                run.update({"endpoint": name, "attempt": attempt})
                if run["server_crashed"]:
                    log(f"  the server crashed; see {server_log}")
                    crashes.append(run)
                    continue
                log(
                    f"  {run['requests_per_s']:.1f} req/s, p50 "
                    f"{run['latency_s']['p50'] * 1000:.0f} ms, errors {run['errors']}"
                )
                runs.append(run)
                break
    return {"s_plan": s_plan, "runs": runs, "crashed_runs": crashes}


def api_run(
    processes: int, endpoint: tuple[str, bytes | None, dict[str, str]], settings: dict, log: Path
) -> dict[str, Any]:
    """One closed-loop run against a freshly started `arealsjekk serve --workers N`."""
    path, payload, headers = endpoint
    server = http_bench.Server(workers=processes, log=log)
    server.port = API_PORT
    with server:
        pids = server_pids(server.process.pid)
        cpu_before = {pid: cpu_seconds(pid) for pid in pids}
        load_before = load_average()
        with BackendSampler() as backends:
            run = closed_loop(
                server.port,
                path,
                payload,
                headers,
                settings["api_clients"],
                settings["api_warmup_s"],
                settings["api_measure_s"],
            )
        by_process = [round(cpu_seconds(pid) - cpu_before[pid], 2) for pid in pids]
        exit_code = server.process.poll()
    text = log.read_text(errors="replace")
    run.update(
        {
            "processes": processes,
            "path": path,
            "clients": settings["api_clients"],
            "server_cpu_s": round(sum(by_process), 2),
            # The supervisor first (when N > 1), then each API process: how evenly they worked.
            "server_cpu_s_by_process": by_process,
            "db_backend_cpu_s": round(backends.cpu_s, 2),
            "max_connections": backends.max_connections,
            "load_before": load_before,
            "load_after": load_average(),
            # uvicorn restarts a dead worker process when it supervises several; the log
            # keeps what the dead one said.
            "server_crashed": exit_code is not None or "Fatal Python error" in text,
            "server_exit_code": exit_code,
            "server_log": str(log),
        }
    )
    return run


class BackendSampler(threading.Thread):
    """Samples the scale database's PostgreSQL backends (other than its own) while running:
    the CPU seconds they spent meanwhile and the most connections at once."""

    def __init__(self, interval_s: float = 0.25):
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.max_connections = 0
        self.stopped = threading.Event()
        self.sampled = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        from sqlalchemy import text

        with session() as db:
            while True:
                pids = [row.pid for row in db.execute(text(CONNECTIONS))]
                db.rollback()
                self.max_connections = max(self.max_connections, len(pids))
                for pid in pids:
                    cpu = cpu_seconds(pid)
                    # A backend there at the first sample counts from then, a new one from 0.
                    self.first.setdefault(pid, cpu if not self.sampled.is_set() else 0.0)
                    self.last[pid] = max(self.last.get(pid, 0.0), cpu)
                self.sampled.set()
                if self.stopped.wait(self.interval_s):
                    return

    @property
    def cpu_s(self) -> float:
        """CPU seconds of the backends between the first sample and the last."""
        return sum(self.last[pid] - self.first[pid] for pid in self.last)

    def __enter__(self) -> "BackendSampler":
        self.start()
        self.sampled.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.join(timeout=10)


def server_pids(root: int) -> list[int]:
    """The uvicorn supervisor and its worker processes (children of the started process)."""
    pids = [root]
    for _ in range(2):  # the supervisor, then its workers
        for pid in list(pids):
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                pids += [int(c) for c in children.read_text().split() if int(c) not in pids]
    return pids


# --- output ---------------------------------------------------------------------------------


def phase_log(name: str, run: Any) -> Any:
    """Run one step with a log line and its time."""
    started = time.perf_counter()
    log(f"{name} ...")
    value = run()
    log(f"{name}: {time.perf_counter() - started:.1f} s")
    return value


def table(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    workers = results.get("workers", {})
    lines = []
    if workers:
        one = workers["by_workers"].get("1", {}).get("plans_per_min_median")
        lines += [
            f"Re-check of the 18 L plans ({workers['features']:,} features), background jobs, "
            f"`arealsjekk worker --concurrency 1 --queue checks` × N, {results['machine']['nproc']}"
            " CPUs",
            "",
            "| Workers | Rounds | Plans/min (each round) | Wall, median | First claim → last "
            "done | Check p50 / max | CPU s per check (worker + PostgreSQL) | Speed-up vs 1 "
            "| Connections (max) | Failed |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for n, row in workers["by_workers"].items():
            rate = row["plans_per_min_median"]
            lines.append(
                f"| {n} | {row['rounds']} | {' / '.join(f'{r:.1f}' for r in row['plans_per_min'])}"
                f" | {row['wall_s_median']:.1f} s | {row['makespan_s_median']:.1f} s "
                f"| {row['per_check_p50_s_median']:.2f} s / {row['per_check_max_s']:.2f} s "
                f"| {row['cpu_s_per_check_median']:.2f} s "
                f"| {rate / one:.2f}× | {row['max_connections']} | {row['failed']} |"
            )
    api = results.get("api", {})
    if api:
        lines += [
            "",
            f"S check (30 features) over HTTP, {api['runs'][0]['clients']} closed-loop clients on "
            "the same machine, `arealsjekk serve --workers N`",
            "",
            "| API processes | Endpoint | Requests/s | p50 | p95 | Errors | CPU per request "
            "(API + PostgreSQL) |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in api["runs"]:
            total = run.get("requests_total") or run["requests"]
            cpu_s = run["server_cpu_s"] + run.get("db_backend_cpu_s", 0.0)
            per_ms = 1000 * cpu_s / total if total else 0
            path = run["path"].replace(api["s_plan"]["proposal_id"], "{id}")
            latency = run["latency_s"]
            lines.append(
                f"| {run['processes']} | `POST {path}` | {run['requests_per_s']:.1f} "
                f"| {latency['p50'] * 1000:.0f} ms | {latency['p95'] * 1000:.0f} ms "
                f"| {run['errors']} | {per_ms:.0f} ms |"
            )
        for run in api.get("crashed_runs", []):
            lines.append(
                f"\nCrashed: {run['processes']} API process(es), `{run['path']}`, attempt "
                f"{run['attempt']}: the server process died (exit code {run['server_exit_code']}) "
                f"after {run['requests_total']} answered requests; run again on a fresh server. "
                f"Log: {Path(run['server_log']).name}"
            )
    return "\n".join(lines)


def stop_on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM into SystemExit, so that `finally` blocks stop what this started."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Load the data, measure workers and API processes, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each setting once, shorter loads")
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to leave out: workers, api"
    )
    args = parser.parse_args()
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the workers and servers are stopped.
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    settings = QUICK if args.quick else FULL
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    suffix = "-quick" if args.quick else ""
    log_dir = common.WORK_DIR / "scale"
    log_dir.mkdir(parents=True, exist_ok=True)
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    from run import machine

    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "database": common.BENCH_DB,
        "machine": machine(),
        "settings": settings,
        "load_at_start": load_average(),
    }
    results["data"] = load_scale_data()
    results["checks_reset"] = reset_checks()
    results["db_size_bytes_before"] = db_size_bytes()
    if "workers" not in skip:
        results["workers"] = measure_workers(settings, log_dir)
    if "api" not in skip:
        results["api"] = measure_api(settings, log_dir)
    results["db_size_bytes_after"] = db_size_bytes()
    results["storage"] = stored_bytes_per_check()
    results["total_s"] = round(time.perf_counter() - started, 1)
    text = table(results)
    results["table_markdown"] = text
    (common.RESULTS_DIR / f"scale{suffix}.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False, default=str)
    )
    (common.RESULTS_DIR / f"scale{suffix}.md").write_text(text + "\n", "utf-8")
    print(text)
    log(f"done in {results['total_s']:.0f} s; results in {common.RESULTS_DIR}")


if __name__ == "__main__":
    main()
