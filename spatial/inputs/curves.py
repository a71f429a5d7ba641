"""Curve geometry of plan files: arcs and circles linearised, curve parts joined into rings.

Plan-GML (gml:Arc, gml:ArcString, gml:Circle, gml:ArcByCenterPoint, gml:CircleByCenterPoint,
gml:Ring of curve members) and SOSI (.BUEP, .SIRKELP, .FLATE bounded by .KURVE references)
describe areas by curves; both readers build their rings here.

An arc is drawn in a plane measured in metres (an `ArcFrame`): the file's own projected CRS,
or, for a geographic CRS, the canonical projection (the arc's defining points are projected,
the arc is linearised there and the new points are transformed back, so a reader still
returns the file's coordinates). The step is bounded by a maximum angle and by the distance
the polyline may stray from the arc, and the inner points are placed slightly outside the arc
so that the polyline encloses exactly the area of the arc (see `_area_radius`): every ring
made of lines and arcs then has the area of the exact curve, however few chords it gets.
"""

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from pyproj import CRS, Geod, Transformer
from pyproj.enums import TransformDirection
from pyproj.exceptions import ProjError

from spatial.crs import CrsRef, canonical_transformer
from spatial.inputs.features import GeometryReadError
from spatial.messages import Text, localize

Coord = tuple[float, float]

# No point of the polyline lies farther than this from the true arc. 5 cm is five times the
# centimetre resolution plan data are delivered in (SOSI ENHET 0.01) and well below the
# accuracy plan maps are drawn to.
ARC_MAX_DEVIATION_M = 0.05
# The angle one chord may span, whatever the radius: GDAL's default (OGR_ARC_STEPSIZE), so an
# arc keeps its shape when drawn at any scale.
ARC_MAX_ANGLE = math.radians(4.0)
# Points placed off the arc to keep its area stray up to 4/3 of the sagitta r(1 - cos(θ/2))
# (n = 2: (θ/sin θ - 1)·r ≈ θ²r/6 against θ²r/8); the step is chosen for a sagitta this much
# smaller than ARC_MAX_DEVIATION_M.
_SAGITTA_SHARE = 0.75
# An arc needing more chords than this has a radius far beyond the Earth's: a broken file.
# (The upload's vertex budget refuses most such arcs before this is reached.)
MAX_ARC_CHORDS = 200_000
# Metres per degree of latitude, to express the join tolerance in a geographic CRS.
_METRES_PER_DEGREE = 111_320.0
# Curve ends closer than this (in metres; scaled for degrees) are the same node.
JOIN_TOLERANCE_M = 0.001
# Offset (degrees) used to measure the local scale and grid rotation of the canonical
# projection at a geographic centre point.
_PROBE_DEGREES = 1e-5


class ArcFrame:
    """The plane arcs of one CRS are drawn in: the CRS itself if projected, else the canonical
    projection. Converts points between the CRS and the plane, in metres."""

    def __init__(self, crs: CrsRef | None):
        self.geographic = crs is not None and crs.is_geographic
        self._transformer: Transformer | None = None
        self._unit = 1.0
        if self.geographic:
            assert crs is not None
            self._transformer = canonical_transformer(crs)
            self._geod = Geod(ellps="GRS80")
        elif crs is not None and crs.epsg is not None:
            axes = CRS.from_epsg(crs.epsg).axis_info
            self._unit = axes[0].unit_conversion_factor if axes else 1.0

    @property
    def max_deviation(self) -> float:
        """ARC_MAX_DEVIATION_M in plane units."""
        return ARC_MAX_DEVIATION_M / self._unit

    def metres(self, length: float) -> float:
        """A length in metres (a gml:radius) in plane units."""
        return length / self._unit

    def to_plane(self, points: Sequence[Coord]) -> list[Coord]:
        """The points in the plane."""
        if self._transformer is None:
            return list(points)
        xs, ys = self._run(points, TransformDirection.FORWARD)
        return list(zip(xs.tolist(), ys.tolist(), strict=True))

    def from_plane(self, points: Sequence[Coord]) -> list[Coord]:
        """Plane points back in the CRS."""
        if self._transformer is None or not points:
            return list(points)
        xs, ys = self._run(points, TransformDirection.INVERSE)
        return list(zip(xs.tolist(), ys.tolist(), strict=True))

    def ground_at(self, point: Coord) -> tuple[float, float]:
        """At a CRS point: plane units per ground metre, and the angle (radians) of the CRS's
        x axis in the plane. (1, 0) for a projected CRS, whose lengths and angles are taken
        as given, as GDAL does."""
        if self._transformer is None:
            return 1.0, 0.0
        lon, lat = point
        east = (lon + _PROBE_DEGREES, lat)
        (x0, y0), (x1, y1) = self.to_plane([point, east])
        ground = self._geod.inv(lon, lat, east[0], east[1])[2]
        return math.hypot(x1 - x0, y1 - y0) / ground, math.atan2(y1 - y0, x1 - x0)

    def _run(self, points: Sequence[Coord], direction: TransformDirection):  # noqa: ANN202
        assert self._transformer is not None
        xy = np.asarray(points, dtype=float)
        try:
            xs, ys = self._transformer.transform(
                xy[:, 0], xy[:, 1], direction=direction, errcheck=True
            )
        except ProjError as exc:
            raise GeometryReadError(
                Text(
                    nb=f"en bue nær {_fmt(points[0])} kan ikke tegnes i kartprojeksjonen "
                    f"(feilmelding fra PROJ: {exc})",
                    en=f"an arc near {_fmt(points[0])} cannot be drawn in the projection: {exc}",
                ),
                points[0],
            ) from None
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise GeometryReadError(
                Text(
                    nb=f"en bue nær {_fmt(points[0])} ligger utenfor området kartprojeksjonen "
                    "dekker",
                    en=f"an arc near {_fmt(points[0])} lies outside the area the projection covers",
                ),
                points[0],
            )
        return xs, ys


@lru_cache(maxsize=32)
def arc_frame(crs: CrsRef | None) -> ArcFrame:
    """The (cached) plane arcs given in `crs` are drawn in; None: coordinates taken as metres."""
    return ArcFrame(crs)


def join_tolerance_for(geographic: bool) -> float:
    """Return JOIN_TOLERANCE_M in the CRS's units."""
    return JOIN_TOLERANCE_M / _METRES_PER_DEGREE if geographic else JOIN_TOLERANCE_M


def arc_points(
    start: Coord,
    middle: Coord,
    end: Coord,
    frame: ArcFrame,
    before_building: Callable[[int], None] | None = None,
) -> list[Coord]:
    """Linearise the arc from `start` through `middle` to `end` (start and end kept exactly).

    `before_building` is called with the number of points about to be made, before any is
    (to refuse an arc the upload's vertex budget cannot hold).
    """
    if _close(start, end, 0.0):
        raise GeometryReadError(
            Text(
                nb=f"en bue starter og slutter i samme punkt ({_fmt(start)}); da har den ingen "
                "bestemt form (en hel sirkel må angis som sirkel)",
                en=f"an arc starts and ends at the same point ({_fmt(start)}); it has no defined "
                "shape (a full circle must be given as a circle)",
            ),
            start,
        )
    if end < start:
        # Neighbouring areas give a shared arc in opposite directions: drawn one way, they
        # get the very same points, and no sliver between them.
        return arc_points(end, middle, start, frame, before_building)[::-1]
    p1, p2, p3 = frame.to_plane([start, middle, end])
    circle = _circle(p1, p2, p3)
    if circle is None:
        return [start, middle, end]
    cx, cy, radius, a_start, sweep = circle
    steps = chord_count(radius, abs(sweep), frame.max_deviation)
    inner = _inner_points((p1[0] + cx, p1[1] + cy), radius, a_start, sweep, steps, before_building)
    return [start, *frame.from_plane(inner), end]


def circle_points(
    a: Coord,
    b: Coord,
    c: Coord,
    frame: ArcFrame,
    before_building: Callable[[int], None] | None = None,
) -> list[Coord]:
    """Linearise the full circle through three points, starting and ending at `a`."""
    p1, p2, p3 = frame.to_plane([a, b, c])
    circle = _circle(p1, p2, p3)
    if circle is None:
        raise GeometryReadError(
            Text(
                nb=f"de tre punktene til en sirkel ligger på en rett linje (fra {_fmt(a)})",
                en=f"the three points of a circle lie on a line (from {_fmt(a)})",
            ),
            a,
        )
    cx, cy, radius, a_start, sweep = circle
    full = math.copysign(2 * math.pi, sweep)
    steps = chord_count(radius, 2 * math.pi, frame.max_deviation)
    inner = _inner_points((p1[0] + cx, p1[1] + cy), radius, a_start, full, steps, before_building)
    return [a, *frame.from_plane(inner), a]


def center_arc_points(
    center: Coord,
    radius_m: float,
    start_deg: float,
    end_deg: float | None,
    frame: ArcFrame,
    before_building: Callable[[int], None] | None = None,
) -> list[Coord]:
    """Linearise gml:ArcByCenterPoint (from `start_deg` to `end_deg`, counter-clockwise from
    the x axis, turning the way end - start does) or, with `end_deg` None,
    gml:CircleByCenterPoint (counter-clockwise from the x axis)."""
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise GeometryReadError(
            Text(
                nb=f"radiusen {radius_m:g} er ikke en positiv lengde",
                en=f"the radius {radius_m:g} is not a positive length",
            ),
            center,
        )
    sweep_deg = 360.0 if end_deg is None else end_deg - start_deg
    if not (0 < abs(sweep_deg) <= 360):
        raise GeometryReadError(
            Text(
                nb=f"buen fra {start_deg:g}° til {end_deg:g}° spenner over {abs(sweep_deg):g}°; "
                "den må spenne over mer enn 0° og høyst 360°",
                en=f"the arc from {start_deg:g}° to {end_deg:g}° spans {abs(sweep_deg):g}°; it "
                "must span more than 0° and at most 360°",
            ),
            center,
        )
    scale, x_axis = frame.ground_at(center)
    radius = frame.metres(radius_m) * scale if frame.geographic else frame.metres(radius_m)
    (cx, cy) = frame.to_plane([center])[0]
    a_start = math.radians(start_deg) + x_axis
    sweep = math.radians(sweep_deg)
    steps = chord_count(radius, abs(sweep), frame.max_deviation)
    inner = _inner_points((cx, cy), radius, a_start, sweep, steps, before_building)
    ends = [
        (cx + radius * math.cos(a_start), cy + radius * math.sin(a_start)),
        (cx + radius * math.cos(a_start + sweep), cy + radius * math.sin(a_start + sweep)),
    ]
    first, *middle, last = frame.from_plane([ends[0], *inner, ends[1]])
    if end_deg is None:
        last = first  # the ring closes exactly
    return [first, *middle, last]


def center_arc_point_count(radius_m: float, sweep_deg: float, frame: ArcFrame) -> int:
    """The points `center_arc_points` will make (estimated in ground metres); 0 if invalid."""
    if not (math.isfinite(radius_m) and radius_m > 0 and 0 < abs(sweep_deg) <= 360):
        return 0
    return 1 + chord_count(
        frame.metres(radius_m), math.radians(abs(sweep_deg)), frame.max_deviation
    )


def arc_point_count(points: Sequence[Coord], circle: bool, frame: ArcFrame) -> int:
    """The points linearising an arc string (or a circle) will make, without making them.

    0 for an arc that cannot be drawn: building it says why.
    """
    try:
        plane = frame.to_plane(points)
    except GeometryReadError:
        return 0
    total = 1
    for i in range(0, len(plane) - 2, 2):
        try:
            found = _circle(*plane[i : i + 3])
        except GeometryReadError:
            return 0
        if found is not None:
            sweep = 2 * math.pi if circle else abs(found[4])
            total += chord_count(found[2], sweep, frame.max_deviation)
    return total


def chord_count(radius: float, sweep: float, max_deviation: float) -> int:
    """Chords for an arc of `radius` and `sweep` (radians): at most ARC_MAX_ANGLE each, and
    no point farther than `max_deviation` from the arc; at least 2 (3 for a full circle)."""
    sagitta = _SAGITTA_SHARE * max_deviation
    angle = ARC_MAX_ANGLE
    if sagitta < radius:
        angle = min(angle, 2 * math.acos(1 - sagitta / radius))
    return max(3 if sweep >= 2 * math.pi else 2, math.ceil(sweep / angle - 1e-9))


def _inner_points(
    center: Coord,
    radius: float,
    a_start: float,
    sweep: float,
    steps: int,
    before_building: Callable[[int], None] | None,
) -> list[Coord]:
    """The steps - 1 points between an arc's ends, placed so the area is kept."""
    if before_building is not None:
        before_building(steps + 1)
    if steps > MAX_ARC_CHORDS:
        raise GeometryReadError(
            Text(
                nb=f"en bue med radius {radius:.6g} trenger {steps} korder, mer enn "
                f"{MAX_ARC_CHORDS}; ingen plan har en slik bue: sjekk koordinatene",
                en=f"an arc of radius {radius:.6g} needs {steps} chords, more than "
                f"{MAX_ARC_CHORDS}; no plan has such an arc: check the coordinates",
            )
        )
    outer = _area_radius(radius, abs(sweep), steps)
    angles = a_start + sweep * np.arange(1, steps) / steps
    xs = center[0] + outer * np.cos(angles)
    ys = center[1] + outer * np.sin(angles)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _area_radius(radius: float, sweep: float, steps: int) -> float:
    """The radius R for the inner points that makes the polyline enclose the arc's area.

    Seen from the centre, the polyline is a fan of triangles: two from the ends (radius r)
    to the first and last inner points (R), and steps - 2 between inner points. With
    θ = sweep/steps the fan's area is r R sin θ + (steps - 2) R² sin θ / 2, and the sector's
    is r² sweep / 2; equal when R = r·sweep / (sin θ + √(sin² θ + (steps - 2) sin θ·sweep)).
    The region between the arc's chord and the polyline then has the circular segment's area
    exactly, so any ring of lines and arcs keeps the area of its exact curve.
    """
    theta = sweep / steps
    s = math.sin(theta)
    return radius * sweep / (s + math.sqrt(s * s + (steps - 2) * s * sweep))


def _circle(p1: Coord, p2: Coord, p3: Coord) -> tuple[float, float, float, float, float] | None:
    """Centre (relative to p1), radius, start angle and signed sweep p1→p2→p3; None if straight."""
    # Relative to p1: UTM northings near 6.7e6 would otherwise lose precision in the products.
    bx, by = p2[0] - p1[0], p2[1] - p1[1]
    qx, qy = p3[0] - p1[0], p3[1] - p1[1]
    cross = bx * qy - by * qx
    chord = math.hypot(qx, qy) or math.hypot(bx, by)
    if chord == 0 or abs(cross) <= 1e-12 * chord * chord:
        return None
    d = 2 * cross
    b2, q2 = bx * bx + by * by, qx * qx + qy * qy
    cx = (qy * b2 - by * q2) / d
    cy = (bx * q2 - qx * b2) / d
    radius = math.hypot(cx, cy)
    if not math.isfinite(radius):
        raise GeometryReadError(
            Text(
                nb=f"en bue fra {_fmt(p1)} er for stor til å tegnes (radiusen blir uendelig); "
                "sjekk koordinatene",
                en=f"an arc from {_fmt(p1)} is too large to draw (its radius overflows); check "
                "the coordinates",
            )
        )
    a_start = math.atan2(-cy, -cx)
    a_end = math.atan2(qy - cy, qx - cx)
    if cross > 0:  # counter-clockwise through the middle point
        sweep = (a_end - a_start) % (2 * math.pi)
    else:
        sweep = -((a_start - a_end) % (2 * math.pi))
    return cx, cy, radius, a_start, sweep


def join_parts(parts: Sequence[tuple[Text | str, list[Coord]]], tolerance: float) -> list[Coord]:
    """Chain curve parts end to start; raise naming the first part that does not connect."""
    coords: list[Coord] = []
    previous: Text | str = ""
    for label, part in parts:
        nb, en = localize(label, "nb"), localize(label, "en")
        if not part:
            raise GeometryReadError(Text(f"{nb} har ingen koordinater", f"{en} has no coordinates"))
        if coords:
            if not _close(coords[-1], part[0], tolerance):
                gap = math.dist(coords[-1], part[0])
                before_nb, before_en = localize(previous, "nb"), localize(previous, "en")
                raise GeometryReadError(
                    Text(
                        nb=f"{nb} henger ikke sammen med {before_nb}: den starter i "
                        f"{_fmt(part[0])}, {gap:.3f} fra der {before_nb} slutter "
                        f"({_fmt(coords[-1])})",
                        en=f"{en} does not connect to {before_en}: it starts at "
                        f"{_fmt(part[0])}, {gap:.3f} from where {before_en} ends "
                        f"({_fmt(coords[-1])})",
                    ),
                    part[0],
                )
            coords.extend(part[1:])
        else:
            coords.extend(part)
        previous = label
    return coords


def closed_ring(coords: list[Coord], tolerance: float, what: Text | str) -> list[Coord]:
    """Check that a ring closes and has an area; snap the closing node within tolerance."""
    nb, en = localize(what, "nb"), localize(what, "en")
    first = coords[0] if coords else None
    if len(coords) < 3:
        raise GeometryReadError(_too_few(nb, en, len(coords)), first)
    if not _close(coords[0], coords[-1], tolerance):
        gap = math.dist(coords[0], coords[-1])
        raise GeometryReadError(
            Text(
                nb=f"{nb} er ikke lukket: den starter i {_fmt(coords[0])} og slutter i "
                f"{_fmt(coords[-1])}, {gap:.3f} fra hverandre",
                en=f"{en} is not closed: it starts at {_fmt(coords[0])} and ends at "
                f"{_fmt(coords[-1])}, {gap:.3f} apart",
            ),
            coords[0],
        )
    ring = [*coords[:-1], coords[0]]
    if len(ring) < 4:
        raise GeometryReadError(_too_few(nb, en, len(ring)), first)
    return ring


def _too_few(nb: str, en: str, count: int) -> Text:
    return Text(
        nb=f"{nb} har {count} punkt{'er' * (count != 1)}; en flateavgrensning (ring) trenger "
        "minst 4",
        en=f"{en} has {count} points; a ring needs at least 4",
    )


def _close(a: Coord, b: Coord, tolerance: float) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _fmt(point: Coord) -> str:
    return f"{point[0]:.3f} {point[1]:.3f}"
