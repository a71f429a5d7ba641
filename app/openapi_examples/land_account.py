"""Examples of the land account (arealregnskap): an account, the county summary, reserves."""

from typing import Any

from app.openapi_examples.common import problem

NO_LAND_ACCOUNT = problem(
    404,
    "not-found",
    "no land account for municipality 3326; run 'arealsjekk land-account --kommune 3326'",
    "/api/v1/land-account/3326",
    summary="No account computed yet (or none on or before the date)",
)

BAD_DATE = problem(
    422,
    "invalid-parameter",
    "query.date: Input should be a valid date or datetime, input is too short",
    "/api/v1/land-account/3328",
    [
        {
            "message": "Input should be a valid date or datetime, input is too short",
            "field": "query.date",
        }
    ],
    summary="`date` is not a date (YYYY-MM-DD)",
)

LAND_ACCOUNT_QUEUED: dict[str, Any] = {
    "job_id": 42,
    "kommunenummer": "3326",
    "links": [{"href": "/api/v1/land-account/3326", "rel": "result", "type": "application/json"}],
}

# From the demo data (`arealsjekk demo-data`, then `arealsjekk land-account`), shortened:
# two of the arealformål groups, one year of the trend, one reserve with a coarse outline.
LAND_ACCOUNT: dict[str, Any] = {
    "id": 19,
    "kommunenummer": "3328",
    "municipality": "Ål",
    "computed_at": "2026-12-07T06:20:36.519272Z",
    "trigger": "cli",
    "method": {
        "id": "arealregnskap-2026",
        "version": "2026.1",
        "checksum": "550864c2ecba8d5d08150ab757372916d4637fee90bc9454473554e335db4556",
    },
    "rule_set": {
        "id": "buskerudplanen-2026",
        "version": "2026.1",
        "checksum": "3631c14669cd8dc2b5343b76b20e3d5456f0ff3d93b89a0efa39a9acd70f3872",
    },
    "layer_versions": {
        "buildings": 1,
        "elevation": 1,
        "tree_line": 1,
        "intact_nature": 1,
        "villrein_areas": 1,
        "mineral_deposits": 1,
        "recreation_areas": 1,
        "heritage_protected": 1,
        "villrein_corridors": 1,
        "existing_kommuneplan": 1,
        "cultural_environments": 1,
        "state_recreation_areas": 1,
        "municipal_heritage_plans": 1,
    },
    "totals": {
        "area_m2": 2685530.2,
        "by_rule": {
            "G1": {
                "title": "Nye fritidsboligområder over skoggrensen",
                "paragraph": "Buskerudplanen 2026 §6.2.4, regional planretningslinje 1",
                "unknown_m2": 0.0,
                "warning_m2": 1494934.9,
                "conflict_m2": 917928.7,
                "conflict_share_pct": 34.32,
                "reserves_in_conflict": 1,
            },
            "G2": {
                "title": "Fritidsboligområder skal skjerme friluftsområder og "
                "større sammenhengende natur",
                "paragraph": "Buskerudplanen 2026 §6.2.4, regional planretningslinje 2",
                "unknown_m2": 0.0,
                "warning_m2": 2529881.6,
                "conflict_m2": 0.0,
                "conflict_share_pct": 0.0,
                "reserves_in_conflict": 0,
            },
            "G3": {
                "title": "Mineralressurser av nasjonal og regional betydning skal sikres",
                "paragraph": "Buskerudplanen 2026 §6.2.5, regional planretningslinje",
                "unknown_m2": 0.0,
                "warning_m2": 0.0,
                "conflict_m2": 0.0,
                "conflict_share_pct": 0.0,
                "reserves_in_conflict": 0,
            },
            "G4": {
                "title": "Kulturminner, kulturmiljøer og kulturlandskap skal sikres og hensyntas",
                "paragraph": "Buskerudplanen 2026 §6.2.2, regionale planretningslinjer 1 og 2",
                "unknown_m2": 0.0,
                "warning_m2": 0.0,
                "conflict_m2": 0.0,
                "conflict_share_pct": 0.0,
                "reserves_in_conflict": 0,
            },
        },
        "built_m2": 10874.9,
        "by_group": {
            "fritid": {
                "label": "Fritidsbebyggelse",
                "rules": {
                    "G1": {"unknown_m2": 0.0, "warning_m2": 1494934.9, "conflict_m2": 917928.7},
                    "G2": {"unknown_m2": 0.0, "warning_m2": 2529881.6, "conflict_m2": 0.0},
                    "G3": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                    "G4": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                },
                "area_m2": 2530822.6,
                "built_m2": 941.0,
                "reserve_m2": 2529881.6,
                "conflict_m2": 917928.7,
                "reserve_count": 2,
                "conflict_share_pct": 36.28,
                "reserves_in_conflict": 1,
            },
            "bolig": {
                "label": "Bolig",
                "rules": {
                    "G1": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                    "G2": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                    "G3": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                    "G4": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                },
                "area_m2": 154707.7,
                "built_m2": 9933.9,
                "reserve_m2": 144773.8,
                "conflict_m2": 0.0,
                "reserve_count": 1,
                "conflict_share_pct": 0.0,
                "reserves_in_conflict": 0,
            },
        },
        "reserve_m2": 2674655.4,
        "conflict_m2": 917928.7,
        "reserve_count": 3,
        "cabin_capacity": {
            "lots": 2100,
            "areas": 6,
            "area_m2": 4261841.2,
            "buildings": 184,
            "by_status": {
                "1": {"lots": 836, "area_m2": 1731018.6, "unbuilt_m2": 1677669.3},
                "2": {"lots": 1264, "area_m2": 2530822.6, "unbuilt_m2": 2529881.6},
            },
            "unbuilt_m2": 4207551.0,
            "lot_size_m2": 1000.0,
            "unbuilt_share_pct": 98.73,
        },
        "conflict_share_pct": 34.32,
        "reserves_in_conflict": 1,
    },
    "notes": [],
    "trend": [
        {
            "kommunenummer": "3328",
            "year": 2026,
            "account_id": 19,
            "computed_at": "2026-12-07T06:20:36.519272Z",
            "reserve_m2": 2674655.4,
            "conflict_m2": 917928.7,
            "conflict_share_pct": 34.32,
            "reserves_in_conflict": 1,
        }
    ],
    "links": [
        {"href": "/api/v1/land-account/3328", "rel": "self", "type": "application/json"},
        {
            "href": "/api/v1/land-account/3328/reserves",
            "rel": "reserves",
            "type": "application/geo+json",
        },
        {"href": "/api/v1/land-account/3328/planvask.html", "rel": "planvask", "type": "text/html"},
        {
            "href": "/api/v1/land-account/3328/planvask.pdf",
            "rel": "planvask",
            "type": "application/pdf",
        },
        {
            "href": "/api/v1/land-account/3328/planvask.geojson",
            "rel": "planvask",
            "type": "application/geo+json",
        },
        {"href": "/api/v1/land-account/3328.csv", "rel": "alternate", "type": "text/csv"},
        {
            "href": "/api/v1/land-account/3328.xlsx",
            "rel": "alternate",
            "type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
        {"href": "/api/v1/land-account", "rel": "collection", "type": "application/json"},
        {"href": "/arealregnskap?kommune=3328", "rel": "alternate", "type": "text/html"},
    ],
}
LAND_ACCOUNT_SUMMARY: dict[str, Any] = {
    "on": None,
    "municipalities": [
        {
            "kommunenummer": "3328",
            "municipality": "Ål",
            "account_id": 19,
            "computed_at": "2026-12-07T06:20:36.519272Z",
            "area_m2": 2685530.2,
            "built_m2": 10874.9,
            "reserve_m2": 2674655.4,
            "reserve_count": 3,
            "conflict_m2": 917928.7,
            "reserves_in_conflict": 1,
            "conflict_share_pct": 34.32,
            "cabin_lots": 2100,
            "by_rule": {"G1": 917928.7, "G2": 0.0, "G3": 0.0, "G4": 0.0},
            "href": "/api/v1/land-account/3328",
        }
    ],
    "county": {
        "area_m2": 10904755.6,
        "built_m2": 111486.3,
        "reserve_m2": 10793269.5,
        "conflict_m2": 2824563.2,
        "reserve_count": 18,
        "reserves_in_conflict": 5,
        "cabin_lots": 19446,
        "conflict_share_pct": 26.17,
    },
    "indicator": [
        {
            "kommunenummer": "3328",
            "year": 2026,
            "account_id": 19,
            "computed_at": "2026-12-07T06:20:36.519272Z",
            "reserve_m2": 2674655.4,
            "conflict_m2": 917928.7,
            "conflict_share_pct": 34.32,
            "reserves_in_conflict": 1,
        }
    ],
    "links": [
        {"href": "/api/v1/land-account", "rel": "self", "type": "application/json"},
        {"href": "/arealregnskap", "rel": "alternate", "type": "text/html"},
        {"href": "/api/v1/land-account.csv", "rel": "alternate", "type": "text/csv"},
        {
            "href": "/api/v1/land-account.xlsx",
            "rel": "alternate",
            "type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    ],
}
LAND_ACCOUNT_RESERVES: dict[str, Any] = {
    "type": "FeatureCollection",
    "account_id": 19,
    "kommunenummer": "3328",
    "computed_at": "2026-12-07T06:20:36.519272+00:00",
    "features": [
        {
            "type": "Feature",
            "id": 0,
            "properties": {
                "name": "Fritidsbebyggelse, KPA2020 (existing_kommuneplan.26)",
                "planidentifikasjon": "KPA2020",
                "arealformal": 1120,
                "arealformal_name": "Fritidsbebyggelse",
                "arealbruksstatus": 2,
                "purpose_group": "fritid",
                "area_m2": 1034946.7,
                "built_m2": 0.0,
                "reserve_m2": 1034946.7,
                "building_count": 0,
                "lots": 517,
                "conflict_m2": 917928.7,
                "conflict_share_pct": 88.69,
                "conflicts": {
                    "G1": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 917928.7},
                    "G2": {"unknown_m2": 0.0, "warning_m2": 1034946.7, "conflict_m2": 0.0},
                    "G3": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                    "G4": {"unknown_m2": 0.0, "warning_m2": 0.0, "conflict_m2": 0.0},
                },
                "source_key": "existing_kommuneplan.26",
            },
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [
                        [
                            [8.5098215, 60.5382089],
                            [8.5011391, 60.5367872],
                            [8.4896211, 60.5373214],
                            [8.4838962, 60.5383993],
                            [8.4812394, 60.5409411],
                            [8.4861787, 60.5430779],
                            [8.4966713, 60.5434245],
                            [8.5071236, 60.5425857],
                            [8.5119071, 60.5412335],
                            [8.5111653, 60.5385149],
                            [8.5098215, 60.5382089],
                        ]
                    ]
                ],
            },
        }
    ],
}

# The CSV exports (app.land_account_export): `;`-separated, decimal comma, UTF-8 with BOM.
LAND_ACCOUNT_COUNTY_CSV = (
    "\ufeffKommunenummer;Kommune;Beregnet;Framtidige utbyggingsområder (m²);Bebygd (m²);"
    "Arealreserve (m²);Antall reserver;Reserve i konflikt (m²);Reserver i konflikt;"
    "Andel i konflikt (%);Mulige hyttetomter;G1 i konflikt (m²);G2 i konflikt (m²);"
    "G3 i konflikt (m²);G4 i konflikt (m²)\r\n"
    "3328;Ål;2026-12-07 07:13;2685530,2;11144,2;2674386,0;3;917927,4;1;34,32;2100;"
    "917927,4;0,0;0,0;0,0\r\n"
)
LAND_ACCOUNT_CSV = (
    "\ufeffNr.;Navn;Planidentifikasjon;Arealformål (kode);Arealformål;Formålsgruppe;"
    "Arealbruksstatus;Areal (m²);Bebygd (m²);Arealreserve (m²);Bygninger;Mulige hyttetomter;"
    "I konflikt (m²);Andel i konflikt (%);G1 konflikt (m²);G1 advarsel (m²);G2 konflikt (m²);"
    "G2 advarsel (m²);G3 konflikt (m²);G3 advarsel (m²);G4 konflikt (m²);G4 advarsel (m²)\r\n"
    "26;Storefjell;KPA2020;1120;Fritidsbebyggelse;Fritidsbebyggelse;Framtidig;1034946,7;1,8;"
    "1034944,9;0;517;917927,4;88,69;917927,4;0,0;0,0;1034944,9;0,0;0,0;0,0;0,0\r\n"
)

# The planvask (app.reports.planvask): the report's head, and one reserve of its GeoJSON.
PLANVASK_HTML = (
    '<!doctype html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
    "<title>Planvask for Ål kommune – arealregnskap 07.12.2026</title>\n…"
)
PLANVASK_GEOJSON: dict[str, Any] = {
    "type": "FeatureCollection",
    "account_id": 13,
    "kommunenummer": "3328",
    "computed_at": "2026-12-07T07:13:05.120000+00:00",
    "features": [
        {
            "type": "Feature",
            "id": 1,
            "properties": {
                "rank": 1,
                "severity": "conflict",
                "severity_label": "Konflikt",
                "name": "Storefjell",
                "planidentifikasjon": "KPA2020",
                "arealformal": 1120,
                "arealformal_name": "Fritidsbebyggelse",
                "arealbruksstatus": 2,
                "arealbruksstatus_name": "Framtidig",
                "purpose_group": "fritid",
                "purpose_group_label": "Fritidsbebyggelse",
                "area_m2": 1034946.7,
                "built_m2": 1.8,
                "reserve_m2": 1034944.9,
                "building_count": 0,
                "lots": 517,
                "conflict_m2": 917927.4,
                "conflict_share_pct": 88.69,
                "weight_m2": 917927.4,
                "guidelines": "G1, G2",
                "g1_conflict_m2": 917927.4,
                "g1_conflict_share_pct": 88.69,
                "g1_warning_m2": 0.0,
                "g1_warning_share_pct": 0.0,
                "g1_unknown_m2": 0.0,
                "g2_conflict_m2": 0.0,
                "g2_conflict_share_pct": 0.0,
                "g2_warning_m2": 1034944.9,
                "g2_warning_share_pct": 100.0,
                "g2_unknown_m2": 0.0,
                "paragraphs": "G1: Fritidsbebyggelse over skoggrensen (Buskerudplanen 2026 "
                "§6.2.4, regional planretningslinje 1)\nG2: Natur og friluftsliv (Buskerudplanen "
                "2026 §6.2.4, regional planretningslinje 2)",
                "actions": "G1: Ta delen over skoggrensen ut av kommuneplanen ved neste "
                "rullering (tilbake til LNFR), eller trekk grensen ned under skoggrensen.\n"
                "G2: Avgrens eller ta ut reserven slik at friluftsområdet, villreinområdet eller "
                "den inngrepsfrie naturen ikke bygges ned; vurder å omdisponere til LNFR.",
                "messages": "G1: Storefjell (1120): 917 927 m² (88,7 %) av det nye området "
                "ligger over skoggrensen …",
                "finding_actions": "G1: Trekk grensen for fritidsbebyggelsen ned under "
                "skoggrensen eller ta området ut av planen …",
                "source_key": "existing_kommuneplan.26",
            },
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[8.0512, 60.6301], [8.0701, 60.6301], [8.0701, 60.6392], [8.0512, 60.6301]]]
                ],
            },
        }
    ],
}
