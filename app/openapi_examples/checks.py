"""Examples of checks, findings, comparisons and the rule set."""

from typing import Any

from app.openapi_examples.common import GEOJSON, link, problem
from app.openapi_examples.uploads import PROPOSAL_ID

RULE_SET = {
    "id": "buskerudplanen-2026",
    "version": "2026.1",
    "checksum": "67d3116598a7f0e85f9d0fe40ab73b83962fa645c7d61a95b0791d87952a2af2",
}

LAYER_VERSIONS = {
    "cultural_environments": 1,
    "elevation": 1,
    "existing_kommuneplan": 1,
    "heritage_protected": 1,
    "intact_nature": 1,
    "mineral_deposits": 1,
    "municipal_heritage_plans": 1,
    "recreation_areas": 1,
    "state_recreation_areas": 1,
    "tettsteder": 1,
    "transport_hubs": 1,
    "tree_line": 1,
    "villrein_areas": 1,
    "villrein_corridors": 1,
}

_G1_LAYERS = [
    {"layer_id": layer, "version": 1, "feature_ids": [], "feature_keys": []}
    for layer in ("elevation", "tree_line", "existing_kommuneplan")
]

_G1_FINGERPRINT = "G1|above_tree_line|{}|elevation:;tree_line:;existing_kommuneplan:"

G1_PARAGRAPH = "Buskerudplanen 2026 §6.2.4, regional planretningslinje 1"

G1_ACTION = (
    "Trekk grensen for fritidsbebyggelsen ned under skoggrensen eller ta området ut av planen; "
    "ellers kan det gi grunnlag for innsigelse."
)

FINDING_G1_CONFLICT: dict[str, Any] = {
    "id": 1,
    "rule_id": "G1",
    "check": "above_tree_line",
    "paragraph": G1_PARAGRAPH,
    "severity": "conflict",
    "plan_feature_ids": [4],
    "plan_feature_keys": ["BFR10 Storeli øvre"],
    "plan_feature_names": ["BFR10 Storeli øvre"],
    "layer_refs": _G1_LAYERS,
    "measures": {
        "area_m2": 161435.5,
        "new_area_m2": 161435.5,
        "existing_plan_loaded": True,
        "data_coverage_pct": 99.93,
        "above_tree_line_m2": 61306.5,
        "above_tree_line_pct": 37.98,
        "transition_zone_m2": 100009.4,
        "transition_zone_pct": 61.95,
        "max_elevation_m": 1050.5,
        "tree_line_m": 1027.4,
        "max_height_above_tree_line_m": 23.1,
        "transition_zone_width_m": 100.0,
    },
    "message": "BFR10 Storeli øvre (1120): 61 307 m² (38,0 %) av det nye området ligger over "
    "skoggrensen (høyeste punkt 1050 moh., skoggrensen der 1027 moh.).",
    "suggested_action": G1_ACTION,
    "fingerprint": _G1_FINGERPRINT.format("BFR10 Storeli øvre"),
    "comparison": None,
    "previous_finding_id": None,
}

FINDING_G1_WARNING: dict[str, Any] = {
    "id": 2,
    "rule_id": "G1",
    "check": "above_tree_line",
    "paragraph": G1_PARAGRAPH,
    "severity": "warning",
    "plan_feature_ids": [5],
    "plan_feature_keys": ["BFR11 Vestlia"],
    "plan_feature_names": ["BFR11 Vestlia"],
    "layer_refs": _G1_LAYERS,
    "measures": {
        "area_m2": 84071.5,
        "new_area_m2": 84071.5,
        "existing_plan_loaded": True,
        "data_coverage_pct": 100.0,
        "above_tree_line_m2": 0.0,
        "above_tree_line_pct": 0.0,
        "transition_zone_m2": 84071.5,
        "transition_zone_pct": 100.0,
        "max_elevation_m": 985.9,
        "tree_line_m": 1028.4,
        "max_height_above_tree_line_m": -42.5,
        "transition_zone_width_m": 100.0,
    },
    "message": "BFR11 Vestlia (1120): 84 071 m² ligger i overgangssonen inntil 100 m under "
    "skoggrensen (høyeste punkt 986 moh., skoggrensen der 1028 moh.).",
    "suggested_action": "Vurder å trekke området lenger ned, og sikre i bestemmelsene at "
    "bebyggelse ikke kommer over skoggrensen.",
    "fingerprint": _G1_FINGERPRINT.format("BFR11 Vestlia"),
}

FINDING_G2_WARNING: dict[str, Any] = {
    "id": 6,
    "rule_id": "G2",
    "check": "recreation_B",
    "paragraph": "Buskerudplanen 2026 §6.2.4, regional planretningslinje 2",
    "severity": "warning",
    "plan_feature_ids": [4],
    "plan_feature_keys": ["BFR10 Storeli øvre"],
    "plan_feature_names": ["BFR10 Storeli øvre"],
    "layer_refs": [
        {
            "layer_id": "recreation_areas",
            "version": 1,
            "feature_ids": [458],
            "feature_keys": ["recreation_areas.1"],
        }
    ],
    "measures": {
        "area_m2": 161435.5,
        "overlap_m2": 57742.4,
        "overlap_pct": 35.77,
        "recreation_value": "B",
    },
    "message": "BFR10 Storeli øvre (1120): 57 742 m² (35,8 %) av området ligger i "
    "friluftslivsområde med verdi B (viktig): «Storeli og Trøymsfjellet».",
    "suggested_action": "Avgrens området slik at friluftslivsområdet «Storeli og "
    "Trøymsfjellet» holdes utenfor, eller tilpass utbyggingen så stier, løyper og adkomsten "
    "til friluftslivsområdet ivaretas, og sikre det i bestemmelsene.",
    "fingerprint": "G2|recreation_B|BFR10 Storeli øvre|recreation_areas:recreation_areas.1",
}

FINDING_G4_OK: dict[str, Any] = {
    "id": 17,
    "rule_id": "G4",
    "check": "no_consideration_zone",
    "paragraph": "Buskerudplanen 2026 §6.2.2, regionale planretningslinjer 1 og 2",
    "severity": "ok",
    "plan_feature_ids": [9],
    "plan_feature_keys": ["H570_1"],
    "plan_feature_names": ["H570_1"],
    "layer_refs": [
        {
            "layer_id": "cultural_environments",
            "version": 1,
            "feature_ids": [7],
            "feature_keys": ["cultural_environments.7"],
        }
    ],
    "measures": {
        "environment_name": "Tuv",
        "environment_area_m2": 533200.0,
        "covered_m2": 533200.0,
        "uncovered_m2": 0.0,
        "uncovered_pct": 0.0,
        "required_zones": ["H570"],
    },
    "message": "Kulturmiljøet «Tuv» (regional interesse) er dekket av hensynssone H570 "
    "innenfor planområdet (533 200 m²).",
    "suggested_action": "Ingen.",
    "fingerprint": "G4|no_consideration_zone|H570_1|cultural_environments:cultural_environments.7",
}

FINDING_G5_INFO: dict[str, Any] = {
    "id": 23,
    "rule_id": "G5",
    "check": "no_development_areas",
    "paragraph": "Buskerudplanen 2026 §6.1, figur «Utbyggingspress / Sentralitet»",
    "severity": "info",
    "plan_feature_ids": [],
    "plan_feature_keys": [],
    "plan_feature_names": [],
    "layer_refs": [],
    "measures": {},
    "message": "Planen har ingen nye områder for bolig, næring, handel eller offentlig "
    "tjenesteyting.",
    "suggested_action": "Ingen.",
    "fingerprint": "G5|no_development_areas||",
}


def _severities(conflict: int, warning: int, unknown: int, info: int, ok: int) -> dict:
    return {"conflict": conflict, "warning": warning, "unknown": unknown, "info": info, "ok": ok}


SUMMARY: dict[str, Any] = {
    "total": 23,
    "by_severity": _severities(1, 3, 0, 1, 18),
    "by_rule": {
        "G1": _severities(1, 2, 0, 0, 2),
        "G2": _severities(0, 1, 0, 0, 4),
        "G3": _severities(0, 0, 0, 0, 6),
        "G4": _severities(0, 0, 0, 0, 6),
        "G5": _severities(0, 0, 0, 1, 0),
    },
}

EMPTY_SUMMARY: dict[str, Any] = {
    "total": 0,
    "by_severity": _severities(0, 0, 0, 0, 0),
    "by_rule": {rule: _severities(0, 0, 0, 0, 0) for rule in ("G1", "G2", "G3", "G4", "G5")},
}


def _check_links(check_id: int, version: int) -> list[dict[str, str]]:
    base = f"/api/v1/checks/{check_id}"
    return [
        link(base, "self"),
        link(f"{base}/findings", "items", GEOJSON),
        link(f"/api/v1/proposals/{PROPOSAL_ID}/versions/{version}", "up"),
    ]


CHECK: dict[str, Any] = {
    "id": 1,
    "status": "done",
    "proposal_id": PROPOSAL_ID,
    "version": 1,
    "rule_set": RULE_SET,
    "requested_layer_versions": None,
    "layer_versions": LAYER_VERSIONS,
    "timings_ms": {"G1": 114.7, "G2": 7.6, "G3": 2.7, "G4": 5.1, "G5": 0.0},
    "summary": SUMMARY,
    "error": None,
    "saksnummer": "2026/1234",
    "journalpostId": "2026/1234-5",
    "created_at": "2026-03-12T09:14:05.120Z",
    "started_at": "2026-03-12T09:14:05.151Z",
    "finished_at": "2026-03-12T09:14:05.298Z",
    "findings": [
        FINDING_G1_CONFLICT,
        FINDING_G1_WARNING,
        FINDING_G2_WARNING,
        FINDING_G4_OK,
        FINDING_G5_INFO,
    ],
    "links": _check_links(1, 1),
}

CHECK_QUEUED: dict[str, Any] = {
    **CHECK,
    "id": 2,
    "status": "queued",
    "version": 2,
    "requested_layer_versions": {"tree_line": 1},
    "layer_versions": None,
    "timings_ms": None,
    "summary": EMPTY_SUMMARY,
    "created_at": "2026-04-16T13:41:02.007Z",
    "started_at": None,
    "finished_at": None,
    "findings": [],
    "links": _check_links(2, 2),
}

CHECK_REQUEST: dict[str, Any] = {"layer_versions": {"tree_line": 1, "elevation": 1}}

FINDINGS_GEOJSON: dict[str, Any] = {
    "type": "FeatureCollection",
    "check_id": 1,
    "status": "done",
    "features": [
        {
            "type": "Feature",
            "id": 1,
            "properties": FINDING_G1_CONFLICT,
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [8.58266, 60.88994],
                        [8.57989, 60.89038],
                        [8.57896, 60.89127],
                        [8.57712, 60.89126],
                        [8.57618, 60.89216],
                        [8.57434, 60.89245],
                        [8.5756, 60.89315],
                        [8.58361, 60.89093],
                        [8.58266, 60.88994],
                    ]
                ],
            },
        }
    ],
}

_QUICK_G1 = {
    k: v
    for k, v in FINDING_G1_CONFLICT.items()
    if k not in ("id", "comparison", "previous_finding_id")
}

QUICK_CHECK: dict[str, Any] = {
    "rule_set": RULE_SET,
    "layer_versions": LAYER_VERSIONS,
    "timings_ms": {"G1": 98.2, "G2": 6.9, "G3": 2.4, "G4": 4.8, "G5": 0.1},
    "summary": {
        "total": 10,
        "by_severity": _severities(1, 2, 0, 1, 6),
        "by_rule": {
            "G1": _severities(1, 1, 0, 0, 0),
            "G2": _severities(0, 1, 0, 0, 1),
            "G3": _severities(0, 0, 0, 0, 2),
            "G4": _severities(0, 0, 0, 0, 3),
            "G5": _severities(0, 0, 0, 1, 0),
        },
    },
    "upload_report": {"repaired": [], "ignored": [], "unknown_codes": [], "warnings": []},
    "findings": {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": _QUICK_G1,
                "geometry": FINDINGS_GEOJSON["features"][0]["geometry"],
            }
        ],
    },
}

_G1_BFR10_V2 = {
    **FINDING_G1_CONFLICT,
    "id": 31,
    "plan_feature_ids": [13],
    "measures": {
        "area_m2": 62457.5,
        "new_area_m2": 62457.5,
        "existing_plan_loaded": True,
        "data_coverage_pct": 100.0,
        "above_tree_line_m2": 7552.0,
        "above_tree_line_pct": 12.09,
        "transition_zone_m2": 54905.5,
        "transition_zone_pct": 87.91,
        "max_elevation_m": 1040.1,
        "tree_line_m": 1027.3,
        "max_height_above_tree_line_m": 12.8,
        "transition_zone_width_m": 100.0,
    },
    "message": "BFR10 Storeli øvre (1120): 7 552 m² (12,1 %) av det nye området ligger over "
    "skoggrensen (høyeste punkt 1040 moh., skoggrensen der 1027 moh.).",
}

COMPARE: dict[str, Any] = {
    "proposal_id": PROPOSAL_ID,
    "from_version": 1,
    "to_version": 2,
    "from_check": 1,
    "to_check": 2,
    "appeared": [],
    "disappeared": [FINDING_G1_WARNING],
    "changed": [
        {
            "fingerprint": FINDING_G1_CONFLICT["fingerprint"],
            "from": FINDING_G1_CONFLICT,
            "to": _G1_BFR10_V2,
        }
    ],
    "unchanged_count": 15,
}

CHECK_V2: dict[str, Any] = {
    **CHECK,
    "id": 2,
    "version": 2,
    "created_at": "2026-04-16T13:41:02.007Z",
    "started_at": "2026-04-16T13:41:02.030Z",
    "finished_at": "2026-04-16T13:41:02.171Z",
    "summary": {
        "total": 16,
        "by_severity": _severities(1, 1, 0, 1, 13),
        "by_rule": {
            "G1": _severities(1, 0, 0, 0, 2),
            "G2": _severities(0, 1, 0, 0, 4),
            "G3": _severities(0, 0, 0, 0, 3),
            "G4": _severities(0, 0, 0, 0, 4),
            "G5": _severities(0, 0, 0, 1, 0),
        },
    },
    "findings": [
        {**_G1_BFR10_V2, "comparison": "changed", "previous_finding_id": 1},
        {
            **FINDING_G2_WARNING,
            "id": 36,
            "plan_feature_ids": [13],
            "comparison": "unchanged",
            "previous_finding_id": 6,
        },
        {**FINDING_G5_INFO, "id": 46, "comparison": "unchanged", "previous_finding_id": 23},
    ],
    "comparison": {
        "previous_check_id": 1,
        "previous_version": 1,
        "counts": {"new": 0, "unchanged": 15, "changed": 1, "resolved": 1},
        "resolved": [
            {
                "id": FINDING_G1_WARNING["id"],
                "rule_id": "G1",
                "check": "above_tree_line",
                "severity": "warning",
                "plan_feature_keys": FINDING_G1_WARNING["plan_feature_keys"],
                "plan_feature_names": FINDING_G1_WARNING["plan_feature_names"],
                "message": FINDING_G1_WARNING["message"],
                "fingerprint": FINDING_G1_WARNING["fingerprint"],
                "review": {
                    "status": "discussed",
                    "comment": "Drøftet i planforum 21. april.",
                    "reviewer": "Kari Nordmann",
                    "key_name": "Regionalt planforum",
                    "user_name": "kari.nordmann@bfk.no",
                    "carried_from_version": None,
                    "updated_at": "2026-04-21T14:02:51.118Z",
                },
            }
        ],
    },
    "links": _check_links(2, 2),
}

RULES: dict[str, Any] = {
    "id": "buskerudplanen-2026",
    "version": "2026.1",
    "title": "Buskerudplanen 2026 – regionale planretningslinjer for arealbruk (kapittel 6)",
    "source": "Buskerudplanen, høringsutkast 2026, kapittel 6 (Buskerud fylkeskommune)",
    "rules": [
        {
            "id": "G1",
            "class": "tree_line",
            "paragraph": G1_PARAGRAPH,
            "title": "Nye fritidsboligområder over skoggrensen",
            "text": "Nye og utvidede områder for fritidsbebyggelse skal ikke legges over "
            "skoggrensen, fordi områdene over skoggrensen er særlig sårbare og har viktige "
            "natur- og landskapsverdier.\n",
            "params": {
                "kommuneplan_purposes": {
                    "value": [1120, 5220],
                    "reason": "Fritidsbebyggelse and spredt fritidsbebyggelse are the cabin "
                    "purposes of KpArealformål.",
                },
                "new_status": {
                    "value": [2],
                    "reason": "In a kommuneplan arealbruksstatus 2 (framtidig) marks new or "
                    "expanded areas.",
                },
                "conflict_min_share_pct": {
                    "value": 0.5,
                    "reason": "Conflict when the area above the line exceeds max(50 m², 0.5 % "
                    "of the area) (SPEC G1).",
                },
                "transition_zone_m": {
                    "value": 100,
                    "reason": "SSB statbank table 12512 uses a 100 m transition zone below "
                    "the climatic tree line.",
                },
            },
        }
    ],
    "checksum": RULE_SET["checksum"],
}

NOT_CHECKED = problem(
    422,
    "invalid-input",
    f"version 2 of '{PROPOSAL_ID}' has no finished check; run one with "
    f"POST /api/v1/proposals/{PROPOSAL_ID}/versions/2/checks",
    f"/api/v1/proposals/{PROPOSAL_ID}/compare",
    [{"message": "not checked", "field": "to"}],
    summary="A version has no finished check yet",
)

CHECK_RUNNING = problem(
    409,
    "conflict",
    "check 2 is running; the report is ready when it is done",
    "/api/v1/checks/2/report.html",
    summary="The check is queued or running",
)

CHECK_FAILED = problem(
    409,
    "conflict",
    "check 3 failed (layer 'tree_line' has no version 4); there is no report",
    "/api/v1/checks/3/report.html",
    summary="The check failed",
)

REPORT_BAD_ATTACH = problem(
    422,
    "invalid-parameter",
    "query.attach: Input should be 'findings'",
    "/api/v1/checks/16/report.pdf",
    [{"message": "Input should be 'findings'", "field": "query.attach"}],
    summary="attach names something the PDF cannot carry (only findings)",
)

CHECK_REQUEST_EXAMPLES = {
    "current": {"summary": "The current version of every layer (the default)", "value": {}},
    "pinned": {
        "summary": "Re-run against pinned layer versions, to reproduce an earlier check",
        "value": CHECK_REQUEST,
    },
    "case": {
        "summary": "Filed under the case system's case and record",
        "value": {"saksnummer": "2026/1234", "journalpostId": "2026/1234-7"},
    },
}
