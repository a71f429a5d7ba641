"""JSON log lines, request ids and the access line, without a database (app.observability)."""

import json
import logging
import logging.config
import re
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.metrics import (
    RequestMiddleware,
    observe_check,
    start_metrics_server,
    webhook_failure_reason,
)
from app.observability import (
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    configure_logging,
    current_request_id,
    request_id_from,
    reset_request_id,
    set_request_id,
)
from app.settings import Settings

HEX_ID = re.compile(r"[0-9a-f]{32}")
# The metrics helper's ports are 8120-8129.
WORKER_METRICS_PORT = 8123


def record(exc_info: object = None, **extra: object) -> logging.LogRecord:
    """A log record as a logger call makes it, passed through the request id filter."""
    made = logging.getLogger("arealsjekk.test").makeRecord(
        "arealsjekk.test",
        logging.WARNING,
        __file__,
        1,
        "hello %s",
        ("world",),
        exc_info,
        extra=extra,
    )
    RequestIdFilter().filter(made)
    return made


def test_a_record_is_one_json_object_with_the_fields():
    """timestamp (ISO 8601, UTC), level, logger, message with its arguments, extras."""
    line = JsonFormatter().format(record(check_id=7, path="/x\ny"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "arealsjekk.test"
    assert entry["message"] == "hello world"
    assert entry["check_id"] == 7 and entry["path"] == "/x\ny"
    assert "request_id" not in entry  # outside a request
    assert entry["timestamp"].endswith("Z")
    assert datetime.fromisoformat(entry["timestamp"]).utcoffset() == timedelta(0)


def test_exceptions_and_odd_extras():
    """The traceback is the `exception` field; extras JSON cannot hold are written as text."""
    try:
        raise ValueError("broken value")
    except ValueError:
        made = record(sys.exc_info(), when=object())
    entry = json.loads(JsonFormatter().format(made))
    assert entry["exception"].startswith("Traceback")
    assert "ValueError: broken value" in entry["exception"]
    assert entry["when"].startswith("<object object")


def test_request_id_from_the_context():
    """A record made while a request id is current carries it, in JSON and in text."""
    token = set_request_id("req-1")
    try:
        made = record()
    finally:
        reset_request_id(token)
    assert current_request_id() is None
    assert json.loads(JsonFormatter().format(made))["request_id"] == "req-1"
    assert "[req-1] hello world" in TextFormatter().format(made)


@pytest.mark.parametrize(
    "header, kept",
    [
        (b"abc-123", True),
        (b"A.b_c-9", True),
        (b"x" * 128, True),
        (b"x" * 129, False),
        (b"with space", False),
        (b"line\nbreak", False),
        (b'quote"', False),
        (b"", False),
        (None, False),
    ],
)
def test_request_ids_from_clients(header, kept):
    """Plain tokens of up to 128 characters are kept; anything else gets a new uuid4 hex."""
    made = request_id_from(header)
    if kept:
        assert made == header.decode()
    else:
        assert HEX_ID.fullmatch(made)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the logging set-up back after a test configures it."""
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    loggers = {
        name: (logging.getLogger(name).level, logging.getLogger(name).handlers[:])
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arealsjekk.access")
    }
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, (level, handlers) in loggers.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).handlers[:] = handlers


def test_configure_logging_writes_json_lines_to_stderr(restore_logging, capsys):
    """configure_logging sends every logger, uvicorn's too, as JSON to stderr at the level."""
    configure_logging(Settings(log_format="json", log_level="info"))
    logging.getLogger("arealsjekk.anything").info("one %d", 1, extra={"queue": "checks"})
    logging.getLogger("uvicorn.error").info("started")
    logging.getLogger("arealsjekk.anything").debug("below the level")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("arealsjekk.anything", "one 1"),
        ("uvicorn.error", "started"),
    ]
    assert lines[0]["queue"] == "checks"


def test_text_format_for_development(restore_logging, capsys):
    """AREALSJEKK_LOG_FORMAT=text writes readable lines."""
    configure_logging(Settings(log_format="text", log_level="DEBUG"))
    logging.getLogger("arealsjekk.anything").debug("plain %s", "words")
    err = capsys.readouterr().err
    assert "DEBUG" in err and "arealsjekk.anything plain words" in err
    with pytest.raises(ValueError):
        Settings(log_format="xml")


class Captured(logging.Handler):
    """Keep the JSON of every record (through the request id filter)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Store the record's JSON."""
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Capture the records of the app's loggers and the access log at DEBUG."""
    handler = Captured()
    loggers = [logging.getLogger(name) for name in ("arealsjekk", "app", "tests.unit.app")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def small_app() -> FastAPI:
    """An app with the request middleware, a synchronous endpoint that logs (FastAPI runs it
    in a worker thread) and one that fails."""
    app = FastAPI()
    app.add_middleware(RequestMiddleware)
    log = logging.getLogger("tests.unit.app")

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict:
        log.info("reading item %d", item_id, extra={"thread_name": threading.current_thread().name})
        return {"id": item_id}

    @app.get("/fails")
    def fails() -> dict:
        raise RuntimeError("boom")

    return app


def test_logs_inside_a_request_carry_its_id(captured):
    """A line logged by the endpoint (in another thread) and the access line both carry the
    id the answer's X-Request-ID names; the access line names the route template."""
    with TestClient(small_app()) as client:
        answer = client.get("/items/41", headers={"X-Request-ID": "abc.42"})
        made = client.get("/items/42")
    assert answer.headers["x-request-id"] == "abc.42"
    endpoint = [line for line in captured.lines if line["logger"] == "tests.unit.app"]
    assert [line["request_id"] for line in endpoint] == ["abc.42", made.headers["x-request-id"]]
    assert endpoint[0]["thread_name"] != threading.current_thread().name
    access = [line for line in captured.lines if line["logger"] == "arealsjekk.access"]
    assert [line["request_id"] for line in access] == ["abc.42", made.headers["x-request-id"]]
    assert access[0]["route"] == "/items/{item_id}"
    assert access[0]["path"] == "/items/41"
    assert access[0]["status"] == 200 and access[0]["method"] == "GET"
    assert access[0]["level"] == "INFO"
    assert HEX_ID.fullmatch(made.headers["x-request-id"])


def test_a_failing_request_is_logged_as_500_with_its_id(captured):
    """An unhandled error: the access line says 500 and carries the request's id."""
    with TestClient(small_app(), raise_server_exceptions=False) as client:
        answer = client.get("/fails", headers={"X-Request-ID": "fail-1"})
    assert answer.status_code == 500
    access = [line for line in captured.lines if line["logger"] == "arealsjekk.access"]
    assert access[-1]["status"] == 500 and access[-1]["request_id"] == "fail-1"
    assert access[-1]["route"] == "/fails"


def test_unknown_paths_are_logged_under_other(captured):
    """A path no route matches is logged with route `other`; a control character in the
    path does not break the line."""
    with TestClient(small_app()) as client:
        assert client.get("/nothing%0Ahere").status_code == 404
    access = [line for line in captured.lines if line["logger"] == "arealsjekk.access"]
    assert access[-1]["route"] == "other"
    assert access[-1]["path"] == "/nothing\\nhere"


@pytest.mark.parametrize(
    "error, reason",
    [
        ("HTTP 503", "http_5xx"),
        ("HTTP 404", "http_4xx"),
        ("not sent: the URL's host resolves to loopback", "refused"),
        ("TimeoutError", "timeout"),
        ("ConnectionRefusedError", "connection"),
        ("SSLCertVerificationError", "connection"),
    ],
)
def test_webhook_failure_reasons_are_few(error, reason):
    """A failed attempt's error text maps onto a handful of reasons (bounded label values)."""
    assert webhook_failure_reason(error) == reason


def test_the_service_names_the_request_in_its_500_answer(captured):
    """The service's own 500 (app.errors, sent outside the middleware) carries X-Request-ID,
    and its log line with the traceback carries the same id."""
    app = create_app()

    @app.get("/test-only/fails")
    def fails() -> dict:
        raise RuntimeError("boom")

    # Without its lifespan (no database, no renderers): only the error path runs.
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/test-only/fails", headers={"X-Request-ID": "fail-2"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "fail-2"
    logged = [line for line in captured.lines if line["message"].startswith("unhandled error")]
    assert logged and logged[0]["request_id"] == "fail-2"
    assert "RuntimeError: boom" in logged[0]["exception"]


def test_worker_metrics_server():
    """start_metrics_server serves this process's metrics (not the database gauges, which the
    API serves) on loopback."""
    server = start_metrics_server(WORKER_METRICS_PORT)
    try:
        observe_check({"G3": 12.5})
        url = f"http://127.0.0.1:{WORKER_METRICS_PORT}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            exposition = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    names = {family.name for family in text_string_to_metric_families(exposition)}
    assert "arealsjekk_check_rule_duration_seconds" in names
    assert 'arealsjekk_check_rule_duration_seconds_count{rule="G3"}' in exposition
    assert "arealsjekk_jobs" not in names


def test_routine_lines_about_the_maintenance_job_are_dropped():
    """Three INFO lines every 15 s about the maintenance job are noise; its warnings and
    other jobs' lines pass."""
    from app.jobs import QuietMaintenance

    def record(level: int, task: str) -> logging.LogRecord:
        made = logging.LogRecord("procrastinate.worker", level, __file__, 1, "job", (), None)
        made.job = {"task_name": task}
        return made

    quiet = QuietMaintenance()
    assert not quiet.filter(record(logging.INFO, "maintenance"))
    assert quiet.filter(record(logging.WARNING, "maintenance"))
    assert quiet.filter(record(logging.INFO, "run_check"))
    assert quiet.filter(logging.LogRecord("x", logging.INFO, __file__, 1, "no job", (), None))
