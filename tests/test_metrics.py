"""Operations: Prometheus metrics at /metrics, request ids, JSON logs of `arealsjekk serve`."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import procrastinate
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text

from app.db import get_engine, get_sessionmaker
from app.jobs import conninfo
from app.metrics import DatabaseCollector, count_webhook_failure, observe_check
from app.settings import get_settings
from db.models import WebhookDeliveryOrm, WebhookOrm
from tests.plans import cabin_area, collection, encode

PROBE_QUEUE = "metrics_probe"
# This helper's ports (8120-8129): the served process of the JSON log test.
SERVE_PORT = 8121


def scrape(client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parse it with prometheus_client's parser; return every sample's value
    by (sample name, sorted labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return samples(response.text)


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a text exposition by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    """One sample's value, 0 when it is absent (a labelled series not yet created)."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def label_values(scraped: dict, name: str, label: str) -> set[str]:
    """The values one label takes among a metric's samples."""
    return {dict(labels)[label] for sample, labels in scraped if sample == name}


LATENCY = "arealsjekk_http_request_duration_seconds_count"


def test_exposition_parses_and_names_every_metric(anonymous):
    """The text exposition parses, carries each metric of the issue, is never cached, and
    /metrics is not part of the API description."""
    response = anonymous.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "arealsjekk_http_request_duration_seconds",
        "arealsjekk_check_duration_seconds",
        "arealsjekk_check_rule_duration_seconds",
        "arealsjekk_jobs",
        "arealsjekk_job_oldest_waiting_seconds",
        "arealsjekk_job_oldest_running_seconds",
        "arealsjekk_job_workers",
        "arealsjekk_webhook_deliveries",
        "arealsjekk_webhook_oldest_pending_seconds",
        "arealsjekk_webhook_attempt_failures",
        "arealsjekk_checks",
        "process_cpu_seconds",
    } <= families
    # Every queue of the code is reported, with 0 when nothing is on it.
    scraped = samples(response.text)
    assert {"checks", "webhooks", "maintenance"} <= label_values(
        scraped, "arealsjekk_jobs", "queue"
    )
    assert "/metrics" not in anonymous.get("/api/v1/openapi.json").json()["paths"]


def test_openmetrics_when_asked(anonymous):
    """A scraper asking for OpenMetrics gets it (Prometheus prefers it)."""
    response = anonymous.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_latency_is_counted_by_route_template(anonymous):
    """Requests to one route with different ids count under the route's template; the ids
    appear in no label."""
    route = "/api/v1/checks/{check_id}"
    before = scrape(anonymous)
    for check_id in (987_654, 987_655):
        assert anonymous.get(f"/api/v1/checks/{check_id}").status_code == 404
    assert anonymous.head("/healthz").status_code == 200
    after = anonymous.get("/metrics").text
    scraped = samples(after)
    assert value(scraped, LATENCY, method="GET", route=route, status="404") - value(
        before, LATENCY, method="GET", route=route, status="404"
    ) == pytest.approx(2)
    assert value(scraped, LATENCY, method="HEAD", route="/healthz", status="200") - value(
        before, LATENCY, method="HEAD", route="/healthz", status="200"
    ) == pytest.approx(1)
    assert "987654" not in after and "987655" not in after
    # The histogram's buckets are cumulative and end in +Inf = count.
    inf = value(
        scraped,
        "arealsjekk_http_request_duration_seconds_bucket",
        method="GET",
        route=route,
        status="404",
        le="+Inf",
    )
    assert inf == value(scraped, LATENCY, method="GET", route=route, status="404")


def test_unknown_paths_and_methods_make_no_new_label_values(anonymous):
    """Paths no route matches count as route `other`, odd methods as method `other`:
    scanning random addresses cannot grow the number of series."""
    before = scrape(anonymous)
    for path in ("/no-such-place/x7c1q", "/wp-login.php", "/api/v1/x7c1q/../../etc"):
        assert anonymous.get(path).status_code == 404
    anonymous.request("BREW", "/healthz")
    scraped = scrape(anonymous)
    routes = label_values(scraped, LATENCY, "route")
    assert not [route for route in routes if "x7c1q" in route or "wp-login" in route]
    assert routes - label_values(before, LATENCY, "route") <= {"other", "/metrics"}
    assert value(scraped, LATENCY, method="GET", route="other", status="404") - value(
        before, LATENCY, method="GET", route="other", status="404"
    ) == pytest.approx(3)
    assert "BREW" not in label_values(scraped, LATENCY, "method")


def test_request_ids(anonymous):
    """A sane X-Request-ID is echoed; a missing or odd one is replaced by a new uuid4 hex."""
    given = anonymous.get("/healthz", headers={"X-Request-ID": "trace-7f.a_1"})
    assert given.headers["x-request-id"] == "trace-7f.a_1"
    for odd in ("a" * 129, "has space", "semi;colon", ""):
        answer = anonymous.get("/healthz", headers={"X-Request-ID": odd})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), odd
    first = anonymous.get("/healthz").headers["x-request-id"]
    second = anonymous.get("/healthz").headers["x-request-id"]
    assert first != second
    # Error answers carry it too (a problem document from the app's handlers).
    missing = anonymous.get("/api/v1/checks/1", headers={"X-Request-ID": "req-404"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "req-404"


def test_metrics_token(app, anonymous, api_keys, override_settings):
    """With AREALSJEKK_METRICS_TOKEN set, /metrics answers only that bearer token (an API
    key, even an admin's, is not it)."""
    override_settings(metrics_token=SecretStr("scrape-s3cret"))
    refused = anonymous.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "AREALSJEKK_METRICS_TOKEN" in refused.json()["detail"]
    for authorization in (
        "Bearer scrape-s3creT",
        "Bearer scrape-s3cret-and-more",
        "Basic scrape-s3cret",
        f"Bearer {api_keys['admin']}",
    ):
        assert (
            anonymous.get("/metrics", headers={"Authorization": authorization}).status_code == 401
        )
    accepted = anonymous.get("/metrics", headers={"Authorization": "Bearer scrape-s3cret"})
    assert accepted.status_code == 200
    assert "arealsjekk_http_request_duration_seconds" in accepted.text


@pytest.fixture
def probe_jobs() -> Iterator[tuple[procrastinate.App, list[int]]]:
    """Procrastinate deferring into the test database, on a queue no worker takes, and a list
    for the ids of workers the test registers; both are removed afterwards."""
    database = conninfo(get_settings().database_url)
    queue = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=database))
    worker_ids: list[int] = []
    with queue.open():
        yield queue, worker_ids
    with get_engine().begin() as connection:
        connection.execute(
            text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": PROBE_QUEUE}
        )
        connection.execute(
            text("DELETE FROM procrastinate_workers WHERE id = ANY(:ids)"), {"ids": worker_ids}
        )


def test_queue_depth_and_job_age(anonymous, probe_jobs):
    """Jobs deferred with Procrastinate are counted per queue and state; the oldest ready
    job's wait and the running job's time are reported; workers by heartbeat."""
    queue, worker_ids = probe_jobs
    deferrer = queue.configure_task("tests.metrics_probe", queue=PROBE_QUEUE)
    running, waited_long, fresh = (deferrer.defer(n=n) for n in range(3))
    queue.configure_task("tests.metrics_probe", queue=PROBE_QUEUE, schedule_in={"hours": 1}).defer(
        n=3
    )
    before = scrape(anonymous)
    with get_engine().begin() as connection:
        # A worker takes the first job (Procrastinate's own claim), as `arealsjekk worker` does.
        worker_id = connection.execute(
            text("SELECT worker_id FROM procrastinate_register_worker_v1()")
        ).scalar_one()
        stalled_id = connection.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '10 minutes') RETURNING id"
            )
        ).scalar_one()
        worker_ids.extend((worker_id, stalled_id))
        taken = connection.execute(
            text("SELECT id FROM procrastinate_fetch_job_v2(ARRAY[:q]::varchar[], :w)"),
            {"q": PROBE_QUEUE, "w": worker_id},
        ).scalar_one()
        assert taken == running
        # One job was deferred two minutes ago, the running one started 45 s ago.
        connection.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - interval '120 seconds' "
                "WHERE job_id = :id AND type = 'deferred'"
            ),
            {"id": waited_long},
        )
        connection.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - interval '45 seconds' "
                "WHERE job_id = :id AND type = 'started'"
            ),
            {"id": running},
        )
    scraped = scrape(anonymous)
    assert value(scraped, "arealsjekk_jobs", queue=PROBE_QUEUE, status="todo") == 2
    assert value(scraped, "arealsjekk_jobs", queue=PROBE_QUEUE, status="scheduled") == 1
    assert value(scraped, "arealsjekk_jobs", queue=PROBE_QUEUE, status="doing") == 1
    waiting = value(scraped, "arealsjekk_job_oldest_waiting_seconds", queue=PROBE_QUEUE)
    assert 120 <= waiting < 150
    ran = value(scraped, "arealsjekk_job_oldest_running_seconds", queue=PROBE_QUEUE)
    assert 45 <= ran < 75
    for state in ("alive", "stalled"):
        grown = value(scraped, "arealsjekk_job_workers", state=state) - value(
            before, "arealsjekk_job_workers", state=state
        )
        assert grown == 1, state
    assert fresh > waited_long

    # Once the jobs are gone the queue stays listed, with zeros.
    with get_engine().begin() as connection:
        connection.execute(
            text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": PROBE_QUEUE}
        )
    emptied = scrape(anonymous)
    assert value(emptied, "arealsjekk_jobs", queue=PROBE_QUEUE, status="todo") == 0
    assert (("arealsjekk_jobs", (("queue", PROBE_QUEUE), ("status", "todo")))) in emptied
    assert value(emptied, "arealsjekk_job_oldest_waiting_seconds", queue=PROBE_QUEUE) == 0


def test_webhook_deliveries_by_status(anonymous, api_keys):
    """Deliveries are counted by status from the database, with the oldest pending one's age;
    failed attempts are counted by reason."""
    now = datetime.now(UTC)
    with get_sessionmaker()() as session:
        key_id = session.execute(text("SELECT min(id) FROM api_key")).scalar_one()
        hook = WebhookOrm(
            api_key_id=key_id, url="https://sak.example/hook", secret="s", events=["*"]
        )
        session.add(hook)
        session.flush()
        for status, age_s in (("pending", 600), ("pending", 5), ("delivered", 0), ("failed", 0)):
            session.add(
                WebhookDeliveryOrm(
                    webhook_id=hook.id,
                    event="check.completed",
                    payload={},
                    status=status,
                    created_at=now - timedelta(seconds=age_s),
                )
            )
        session.commit()
    before = scrape(anonymous)
    count_webhook_failure("HTTP 503")
    count_webhook_failure("TimeoutError")
    count_webhook_failure("not sent: loopback")
    scraped = scrape(anonymous)
    assert value(scraped, "arealsjekk_webhook_deliveries", status="pending") == 2
    assert value(scraped, "arealsjekk_webhook_deliveries", status="delivered") == 1
    assert value(scraped, "arealsjekk_webhook_deliveries", status="failed") == 1
    assert 600 <= value(scraped, "arealsjekk_webhook_oldest_pending_seconds") < 630
    failures = "arealsjekk_webhook_attempt_failures_total"
    for reason in ("http_5xx", "timeout", "refused"):
        grown = value(scraped, failures, reason=reason) - value(before, failures, reason=reason)
        assert grown == 1, reason


def test_checks_by_status_and_check_durations(client, anonymous):
    """A check run through the API counts under arealsjekk_checks{status="done"} and its
    rules' times (timings_ms) in the per-rule histogram."""
    before = scrape(anonymous)
    body = collection(cabin_area())
    version_url = client.post("/api/v1/proposals", content=encode(body)).json()["links"][0]["href"]
    check = client.post(f"{version_url}/checks").json()
    assert check["status"] == "done"
    scraped = scrape(anonymous)
    assert value(scraped, "arealsjekk_checks", status="done") - value(
        before, "arealsjekk_checks", status="done"
    ) == pytest.approx(1)
    rule_count = "arealsjekk_check_rule_duration_seconds_count"
    rule_sum = "arealsjekk_check_rule_duration_seconds_sum"
    for rule, milliseconds in check["timings_ms"].items():
        assert value(scraped, rule_count, rule=rule) - value(before, rule_count, rule=rule) == 1
        grown = value(scraped, rule_sum, rule=rule) - value(before, rule_sum, rule=rule)
        assert grown == pytest.approx(milliseconds / 1000, abs=1e-6)
    total = "arealsjekk_check_duration_seconds_count"
    assert value(scraped, total) - value(before, total) == 1


def test_observe_check_records_rules_and_total(anonymous):
    """observe_check puts each rule's milliseconds in seconds into the per-rule histogram and
    the total (the rules' sum unless given) into the check histogram."""
    before = scrape(anonymous)
    observe_check({"G1": 1500.0, "G2": 20.0})
    observe_check({"G1": 10.0}, total_seconds=4.0)
    scraped = scrape(anonymous)

    def grown(name: str, **labels: str) -> float:
        return value(scraped, name, **labels) - value(before, name, **labels)

    assert grown("arealsjekk_check_rule_duration_seconds_count", rule="G1") == 2
    assert grown("arealsjekk_check_rule_duration_seconds_sum", rule="G1") == pytest.approx(1.51)
    assert grown("arealsjekk_check_rule_duration_seconds_sum", rule="G2") == pytest.approx(0.02)
    assert grown("arealsjekk_check_duration_seconds_count") == 2
    assert grown("arealsjekk_check_duration_seconds_sum") == pytest.approx(1.52 + 4.0)
    # 1.52 s falls in the 2.5 s bucket but not the 1 s one; 4 s in neither.
    assert grown("arealsjekk_check_duration_seconds_bucket", le="1.0") == 0
    assert grown("arealsjekk_check_duration_seconds_bucket", le="2.5") == 1


def test_database_away_leaves_its_gauges_out(anonymous):
    """When the database cannot be reached the collector yields nothing and counts the error;
    the scrape of everything else goes on."""
    unreachable = "postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir"
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(lambda: unreachable))
    errors = "arealsjekk_metrics_scrape_errors_total"
    before = value(scrape(anonymous), errors, source="database")
    started = time.monotonic()
    assert generate_latest(registry) == b""
    assert time.monotonic() - started < 5
    assert value(scrape(anonymous), errors, source="database") - before == 1


def test_database_gauges_left_out_per_group(anonymous):
    """A group whose tables are missing (a database not migrated) is left out and counted,
    without taking the other groups with it."""
    url = get_settings().database_url.replace(
        "/" + get_engine().url.database + "?", "/postgres?", 1
    )
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(lambda: url))
    errors = "arealsjekk_metrics_scrape_errors_total"
    before = scrape(anonymous)
    assert generate_latest(registry) == b""
    scraped = scrape(anonymous)
    for source in ("jobs", "workers", "webhook_deliveries", "checks"):
        assert value(scraped, errors, source=source) - value(before, errors, source=source) == 1


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message]:
    """GET a URL on loopback; return the status and the headers (errors too)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture
def served() -> Iterator[tuple[str, subprocess.Popen]]:
    """`arealsjekk serve` with JSON logs on this helper's port; stopped afterwards."""
    env = {**os.environ, "AREALSJEKK_LOG_FORMAT": "json", "AREALSJEKK_LOG_LEVEL": "info"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(SERVE_PORT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{SERVE_PORT}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(f"{url}/healthz")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"arealsjekk serve did not start: {process.communicate()[1][-2000:]}")
        time.sleep(0.2)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_writes_json_log_lines_with_request_ids(served):
    """Every line `arealsjekk serve` writes on stderr is a JSON object; each request's access
    line carries the id its answer's X-Request-ID names, the route template and the time."""
    url, process = served
    given = get(f"{url}/api/v1/checks/31337", {"X-Request-ID": "case-42.a"})
    made = get(f"{url}/no-such-page")
    assert given[0] == 404 and made[0] == 404
    assert given[1]["X-Request-ID"] == "case-42.a"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert lines, "no log lines"
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= set(line)
        assert datetime.fromisoformat(line["timestamp"]).utcoffset() == timedelta(0)
    access = {line["request_id"]: line for line in lines if line["logger"] == "arealsjekk.access"}
    first = access["case-42.a"]
    assert first["route"] == "/api/v1/checks/{check_id}"
    assert first["path"] == "/api/v1/checks/31337"
    assert first["status"] == 404 and first["method"] == "GET"
    assert first["duration_ms"] >= 0
    second = access[made[1]["X-Request-ID"]]
    assert second["route"] == "other" and second["status"] == 404
    # uvicorn's own lines (start-up, shut-down) come through the same formatter.
    assert any(line["logger"].startswith("uvicorn") for line in lines)
