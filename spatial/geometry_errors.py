"""What is wrong with an invalid geometry, in words a planner reads, and where on the map.

GEOS explains an invalid geometry as "Reason[x y]" (shapely.is_valid_reason, the
IsValidOp messages of JTS/GEOS): the reason in English and the point in the geometry's
coordinates. Here the reason is put in bokmål and the point is given in the coordinates of
the planner's file and in CRS84 (longitude, latitude), for the map page to mark.
"""

import math
import re
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from spatial.crs import CRS84, CrsRef, transform_point
from spatial.messages import Text

# The TopologyValidationError messages of GEOS (IsValidOp), in bokmål.
REASONS_NB = {
    "topology validation error": "flaten har en topologifeil",
    "repeated point": "et punkt er gjentatt",
    "hole lies outside shell": "et hull ligger utenfor flatens yttergrense",
    "holes are nested": "et hull ligger inne i et annet hull",
    "interior is disconnected": "hullene deler flaten i atskilte deler",
    "self-intersection": "flaten krysser seg selv",
    "ring self-intersection": "en grense berører seg selv i ett punkt",
    "nested shells": "en delflate ligger inne i en annen delflate",
    "duplicate rings": "den samme grensen er gitt to ganger",
    "too few points in geometry component": "en grense har for få punkter (en flate trenger "
    "minst tre ulike hjørner)",
    "too few distinct points in geometry component": "en grense har for få ulike punkter (en "
    "flate trenger minst tre ulike hjørner)",
    "invalid coordinate": "en koordinat er ikke et gyldig tall",
    "ring is not closed": "en grense er ikke lukket (første og siste punkt er ulike)",
}
_EXPLANATION = re.compile(r"^\s*(?P<reason>[^\[\]]*?)\s*(?:\[(?P<point>[^\]]*)\])?\s*$")


@dataclass(frozen=True)
class Invalidity:
    """Why a geometry is invalid: GEOS's words (`en`), bokmål (`text`) and where."""

    en: str
    text: Text
    point: tuple[float, float] | None
    location: tuple[float, float] | None


def reason_nb(reason: str) -> str:
    """The bokmål of a GEOS validity reason (without its point); unknown ones are explained."""
    known = REASONS_NB.get(reason.strip().lower())
    return known if known is not None else f"geometrien er ugyldig (GEOS: «{reason.strip()}»)"


def explain_invalid(
    geometry: BaseGeometry, crs: CrsRef, shown_crs: CrsRef | None = None
) -> Invalidity:
    """Explain why `geometry` (in `crs`) is invalid; the point shown in `shown_crs`."""
    return parse_explanation(shapely.is_valid_reason(geometry), crs, shown_crs)


def parse_explanation(explanation: str, crs: CrsRef, shown_crs: CrsRef | None = None) -> Invalidity:
    """Read GEOS's "Reason[x y]" for a geometry in `crs`: the reason in bokmål with the point
    in `shown_crs` (the file's CRS; default `crs`), and the point in CRS84 for the map."""
    match = _EXPLANATION.match(explanation or "")
    reason = match.group("reason") if match else (explanation or "")
    point = _point(match.group("point")) if match and match.group("point") else None
    nb = reason_nb(reason)
    location = None
    if point is not None:
        shown_crs = shown_crs or crs
        shown = _transformed(point, crs, shown_crs)
        location = _transformed(point, crs, CRS84)
        if shown is not None:
            nb += f" ved {format_point(shown, shown_crs)}"
    return Invalidity(en=explanation, text=Text(nb, explanation), point=point, location=location)


def format_point(point: tuple[float, float], crs: CrsRef) -> str:
    """A point as a planner reads it: metres to the centimetre, degrees to 7 decimals."""
    if crs.is_geographic:
        return f"{point[0]:.7f} {point[1]:.7f}".replace(".", ",")
    return " ".join(_metres(value) for value in point)


def _metres(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _point(text: str) -> tuple[float, float] | None:
    values = text.split()
    if len(values) < 2:
        return None
    try:
        x, y = float(values[0]), float(values[1])
    except ValueError:
        return None
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


def _transformed(
    point: tuple[float, float], source: CrsRef, target: CrsRef
) -> tuple[float, float] | None:
    try:
        x, y = transform_point(point, source, target)
    except Exception:  # noqa: BLE001 - PROJ fails on points outside a CRS's area: no marker
        return None
    if target == CRS84 and not (abs(x) <= 180 and abs(y) <= 90):
        return None  # no place on the earth (a file in another CRS than it says); False for NaN
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None
