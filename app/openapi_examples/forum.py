"""Examples of the regional plan forum: findings, reviews, agenda."""

from typing import Any

from app.openapi_examples.checks import (
    FINDING_G1_CONFLICT,
    FINDING_G1_WARNING,
    G1_ACTION,
    G1_PARAGRAPH,
)
from app.openapi_examples.common import GEOJSON, HTML, PDF, link, problem
from app.openapi_examples.uploads import PROPOSAL_ID
from spatial.inputs.examples import PLAN

FORUM_KEY = "Regionalt planforum"
FORUM_USER = "kari.nordmann@bfk.no"

FORUM_FINDING: dict[str, Any] = {
    "id": 31,
    "check_id": 2,
    "proposal_id": PROPOSAL_ID,
    "version": 2,
    "kommunenummer": "3326",
    "municipality": "Hemsedal",
    "plannavn": PLAN["plannavn"],
    "saksnummer": "2026/123",
    "rule_id": "G1",
    "paragraph": G1_PARAGRAPH,
    "severity": "conflict",
    "message": FINDING_G1_CONFLICT["message"],
    "suggested_action": G1_ACTION,
    "measures": FINDING_G1_CONFLICT["measures"],
    "plan_feature_keys": ["BFR10 Storeli øvre"],
    "plan_feature_names": ["BFR10 Storeli øvre"],
    "comparison": "changed",
    "previous_finding_id": 1,
    "previous_version": 1,
    "review": {
        "status": "open",
        "comment": None,
        "reviewer": None,
        "key_name": None,
        "user_name": None,
        "carried_from_version": None,
        "updated_at": None,
    },
    "previous_review": {
        "status": "change_required",
        "comment": "BFR10 må trekkes ned under skoggrensen før offentlig ettersyn.",
        "reviewer": "Kari Nordmann",
        "key_name": FORUM_KEY,
        "user_name": FORUM_USER,
        "carried_from_version": None,
        "updated_at": "2026-04-22T10:31:07.455Z",
        "version": 1,
    },
    "links": [
        link("/api/v1/checks/2/report.html", "report", HTML),
        link("/api/v1/checks/2/report.pdf", "alternate", PDF),
        link("/api/v1/forum/findings/31/review", "review"),
        link("/api/v1/checks/2", "related"),
        link("/api/v1/checks/2/findings", "related", GEOJSON),
    ],
}

FORUM_RESOLVED_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": 2,
            "check_id": 1,
            "version": 1,
            "resolved_in_check_id": 2,
            "resolved_in_version": 2,
            "proposal_id": PROPOSAL_ID,
            "kommunenummer": "3326",
            "municipality": "Hemsedal",
            "plannavn": PLAN["plannavn"],
            "rule_id": "G1",
            "paragraph": G1_PARAGRAPH,
            "severity": "warning",
            "message": FINDING_G1_WARNING["message"],
            "plan_feature_keys": FINDING_G1_WARNING["plan_feature_keys"],
            "plan_feature_names": FINDING_G1_WARNING["plan_feature_names"],
            "review": {
                "status": "discussed",
                "comment": "Drøftet i planforum 21. april.",
                "reviewer": "Kari Nordmann",
                "key_name": FORUM_KEY,
                "user_name": FORUM_USER,
                "carried_from_version": None,
                "updated_at": "2026-04-21T14:02:51.118Z",
            },
            "links": [
                link("/api/v1/checks/1/report.html", "report", HTML),
                link("/api/v1/checks/1/report.pdf", "alternate", PDF),
                link("/api/v1/forum/findings/2/review", "review"),
                link("/api/v1/checks/1", "related"),
                link("/api/v1/checks/1/findings", "related", GEOJSON),
            ],
        }
    ],
    "total": 1,
    "limit": 50,
    "offset": 0,
    "links": [link("/api/v1/forum/resolved?kommunenummer=3326&limit=50&offset=0", "self")],
}

FORUM_FINDING_PAGE: dict[str, Any] = {
    "items": [FORUM_FINDING],
    "total": 4,
    "limit": 1,
    "offset": 0,
    "links": [
        link("/api/v1/forum/findings?kommunenummer=3326&limit=1&offset=0", "self"),
        link("/api/v1/forum/findings?kommunenummer=3326&limit=1&offset=1", "next"),
    ],
}

REVIEW_REQUEST: dict[str, Any] = {
    "status": "change_required",
    "comment": "BFR10 må trekkes ned under skoggrensen før offentlig ettersyn.",
    "reviewer": "Buskerud fylkeskommune, regionalt planforum",
}

REVIEW: dict[str, Any] = {
    "finding_id": 1,
    **REVIEW_REQUEST,
    "key_name": FORUM_KEY,
    "user_name": FORUM_USER,
    "carried_from_version": None,
    "updated_at": "2026-04-22T10:31:07.455Z",
    "history": [
        {
            "from_status": "open",
            "to_status": "discussed",
            "comment": "Drøftet i planforum 21. april.",
            "reviewer": "Kari Nordmann",
            "key_name": FORUM_KEY,
            "user_name": FORUM_USER,
            "carried_from_version": None,
            "created_at": "2026-04-21T14:02:51.118Z",
        },
        {
            "from_status": "discussed",
            "to_status": "change_required",
            "comment": REVIEW_REQUEST["comment"],
            "reviewer": REVIEW_REQUEST["reviewer"],
            "key_name": FORUM_KEY,
            "user_name": FORUM_USER,
            "carried_from_version": None,
            "created_at": "2026-04-22T10:31:07.455Z",
        },
    ],
}

AGENDA_HTML = (
    '<!doctype html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
    "<title>Regionalt planforum – saksliste 2026-11-01 – 2026-11-30</title>\n…"
)

REPORT_HTML = (
    '<!doctype html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
    "<title>Konfliktrapport: Kommuneplanens arealdel 2026-2038, høringsforslag – versjon 1"
    "</title>\n…"
)

FORUM_BAD_SEVERITY = problem(
    422,
    "invalid-input",
    "severity must be 'all' or among conflict, warning, unknown, info, ok; got kritisk",
    "/api/v1/forum/findings",
    [{"message": "unknown value 'kritisk'", "field": "severity"}],
    summary="A filter has an unknown value",
)

REVIEW_INVALID = problem(
    422,
    "invalid-parameter",
    "body.status: Input should be 'open', 'discussed', 'accepted', 'change_required' or "
    "'objection'; body.reviewer: String should have at least 1 character",
    "/api/v1/forum/findings/1/review",
    [
        {
            "message": "Input should be 'open', 'discussed', 'accepted', 'change_required' or "
            "'objection'",
            "field": "body.status",
        },
        {"message": "String should have at least 1 character", "field": "body.reviewer"},
    ],
    summary="The review has an unknown status or no reviewer",
)

AGENDA_BAD_RANGE = problem(
    422,
    "invalid-input",
    "from (2026-12-01) is after to (2026-11-30)",
    "/api/v1/forum/agenda.pdf",
    [{"message": "after 'to'", "field": "from"}],
    summary="The period ends before it starts",
)

SAKSNUMMER_REQUEST = {"saksnummer": "2026/123"}

SAKSNUMMER = {
    "proposal_id": PROPOSAL_ID,
    "saksnummer": "2026/123",
    "links": [link(f"/api/v1/proposals/{PROPOSAL_ID}", "related")],
}

SAKSNUMMER_INVALID = problem(
    422,
    "invalid-parameter",
    "body.saksnummer: har feil form (mønster ^(?:[0-9]{2}|[0-9]{4})/[0-9]{1,7}$)",
    f"/api/v1/forum/proposals/{PROPOSAL_ID}/saksnummer",
    [
        {
            "message": "har feil form (mønster ^(?:[0-9]{2}|[0-9]{4})/[0-9]{1,7}$)",
            "field": "body.saksnummer",
        }
    ],
    summary="The saksnummer is not saksår/sekvensnummer (2026/123)",
)
