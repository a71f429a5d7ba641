"""Geometry checks for plan areas: type, validity repair, vertex counts, county coverage."""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from spatial.figures import fmt_m2
from spatial.messages import Text

AREA_TYPES = ("Polygon", "MultiPolygon")
AREA_TYPE_IDS = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
# Rings (outer boundaries and holes) one area may have. Real plan areas have a handful of
# holes (an LNF area around every built-up zone: some hundreds); GEOS's validity and repair
# work grows faster than the ring count on overlapping rings.
MAX_RINGS_PER_FEATURE = 10_000
# Places where an invalid area's outline crosses or overlaps itself that make_valid is asked
# to sort out. A digitising error makes a few; make_valid's noding time and memory grow
# faster than their number (a many-pointed star, a ring tracing one triangle over and over),
# so past this the shape is refused before GEOS sees it.
MAX_REPAIR_CROSSINGS = 1000
# Segment pairs one spatial-index query may return (16 bytes each): bounds the memory of
# counting crossings when many segments lie on top of each other.
_PAIRS_PER_QUERY = 4_000_000


@dataclass(frozen=True)
class Repair:
    """What make_valid did to a self-intersecting or otherwise invalid polygon."""

    reason: str
    area_before_m2: float
    area_after_m2: float

    @property
    def relative_change(self) -> float:
        """Return |after - before| / after, the share of the area the repair changed."""
        if self.area_after_m2 == 0:
            return float("inf")
        return abs(self.area_after_m2 - self.area_before_m2) / self.area_after_m2


class RepairRefused(ValueError):
    """make_valid could not keep the area; the drawing's intent is ambiguous.

    `explanation` is GEOS's "Reason[x y]", `why` why the repair is refused; `reason` is
    both in English.
    """

    def __init__(self, repair: Repair | None, explanation: str, why: Text):
        self.repair = repair
        self.explanation = explanation
        self.why = why
        self.reason = f"{explanation}; {why.en}"
        super().__init__(self.reason)


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    """Return a Polygon or MultiPolygon as a MultiPolygon (the stored geometry type)."""
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    polygons = [part for part in shapely.get_parts(geometry) if isinstance(part, Polygon)]
    return MultiPolygon(polygons)


def union(geometries: Sequence[BaseGeometry]) -> BaseGeometry:
    """Return the union of the geometries; a single one as it is (a union of one geometry
    costs a full overlay, and most unions in a check are of one feature)."""
    if len(geometries) == 1:
        return geometries[0]
    return shapely.union_all(geometries)


def as_multipolygons(geometries: Sequence[BaseGeometry]) -> list[MultiPolygon]:
    """Return Polygons and MultiPolygons as MultiPolygons, the Polygons in one vectorised
    call (built one by one they cost a noticeable share of a large plan's upload).
    """
    out = np.empty(len(geometries), dtype=object)
    out[:] = geometries
    single = shapely.get_type_id(out) == shapely.GeometryType.POLYGON
    if single.any():
        out[single] = shapely.multipolygons(out[single], indices=np.arange(int(single.sum())))
    return [g if isinstance(g, MultiPolygon) else as_multipolygon(g) for g in out]


def ring_counts(geometries: np.ndarray) -> np.ndarray:
    """The number of rings (shells and holes) of each (multi)polygon of an array."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    rings = 1 + np.maximum(shapely.get_num_interior_rings(parts), 0)
    return np.bincount(owner, weights=rings, minlength=len(geometries)).astype(int)


def repeated_points(geometries: np.ndarray) -> np.ndarray:
    """For each geometry of an array, how many of its vertices repeat an earlier one, ring
    closings not counted. A valid area repeats none (a hole touching its shell: one); a ring
    traced many times, or many identical holes, repeat thousands, and GEOS's validity check
    alone then takes super-linear time."""
    coords, owner = shapely.get_coordinates(geometries, return_index=True)
    if not len(coords):
        return np.zeros(len(geometries), dtype=int)
    order = np.lexsort((coords[:, 1], coords[:, 0], owner))
    xy, owner = coords[order], owner[order]
    same = (owner[1:] == owner[:-1]) & (xy[1:] == xy[:-1]).all(axis=1)
    repeats = np.bincount(owner[1:][same], minlength=len(geometries))
    return repeats - ring_counts(geometries)


def repeated_ring(geometry: BaseGeometry) -> tuple[int, int] | None:
    """The first two rings (0 the first shell, holes and further parts in order) that run
    through the same points, or None. Identical rings cost GEOS's repair quadratic work and
    never describe an area: a hole as large as its shell, the same part twice."""
    seen: dict[bytes, int] = {}
    for index, ring in enumerate(_rings(geometry)):
        points = shapely.get_coordinates(ring)[:-1]
        key = np.unique(points, axis=0).tobytes()
        if key in seen:
            return seen[key], index
        seen[key] = index
    return None


def count_crossings(
    geometry: BaseGeometry, limit: int, tick: Callable[[], None] | None = None
) -> int:
    """Count the pairs of boundary segments that cross, touch or overlap, other than
    neighbours on a ring, stopping once past `limit` (the work stays bounded however many
    there are). `tick` is called between index queries (to look at the clock)."""
    coords, ring = shapely.get_coordinates(_rings(geometry), return_index=True)
    if len(coords) < 2:
        return 0
    start = np.nonzero((ring[1:] == ring[:-1]) & (coords[1:] != coords[:-1]).any(axis=1))[0]
    count = len(start)
    if count < 2:
        return 0
    segments = shapely.linestrings(np.stack([coords[start], coords[start + 1]], axis=1))
    ring_of = ring[start]
    # a ring's first and last segment meet at its closing point, like neighbours do
    first = np.full(ring_of.max() + 1, -1)
    last = np.full(ring_of.max() + 1, -1)
    first[ring_of[::-1]] = np.arange(count)[::-1]
    last[ring_of] = np.arange(count)
    tree = shapely.STRtree(segments)
    chunk = max(1, min(4096, _PAIRS_PER_QUERY // count))
    found = 0
    for low in range(0, count, chunk):
        if tick is not None:
            tick()
        left, right = tree.query(segments[low : low + chunk], predicate="intersects")
        left = left + low
        same_ring = ring_of[left] == ring_of[right]
        neighbours = same_ring & (
            (right == left + 1) | ((left == first[ring_of[left]]) & (right == last[ring_of[left]]))
        )
        found += int(((right > left) & ~neighbours).sum())
        if found > limit:
            break
    return found


def _rings(geometry: BaseGeometry) -> np.ndarray:
    return shapely.get_rings(shapely.get_parts(geometry))


def repair_polygon(
    geometry: BaseGeometry, max_area_change: float, tick: Callable[[], None] | None = None
) -> tuple[MultiPolygon, Repair]:
    """Repair an invalid (multi)polygon with make_valid if its area is kept.

    The area before repair is GEOS's ring area (the shoelace sum), so a figure-eight
    ring whose lobes cancel out counts as a large change and is refused. Shapes whose
    repair would take GEOS super-linear work (rings repeated, more than
    MAX_REPAIR_CROSSINGS crossings) are refused before make_valid runs.
    """
    reason = shapely.is_valid_reason(geometry)
    if (same := repeated_ring(geometry)) is not None:
        first, second = (_ring_name(i) for i in same)
        raise RepairRefused(
            None,
            reason,
            Text(
                nb=f"{second.nb} går gjennom de samme punktene som {first.nb}",
                en=f"{second.en} runs through the same points as {first.en}",
            ),
        )
    crossings = count_crossings(geometry, MAX_REPAIR_CROSSINGS, tick)
    if crossings > MAX_REPAIR_CROSSINGS:
        raise RepairRefused(
            None,
            reason,
            Text(
                nb=f"omrisset krysser eller overlapper seg selv på mer enn "
                f"{MAX_REPAIR_CROSSINGS} steder, så det er uklart hvilken form som er ment",
                en=f"the outline crosses or overlaps itself in more than "
                f"{MAX_REPAIR_CROSSINGS} places, so the intended shape is unclear",
            ),
        )
    area_before = float(geometry.area)
    # The 'structure' method (GEOS 3.10+) unions the shells and subtracts the holes; the
    # default 'linework' method took minutes on rings that cross often (a zigzag of 20,000
    # vertices) where 'structure' takes well under a second.
    repaired = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    polygonal = as_multipolygon(repaired)
    repair = Repair(reason=reason, area_before_m2=area_before, area_after_m2=float(polygonal.area))
    if polygonal.is_empty:
        raise RepairRefused(
            repair,
            reason,
            Text(
                nb="ingenting av flaten blir igjen etter en reparasjon",
                en="nothing of the area is left after repair",
            ),
        )
    if repair.relative_change > max_area_change:
        raise RepairRefused(
            repair,
            reason,
            Text(
                nb=f"en reparasjon ville endre arealet fra {fmt_m2(area_before)} til "
                f"{fmt_m2(polygonal.area)}, så det er uklart hvilken form som er ment",
                en=f"repair would change the area from {area_before:.0f} m² to "
                f"{polygonal.area:.0f} m², so the intended shape is unclear",
            ),
        )
    return polygonal, repair


def _ring_name(index: int) -> Text:
    if index == 0:
        return Text("den ytre grensen", "the outer boundary")
    return Text(f"grense nr. {index + 1}", f"ring {index + 1}")


def vertex_count(geometries: Sequence[BaseGeometry]) -> int:
    """Return the number of coordinates in all the geometries together."""
    return int(shapely.get_num_coordinates(list(geometries)).sum()) if geometries else 0


def looks_projected(geometry: BaseGeometry) -> bool:
    """Return True when coordinates cannot be longitude/latitude degrees."""
    coords = shapely.get_coordinates(geometry)
    return bool(coords.size) and bool(
        (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any()
    )


@dataclass(frozen=True)
class CoverageArea:
    """A boundary widened by a tolerance, prepared for fast repeated covers() tests.

    Shared by the request threads: GEOS's prepared geometries build their indexes lazily and
    are not thread-safe (libgeos/geos#825), so the prepared tests take `lock`."""

    boundary: BaseGeometry
    tolerance_m: float
    widened: PreparedGeometry
    segments: shapely.STRtree
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def build(cls, boundary: BaseGeometry, tolerance_m: float) -> "CoverageArea":
        """Widen `boundary` by `tolerance_m` metres."""
        # Buffered as it is, not simplified first: a simplified county outline came out up
        # to ~200 m inside the real one and refused a plan drawn on Drammen's outline. The
        # exact buffer is slow but made once per process (callers cache it); covers() stays
        # fast because the result is prepared.
        widened = boundary.buffer(tolerance_m) if tolerance_m > 0 else boundary
        coords, ring = shapely.get_coordinates(_rings(boundary), return_index=True)
        same = ring[1:] == ring[:-1]
        segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        return cls(
            boundary=boundary,
            tolerance_m=tolerance_m,
            widened=prep(widened),
            segments=shapely.STRtree(segments),
        )

    def covers(self, geometry: BaseGeometry) -> bool:
        """Return True when the geometry lies inside the widened boundary."""
        with self.lock:
            return bool(self.widened.covers(geometry))

    def covers_each(self, geometries: np.ndarray) -> np.ndarray:
        """For each geometry of an array, whether it lies inside the widened boundary."""
        with self.lock:
            return shapely.covers(self.widened.context, geometries)

    def farthest_outside_m(self, geometry: BaseGeometry) -> float:
        """Return the largest distance (m) of any vertex of `geometry` from the boundary."""
        return self.farthest_outside(geometry)[0]

    def farthest_outside(self, geometry: BaseGeometry) -> tuple[float, tuple[float, float]]:
        """Return the largest distance (m) of any vertex of `geometry` from the boundary,
        and that vertex (for the map to mark)."""
        coords = shapely.get_coordinates(geometry)
        # The nearest boundary segment of each vertex, from a tree of the segments: GEOS's
        # distance to the polygon measures every segment for every vertex (seconds for an
        # arc of thousands of vertices against the county's 20,000).
        _, distances = self.segments.query_nearest(
            shapely.points(coords), return_distance=True, all_matches=False
        )
        inside = shapely.contains_xy(self.boundary, coords[:, 0], coords[:, 1])
        distances = np.where(inside, 0.0, distances)
        farthest = int(np.argmax(distances))
        x, y = coords[farthest]
        return float(distances[farthest]), (float(x), float(y))
