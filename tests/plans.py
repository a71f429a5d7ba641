"""Builders for small plan proposals used across the tests."""

import copy
import json
from typing import Any

from shapely.geometry import box

# Inside Hemsedal (3326), well away from its boundary.
HEMSEDAL = (8.40, 60.86)
PLAN = {
    "kommunenummer": "3326",
    "planidentifikasjon": "2024001",
    "plantype": 20,
    "planstatus": 2,
    "plannavn": "Kommuneplanens arealdel Hemsedal",
}


def square(lon: float, lat: float, size: float = 0.005) -> dict[str, Any]:
    """A square GeoJSON polygon with its south-west corner at (lon, lat), in degrees."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: dict[str, Any] | None, fid: str | None = None, **properties: Any) -> dict:
    """A GeoJSON feature."""
    out: dict[str, Any] = {"type": "Feature", "properties": properties, "geometry": geometry}
    if fid is not None:
        out["id"] = fid
    return out


def cabin_area(fid: str = "BFR1", lon: float = HEMSEDAL[0], lat: float = HEMSEDAL[1]) -> dict:
    """A future cabin area (arealformål 1120, arealbruksstatus 2)."""
    return feature(square(lon, lat), fid, arealformal=1120, arealbruksstatus=2, feltnavn=fid)


# Kongsberg, EPSG:25832: where the WMS tests put housing over their mineral deposit.
HOUSING_BOUNDS = (540_200, 6_610_200, 540_800, 6_610_800)


def housing_area(
    bounds: tuple[float, float, float, float] = HOUSING_BOUNDS,
    fid: str = "B1",
    feltnavn: str | None = None,
) -> dict:
    """A future housing area (arealformål 1110, arealbruksstatus 2) over an EPSG:25832 box."""
    geometry = box(*bounds).__geo_interface__
    return feature(geometry, fid, arealformal=1110, arealbruksstatus=2, feltnavn=feltnavn or fid)


def collection(*features: dict, plan: dict | None = None, **members: Any) -> dict[str, Any]:
    """A FeatureCollection with a `plan` member (defaults to the Hemsedal plan)."""
    body: dict[str, Any] = {"type": "FeatureCollection", **members}
    body["plan"] = copy.deepcopy(PLAN if plan is None else plan)
    body["features"] = list(features)
    return body


def encode(body: Any) -> bytes:
    """Encode a body as UTF-8 JSON."""
    return json.dumps(body).encode("utf-8")
