"""Background work as jobs on a PostgreSQL-backed queue (Procrastinate), run by
`arealsjekk worker` processes separate from the API.

Jobs live in the application's own database (migration 0013), so any number of API
replicas and workers share one queue without another server. A worker claims a job
atomically (Procrastinate's fetch function: `FOR UPDATE SKIP LOCKED`), so each job runs
once; a worker that stops sending heartbeats has its jobs retried by another
(`maintenance`). Jobs are deferred in the same transaction as the rows they act on: a
check is never queued without its job, nor a job left for a check that was rolled back.
"""

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import procrastinate
import procrastinate.worker
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from sqlalchemy import Connection, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.db import get_engine
from app.errors import DATABASE_UNAVAILABLE
from app.settings import Settings, get_settings
from spatial.errors import ArealsjekkError

logger = logging.getLogger(__name__)

CHECKS = "checks"
WEBHOOKS = "webhooks"
MAINTENANCE = "maintenance"
QUEUES = (CHECKS, WEBHOOKS, MAINTENANCE)
MAINTENANCE_PRIORITY = 10  # jobs of higher priority are fetched first (default 0)

# Advisory-lock namespaces (the first key of pg_try_advisory_lock(int, int)).
CHECK_LOCK = 22_01
RECHECK_LOCK = 22_02
# A job whose worker died this many times is given up (it may be what kills them: memory).
STALLED_RETRY_LIMIT = 3


class BusyElsewhere(Exception):
    """What the job works on is being worked on by another process right now (a worker
    still finishing it after SIGTERM, or the API checking a small plan): try again later."""


# A database outage is waited out, not recorded as the check's failure, and so is a check
# another process is still running: the job is tried again with growing pauses (2, 4,
# 8 … s, about 34 minutes in all).
JOB_RETRY = procrastinate.RetryStrategy(
    max_attempts=10,
    exponential_wait=2,
    retry_exceptions={*DATABASE_UNAVAILABLE, psycopg.OperationalError, BusyElsewhere},
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


@contextmanager
def exclusively(namespace: int, key: int) -> Iterator[Connection]:
    """Run the block holding a PostgreSQL advisory lock on (namespace, key), on the
    connection it yields (bind the block's session to it); raise BusyElsewhere when another
    process holds the lock. The lock is the connection's, so a process that dies (SIGKILL,
    OOM) frees it at once, unlike a row marked "running"."""
    with get_engine().connect() as connection:
        held = connection.execute(
            text("SELECT pg_try_advisory_lock(:namespace, :key)"),
            {"namespace": namespace, "key": key},
        ).scalar_one()
        connection.commit()
        if not held:
            raise BusyElsewhere(f"({namespace}, {key}) is being worked on elsewhere")
        try:
            yield connection
        finally:
            # Unlocked by hand: the pool keeps the connection, and the lock with it (a
            # connection the database dropped has lost it already).
            with suppress(*DATABASE_UNAVAILABLE):
                connection.rollback()
                connection.execute(
                    text("SELECT pg_advisory_unlock(:namespace, :key)"),
                    {"namespace": namespace, "key": key},
                )
                connection.commit()


def record_failure(row: Any, exc: Exception) -> None:
    """Mark a check or re-check batch failed (the caller commits): a domain error's text,
    never another exception's, which may hold SQL, paths or other users' data."""
    row.status = "failed"
    row.error = str(exc.detail) if isinstance(exc, ArealsjekkError) else "internal error"
    row.finished_at = func.clock_timestamp()


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


def defer_check(session: Session, check_id: int, delay_s: float | None = None) -> int:
    """Queue a check's job in the session's transaction (the caller commits); return its id.

    With `delay_s` the job is a safety net for a check the caller runs itself (the API, for
    a small plan): it runs only if the caller has not finished and cancelled it by then."""
    lock = check_lock(check_id)
    schedule = {} if delay_s is None else {"schedule_in": {"seconds": delay_s}}
    return _defer(
        session,
        "run_check",
        CHECKS,
        {"check_id": check_id},
        lock=lock,
        queueing_lock=lock,
        **schedule,
    )


def cancel_check_job(session: Session, check_id: int) -> None:
    """Delete a check's job that has not started (the caller commits); nothing if none."""
    job_id = session.execute(WAITING_JOB, {"lock": check_lock(check_id)}).scalar()
    if job_id is not None:
        _deferrer.job_manager.cancel_job_by_id(
            job_id, delete_job=True, connection=_connection(session)
        )


WAITING_JOB = text(
    "SELECT id FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo'"
)


def defer_recheck(session: Session, recheck_id: int) -> int:
    """Queue a layer re-check's job in the session's transaction (the caller commits)."""
    lock = f"recheck:{recheck_id}"
    return _defer(session, "recheck_layer", CHECKS, {"recheck_id": recheck_id}, queueing_lock=lock)


EARLIER_ROUND = text(
    "UPDATE procrastinate_jobs SET scheduled_at = least(scheduled_at, :at) "
    "WHERE queueing_lock = 'webhooks:later' AND status = 'todo'"
)


def defer_webhook_round(session: Session, at: datetime | None = None) -> None:
    """Queue a round of webhook deliveries (now, or at `at` for retries) in the session's
    transaction; when one is waiting already, no second is added."""
    name = "webhooks:now" if at is None else "webhooks:later"
    savepoint = session.begin_nested()  # a refused duplicate must not end the caller's work
    try:
        _defer(session, "deliver_webhooks", WEBHOOKS, {}, queueing_lock=name, schedule_at=at)
    except AlreadyEnqueued:
        savepoint.rollback()
        if at is not None:  # the waiting round comes no later than this retry needs
            session.execute(EARLIER_ROUND, {"at": at})
    else:
        savepoint.commit()


@queue.task(name="run_check", queue=CHECKS, retry=JOB_RETRY)
def run_check(check_id: int) -> None:
    """Run a queued check (the rule set it recorded, its pinned layer versions)."""
    from app.check_runner import execute_check

    execute_check(check_id, get_settings())


@queue.task(name="recheck_layer", queue=CHECKS, retry=JOB_RETRY)
def recheck_layer(recheck_id: int) -> None:
    """Queue a check of every current proposal version a new layer version touches."""
    from app.rechecks import run_recheck

    run_recheck(recheck_id, get_settings())


@queue.task(name="deliver_webhooks", queue=WEBHOOKS, retry=JOB_RETRY)
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


@queue.task(name="land_accounts", queue=CHECKS, retry=JOB_RETRY)
def land_accounts(trigger: str, kommunenummer: str | None = None, only_stale: bool = False) -> None:
    """Compute the land account of one municipality, or of all (with `only_stale` those whose
    latest account read older layer versions; app/land_account.py)."""
    from app.land_account import compute_land_accounts

    compute_land_accounts(get_settings(), kommunenummer, trigger, only_stale=only_stale)


def defer_land_accounts(
    session: Session, trigger: str, kommunenummer: str | None = None
) -> int | None:
    """Queue a land-account computation in the session's transaction (the caller commits);
    None when the same one waits already."""
    lock = f"land-account:{kommunenummer or 'all'}"
    savepoint = session.begin_nested()
    try:
        job_id = _defer(
            session,
            "land_accounts",
            CHECKS,
            {"trigger": trigger, "kommunenummer": kommunenummer},
            queueing_lock=lock,
        )
    except AlreadyEnqueued:
        savepoint.rollback()
        return None
    savepoint.commit()
    return job_id


# The municipalities whose latest land account read older layer versions (or another method
# or rule set) than the current ones, when no recomputation waits, runs or failed lately:
# the scheduled recomputation after a layer version changes (any way it was loaded).
LAND_ACCOUNTS_STALE = """
WITH latest AS (
  SELECT DISTINCT ON (kommunenummer) *
  FROM land_account ORDER BY kommunenummer, computed_at DESC, id DESC
), newest AS (
  SELECT layer_id, max(version) AS version FROM layer_version GROUP BY layer_id
)
SELECT EXISTS (
  SELECT 1 FROM latest a
  WHERE a.method_checksum <> %(method)s OR a.rule_set_checksum <> %(rule_set)s
     OR EXISTS (
       SELECT 1 FROM jsonb_each(a.layer_versions) AS used(layer_id, version)
       LEFT JOIN newest n ON n.layer_id = used.layer_id
       WHERE n.version IS DISTINCT FROM (used.version #>> '{}')::int)
) AND NOT EXISTS (
  SELECT 1 FROM procrastinate_jobs j
  WHERE j.task_name = 'land_accounts'
    AND (j.status IN ('todo', 'doing')
         OR (j.status = 'failed' AND EXISTS (
               SELECT 1 FROM procrastinate_events e
               WHERE e.job_id = j.id AND e.at > now() - interval '15 minutes')))
) AS stale
"""

DELIVERIES_DUE = """
SELECT EXISTS (
  SELECT 1 FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= now()
) AS due
"""

# A check or re-check batch still queued or running whose job is gone: its job failed for
# good (retries used up) or was given up. Older than a minute, so a check being created
# with its job is never caught between the two statements of another transaction.
ORPHANS_FAILED = """
WITH orphan_checks AS (
  UPDATE plan_check c SET status = 'failed', error = %(check_error)s,
         finished_at = clock_timestamp()
  WHERE c.status IN ('queued', 'running') AND c.created_at < now() - interval '1 minute'
    AND NOT EXISTS (
      SELECT 1 FROM procrastinate_jobs j
      WHERE j.task_name = 'run_check' AND j.status IN ('todo', 'doing')
        AND j.args = jsonb_build_object('check_id', c.id))
  RETURNING c.id
), orphan_batches AS (
  UPDATE layer_recheck r SET status = 'failed', error = %(batch_error)s,
         finished_at = clock_timestamp()
  WHERE r.status IN ('queued', 'running') AND r.created_at < now() - interval '1 minute'
    AND NOT EXISTS (
      SELECT 1 FROM procrastinate_jobs j
      WHERE j.task_name = 'recheck_layer' AND j.status IN ('todo', 'doing')
        AND j.args = jsonb_build_object('recheck_id', r.id))
  RETURNING r.id
)
SELECT (SELECT count(*) FROM orphan_checks) AS checks,
       (SELECT count(*) FROM orphan_batches) AS batches
"""
ORPHAN_ERROR = (
    "kontrollen ble avbrutt: arbeidsprosessen stoppet gjentatte ganger eller databasen var "
    "utilgjengelig for lenge; start en ny kontroll"
)


# Every 15 s (croniter reads a sixth field as seconds), before any waiting check or round:
# it is quick, and it is what gets a dead worker's jobs going again.
@queue.periodic(cron="* * * * * */15", periodic_id="maintenance", priority=MAINTENANCE_PRIORITY)
@queue.task(
    name="maintenance",
    queue=MAINTENANCE,
    queueing_lock="maintenance",
    pass_context=True,
    priority=MAINTENANCE_PRIORITY,
)
async def maintenance(context: procrastinate.JobContext, timestamp: int) -> None:
    """Retry the jobs of workers that stopped sending heartbeats (crashed or cut off) or give
    them up after STALLED_RETRY_LIMIT tries, fail the checks whose jobs are gone, and start a
    webhook round when deliveries are due (a retry whose round was lost)."""
    app = context.app
    manager = app.job_manager
    settings = get_settings()
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.worker_stalled_after_s
    )
    for job in stalled:
        if job.attempts >= STALLED_RETRY_LIMIT:
            await manager.finish_job(job, procrastinate.jobs.Status.FAILED, False)
            logger.error(
                "gave up job %s (%s): %d workers stopped in it",
                job.id,
                job.task_name,
                job.attempts + 1,
            )
            continue
        try:
            await manager.retry_job(job)
            logger.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        except UniqueViolation:
            # A job with the same queueing lock waits already and will do the same work.
            await manager.finish_job(job, procrastinate.jobs.Status.FAILED, True)
            logger.warning(
                "dropped job %s (%s) of a stopped worker: a twin waits", job.id, job.task_name
            )
    orphans = await app.connector.execute_query_one_async(
        ORPHANS_FAILED, check_error=ORPHAN_ERROR, batch_error=ORPHAN_ERROR
    )
    if orphans["checks"] or orphans["batches"]:
        logger.error(
            "failed %d checks and %d re-check batches whose jobs are gone",
            orphans["checks"],
            orphans["batches"],
        )
    await _recompute_stale_land_accounts(app, settings)
    if (await app.connector.execute_query_one_async(DELIVERIES_DUE))["due"]:
        try:
            await app.configure_task("deliver_webhooks", queueing_lock="webhooks:now").defer_async()
        except AlreadyEnqueued:
            pass


async def _recompute_stale_land_accounts(app: procrastinate.App, settings: Settings) -> None:
    """Queue a recomputation of the land accounts whose layers, method or rule set changed."""
    from app.check_runner import get_rule_set
    from app.land_account import get_method

    try:
        method, rule_set = get_method(settings), get_rule_set(settings)
    except ArealsjekkError as exc:
        # A broken method or rule-set file must not stop the rest of the maintenance.
        logger.error("land accounts not recomputed: %s", exc.detail)
        return
    stale = await app.connector.execute_query_one_async(
        LAND_ACCOUNTS_STALE, method=method.checksum, rule_set=rule_set.checksum
    )
    if stale["stale"]:
        try:
            await app.configure_task("land_accounts", queueing_lock="land-account:all").defer_async(
                trigger="layers", kommunenummer=None, only_stale=True
            )
            logger.info("queued a recomputation of the land accounts: layer versions changed")
        except AlreadyEnqueued:
            pass


def _connector(settings: Settings, concurrency: int) -> procrastinate.PsycopgConnector:
    """A connection pool to the configured database for a worker."""
    return procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.database_url),
        min_size=1,
        max_size=concurrency + 2,  # one per running job, the listener and the heartbeat
    )


def _worker_options(settings: Settings, queues: list[str] | None, concurrency: int) -> dict:
    # Every worker also takes the maintenance queue: it is what retries a dead worker's jobs.
    chosen = sorted({*(queues or QUEUES), MAINTENANCE}, key=QUEUES.index)
    return {
        "queues": chosen,
        "concurrency": concurrency,
        "delete_jobs": "successful",
        "update_heartbeat_interval": settings.worker_heartbeat_s,
        "stalled_worker_timeout": settings.worker_stalled_after_s,
        # Scheduled jobs (webhook retries, a small plan's safety net) are found by polling.
        "fetch_job_polling_interval": 1.0,
    }


class QuietMaintenance(logging.Filter):
    """Drop Procrastinate's routine lines about the maintenance job (deferred, started,
    succeeded: three every 15 s); its warnings and errors still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but an INFO (or lower) one about the maintenance job."""
        job = getattr(record, "job", None)
        routine = record.levelno <= logging.INFO and isinstance(job, dict)
        return not (routine and job.get("task_name") == "maintenance")


# The loggers Procrastinate writes job lines with (filters apply per logger).
PROCRASTINATE_JOB_LOGGERS = (
    "procrastinate.worker",
    "procrastinate.worker.worker",
    "procrastinate.periodic",
)


def run_worker(
    settings: Settings, queues: list[str] | None = None, concurrency: int | None = None
) -> None:
    """Process jobs until stopped by SIGINT or SIGTERM (running jobs are let finish).

    Procrastinate's worker ends when it loses the database (its listener or heartbeat
    fails); this one then waits and starts again, with growing pauses up to 30 s, so a
    PostgreSQL restart or failover does not leave the queue without workers."""
    options = _worker_options(settings, queues, concurrency or settings.worker_concurrency)
    for name in PROCRASTINATE_JOB_LOGGERS:
        logging.getLogger(name).addFilter(QuietMaintenance())
    with queue.replace_connector(_connector(settings, options["concurrency"])):
        asyncio.run(_supervise(options))


async def _supervise(options: dict[str, Any]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    pause = 1.0
    while not stop.is_set():
        try:
            async with queue.open_async():
                worker = procrastinate.worker.Worker(
                    app=queue, install_signal_handlers=False, **options
                )
                running = asyncio.create_task(worker.run())
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    worker.stop()  # running jobs finish first
                    await running
                    return
                stopping.cancel()
                running.result()  # raises what ended the worker, if anything
                logger.warning("the worker stopped (database unreachable?); restarting")
        except Exception as exc:  # the database away at start, or the worker failing on it
            logger.warning("the worker cannot run (%s); trying again", type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), pause)
        except TimeoutError:
            pause = min(pause * 2, 30.0)


def drain(settings: Settings, queues: list[str] | None = None) -> None:
    """Run every job that is due now, then return (tests and one-off operator runs)."""
    options = _worker_options(settings, queues, 1)
    with queue.replace_connector(_connector(settings, 1)):
        queue.run_worker(**options, wait=False, install_signal_handlers=False, listen_notify=False)


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
