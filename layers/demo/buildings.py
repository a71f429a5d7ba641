"""Building points (Kartverket's "Matrikkelen - Bygningspunkt") around the adopted kommuneplaner.

The land account counts the part of an adopted area near a building as built, so the points
are placed relative to the demo's `existing_kommuneplan` (plans.py):

- existing (nåværende) cabin areas are mostly built: fritidsbygg (161) on lots 40-60 m
  apart, filled from an access point on the area's edge inwards, so the unbuilt part is the
  far end of the area; a few large or young areas are only partly built, some cabins have an
  anneks (182), and a few points in the unbuilt part have a status that leaves the lot
  unbuilt (BA bygging avlyst, BR revet/brent, RA rammetillatelse only);
- existing housing areas are mostly built with eneboliger (111) and tomannsboliger (121)
  about 30 m apart, business areas with a few large buildings;
- framtidig areas are mostly unbuilt: some have nothing, some an old seter or cabin, and some
  are partly built from one edge, with buildings under way (IG, MB) and permits (RA);
- outside the plans: farmsteads (tun) on the valley floors and slopes, mountain setre near
  the tree line and spread cabins in the forest.

`BuildingPoints` and `buildings_in_area` (with `lot_grid`, `built_first`, `built_status`) are
shared with the county-scale benchmark's buildings (bench/generate.py).
"""

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from layers.demo.base import Feature, layer_rng
from layers.demo.geography import Geography
from layers.demo.plans import existing_kommuneplan

# NS 3457 bygningstype codes used here.
ENEBOLIG, VANINGSHUS, TOMANNSBOLIG = 111, 113, 121
FRITIDSBYGG, HELARSBOLIG_SOM_FRITIDSBOLIG = 161, 162
SETERHUS, GARASJE_BOLIG, ANNEKS_FRITIDSBOLIG = 171, 181, 182
DRIFTSBYGNING, ANNEN_LANDBRUKSBYGNING = 241, 249
BUSINESS_TYPES = (211, 219, 231, 239, 311, 322)

# Matrikkel bygningsstatus of standing buildings, and how often each is seen: most are
# tatt i bruk (TB) or have ferdigattest (FA); a few midlertidig brukstillatelse (MB),
# meldingssak (MT) or ikke pliktig registrert (IP).
BUILT = {"TB": 0.70, "FA": 0.21, "MB": 0.03, "MT": 0.03, "IP": 0.03}
# Young areas: more buildings under way and with temporary permits.
UNDER_WAY = {"TB": 0.40, "FA": 0.20, "MB": 0.15, "IG": 0.25}
# Statuses that leave the lot unbuilt: bygging avlyst, revet/brent, rammetillatelse only.
NOT_BUILT = ("BA", "BR", "RA")

# Fields are built out from the road; a field's built part stops at about this size (large
# adopted fields are seldom full), which also keeps the demo to a few thousand points.
MAX_BUILT_CABIN_M2 = 120_000.0
MAX_BUILT_HOUSING_M2 = 100_000.0
# Bygningsnummer: nine digits, unique in the layer.
FIRST_BYGNINGSNUMMER = 300_100_001


def lot_grid(rng: np.random.Generator, area: BaseGeometry, spacing: float) -> np.ndarray:
    """Lot centres `spacing` apart (a rotated, jittered grid) inside an area, 5 m from its edge."""
    inner = area.buffer(-5.0)
    if inner.is_empty:
        return np.empty((0, 2))
    cx, cy = inner.centroid.x, inner.centroid.y
    minx, miny, maxx, maxy = inner.bounds
    reach = np.hypot(maxx - minx, maxy - miny) / 2 + spacing
    steps = np.arange(-reach, reach + spacing, spacing)
    u, v = np.meshgrid(steps, steps)
    u = u.ravel() + rng.uniform(-0.2, 0.2, u.size) * spacing
    v = v.ravel() + rng.uniform(-0.2, 0.2, v.size) * spacing
    angle = rng.uniform(0, np.pi / 2)
    x = cx + u * np.cos(angle) - v * np.sin(angle)
    y = cy + u * np.sin(angle) + v * np.cos(angle)
    keep = shapely.contains_xy(inner, x, y)
    return np.column_stack([x[keep], y[keep]])


def built_first(rng: np.random.Generator, area: BaseGeometry, lots: np.ndarray) -> np.ndarray:
    """The lots in the order they are built: from an access point on the edge inwards."""
    if len(lots) == 0:
        return lots
    edge = shapely.get_exterior_ring(shapely.get_parts(area)[0])
    access = edge.interpolate(rng.uniform(0, 1), normalized=True)
    distance = np.hypot(lots[:, 0] - access.x, lots[:, 1] - access.y)
    # A little noise: a field fills along its roads, not in perfect rings.
    distance = distance + rng.normal(0, 25.0, len(lots))
    return lots[np.argsort(distance, kind="stable")]


def built_status(rng: np.random.Generator, weights: dict[str, float] = BUILT) -> str:
    """A bygningsstatus code of a standing (or nearly finished) building."""
    codes = list(weights)
    p = np.array([weights[c] for c in codes])
    return codes[int(rng.choice(len(codes), p=p / p.sum()))]


def _share(rng: np.random.Generator, choices: list[tuple[float, float, float]]) -> float:
    """A built share: (probability, low, high) bands."""
    p = np.array([c[0] for c in choices])
    low, high = choices[int(rng.choice(len(choices), p=p / p.sum()))][1:]
    return float(rng.uniform(low, high))


class BuildingPoints:
    """The building points of a layer as they are placed."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, float, int, str, str]] = []

    def add(self, x: float, y: float, bygningstype: int, status: str, kommunenummer: str) -> None:
        """Place one building."""
        self.rows.append((float(x), float(y), int(bygningstype), status, kommunenummer))

    def features(self) -> list[Feature]:
        """The points as features in the layer's attributes, numbered in placing order."""
        return [
            (
                Point(round(x, 2), round(y, 2)),
                {
                    "bygningsnummer": FIRST_BYGNINGSNUMMER + number,
                    "bygningstype": bygningstype,
                    "bygningsstatus": status,
                    "kommunenummer": kommunenummer,
                },
            )
            for number, (x, y, bygningstype, status, kommunenummer) in enumerate(self.rows)
        ]


def _inside(area: BaseGeometry, x: float, y: float) -> bool:
    return bool(shapely.contains_xy(area, x, y))


def _unbuilt_extras(
    rng: np.random.Generator,
    points: BuildingPoints,
    free_lots: np.ndarray,
    kommunenummer: str,
    bygningstype: int,
    chances: dict[str, float],
) -> None:
    """A few points with a not-built status on lots of the unbuilt part."""
    for status, chance in chances.items():
        if len(free_lots) and rng.uniform() < chance:
            x, y = free_lots[int(rng.integers(len(free_lots)))]
            points.add(x, y, bygningstype, status, kommunenummer)


def _cabin_area(
    rng: np.random.Generator,
    points: BuildingPoints,
    area: BaseGeometry,
    kommunenummer: str,
    existing: bool,
) -> None:
    spacing = rng.uniform(40, 60)
    lots = built_first(rng, area, lot_grid(rng, area, spacing))
    if existing:
        share = _share(rng, [(0.7, 0.6, 0.9), (0.2, 0.25, 0.5), (0.1, 0.02, 0.1)])
        weights = BUILT
    else:
        # Framtidig: 35 % untouched, 40 % with a few old buildings, 25 % partly built.
        mode = rng.uniform()
        share = float(rng.uniform(0.05, 0.25)) if mode >= 0.75 else 0.0
        weights = UNDER_WAY
        if 0.35 <= mode < 0.75 and len(lots):
            for _ in range(int(rng.integers(1, 5))):
                x, y = lots[int(rng.integers(len(lots)))]
                kind = SETERHUS if rng.uniform() < 0.5 else FRITIDSBYGG
                points.add(x, y, kind, built_status(rng), kommunenummer)
    count = min(round(share * len(lots)), int(MAX_BUILT_CABIN_M2 / spacing**2))
    for x, y in lots[:count]:
        kind = FRITIDSBYGG if rng.uniform() < 0.96 else HELARSBOLIG_SOM_FRITIDSBOLIG
        points.add(x, y, kind, built_status(rng, weights), kommunenummer)
        if rng.uniform() < 0.12:  # an anneks beside the cabin
            bearing, gap = rng.uniform(0, 2 * np.pi), rng.uniform(6, 12)
            ax, ay = x + gap * np.cos(bearing), y + gap * np.sin(bearing)
            if _inside(area, ax, ay):
                points.add(ax, ay, ANNEKS_FRITIDSBOLIG, built_status(rng), kommunenummer)
    chances = {"RA": 0.35, "BA": 0.15, "BR": 0.1} if existing else {"RA": 0.5, "BA": 0.1}
    _unbuilt_extras(rng, points, lots[count:], kommunenummer, FRITIDSBYGG, chances)


def _housing_area(
    rng: np.random.Generator,
    points: BuildingPoints,
    area: BaseGeometry,
    kommunenummer: str,
    existing: bool,
) -> None:
    spacing = rng.uniform(28, 36)
    lots = built_first(rng, area, lot_grid(rng, area, spacing))
    if existing:
        share, weights = float(rng.uniform(0.65, 0.9)), BUILT
    else:
        share = float(rng.uniform(0.05, 0.3)) if rng.uniform() < 0.6 else 0.0
        weights = UNDER_WAY
        if share == 0.0 and len(lots):  # an old farmstead left inside the new area
            x, y = lots[int(rng.integers(len(lots)))]
            points.add(x, y, VANINGSHUS, "TB", kommunenummer)
            if _inside(area, x + 25, y + 10):
                points.add(x + 25, y + 10, DRIFTSBYGNING, "TB", kommunenummer)
    count = min(round(share * len(lots)), int(MAX_BUILT_HOUSING_M2 / spacing**2))
    for x, y in lots[:count]:
        kind = ENEBOLIG if rng.uniform() < 0.75 else TOMANNSBOLIG
        points.add(x, y, kind, built_status(rng, weights), kommunenummer)
        if rng.uniform() < 0.08:  # a detached garage
            gx, gy = x + rng.uniform(-10, 10), y + rng.uniform(-10, 10)
            if _inside(area, gx, gy):
                points.add(gx, gy, GARASJE_BOLIG, built_status(rng), kommunenummer)
    chances = {"RA": 0.4, "BA": 0.1} if existing else {"RA": 0.6}
    _unbuilt_extras(rng, points, lots[count:], kommunenummer, ENEBOLIG, chances)


def _business_area(
    rng: np.random.Generator, points: BuildingPoints, area: BaseGeometry, kommunenummer: str
) -> None:
    lots = built_first(rng, area, lot_grid(rng, area, rng.uniform(60, 90)))
    count = round(rng.uniform(0.5, 0.85) * len(lots))
    for x, y in lots[:count]:
        kind = BUSINESS_TYPES[int(rng.integers(len(BUSINESS_TYPES)))]
        points.add(x, y, kind, built_status(rng), kommunenummer)


def buildings_in_area(
    rng: np.random.Generator, points: BuildingPoints, area: BaseGeometry, properties: dict
) -> None:
    """Place the buildings of one adopted area by its arealformål and arealbruksstatus."""
    kommunenummer = properties["kommunenummer"]
    existing = properties["arealbruksstatus"] == 1
    formal = properties["arealformal"]
    if formal == 1120:
        _cabin_area(rng, points, area, kommunenummer, existing)
    elif formal == 1110:
        _housing_area(rng, points, area, kommunenummer, existing)
    elif formal == 1300 and existing:
        _business_area(rng, points, area, kommunenummer)


def _kommune_of(geo: Geography, x: float, y: float) -> str | None:
    point = Point(x, y)
    return next((k for k, g in geo.municipalities.items() if g.contains(point)), None)


def _outside_plans(
    geo: Geography, points: BuildingPoints, rng: np.random.Generator, taken: BaseGeometry
) -> None:
    """Farmsteads in the valleys, setre near the tree line, spread cabins in the forest."""
    towns = shapely.union_all(geo.tettsteder)
    clear = shapely.union_all([taken.buffer(100), towns.buffer(100), geo.keep_out])
    shapely.prepare(clear)

    def usable(x: float, y: float) -> bool:
        return geo.in_county(x, y) and not clear.intersects(Point(x, y))

    farms = 0
    for _ in range(5000):
        if farms >= 70:
            break
        x, y, *_ = geo.along_valley(rng, (0.1, 1.3))
        if not usable(x, y) or geo.elevation(x, y) > geo.tree_line_at(x, y) - 200:
            continue
        kommune = _kommune_of(geo, x, y)
        if kommune is None:
            continue
        farms += 1
        tun = [VANINGSHUS, DRIFTSBYGNING]
        tun += [ANNEN_LANDBRUKSBYGNING] * int(rng.integers(0, 2))
        tun += [GARASJE_BOLIG] * int(rng.integers(0, 2))
        for kind in tun:
            bx, by = x + rng.uniform(-40, 40), y + rng.uniform(-40, 40)
            if geo.in_county(bx, by):
                points.add(bx, by, kind, built_status(rng), kommune)
    for kind, wanted, low, high in ((SETERHUS, 35, -150, 30), (FRITIDSBYGG, 45, -600, -200)):
        placed = 0
        for _ in range(20_000):
            if placed >= wanted:
                break
            x, y, *_ = geo.along_valley(rng, (0.8, 3.0))
            if not usable(x, y):
                continue
            if not low < geo.elevation(x, y) - geo.tree_line_at(x, y) < high:
                continue
            kommune = _kommune_of(geo, x, y)
            if kommune is not None:
                points.add(x, y, kind, built_status(rng), kommune)
                placed += 1


def buildings(geo: Geography) -> list[Feature]:
    """Building points in and around the adopted kommuneplaner (module docstring)."""
    rng = layer_rng("buildings")
    points = BuildingPoints()
    adopted = existing_kommuneplan(geo)
    for geometry, properties in adopted:
        buildings_in_area(rng, points, geometry, properties)
    _outside_plans(geo, points, rng, shapely.union_all([g for g, _ in adopted]))
    return points.features()
