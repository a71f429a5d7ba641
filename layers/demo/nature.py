"""Nature and outdoor recreation: recreation areas, wild reindeer, intact nature."""

import numpy as np
import shapely
from shapely.geometry import LineString, box
from shapely.geometry.base import BaseGeometry

from layers.demo.base import (
    GRID_EAST,
    GRID_NORTH,
    GRID_SOUTH,
    GRID_WEST,
    MAX_ATTEMPTS,
    Feature,
    layer_rng,
    utm,
)
from layers.demo.geography import Geography
from layers.demo.sample_sites import HEMSEDAL_RECREATION
from layers.demo.settlements import TETTSTEDER
from layers.demo.shapes import blob, lonlat_polygon, tidy
from layers.demo.terrain import RIDGES

RECREATION_NAMES = ["nærturområde", "turområde", "badeplass og strand", "skiløyper", "marka"]
MOUNTAIN_NAMES = ["fjellområde", "turområde", "skiløypenett", "fiskevann"]


def recreation_areas(geo: Geography) -> list[Feature]:
    """Valued recreation areas around the towns and in the mountains."""
    rng = layer_rng("recreation_areas")
    x, y, radius = HEMSEDAL_RECREATION
    anchor = geo.clip(blob(rng, x, y, radius, roughness=0.1))
    features: list[Feature] = [(anchor, {"name": "Storeli og Trøymsfjellet", "value": "B"})]
    taken = [anchor]
    towns = [
        (name, utm(*parts[0][:2])) for name, population, parts in TETTSTEDER if population > 1000
    ]
    for _attempt in range(MAX_ATTEMPTS):
        if len(features) >= 60:
            break
        near_town = len(features) < 40
        if near_town:
            name, (cx, cy) = towns[int(rng.integers(len(towns)))]
            distance, bearing = rng.uniform(1500, 6000), rng.uniform(0, 2 * np.pi)
            px, py = cx + distance * np.cos(bearing), cy + distance * np.sin(bearing)
            size = rng.uniform(400, 1500)
            label = f"{name} {RECREATION_NAMES[int(rng.integers(len(RECREATION_NAMES)))]}"
            value = str(rng.choice(["A", "B", "B", "C"]))
        else:
            px = rng.uniform(GRID_WEST, GRID_EAST - 40_000)
            py = rng.uniform(GRID_SOUTH + 40_000, GRID_NORTH)
            if not geo.in_county(px, py) or geo.elevation(px, py) < geo.tree_line_at(px, py) - 50:
                continue
            size = rng.uniform(1500, 4000)
            ridge = min(
                RIDGES, key=lambda r: np.hypot(*np.subtract(utm(*RIDGES[r][0][:2]), (px, py)))
            )
            label = f"{ridge} {MOUNTAIN_NAMES[int(rng.integers(len(MOUNTAIN_NAMES)))]}"
            value = str(rng.choice(["A", "A", "B", "B", "C"]))
        shape = blob(rng, px, py, size, aspect=rng.uniform(1, 2), angle=rng.uniform(0, np.pi))
        if not geo.in_county(px, py) or not geo.free(shape):
            continue
        if any(shape.intersects(other) for other in taken):
            continue
        geometry = geo.clip(shape)
        if geometry is None:
            continue
        taken.append(geometry)
        used = sum(1 for _, p in features if p["name"].startswith(label))
        features.append(
            (geometry, {"name": f"{label} {used + 1}" if used else label, "value": value})
        )
    return features


STATE_RECREATION = [
    ("Storøya", 10.245, 60.020, 300),
    ("Sandbukta", 10.262, 59.935, 200),
    ("Kjeksvika", 10.330, 60.045, 180),
    ("Landfalltjern", 10.115, 59.730, 220),
    ("Lågdalen", 9.640, 59.630, 250),
    ("Langesund ved Krøderen", 9.640, 60.215, 200),
    ("Rustadbukta", 9.920, 59.985, 150),
    ("Gol camping og elvebredd", 8.930, 60.695, 160),
    ("Ustedalsfjorden vest", 8.170, 60.545, 200),
    ("Sperillen sør", 10.030, 60.400, 250),
    ("Bergsjø", 9.420, 59.900, 200),
]


def state_recreation_areas(geo: Geography) -> list[Feature]:
    """State-secured outdoor recreation areas (statlig sikra friluftslivsområder)."""
    rng = layer_rng("state_recreation_areas")
    features: list[Feature] = []
    for name, lon, lat, radius in STATE_RECREATION:
        shape = blob(
            rng, *utm(lon, lat), radius, aspect=rng.uniform(1, 2.5), angle=rng.uniform(0, 3)
        )
        geometry = geo.clip(shape)
        if geometry is not None and geo.free(geometry):
            features.append((geometry, {"name": name}))
    return features


# Wild reindeer living areas, outlined in lon/lat and cut back from the valleys.
VILLREIN_LEVEOMRADER = {
    "Hardangervidda": [
        (7.30, 60.62),
        (7.75, 60.50),
        (8.00, 60.465),
        (8.25, 60.44),
        (8.45, 60.38),
        (8.58, 60.33),
        (8.60, 60.22),
        (8.68, 60.12),
        (8.85, 60.00),
        (8.40, 59.85),
        (7.30, 59.85),
    ],
    "Nordfjella": [
        (7.30, 61.00),
        (7.60, 60.70),
        (7.95, 60.68),
        (8.10, 60.73),
        (8.25, 60.82),
        (8.32, 60.95),
        (8.28, 61.10),
        (7.30, 61.10),
    ],
    "Norefjell-Reinsjøfjell": [
        (9.00, 60.33),
        (9.30, 60.37),
        (9.50, 60.33),
        (9.56, 60.22),
        (9.45, 60.11),
        (9.20, 60.07),
        (9.05, 60.14),
    ],
}
# Functional areas: (villrein area, function, lon, lat, radius m).
VILLREIN_FUNKSJON = [
    ("Hardangervidda", "kalving", 7.95, 60.30, 9000),
    ("Hardangervidda", "beite", 8.35, 60.20, 8000),
    ("Hardangervidda", "trekk", 7.90, 60.48, 3500),
    ("Nordfjella", "kalving", 7.80, 60.86, 7000),
    ("Nordfjella", "beite", 8.15, 60.95, 5000),
    ("Norefjell-Reinsjøfjell", "beite", 9.25, 60.22, 5000),
    ("Norefjell-Reinsjøfjell", "trekk", 9.40, 60.27, 2500),
]


def villrein_areas(geo: Geography) -> list[Feature]:
    """Wild reindeer living areas and their functional areas."""
    rng = layer_rng("villrein_areas")
    features: list[Feature] = []
    living: dict[str, BaseGeometry] = {}
    for name, outline in VILLREIN_LEVEOMRADER.items():
        shape = lonlat_polygon(outline).difference(geo.valley_floors).difference(geo.keep_out)
        geometry = geo.clip(shape)
        if geometry is not None:
            living[name] = geometry
            features.append((geometry, {"name": name, "category": "leveområde"}))
    for name, function, lon, lat, radius in VILLREIN_FUNKSJON:
        shape = blob(rng, *utm(lon, lat), radius, aspect=rng.uniform(1, 2), angle=rng.uniform(0, 3))
        geometry = geo.clip(shape, living[name])
        if geometry is not None:
            features.append(
                (geometry, {"name": name, "category": "funksjonsområde", "function": function})
            )
    return features


VILLREIN_CORRIDORS = [
    (
        "Trekk over Hallingdalen ved Haugastøl",
        "Hardangervidda",
        [(7.84, 60.44), (7.86, 60.49), (7.88, 60.53), (7.85, 60.58), (7.82, 60.66)],
    ),
    (
        "Trekkvei Nordfjella vest",
        "Nordfjella",
        [(7.75, 60.80), (7.88, 60.83), (8.00, 60.87), (8.10, 60.92)],
    ),
    (
        "Trekkvei Uvdalsfjella",
        "Hardangervidda",
        [(8.15, 60.40), (8.30, 60.33), (8.42, 60.25), (8.50, 60.15)],
    ),
    (
        "Trekk over Eggedal",
        "Norefjell-Reinsjøfjell",
        [(9.18, 60.30), (9.30, 60.28), (9.42, 60.25), (9.50, 60.20)],
    ),
]


def villrein_corridors(geo: Geography) -> list[Feature]:
    """Wild reindeer migration corridors (lines)."""
    features: list[Feature] = []
    for name, area, points in VILLREIN_CORRIDORS:
        geometry = geo.clip(LineString([utm(lon, lat) for lon, lat in points]))
        if geometry is not None:
            features.append((geometry, {"name": name, "villrein_area": area}))
    return features


# INON is mapped by distance from major infrastructure (inngrep): over 5 km is
# villmarkspreget, 3-5 km sone 1, 1-3 km sone 2. Here the inngrep are the valley floors
# (roads, railways, power lines), the towns, the sample plans' cabin areas and the Fv40
# mountain road from Geilo to Dagali; only the western mountains are mapped.
INON_REGION = (GRID_WEST, 6_640_000, 530_000, GRID_NORTH)
INON_ROADS = [[(8.206, 60.534), (8.300, 60.470), (8.450, 60.420)]]
INON_ZONES = [("villmarkspreget", 5000, None), ("sone 1", 3000, 5000), ("sone 2", 1000, 3000)]


def intact_nature(geo: Geography) -> list[Feature]:
    """INON zones by distance from infrastructure in the western mountains."""
    roads = [LineString([utm(lon, lat) for lon, lat in road]).buffer(50) for road in INON_ROADS]
    disturbed = shapely.union_all([geo.valley_floors, geo.keep_out, *geo.tettsteder, *roads])
    disturbed = disturbed.simplify(100)
    region = geo.county.intersection(box(*INON_REGION))
    near = {distance: disturbed.buffer(distance, quad_segs=4) for distance in (1000, 3000, 5000)}
    features: list[Feature] = []
    for zone, inner, outer in INON_ZONES:
        shape = region.difference(near[inner])
        if outer is not None:
            shape = shape.intersection(near[outer])
        parts = [part for part in shapely.get_parts(tidy(shape)) if part.area >= 10_000_000]
        for part in sorted(parts, key=lambda p: (-p.area, p.centroid.x)):
            features.append((part, {"zone": zone}))
    return features
