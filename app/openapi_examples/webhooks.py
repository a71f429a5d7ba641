"""Examples of webhooks and their deliveries."""

from typing import Any

from app.openapi_examples.checks import SUMMARY
from app.openapi_examples.common import problem
from app.openapi_examples.uploads import PROPOSAL_ID
from spatial.inputs.examples import PLAN

EVENTS = ["check.completed", "finding.reviewed", "proposal.published"]
# Links in payloads are absolute: AREALSJEKK_PUBLIC_URL, else the URL the webhook was
# registered through.
BASE = "https://arealsjekk.bfk.no"

WEBHOOK_CREATE: dict[str, Any] = {
    "url": "https://sak.hemsedal.kommune.no/arealsjekk/hook",
    "events": EVENTS,
}

WEBHOOK_CREATED: dict[str, Any] = {
    "id": 1,
    "url": WEBHOOK_CREATE["url"],
    "events": EVENTS,
    "active": True,
    "created_at": "2026-03-10T12:00:41.391Z",
    "secret": "CC4g2vCd-K4A9hMT1pzwN19zZjVN59P7MkKlu1fUH0o",
}

WEBHOOK: dict[str, Any] = {**WEBHOOK_CREATED, "secret": None}

DELIVERY: dict[str, Any] = {
    "id": 7,
    "event": "check.completed",
    "status": "delivered",
    "attempts": 1,
    "redeliveries": 0,
    "last_status_code": 204,
    "last_error": None,
    "next_attempt_at": None,
    "created_at": "2026-03-12T09:14:05.301Z",
    "delivered_at": "2026-03-12T09:14:05.688Z",
    "payload": {
        "event": "check.completed",
        "check": {
            "id": 1,
            "status": "done",
            "ruleSet": {"id": "buskerudplanen-2026", "version": "2026.1"},
            "summary": SUMMARY,
            "finishedAt": "2026-03-12T09:14:05.298000+00:00",
        },
        "nasjonalArealplanId": {
            "administrativEnhet": {"kommunenummer": "3326"},
            "planidentifikasjon": "KPA2026",
        },
        "versjon": 1,
        "saksnummer": "2026/1234",
        "journalpostId": "2026/1234-7",
        "links": {
            "check": f"{BASE}/api/v1/checks/1",
            "findings": f"{BASE}/api/v1/checks/1/findings",
            "report": f"{BASE}/api/v1/checks/1/report.pdf",
            "proposal": f"{BASE}/api/v1/proposals/{PROPOSAL_ID}",
        },
    },
}

FINDING_REVIEWED_PAYLOAD: dict[str, Any] = {
    "event": "finding.reviewed",
    "finding": {
        "id": 1,
        "rule": "G1",
        "severity": "conflict",
        "message": "BFR10 ligger 38 m over skoggrensen (areal 2,1 daa over).",
        "links": {
            "review": f"{BASE}/api/v1/forum/findings/1/review",
            "findings": f"{BASE}/api/v1/checks/1/findings",
        },
    },
    "review": {
        "status": "change_required",
        "previousStatus": "discussed",
        "comment": "BFR10 må trekkes ned under skoggrensen før offentlig ettersyn.",
        "reviewer": "Buskerud fylkeskommune, regionalt planforum",
        "reviewedAt": "2026-04-22T10:31:07.455000+00:00",
    },
    "check": {"id": 1},
    "nasjonalArealplanId": DELIVERY["payload"]["nasjonalArealplanId"],
    "versjon": 1,
    "plannavn": PLAN["plannavn"],
    "saksnummer": "2026/1234",
    "journalpostId": "2026/1234-7",
    "forumSaksnummer": "2026/123",
    "links": {
        "check": f"{BASE}/api/v1/checks/1",
        "report": f"{BASE}/api/v1/checks/1/report.pdf",
        "proposal": f"{BASE}/api/v1/proposals/{PROPOSAL_ID}",
    },
}

PROPOSAL_PUBLISHED_PAYLOAD: dict[str, Any] = {
    "event": "proposal.published",
    "nasjonalArealplanId": DELIVERY["payload"]["nasjonalArealplanId"],
    "plannavn": PLAN["plannavn"],
    "plantype": 20,
    "versjon": 2,
    "publishedAt": "2026-04-25T08:00:12.004000+00:00",
    "saksnummer": "2026/1234",
    "journalpostId": "2026/1234-19",
    "forumSaksnummer": "2026/123",
    "links": {
        "proposal": f"{BASE}/api/v1/proposals/{PROPOSAL_ID}",
        "version": f"{BASE}/api/v1/proposals/{PROPOSAL_ID}/versions/2",
    },
}

# The log of a webhook's deliveries, newest first (a body as sent adds "deliveryId").
DELIVERIES: list[dict[str, Any]] = [
    {
        **DELIVERY,
        "id": 9,
        "event": "proposal.published",
        "created_at": "2026-04-25T08:00:12.010Z",
        "delivered_at": "2026-04-25T08:00:12.377Z",
        "payload": PROPOSAL_PUBLISHED_PAYLOAD,
    },
    {
        **DELIVERY,
        "id": 8,
        "event": "finding.reviewed",
        "created_at": "2026-04-22T10:31:07.460Z",
        "delivered_at": "2026-04-22T10:31:07.802Z",
        "payload": FINDING_REVIEWED_PAYLOAD,
    },
    DELIVERY,
]

DELIVERY_REDELIVERED: dict[str, Any] = {
    **DELIVERY,
    "status": "pending",
    "attempts": 0,
    "redeliveries": 1,
    "next_attempt_at": "2026-03-14T08:02:11.120Z",
    "delivered_at": None,
}

NO_DELIVERY = problem(
    404,
    "not-found",
    "webhook 1 has no delivery 99",
    "/api/v1/webhooks/1/deliveries/99/redeliver",
    summary="No such delivery of this client's webhook",
)

DELIVERY_PENDING = problem(
    409,
    "conflict",
    "delivery 7 is not finished yet (being sent or retried); it can be sent again once "
    "delivered or given up",
    "/api/v1/webhooks/1/deliveries/7/redeliver",
    summary="The delivery is still being sent or retried",
)

WEBHOOK_UNTRUSTED_HOST = problem(
    400,
    "untrusted-host",
    "the Host header 'evil.example' is not a trusted host; the operator sets "
    "AREALSJEKK_PUBLIC_URL (or AREALSJEKK_TRUSTED_HOSTS) for the address clients use",
    "/api/v1/webhooks",
    [{"message": "untrusted host", "field": "Host"}],
    summary="Registered through a Host that is not trusted while AREALSJEKK_PUBLIC_URL is unset: "
    "its payloads' links could not be made absolute",
)

WEBHOOK_INVALID = problem(
    422,
    "invalid-parameter",
    "body.url: URL scheme should be 'http' or 'https'; body.events: Value error, events must "
    "be among ['check.completed', 'finding.reviewed', 'proposal.published']; unknown: "
    "['check.started']",
    "/api/v1/webhooks",
    [
        {"message": "URL scheme should be 'http' or 'https'", "field": "body.url"},
        {
            "message": "Value error, events must be among ['check.completed', "
            "'finding.reviewed', 'proposal.published']; unknown: ['check.started']",
            "field": "body.events",
        },
    ],
    summary="The URL or an event name is not valid",
)
