"""Where in a plan file something goes wrong, told the way a planner finds it: a point as
longitude/latitude for the map to mark, and the names (feltnavn, lokalId) of a feature."""

import math
from collections.abc import Mapping
from typing import Any

from pyproj.exceptions import CRSError, ProjError

from spatial.codelists import fold_name
from spatial.crs import CRS84, CrsRef, transform_point
from spatial.inputs.features import GeometryReadError
from spatial.messages import Text

# The attribute names a feature's name and id are read from (folded, see codelists.fold_name),
# as spatial.plan_input.ATTRIBUTE_ALIASES reads them for plan areas.
FELTNAVN_NAMES = ("feltnavn", "feltbetegnelse", "omradenavn")
LOKAL_ID_NAMES = ("lokalid",)


def lon_lat(point: tuple[float, float] | None, crs: CrsRef | None) -> tuple[float, float] | None:
    """Return a point given in `crs` (x = easting or longitude) as CRS84 (longitude,
    latitude); None when there is no point or CRS, or the point lies outside the CRS."""
    if point is None or crs is None:
        return None
    try:
        lon, lat = transform_point(point, crs, CRS84)
    except (ProjError, CRSError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        return None
    return lon, lat


def feature_names(properties: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Return a feature's feltnavn and lokalId from its attributes (None where it has none)."""
    feltnavn = lokal_id = None
    for key, value in properties.items():
        # Readers key a value by its leaf name, or by its dotted path where leaves share a name.
        name = fold_name(str(key).rsplit(".", 1)[-1])
        if isinstance(value, bool) or not isinstance(value, str | int):
            continue
        text = str(value).strip()[:200] or None
        if name in FELTNAVN_NAMES and feltnavn is None:
            feltnavn = text
        elif name in LOKAL_ID_NAMES and lokal_id is None:
            lokal_id = text
    return feltnavn, lokal_id


def within(part: Text | str, error: GeometryReadError) -> GeometryReadError:
    """Return the error with the part of the geometry it is in named first, keeping its point."""
    message = (
        error.message if isinstance(error.message, Text) else Text(error.message, error.message)
    )
    return GeometryReadError(part + ": " + message, error.point)
