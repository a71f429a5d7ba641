"""Background checks as jobs on the PostgreSQL queue: run by separate worker processes, each
job once however many workers there are, a crashed worker's job taken over, nothing
re-queued when an API process starts."""

import re
import time
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.db import get_engine
from tests.conftest import ENGLISH
from tests.test_checks_api import X0, cabin, layers, upload  # noqa: F401 (fixture)
from tests.workers import WorkerProcess, job_rows, run_jobs, wait_for


def check_status(client, check_id: int) -> str:
    return client.get(f"/api/v1/checks/{check_id}").json()["status"]


def queue_checks(client, override_settings, raster_dir, count: int) -> list[int]:
    """Upload one two-area plan and ask for `count` checks of it, all as background jobs."""
    override_settings(sync_check_max_features=1, raster_dir=raster_dir)
    version_url = upload(client, cabin(X0, "BFR1"), cabin(X0 + 250, "BFR2"))
    ids = []
    for _ in range(count):
        response = client.post(f"{version_url}/checks")
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def test_a_large_plans_check_waits_for_a_worker(client, layers, override_settings, monkeypatch):  # noqa: F811
    """The API only queues the check (with its job, in the same transaction); a worker runs it."""
    (check_id,) = queue_checks(client, override_settings, layers, 1)
    time.sleep(0.5)
    assert check_status(client, check_id) == "queued"  # nothing in the API process runs it
    (job,) = job_rows("run_check")
    assert job["args"] == {"check_id": check_id} and job["status"] == "todo"
    assert job["lock"] == f"check:{check_id}"

    run_jobs(monkeypatch, layers)
    body = client.get(f"/api/v1/checks/{check_id}").json()
    assert body["status"] == "done", body
    assert body["summary"]["by_rule"]["G1"]["conflict"] == 1
    assert job_rows("run_check") == []  # done jobs are deleted


def test_one_job_waits_per_check(client, layers, override_settings):  # noqa: F811
    """The queueing lock keeps one waiting job per check, so a retry cannot queue it twice."""
    from procrastinate.exceptions import AlreadyEnqueued

    from app import jobs
    from app.db import get_sessionmaker

    (check_id,) = queue_checks(client, override_settings, layers, 1)
    with get_sessionmaker()() as session, pytest.raises(AlreadyEnqueued):
        jobs.defer_check(session, check_id)
    assert len(job_rows("run_check")) == 1


def test_starting_the_api_requeues_nothing(app, api_keys, layers, override_settings):  # noqa: F811
    """An API process starting finds queued checks and leaves them to the workers."""
    with TestClient(app, headers=ENGLISH) as client:
        client.headers["Authorization"] = f"Bearer {api_keys['admin']}"
        queue_checks(client, override_settings, layers, 2)
    before = job_rows()
    for _ in range(2):  # two more API processes start and stop
        with TestClient(app, headers=ENGLISH) as client:
            assert client.get("/healthz").status_code == 200
    assert job_rows() == before
    with get_engine().connect() as connection:
        statuses = connection.execute(text("SELECT status FROM plan_check")).scalars().all()
    assert statuses == ["queued", "queued"]


@pytest.mark.slow
def test_three_workers_run_every_job_exactly_once(client, layers, override_settings, tmp_path):  # noqa: F811
    """Twelve checks and three worker processes: all done, each job started by one worker
    once (atomic claiming), and the work is shared."""
    workers = [
        WorkerProcess(tmp_path / f"worker-{n}.log", raster_dir=str(layers), worker_concurrency="2")
        for n in range(3)
    ]
    try:
        for worker in workers:
            wait_for(lambda w=worker: "Starting worker" in w.log(), 60, "a worker to start")
        check_ids = queue_checks(client, override_settings, layers, 12)
        wait_for(
            lambda: all(check_status(client, c) == "done" for c in check_ids),
            120,
            "the twelve checks to be done",
        )
    finally:
        codes = [worker.stop() for worker in workers]
    logs = [worker.log() for worker in workers]
    assert codes == [0, 0, 0], logs
    started = Counter(
        int(check_id)
        for log in logs
        for check_id in re.findall(r"Starting job run_check\[\d+\]\(check_id=(\d+)\)", log)
    )
    assert set(started) == set(check_ids), logs
    assert set(started.values()) == {1}, started
    print("jobs per worker:", [len(re.findall(r"Starting job run_check", log)) for log in logs])


@pytest.mark.slow
def test_a_crashed_workers_check_is_done_by_another(client, layers, override_settings, tmp_path):  # noqa: F811, E501
    """A worker killed in the middle of a check (SIGKILL: no clean-up) stops sending
    heartbeats; another worker retries its job and the check ends done."""
    (check_id,) = queue_checks(client, override_settings, layers, 1)
    quick = {"worker_heartbeat_s": "0.5", "worker_stalled_after_s": "3", "raster_dir": str(layers)}
    # The test holds the check's row, so the first worker is stuck mid-job when it is killed.
    holder = get_engine().connect()
    holder.execute(text("SELECT 1 FROM plan_check WHERE id = :id FOR UPDATE"), {"id": check_id})
    first = WorkerProcess(tmp_path / "first.log", **quick)
    try:
        wait_for(lambda: job_rows("run_check")[0]["status"] == "doing", 30, "the first worker")
        first.kill()
    finally:
        holder.rollback()
        holder.close()
    assert check_status(client, check_id) == "queued"
    second = WorkerProcess(tmp_path / "second.log", **quick)
    try:
        # The maintenance job runs every 15 s and retries the jobs of stalled workers.
        wait_for(lambda: check_status(client, check_id) == "done", 60, "the retried check")
    finally:
        second.stop()
    assert "retrying job" in second.log(), second.log()
    body = client.get(f"/api/v1/checks/{check_id}").json()
    assert body["summary"]["by_rule"]["G1"]["conflict"] == 1


def test_readiness_reports_the_queue(client, layers, override_settings):  # noqa: F811
    """/readyz names the live workers, the jobs waiting and the longest wait."""
    queue_checks(client, override_settings, layers, 2)
    body = client.get("/readyz").json()
    queue = body["checks"]["queue"]
    assert queue["workers"] == 0
    assert queue["jobs_waiting"] == 2
    assert 0 <= queue["oldest_waiting_s"] < 60


def test_a_stalled_job_whose_twin_waits_is_dropped_not_retried(caplog):
    """A webhook round left running by a worker that died, while another round waits
    already: the maintenance job ends the stalled one instead of failing on the queueing
    lock, and the waiting round runs."""
    from app import jobs
    from app.settings import get_settings

    with get_engine().begin() as connection:
        connection.execute(
            text(
                "INSERT INTO procrastinate_jobs "
                "(queue_name, task_name, queueing_lock, status, priority) "
                "VALUES ('webhooks', 'deliver_webhooks', 'webhooks:now', 'doing', 0), "
                "('webhooks', 'deliver_webhooks', 'webhooks:now', 'todo', 0), "
                "('maintenance', 'maintenance', 'maintenance', 'todo', 10)"
            )
        )
        connection.execute(
            text("UPDATE procrastinate_jobs SET args = '{\"timestamp\": 0}' WHERE id = 3")
        )
    jobs.drain(get_settings())
    assert job_rows() == []  # the stalled one dropped, the others done (and deleted)
    assert any("a twin waits" in record.getMessage() for record in caplog.records)


def test_a_small_plans_check_leaves_no_job_behind(client, layers):  # noqa: F811
    """Run in the request, the check's safety-net job is cancelled when it is done."""
    version_url = upload(client, cabin(X0, "BFR1"))
    response = client.post(f"{version_url}/checks")
    assert response.status_code == 201 and response.json()["status"] == "done"
    assert job_rows() == []


def test_a_check_the_api_left_is_finished(client, layers, monkeypatch):  # noqa: F811
    """A small plan is checked in the request; if the API process dies before it ends, the
    check's safety-net job (due a minute later) lets a worker finish it."""
    from app.check_runner import create_check
    from app.db import get_sessionmaker
    from app.repositories.proposals import get_version
    from app.settings import get_settings

    proposal_id = upload(client, cabin(X0, "BFR1")).split("/")[4]
    with get_sessionmaker()() as session:
        version = get_version(session, proposal_id, 1)
        check_id = create_check(session, version, get_settings(), background=False).id
    (job,) = job_rows("run_check")
    run_jobs(monkeypatch, layers)
    assert check_status(client, check_id) == "queued"  # not due yet: the API may be on it
    with get_engine().begin() as connection:  # the minute passes
        connection.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    run_jobs(monkeypatch, layers)
    assert check_status(client, check_id) == "done"


def test_a_check_busy_elsewhere_is_retried(client, layers, override_settings, monkeypatch):  # noqa: F811  # noqa: F811, E501
    """While another process holds the check (its advisory lock), a worker's job neither
    runs it a second time nor fails it: the job is retried later and then finds it done."""
    (check_id,) = queue_checks(client, override_settings, layers, 1)
    with get_engine().connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(2201, :id)"), {"id": check_id})
        holder.commit()
        run_jobs(monkeypatch, layers)
        (job,) = job_rows("run_check")
        assert job["status"] == "todo" and job["attempts"] == 1
        assert check_status(client, check_id) == "queued"
        holder.execute(text("SELECT pg_advisory_unlock(2201, :id)"), {"id": check_id})
        holder.commit()
    with get_engine().begin() as connection:
        connection.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    run_jobs(monkeypatch, layers)
    assert check_status(client, check_id) == "done"


def test_a_job_that_keeps_killing_workers_is_given_up(client, layers, override_settings):  # noqa: F811
    """A check whose worker died three times (out of memory, say) is not handed on for
    ever: the maintenance job gives the job up and records the check as failed."""
    from app import jobs
    from app.settings import get_settings

    (check_id,) = queue_checks(client, override_settings, layers, 1)
    with get_engine().begin() as connection:
        connection.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing', attempts = 3, worker_id = NULL "
                "WHERE task_name = 'run_check'"
            )
        )
        connection.execute(
            text("UPDATE plan_check SET status = 'running', created_at = now() - interval '1 h'")
        )
        connection.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, "
                "priority) VALUES ('maintenance', 'maintenance', 'maintenance', "
                "'{\"timestamp\": 0}', 10)"
            )
        )
    jobs.drain(get_settings())
    body = client.get(f"/api/v1/checks/{check_id}").json()
    assert body["status"] == "failed"
    assert body["error"].startswith("kontrollen ble avbrutt")
    assert [job["status"] for job in job_rows("run_check")] == ["failed"]


@pytest.mark.slow
def test_a_worker_outlives_a_database_outage(client, layers, override_settings, tmp_path):  # noqa: F811
    """The database refuses connections for a few seconds and drops every session (as a
    restart or failover does): the worker keeps running and takes the next check."""
    database = get_engine().url.database
    worker = WorkerProcess(tmp_path / "worker.log", raster_dir=str(layers))
    try:
        wait_for(lambda: "Starting worker" in worker.log(), 60, "the worker to start")
        other = create_engine(get_engine().url.set(database="postgres"), poolclass=NullPool)
        with other.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
            admin.commit()
            time.sleep(12)
            admin.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
            admin.commit()
        get_engine().dispose()  # this process's pooled connections were dropped too
        assert worker.process.poll() is None, worker.log()
        (check_id,) = queue_checks(client, override_settings, layers, 1)
        wait_for(lambda: check_status(client, check_id) == "done", 60, "the check after it")
    finally:
        assert worker.stop() == 0, worker.log()
