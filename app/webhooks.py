"""Webhooks for case systems: signed deliveries of check.completed, finding.reviewed and
proposal.published, retried with backoff.

Each delivery is POSTed as JSON with the headers
`X-Arealsjekk-Event`, `X-Arealsjekk-Delivery` and
`X-Arealsjekk-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`,
so a receiver can check both origin and freshness (the timestamp is signed too). Delivery
is at least once: a receiver de-duplicates by the delivery id, which a retry and a re-send
on request (`X-Arealsjekk-Redelivery: <n>`) keep. Events are queued in the transaction of
the change they report, so a committed change always has its deliveries and a rolled-back
one none. Links in a payload are absolute (AREALSJEKK_PUBLIC_URL, else the base URL the
webhook was registered through).

A webhook URL must reach a public address (OWASP SSRF Prevention Cheat Sheet): it is
checked when the webhook is registered and again before every delivery, and the delivery
connects to the very address that was checked (a host name is resolved once per attempt,
so a DNS answer that changes between check and connection - DNS rebinding - cannot lead
inside). Deliveries are sent in rounds (`deliver_due`), run as jobs by `arealsjekk worker`
(app.jobs.deliver_webhooks); within a round they run concurrently, a bounded number at
once in all and per receiving host, each within one overall time limit, so a slow or dead
receiver holds up no other. Rows are claimed with SKIP LOCKED, so rounds in several
workers never send one delivery twice.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import get_sessionmaker
from app.jobs import defer_webhook_round
from app.metrics import count_webhook_failure
from app.settings import Settings, get_settings
from app.urls import absolute
from db.models import (
    ApiKeyOrm,
    CheckFindingOrm,
    FindingReviewOrm,
    PlanCheckOrm,
    PlanProposalOrm,
    WebhookDeliveryOrm,
    WebhookOrm,
)

logger = logging.getLogger(__name__)

CHECK_COMPLETED = "check.completed"
FINDING_REVIEWED = "finding.reviewed"
PROPOSAL_PUBLISHED = "proposal.published"
EVENTS = (CHECK_COMPLETED, FINDING_REVIEWED, PROPOSAL_PUBLISHED)
USER_AGENT = "Arealsjekk-Webhooks/1"
# Only the status matters; the rest of an answer is read up to this much, then dropped.
MAX_RESPONSE_BYTES = 64 * 1024
# A claimed delivery is leased for the request timeout plus this margin (DNS look-ups are
# not interrupted by the timeout); a process that dies meanwhile leaves it due again.
LEASE_MARGIN_S = 60.0
# Deliveries looked at per claim: at most webhook_concurrency_per_host of each webhook.
CLAIM_BATCH = 200


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """Check a signature header as a receiver would (also used by the tests and README)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).split("v1=")[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _plan_id(proposal: PlanProposalOrm) -> dict[str, Any]:
    """The national plan id in KS Fiks Plan's shape (nasjonalArealplanId)."""
    return {
        "administrativEnhet": {"kommunenummer": proposal.kommunenummer},
        "planidentifikasjon": proposal.planidentifikasjon,
    }


def _proposal_path(proposal: PlanProposalOrm) -> str:
    return f"/api/v1/proposals/{proposal.kommunenummer}_{proposal.planidentifikasjon}"


def check_completed_payload(check: PlanCheckOrm) -> dict[str, Any]:
    """The event body: the national plan id in KS Fiks Plan's shape, and the check summary."""
    version = check.version
    proposal = version.proposal
    return {
        "event": CHECK_COMPLETED,
        "check": {
            "id": check.id,
            "status": check.status,
            "ruleSet": {"id": check.rule_set_id, "version": check.rule_set_version},
            "summary": check.summary,
            "finishedAt": _iso(check.finished_at),
        },
        "nasjonalArealplanId": _plan_id(proposal),
        "versjon": version.version,
        "saksnummer": check.saksnummer,
        "journalpostId": check.journalpost_id,
        "links": {
            "check": f"/api/v1/checks/{check.id}",
            "findings": f"/api/v1/checks/{check.id}/findings",
            "report": f"/api/v1/checks/{check.id}/report.pdf",
            "proposal": _proposal_path(proposal),
        },
    }


def finding_reviewed_payload(
    finding: CheckFindingOrm,
    check: PlanCheckOrm,
    review: FindingReviewOrm,
    previous_status: str,
) -> dict[str, Any]:
    """The event body of a forum decision: the finding, its plan and check, and the review."""
    version = check.version
    proposal = version.proposal
    return {
        "event": FINDING_REVIEWED,
        "finding": {
            "id": finding.id,
            "rule": finding.rule_id,
            "severity": finding.severity,
            "message": finding.message,
            "links": {
                "review": f"/api/v1/forum/findings/{finding.id}/review",
                "findings": f"/api/v1/checks/{check.id}/findings",
            },
        },
        "review": {
            "status": review.status,
            "previousStatus": previous_status,
            "comment": review.comment,
            "reviewer": review.reviewer,
            "reviewedAt": _iso(review.updated_at),
        },
        "check": {"id": check.id},
        "nasjonalArealplanId": _plan_id(proposal),
        "versjon": version.version,
        "plannavn": version.plannavn or proposal.plannavn,
        "saksnummer": check.saksnummer,
        "journalpostId": check.journalpost_id,
        "forumSaksnummer": proposal.saksnummer,
        "links": {
            "check": f"/api/v1/checks/{check.id}",
            "report": f"/api/v1/checks/{check.id}/report.pdf",
            "proposal": _proposal_path(proposal),
        },
    }


def proposal_published_payload(proposal: PlanProposalOrm) -> dict[str, Any]:
    """The event body of a publication: the plan, its latest version and case references."""
    latest = proposal.versions[-1] if proposal.versions else None
    path = _proposal_path(proposal)
    links = {"proposal": path}
    if latest is not None:
        links["version"] = f"{path}/versions/{latest.version}"
    return {
        "event": PROPOSAL_PUBLISHED,
        "nasjonalArealplanId": _plan_id(proposal),
        "plannavn": proposal.plannavn,
        "plantype": proposal.plantype,
        "versjon": latest.version if latest else None,
        "publishedAt": _iso(proposal.published_at),
        "saksnummer": latest.saksnummer if latest else None,
        "journalpostId": latest.journalpost_id if latest else None,
        "forumSaksnummer": proposal.saksnummer,
        "links": links,
    }


def absolute_links(value: Any, base_url: str | None) -> Any:
    """A copy of a payload whose "links" objects (at any depth) start with base_url."""
    if isinstance(value, list):
        return [absolute_links(item, base_url) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: (
            {name: absolute(base_url, path) for name, path in item.items()}
            if key == "links" and isinstance(item, dict)
            else absolute_links(item, base_url)
        )
        for key, item in value.items()
    }


def _enqueue(
    session: Session,
    kommunenummer: str,
    event: str,
    payload: dict[str, Any],
    settings: Settings | None,
) -> int:
    """Queue `payload` to every active webhook for `event` whose owner may see the plan:
    a county-wide key, or a key of the plan's municipality (a draft stays in its
    municipality). Links become absolute per webhook. The caller commits."""
    settings = settings or get_settings()
    hooks = session.execute(
        select(WebhookOrm)
        .join(ApiKeyOrm, ApiKeyOrm.id == WebhookOrm.api_key_id)
        .where(
            WebhookOrm.active.is_(True),
            ApiKeyOrm.revoked_at.is_(None),
            or_(ApiKeyOrm.kommunenummer.is_(None), ApiKeyOrm.kommunenummer == kommunenummer),
        )
        .order_by(WebhookOrm.id)
    ).scalars()
    count = 0
    for hook in hooks:
        if event not in hook.events:
            continue
        session.add(
            WebhookDeliveryOrm(
                webhook_id=hook.id,
                event=event,
                payload=absolute_links(payload, settings.public_url or hook.base_url),
                status="pending",
                next_attempt_at=datetime.now(UTC),
            )
        )
        count += 1
    return count


def enqueue_check_completed(
    session: Session, check: PlanCheckOrm, settings: Settings | None = None
) -> int:
    """Queue a delivery to every active webhook whose owner may see this plan (caller commits)."""
    session.flush()  # finished_at may be the SQL expression clock_timestamp() until flushed
    kommunenummer = check.version.proposal.kommunenummer
    return _enqueue(
        session, kommunenummer, CHECK_COMPLETED, check_completed_payload(check), settings
    )


def enqueue_finding_reviewed(
    session: Session, finding_id: int, previous_status: str, settings: Settings | None = None
) -> int:
    """Queue finding.reviewed for a review just changed in this session, and a delivery round
    when anyone is to hear of it (the caller commits)."""
    session.flush()
    finding = session.get(CheckFindingOrm, finding_id)
    review = session.get(FindingReviewOrm, finding_id)
    if finding is None or review is None:
        return 0
    check = session.get_one(PlanCheckOrm, finding.check_id)
    payload = finding_reviewed_payload(finding, check, review, previous_status)
    kommunenummer = check.version.proposal.kommunenummer
    count = _enqueue(session, kommunenummer, FINDING_REVIEWED, payload, settings)
    if count:
        defer_webhook_round(session)
    return count


def enqueue_proposal_published(
    session: Session, proposal: PlanProposalOrm, settings: Settings | None = None
) -> int:
    """Queue proposal.published for a proposal just published in this session, and a
    delivery round when anyone is to hear of it (the caller commits)."""
    session.flush()
    # published_at may still be the SQL expression now(): read the stored time.
    session.refresh(proposal, ["published_at"])
    payload = proposal_published_payload(proposal)
    count = _enqueue(session, proposal.kommunenummer, PROPOSAL_PUBLISHED, payload, settings)
    if count:
        defer_webhook_round(session)
    return count


def redeliver(session: Session, delivery: WebhookDeliveryOrm) -> None:
    """Make a finished delivery due again now with a fresh retry budget, same id and body,
    and queue a round (the caller locked the row and commits)."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.redeliveries += 1
    delivery.delivered_at = None
    delivery.next_attempt_at = datetime.now(UTC)
    defer_webhook_round(session)


# Address blocks a webhook may not reach: the IANA IPv4 and IPv6 Special-Purpose Address
# Registries (RFC 6890 and its updates) where not globally reachable, plus multicast and
# the deprecated forms. Python 3.11's is_global misses several of them (multicast,
# fec0::/10, 64:ff9b:1::/48, 192.0.0.0/24), hence the explicit table.
_SPECIAL_NETWORKS = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("0.0.0.0/8", "'this network' (RFC 791)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation (RFC 5737)"),
        ("192.88.99.0/24", "6to4 relay anycast (deprecated, RFC 7526)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation (RFC 5737)"),
        ("203.0.113.0/24", "documentation (RFC 5737)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved (RFC 1112)"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)"),
        ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
        ("100::/64", "discard-only (RFC 6666)"),
        ("2001::/23", "IETF protocol assignments (RFC 2928)"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("3fff::/20", "documentation (RFC 9637)"),
        ("5f00::/16", "segment routing (RFC 9602)"),
        ("fc00::/7", "unique local (RFC 4193)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated, RFC 3879)"),
        ("ff00::/8", "multicast"),
    )
)
# Outside this range an IPv6 address is not global unicast (RFC 4291 §2.4, IANA).
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# Forms that carry an IPv4 address in their last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix, RFC 6052 §2.1
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 §2.1
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_PRIVATE_HINT = (
    "webhooks to internal networks must be allowed by the operator "
    "(AREALSJEKK_WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
)


class RefusedTarget(ValueError):
    """A webhook URL that may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: its parts, and the resolved addresses to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, tuple[Any, ...]], ...]


def _embedded_ipv4(
    address: ipaddress.IPv6Address,
) -> tuple[str, tuple[ipaddress.IPv4Address, ...]] | None:
    """The IPv4 addresses an IPv6 address carries, with the name of its form, if any."""
    last_32_bits = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", (address.ipv4_mapped,)
    if address in _IPV4_TRANSLATED:
        return "IPv4-translated, RFC 2765", (last_32_bits,)
    if address in _NAT64:
        return "NAT64, RFC 6052", (last_32_bits,)
    if address.sixtofour is not None:
        return "6to4, RFC 3056", (address.sixtofour,)
    if address.teredo is not None:
        # RFC 4380 §4: the server's IPv4 in bits 32-63, the client's obfuscated (inverted)
        # in the last 32 bits; ipaddress undoes the inversion.
        return "Teredo, RFC 4380", address.teredo
    return None


def why_not_public(address: IPAddress) -> str | None:
    """Say why an address is not a public unicast address, or None if it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, carried = embedded
            for ipv4 in carried:
                reason = why_not_public(ipv4)
                if reason is not None:
                    return f"it embeds {ipv4} ({form}), which is {reason}"
            return None
    for network, label in _SPECIAL_NETWORKS:
        if address.version == network.version and address in network:
            return f"{label}, in {network}"
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST:
        return f"outside the global unicast range {_GLOBAL_UNICAST}"
    return None


def _ends_in_a_number(host: str) -> bool:
    """WHATWG URL Standard's "ends in a number": such a host is parsed as an IPv4 address."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return (last.isascii() and last.isdigit()) or re.fullmatch(r"0x[0-9a-f]*", last) is not None


def _parse(url: str) -> tuple[urllib.parse.SplitResult, str, int, IPAddress | None]:
    """Split a webhook URL into parts, host, port and its literal address (if it is one)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedTarget(f"the URL is not valid ({exc})") from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise RefusedTarget("the URL must be http:// or https:// with a host name")
    if parts.username is not None or parts.password is not None:
        # RFC 3986 §3.2.1: credentials in a URL are deprecated; the signature authenticates.
        raise RefusedTarget("the URL must not contain a user name or password")
    try:
        # An IPv6 zone is written "%25" in a URL (RFC 6874).
        literal = ipaddress.ip_address(urllib.parse.unquote(host))
    except ValueError:
        if _ends_in_a_number(host):
            # "2130706433", "0x7f.1" or "0177.0.0.1" mean 127.0.0.1 to some parsers and
            # something else (or a DNS name) to others: refused whatever the operator allows.
            raise RefusedTarget(
                f"'{host}' is an IPv4 address in a non-standard notation; "
                "write it as four decimal numbers (a.b.c.d)"
            ) from None
        return parts, host, port, None
    return parts, str(literal), port, literal


def resolve_target(url: str, allow_private_networks: bool) -> Target:
    """Resolve a webhook URL once and check every address; raise RefusedTarget if refused."""
    parts, host, port, literal = _parse(url)
    if literal is not None and not allow_private_networks:
        reason = why_not_public(literal)
        if reason is not None:
            raise RefusedTarget(f"'{host}' is not a public address ({reason}); {_PRIVATE_HINT}")
    try:
        infos = socket.getaddrinfo(
            host,
            port,
            type=socket.SOCK_STREAM,
            # A literal address is only parsed: no name service is asked.
            flags=socket.AI_NUMERICHOST if literal is not None else 0,
        )
    except (OSError, UnicodeError):
        raise RefusedTarget(f"the host name '{host}' cannot be resolved") from None
    addresses = tuple(dict.fromkeys((info[0], info[4]) for info in infos))
    if not allow_private_networks:
        for _, sockaddr in addresses:
            address = ipaddress.ip_address(sockaddr[0])
            reason = why_not_public(address)
            if reason is not None:
                raise RefusedTarget(
                    f"'{host}' resolves to {address}, which is not a public address "
                    f"({reason}); {_PRIVATE_HINT}"
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url, parts.scheme, host, port, path, addresses)


def refused_target(url: str, allow_private_networks: bool) -> str | None:
    """Say why a webhook URL may not be called (not http(s), or not a public address)."""
    try:
        if allow_private_networks:
            _parse(url)  # nothing to resolve: every address is allowed
        else:
            resolve_target(url, allow_private_networks)
    except RefusedTarget as exc:
        return str(exc)
    return None


# The deadline of the delivery the current thread is sending (time.monotonic() value).
_deadline = threading.local()


class _DeadlineMixin:
    """Socket calls bounded by the thread's delivery deadline, not each by the full timeout.

    A per-call timeout alone lets a receiver that trickles one byte a second hold a
    delivery for ever; here every call gets only what is left of the overall time.
    """

    def _arm(self) -> None:
        deadline = getattr(_deadline, "at", None)
        if deadline is None:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the webhook delivery ran out of time")
        self.settimeout(remaining)  # type: ignore[attr-defined]

    def connect(self, address: Any) -> None:
        self._arm()
        super().connect(address)  # type: ignore[misc]

    def send(self, *args: Any) -> int:
        self._arm()
        return super().send(*args)  # type: ignore[misc]

    def sendall(self, *args: Any) -> None:
        self._arm()
        super().sendall(*args)  # type: ignore[misc]

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return super().recv_into(*args)  # type: ignore[misc]


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    """A TCP socket bounded by the delivery deadline."""


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    """A TLS socket bounded by the delivery deadline (the handshake too)."""

    def do_handshake(self, *args: Any) -> None:
        self._arm()
        super().do_handshake(*args)


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """A verifying TLS client context whose sockets keep to the delivery deadline."""
    context = ssl.create_default_context(cafile=cafile)
    context.sslsocket_class = _DeadlineSSLSocket
    return context


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return tls_context()


def _connect(addresses: tuple[tuple[int, tuple[Any, ...]], ...]) -> socket.socket:
    """Connect to the first of these addresses that answers, as socket.create_connection."""
    error: OSError = OSError("no address to connect to")
    for family, sockaddr in addresses:
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def _proxy_for(target: Target) -> urllib.parse.SplitResult | None:
    """The operator's proxy for this URL (http_proxy / https_proxy / no_proxy), if any."""
    proxy = urllib.request.getproxies().get(target.scheme)
    if not proxy or urllib.request.proxy_bypass(target.host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("only http:// proxies are supported for webhooks")
    return parts


def _connection(target: Target, headers: dict[str, str]) -> tuple[http.client.HTTPConnection, str]:
    """An HTTP(S) connection for a delivery and the request target to send on it."""
    proxy = _proxy_for(target)
    tls = {"context": _tls_context()} if target.scheme == "https" else {}
    if proxy is None:
        connection_class = http.client.HTTPSConnection if tls else http.client.HTTPConnection
        connection = connection_class(target.host, target.port, **tls)
        addresses, request_target = target.addresses, target.path
    else:
        # The operator's egress proxy resolves the name again: the address check above
        # still applies, and the proxy's own rules guard against rebinding from there on.
        proxy_port = proxy.port or 80
        infos = socket.getaddrinfo(proxy.hostname, proxy_port, type=socket.SOCK_STREAM)
        addresses = tuple((info[0], info[4]) for info in infos)
        credentials = {}
        if proxy.username is not None:
            user = urllib.parse.unquote(proxy.username)
            password = urllib.parse.unquote(proxy.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            credentials = {"Proxy-Authorization": f"Basic {token}"}
        if tls:
            connection = http.client.HTTPSConnection(proxy.hostname, proxy_port, **tls)
            connection.set_tunnel(target.host, target.port, headers=credentials)
            request_target = target.path
        else:
            connection = http.client.HTTPConnection(proxy.hostname, proxy_port)
            headers.update(credentials)
            # Through a proxy, the request line carries the absolute URL (RFC 9112 §3.2.2).
            request_target = urllib.parse.urlsplit(target.url)._replace(fragment="").geturl()
    # http.client resolves self.host itself; this makes it connect to the checked addresses.
    connection._create_connection = lambda *args, **kwargs: _connect(addresses)  # type: ignore[attr-defined]
    return connection, request_target


def _post(target: Target, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST to a checked target within timeout_s in all (connect to last byte); the status."""
    _deadline.at = time.monotonic() + timeout_s
    try:
        headers = {**headers, "Connection": "close"}
        connection, request_target = _connection(target, headers)
        try:
            connection.request("POST", request_target, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            return response.status
        finally:
            connection.close()
    finally:
        _deadline.at = None


@dataclass(frozen=True)
class _Job:
    """One claimed delivery, with what is needed to send it and record the outcome."""

    delivery_id: int
    event: str
    url: str
    endpoint: str
    secret: str
    body: bytes
    redeliveries: int = 0


def _endpoint(url: str) -> str:
    """The receiving host a delivery counts against (host and port, as URL.host in WHATWG)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return parts.netloc.lower()
    return f"{parts.hostname}:{port}"


def _attempt(job: _Job, settings: Settings) -> None:
    """Send one delivery and record the outcome (retry with backoff, or give up)."""
    status = 0
    answered = False
    try:
        # Checked again at every attempt: the host name may point elsewhere by now.
        target = resolve_target(job.url, settings.webhook_allow_private_networks)
    except RefusedTarget as exc:
        error: str | None = f"not sent: {exc}"
    else:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Arealsjekk-Event": job.event,
            "X-Arealsjekk-Delivery": str(job.delivery_id),
            "X-Arealsjekk-Signature": signature(job.secret, timestamp, job.body),
        }
        if job.redeliveries:
            # Same delivery id and body as before: the receiver may have it already.
            headers["X-Arealsjekk-Redelivery"] = str(job.redeliveries)
        try:
            status = _post(target, job.body, headers, settings.webhook_timeout_s)
            answered = True
            error = None if status < 300 else f"HTTP {status}"
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # The reason, not the URL or headers: those may carry credentials.
            error = type(exc).__name__
    if error is not None:
        count_webhook_failure(error)
    with get_sessionmaker()() as session:
        delivery = session.get(WebhookDeliveryOrm, job.delivery_id, with_for_update=True)
        if delivery is None:  # the webhook was removed meanwhile
            return
        delivery.last_error = error
        if answered:
            delivery.last_status_code = status
        if 200 <= status < 300:
            delivery.status = "delivered"
            delivery.delivered_at = datetime.now(UTC)
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = "failed"
            delivery.next_attempt_at = None
        else:
            backoff = min(settings.webhook_backoff_s * 2 ** (delivery.attempts - 1), 3600)
            delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=backoff)
        session.commit()


class _Sender:
    """Runs deliveries in threads: webhook_concurrency at once, per host at most
    webhook_concurrency_per_host, so a slow or dead receiver holds up only its own."""

    def __init__(self, settings: Settings, on_done: Callable[[], None]):
        self._settings = settings
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(
            settings.webhook_concurrency, thread_name_prefix="webhook-delivery"
        )
        self._lock = threading.Lock()
        self._in_flight: dict[int, str] = {}  # delivery id -> endpoint

    def in_flight(self) -> set[int]:
        """The deliveries being sent now."""
        with self._lock:
            return set(self._in_flight)

    def start_due(self, now: datetime, exclude: set[int]) -> list[int]:
        """Claim deliveries due by `now` that fit the limits, start them; return their ids.

        Called from one thread at a time (the dispatcher's, or deliver_due's caller).
        """
        settings = self._settings
        with self._lock:
            free = settings.webhook_concurrency - len(self._in_flight)
            per_host = Counter(self._in_flight.values())
        if free <= 0:
            return []
        due = (
            WebhookDeliveryOrm.status == "pending",
            WebhookDeliveryOrm.next_attempt_at <= now,
            WebhookDeliveryOrm.id.not_in(exclude),
        )
        # At most per-host-limit deliveries of each webhook are looked at, so a long backlog
        # for one receiver does not hide the deliveries of others behind it.
        ranked = (
            select(
                WebhookDeliveryOrm.id,
                func.row_number()
                .over(partition_by=WebhookDeliveryOrm.webhook_id, order_by=WebhookDeliveryOrm.id)
                .label("rank"),
            )
            .where(*due)
            .subquery()
        )
        candidates = (
            select(ranked.c.id)
            .where(ranked.c.rank <= settings.webhook_concurrency_per_host)
            .order_by(ranked.c.id)
            .limit(CLAIM_BATCH)
        )
        jobs: list[_Job] = []
        with get_sessionmaker()() as session:
            rows = session.execute(
                select(WebhookDeliveryOrm, WebhookOrm, ApiKeyOrm.revoked_at)
                .join(WebhookOrm, WebhookOrm.id == WebhookDeliveryOrm.webhook_id)
                .join(ApiKeyOrm, ApiKeyOrm.id == WebhookOrm.api_key_id)
                .where(WebhookDeliveryOrm.id.in_(candidates), *due)
                .order_by(WebhookDeliveryOrm.id)
                # Several processes may send: each row is claimed by one of them only.
                .with_for_update(of=WebhookDeliveryOrm, skip_locked=True)
            ).all()
            lease = timedelta(seconds=settings.webhook_timeout_s + LEASE_MARGIN_S)
            for delivery, hook, revoked_at in rows:
                if not hook.active or revoked_at is not None:
                    # A drafts' check summary goes only to a receiver whose key still may
                    # see it: a revoked key's or a removed webhook's queue is dropped.
                    delivery.status = "failed"
                    delivery.last_error = "not sent: the webhook is removed or its API key revoked"
                    continue
                if len(jobs) >= free:
                    break
                endpoint = _endpoint(hook.url)
                if per_host[endpoint] >= settings.webhook_concurrency_per_host:
                    continue
                per_host[endpoint] += 1
                delivery.attempts += 1
                delivery.next_attempt_at = datetime.now(UTC) + lease
                body = json.dumps({**delivery.payload, "deliveryId": delivery.id}).encode()
                jobs.append(
                    _Job(
                        delivery.id,
                        delivery.event,
                        hook.url,
                        endpoint,
                        hook.secret,
                        body,
                        delivery.redeliveries,
                    )
                )
            session.commit()
        for job in jobs:
            with self._lock:
                self._in_flight[job.delivery_id] = job.endpoint
            self._pool.submit(self._run, job)
        return [job.delivery_id for job in jobs]

    def _run(self, job: _Job) -> None:
        try:
            _attempt(job, self._settings)
        except Exception:  # one delivery must not stop the others; it is due again later
            logger.exception("webhook delivery %d failed", job.delivery_id)
        finally:
            with self._lock:
                del self._in_flight[job.delivery_id]
            self._on_done()

    def shutdown(self, wait_s: float) -> None:
        """Stop taking deliveries; give those under way up to wait_s to finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + wait_s
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(0.05)


def deliver_due(settings: Settings, now: datetime | None = None) -> int:
    """Attempt every delivery due by `now` (default: now) once; return how many were attempted."""
    finished = threading.Event()
    sender = _Sender(settings, on_done=finished.set)
    attempted: set[int] = set()
    try:
        while True:
            finished.clear()
            started = sender.start_due(now or datetime.now(UTC), exclude=attempted)
            attempted.update(started)
            if started:
                continue
            if not sender.in_flight():
                return len(attempted)
            finished.wait(settings.webhook_poll_s)
    finally:
        sender.shutdown(wait_s=settings.webhook_timeout_s + LEASE_MARGIN_S)


def next_retry_at(session: Session) -> datetime | None:
    """When the earliest pending delivery falls due (None when nothing is pending)."""
    return session.execute(
        select(func.min(WebhookDeliveryOrm.next_attempt_at)).where(
            WebhookDeliveryOrm.status == "pending"
        )
    ).scalar_one()
