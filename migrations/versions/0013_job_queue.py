"""Background work runs as jobs on a PostgreSQL-backed queue (Procrastinate).

Checks of large plans, webhook deliveries and re-checks after a layer changes are jobs that
`arealsjekk worker` processes claim atomically (SELECT … FOR UPDATE SKIP LOCKED inside
Procrastinate's fetch function), so any number of API replicas and workers share one
database. This creates Procrastinate's own tables, types and functions from the SQL the
installed release ships (`procrastinate/sql/schema.sql`); the lock file pins that release.
A later Procrastinate release with schema changes needs a migration that applies its delta
files (`procrastinate/sql/migrations/`), as Procrastinate's docs on migrations describe.
Checks left queued or running and pending webhook deliveries get their jobs here (the
task names are app/jobs.py's).

Revision ID: 0013_job_queue
Revises: 0012_tile_cache
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from importlib.metadata import version

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0013_job_queue"
down_revision: str | None = "0012_tile_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The schema of these releases is the one this migration was written against.
SCHEMA_RELEASES = ("3.10.",)


def upgrade() -> None:
    installed = version("procrastinate")
    if not installed.startswith(SCHEMA_RELEASES):
        raise RuntimeError(
            f"procrastinate {installed} is installed, but migration 0013 creates the schema "
            f"of {', '.join(SCHEMA_RELEASES)}x; install the locked version "
            "(requirements.lock) or add a migration with the release's schema deltas"
        )
    # Run by psycopg itself without parameters: the file holds several statements and
    # format strings with '%', which a parameterised execution would read as placeholders.
    connection = op.get_bind().connection.driver_connection
    connection.execute(SchemaManager.get_schema())
    # Until now the API process re-queued unfinished checks and sent due deliveries itself;
    # from here on only jobs run them, so what is waiting gets its job now.
    connection.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args) "
        "SELECT 'checks', 'run_check', 'check:' || id, 'check:' || id, "
        "jsonb_build_object('check_id', id) FROM plan_check "
        "WHERE status IN ('queued', 'running') ORDER BY id"
    )
    connection.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args) "
        "SELECT 'webhooks', 'deliver_webhooks', 'webhooks:now', '{}' "
        "WHERE EXISTS (SELECT 1 FROM webhook_delivery WHERE status = 'pending')"
    )


def downgrade() -> None:
    # psycopg itself, without parameters, as in upgrade ('%' in LIKE patterns).
    connection = op.get_bind().connection.driver_connection
    connection.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
    functions = connection.execute(
        "SELECT oid::regprocedure::text FROM pg_proc WHERE proname LIKE 'procrastinate\\_%'"
    ).fetchall()
    for (function,) in functions:
        connection.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    connection.execute(
        "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
        "procrastinate_job_status CASCADE"
    )
