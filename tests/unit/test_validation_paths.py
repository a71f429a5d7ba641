"""The two geometry checks of spatial/plan_input.py agree: the vectorised fast path
(`_ready_geometries`) accepts exactly the areas the one-by-one path (`_area_geometry`, the
reference) would accept untouched, with the same geometry, on random and hostile shapes."""

import math
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from spatial.crs import CrsRef
from spatial.geometry import CoverageArea
from spatial.messages import english
from spatial.plan_input import (
    Boundaries,
    InputLimits,
    _area_geometry,
    _ready_geometries,
    _refuse_hostile_shapes,
)
from spatial.plan_model import SourceFeature, UploadReport

COUNTY_FILE = (
    Path(__file__).parents[2] / "layers/data/boundaries/buskerud_fylke_2024_epsg25833.geojson"
)
LIMITS = InputLimits(max_vertices=500_000, repair_max_area_change=0.01)
CANONICAL, UTM33 = CrsRef(25832), CrsRef(25833)
TO_UTM33 = Transformer.from_crs("EPSG:25832", "EPSG:25833", always_xy=True)
# Points in EPSG:25832: deep inside Buskerud (Hønefoss, Gol, Kongsberg), on the county
# boundary near Drammen and Hemsedal, and outside it (Oslo, the North Sea).
PLACES = [
    (572_000.0, 6_670_000.0),
    (490_000.0, 6_725_000.0),
    (539_000.0, 6_617_000.0),
    (585_000.0, 6_620_000.0),
    (470_000.0, 6_760_000.0),
    (598_000.0, 6_643_000.0),
    (300_000.0, 6_500_000.0),
]
# NaN coordinates are among the hostile shapes; numpy and shapely warn about them.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=1)
def boundaries() -> Boundaries:
    """The real county boundary with the service's default tolerance (200 m)."""
    county = gpd.read_file(COUNTY_FILE).to_crs(25832).geometry.union_all()
    return Boundaries(county=CoverageArea.build(shapely.make_valid(county), 200), municipalities={})


# --- shapes ---------------------------------------------------------------------------------

coordinate = st.floats(-1.0, 1.0, allow_nan=False)
size = st.sampled_from([0.001, 0.5, 20.0, 300.0, 5_000.0, 60_000.0])


@st.composite
def random_ring(draw, centre: tuple[float, float], scale: float) -> list[tuple[float, float]]:
    """Vertices in any order around `centre` (often self-intersecting), closed or not."""
    count = draw(st.integers(1, 12))
    points = [
        (centre[0] + draw(coordinate) * scale, centre[1] + draw(coordinate) * scale)
        for _ in range(count)
    ]
    if draw(st.booleans()):
        points.append(points[0])
    return points


def star(centre: tuple[float, float], scale: float, points: int, inner: float) -> list:
    """A star-shaped ring; with inner > 1 its points cross (a many-pointed self-intersection)."""
    ring = []
    for i in range(2 * points):
        radius = scale if i % 2 == 0 else scale * inner
        angle = math.pi * i / points
        ring.append((centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle)))
    return ring


def square(centre: tuple[float, float], half: float) -> list[tuple[float, float]]:
    """A counter-clockwise square ring."""
    x, y = centre
    return [(x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half)]


@st.composite
def hostile_polygon(draw, centre: tuple[float, float], scale: float) -> BaseGeometry:
    """A polygon of a kind plan files get wrong, or that attacks the checks."""
    x, y = centre
    s = scale
    kind = draw(
        st.sampled_from(
            [
                "bowtie",
                "spike",
                "duplicate_points",
                "hole_touching_shell",
                "hole_outside_shell",
                "hole_equal_to_shell",
                "collapsed_ring",
                "collinear",
                "sliver",
                "nan",
                "inf",
                "huge",
                "overlapping_parts",
                "touching_parts",
                "crossing_star",
                "valid_star",
                "traced_twice",
                "z",
            ]
        )
    )
    if kind == "bowtie":
        return Polygon([(x - s, y - s), (x + s, y + s), (x + s, y - s), (x - s, y + s)])
    if kind == "spike":
        return Polygon([(x - s, y - s), (x + s, y - s), (x + s, y), (x + 5 * s, y), (x + s, y),
                        (x + s, y + s), (x - s, y + s)])  # fmt: skip
    if kind == "duplicate_points":
        ring = square(centre, s)
        return Polygon([ring[0], ring[0], ring[1], ring[1], ring[1], ring[2], ring[3], ring[3]])
    if kind == "hole_touching_shell":
        return Polygon(square(centre, s), [[(x - s, y), (x, y - s / 2), (x, y + s / 2)]])
    if kind == "hole_outside_shell":
        return Polygon(square(centre, s), [square((x + 3 * s, y), s / 2)])
    if kind == "hole_equal_to_shell":
        return Polygon(square(centre, s), [square(centre, s)[::-1]])
    if kind == "collapsed_ring":
        return Polygon([(x, y), (x, y), (x, y), (x, y)])
    if kind == "collinear":
        return Polygon([(x, y), (x + s, y + s), (x + 2 * s, y + 2 * s), (x, y)])
    if kind == "sliver":
        return Polygon([(x, y), (x + s, y), (x + s, y + 1e-9), (x, y + 1e-9)])
    if kind == "nan":
        return Polygon([(x, y), (x + s, y), (math.nan, y + s), (x, y + s)])
    if kind == "inf":
        return Polygon([(x, y), (math.inf, y), (x + s, y + s), (x, y + s)])
    if kind == "huge":
        big = draw(st.sampled_from([1e10, 1e11, 1e15, 1e300]))
        return Polygon([(big, big), (-big, big), (-big, -big), (big, -big)])
    if kind == "overlapping_parts":
        return MultiPolygon([Polygon(square(centre, s)), Polygon(square((x + s, y), s))])
    if kind == "touching_parts":
        return MultiPolygon([Polygon(square(centre, s)), Polygon(square((x + 2 * s, y), s))])
    if kind == "crossing_star":
        return Polygon(star(centre, s, draw(st.integers(3, 40)), draw(st.floats(1.5, 3.0))))
    if kind == "valid_star":
        return Polygon(star(centre, s, draw(st.integers(3, 40)), draw(st.floats(0.2, 0.9))))
    if kind == "traced_twice":
        ring = square(centre, s)
        return Polygon(ring + [ring[0]] + ring)
    # "z": a valid polygon with heights, which are dropped.
    return Polygon([(px, py, draw(st.floats(-100, 3000))) for px, py in star(centre, s, 5, 0.5)])


@st.composite
def area_geometry(draw) -> BaseGeometry | None:
    """Any geometry a reader may hand over for an area, mostly polygons near Buskerud."""
    centre = draw(st.sampled_from(PLACES))
    offset = (draw(coordinate) * 2_000, draw(coordinate) * 2_000)
    centre = (centre[0] + offset[0], centre[1] + offset[1])
    scale = draw(size)
    choice = draw(st.integers(0, 9))
    if choice <= 2:
        ring = draw(random_ring(centre, scale))
        holes = [draw(random_ring(centre, scale / 3)) for _ in range(draw(st.integers(0, 2)))]
        try:
            return Polygon(ring, holes)
        except (ValueError, shapely.errors.GEOSException):
            return None  # fewer than four coordinates: no reader makes such a polygon
    if choice <= 6:
        return draw(hostile_polygon(centre, scale))
    if choice == 7:
        parts = [draw(hostile_polygon(centre, scale)) for _ in range(draw(st.integers(1, 3)))]
        polygons = [g for part in parts for g in getattr(part, "geoms", [part])]
        return MultiPolygon(polygons) if len({p.has_z for p in polygons}) == 1 else polygons[0]
    if choice == 8:
        return draw(
            st.sampled_from(
                [
                    Polygon(),
                    MultiPolygon(),
                    shapely.Point(centre),
                    shapely.LineString([centre, (centre[0] + scale, centre[1])]),
                    shapely.GeometryCollection([Polygon(square(centre, scale))]),
                ]
            )
        )
    return Polygon(square(centre, scale))


@st.composite
def plan_features(draw) -> tuple[list[SourceFeature], list]:
    """One to six areas (some not areas at all, some already refused by the reader)."""
    features, kinds = [], []
    for position in range(1, draw(st.integers(1, 6)) + 1):
        geometry = draw(area_geometry())
        error = draw(st.sampled_from([None] * 9 + ["the reader could not read this ring"]))
        features.append(SourceFeature(position, f"f{position}", {}, geometry, error))
        kinds.append(draw(st.sampled_from(["arealformal", "hensynssone", None])))
    return features, kinds


def in_crs(features: list[SourceFeature], crs: CrsRef) -> list[SourceFeature]:
    """The same features with coordinates in `crs` (EPSG:25832 or EPSG:25833)."""
    if crs == CANONICAL:
        return features
    return [
        SourceFeature(
            f.position,
            f.source_id,
            f.properties,
            None
            if f.geometry is None
            else shapely.transform(f.geometry, lambda xy: _to_utm33(xy), include_z=False),
            f.geometry_error,
        )
        for f in features
    ]


def _to_utm33(xy):  # noqa: ANN001, ANN202 - numpy in, numpy out
    x, y = TO_UTM33.transform(xy[:, 0], xy[:, 1])
    xy[:, 0], xy[:, 1] = x, y
    return xy


# --- the property -----------------------------------------------------------------------------


def slow_path(feature: SourceFeature, kind: str, crs: CrsRef):
    """The reference: (geometry or None, problems, repairs) from `_area_geometry`."""
    report, problems = UploadReport(), []
    geometry = _area_geometry(feature, kind, crs, LIMITS, boundaries(), report, problems)
    return geometry, problems, report.repaired


def assert_paths_agree(features: list[SourceFeature], kinds: list, crs: CrsRef) -> None:
    """Per area and for the whole batch: the fast path accepts an area exactly when the slow
    path accepts it untouched (no problem, no repair), and then with the identical geometry."""
    _refuse_hostile_shapes(features, kinds)  # as prepare_plan does before both paths
    batch = _ready_geometries(features, kinds, crs, boundaries())
    accepted_alone = set()
    for index, (feature, kind) in enumerate(zip(features, kinds, strict=True)):
        alone = _ready_geometries([feature], [kind], crs, boundaries())
        if kind is None:
            assert index not in batch and not alone
            continue
        geometry, problems, repaired = slow_path(feature, kind, crs)
        untouched = geometry is not None and not problems and not repaired
        assert bool(alone) == untouched, (feature.geometry, problems, repaired)
        if alone:
            accepted_alone.add(index)
            assert alone[0].wkb == geometry.wkb
        if index in batch:
            assert batch[index].wkb == geometry.wkb
    # A batch either accepts what each area alone would, or (a GEOS or PROJ error in one
    # area) nothing, leaving every area to the slow path.
    assert set(batch) in (set(), accepted_alone)


@SETTINGS
@given(plan_features())
def test_fast_and_slow_paths_agree_in_the_canonical_crs(drawn):
    """EPSG:25832 input: no reprojection, the validity and county checks must match."""
    features, kinds = drawn
    assert_paths_agree(features, kinds, CANONICAL)


@SETTINGS
@given(plan_features())
def test_fast_and_slow_paths_agree_when_reprojecting(drawn):
    """EPSG:25833 input: both paths reproject, and must give the same coordinates."""
    features, kinds = drawn
    assert_paths_agree(in_crs(features, UTM33), kinds, UTM33)


@settings(max_examples=40, deadline=None)
@given(plan_features())
def test_the_fast_path_leaves_geographic_input_to_the_slow_path(drawn):
    """Degrees are first checked for projected coordinates, so nothing is fast-tracked."""
    features, kinds = drawn
    assume(any(kind is not None for kind in kinds))
    assert _ready_geometries(features, kinds, CrsRef(4326), boundaries()) == {}


def test_the_generated_shapes_reach_both_outcomes():
    """The strategies are not vacuous: fixed examples of each kind are accepted and refused."""
    inside = Polygon(square(PLACES[0], 300.0))
    spike = Polygon([(572_000, 6_670_000), (572_100, 6_670_000), (572_100, 6_670_050),
                     (572_300, 6_670_050), (572_100, 6_670_050), (572_100, 6_670_100),
                     (572_000, 6_670_100)])  # fmt: skip
    bowtie = Polygon([(572_000, 6_670_000), (572_100, 6_670_100), (572_100, 6_670_000),
                      (572_000, 6_670_100)])  # fmt: skip
    outside = Polygon(square(PLACES[-1], 300.0))
    shapes = [inside, spike, bowtie, outside]
    features = [SourceFeature(i, None, {}, g) for i, g in enumerate(shapes)]
    kinds = ["arealformal"] * len(shapes)
    assert set(_ready_geometries(features, kinds, CANONICAL, boundaries())) == {0}
    assert_paths_agree(features, kinds, CANONICAL)
    _, problems, repaired = slow_path(features[1], "arealformal", CANONICAL)
    assert repaired and not problems  # repaired, so not fast-tracked
    _, problems, _ = slow_path(features[2], "arealformal", CANONICAL)
    assert "cannot be repaired safely" in english(problems[0].message)  # its area would change
    assert "krysser seg selv" in problems[0].message.nb and problems[0].location is not None
    _, problems, _ = slow_path(features[3], "arealformal", CANONICAL)
    assert "outside Buskerud" in english(problems[0].message)
    assert "utenfor Buskerud" in problems[0].message.nb
