"""Background work as jobs on a PostgreSQL-backed queue (Procrastinate), run by
`arealsjekk worker` processes separate from the API.

Jobs live in the application's own database (migration 0013), so any number of API
replicas and workers share one queue without another server. A worker claims a job
atomically (Procrastinate's fetch function: `FOR UPDATE SKIP LOCKED`), so each job runs
once; a worker that stops sending heartbeats has its jobs retried by another
(`maintenance`). Jobs are deferred in the same transaction as the rows they act on: a
check is never queued without its job, nor a job left for a check that was rolled back.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.errors import DATABASE_UNAVAILABLE
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHECKS = "checks"
WEBHOOKS = "webhooks"
MAINTENANCE = "maintenance"
QUEUES = (CHECKS, WEBHOOKS, MAINTENANCE)

# A database outage is waited out, not recorded as the check's failure: the job is tried
# again with growing pauses (2, 4, 8 … s, about 17 minutes in all).
OUTAGE_RETRY = procrastinate.RetryStrategy(
    max_attempts=10,
    exponential_wait=2,
    retry_exceptions={*DATABASE_UNAVAILABLE, psycopg.OperationalError},
)

# The tasks and the worker's app. `arealsjekk worker` runs it with a connected connector in
# place of this unconfigured one (`run_worker`).
queue = procrastinate.App(connector=procrastinate.PsycopgConnector())
# Jobs are deferred on the caller's own connection, inside its transaction, through a
# synchronous connector that is never opened (the worker's own connector is asynchronous,
# and its tasks defer on their sessions' connections too).
_deferrer = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())


def conninfo(database_url: str) -> str:
    """Return the libpq connection string for the service's SQLAlchemy database URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _connection(session: Session) -> psycopg.Connection:
    """The psycopg connection under a session's current transaction."""
    return session.connection().connection.driver_connection


def check_lock(check_id: int) -> str:
    """The lock of a check's jobs: at most one waits and one runs at a time."""
    return f"check:{check_id}"


def _defer(
    session: Session, task: str, queue_name: str, args: dict[str, Any], **options: Any
) -> int:
    """Defer a job by task name on the session's connection, in its transaction."""
    deferrer = _deferrer.configure_task(
        task, queue=queue_name, connection=_connection(session), **options
    )
    return deferrer.defer(**args)


def defer_check(session: Session, check_id: int) -> int:
    """Queue a check's job in the session's transaction (the caller commits); return its id."""
    lock = check_lock(check_id)
    return _defer(
        session, "run_check", CHECKS, {"check_id": check_id}, lock=lock, queueing_lock=lock
    )


def defer_recheck(session: Session, recheck_id: int) -> int:
    """Queue a layer re-check's job in the session's transaction (the caller commits)."""
    lock = f"recheck:{recheck_id}"
    return _defer(session, "recheck_layer", CHECKS, {"recheck_id": recheck_id}, queueing_lock=lock)


def defer_webhook_round(session: Session, at: datetime | None = None) -> None:
    """Queue a round of webhook deliveries (now, or at `at` for retries) in the session's
    transaction; when one is waiting already, no second is added."""
    savepoint = session.begin_nested()  # a refused duplicate must not end the caller's work
    try:
        name = "webhooks:now" if at is None else "webhooks:later"
        _defer(session, "deliver_webhooks", WEBHOOKS, {}, queueing_lock=name, schedule_at=at)
    except AlreadyEnqueued:
        savepoint.rollback()
    else:
        savepoint.commit()


@queue.task(name="run_check", queue=CHECKS, retry=OUTAGE_RETRY)
def run_check(check_id: int) -> None:
    """Run a queued check (the rule set it recorded, its pinned layer versions)."""
    from app.check_runner import execute_check

    execute_check(check_id, get_settings())


@queue.task(name="recheck_layer", queue=CHECKS, retry=OUTAGE_RETRY)
def recheck_layer(recheck_id: int) -> None:
    """Queue a check of every current proposal version a new layer version touches."""
    from app.rechecks import run_recheck

    run_recheck(recheck_id, get_settings())


@queue.task(name="deliver_webhooks", queue=WEBHOOKS, retry=OUTAGE_RETRY)
def deliver_webhooks() -> None:
    """Send every webhook delivery that is due, within the concurrency limits; queue the
    next round for the earliest retry."""
    from app.db import get_sessionmaker
    from app.webhooks import deliver_due, next_retry_at

    settings = get_settings()
    deliver_due(settings)
    with get_sessionmaker()() as session:
        retry_at = next_retry_at(session)
        if retry_at is not None:
            defer_webhook_round(session, max(retry_at, datetime.now(UTC)))
            session.commit()


DELIVERIES_DUE = """
SELECT EXISTS (
  SELECT 1 FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= now()
) AS due
"""


# Every 15 s (croniter reads a sixth field as seconds).
@queue.periodic(cron="* * * * * */15", periodic_id="maintenance")
@queue.task(name="maintenance", queue=MAINTENANCE, queueing_lock="maintenance", pass_context=True)
async def maintenance(context: procrastinate.JobContext, timestamp: int) -> None:
    """Retry the jobs of workers that stopped sending heartbeats (crashed or cut off), and
    start a webhook round when deliveries are due (a retry whose round was lost)."""
    app = context.app
    settings = get_settings()
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.worker_stalled_after_s
    )
    for job in stalled:
        logger.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    if (await app.connector.execute_query_one_async(DELIVERIES_DUE))["due"]:
        try:
            await app.configure_task("deliver_webhooks", queueing_lock="webhooks:now").defer_async()
        except AlreadyEnqueued:
            pass


def _connector(settings: Settings, concurrency: int) -> procrastinate.PsycopgConnector:
    """A connection pool to the configured database for a worker."""
    return procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.database_url),
        min_size=1,
        max_size=concurrency + 2,  # one per running job, the listener and the heartbeat
    )


def run_worker(
    settings: Settings, queues: list[str] | None = None, concurrency: int | None = None
) -> None:
    """Process jobs until stopped by SIGINT or SIGTERM (running jobs are let finish)."""
    concurrency = concurrency or settings.worker_concurrency
    with queue.replace_connector(_connector(settings, concurrency)):
        queue.run_worker(
            queues=queues or list(QUEUES),
            concurrency=concurrency,
            delete_jobs="successful",
            update_heartbeat_interval=settings.worker_heartbeat_s,
            stalled_worker_timeout=settings.worker_stalled_after_s,
            install_signal_handlers=True,
        )


def drain(settings: Settings, queues: list[str] | None = None) -> None:
    """Run every job that is due now, then return (tests and one-off operator runs)."""
    with queue.replace_connector(_connector(settings, 1)):
        queue.run_worker(
            queues=queues or list(QUEUES),
            concurrency=1,
            wait=False,
            delete_jobs="successful",
            install_signal_handlers=False,
            listen_notify=False,
        )


QUEUE_STATE = text(
    """
    SELECT
      (SELECT count(*) FROM procrastinate_workers
        WHERE last_heartbeat > now() - make_interval(secs => :stalled_after_s)) AS workers,
      count(j.id) AS jobs_waiting,
      extract(epoch FROM now() - min(greatest(e.at, j.scheduled_at))) AS oldest_waiting_s
    FROM procrastinate_jobs j
    LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
    WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
    """
)


def queue_state(session: Session, stalled_after_s: float) -> dict[str, Any]:
    """The queue as readiness reports it: workers alive, jobs due and waiting, the longest
    wait in seconds (from when the job was deferred or became due)."""
    row = session.execute(QUEUE_STATE, {"stalled_after_s": stalled_after_s}).one()
    oldest = None if row.oldest_waiting_s is None else round(float(row.oldest_waiting_s), 1)
    return {"workers": row.workers, "jobs_waiting": row.jobs_waiting, "oldest_waiting_s": oldest}
