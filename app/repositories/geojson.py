"""Building GeoJSON from rows whose geometry PostGIS has already serialised."""

from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, cast, func
from sqlalchemy.dialects.postgresql import JSON

from spatial.crs import CANONICAL_SRID, CRS84_URI


def geometry_json(column: Any, srid: int) -> ColumnElement[Any]:
    """Return ST_AsGeoJSON of a geometry column transformed to `srid`, as JSON."""
    # ~1 cm precision either way: 7 decimals of a degree, 2 decimals of a metre.
    digits = 7 if srid == 4326 else 2
    # options=0: no per-geometry "crs" member; the collection names the CRS once.
    return cast(func.ST_AsGeoJSON(func.ST_Transform(column, srid), digits, 0), JSON)


def area_condition(geom: Any, area: BaseGeometry) -> ColumnElement[bool]:
    """Rows whose geometry meets an area given in the storage CRS (uses the GiST index)."""
    return func.ST_Intersects(geom, from_shape(area, srid=CANONICAL_SRID))


def feature_collection(
    features: list[dict[str, Any]], crs_label: str, **members: Any
) -> dict[str, Any]:
    """Wrap features in a FeatureCollection; a non-CRS84 output names its CRS."""
    collection: dict[str, Any] = {"type": "FeatureCollection", **members, "features": features}
    if crs_label != "CRS84":
        # RFC 7946 §4 allows other CRSs only by prior arrangement; the request's `crs`
        # parameter is that arrangement, and the 2008-style member says which one.
        collection["crs"] = {"type": "name", "properties": {"name": crs_uri(crs_label)}}
    return collection


def crs_uri(crs_label: str) -> str:
    """Return the OGC URI of an output CRS label such as 'EPSG:25833'."""
    if crs_label == "CRS84":
        return CRS84_URI
    return f"http://www.opengis.net/def/crs/EPSG/0/{crs_label.split(':')[1]}"


def content_crs_header(crs_label: str) -> dict[str, str]:
    """Return the Content-Crs header of OGC API Features Part 2 for an output CRS."""
    return {"Content-Crs": f"<{crs_uri(crs_label)}>"}
