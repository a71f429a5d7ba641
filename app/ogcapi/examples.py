"""Examples of the OGC API answers beyond Core: queryables, schema, OpenAPI, filter problems."""

from typing import Any

from app.openapi_examples.common import problem

_COLLECTION = "http://127.0.0.1:8000/ogcapi/collections/mineral_deposits"

QUERYABLES: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{_COLLECTION}/queryables",
    "type": "object",
    "title": "Mineralressurser (grus, pukk, industrimineraler, naturstein)",
    "properties": {
        "geometry": {"title": "geometri", "format": "geometry-multipolygon"},
        "name": {"title": "forekomstnavn", "type": "string"},
        "importance": {
            "title": "betydning (NGU's assessment)",
            "type": "string",
            "enum": [
                "internasjonal",
                "nasjonal",
                "regional",
                "lokal",
                "liten eller ingen",
                "ikke vurdert",
            ],
        },
        "source_fid": {"title": "objekt-id i kildedata", "type": "string"},
    },
    "additionalProperties": False,
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{_COLLECTION}/schema",
    "type": "object",
    "title": "Mineralressurser (grus, pukk, industrimineraler, naturstein)",
    "properties": {
        "id": {"title": "id", "type": "integer", "x-ogc-role": "id"},
        "geometry": {
            "title": "geometri",
            "format": "geometry-multipolygon",
            "x-ogc-role": "primary-geometry",
        },
        "name": {"title": "forekomstnavn", "type": "string", "x-ogc-propertySeq": 1},
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Arealsjekk – OGC API Features", "version": "0.1.0"},
    "paths": {"/collections/mineral_deposits/items": {"get": {"summary": "…"}}},
}

BAD_FILTER = problem(
    400,
    "bad-request",
    "filter is not valid cql2-text at position 12 (line 1): unexpected 'regional'",
    "/ogcapi/collections/mineral_deposits/items",
    [{"message": "invalid filter", "field": "filter"}],
    summary="A filter that is not CQL2, or names a property that is not a queryable",
)

UNKNOWN_SORT = problem(
    400,
    "bad-request",
    "sortby: 'size' are not properties of the collection; it has name, deposit_id, importance, "
    "resource_type, source_fid",
    "/ogcapi/collections/mineral_deposits/items",
    [{"message": "unknown property", "field": "sortby"}],
    summary="sortby or properties names a property the collection lacks",
)
