"""Example payloads for the OpenAPI document, and helpers that put them into `responses=`.

The examples are real answers of the service, shortened: the Hemsedal kommuneplan
`samples/hemsedal-kpa-2026.geojson` (3326_KPA2026) checked against the demo layers, and the
Kongsberg sample for G3. Routers reference them; app.schemas attaches the model examples and
app.openapi adds what every operation shares (API key security, 401/403, problem schema).
No example here changes what an endpoint does.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple

from app.errors import PROBLEM_JSON, problem_body

JSON = "application/json"
GEOJSON = "application/geo+json"
PDF = "application/pdf"
HTML = "text/html"

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

# --- plan upload ------------------------------------------------------------------------

PROPOSAL_ID = "3326_KPA2026"
PLAN = {
    "kommunenummer": "3326",
    "planidentifikasjon": "KPA2026",
    "plantype": 20,
    "planstatus": 2,
    "plannavn": "Kommuneplanens arealdel 2026-2038, høringsforslag",
}

UPLOAD_GEOJSON: dict[str, Any] = {
    "type": "FeatureCollection",
    "name": "Hemsedal kommuneplan 2026-2038, høringsforslag",
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
    "plan": PLAN,
    "features": [
        {
            "type": "Feature",
            "id": "BFR10",
            "properties": {
                "objtype": "KpArealformålOmråde",
                "arealformal": 1120,
                "arealbruksstatus": 2,
                "omradenavn": "BFR10 Storeli øvre",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [477231, 6750440],
                        [477332, 6750553],
                        [477402, 6750710],
                        [477186, 6750835],
                        [476969, 6750960],
                        [476868, 6750847],
                        [476798, 6750690],
                        [477028, 6750586],
                        [477231, 6750440],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "id": "BFR11",
            "properties": {
                "objtype": "KpArealformålOmråde",
                "arealformal": 1120,
                "arealbruksstatus": 2,
                "omradenavn": "BFR11 Vestlia",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [474949, 6751234],
                        [475000, 6751321],
                        [475026, 6751429],
                        [474838, 6751498],
                        [474651, 6751566],
                        [474600, 6751479],
                        [474574, 6751371],
                        [474767, 6751316],
                        [474949, 6751234],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "id": "H570_1",
            "properties": {
                "objtype": "KpAngittHensynSone",
                "angitthensyn": 570,
                "hensynsonenavn": "H570_1 Tuv",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [469900, 6746150],
                        [469900, 6746850],
                        [468950, 6746850],
                        [468950, 6746150],
                        [469900, 6746150],
                    ]
                ],
            },
        },
    ],
}

_BINARY = {"type": "string", "format": "binary"}
_FILE_FORMATS = (
    "GeoJSON, Plan-GML 5.0, SOSI 4.5, GeoPackage or a zipped Shapefile (.shp with .shx, .dbf "
    "and .prj)"
)


def _file_body(description: str, geojson_example: dict[str, Any], formats: str) -> dict:
    """An `openapi_extra` request body for an endpoint that reads a file (raw or multipart)."""
    geojson = {"schema": {"type": "object"}, "example": geojson_example}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                GEOJSON: geojson,
                JSON: geojson,
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {**_BINARY, "description": f"the file: {formats}"}},
                    }
                },
                "application/gml+xml": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "application/geopackage+sqlite3": {"schema": _BINARY},
                "application/zip": {"schema": _BINARY},
                "application/octet-stream": {"schema": _BINARY},
            },
        }
    }


UPLOAD_BODY = _file_body(
    "The plan file as the raw request body, or as the field `file` of a multipart/form-data "
    f"form: {_FILE_FORMATS}. The format is recognised from the content, then the `filename` "
    "parameter, then the media type (application/geo+json, application/gml+xml, text/plain "
    "for SOSI, application/geopackage+sqlite3, application/zip; application/octet-stream "
    "when unsure). GeoJSON is RFC 7946 (CRS84) or names an EPSG code in a legacy `crs` "
    "member, as in the example (an excerpt of `samples/hemsedal-kpa-2026.geojson`). Plan "
    "attributes come from the query parameters, else a `plan` member (or KS Fiks Plan's "
    "`nasjonalArealplanId`), else the plan boundary feature (KpOmråde/RpOmråde). Limits by "
    "default: 20 MiB, 20 000 features, 500 000 vertices.",
    UPLOAD_GEOJSON,
    _FILE_FORMATS,
)

LAYER_UPLOAD_GEOJSON: dict[str, Any] = {
    "type": "FeatureCollection",
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
    "features": [
        {
            "type": "Feature",
            "properties": {
                "navn": "Skollenborg",
                "forekomstId": "GP-0623-001",
                "betydning": "regional",
                "ressurstype": "grus",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [535683, 6618634],
                        [535495, 6618850],
                        [535348, 6619237],
                        [535296, 6619649],
                        [535361, 6619926],
                        [535611, 6619887],
                        [535852, 6619363],
                        [535885, 6618788],
                        [535683, 6618634],
                    ]
                ],
            },
        }
    ],
}

LAYER_UPLOAD_BODY = _file_body(
    "A layer file as the raw request body, or as the field `file` of a multipart/form-data "
    "form: vector layers as GeoJSON, GeoPackage, zipped Shapefile or GML, raster layers as "
    "GeoTIFF (send it as application/octet-stream or multipart, with `filename=….tif`). Any "
    "EPSG CRS. Attributes are found under their usual names (`navn`, `forekomstId`, "
    "`betydning`, `ressurstype` in the example); map others with `attr_map`, e.g. "
    "`importance=BETYDNING`.",
    LAYER_UPLOAD_GEOJSON,
    "GeoJSON, GeoPackage, zipped Shapefile, GML or GeoTIFF",
)

# --- proposals --------------------------------------------------------------------------

UPLOADED_AT = "2026-03-12T09:14:03.512Z"
UPLOADED_AT_V2 = "2026-04-16T13:40:11.208Z"
PUBLISHED_AT = "2026-04-17T08:02:45.930Z"
SHA_V1 = "e4c0b2db96c548ff3e5b82e16f194250a2b0fe7312cecd953c86b94464d561f6"
SHA_V2 = "9b0d6b8f3a1c54e7d2f6a08c1e97b4a35d2c8e0f16a7b9c3d4e5f60718293a4b"


def _link(href: str, rel: str, media_type: str = JSON) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type}


def _version_summary(number: int, uploaded_at: str, sha: str, features: int) -> dict[str, Any]:
    base = f"/api/v1/proposals/{PROPOSAL_ID}/versions/{number}"
    return {
        "version": number,
        "uploaded_at": uploaded_at,
        "plantype": 20,
        "planstatus": 2,
        "plannavn": PLAN["plannavn"],
        "source_format": "geojson",
        "source_crs": "EPSG:25832",
        "source_filename": "hemsedal-kpa-2026.geojson",
        "content_sha256": sha,
        "feature_count": features,
        "links": [
            _link(base, "self"),
            _link(f"{base}/features", "items", GEOJSON),
            _link(f"/api/v1/proposals/{PROPOSAL_ID}", "collection"),
        ],
    }


VERSION_1 = _version_summary(1, UPLOADED_AT, SHA_V1, 9)
VERSION_2 = _version_summary(2, UPLOADED_AT_V2, SHA_V2, 8)

VERSION: dict[str, Any] = {
    **VERSION_1,
    "proposal_id": PROPOSAL_ID,
    "kommunenummer": "3326",
    "planidentifikasjon": "KPA2026",
    "area_counts": {"planomrade": 1, "arealformal": 7, "hensynssone": 1},
    "report": {"repaired": [], "ignored": [], "unknown_codes": [], "warnings": []},
}

PROPOSAL_SUMMARY: dict[str, Any] = {
    "id": PROPOSAL_ID,
    **PLAN,
    "latest_version": 2,
    "published_at": None,
    "created_at": UPLOADED_AT,
    "updated_at": UPLOADED_AT_V2,
    "links": [_link(f"/api/v1/proposals/{PROPOSAL_ID}", "self")],
}

PROPOSAL: dict[str, Any] = {**PROPOSAL_SUMMARY, "versions": [VERSION_1, VERSION_2]}
PROPOSAL_PUBLISHED: dict[str, Any] = {**PROPOSAL, "published_at": PUBLISHED_AT}

PROPOSAL_PAGE: dict[str, Any] = {
    "items": [PROPOSAL_SUMMARY],
    "total": 1,
    "limit": 20,
    "offset": 0,
    "links": [_link("/api/v1/proposals?limit=20&offset=0&kommunenummer=3326", "self")],
}

PROPOSAL_FEATURES: dict[str, Any] = {
    "type": "FeatureCollection",
    "proposal_id": PROPOSAL_ID,
    "version": 1,
    "features": [
        {
            "type": "Feature",
            "id": 4,
            "properties": {
                "kind": "arealformal",
                "position": 3,
                "source_id": "BFR10",
                "arealformal": 1120,
                "arealformal_navn": "Fritidsbebyggelse",
                "arealbruksstatus": 2,
                "feltnavn": "BFR10 Storeli øvre",
                "hensynssone": None,
                "hensynssone_beskrivelse": None,
                "hensynssone_navn": None,
                "original_properties": {
                    "objtype": "KpArealformålOmråde",
                    "omradenavn": "BFR10 Storeli øvre",
                    "arealformal": 1120,
                    "arealbruksstatus": 2,
                },
            },
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [
                        [
                            [8.58049, 60.88849],
                            [8.58234, 60.88951],
                            [8.58361, 60.89093],
                            [8.57961, 60.89204],
                            [8.5756, 60.89315],
                            [8.57375, 60.89212],
                            [8.57248, 60.89071],
                            [8.57673, 60.88979],
                            [8.58049, 60.88849],
                        ]
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "id": 9,
            "properties": {
                "kind": "hensynssone",
                "position": 8,
                "source_id": "H570_1",
                "arealformal": None,
                "arealformal_navn": None,
                "arealbruksstatus": None,
                "feltnavn": None,
                "hensynssone": 570,
                "hensynssone_beskrivelse": "Bevaring kulturmiljø",
                "hensynssone_navn": "H570_1 Tuv",
                "original_properties": {
                    "objtype": "KpAngittHensynSone",
                    "angitthensyn": 570,
                    "hensynsonenavn": "H570_1 Tuv",
                },
            },
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [
                        [
                            [8.44609, 60.84949],
                            [8.44598, 60.85577],
                            [8.4285, 60.8557],
                            [8.42861, 60.84942],
                            [8.44609, 60.84949],
                        ]
                    ]
                ],
            },
        },
    ],
}

# --- checks and findings ----------------------------------------------------------------

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
}

FINDING_G1_WARNING: dict[str, Any] = {
    "id": 2,
    "rule_id": "G1",
    "check": "above_tree_line",
    "paragraph": G1_PARAGRAPH,
    "severity": "warning",
    "plan_feature_ids": [5],
    "plan_feature_keys": ["BFR11 Vestlia"],
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
        _link(base, "self"),
        _link(f"{base}/findings", "items", GEOJSON),
        _link(f"/api/v1/proposals/{PROPOSAL_ID}/versions/{version}", "up"),
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

_QUICK_G1 = {k: v for k, v in FINDING_G1_CONFLICT.items() if k != "id"}
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

# --- layers -----------------------------------------------------------------------------

LAYER_VERSION_VECTOR: dict[str, Any] = {
    "layer_id": "mineral_deposits",
    "version": 2,
    "checksum": "3f9a51c07e2d84b6a1c0e5f7d9b2a4c68e1f3d5b7a9c0e2f4d6b8a1c3e5f7d9b",
    "feature_count": 1432,
    "source": "NGU Grus og pukk, nedlastet fra Geonorge",
    "source_date": "2026-03-01",
    "licence": "NLOD 2.0",
    "file_name": "grus_pukk.gpkg",
    "loaded_at": "2026-03-02T07:55:19.640Z",
    "raster": None,
    "links": [
        _link("/api/v1/layers/mineral_deposits/versions", "version-history"),
        _link("/api/v1/layers/mineral_deposits/items?version=2", "items", GEOJSON),
    ],
}

LAYER_VERSION_HISTORY: list[dict[str, Any]] = [
    LAYER_VERSION_VECTOR,
    {
        **LAYER_VERSION_VECTOR,
        "version": 1,
        "checksum": "b41d0c9e7f2a3856d1e0c4b7a9f36e2d58c1b0a7e9d4f3c2b1a0e9d8c7b6a5f4",
        "feature_count": 1418,
        "source_date": "2025-09-15",
        "loaded_at": "2025-09-16T08:12:03.271Z",
        "links": [
            _link("/api/v1/layers/mineral_deposits/versions", "version-history"),
            _link("/api/v1/layers/mineral_deposits/items?version=1", "items", GEOJSON),
        ],
    },
]

LAYER_VERSION_RASTER: dict[str, Any] = {
    "layer_id": "tree_line",
    "version": 1,
    "checksum": "ebec1ccd460be6d5f11fcdadd09bad378e3ab805e3895ef2f4502193f4b5ab8c",
    "feature_count": 0,
    "source": "Klimatisk skoggrense (NINA), as used by SSB statbank table 12512",
    "source_date": "2026-01-01",
    "licence": "to be confirmed with the owner",
    "file_name": "tree_line.tif",
    "loaded_at": "2026-01-15T10:21:44.108Z",
    "raster": {
        "dtype": "float32",
        "width": 349,
        "height": 376,
        "bounds": [414500.0, 6585500.0, 589000.0, 6773500.0],
        "nodata": -9999.0,
        "resolution": [500.0, 500.0],
        "source_crs": "EPSG:25832",
    },
    "links": [_link("/api/v1/layers/tree_line/versions", "version-history")],
}

LAYER: dict[str, Any] = {
    "id": "mineral_deposits",
    "title": "Mineralressurser (grus, pukk, industrimineraler, naturstein)",
    "description": "NGU's registered deposits with their assessed importance. G3 protects "
    "deposits of international, national and regional importance from sterilising land use.",
    "kind": "vector",
    "geometry_type": "Polygon",
    "guidelines": ["G3"],
    "optional": False,
    "attributes": {
        "name": {"description": "forekomstnavn", "type": "text", "allowed": None},
        "deposit_id": {"description": "NGU forekomst-id", "type": "text", "allowed": None},
        "importance": {
            "description": "betydning (NGU's assessment)",
            "type": "text",
            "allowed": [
                "internasjonal",
                "nasjonal",
                "regional",
                "lokal",
                "liten eller ingen",
                "ikke vurdert",
            ],
        },
        "resource_type": {
            "description": "ressurstype",
            "type": "text",
            "allowed": ["grus", "pukk", "industrimineral", "naturstein", "metall"],
        },
    },
    "source": {
        "name": "NGU Grus og pukk / Mineralressurser (industrimineral, naturstein og metaller)",
        "owner": "Norges geologiske undersøkelse (NGU)",
        "url": "https://register.geonorge.no/det-offentlige-kartgrunnlaget/mineralressurser-"
        "industrimineral-naturstein-og-metaller/5a887d78-07ef-44c6-8941-cb8017c6328c",
        "licence": "NLOD 2.0",
        "attribution": "Kilde: NGU",
    },
    "current_version": LAYER_VERSION_VECTOR,
    "links": [
        _link("/api/v1/layers/mineral_deposits/versions", "version-history"),
        _link("/api/v1/layers/mineral_deposits/items", "items", GEOJSON),
    ],
}

LAYER_RASTER: dict[str, Any] = {
    "id": "tree_line",
    "title": "Tregrense (klimatisk skoggrense)",
    "description": "Raster surface of the tree-line elevation (m a.s.l.) per cell. G1 compares "
    "terrain elevation with it; the 100 m band below it is the transition zone SSB uses in "
    "table 12512.",
    "kind": "raster",
    "geometry_type": None,
    "guidelines": ["G1"],
    "optional": False,
    "attributes": {},
    "source": {
        "name": "Klimatisk skoggrense (NINA), as used by SSB statbank table 12512",
        "owner": "NINA / SSB",
        "url": "https://www.ssb.no/en/statbank/table/12512/",
        "licence": "to be confirmed with the owner",
        "attribution": "Kilde: NINA, klimatisk skoggrense",
    },
    "current_version": LAYER_VERSION_RASTER,
    "links": [_link("/api/v1/layers/tree_line/versions", "version-history")],
}

_DEPOSIT_GEOMETRY = {
    "type": "Polygon",
    "coordinates": [
        [
            [9.63409, 59.70415],
            [9.63079, 59.7061],
            [9.62823, 59.70959],
            [9.62739, 59.71329],
            [9.62859, 59.71578],
            [9.63303, 59.7154],
            [9.63722, 59.71068],
            [9.63771, 59.70551],
            [9.63409, 59.70415],
        ]
    ],
}
_DEPOSIT_PROPERTIES = {
    "name": "Skollenborg",
    "deposit_id": "GP-0623-001",
    "importance": "regional",
    "resource_type": "grus",
    "source_fid": "grus_pukk.17",
}

LAYER_ITEMS: dict[str, Any] = {
    "type": "FeatureCollection",
    "layer_id": "mineral_deposits",
    "version": 2,
    "licence": "NLOD 2.0",
    "numberMatched": 38,
    "numberReturned": 1,
    "links": [
        {
            "href": "/api/v1/layers/mineral_deposits/items?limit=1&offset=1&version=2"
            "&bbox=9.5,59.6,9.8,59.8",
            "rel": "next",
        }
    ],
    "features": [
        {
            "type": "Feature",
            "id": 406,
            "properties": _DEPOSIT_PROPERTIES,
            "geometry": _DEPOSIT_GEOMETRY,
        }
    ],
}

# --- municipalities ---------------------------------------------------------------------

MUNICIPALITY: dict[str, Any] = {
    "type": "Feature",
    "id": "3326",
    "properties": {
        "kommunenummer": "3326",
        "name": "Hemsedal",
        "region": "Hallingdal",
        "centrality_class": 4,
        "source": "Kartverket, administrative enheter 2024, CC BY 4.0",
    },
    "geometry": {
        "type": "MultiPolygon",
        "coordinates": [
            [
                [
                    [8.0409, 60.8932],
                    [8.7243, 60.764],
                    [8.8275, 60.8712],
                    [8.919, 60.8634],
                    [8.3092, 61.0917],
                    [8.2144, 61.0539],
                    [8.2827, 61.0333],
                    [8.2231, 60.9681],
                    [8.1539, 60.9822],
                    [8.0409, 60.8932],
                ]
            ]
        ],
    },
}
MUNICIPALITIES: dict[str, Any] = {
    "type": "FeatureCollection",
    "attribution": "© Kartverket, CC BY 4.0 (administrative boundaries 2024)",
    "features": [MUNICIPALITY],
}

# --- forum ------------------------------------------------------------------------------

FORUM_FINDING: dict[str, Any] = {
    "id": 1,
    "check_id": 1,
    "proposal_id": PROPOSAL_ID,
    "version": 1,
    "kommunenummer": "3326",
    "municipality": "Hemsedal",
    "plannavn": PLAN["plannavn"],
    "rule_id": "G1",
    "paragraph": G1_PARAGRAPH,
    "severity": "conflict",
    "message": FINDING_G1_CONFLICT["message"],
    "suggested_action": G1_ACTION,
    "measures": FINDING_G1_CONFLICT["measures"],
    "plan_feature_keys": ["BFR10 Storeli øvre"],
    "review": {"status": "open", "comment": None, "reviewer": None, "updated_at": None},
    "links": [
        _link("/api/v1/checks/1/report.html", "report", HTML),
        _link("/api/v1/checks/1/report.pdf", "alternate", PDF),
        _link("/api/v1/forum/findings/1/review", "review"),
        _link("/api/v1/checks/1", "related"),
        _link("/api/v1/checks/1/findings", "related", GEOJSON),
    ],
}
FORUM_FINDING_PAGE: dict[str, Any] = {
    "items": [FORUM_FINDING],
    "total": 4,
    "limit": 1,
    "offset": 0,
    "links": [
        _link("/api/v1/forum/findings?kommunenummer=3326&limit=1&offset=0", "self"),
        _link("/api/v1/forum/findings?kommunenummer=3326&limit=1&offset=1", "next"),
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
    "updated_at": "2026-04-22T10:31:07.455Z",
    "history": [
        {
            "from_status": "open",
            "to_status": "discussed",
            "comment": "Drøftet i planforum 21. april.",
            "reviewer": "Buskerud fylkeskommune, regionalt planforum",
            "created_at": "2026-04-21T14:02:51.118Z",
        },
        {
            "from_status": "discussed",
            "to_status": "change_required",
            "comment": REVIEW_REQUEST["comment"],
            "reviewer": REVIEW_REQUEST["reviewer"],
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

# --- webhooks ---------------------------------------------------------------------------

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

# --- health -----------------------------------------------------------------------------

HEALTHY = {"status": "ok", "checks": {}}
READY = {
    "status": "ready",
    "checks": {
        "migrations_head": "0006_layer_feature_indexes",
        "database": "reachable",
        "migrations_current": "0006_layer_feature_indexes",
    },
}
NOT_READY = {
    "status": "not ready",
    "checks": {"migrations_head": "0006_layer_feature_indexes", "database": "unreachable"},
}

# --- OGC API – Features -----------------------------------------------------------------

_ROOT = "http://127.0.0.1:8000"
_OGC = f"{_ROOT}/ogcapi"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def _ogc_link(href: str, rel: str, media_type: str = JSON, title: str = "") -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


OGC_LANDING: dict[str, Any] = {
    "title": "Arealsjekk – OGC API Features",
    "description": "Buskerud's regional guideline layers, municipalities, plan proposals and "
    "the findings of their checks against Buskerudplanen.",
    "links": [
        _ogc_link(_OGC, "self", title="this document"),
        _ogc_link(
            f"{_ROOT}/api/v1/openapi.json",
            "service-desc",
            "application/vnd.oai.openapi+json;version=3.1",
            "API definition",
        ),
        _ogc_link(
            f"{_ROOT}/api/v1/docs",
            "service-doc",
            HTML,
            "API documentation",
        ),
        _ogc_link(f"{_OGC}/conformance", "conformance", title="conformance classes"),
        _ogc_link(f"{_OGC}/collections", "data", title="feature collections"),
    ],
}
OGC_CONFORMANCE: dict[str, Any] = {
    "conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    ]
}
OGC_COLLECTION: dict[str, Any] = {
    "id": "mineral_deposits",
    "title": LAYER["title"],
    "description": LAYER["description"],
    "links": [
        _ogc_link(f"{_OGC}/collections/mineral_deposits", "self", title="this collection"),
        _ogc_link(f"{_OGC}/collections/mineral_deposits/items", "items", GEOJSON, "its features"),
    ],
    "itemType": "feature",
    "crs": [CRS84_URI, f"{_EPSG}4326", f"{_EPSG}25832", f"{_EPSG}25833", f"{_EPSG}3857"],
    "storageCrs": f"{_EPSG}25832",
    "extent": {"spatial": {"bbox": [[7.73509, 59.60789, 10.61466, 60.99012]], "crs": CRS84_URI}},
    "attribution": "NGU Grus og pukk, nedlastet fra Geonorge",
    "license": "NLOD 2.0",
}
OGC_COLLECTIONS: dict[str, Any] = {
    "links": [_ogc_link(f"{_OGC}/collections", "self", title="this document")],
    "collections": [OGC_COLLECTION],
}
OGC_ITEMS: dict[str, Any] = {
    "type": "FeatureCollection",
    "numberMatched": 38,
    "numberReturned": 1,
    "timeStamp": "2026-03-12T09:20:14Z",
    "links": [
        _ogc_link(
            f"{_OGC}/collections/mineral_deposits/items?limit=1&bbox=9.5,59.6,9.8,59.8",
            "self",
            GEOJSON,
            "this page",
        ),
        _ogc_link(f"{_OGC}/collections/mineral_deposits", "collection", title="the collection"),
        _ogc_link(
            f"{_OGC}/collections/mineral_deposits/items?limit=1&bbox=9.5%2C59.6%2C9.8%2C59.8"
            "&offset=1",
            "next",
            GEOJSON,
            "next page",
        ),
    ],
    "features": [
        {
            "type": "Feature",
            "id": 406,
            "geometry": _DEPOSIT_GEOMETRY,
            "properties": _DEPOSIT_PROPERTIES,
        }
    ],
}
OGC_ITEM: dict[str, Any] = {
    **MUNICIPALITY,
    "links": [
        _ogc_link(f"{_OGC}/collections/municipalities/items/3326", "self", GEOJSON, "this feature"),
        _ogc_link(f"{_OGC}/collections/municipalities", "collection", title="the collection"),
    ],
}

# --- WMS --------------------------------------------------------------------------------

WMS_GETMAP_URL = (
    "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=elevation,mineral_deposits,"
    "municipalities&STYLES=&CRS=EPSG:25832&BBOX=420000,6570000,620000,6800000&WIDTH=900"
    "&HEIGHT=1035&FORMAT=image/png"
)
WMS_DESCRIPTION = (
    "Answer GetCapabilities, GetMap (PNG), GetFeatureInfo and GetLegendGraphic. A service for "
    "GIS clients (QGIS: *Add WMS/WMTS Layer*, URL `/wms`) rather than a JSON API: parameter "
    "names are case-insensitive and errors are OGC ServiceExceptionReports. Start with "
    "`/wms?SERVICE=WMS&REQUEST=GetCapabilities`; a map of the terrain, mineral deposits and "
    f"municipalities: `{WMS_GETMAP_URL}`."
)
WMS_CAPABILITIES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" …>\n'
    "  <Service><Name>WMS</Name><Title>Arealsjekk – Buskerudplanen</Title>…</Service>\n"
    "  <Capability>…<Layer><Name>mineral_deposits</Name>…</Layer>…</Capability>\n"
    "</WMS_Capabilities>"
)
WMS_EXCEPTION = (
    '<?xml version="1.0" encoding="UTF-8"?><ServiceExceptionReport version="1.3.0" '
    'xmlns="http://www.opengis.net/ogc"><ServiceException code="OperationNotSupported" '
    'locator="REQUEST">REQUEST GetTile is not supported</ServiceException>'
    "</ServiceExceptionReport>"
)
WMS_FEATURE_INFO = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": 406,
            "properties": {
                "layer": "mineral_deposits",
                "id": 406,
                **{k: v for k, v in _DEPOSIT_PROPERTIES.items() if k != "source_fid"},
            },
            "geometry": None,
        }
    ],
}


def _wms_param(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


WMS_OPENAPI: dict[str, Any] = {
    "parameters": [
        _wms_param("SERVICE", "WMS", "WMS"),
        _wms_param(
            "REQUEST", "GetCapabilities, GetMap, GetFeatureInfo or GetLegendGraphic", "GetMap"
        ),
        _wms_param("VERSION", "1.3.0 (default) or 1.1.1", "1.3.0"),
        _wms_param("LAYERS", "comma-separated layer names (see GetCapabilities)", "elevation"),
        _wms_param("STYLES", "one style per layer; empty for the defaults", ""),
        _wms_param(
            "CRS",
            "EPSG:25832, EPSG:25833, EPSG:4326 (latitude first) or EPSG:3857; SRS in 1.1.1",
            "EPSG:25832",
        ),
        _wms_param("BBOX", "minx,miny,maxx,maxy in CRS", "420000,6570000,620000,6800000"),
        _wms_param("WIDTH", "pixels, at most 4096", "900"),
        _wms_param("HEIGHT", "pixels, at most 4096", "1035"),
        _wms_param("FORMAT", "image/png", "image/png"),
        _wms_param("TRANSPARENT", "TRUE for a transparent background", "FALSE"),
    ]
}

# --- problem details --------------------------------------------------------------------


class ProblemExample(NamedTuple):
    """One example of an RFC 7807 problem answer: a short summary and the body."""

    summary: str
    body: dict[str, Any]


def problem(
    status: int,
    slug: str,
    detail: str,
    instance: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    summary: str | None = None,
) -> ProblemExample:
    """Build a problem example as app.errors.problem_response writes it."""
    return ProblemExample(summary or detail, problem_body(status, detail, slug, instance, problems))


def problem_content(examples: list[ProblemExample]) -> dict[str, Any]:
    """The `content` of a problem response holding the given examples, named by their type."""
    named: dict[str, Any] = {}
    for example in examples:
        base = key = example.body["type"].rsplit("/", 1)[-1]
        number = 2
        while key in named:
            key, number = f"{base}-{number}", number + 1
        named[key] = {"summary": example.summary, "value": example.body}
    return {
        PROBLEM_JSON: {
            "schema": {"$ref": "#/components/schemas/ProblemDetails"},
            "examples": named,
        }
    }


def problems(*examples: ProblemExample) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses` entries for problem examples, grouped by their status."""
    by_status: dict[int, list[ProblemExample]] = {}
    for example in examples:
        by_status.setdefault(example.body["status"], []).append(example)
    return {
        status: {
            "description": join_descriptions(e.summary for e in group),
            "content": problem_content(group),
        }
        for status, group in by_status.items()
    }


def join_descriptions(descriptions: Iterable[str]) -> str:
    """Join response descriptions into one sentence, without repeats."""
    parts = [d for d in dict.fromkeys(descriptions) if d]
    return "; ".join(parts[:1] + [_lower_first(part) for part in parts[1:]])


def _lower_first(text: str) -> str:
    word = text.split(" ", 1)[0]
    if sum(char.isupper() for char in word) > 1:  # API, GeoJSON, …
        return text
    return text[:1].lower() + text[1:]


def at(example: ProblemExample, instance: str) -> ProblemExample:
    """The same problem example, answered at another path."""
    return ProblemExample(example.summary, {**example.body, "instance": instance})


def example_response(
    example: Any,
    description: str | None = None,
    media_type: str = JSON,
    location: str | None = None,
) -> dict[str, Any]:
    """A `responses` entry carrying one example of the given media type (and a Location)."""
    entry: dict[str, Any] = {"content": {media_type: {"example": example}}}
    if description:
        entry["description"] = description
    if location:
        entry["headers"] = {
            "Location": {"description": location, "schema": {"type": "string"}},
        }
    return entry


def geojson_response(example: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """A GeoJSON `responses` entry (application/geo+json), CRS named in Content-Crs."""
    entry = example_response(example, description, GEOJSON)
    entry["content"][GEOJSON]["schema"] = {"type": "object"}
    entry["headers"] = {
        "Content-Crs": {
            "description": f"the CRS of the coordinates, e.g. <{CRS84_URI}> or <{_EPSG}25832>",
            "schema": {"type": "string"},
        }
    }
    return entry


def binary_response(media_type: str, description: str) -> dict[str, Any]:
    """A `responses` entry for a binary document (PDF, PNG)."""
    return {
        "description": description,
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
    }


# Problems that several routers share.
NO_PROPOSAL = problem(
    404,
    "not-found",
    f"no proposal '{PROPOSAL_ID}'",
    f"/api/v1/proposals/{PROPOSAL_ID}",
    summary="No such proposal (another municipality's draft counts as missing)",
)
NO_VERSION = problem(
    404,
    "not-found",
    f"proposal '{PROPOSAL_ID}' has no version 3",
    f"/api/v1/proposals/{PROPOSAL_ID}/versions/3",
    summary="The proposal has no such version",
)
NO_CHECK = problem(404, "not-found", "no check 99", "/api/v1/checks/99", summary="No such check")
NO_LAYER = problem(
    404,
    "not-found",
    "no layer 'skoggrense'; known layers: cultural_environments, elevation, "
    "existing_kommuneplan, heritage_protected, intact_nature, mineral_deposits, "
    "municipal_heritage_plans, recreation_areas, state_recreation_areas, tettsteder, "
    "transport_hubs, tree_line, villrein_areas, villrein_corridors",
    "/api/v1/layers/skoggrense",
    summary="No such layer in the registry",
)
NO_FINDING = problem(
    404,
    "not-found",
    "no finding 99999",
    "/api/v1/forum/findings/99999/review",
    summary="No such finding",
)
NO_WEBHOOK = problem(
    404,
    "not-found",
    "no webhook 12",
    "/api/v1/webhooks/12",
    summary="No such webhook of this client",
)
BAD_CRS = problem(
    422,
    "unsupported-crs",
    "crs parameter 'EPSG:3857' is not offered for output; use one of CRS84, EPSG:25832, EPSG:25833",
    "/api/v1/municipalities",
    summary="The output CRS is not offered",
)
NOT_YOUR_MUNICIPALITY = problem(
    403,
    "forbidden",
    "the key 'Gol planavdeling' (planner, 3324) may not submit for 3326",
    "/api/v1/proposals",
    summary="The key is scoped to another municipality",
)

# Upload errors (proposals, plans and the quick check).
UPLOAD_NOT_JSON = problem(
    400,
    "malformed-input",
    "body is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2",
    "/api/v1/proposals",
    summary="The body is not valid JSON",
)
UPLOAD_TOO_LARGE = problem(
    413,
    "payload-too-large",
    "body is 31457280 bytes; the limit is 20971520 bytes",
    "/api/v1/proposals",
    summary="The body, feature count or vertex count is over the limit",
)
UPLOAD_MEDIA_TYPE = problem(
    415,
    "unsupported-media-type",
    "content type 'image/png' is not supported; send the plan file as the raw body (GeoJSON, "
    "Plan-GML, SOSI, GeoPackage or zipped Shapefile) or as the 'file' field of a "
    "multipart/form-data form",
    "/api/v1/proposals",
    summary="Unsupported content type",
)
UPLOAD_FORMAT = problem(
    415,
    "unsupported-format",
    "the upload is in no format Arealsjekk reads; send GeoJSON (.geojson), Plan-GML 5.0 "
    "(.gml), SOSI (.sos), GeoPackage (.gpkg) or a zipped Shapefile (.zip)",
    "/api/v1/proposals",
    summary="Unsupported file format",
)
UPLOAD_INVALID = problem(
    422,
    "invalid-input",
    "feature 0 (id 'BFR10'): lies outside Buskerud: a vertex is 205793 m beyond the county "
    "boundary (tolerance 200 m); check the CRS and coordinates (and 1 more problem)",
    "/api/v1/proposals",
    [
        {
            "message": "lies outside Buskerud: a vertex is 205793 m beyond the county boundary "
            "(tolerance 200 m); check the CRS and coordinates",
            "feature": 0,
            "feature_id": "BFR10",
        },
        {
            "message": "is a hensynssone without a zone code",
            "feature": 1,
            "feature_id": "H570_1",
            "field": "hensynssone",
        },
    ],
    summary="The content breaks a rule; `problems` names each feature (nothing is stored)",
)
UPLOAD_PROBLEMS = (
    UPLOAD_NOT_JSON,
    UPLOAD_TOO_LARGE,
    UPLOAD_MEDIA_TYPE,
    UPLOAD_FORMAT,
    UPLOAD_INVALID,
)

# Problems the document adds to every operation of a kind (see app.openapi).
MISSING_KEY = problem(
    401,
    "unauthorized",
    "this endpoint needs an API key: send 'Authorization: Bearer <key>'",
    summary="No API key was sent",
)
INVALID_KEY = problem(
    401,
    "unauthorized",
    "the API key is not valid (unknown or revoked)",
    summary="The API key is unknown, revoked or malformed",
)
IDEMPOTENCY_CONFLICT = problem(
    409,
    "idempotency",
    "this Idempotency-Key was used for a different request; use a new key for a new request",
    summary="The Idempotency-Key was used for another request, or that request is still "
    "being processed",
)

NO_MUNICIPALITY = problem(
    404,
    "not-found",
    "no Buskerud municipality has kommunenummer '3399'",
    "/api/v1/municipalities/3399",
    summary="No Buskerud municipality has this kommunenummer",
)
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
RASTER_HAS_NO_ITEMS = problem(
    422,
    "invalid-input",
    "layer 'tree_line' is a raster layer and has no items; see its versions instead",
    "/api/v1/layers/tree_line/items",
    summary="A raster layer has no items",
)
BAD_BBOX = problem(
    422,
    "invalid-input",
    "bbox '9.8,59.6,9.5,59.8': the lower corner comes first (minx <= maxx, miny <= maxy)",
    "/api/v1/layers/mineral_deposits/items",
    [{"message": "min greater than max", "field": "bbox"}],
    summary="The bbox is malformed",
)
LAYER_FILE_INVALID = problem(
    422,
    "invalid-layer-file",
    "grus_pukk.gpkg: layer 'mineral_deposits' needs attribute 'importance' (betydning (NGU's "
    "assessment)); looked for ['importance', 'betydning', 'rastoffBetydning', 'importance'], "
    "the file has ['forekomstnavn', 'objId']; map it with --attr-map importance=COLUMN",
    "/api/v1/layers/mineral_deposits/versions",
    summary="The file cannot be loaded as this layer",
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
NO_COLLECTION = problem(
    404,
    "not-found",
    "no collection 'skoggrense'; see /ogcapi/collections",
    "/ogcapi/collections/skoggrense",
    summary="No such collection",
)
NO_ITEM = problem(
    404,
    "not-found",
    "collection 'municipalities' has no feature '9999'",
    "/ogcapi/collections/municipalities/items/9999",
    summary="No such feature in the collection",
)
OGC_BAD_CRS = problem(
    400,
    "bad-request",
    "crs 'EPSG:32632' is not supported; use one of "
    f"{CRS84_URI}, {_EPSG}4326, {_EPSG}25832, {_EPSG}25833, {_EPSG}3857",
    "/ogcapi/collections/mineral_deposits/items",
    [{"message": "unsupported CRS", "field": "crs"}],
    summary="The CRS is not offered",
)
OGC_BAD_FORMAT = problem(
    400,
    "bad-request",
    "f 'html' is not offered here; use json",
    "/ogcapi",
    [{"message": "unsupported format", "field": "f"}],
    summary="An unknown query parameter or format",
)
OGC_UNKNOWN_PARAMETER = problem(
    400,
    "bad-request",
    "unknown query parameter(s) lang; this resource takes f",
    "/ogcapi/collections",
    [{"message": "unknown parameter", "field": "lang"}],
    summary="An unknown query parameter or format",
)

CHECK_REQUEST_EXAMPLES = {
    "current": {"summary": "The current version of every layer (the default)", "value": {}},
    "pinned": {
        "summary": "Re-run against pinned layer versions, to reproduce an earlier check",
        "value": CHECK_REQUEST,
    },
}
