"""Examples of the liveness and readiness answers."""

HEALTHY = {"status": "ok", "checks": {}}

READY = {
    "status": "ready",
    "checks": {
        "migrations_head": "0013_job_queue",
        "database": "reachable",
        "migrations_current": "0013_job_queue",
        "queue": {"workers": 2, "jobs_waiting": 0, "oldest_waiting_s": None},
        "rasters": "present",
    },
}

NOT_READY = {
    "status": "not ready",
    "checks": {"migrations_head": "0013_job_queue", "database": "unreachable"},
}
