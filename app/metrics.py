"""Prometheus metrics: request latency, check durations, webhook failures, and the state of
the job queue, checks and webhook deliveries read from the database at scrape time.

Two kinds of metric, and where each is served:

- Per process (REGISTRY): request latency by route template, check durations per rule,
  failed webhook attempts, and the process's CPU, memory and garbage collection. Every API
  process serves its own at `GET /metrics` (app.routers.metrics) and every worker its own on
  `arealsjekk worker --metrics-port` (start_metrics_server). This is the usual Prometheus
  model: each pod or process is a target of its own and the queries sum over targets
  (`sum by (route) (rate(arealsjekk_http_request_duration_seconds_count[5m]))`). With
  several uvicorn workers in one pod each scrape reaches one of them; run one uvicorn
  worker per pod and scale with replicas to see them all. prometheus_client's multiprocess
  mode (shared files) is not used.
- From the database (DatabaseCollector, API processes only): jobs waiting and running per
  queue and the age of the oldest, live workers, checks and webhook deliveries by status.
  Every replica reads the same database, so every replica reports the same values: query
  them with max(), not sum(). A scrape runs a few counting queries under a 2 s statement
  timeout on a connection of its own; if the database is away they are left out of the
  scrape (and arealsjekk_metrics_scrape_errors_total counts it) while the rest is served.

Label values are bounded: routes are the application's route templates (`other` for any
path no route matches, so scanning for random paths cannot create new series), methods the
standard ones, rules those of the rule set, queues those the code defers to.
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import (
    REQUEST_ID_HEADER,
    request_id_from,
    reset_request_id,
    set_request_id,
)
from app.settings import get_settings

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("arealsjekk.access")

OTHER = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes come every few seconds; their access lines are DEBUG, not INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Longest path written in an access line (a path can be as long as the server accepts).
MAX_LOGGED_PATH = 1000

REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    # The default collectors are registered with prometheus_client's global registry too;
    # registering the same objects here serves them from ours.
    REGISTRY.register(_collector)

HTTP_DURATION = Histogram(
    "arealsjekk_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template.",
    ("method", "route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
CHECK_DURATION = Histogram(
    "arealsjekk_check_duration_seconds",
    "Time a finished check took, all rules together (as the caller measured it).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
CHECK_RULE_DURATION = Histogram(
    "arealsjekk_check_rule_duration_seconds",
    "Time one rule took in a finished check (the check's timings_ms), by rule.",
    ("rule",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600),
    registry=REGISTRY,
)
WEBHOOK_FAILURES = Counter(
    "arealsjekk_webhook_attempt_failures",
    "Webhook delivery attempts that did not get a 2xx answer, by reason.",
    ("reason",),
    registry=REGISTRY,
)
SCRAPE_ERRORS = Counter(
    "arealsjekk_metrics_scrape_errors",
    "Scrapes in which a group of database-derived metrics could not be read, by group.",
    ("source",),
    registry=REGISTRY,
)


def observe_check(timings_ms: Mapping[str, float], total_seconds: float | None = None) -> None:
    """Record a finished check: each rule's time from `timings_ms` (rule id → milliseconds,
    spatial.rules.engine) and the whole check's (the rules' sum unless `total_seconds`)."""
    for rule, milliseconds in timings_ms.items():
        CHECK_RULE_DURATION.labels(rule).observe(float(milliseconds) / 1000)
    if total_seconds is None:
        total_seconds = sum(float(ms) for ms in timings_ms.values()) / 1000
    CHECK_DURATION.observe(total_seconds)


def webhook_failure_reason(error: str) -> str:
    """Return the bounded reason label for a failed attempt's error text (app.webhooks)."""
    if error.startswith("not sent"):
        return "refused"
    if error.startswith("HTTP ") and error[5:6].isdigit():
        return f"http_{error[5]}xx"
    if "timeout" in error.lower():
        return "timeout"
    return "connection"


def count_webhook_failure(error: str) -> None:
    """Count one failed webhook delivery attempt, labelled by the kind of `error`."""
    WEBHOOK_FAILURES.labels(webhook_failure_reason(error)).inc()


def start_metrics_server(port: int, host: str = "127.0.0.1") -> WSGIServer:
    """Serve this process's metrics (REGISTRY) over HTTP on host:port in a daemon thread
    (workers: they have no API; loopback unless the pod network needs another address).
    Returns the server (shutdown() stops it)."""
    server, _ = start_http_server(port, addr=host, registry=REGISTRY)
    logger.info("metrics served on http://%s:%d/metrics", host, port)
    return server


# --- Read from the database at scrape time ------------------------------------------------

SCRAPE_STATEMENT_TIMEOUT_MS = 2000
CHECK_STATUSES = ("queued", "running", "done", "failed")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
JOB_STATES = ("todo", "scheduled", "doing")

# Per queue: jobs ready to run (todo), deferred to a later time (scheduled) and running
# (doing); the oldest ready job's wait since it became runnable (deferred, retried or its
# scheduled time, whichever is last) and the oldest running job's time since it started.
JOBS_SQL = """
SELECT j.queue_name,
       CASE WHEN j.status = 'doing' THEN 'doing'
            WHEN j.scheduled_at > now() THEN 'scheduled'
            ELSE 'todo' END AS state,
       count(*) AS jobs,
       max(extract(epoch FROM now() - since.at)) AS oldest_s
FROM procrastinate_jobs j
LEFT JOIN LATERAL (
    SELECT CASE WHEN j.status = 'doing'
                THEN max(e.at) FILTER (WHERE e.type = 'started')
                ELSE greatest(j.scheduled_at, max(e.at) FILTER (
                    WHERE e.type IN ('deferred', 'deferred_for_retry', 'retried')))
           END AS at
    FROM procrastinate_events e
    WHERE e.job_id = j.id
) since ON true
WHERE j.status IN ('todo', 'doing')
GROUP BY 1, 2
"""
WORKERS_SQL = """
SELECT count(*) FILTER (WHERE last_heartbeat > now() - make_interval(secs => :stalled)),
       count(*) FILTER (WHERE last_heartbeat <= now() - make_interval(secs => :stalled))
FROM procrastinate_workers
"""
DELIVERIES_SQL = """
SELECT status, count(*),
       max(extract(epoch FROM now() - created_at)) FILTER (WHERE status = 'pending')
FROM webhook_delivery GROUP BY status
"""
CHECKS_SQL = "SELECT status, count(*) FROM plan_check GROUP BY status"


@lru_cache
def scrape_engine(database_url: str) -> Engine:
    """An engine of its own for scrapes: one connection, short connect and pool waits, so a
    slow database delays a scrape by seconds, never the API's pool."""
    return create_engine(
        database_url,
        pool_size=1,
        max_overflow=1,
        pool_timeout=2,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 3, "application_name": "arealsjekk-metrics"},
    )


class DatabaseCollector(Collector):
    """Gauges read from the database when Prometheus scrapes (the same in every replica)."""

    def __init__(self, database_url: Callable[[], str] | None = None) -> None:
        self._database_url = database_url or (lambda: get_settings().database_url)
        self._queues: set[str] = set()
        self._failing: set[str] = set()

    def declare_queues(self, names: Iterable[str]) -> None:
        """Report these queues (with 0 jobs) even before a job was deferred to them."""
        self._queues.update(names)

    def collect(self) -> Iterator[Metric]:
        """Run the counting queries; leave out (and count) any group that fails."""
        groups = (
            ("jobs", self._jobs),
            ("workers", self._workers),
            ("webhook_deliveries", self._deliveries),
            ("checks", self._checks),
        )
        # Imported here: app.jobs runs checks (app.check_runner), which record into this module.
        from app.jobs import QUEUES

        self.declare_queues(QUEUES)
        try:
            connection = scrape_engine(self._database_url()).connect()
        except SQLAlchemyError as exc:
            self._failed("database", exc)
            return
        with connection:
            for source, read in groups:
                try:
                    with connection.begin():
                        connection.execute(
                            text(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}")
                        )
                        metrics = read(connection)
                except SQLAlchemyError as exc:
                    self._failed(source, exc)
                    if connection.invalidated or connection.closed:
                        return
                    continue
                self._failing.discard(source)
                yield from metrics

    def _failed(self, source: str, exc: Exception) -> None:
        SCRAPE_ERRORS.labels(source).inc()
        # One line when a group starts failing, not one per scrape while it stays down.
        if source not in self._failing:
            self._failing.add(source)
            cause = type(getattr(exc, "orig", None) or exc).__name__
            logger.warning("metrics: could not read %s from the database (%s)", source, cause)

    def _jobs(self, connection: Connection) -> list[Metric]:
        rows = connection.execute(text(JOBS_SQL)).all()
        jobs = GaugeMetricFamily(
            "arealsjekk_jobs",
            "Jobs on the queue: todo (ready), scheduled (for later), doing (running).",
            labels=("queue", "status"),
        )
        waiting = GaugeMetricFamily(
            "arealsjekk_job_oldest_waiting_seconds",
            "How long the oldest ready job of the queue has waited (0 when none waits).",
            labels=("queue",),
        )
        running = GaugeMetricFamily(
            "arealsjekk_job_oldest_running_seconds",
            "How long the longest-running job of the queue has run (0 when none runs).",
            labels=("queue",),
        )
        counts = {(queue, state): (count, oldest) for queue, state, count, oldest in rows}
        self._queues.update(queue for queue, _ in counts)
        for queue in sorted(self._queues):
            for state in JOB_STATES:
                jobs.add_metric((queue, state), counts.get((queue, state), (0, None))[0])
            waited = counts.get((queue, "todo"), (0, None))[1]
            ran = counts.get((queue, "doing"), (0, None))[1]
            waiting.add_metric((queue,), max(float(waited or 0), 0.0))
            running.add_metric((queue,), max(float(ran or 0), 0.0))
        return [jobs, waiting, running]

    def _workers(self, connection: Connection) -> list[Metric]:
        # The same limit the workers apply to each other (app.jobs.run_worker).
        stalled_after_s = get_settings().worker_stalled_after_s
        alive, stalled = connection.execute(text(WORKERS_SQL), {"stalled": stalled_after_s}).one()
        workers = GaugeMetricFamily(
            "arealsjekk_job_workers",
            "Queue workers by heartbeat: alive, or stalled (no heartbeat for "
            "AREALSJEKK_WORKER_STALLED_AFTER_S).",
            labels=("state",),
        )
        workers.add_metric(("alive",), alive)
        workers.add_metric(("stalled",), stalled)
        return [workers]

    def _deliveries(self, connection: Connection) -> list[Metric]:
        rows = connection.execute(text(DELIVERIES_SQL)).all()
        by_status = {status: (count, oldest) for status, count, oldest in rows}
        deliveries = GaugeMetricFamily(
            "arealsjekk_webhook_deliveries",
            "Webhook deliveries by status (failed: gave up after the last attempt).",
            labels=("status",),
        )
        for status in DELIVERY_STATUSES:
            deliveries.add_metric((status,), by_status.get(status, (0, None))[0])
        oldest = by_status.get("pending", (0, None))[1]
        pending = GaugeMetricFamily(
            "arealsjekk_webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery not yet delivered nor given up (0 when none).",
            value=max(float(oldest or 0), 0.0),
        )
        return [deliveries, pending]

    def _checks(self, connection: Connection) -> list[Metric]:
        counts = dict(connection.execute(text(CHECKS_SQL)).all())
        checks = GaugeMetricFamily("arealsjekk_checks", "Checks by status.", labels=("status",))
        for status in CHECK_STATUSES:
            checks.add_metric((status,), counts.get(status, 0))
        return [checks]


class _ProcessMetrics(Collector):
    """REGISTRY's metrics, as one collector of the API's registry."""

    def collect(self) -> Iterator[Metric]:
        """Yield every metric of this process."""
        yield from REGISTRY.collect()


DATABASE_COLLECTOR = DatabaseCollector()
# What GET /metrics serves: this process's metrics and the database-derived ones.
API_REGISTRY = CollectorRegistry()
API_REGISTRY.register(_ProcessMetrics())
API_REGISTRY.register(DATABASE_COLLECTOR)


# --- Requests: id, latency, access log ----------------------------------------------------


def _template(route: BaseRoute) -> str:
    if isinstance(route, Mount):
        return route.path + "/{path}"
    return getattr(route, "path", OTHER)


def _match(routes: Iterable[BaseRoute], scope: Scope, prefix: str) -> tuple[Match, str]:
    """The best match among `routes` (FULL before PARTIAL, in order) and its template."""
    partial = None
    for route in routes:
        # FastAPI (0.165) keeps an included router as one route wrapping the router's own;
        # its routes are matched here with the prefix it was included under.
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            inner_prefix = prefix + (getattr(context, "prefix", "") or "")
            inner_path = scope.get("path", "")
            if inner_prefix and not inner_path.startswith(inner_prefix):
                continue
            inner = {**scope, "path": inner_path[len(inner_prefix) :] or "/"}
            match, template = _match(included.routes, inner, inner_prefix)
            template = inner_prefix + template if match is not Match.NONE else template
        else:
            match, _ = route.matches(scope)
            template = _template(route)
        if match is Match.FULL:
            return match, template
        if match is Match.PARTIAL and partial is None:
            partial = template  # the path matches, the method does not (405)
    return (Match.NONE, OTHER) if partial is None else (Match.PARTIAL, partial)


def route_template(scope: Scope) -> str:
    """Return the template of the route a request goes to (`/api/v1/checks/{check_id}`), or
    `other` when no route matches its path."""
    router = getattr(scope.get("app"), "router", None)
    match, template = _match(getattr(router, "routes", ()), scope, "")
    return OTHER if match is Match.NONE else template


def _printable(path: str) -> str:
    path = path[:MAX_LOGGED_PATH]
    if path.isprintable():
        return path
    return path.encode("unicode_escape").decode("ascii")


class RequestMiddleware:
    """ASGI middleware giving each request an id (X-Request-ID), timing it into
    arealsjekk_http_request_duration_seconds and writing one access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle the request with its id current; time it to the end of the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        header = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                header = value
                break
        request_id = request_id_from(header)
        # Matched before the request runs: routing rewrites the scope (a Mount's root_path).
        route = route_template(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = set_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            self._record(scope, route, status, started, failed=True)
            # The id stays current: the 500 answer and its log line are made by Starlette's
            # ServerErrorMiddleware outside this one, in the same context (app.errors).
            raise
        self._record(scope, route, status, started, failed=False)
        reset_request_id(token)

    @staticmethod
    def _record(scope: Scope, route: str, status: int, started: float, failed: bool) -> None:
        elapsed = time.perf_counter() - started
        method = scope.get("method", "")
        method_label = method if method in METHODS else OTHER
        HTTP_DURATION.labels(method_label, route, str(status)).observe(elapsed)
        path = scope.get("path", "")
        level = logging.DEBUG if path in QUIET_PATHS and not failed else logging.INFO
        duration_ms = round(elapsed * 1000, 1)
        # The log names the method as sent (cut short); the metric's label is bounded.
        method = _printable(method[:16])
        access_logger.log(
            level,
            "%s %s %d %.1f ms",
            method,
            _printable(path),
            status,
            duration_ms,
            extra={
                "method": method,
                "path": _printable(path),
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
