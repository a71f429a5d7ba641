"""Examples of layer re-checks and their impact (app/rechecks.py): NGU's mineral map loaded
as version 2, one Kongsberg plan touched."""

from typing import Any

from app.openapi_examples.common import link, problem

IMPACT_PATH = "/api/v1/layers/mineral_deposits/versions/2/impact"

RECHECK: dict[str, Any] = {
    "id": 7,
    "layer_id": "mineral_deposits",
    "layer_version": 2,
    "previous_version": 1,
    "status": "done",
    "requested_by": "fylkeskommunen GIS",
    "reach_m": 100.0,
    "proposal_versions": 1,
    "details": {
        "changed_features": 2,
        "changed_bounds": [535296.0, 6618634.0, 535885.0, 6619926.0],
        "nearest": False,
    },
    "error": None,
    "created_at": "2026-12-07T09:14:02.511+00:00",
    "started_at": "2026-12-07T09:14:02.690+00:00",
    "finished_at": "2026-12-07T09:14:02.842+00:00",
    "links": [
        link(IMPACT_PATH, "impact"),
        link("/api/v1/layers/mineral_deposits/versions", "version-history"),
    ],
}

RECHECK_QUEUED: dict[str, Any] = {
    **RECHECK,
    "status": "queued",
    "reach_m": None,
    "proposal_versions": None,
    "details": None,
    "started_at": None,
    "finished_at": None,
}

IMPACT: dict[str, Any] = {
    "layer_id": "mineral_deposits",
    "version": 2,
    "previous_version": 1,
    "recheck": RECHECK,
    "totals": {
        "rechecks": 1,
        "queued": 0,
        "running": 0,
        "done": 1,
        "failed": 0,
        "changed": 1,
        "unchanged": 0,
        "new_conflicts": 1,
        "resolved_conflicts": 0,
        "new_warnings": 0,
        "resolved_warnings": 1,
    },
    "plans": [
        {
            "proposal_id": "3303_KPA2026",
            "kommunenummer": "3303",
            "version": 1,
            "check_id": 41,
            "status": "done",
            "previous_check_id": 12,
            "findings_changed": True,
            "counts": {
                "new_conflicts": 1,
                "resolved_conflicts": 0,
                "new_warnings": 0,
                "resolved_warnings": 1,
                "changed_findings": 1,
            },
            "links": [
                link("/api/v1/checks/41", "check"),
                link("/api/v1/proposals/3303_KPA2026/versions/1", "proposal-version"),
            ],
        }
    ],
    "links": [
        link(IMPACT_PATH, "self"),
        link("/api/v1/layers/mineral_deposits/versions", "version-history"),
    ],
}

NO_LAYER_VERSION = problem(
    404,
    "not-found",
    "layer 'mineral_deposits' has no version 9",
    "/api/v1/layers/mineral_deposits/versions/9/impact",
    summary="The layer has no such version",
)

NOT_CURRENT_VERSION = problem(
    409,
    "conflict",
    "layer 'mineral_deposits' version 1 is not the current version (2); plans are always "
    "checked against current versions, so only version 2 can be re-checked against",
    "/api/v1/layers/mineral_deposits/versions/1/recheck",
    summary="Only the current version can be re-checked against",
)
