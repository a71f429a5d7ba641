"""Examples of webhooks and their deliveries."""

from typing import Any

from app.openapi_examples.checks import SUMMARY
from app.openapi_examples.common import problem
from app.openapi_examples.uploads import PROPOSAL_ID

WEBHOOK_CREATE: dict[str, Any] = {
    "url": "https://sak.hemsedal.kommune.no/arealsjekk/hook",
    "events": ["check.completed"],
}

WEBHOOK_CREATED: dict[str, Any] = {
    "id": 1,
    "url": WEBHOOK_CREATE["url"],
    "events": ["check.completed"],
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
        "links": {
            "check": "/api/v1/checks/1",
            "findings": "/api/v1/checks/1/findings",
            "report": "/api/v1/checks/1/report.pdf",
            "proposal": f"/api/v1/proposals/{PROPOSAL_ID}",
        },
    },
}

WEBHOOK_INVALID = problem(
    422,
    "invalid-parameter",
    "body.url: URL scheme should be 'http' or 'https'; body.events: Value error, events must "
    "be among ['check.completed']; unknown: ['check.started']",
    "/api/v1/webhooks",
    [
        {"message": "URL scheme should be 'http' or 'https'", "field": "body.url"},
        {
            "message": "Value error, events must be among ['check.completed']; unknown: "
            "['check.started']",
            "field": "body.events",
        },
    ],
    summary="The URL or an event name is not valid",
)
