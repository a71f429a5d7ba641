"""The OpenAPI 3.0 document of /ogcapi: the landing page's service-desc (Core /req/oas30).

The service's own document (/api/v1/openapi.json) is OpenAPI 3.1 and describes items as any
object; this one names every collection's path, so that its items are GeoJSON features with
that collection's properties and geometry type (as pygeoapi and ldproxy describe theirs).
"""

from typing import Any

from app import __version__
from app.ogcapi import ITEMS_PARAMETERS
from app.ogcapi.cql2 import LANGUAGES
from app.ogcapi.queryables import FeatureSchema, geojson_feature_openapi

MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
HTML = "text/html"

_LINK = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "hreflang": {"type": "string"},
        "title": {"type": "string"},
        "length": {"type": "integer"},
    },
}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
_PROBLEM = {
    "type": "object",
    "description": "RFC 7807 problem details (bokmål, or English with Accept-Language: en)",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object"}},
    },
}
_COLLECTION = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "links": _LINKS,
        "extent": {
            "type": "object",
            "properties": {
                "spatial": {
                    "type": "object",
                    "properties": {
                        "bbox": {
                            "type": "array",
                            "items": {"type": "array", "items": {"type": "number"}},
                        },
                        "crs": {"type": "string"},
                    },
                }
            },
        },
        "itemType": {"type": "string"},
        "crs": {"type": "array", "items": {"type": "string"}},
        "storageCrs": {"type": "string"},
        "attribution": {"type": "string"},
        "license": {"type": "string"},
    },
}


def _json(schema: dict[str, Any], description: str, media_type: str = "application/json") -> dict:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _with_html(response: dict[str, Any]) -> dict[str, Any]:
    response["content"][HTML] = {"schema": {"type": "string"}}
    return response


def _parameters(crs_uris: list[str], max_limit: int, default_limit: int) -> dict[str, Any]:
    def query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict:
        return {"name": name, "in": "query", "required": False, "description": description} | {
            "schema": schema,
            **extra,
        }

    crs_schema = {"type": "string", "enum": crs_uris}
    return {
        "f": query(
            "f", "format: json, or html for browsers", {"type": "string", "enum": ["json", "html"]}
        ),
        "bbox": query(
            "bbox",
            "minx,miny,maxx,maxy in bbox-crs",
            {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
            style="form",
            explode=False,
        ),
        "bbox-crs": query("bbox-crs", "CRS of bbox (default CRS84)", crs_schema),
        "crs": query("crs", "CRS of the output coordinates (default CRS84)", crs_schema),
        "limit": query(
            "limit",
            f"items per page (larger than {max_limit} is capped)",
            {"type": "integer", "minimum": 1, "default": default_limit},
        ),
        "offset": query("offset", "items to skip", {"type": "integer", "minimum": 0, "default": 0}),
        "datetime": query(
            "datetime",
            "an RFC 3339 instant or interval; no collection has a temporal extent",
            {"type": "string"},
        ),
        "filter": query(
            "filter", "a CQL2 filter over the collection's queryables", {"type": "string"}
        ),
        "filter-lang": query(
            "filter-lang",
            "language of filter",
            {"type": "string", "enum": list(LANGUAGES), "default": LANGUAGES[0]},
        ),
        "filter-crs": query(
            "filter-crs", "CRS of the filter's geometries (default CRS84)", crs_schema
        ),
        "sortby": query(
            "sortby",
            "property names to sort by, - before a name for descending",
            {"type": "array", "items": {"type": "string"}},
            style="form",
            explode=False,
        ),
        "properties": query(
            "properties",
            "property names to return",
            {"type": "array", "items": {"type": "string"}},
            style="form",
            explode=False,
        ),
    }


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(status): _ref("responses", f"Problem{status}") for status in statuses}


def _collection_paths(collection_id: str, title: str) -> dict[str, Any]:
    path = f"/collections/{collection_id}"
    items_parameters = [_ref("parameters", name) for name in (*ITEMS_PARAMETERS, "f")]
    schema_response = _json({"type": "object"}, "JSON Schema", SCHEMA_JSON)
    return {
        f"{path}/items": {
            "get": {
                "tags": [collection_id],
                "summary": f"Features of {title}",
                "operationId": f"getItems.{collection_id}",
                "parameters": items_parameters,
                "responses": {
                    "200": _with_html(
                        _json(
                            _ref("schemas", f"{collection_id}.FeatureCollection"),
                            "a page of the collection's features",
                            GEOJSON,
                        )
                    ),
                    **_problems(400, 404),
                },
            }
        },
        f"{path}/items/{{featureId}}": {
            "get": {
                "tags": [collection_id],
                "summary": f"One feature of {title}",
                "operationId": f"getItem.{collection_id}",
                "parameters": [
                    {
                        "name": "featureId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    _ref("parameters", "crs"),
                    _ref("parameters", "properties"),
                    _ref("parameters", "f"),
                ],
                "responses": {
                    "200": _with_html(
                        _json(_ref("schemas", f"{collection_id}.Feature"), "the feature", GEOJSON)
                    ),
                    **_problems(400, 404),
                },
            }
        },
        f"{path}/queryables": {
            "get": {
                "tags": [collection_id],
                "summary": f"Queryables of {title}",
                "operationId": f"getQueryables.{collection_id}",
                "parameters": [_ref("parameters", "f")],
                "responses": {"200": _with_html(schema_response), **_problems(400)},
            }
        },
        f"{path}/sortables": {
            "get": {
                "tags": [collection_id],
                "summary": f"Sortables of {title}",
                "operationId": f"getSortables.{collection_id}",
                "responses": {"200": _json({"type": "object"}, "JSON Schema", SCHEMA_JSON)},
            }
        },
        f"{path}/geojson-schema": {
            "get": {
                "tags": [collection_id],
                "summary": f"JSON Schema of the GeoJSON features of {title}",
                "operationId": f"getGeoJSONSchema.{collection_id}",
                "responses": {"200": _json({"type": "object"}, "JSON Schema", SCHEMA_JSON)},
            }
        },
        f"{path}/schema": {
            "get": {
                "tags": [collection_id],
                "summary": f"Schema of the features of {title}",
                "operationId": f"getSchema.{collection_id}",
                "responses": {"200": _json({"type": "object"}, "JSON Schema", SCHEMA_JSON)},
            }
        },
    }


def _feature_collection(collection_id: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", f"{collection_id}.Feature")},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    }


def document(
    base: str,
    collections: list[tuple[str, str, FeatureSchema]],
    crs_uris: list[str],
    max_limit: int,
    default_limit: int,
) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the OGC API at `base`, for the given (id, title, schema)."""
    ids = [collection_id for collection_id, _, _ in collections]
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "tags": ["capabilities"],
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "parameters": [_ref("parameters", "f")],
                "responses": {
                    "200": _with_html(_json(_ref("schemas", "LandingPage"), "the landing page")),
                    **_problems(400),
                },
            }
        },
        "/api": {
            "get": {
                "tags": ["capabilities"],
                "summary": "This API definition",
                "operationId": "getApi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.0", MEDIA_TYPE)},
            }
        },
        "/conformance": {
            "get": {
                "tags": ["capabilities"],
                "summary": "Conformance classes",
                "operationId": "getConformance",
                "parameters": [_ref("parameters", "f")],
                "responses": {
                    "200": _with_html(_json(_ref("schemas", "ConfClasses"), "conformance classes")),
                    **_problems(400),
                },
            }
        },
        "/collections": {
            "get": {
                "tags": ["capabilities"],
                "summary": "Feature collections",
                "operationId": "getCollections",
                "parameters": [_ref("parameters", "f")],
                "responses": {
                    "200": _with_html(_json(_ref("schemas", "Collections"), "the collections")),
                    **_problems(400),
                },
            }
        },
        "/collections/{collectionId}": {
            "get": {
                "tags": ["capabilities"],
                "summary": "One feature collection",
                "operationId": "getCollection",
                "parameters": [
                    {
                        "name": "collectionId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ids},
                    },
                    _ref("parameters", "f"),
                ],
                "responses": {
                    "200": _with_html(_json(_ref("schemas", "Collection"), "the collection")),
                    **_problems(400, 404),
                },
            }
        },
    }
    schemas: dict[str, Any] = {
        "Link": _LINK,
        "LandingPage": {
            "type": "object",
            "required": ["links"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": _LINKS,
            },
        },
        "ConfClasses": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
        },
        "Collection": _COLLECTION,
        "Collections": {
            "type": "object",
            "required": ["links", "collections"],
            "properties": {
                "links": _LINKS,
                "collections": {"type": "array", "items": _ref("schemas", "Collection")},
            },
        },
        "Problem": _PROBLEM,
    }
    tags = [{"name": "capabilities", "description": "The service and its collections"}]
    for collection_id, title, schema in collections:
        paths.update(_collection_paths(collection_id, title))
        schemas[f"{collection_id}.Feature"] = geojson_feature_openapi(schema)
        schemas[f"{collection_id}.FeatureCollection"] = _feature_collection(collection_id)
        tags.append({"name": collection_id, "description": title})
    problem = {"application/problem+json": {"schema": _ref("schemas", "Problem")}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Arealsjekk – OGC API Features",
            "version": __version__,
            "description": "Buskerud's regional guideline layers, municipalities, plan "
            "proposals and the findings of their checks, as OGC API – Features collections.",
            "license": {"name": "Municipality boundaries © Kartverket, CC BY 4.0"},
        },
        "servers": [{"url": base}],
        "tags": tags,
        "paths": paths,
        "components": {
            "parameters": _parameters(crs_uris, max_limit, default_limit),
            "schemas": schemas,
            "responses": {
                "Problem400": {"description": "a parameter is invalid", "content": problem},
                "Problem404": {"description": "no such collection or feature", "content": problem},
            },
        },
    }
