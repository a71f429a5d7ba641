"""Examples of OGC API – Features answers and problems."""

from typing import Any

from app.openapi_examples.common import CRS84_URI, EPSG_URI, GEOJSON, HTML, JSON, problem
from app.openapi_examples.layers import DEPOSIT_GEOMETRY, DEPOSIT_PROPERTIES, LAYER
from app.openapi_examples.municipalities import MUNICIPALITY

_ROOT = "http://127.0.0.1:8000"

_OGC = f"{_ROOT}/ogcapi"


def _ogc_link(href: str, rel: str, media_type: str = JSON, title: str = "") -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


OGC_LANDING: dict[str, Any] = {
    "title": "Arealsjekk – OGC API Features",
    "description": "Buskerud's regional guideline layers, municipalities, plan proposals and "
    "the findings of their checks against Buskerudplanen.",
    "links": [
        _ogc_link(_OGC, "self", title="this document"),
        _ogc_link(f"{_OGC}?f=html", "alternate", HTML, "this document as HTML"),
        _ogc_link(
            f"{_OGC}/api",
            "service-desc",
            "application/vnd.oai.openapi+json;version=3.0",
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
    "crs": [
        CRS84_URI,
        f"{EPSG_URI}4326",
        f"{EPSG_URI}25832",
        f"{EPSG_URI}25833",
        f"{EPSG_URI}3857",
    ],
    "storageCrs": f"{EPSG_URI}25832",
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
            "geometry": DEPOSIT_GEOMETRY,
            "properties": DEPOSIT_PROPERTIES,
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
    f"{CRS84_URI}, {EPSG_URI}4326, {EPSG_URI}25832, {EPSG_URI}25833, {EPSG_URI}3857",
    "/ogcapi/collections/mineral_deposits/items",
    [{"message": "unsupported CRS", "field": "crs"}],
    summary="The CRS is not offered",
)

OGC_BAD_FORMAT = problem(
    400,
    "bad-request",
    "f 'xml' is not offered here; use json or html",
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
