"""Webhooks for case systems: signed check.completed deliveries, retried with backoff.

Each delivery is POSTed as JSON with the headers
`X-Arealsjekk-Event`, `X-Arealsjekk-Delivery` and
`X-Arealsjekk-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`,
so a receiver can check both origin and freshness (the timestamp is signed too).
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db import get_sessionmaker
from app.errors import DATABASE_UNAVAILABLE
from app.models import ApiKeyOrm, PlanCheckOrm, WebhookDeliveryOrm, WebhookOrm
from app.settings import Settings

logger = logging.getLogger(__name__)

CHECK_COMPLETED = "check.completed"
EVENTS = (CHECK_COMPLETED,)
USER_AGENT = "Arealsjekk-Webhooks/1"


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


def check_completed_payload(check: PlanCheckOrm) -> dict[str, Any]:
    """The event body: the national plan id in KS Fiks Plan's shape, and the check summary."""
    version = check.version
    proposal = version.proposal
    key = f"{proposal.kommunenummer}_{proposal.planidentifikasjon}"
    return {
        "event": CHECK_COMPLETED,
        "check": {
            "id": check.id,
            "status": check.status,
            "ruleSet": {"id": check.rule_set_id, "version": check.rule_set_version},
            "summary": check.summary,
            "finishedAt": check.finished_at.isoformat() if check.finished_at else None,
        },
        "nasjonalArealplanId": {
            "administrativEnhet": {"kommunenummer": proposal.kommunenummer},
            "planidentifikasjon": proposal.planidentifikasjon,
        },
        "versjon": version.version,
        "links": {
            "check": f"/api/v1/checks/{check.id}",
            "findings": f"/api/v1/checks/{check.id}/findings",
            "report": f"/api/v1/checks/{check.id}/report.pdf",
            "proposal": f"/api/v1/proposals/{key}",
        },
    }


def enqueue_check_completed(session: Session, check: PlanCheckOrm) -> int:
    """Queue a delivery to every active webhook whose owner may see this plan (caller commits)."""
    kommunenummer = check.version.proposal.kommunenummer
    hooks = session.execute(
        select(WebhookOrm)
        .join(ApiKeyOrm, ApiKeyOrm.id == WebhookOrm.api_key_id)
        .where(
            WebhookOrm.active.is_(True),
            ApiKeyOrm.revoked_at.is_(None),
            or_(ApiKeyOrm.kommunenummer.is_(None), ApiKeyOrm.kommunenummer == kommunenummer),
        )
    ).scalars()
    payload = check_completed_payload(check)
    count = 0
    for hook in hooks:
        if CHECK_COMPLETED not in hook.events:
            continue
        session.add(
            WebhookDeliveryOrm(
                webhook_id=hook.id,
                event=CHECK_COMPLETED,
                payload=payload,
                status="pending",
                next_attempt_at=datetime.now(UTC),
            )
        )
        count += 1
    return count


def refused_target(url: str, allow_private_networks: bool) -> str | None:
    """Say why a webhook URL may not be called (not http(s), or not a public address)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the URL must be http:// or https:// with a host name"
    if allow_private_networks:
        return None
    try:
        addresses = {
            info[4][0]
            for info in socket.getaddrinfo(
                parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
            )
        }
    except (OSError, UnicodeError):
        return f"the host name '{parts.hostname}' cannot be resolved"
    for address in sorted(addresses):
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            return (
                f"'{parts.hostname}' resolves to {address}, which is not a public address; "
                "webhooks to internal networks must be allowed by the operator "
                "(AREALSJEKK_WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
            )
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Report a redirect as the answer instead of following it (it could lead inside)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def deliver_due(settings: Settings, now: datetime | None = None) -> int:
    """Attempt every delivery due by `now` (default: now); return how many were attempted."""
    with get_sessionmaker()() as session:
        due = session.execute(
            select(WebhookDeliveryOrm)
            .where(
                WebhookDeliveryOrm.status == "pending",
                WebhookDeliveryOrm.next_attempt_at <= (now or datetime.now(UTC)),
            )
            .order_by(WebhookDeliveryOrm.id)
            .limit(50)
            .with_for_update(skip_locked=True)
        ).scalars()
        attempted = 0
        for delivery in due:
            attempted += 1
            hook = session.get(WebhookOrm, delivery.webhook_id)
            body = json.dumps({**delivery.payload, "deliveryId": delivery.id}).encode()
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Arealsjekk-Event": delivery.event,
                "X-Arealsjekk-Delivery": str(delivery.id),
                "X-Arealsjekk-Signature": signature(hook.secret, timestamp, body),
            }
            delivery.attempts += 1
            # Checked again at every attempt: the host name may point elsewhere by now.
            refused = refused_target(hook.url, settings.webhook_allow_private_networks)
            if refused is not None:
                status = 0
                delivery.last_error = f"not sent: {refused}"
            else:
                try:
                    status = _post(hook.url, body, headers, settings.webhook_timeout_s)
                    delivery.last_status_code = status
                    delivery.last_error = None if status < 300 else f"HTTP {status}"
                except (OSError, ValueError) as exc:
                    status = 0
                    # The reason, not the URL or headers: those may carry credentials.
                    delivery.last_error = type(exc).__name__
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
        return attempted


class WebhookDispatcher:
    """A background thread that sends due deliveries until the service stops."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def wake(self) -> None:
        """Look for due deliveries now (a check has just finished)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        database_down = False
        while not self._stop.is_set():
            try:
                deliver_due(self._settings)
                if database_down:
                    logger.info("webhook deliveries resumed: the database is reachable again")
                database_down = False
            except DATABASE_UNAVAILABLE as exc:
                # Said once per outage, not every poll: the rounds resume by themselves.
                if not database_down:
                    cause = type(getattr(exc, "orig", None) or exc).__name__
                    logger.warning("webhook deliveries paused: database unavailable (%s)", cause)
                database_down = True
            except Exception:  # keep the dispatcher alive whatever one round meets
                logger.exception("webhook delivery round failed")
            self._wake.wait(self._settings.webhook_poll_s)
            self._wake.clear()
