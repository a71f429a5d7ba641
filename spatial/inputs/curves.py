"""Curve geometry of plan files: arcs and circles linearised, curve parts joined into rings.

Plan-GML (gml:Arc, gml:ArcString, gml:Circle, gml:Ring of curve members) and SOSI (.BUEP,
.SIRKELP, .FLATE bounded by .KURVE references) describe areas by curves; both readers build
their rings here.
"""

import math
from collections.abc import Callable, Sequence

from spatial.inputs.features import GeometryReadError

Coord = tuple[float, float]

# Arcs (gml:Arc, gml:ArcString, gml:Circle, SOSI .BUEP) are stored as polygons: no chord may
# lie farther than this from the true arc. 5 cm is five times the centimetre resolution plan
# data are delivered in (SOSI ENHET 0.01) and well below the accuracy plan maps are drawn to;
# a half circle of radius 25 m then takes 25 chords, one of 100 m about 50.
ARC_MAX_DEVIATION_M = 0.05
# Metres per degree of latitude, to express the deviation in a geographic CRS.
_METRES_PER_DEGREE = 111_320.0
# An arc needing more chords than this spans tens of kilometres (more than any plan); it is
# cut at this many chords rather than allowed to explode the vertex count.
MAX_ARC_SEGMENTS = 1000
# Curve ends closer than this (in metres; scaled for degrees) are the same node.
JOIN_TOLERANCE_M = 0.001


def max_deviation_for(geographic: bool) -> float:
    """Return ARC_MAX_DEVIATION_M in the CRS's units (metres, or degrees of latitude)."""
    return ARC_MAX_DEVIATION_M / _METRES_PER_DEGREE if geographic else ARC_MAX_DEVIATION_M


def join_tolerance_for(geographic: bool) -> float:
    """Return JOIN_TOLERANCE_M in the CRS's units."""
    return JOIN_TOLERANCE_M / _METRES_PER_DEGREE if geographic else JOIN_TOLERANCE_M


def arc_points(
    start: Coord,
    middle: Coord,
    end: Coord,
    max_deviation: float,
    before_building: Callable[[int], None] | None = None,
) -> list[Coord]:
    """Linearise the arc from `start` through `middle` to `end` (start and end kept exactly).

    `before_building` is called with the number of points about to be made, before any is
    (to refuse an arc the upload's vertex budget cannot hold).
    """
    if _close(start, end, 0.0):
        raise GeometryReadError(
            f"an arc starts and ends at the same point ({_fmt(start)}); it has no defined "
            "shape (a full circle must be given as a circle)"
        )
    circle = _circle(start, middle, end)
    if circle is None:
        return [start, middle, end]
    cx, cy, radius, a_start, sweep = circle
    steps = _arc_steps(radius, abs(sweep), max_deviation)
    if before_building is not None:
        before_building(steps + 1)
    inner = [
        (
            start[0] + cx + radius * math.cos(a_start + sweep * i / steps),
            start[1] + cy + radius * math.sin(a_start + sweep * i / steps),
        )
        for i in range(1, steps)
    ]
    return [start, *inner, end]


def circle_points(
    a: Coord,
    b: Coord,
    c: Coord,
    max_deviation: float,
    before_building: Callable[[int], None] | None = None,
) -> list[Coord]:
    """Linearise the full circle through three points, starting and ending at `a`."""
    circle = _circle(a, b, c)
    if circle is None:
        raise GeometryReadError(f"the three points of a circle lie on a line (from {_fmt(a)})")
    cx, cy, radius, a_start, sweep = circle
    full = math.copysign(2 * math.pi, sweep)
    steps = _arc_steps(radius, 2 * math.pi, max_deviation)
    if before_building is not None:
        before_building(steps + 1)
    inner = [
        (
            a[0] + cx + radius * math.cos(a_start + full * i / steps),
            a[1] + cy + radius * math.sin(a_start + full * i / steps),
        )
        for i in range(1, steps)
    ]
    return [a, *inner, a]


def arc_point_count(points: Sequence[Coord], circle: bool, max_deviation: float) -> int:
    """The points linearising an arc string (or a circle) will make, without making them.

    0 for an arc that cannot be drawn: building it says why.
    """
    total = 1
    for i in range(0, len(points) - 2, 2):
        try:
            found = _circle(*points[i : i + 3])
        except GeometryReadError:
            return 0
        if found is not None:
            sweep = 2 * math.pi if circle else abs(found[4])
            total += _arc_steps(found[2], sweep, max_deviation)
    return total


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
            f"an arc from {_fmt(p1)} is too large to draw (its radius overflows); check the "
            "coordinates"
        )
    a_start = math.atan2(-cy, -cx)
    a_end = math.atan2(qy - cy, qx - cx)
    if cross > 0:  # counter-clockwise through the middle point
        sweep = (a_end - a_start) % (2 * math.pi)
    else:
        sweep = -((a_start - a_end) % (2 * math.pi))
    return cx, cy, radius, a_start, sweep


def _arc_steps(radius: float, sweep: float, max_deviation: float) -> int:
    """Chords needed so no chord's sagitta r(1 - cos(θ/2)) exceeds max_deviation."""
    if max_deviation >= radius:
        max_angle = math.pi / 2
    else:
        max_angle = min(math.pi / 2, 2 * math.acos(1 - max_deviation / radius))
    return max(2, min(MAX_ARC_SEGMENTS, math.ceil(sweep / max_angle)))


def join_parts(parts: Sequence[tuple[str, list[Coord]]], tolerance: float) -> list[Coord]:
    """Chain curve parts end to start; raise naming the first part that does not connect."""
    coords: list[Coord] = []
    previous = ""
    for label, part in parts:
        if not part:
            raise GeometryReadError(f"{label} has no coordinates")
        if coords:
            if not _close(coords[-1], part[0], tolerance):
                gap = math.dist(coords[-1], part[0])
                raise GeometryReadError(
                    f"{label} does not connect to {previous}: it starts at {_fmt(part[0])}, "
                    f"{gap:.3f} from where {previous} ends ({_fmt(coords[-1])})"
                )
            coords.extend(part[1:])
        else:
            coords.extend(part)
        previous = label
    return coords


def closed_ring(coords: list[Coord], tolerance: float, what: str) -> list[Coord]:
    """Check that a ring closes and has an area; snap the closing node within tolerance."""
    if len(coords) < 3:
        raise GeometryReadError(f"{what} has {len(coords)} points; a ring needs at least 4")
    if not _close(coords[0], coords[-1], tolerance):
        gap = math.dist(coords[0], coords[-1])
        raise GeometryReadError(
            f"{what} is not closed: it starts at {_fmt(coords[0])} and ends at "
            f"{_fmt(coords[-1])}, {gap:.3f} apart"
        )
    ring = [*coords[:-1], coords[0]]
    if len(ring) < 4:
        raise GeometryReadError(f"{what} has {len(ring)} points; a ring needs at least 4")
    return ring


def _close(a: Coord, b: Coord, tolerance: float) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _fmt(point: Coord) -> str:
    return f"{point[0]:.3f} {point[1]:.3f}"
