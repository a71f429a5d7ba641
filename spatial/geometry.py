"""Geometry checks for plan areas: type, validity repair, vertex counts, county coverage."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

AREA_TYPES = ("Polygon", "MultiPolygon")
AREA_TYPE_IDS = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


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
    """make_valid could not keep the area; the drawing's intent is ambiguous."""

    def __init__(self, repair: Repair | None, reason: str):
        super().__init__(reason)
        self.repair = repair
        self.reason = reason


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
    call (building a MultiPolygon one by one costs ~10 µs, a tenth of a large plan's upload).
    """
    out = np.empty(len(geometries), dtype=object)
    out[:] = geometries
    single = shapely.get_type_id(out) == shapely.GeometryType.POLYGON
    if single.any():
        out[single] = shapely.multipolygons(out[single], indices=np.arange(int(single.sum())))
    return [g if isinstance(g, MultiPolygon) else as_multipolygon(g) for g in out]


def repair_polygon(geometry: BaseGeometry, max_area_change: float) -> tuple[MultiPolygon, Repair]:
    """Repair an invalid (multi)polygon with make_valid if its area is kept.

    The area before repair is GEOS's ring area (the shoelace sum), so a figure-eight
    ring whose lobes cancel out counts as a large change and is refused.
    """
    reason = shapely.is_valid_reason(geometry)
    area_before = float(geometry.area)
    repaired = shapely.make_valid(geometry)
    polygonal = as_multipolygon(repaired)
    repair = Repair(reason=reason, area_before_m2=area_before, area_after_m2=float(polygonal.area))
    if polygonal.is_empty:
        raise RepairRefused(repair, f"{reason}; nothing of the area is left after repair")
    if repair.relative_change > max_area_change:
        raise RepairRefused(
            repair,
            f"{reason}; repair would change the area from {area_before:.0f} m² to "
            f"{polygonal.area:.0f} m², so the intended shape is unclear",
        )
    return polygonal, repair


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
    """A boundary widened by a tolerance, prepared for fast repeated covers() tests."""

    boundary: BaseGeometry
    tolerance_m: float
    widened: PreparedGeometry

    @classmethod
    def build(cls, boundary: BaseGeometry, tolerance_m: float) -> "CoverageArea":
        """Widen `boundary` by `tolerance_m` metres."""
        # Buffered as it is, not simplified first: a simplified county outline came out up
        # to ~200 m inside the real one and refused a plan drawn on Drammen's outline. The
        # exact buffer takes ~0.3 s once per process (callers cache it); covers() stays
        # fast because the result is prepared.
        widened = boundary.buffer(tolerance_m) if tolerance_m > 0 else boundary
        return cls(boundary=boundary, tolerance_m=tolerance_m, widened=prep(widened))

    def covers(self, geometry: BaseGeometry) -> bool:
        """Return True when the geometry lies inside the widened boundary."""
        return bool(self.widened.covers(geometry))

    def covers_each(self, geometries: np.ndarray) -> np.ndarray:
        """For each geometry of an array, whether it lies inside the widened boundary."""
        return shapely.covers(self.widened.context, geometries)

    def farthest_outside_m(self, geometry: BaseGeometry) -> float:
        """Return the largest distance (m) of any vertex of `geometry` from the boundary."""
        points = shapely.points(shapely.get_coordinates(geometry))
        return float(shapely.distance(points, self.boundary).max())
