"""The demo building points (layers/demo/buildings.py) against the demo's adopted kommuneplaner;
no database needed."""

from collections import Counter

import numpy as np
import pytest
import shapely

from layers.demo import plans, settlements
from layers.demo.buildings import buildings
from layers.demo.geography import Geography
from layers.demo.schemas import SCHEMAS
from layers.demo.terrain import elevation_array, tree_line_array
from layers.registry import get_registry

# Matrikkel bygningsstatus codes (layers/config/buildings.yaml) and the ones that leave a
# lot unbuilt (demo/buildings.py NOT_BUILT).
STATUSES = {"TB", "FA", "MB", "IG", "RA", "MT", "IP", "BA", "BF", "BR", "GR"}
NOT_BUILT = {"BA", "BR", "RA"}
BUFFER_M = 10.0


@pytest.fixture(scope="module")
def geo() -> Geography:
    dem, _ = elevation_array()
    tree_line, _ = tree_line_array()
    geography = Geography(dem, tree_line)
    settlements.tettsteder(geography)  # the plans keep their cabins out of the towns
    return geography


@pytest.fixture(scope="module")
def points(geo):
    return buildings(geo)


@pytest.fixture(scope="module")
def adopted(geo):
    return plans.existing_kommuneplan(geo)


def _built(points) -> list[shapely.Geometry]:
    return [g for g, p in points if p["bygningsstatus"] not in NOT_BUILT]


def _built_share(area: shapely.Geometry, built: shapely.STRtree, geometries) -> float:
    """Share of an area within BUFFER_M of a standing building (computed here, by overlay)."""
    near = built.query(area, predicate="dwithin", distance=BUFFER_M)
    if not len(near):
        return 0.0
    cover = shapely.union_all([geometries[i].buffer(BUFFER_M) for i in near])
    return area.intersection(cover).area / area.area


def _inside(points, area: shapely.Geometry) -> list[tuple[shapely.Geometry, dict]]:
    shapely.prepare(area)
    return [(g, p) for g, p in points if area.contains(g)]


def test_the_same_points_come_out_every_run(geo, points):
    again = buildings(geo)
    assert len(again) == len(points)
    for (g1, p1), (g2, p2) in zip(points, again, strict=True):
        assert g1.equals_exact(g2, 0) and p1 == p2


def test_points_follow_the_matrikkel_schema(points, geo):
    assert 2_000 <= len(points) <= 6_000  # a few thousand: quick to build and load
    config = get_registry()["buildings"]
    assert set(SCHEMAS["buildings"].fields) == set(config.attributes)
    assert SCHEMAS["buildings"].source_layers[0].name in config.source_layers[0].names
    numbers = [p["bygningsnummer"] for _, p in points]
    assert len(set(numbers)) == len(numbers)
    assert all(isinstance(n, int) and 100_000_000 <= n < 1_000_000_000 for n in numbers)
    for geometry, properties in points:
        assert geometry.geom_type == "Point"
        assert set(properties) == set(config.attributes)
        assert isinstance(properties["bygningstype"], int)
        assert 111 <= properties["bygningstype"] <= 899  # NS 3457 building types
        assert properties["bygningsstatus"] in STATUSES
        kommune = geo.municipalities[properties["kommunenummer"]]
        assert kommune.contains(geometry), properties
    types = Counter(p["bygningstype"] for _, p in points)
    assert types[161] > 1_000 and types[111] > 300 and types[121] > 100
    statuses = Counter(p["bygningsstatus"] for _, p in points)
    assert statuses["TB"] > statuses["FA"] > statuses["MB"] > 0
    assert all(statuses[code] > 0 for code in ("BA", "BR", "RA", "IG"))


def test_existing_areas_are_built_and_framtidig_ones_mostly_not(points, adopted):
    built = _built(points)
    tree = shapely.STRtree(built)
    shares: dict[tuple[int, int], list[float]] = {}
    counts: dict[tuple[int, int], list[int]] = {}
    for area, properties in adopted:
        key = (properties["arealformal"], properties["arealbruksstatus"])
        shares.setdefault(key, []).append(_built_share(area, tree, built))
        counts.setdefault(key, []).append(len(tree.query(area, predicate="contains")))
    existing_cabins, new_cabins = counts[(1120, 1)], counts[(1120, 2)]
    # Every existing cabin area has cabins; most have dozens.
    assert min(existing_cabins) > 0 and np.median(existing_cabins) >= 40
    # Framtidig cabin areas: some untouched, some with a few, one or more partly built.
    assert min(new_cabins) == 0 and max(new_cabins) >= 20
    assert sum(new_cabins) < sum(existing_cabins) / 5
    for formal in (1110, 1120):
        assert np.mean(shares[(formal, 2)]) < np.mean(shares[(formal, 1)]) / 2, formal
    # Housing is denser than cabins: a larger share lies within 10 m of a house.
    assert np.mean(shares[(1110, 1)]) > 2 * np.mean(shares[(1120, 1)])
    assert min(counts[(1300, 1)]) > 0


def test_cabins_stand_40_to_60_m_apart_and_houses_closer(points, adopted):
    def nearest(kind: int, formal: int) -> float:
        spacing = []
        for area, properties in adopted:
            if (properties["arealformal"], properties["arealbruksstatus"]) != (formal, 1):
                continue
            xy = np.array(
                [
                    (g.x, g.y)
                    for g, p in _inside(points, area)
                    if p["bygningstype"] == kind and p["bygningsstatus"] not in NOT_BUILT
                ]
            )
            if len(xy) < 2:
                continue
            d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
            np.fill_diagonal(d, np.inf)
            spacing += d.min(axis=1).tolist()
        return float(np.median(spacing))

    assert 35 <= nearest(161, 1120) <= 60
    assert 22 <= nearest(111, 1110) <= 36


def test_housing_areas_hold_eneboliger_and_tomannsboliger(points, adopted):
    housing = shapely.union_all([g for g, p in adopted if p["arealformal"] == 1110])
    types = Counter(p["bygningstype"] for _, p in _inside(points, housing))
    main = types[111] + types[121]
    assert main > 0.8 * sum(types.values())
    assert types[111] > types[121] > 0
    assert types[161] == 0


def test_not_built_points_stand_on_unbuilt_lots(points, adopted):
    """BA/BR/RA points lie in the unbuilt part: counting them as built would change the account."""
    built = _built(points)
    tree = shapely.STRtree(built)
    areas = shapely.union_all([g for g, _ in adopted])
    shapely.prepare(areas)
    in_areas = [g for g, p in points if p["bygningsstatus"] in NOT_BUILT and areas.contains(g)]
    assert len(in_areas) >= 20
    for geometry in in_areas:
        assert not len(tree.query(geometry, predicate="dwithin", distance=2 * BUFFER_M))


def test_farms_setre_and_spread_cabins_lie_outside_the_plans(points, adopted, geo):
    areas = shapely.union_all([g for g, _ in adopted])
    towns = shapely.union_all(geo.tettsteder)
    outside = [(g, p) for g, p in points if not areas.contains(g)]
    types = Counter(p["bygningstype"] for _, p in outside)
    assert types[113] >= 50 and types[241] >= 50  # farmsteads: våningshus and driftsbygning
    assert types[171] >= 20 and types[161] >= 20  # setre and spread cabins
    loose = [g for g, p in outside if p["bygningstype"] in (113, 171, 241, 249)]
    assert min(areas.distance(g) for g in loose) > 20
    assert not any(towns.contains(g) for g in loose)
