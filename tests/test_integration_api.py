"""Case-system integration: Idempotency-Key, addressing by national plan id, signed webhooks."""

import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from app import idempotency, jobs, webhooks
from app.db import get_engine, get_sessionmaker
from app.errors import OutageLog
from app.settings import get_settings
from app.webhooks import CHECK_COMPLETED, deliver_due, refused_target, verify_signature
from db.models import WebhookDeliveryOrm, WebhookOrm
from tests.conftest import row_counts
from tests.plans import PLAN, cabin_area, collection, encode
from tests.workers import job_rows, run_jobs


def upload(client, key=None, plan=PLAN, lat=60.86):
    headers = {"Idempotency-Key": key} if key else {}
    body = encode(collection(cabin_area(lat=lat), plan=plan))
    return client.post("/api/v1/proposals", content=body, headers=headers)


def test_same_idempotency_key_and_body_replays_the_first_answer(client):
    """A retried upload returns the same version, marked as replayed, and stores nothing new."""
    first = upload(client, "upload-42")
    again = upload(client, "upload-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert row_counts()["proposal_version"] == 1


def test_same_key_different_body_is_409(client):
    """Reusing a key for another request is refused; nothing is stored by the second."""
    assert upload(client, "upload-43").status_code == 201
    response = upload(client, "upload-43", lat=60.87)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "different request" in response.json()["detail"]
    assert row_counts()["proposal_version"] == 1


def test_keys_are_per_client_and_errors_are_replayed_too(client, api_keys):
    """Another API key may use the same Idempotency-Key; a 4xx answer is replayed as well."""
    assert upload(client, "shared").status_code == 201
    client.headers["Authorization"] = f"Bearer {api_keys['planner_3326']}"
    # Not a replay of the admin's answer: run anew, it finds the content already stored.
    other = upload(client, "shared")
    assert other.status_code == 200 and "idempotent-replayed" not in other.headers
    assert other.json()["identical_to_version"] == 1
    bad = client.post(
        "/api/v1/proposals", content=b"{not json", headers={"Idempotency-Key": "bad-1"}
    )
    replay = client.post(
        "/api/v1/proposals", content=b"{not json", headers={"Idempotency-Key": "bad-1"}
    )
    assert bad.status_code == replay.status_code == 400
    assert replay.headers["idempotent-replayed"] == "true"


def test_idempotent_post_while_the_database_is_down_is_503(client, monkeypatch):
    """The key is claimed in the database: unreachable, the answer is a 503 to retry."""
    unreachable = create_engine("postgresql+psycopg://nobody@/none?host=/nonexistent&port=1")
    monkeypatch.setattr(idempotency, "get_sessionmaker", lambda: sessionmaker(unreachable))
    response = upload(client, "while-down")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert "database" in response.json()["detail"]
    assert row_counts()["proposal_version"] == 0


def test_an_outage_is_logged_once_then_counted(caplog):
    """Failed requests during an outage are not logged one by one, and none goes uncounted."""
    outage = OutageLog(every_s=0.2)
    with caplog.at_level(logging.WARNING, logger="app.errors"):
        for _ in range(5):
            outage.failed("POST", "/api/v1/proposals", "OperationalError")
        time.sleep(1.0)  # the counting window (0.2 s) is over; its count is written
        outage.failed("GET", "/api/v1/proposals", "OperationalError")
        time.sleep(1.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.errors"]
    assert lines == [
        "database unavailable on POST /api/v1/proposals (OperationalError)",
        "database unavailable: 4 more requests answered 503 in 0.2 s",
        "database unavailable on GET /api/v1/proposals (OperationalError)",
    ]


def test_a_claim_whose_answer_was_never_recorded_is_taken_over_later(client):
    """A key left without an answer (database lost mid-request) is refused, then expires."""
    assert upload(client, "lost-answer").status_code == 201
    forget = "UPDATE idempotency_record SET response_status = NULL, created_at = now() - :age"
    with get_engine().begin() as connection:
        connection.execute(text(forget), {"age": timedelta(minutes=1)})
    assert upload(client, "lost-answer").status_code == 409
    with get_engine().begin() as connection:
        connection.execute(text(forget), {"age": idempotency.ABANDONED_AFTER * 2})
    retried = upload(client, "lost-answer")
    # Run anew: version 1 was stored by the first request, so nothing is stored twice.
    assert retried.status_code == 200 and retried.json()["identical_to_version"] == 1
    replayed = upload(client, "lost-answer")
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.status_code == 200 and replayed.json() == retried.json()
    assert row_counts()["proposal_version"] == 1


def test_without_a_key_each_post_runs_anew(client):
    """Plain POSTs are not replayed: each runs, and content already stored makes no version
    unless a new one is asked for."""
    assert upload(client).status_code == 201
    assert upload(client).status_code == 200
    assert row_counts()["proposal_version"] == 1
    body = encode(collection(cabin_area(), plan=PLAN))
    forced = client.post("/api/v1/proposals?if_identical=new_version", content=body)
    assert forced.status_code == 201 and forced.json()["version"] == 2
    assert row_counts()["proposal_version"] == 2


def test_addressing_by_kommunenummer_and_planidentifikasjon(client):
    """/api/v1/plans/{kommunenummer}/{planidentifikasjon} reads, uploads and checks a plan."""
    body = encode(collection(cabin_area(), plan={"plantype": 20, "planstatus": 2}))
    created = client.post("/api/v1/plans/3326/KPA-2027/versions", content=body)
    assert created.status_code == 201, created.text
    assert created.json()["proposal_id"] == "3326_KPA-2027"
    shown = client.get("/api/v1/plans/3326/KPA-2027")
    assert shown.status_code == 200 and shown.json()["latest_version"] == 1
    checked = client.post("/api/v1/plans/3326/KPA-2027/versions/1/checks")
    assert checked.status_code == 201 and checked.json()["status"] == "done"
    assert client.get("/api/v1/plans/3326/NOPE").status_code == 404


class Receiver(BaseHTTPRequestHandler):
    """A case system's webhook endpoint: fails the first delivery, then accepts."""

    received: list[tuple[dict[str, str], bytes]] = []
    fail_first = True

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = 500 if type(self).fail_first and len(type(self).received) == 1 else 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A webhook receiver on a loopback port."""
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_webhook_is_signed_retried_and_logged(client, api_keys, receiver, monkeypatch):
    """check.completed reaches the case system, signed, after one failed attempt."""
    client.headers["Authorization"] = f"Bearer {api_keys['case_3326']}"
    registered = client.post("/api/v1/webhooks", json={"url": receiver})
    assert registered.status_code == 201, registered.text
    hook = registered.json()
    assert hook["events"] == list(webhooks.EVENTS) and len(hook["secret"]) >= 32
    assert client.get("/api/v1/webhooks").json()[0]["secret"] is None  # shown only once

    assert upload(client).status_code == 201
    check = client.post("/api/v1/proposals/3326_2024001/versions/1/checks").json()

    deliveries_url = f"/api/v1/webhooks/{hook['id']}/deliveries"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run_jobs(monkeypatch)  # a worker's rounds: the first attempt, then the retry when due
        deliveries = client.get(deliveries_url).json()
        if deliveries and deliveries[0]["status"] == "delivered":
            break
        time.sleep(0.2)
    assert deliveries[0]["status"] == "delivered", deliveries
    assert deliveries[0]["attempts"] == 2 and deliveries[0]["last_status_code"] == 204

    headers, body = Receiver.received[-1]
    assert headers["X-Arealsjekk-Event"] == "check.completed"
    assert verify_signature(hook["secret"], headers["X-Arealsjekk-Signature"], body)
    assert not verify_signature("wrong secret", headers["X-Arealsjekk-Signature"], body)
    payload = json.loads(body)
    assert payload["nasjonalArealplanId"] == {
        "administrativEnhet": {"kommunenummer": "3326"},
        "planidentifikasjon": "2024001",
    }
    assert payload["check"]["id"] == check["id"]
    assert payload["check"]["summary"]["total"] == check["summary"]["total"]


def test_webhooks_belong_to_their_client(client, api_keys, receiver):
    """Another client cannot see or delete a webhook; planners cannot register one."""
    client.headers["Authorization"] = f"Bearer {api_keys['case_3326']}"
    hook = client.post("/api/v1/webhooks", json={"url": receiver}).json()
    client.headers["Authorization"] = f"Bearer {api_keys['case_county']}"
    assert client.get("/api/v1/webhooks").json() == []
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    client.headers["Authorization"] = f"Bearer {api_keys['planner_3326']}"
    assert client.post("/api/v1/webhooks", json={"url": receiver}).status_code == 403
    client.headers["Authorization"] = f"Bearer {api_keys['case_3326']}"
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    bad = client.post("/api/v1/webhooks", json={"url": "ftp://x", "events": ["nope"]})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
    ],
)
def test_webhooks_to_internal_addresses_are_refused_by_default(
    client, api_keys, override_settings, url
):
    """SSRF: the service will not POST to loopback, private or link-local hosts."""
    override_settings(webhook_allow_private_networks=False)
    client.headers["Authorization"] = f"Bearer {api_keys['case_3326']}"
    response = client.post("/api/v1/webhooks", json={"url": url})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "not a public address" in problem["detail"] and problem["detail"].startswith("url:")
    assert client.get("/api/v1/webhooks").json() == []


def test_webhook_target_rules(monkeypatch):
    """Public addresses pass; the operator may allow internal ones; odd schemes never."""
    assert refused_target("https://93.184.216.34/hook", False) is None
    assert "not a public address" in refused_target("http://192.168.1.10/hook", False)
    assert refused_target("http://192.168.1.10/hook", True) is None
    assert "http:// or https://" in refused_target("file:///etc/passwd", True)

    def no_such_name(host, *args, **kwargs):  # no DNS query leaves the test
        raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known: {host}")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    assert "cannot be resolved" in refused_target("https://no-such-host.invalid/hook", False)


# Deliveries these tests queue fall due only tomorrow, and the tests deliver "as of" then:
# a live test server's dispatcher (other test modules) must not send them first.
TOMORROW = timedelta(days=1)


def _queue_delivery(api_keys, url):
    """A webhook of the case_3326 key with one delivery due tomorrow, written to the tables."""
    with get_sessionmaker()() as session:
        key_id = session.execute(
            text("SELECT id FROM api_key WHERE name = 'test case_3326'")
        ).scalar_one()
        hook = WebhookOrm(api_key_id=key_id, url=url, secret="s" * 32, events=[CHECK_COMPLETED])
        session.add(hook)
        session.flush()
        delivery = WebhookDeliveryOrm(
            webhook_id=hook.id,
            event=CHECK_COMPLETED,
            payload={"event": CHECK_COMPLETED},
            status="pending",
            next_attempt_at=datetime.now(UTC) + TOMORROW,
        )
        session.add(delivery)
        session.commit()
        return delivery.id


def _delivery(delivery_id):
    with get_sessionmaker()() as session:
        return session.get(WebhookDeliveryOrm, delivery_id)


def test_a_delivery_to_an_internal_address_is_not_sent(api_keys, receiver):
    """The address is checked again at delivery (the host name may point elsewhere now)."""
    delivery_id = _queue_delivery(api_keys, receiver)
    settings = get_settings().model_copy(update={"webhook_allow_private_networks": False})
    assert deliver_due(settings, datetime.now(UTC) + 2 * TOMORROW) == 1
    delivery = _delivery(delivery_id)
    assert delivery.last_error.startswith("not sent:") and "not a public address" in (
        delivery.last_error
    )
    assert delivery.status == "pending" and Receiver.received == []


class Redirecting(BaseHTTPRequestHandler):
    """An endpoint that sends every POST on (303, which a client follows with a GET)."""

    followed: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.send_response(303)
        self.send_header("Location", "/elsewhere")
        self.end_headers()

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).followed.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_redirects_are_not_followed(api_keys):
    """A redirect could lead to an internal address: it counts as a failed attempt."""
    Redirecting.followed = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        delivery_id = _queue_delivery(api_keys, f"http://127.0.0.1:{server.server_address[1]}/")
        assert deliver_due(get_settings(), datetime.now(UTC) + 2 * TOMORROW) == 1
    finally:
        server.shutdown()
    delivery = _delivery(delivery_id)
    assert delivery.last_status_code == 303 and delivery.last_error == "HTTP 303"
    assert Redirecting.followed == []


def test_a_webhook_round_in_a_database_outage_is_tried_again(api_keys, receiver, monkeypatch):
    """A round that cannot reach the database fails as a job and is retried later (not
    lost, nothing marked failed); once the database answers, the delivery is sent."""
    delivery_id = _queue_delivery(api_keys, receiver)
    monkeypatch.setattr(Receiver, "fail_first", False)
    with get_sessionmaker()() as session:
        session.get(WebhookDeliveryOrm, delivery_id).next_attempt_at = datetime.now(UTC)
        jobs.defer_webhook_round(session)
        session.commit()
    reachable = webhooks.get_sessionmaker
    unreachable = create_engine("postgresql+psycopg://nobody@/none?host=/nonexistent&port=1")
    monkeypatch.setattr(webhooks, "get_sessionmaker", lambda: sessionmaker(unreachable))
    jobs.drain(get_settings())
    (job,) = job_rows("deliver_webhooks")
    assert job["status"] == "todo" and job["attempts"] == 1  # to be tried again, later
    assert _delivery(delivery_id).status == "pending"

    monkeypatch.setattr(webhooks, "get_sessionmaker", reachable)
    with get_engine().begin() as connection:  # the retry's wait, skipped
        connection.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
    jobs.drain(get_settings())
    assert _delivery(delivery_id).status == "delivered"
