"""Issue 16, item 9: webhook address checks (SSRF) and concurrent, time-bounded deliveries.

No test here sends a packet beyond loopback: an autouse guard refuses every connection to
any other address (and records it) and every DNS look-up of a name the test did not map.
"""

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from app import jobs, webhooks
from app.db import get_sessionmaker
from app.settings import get_settings
from app.webhooks import CHECK_COMPLETED, deliver_due, refused_target, verify_signature
from db.models import WebhookDeliveryOrm, WebhookOrm
from tests.workers import WorkerProcess, wait_for

# Deliveries queued here fall due only tomorrow and are delivered "as of" then, so the
# dispatcher of a live test server (other modules) does not send them first.
TOMORROW = timedelta(days=1)
SECRET = "s" * 32

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect


class NetworkGuard:
    """Fake DNS answers for test names, and a record of every connection attempt."""

    def __init__(self) -> None:
        self.names: dict[str, list[list[str]]] = {}  # name -> answers, one per look-up
        self.lookups: list[str] = []
        self.connects: list[tuple] = []
        self.refused: list[tuple] = []

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host in self.names:
            self.lookups.append(host)
            answers = self.names[host]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port, 0, 0) if ":" in a else (a, port),
                )
                for a in addresses
            ]
        try:
            ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            assert host == "localhost", f"the test tried a DNS look-up of {host!r}"
        return _real_getaddrinfo(host, port, *args, **kwargs)

    def connect(self, sock, address):
        self.connects.append(address)
        if isinstance(address, tuple) and ipaddress.ip_address(address[0]).is_loopback:
            return _real_connect(sock, address)
        # Never let a packet leave the machine: as if the address did not answer.
        self.refused.append(address)
        raise ConnectionRefusedError(f"test guard: no traffic to {address[0]}")


@pytest.fixture(autouse=True)
def network(monkeypatch):
    """Only loopback traffic, and DNS only for names the test maps (and localhost)."""
    guard = NetworkGuard()
    monkeypatch.setattr(socket, "getaddrinfo", guard.getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", lambda sock, to: guard.connect(sock, to))
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return guard


def settings_with(**changes):
    """The test settings with some fields changed (deliver_due takes them directly)."""
    return get_settings().model_copy(update=changes)


def queue(url, count=1, due=None):
    """Register a webhook of the case_3326 key at `url` with `count` pending deliveries."""
    with get_sessionmaker()() as session:
        key_id = session.execute(
            text("SELECT id FROM api_key WHERE name = 'test case_3326'")
        ).scalar_one()
        hook = WebhookOrm(api_key_id=key_id, url=url, secret=SECRET, events=[CHECK_COMPLETED])
        session.add(hook)
        session.flush()
        rows = [
            WebhookDeliveryOrm(
                webhook_id=hook.id,
                event=CHECK_COMPLETED,
                payload={"event": CHECK_COMPLETED},
                status="pending",
                next_attempt_at=due or datetime.now(UTC) + TOMORROW,
            )
            for _ in range(count)
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def delivery(delivery_id):
    with get_sessionmaker()() as session:
        return session.get(WebhookDeliveryOrm, delivery_id)


def deliver_tomorrow(settings):
    return deliver_due(settings, datetime.now(UTC) + 2 * TOMORROW)


def deliver_within(settings, limit_s):
    """deliver_tomorrow, failing (not hanging) if it takes longer than limit_s; the seconds."""
    started = time.monotonic()
    worker = threading.Thread(target=deliver_tomorrow, args=(settings,), daemon=True)
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), f"the delivery still runs after {limit_s} s"
    return time.monotonic() - started


# --- Addresses ---------------------------------------------------------------------------

# (URL, a fragment the reason must contain). Literal addresses need no DNS.
REFUSED = [
    # IPv6 forms that carry a loopback or private IPv4
    ("http://[64:ff9b::7f00:1]/hook", "embeds 127.0.0.1 (NAT64"),
    ("http://[64:ff9b::127.0.0.1]/hook", "embeds 127.0.0.1 (NAT64"),
    ("http://[64:ff9b::a9fe:a9fe]/hook", "embeds 169.254.169.254 (NAT64"),
    ("http://[64:ff9b::c0a8:101]/hook", "embeds 192.168.1.1 (NAT64"),
    ("http://[64:ff9b:1::7f00:1]/hook", "local-use"),
    ("http://[64:ff9b:1:ff::5db8:d822]/hook", "local-use"),
    ("http://[2002:7f00:1::1]/hook", "embeds 127.0.0.1 (6to4"),
    ("http://[2002:a00:1::]/hook", "embeds 10.0.0.1 (6to4"),
    ("http://[2002:6440:1::1]/hook", "embeds 100.64.0.1 (6to4"),
    ("http://[::7f00:1]/hook", "IPv4-compatible"),
    ("http://[::127.0.0.1]/hook", "IPv4-compatible"),
    ("http://[::a00:1]/hook", "IPv4-compatible"),
    ("http://[::ffff:127.0.0.1]/hook", "embeds 127.0.0.1 (IPv4-mapped"),
    ("http://[::ffff:7f00:1]/hook", "embeds 127.0.0.1 (IPv4-mapped"),
    ("http://[::ffff:a9fe:a9fe]/hook", "embeds 169.254.169.254 (IPv4-mapped"),
    ("http://[::ffff:0.0.0.0]/hook", "embeds 0.0.0.0 (IPv4-mapped"),
    ("http://[::ffff:0:7f00:1]/hook", "embeds 127.0.0.1 (IPv4-translated"),
    ("http://[::ffff:0:a00:1]/hook", "embeds 10.0.0.1 (IPv4-translated"),
    # Teredo: public server 65.54.227.120, client 127.0.0.1 stored inverted (RFC 4380)
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "embeds 127.0.0.1 (Teredo"),
    # Teredo with a private server 10.0.0.1 and a public client
    ("http://[2001:0:a00:1:8000:63bf:a247:27dd]/hook", "embeds 10.0.0.1 (Teredo"),
    # IPv6 itself
    ("http://[::1]/hook", "loopback"),
    ("http://[::]/hook", "unspecified"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[fe80::1%25eth0]/hook", "link-local"),
    ("http://[fc00::1]/hook", "unique local"),
    ("http://[fd12:3456:789a::1]/hook", "unique local"),
    ("http://[fec0::1]/hook", "site-local"),
    ("http://[ff02::1]/hook", "multicast"),
    ("http://[ff0e::101]/hook", "multicast"),
    ("http://[100::1]/hook", "discard-only"),
    ("http://[2001:db8::1]/hook", "documentation"),
    ("http://[2001:2::1]/hook", "IETF protocol assignments"),
    ("http://[3fff::1]/hook", "documentation"),
    ("http://[4000::1]/hook", "outside the global unicast range"),
    ("http://[e000::1]/hook", "outside the global unicast range"),
    # IPv4
    ("http://127.0.0.1:8000/hook", "loopback"),
    ("http://127.255.255.254/hook", "loopback"),
    ("http://0.0.0.0/hook", "'this network'"),
    ("http://0.1.2.3/hook", "'this network'"),
    ("http://10.1.2.3/hook", "private"),
    ("http://172.16.0.1/hook", "private"),
    ("http://172.31.255.255/hook", "private"),
    ("http://192.168.1.10/hook", "private"),
    ("http://100.64.0.1/hook", "shared address space"),
    ("http://100.127.255.254/hook", "shared address space"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://192.0.0.8/hook", "IETF protocol assignments"),
    ("http://192.0.2.1/hook", "documentation"),
    ("http://198.18.0.1/hook", "benchmarking"),
    ("http://198.51.100.1/hook", "documentation"),
    ("http://203.0.113.1/hook", "documentation"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://239.255.255.250/hook", "multicast"),
    ("http://240.0.0.1/hook", "reserved"),
    ("http://255.255.255.255/hook", "reserved"),
    # IPv4 in odd notations (getaddrinfo reads several of them as 127.0.0.1)
    ("http://2130706433/hook", "non-standard notation"),
    ("http://0x7f000001/hook", "non-standard notation"),
    ("http://0x7f.1/hook", "non-standard notation"),
    ("http://0177.0.0.1/hook", "non-standard notation"),
    ("http://017700000001/hook", "non-standard notation"),
    ("http://127.1/hook", "non-standard notation"),
    ("http://127.0.0.1./hook", "non-standard notation"),
    ("http://0/hook", "non-standard notation"),
    ("http://example.0x10/hook", "non-standard notation"),
    # Names (localhost resolves from /etc/hosts, without the network)
    ("http://localhost/hook", "resolves to"),
    ("http://LOCALHOST:8000/hook", "resolves to"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_internal_targets_are_refused_before_any_connection(network, url, reason):
    """Every internal form is refused, saying why; nothing is connected to."""
    refused = refused_target(url, allow_private_networks=False)
    assert refused is not None and reason in refused, refused
    if "notation" not in reason:
        assert "not a public address" in refused
        assert "AREALSJEKK_WEBHOOK_ALLOW_PRIVATE_NETWORKS" in refused
    assert network.connects == []


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/hook",
        "http://[2606:2800:220:1:248:1893:25c8:1946]:8443/hook",
        # The same forms pass when what they carry is public
        "http://[64:ff9b::5db8:d822]/hook",
        "http://[2002:5db8:d822::1]/hook",
        "http://[::ffff:93.184.216.34]/hook",
        "http://[2001:0:4136:e378:8000:63bf:a247:29dd]/hook",
    ],
)
def test_public_targets_pass(network, url):
    """Public addresses, also in the embedding forms, are accepted (and not connected to)."""
    assert refused_target(url, allow_private_networks=False) is None
    assert network.connects == [] and network.lookups == []


def test_a_name_is_refused_if_any_of_its_addresses_is_internal(network):
    """Every address a name resolves to is checked, each IPv6 form included."""
    network.names = {
        "public.example": [["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]],
        "mixed.example": [["93.184.216.34", "10.0.0.1"]],
        "nat64.example": [["64:ff9b::7f00:1"]],
        "teredo.example": [["2001:0:4136:e378:8000:63bf:80ff:fffe"]],
        "scoped.example": [["fe80::1%lo"]],
    }
    assert refused_target("https://public.example/hook", False) is None
    assert "resolves to 10.0.0.1" in refused_target("https://mixed.example/hook", False)
    assert "embeds 127.0.0.1 (NAT64" in refused_target("https://nat64.example/hook", False)
    assert "embeds 127.0.0.1 (Teredo" in refused_target("https://teredo.example/hook", False)
    assert "link-local" in refused_target("https://scoped.example/hook", False)
    assert network.connects == []


def test_odd_notations_and_credentials_are_refused_even_when_private_networks_are_allowed():
    """An ambiguous address or a password in the URL is refused whatever the operator allows."""
    assert "non-standard notation" in refused_target("http://2130706433/hook", True)
    assert "non-standard notation" in refused_target("http://0x7f.1/hook", True)
    assert "user name or password" in refused_target("https://u:p@93.184.216.34/", False)
    assert refused_target("http://127.0.0.1:8000/hook", True) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:7f00:1::1]/hook",
        "http://[::7f00:1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
        "http://[64:ff9b:1::7f00:1]/hook",
        "http://[fec0::1]/hook",
        "http://2130706433/hook",
        "http://0x7f.1/hook",
        "http://0177.0.0.1/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://localhost/hook",
    ],
)
def test_registration_refuses_internal_targets(client, api_keys, override_settings, network, url):
    """POST /api/v1/webhooks answers 422 naming the url, stores nothing, connects nowhere."""
    override_settings(webhook_allow_private_networks=False)
    client.headers["Authorization"] = f"Bearer {api_keys['case_3326']}"
    response = client.post("/api/v1/webhooks", json={"url": url})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["detail"].startswith("url: ")
    assert problem["problems"][0]["field"] == "url"
    assert client.get("/api/v1/webhooks").json() == []
    assert network.connects == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[64:ff9b::7f00:1]:9/hook", "embeds 127.0.0.1 (NAT64"),
        ("http://[2002:7f00:1::1]:9/", "embeds 127.0.0.1 (6to4"),
        ("http://[::7f00:1]:9/", "IPv4-compatible"),
        ("http://[::ffff:127.0.0.1]:9/", "embeds 127.0.0.1 (IPv4-mapped"),
    ],
)
def test_a_stored_internal_target_is_not_sent_to(api_keys, network, url, reason):
    """A URL stored before these checks (or by hand) is refused again at delivery."""
    (delivery_id,) = queue(url)
    assert deliver_tomorrow(settings_with(webhook_allow_private_networks=False)) == 1
    row = delivery(delivery_id)
    assert row.last_error.startswith("not sent: ") and reason in row.last_error
    assert row.attempts == 1 and row.status == "pending"
    assert network.connects == []


# --- Receivers on loopback ----------------------------------------------------------------


class Receiver:
    """A TCP server on 127.0.0.1 that handles each connection with `serve(conn, receiver)`."""

    def __init__(self, serve):
        self.serve = serve
        self.lock = threading.Lock()
        self.open = 0
        self.peak = 0
        self.requests: list[bytes] = []
        self.answered = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with self.lock:
            self.open += 1
            self.peak = max(self.peak, self.open)
        try:
            with conn:
                self.serve(conn, self)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open -= 1

    def close(self):
        self.listener.close()


def read_request(conn):
    """Read one HTTP request (head and Content-Length body) from a connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def answer_at_once(conn, receiver):
    receiver.requests.append(read_request(conn))
    conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    receiver.answered.set()


def never_answer(conn, receiver):
    """Take the request and say nothing, until the client gives up and closes."""
    while conn.recv(65536):
        pass


def trickle(conn, receiver):
    """Answer one byte at a time, never finishing the head (a header line that never ends)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while True:
        conn.sendall(b"a")
        time.sleep(0.1)


def flood(conn, receiver):
    """Answer 200 with a body of a terabyte, sent as fast as the client takes it."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
    chunk = b"x" * 65536
    while True:
        conn.sendall(chunk)


@pytest.fixture
def receivers():
    """Start receivers with receivers(serve); all are closed after the test."""
    started = []

    def start(serve):
        started.append(Receiver(serve))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


def test_a_dead_receiver_does_not_hold_up_the_others(api_keys, receivers):
    """Deliveries run concurrently: the fast receiver is served while the dead one hangs,
    and the dead host never gets more than webhook_concurrency_per_host at once."""
    dead, fast = receivers(never_answer), receivers(answer_at_once)
    # Three webhooks on the dead host, queued first: sent one at a time, they would hold
    # the fast receiver's delivery for three timeouts.
    dead_ids = [queue(dead.url)[0] for _ in range(3)]
    (fast_id,) = queue(fast.url)
    settings = settings_with(
        webhook_timeout_s=2.0, webhook_concurrency=8, webhook_concurrency_per_host=2
    )
    result = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.update(n=deliver_tomorrow(settings)))
    worker.start()
    assert fast.answered.wait(30), "the fast receiver got nothing"
    fast_after = time.monotonic() - started
    assert dead.open >= 1 and worker.is_alive(), "the fast delivery waited for the dead one"
    worker.join(60)
    assert result["n"] == 4
    assert dead.peak == 2  # concurrent, but never more than the per-host limit
    assert delivery(fast_id).status == "delivered"
    assert {delivery(i).last_error for i in dead_ids} == {"TimeoutError"}
    print(f"fast delivery after {fast_after:.3f} s while the dead receiver hung")


def test_no_more_deliveries_at_once_than_webhook_concurrency(api_keys, receivers):
    """Three dead hosts, a limit of two at once in all: the third waits its turn."""
    dead = [receivers(never_answer) for _ in range(3)]
    for receiver in dead:
        queue(receiver.url)
    peak = 0
    stop = threading.Event()

    def watch():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, sum(receiver.open for receiver in dead))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        settings = settings_with(
            webhook_timeout_s=1.0, webhook_concurrency=2, webhook_concurrency_per_host=2
        )
        assert deliver_tomorrow(settings) == 3
    finally:
        stop.set()
        watcher.join()
    assert peak == 2
    assert sum(receiver.peak for receiver in dead) == 3  # each was tried once


def start_round():
    """Queue a round of deliveries, as a finished check does."""
    with get_sessionmaker()() as session:
        jobs.defer_webhook_round(session)
        session.commit()


@pytest.mark.slow
def test_a_worker_sends_new_deliveries_while_a_receiver_hangs(api_keys, receivers, tmp_path):
    """A worker process runs delivery rounds as jobs, two at once: a delivery queued while
    another round hangs on a dead receiver is sent at once by the second."""
    dead, fast = receivers(never_answer), receivers(answer_at_once)
    worker = WorkerProcess(tmp_path / "worker.log", webhook_timeout_s="3", worker_concurrency="2")
    try:
        (dead_id,) = queue(dead.url, due=datetime.now(UTC))
        start_round()
        wait_for(lambda: dead.open == 1, 20, "the dead receiver to be called")
        queued = time.monotonic()
        (fast_id,) = queue(fast.url, due=datetime.now(UTC))
        start_round()
        assert fast.answered.wait(10), "the fast receiver got nothing"
        waited = time.monotonic() - queued
        assert dead.open == 1, "the fast delivery waited for the dead one to time out"
        wait_for(lambda: delivery(fast_id).status == "delivered", 10, "the fast delivery")
    finally:
        assert worker.stop() == 0, worker.log()  # lets the hanging delivery end and be recorded
    assert delivery(dead_id).last_error == "TimeoutError"
    print(f"new delivery sent {waited:.3f} s after it was queued, the other one hanging")


def test_a_trickling_receiver_is_cut_off_at_the_timeout(api_keys, receivers):
    """The timeout covers the whole request, not each read: one byte every 0.1 s (a header
    line of 64 KiB would take two hours) ends the attempt after webhook_timeout_s."""
    slow = receivers(trickle)
    (delivery_id,) = queue(slow.url)
    took = deliver_within(settings_with(webhook_timeout_s=1.0), limit_s=15)
    assert delivery(delivery_id).last_error == "TimeoutError"
    print(f"trickling receiver cut off after {took:.2f} s (timeout 1 s)")


def test_a_huge_answer_is_read_only_up_to_the_cap(api_keys, receivers):
    """Only the status counts: a terabyte body is not read (read whole, it would time out)."""
    big = receivers(flood)
    (delivery_id,) = queue(big.url)
    deliver_within(settings_with(webhook_timeout_s=3.0), limit_s=30)
    row = delivery(delivery_id)
    assert row.status == "delivered" and row.last_status_code == 200, row.last_error


def test_the_delivery_connects_to_the_address_that_was_checked(api_keys, receivers, network):
    """DNS rebinding: the name is resolved once per attempt and that address is used, with
    the name in the Host header."""
    fast = receivers(answer_at_once)
    # A second look-up would give another loopback address, where nothing listens.
    network.names = {"receiver.test": [["127.0.0.1"], ["127.0.0.2"]]}
    (delivery_id,) = queue(f"http://receiver.test:{fast.port}/hook?case=1")
    assert deliver_tomorrow(get_settings()) == 1
    assert delivery(delivery_id).status == "delivered", delivery(delivery_id).last_error
    assert network.lookups == ["receiver.test"]
    assert network.connects == [("127.0.0.1", fast.port)]
    head, _, body = fast.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /hook?case=1 HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Host"] == f"receiver.test:{fast.port}"
    assert verify_signature(SECRET, headers["X-Arealsjekk-Signature"], body)


def test_a_rebinding_name_cannot_lead_inside(api_keys, receivers, network):
    """Checked as public, then answering loopback: the delivery still goes to the checked
    (public) address, which the guard stops, and the internal receiver hears nothing."""
    inside = receivers(answer_at_once)
    network.names = {"rebind.test": [["93.184.216.34"], ["127.0.0.1"]]}
    (delivery_id,) = queue(f"http://rebind.test:{inside.port}/hook")
    assert deliver_tomorrow(settings_with(webhook_allow_private_networks=False)) == 1
    assert network.lookups == ["rebind.test"]
    assert network.refused == [("93.184.216.34", inside.port)]
    assert delivery(delivery_id).last_error == "ConnectionRefusedError"
    assert inside.requests == []


def test_deliveries_go_through_the_operators_proxy(api_keys, receivers, network, monkeypatch):
    """With http_proxy set, a delivery is sent to the proxy (absolute URL), never direct."""
    proxy = receivers(answer_at_once)
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    network.names = {"hook.example": [["93.184.216.34"]]}
    (delivery_id,) = queue("http://hook.example/hook?x=1")
    assert deliver_tomorrow(settings_with(webhook_allow_private_networks=False)) == 1
    assert delivery(delivery_id).status == "delivered", delivery(delivery_id).last_error
    head = proxy.requests[0].split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert head[0] == "POST http://hook.example/hook?x=1 HTTP/1.1"
    assert "Host: hook.example" in head
    assert network.refused == []


class _Answer204(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).hosts.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _certificate(tmp_path, name):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("certified", ["receiver.test", "other.test"])
def test_https_connects_to_the_checked_address_and_verifies_the_name(
    api_keys, network, monkeypatch, tmp_path, certified
):
    """Over TLS the pinned connection sends the name as SNI and checks the certificate
    against it; a certificate for another name fails the attempt."""
    cert, key = _certificate(tmp_path, certified)
    server_names = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    _Answer204.hosts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer204)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setattr(webhooks, "_tls_context", lambda: webhooks.tls_context(str(cert)))
    network.names = {"receiver.test": [["127.0.0.1"], ["127.0.0.2"]]}
    try:
        (delivery_id,) = queue(f"https://receiver.test:{port}/hook")
        assert deliver_tomorrow(settings_with(webhook_timeout_s=5.0)) == 1
    finally:
        server.shutdown()
    row = delivery(delivery_id)
    assert network.connects == [("127.0.0.1", port)]
    if certified == "receiver.test":
        assert row.status == "delivered", row.last_error
        assert server_names == ["receiver.test"]
        assert _Answer204.hosts == [f"receiver.test:{port}"]
    else:
        assert row.last_error == "SSLCertVerificationError"
        assert _Answer204.hosts == []


@pytest.mark.parametrize("why", ["revoked", "inactive"])
def test_a_revoked_key_or_inactive_webhook_is_sent_nothing(api_keys, receivers, why):
    """Deliveries queued before a key was revoked (or its webhook switched off) are dropped:
    a check summary of a draft must not go to a receiver that may no longer see it."""
    receiver = receivers(answer_at_once)
    (delivery_id,) = queue(receiver.url)
    with get_sessionmaker()() as session:
        if why == "revoked":
            session.execute(
                text("UPDATE api_key SET revoked_at = now() WHERE name = 'test case_3326'")
            )
        else:
            session.execute(text("UPDATE webhook SET active = false"))
        session.commit()
    try:
        deliver_tomorrow(settings_with())
        row = delivery(delivery_id)
        assert row.status == "failed" and "revoked" in row.last_error
        assert receiver.requests == [] and not receiver.answered.is_set()
    finally:
        with get_sessionmaker()() as session:
            session.execute(
                text("UPDATE api_key SET revoked_at = NULL WHERE name = 'test case_3326'")
            )
            session.commit()
