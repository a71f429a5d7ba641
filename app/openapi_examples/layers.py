"""Examples of guideline layers: metadata, versions, items, layer uploads and their problems."""

from typing import Any

from app.openapi_examples.common import GEOJSON, link, problem
from app.openapi_examples.uploads import file_body

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

LAYER_UPLOAD_BODY = file_body(
    "A layer file as the raw request body, or as the field `file` of a multipart/form-data "
    "form: vector layers as GeoJSON, GeoPackage, zipped Shapefile or GML, raster layers as "
    "GeoTIFF (send it as application/octet-stream or multipart, with `filename=….tif`). Any "
    "EPSG CRS. Attributes are found under their usual names (`navn`, `forekomstId`, "
    "`betydning`, `ressurstype` in the example); map others with `attr_map`, e.g. "
    "`importance=BETYDNING`.",
    LAYER_UPLOAD_GEOJSON,
    "GeoJSON, GeoPackage, zipped Shapefile, GML or GeoTIFF",
)

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
        link("/api/v1/layers/mineral_deposits/versions", "version-history"),
        link("/api/v1/layers/mineral_deposits/items?version=2", "items", GEOJSON),
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
            link("/api/v1/layers/mineral_deposits/versions", "version-history"),
            link("/api/v1/layers/mineral_deposits/items?version=1", "items", GEOJSON),
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
    "links": [link("/api/v1/layers/tree_line/versions", "version-history")],
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
        "name": {
            "description": "forekomstnavn",
            "type": "text",
            "allowed": None,
            "source_names": ["navnRastoffobj", "FOREKNAVN", "navnRastof", "forekomstnavn", "navn"],
            "values": {},
        },
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
            "source_names": ["rastoffBetydning", "RASTOFFBETYDNING", "rastoffBet", "betydning"],
            "values": {
                "Internasjonal betydning": "internasjonal",
                "Nasjonal betydning": "nasjonal",
                "Regional betydning": "regional",
                "Lokal betydning": "lokal",
                "Liten lokal betydning": "liten eller ingen",
                "Ikke vurdert": "ikke vurdert",
            },
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
        link("/api/v1/layers/mineral_deposits/versions", "version-history"),
        link("/api/v1/layers/mineral_deposits/items", "items", GEOJSON),
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
    "links": [link("/api/v1/layers/tree_line/versions", "version-history")],
}

DEPOSIT_GEOMETRY = {
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

DEPOSIT_PROPERTIES = {
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
            "properties": DEPOSIT_PROPERTIES,
            "geometry": DEPOSIT_GEOMETRY,
        }
    ],
}

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
