"""Examples of proposals and their versions."""

from typing import Any

from app.openapi_examples.common import GEOJSON, link
from app.openapi_examples.uploads import PROPOSAL_ID
from spatial.inputs.examples import PLAN

UPLOADED_AT = "2026-03-12T09:14:03.512Z"

UPLOADED_AT_V2 = "2026-04-16T13:40:11.208Z"

PUBLISHED_AT = "2026-04-17T08:02:45.930Z"

SHA_V1 = "e4c0b2db96c548ff3e5b82e16f194250a2b0fe7312cecd953c86b94464d561f6"

SHA_V2 = "9b0d6b8f3a1c54e7d2f6a08c1e97b4a35d2c8e0f16a7b9c3d4e5f60718293a4b"


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
            link(base, "self"),
            link(f"{base}/features", "items", GEOJSON),
            link(f"/api/v1/proposals/{PROPOSAL_ID}", "collection"),
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
    "saksnummer": "2026/1234",
    "journalpostId": "2026/1234-5",
}

IDENTICAL_UPLOAD: dict[str, Any] = {
    **VERSION,
    "identical_to_version": 1,
    "note": "Innholdet er byte for byte likt versjon 1; ingen ny versjon ble laget. Send "
    "if_identical=new_version for å lagre det som en ny versjon likevel.",
}

PROPOSAL_SUMMARY: dict[str, Any] = {
    "id": PROPOSAL_ID,
    **PLAN,
    "latest_version": 2,
    "published_at": None,
    "created_at": UPLOADED_AT,
    "updated_at": UPLOADED_AT_V2,
    "links": [link(f"/api/v1/proposals/{PROPOSAL_ID}", "self")],
}

PROPOSAL: dict[str, Any] = {**PROPOSAL_SUMMARY, "versions": [VERSION_1, VERSION_2]}

PROPOSAL_PUBLISHED: dict[str, Any] = {**PROPOSAL, "published_at": PUBLISHED_AT}

PROPOSAL_PAGE: dict[str, Any] = {
    "items": [PROPOSAL_SUMMARY],
    "total": 1,
    "limit": 20,
    "offset": 0,
    "links": [link("/api/v1/proposals?limit=20&offset=0&kommunenummer=3326", "self")],
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
                "lokal_id": None,
                "key": "BFR10 Storeli øvre",
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
                "lokal_id": None,
                "key": "H570_1",
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
