"""Generate county-scale synthetic benchmark layers and plans, and load the layers.

Everything is deterministic (fixed seed, one random generator per layer or plan) and
built over the real Buskerud geography of `layers/demo/` (valleys, ridges, towns,
stations, the real municipality boundaries), at the scale of real county data sets:

- `elevation`: a 10 m DEM over the county's bounding box, 17,450 x 18,800 cells, written
  window by window (512 rows at a time, never the whole grid in memory): the demo
  terrain's 250 m surface upsampled with cubic convolution plus a deterministic
  micro-relief of a few metres; loaded as a tiled COG by the loader.
- `tree_line`: the demo tree-line surface (500 m cells, 900 m east to 1,100 m west).
- `heritage_protected`: about 25,000 sites (clusters along valleys, near towns and
  trapping-pit systems in the mountains) each with its 5 m sikringssone, plus protected
  cultural environments: about 50,000 features.
- `mineral_deposits` 3,000, `recreation_areas` 2,000, `state_recreation_areas` ~200,
  `cultural_environments` ~200, `municipal_heritage_plans` ~150, `tettsteder` ~70,
  `transport_hubs` ~400, the demo's villrein areas, corridors (plus more) and intact nature,
  and an adopted-kommuneplan layer (`existing_kommuneplan`) with ~5,500 areas, about a
  quarter of them framtidig (the land account's reserves).
- `buildings`: matrikkel building points (issue 23's land account), placed as the demo's
  (layers/demo/buildings.py) in every adopted area: existing areas mostly built (cabins 40-60
  m apart), framtidig ones mostly unbuilt; plus the towns' buildings, farmsteads on the
  valley floors, setre and spread cabins.

Plans (GeoJSON, EPSG:25832) with realistic purposes: S is a 30-feature reguleringsplan for a
cabin and village area on the slope above Geilo (cabins up to and across the tree line,
housing, business, roads, green, a zone); M is Kongsberg's kommuneplan arealdel with 3,000
features; L is one kommuneplan per municipality, 30,000 features in all. Kommuneplaner put
new cabins (1120, status 2) in the mountains (some enlarging adopted cabin fields), housing
near tettsteder, business, retail and services in and around them, roads along valleys,
råstoffutvinning and H590 over some deposits, H570/H730 over cultural environments, and
LNFR over the rest of the municipality.

Run: .venv/bin/python bench/generate.py [--force]   (data go to bench/.data/, git-ignored)
"""

import argparse
import json
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import common  # noqa: F401  (sets the bench database URL before app modules load)
import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from layers.demo import base as demo_base
from layers.demo import buildings as demo_buildings
from layers.demo import forest as demo_forest
from layers.demo import heritage as demo_heritage
from layers.demo import nature as demo_nature
from layers.demo import settlements as demo_settlements
from layers.demo import shapes as demo_shapes
from layers.demo import terrain as demo_terrain
from layers.demo.geography import Geography
from layers.demo.heritage import HERITAGE_KINDS
from spatial.crs import CANONICAL_SRID

GENERATOR_VERSION = 6
RASTER_VERSION = 1
SEED = 20261108
CRS = f"EPSG:{CANONICAL_SRID}"

WEST, NORTH = demo_base.GRID_WEST, demo_base.GRID_NORTH
EAST, SOUTH = demo_base.GRID_EAST, demo_base.GRID_SOUTH
DEM_CELL = 10.0
DEM_COLS = round((EAST - WEST) / DEM_CELL)  # 17,450
DEM_ROWS = round((NORTH - SOUTH) / DEM_CELL)  # 18,800
STRIP_ROWS = 512

N_HERITAGE_SITES = 25_000
N_DEPOSITS = 3_000
N_RECREATION = 2_000
N_STATE_RECREATION = 200
N_CULTURAL_ENVIRONMENTS = 200
N_HERITAGE_PLANS = 150
N_EXTRA_TETTSTEDER = 40
N_HUBS = 400
N_EXTRA_CORRIDORS = 16
N_FARMS = 6_000
N_SETRE = 1_500
N_SPREAD_CABINS = 3_000
# Buildings in the tettsteder per inhabitant (houses, blocks, garages, shops, workshops).
TOWN_BUILDINGS_PER_PERSON = 0.3
TOWN_TYPES = {111: 0.45, 121: 0.10, 131: 0.08, 142: 0.05, 181: 0.17, 219: 0.03, 231: 0.03}
TOWN_TYPES |= {311: 0.04, 322: 0.05}
# Share of the adopted areas that are framtidig (arealbruksstatus 2), by arealformål.
FRAMTIDIG_SHARE = {1120: 0.25, 1110: 0.3, 1300: 0.3}
S_FEATURES, M_FEATURES, L_FEATURES = 30, 3_000, 30_000
M_MUNICIPALITY = "3303"  # Kongsberg: a regional town, valley gravel, Blefjell cabins
S_MUNICIPALITY = "3330"  # Hol: the S plan lies on the slope above Geilo


def rng_for(name: str) -> np.random.Generator:
    """A generator per layer or plan, so one change does not move the others."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


# --- rasters -------------------------------------------------------------------------------


def write_dem(path: Path) -> None:
    """Write the 10 m DEM strip by strip: upsampled demo terrain plus micro-relief."""
    coarse = demo_terrain.terrain_coarse().astype(np.float32)
    coarse_transform = demo_base.grid_transform(WEST, NORTH, demo_base.TERRAIN_CELL)
    rng = rng_for("elevation-10m")
    waves = [
        (
            float(rng.uniform(1.5, 4.0)),  # amplitude m
            float(rng.uniform(120, 900)),  # wavelength m
            float(rng.uniform(0, np.pi)),  # direction
            float(rng.uniform(0, 2 * np.pi)),  # phase
        )
        for _ in range(6)
    ]
    profile = {
        "driver": "GTiff",
        "width": DEM_COLS,
        "height": DEM_ROWS,
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "transform": from_origin(WEST, NORTH, DEM_CELL, DEM_CELL),
        "nodata": demo_base.NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "IF_SAFER",
    }
    xs = (WEST + DEM_CELL * (np.arange(DEM_COLS) + 0.5)).astype(np.float64)
    with rasterio.open(path, "w", **profile) as dataset:
        for row in range(0, DEM_ROWS, STRIP_ROWS):
            height = min(STRIP_ROWS, DEM_ROWS - row)
            strip = np.zeros((height, DEM_COLS), dtype=np.float32)
            reproject(
                coarse,
                strip,
                src_transform=coarse_transform,
                dst_transform=from_origin(WEST, NORTH - row * DEM_CELL, DEM_CELL, DEM_CELL),
                src_crs=CRS,
                dst_crs=CRS,
                resampling=Resampling.cubic,
            )
            ys = NORTH - DEM_CELL * (row + np.arange(height) + 0.5)
            micro = np.zeros((height, DEM_COLS), dtype=np.float32)
            for amplitude, wavelength, direction, phase in waves:
                k = 2 * np.pi / wavelength
                along_x = (k * np.cos(direction) * (xs - WEST)).astype(np.float32)
                along_y = (k * np.sin(direction) * (ys - SOUTH) + phase).astype(np.float32)
                micro += amplitude * np.cos(along_x[None, :] + along_y[:, None])
            # Flat valley floors, rougher uplands.
            micro *= np.clip((strip - 150.0) / 400.0, 0.15, 1.0)
            strip += micro
            np.clip(strip, 0.0, demo_base.MAX_ELEVATION, out=strip)
            np.round(strip, 1, out=strip)
            dataset.write(strip, 1, window=Window(0, row, DEM_COLS, height))
        dataset.update_tags(SOURCE=common.BENCH_SOURCE, LICENCE=common.BENCH_LICENCE)


def write_tree_line(path: Path) -> None:
    """Write the demo tree-line surface (500 m cells)."""
    array, transform = demo_terrain.tree_line_array()
    demo_terrain.write_raster(path, array, transform, "Synthetic tree line (benchmark)")


# --- geography -----------------------------------------------------------------------------


class Context:
    """The geography every layer and plan is placed in, and what layers share."""

    def __init__(self) -> None:
        dem, _ = demo_terrain.elevation_array()
        tree_line, _ = demo_terrain.tree_line_array()
        self.geo = Geography(dem, tree_line)
        self.geo.keep_out = shapely.Polygon()  # no sample plans to keep clear of here
        self.municipalities = self.geo.municipalities
        self.centrality = _centrality_classes()
        self.tettsteder: list[tuple[BaseGeometry, dict[str, Any]]] = []
        self.town_union: BaseGeometry = shapely.Polygon()
        self.layers: dict[str, list[tuple[BaseGeometry, dict[str, Any]]]] = {}
        self.pools: dict[str, Pools] = {}

    def elevation(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elevation of the 50 m demo terrain at points (vectorised)."""
        dem = self.geo.dem
        rows = np.clip(((NORTH - y) // demo_base.DEM_CELL).astype(int), 0, dem.shape[0] - 1)
        cols = np.clip(((x - WEST) // demo_base.DEM_CELL).astype(int), 0, dem.shape[1] - 1)
        return dem[rows, cols].astype(float)

    def tree_line(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Tree-line elevation at points (vectorised)."""
        grid = self.geo.tree_line
        rows = np.clip(((NORTH - y) // demo_base.TREE_LINE_CELL).astype(int), 0, grid.shape[0] - 1)
        cols = np.clip(((x - WEST) // demo_base.TREE_LINE_CELL).astype(int), 0, grid.shape[1] - 1)
        return grid[rows, cols].astype(float)

    def margin(self, x: float, y: float) -> float:
        """Height above the tree line at a point (negative below)."""
        xs, ys = np.array([x]), np.array([y])
        return float(self.elevation(xs, ys)[0] - self.tree_line(xs, ys)[0])


def _centrality_classes() -> dict[str, int]:
    import yaml

    from layers.municipalities import ATTRIBUTES_FILE

    data = yaml.safe_load(ATTRIBUTES_FILE.read_text("utf-8"))["municipalities"]
    return {k: int(v["centrality_class"]) for k, v in data.items()}


class Pools:
    """Candidate points of one municipality on a 250 m grid, by kind of terrain."""

    def __init__(self, ctx: Context, kommunenummer: str) -> None:
        municipality = ctx.municipalities[kommunenummer]
        self.inner = municipality.buffer(-60)
        self.inner_prepared = prep(self.inner)
        minx, miny, maxx, maxy = self.inner.bounds
        gx, gy = np.meshgrid(np.arange(minx + 125, maxx, 250), np.arange(miny + 125, maxy, 250))
        x, y = gx.ravel(), gy.ravel()
        keep = shapely.contains_xy(self.inner, x, y)
        self.x, self.y = x[keep], y[keep]
        margin = ctx.elevation(self.x, self.y) - ctx.tree_line(self.x, self.y)
        near_towns = ctx.town_union.intersection(municipality.buffer(5000))
        points = shapely.points(self.x, self.y)
        town_distance = (
            shapely.distance(near_towns, points)
            if not near_towns.is_empty
            else np.full(len(self.x), 1e9)
        )
        valley = shapely.contains_xy(ctx.geo.valley_floors, self.x, self.y)
        # New cabin fields are drawn towards the tree line, where the land is attractive.
        self.weight = {"mountain": np.exp(np.clip(margin, -400, 200) / 90.0)}
        everything = np.arange(len(self.x))
        self.pools = {
            "mountain": np.flatnonzero((margin > -260) & (margin < 90) & (town_distance > 1500)),
            "forest": np.flatnonzero((margin <= -260) & (town_distance > 800)),
            "town": np.flatnonzero(town_distance == 0),
            "town_edge": np.flatnonzero((town_distance > 0) & (town_distance < 2500)),
            "valley": np.flatnonzero(valley & (town_distance > 300)),
            "any": everything,
        }
        self.fallback = {
            "mountain": ["forest", "any"],
            "forest": ["any"],
            "town": ["town_edge", "valley", "any"],
            "town_edge": ["town", "valley", "any"],
            "valley": ["forest", "any"],
            "any": [],
        }

    def sample(self, rng: np.random.Generator, pool: str) -> tuple[float, float]:
        """A random point of a pool (jittered inside its 250 m cell)."""
        for name in [pool, *self.fallback[pool]]:
            if len(self.pools[name]):
                weights = self.weight.get(name)
                if weights is not None:
                    chosen = weights[self.pools[name]]
                    i = int(rng.choice(self.pools[name], p=chosen / chosen.sum()))
                else:
                    i = int(rng.choice(self.pools[name]))
                return (
                    float(self.x[i] + rng.uniform(-125, 125)),
                    float(self.y[i] + rng.uniform(-125, 125)),
                )
        raise ValueError("a municipality without candidate points")

    def clip(self, shape: BaseGeometry, min_area: float) -> BaseGeometry | None:
        """The part of a shape inside the municipality (shapes inside are kept as they are)."""
        if self.inner_prepared.contains(shape):
            return shape
        return tidy(shape.intersection(self.inner), min_area)


class Occupancy:
    """A hash grid of placed polygons, so plan areas do not overlap each other."""

    def __init__(self, cell: float = 1000.0) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[BaseGeometry]] = defaultdict(list)

    def _keys(self, geometry: BaseGeometry) -> Iterable[tuple[int, int]]:
        minx, miny, maxx, maxy = geometry.bounds
        for i in range(int(minx // self.cell), int(maxx // self.cell) + 1):
            for j in range(int(miny // self.cell), int(maxy // self.cell) + 1):
                yield i, j

    def free(self, geometry: BaseGeometry, gap: float = 0.0) -> bool:
        """True when the geometry comes no nearer than `gap` to any placed polygon."""
        if geometry.is_empty:
            return True
        minx, miny, maxx, maxy = geometry.bounds
        probe = box(minx - gap, miny - gap, maxx + gap, maxy + gap)
        seen: set[int] = set()
        for key in self._keys(probe):
            for other in self.cells.get(key, ()):
                if id(other) not in seen:
                    seen.add(id(other))
                    if shapely.dwithin(geometry, other, gap):
                        return False
        return True

    def add(self, geometry: BaseGeometry) -> None:
        """Record a placed polygon."""
        for key in self._keys(geometry):
            self.cells[key].append(geometry)


def tidy(geometry: BaseGeometry | None, min_area: float = 1.0) -> BaseGeometry | None:
    """Snap to a 1 cm grid, keep the parts of the geometry's own dimension and size."""
    if geometry is None or geometry.is_empty:
        return None
    tidied = demo_shapes.tidy(geometry)
    if tidied is None or shapely.get_dimensions(tidied) != 2 or min_area <= 1:
        return tidied
    parts = [p for p in shapely.get_parts(tidied) if p.area >= min_area]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


# --- layers ----------------------------------------------------------------------------------


def build_tettsteder(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The demo tettsteder plus small settlements (grender) along the valleys."""
    features = demo_settlements.tettsteder(ctx.geo)
    rng = rng_for("tettsteder")
    taken = shapely.union_all([g for g, _ in features])
    number = len(features)
    for _ in range(20_000):
        if number >= len(demo_settlements.TETTSTEDER) + N_EXTRA_TETTSTEDER:
            break
        px, py, valley, _, _ = ctx.geo.along_valley(rng, (0.0, 0.3))
        if not ctx.geo.in_county(px, py) or taken.distance(Point(px, py)) < 3000:
            continue
        shape = demo_shapes.blob(rng, px, py, float(rng.uniform(250, 650)), roughness=0.15)
        geometry = ctx.geo.clip(shape)
        if geometry is None:
            continue
        number += 1
        taken = taken.union(geometry)
        population = int(rng.integers(200, 1900))
        properties = {
            "name": f"{valley}grenda {number}",
            "tettsted_id": f"BENCH-{number:03d}",
            "population": population,
        }
        features.append((geometry, properties))
    return features


def build_hubs(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The demo stations and bus hubs, one hub per extra settlement, bus stops in valleys."""
    features = demo_settlements.transport_hubs(ctx.geo)
    rng = rng_for("transport_hubs")
    for geometry, properties in ctx.tettsteder[len(demo_settlements.TETTSTEDER) :]:
        point = geometry.representative_point()
        features.append(
            (
                Point(round(point.x, 2), round(point.y, 2)),
                {"name": f"{properties['name']} skysstasjon", "hub_type": "lokalt knutepunkt"},
            )
        )
    while len(features) < N_HUBS:
        px, py, valley, _, _ = ctx.geo.along_valley(rng, (0.0, 0.4))
        if ctx.geo.in_county(px, py):
            name = f"{valley} holdeplass {len(features) + 1}"
            features.append(
                (Point(round(px, 2), round(py, 2)), {"name": name, "hub_type": "lokalt knutepunkt"})
            )
    return features


def build_deposits(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """3,000 deposits: gravel on valley floors, hard rock on valley sides."""
    rng = rng_for("mineral_deposits")
    gravel_importance = ["nasjonal", "regional", "regional", "regional", "lokal", "lokal"]
    gravel_importance += ["lokal", "ikke vurdert", "ikke vurdert", "liten eller ingen"]
    rock_importance = ["nasjonal", "regional", "regional", "lokal", "lokal", "ikke vurdert"]
    rock_types = ["pukk", "pukk", "pukk", "naturstein", "industrimineral", "metall"]
    features: list[tuple[BaseGeometry, dict[str, Any]]] = []
    while len(features) < N_DEPOSITS:
        hard_rock = rng.uniform() < 0.25
        px, py, valley, _, direction = ctx.geo.along_valley(
            rng, (0.4, 1.3) if hard_rock else (0.0, 0.35)
        )
        if not ctx.geo.in_county(px, py):
            continue
        if hard_rock:
            shape = demo_shapes.blob(rng, px, py, rng.uniform(80, 300), roughness=0.2, vertices=16)
        else:
            shape = demo_shapes.blob(
                rng,
                px,
                py,
                rng.uniform(120, 450),
                aspect=rng.uniform(2, 5),
                angle=direction + rng.uniform(-0.3, 0.3),
            )
        geometry = ctx.geo.clip(shape)
        if geometry is None:
            continue
        number = len(features) + 1
        importance = rock_importance if hard_rock else gravel_importance
        features.append(
            (
                geometry,
                {
                    "name": f"{valley} {number:04d}",
                    "deposit_id": f"BENCH-{number:05d}",
                    "importance": str(rng.choice(importance)),
                    "resource_type": str(rng.choice(rock_types)) if hard_rock else "grus",
                },
            )
        )
    return features


def build_heritage(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """About 25,000 sites in clusters, each with its 5 m sikringssone, and environments."""
    rng = rng_for("heritage_protected")
    towns = [g.representative_point() for g, _ in ctx.tettsteder]
    sites: list[tuple[BaseGeometry, str, str]] = []
    while len(sites) < N_HERITAGE_SITES:
        mode = rng.uniform()
        if mode < 0.55:
            px, py, *_ = ctx.geo.along_valley(rng, (0.05, 1.6))
            kinds, cluster, spacing = HERITAGE_KINDS["valley"], int(rng.integers(1, 5)), 60
        elif mode < 0.75:
            centre = towns[int(rng.integers(len(towns)))]
            distance, bearing = rng.uniform(300, 4000), rng.uniform(0, 2 * np.pi)
            px, py = centre.x + distance * np.cos(bearing), centre.y + distance * np.sin(bearing)
            kinds, cluster, spacing = HERITAGE_KINDS["valley"], int(rng.integers(1, 4)), 80
        else:
            px, py = rng.uniform(WEST, EAST - 40_000), rng.uniform(SOUTH + 50_000, NORTH)
            if not ctx.geo.in_county(px, py) or ctx.margin(px, py) < -200:
                continue
            kinds, cluster, spacing = HERITAGE_KINDS["mountain"], int(rng.integers(2, 13)), 35
        if not ctx.geo.in_county(px, py):
            continue
        heading = rng.uniform(0, 2 * np.pi)
        for k in range(cluster):
            name, smallest, largest = kinds[int(rng.integers(len(kinds)))]
            sx = px + k * spacing * np.cos(heading) + rng.uniform(-10, 10)
            sy = py + k * spacing * np.sin(heading) + rng.uniform(-10, 10)
            size = rng.uniform(smallest, largest)
            shape = demo_shapes.blob(rng, sx, sy, size, roughness=0.1, vertices=14)
            category = "enkeltminne" if rng.uniform() < 0.3 else "lokalitet"
            sites.append((shape, name, category))
    features: list[tuple[BaseGeometry, dict[str, Any]]] = []
    for number, (shape, name, category) in enumerate(sites[:N_HERITAGE_SITES], start=1):
        site = ctx.geo.clip(shape)
        if site is None:
            continue
        heritage_id = f"BENCH-{number:06d}"
        base = {"heritage_id": heritage_id, "vernetype": "AUT"}
        features.append((site, {"name": name, "category": category, **base}))
        ring = ctx.geo.clip(shape.buffer(5.0, quad_segs=4).difference(shape))
        if ring is not None:
            zone = {"name": f"Sikringssone, {name}", "category": "sikringssone", **base}
            features.append((ring, zone))
    for number in range(1, 41):
        centre = towns[int(rng.integers(len(towns)))]
        distance, bearing = rng.uniform(500, 6000), rng.uniform(0, 2 * np.pi)
        px, py = centre.x + distance * np.cos(bearing), centre.y + distance * np.sin(bearing)
        shape = demo_shapes.blob(rng, px, py, rng.uniform(150, 500), aspect=rng.uniform(1, 2))
        geometry = ctx.geo.clip(shape)
        if geometry is not None:
            properties = {
                "name": f"Fredet kulturmiljø {number}",
                "heritage_id": f"BENCH-9{number:05d}",
                "category": "fredet kulturmiljø",
                "vernetype": "FOR",
            }
            features.append((geometry, properties))
    return features


def build_recreation(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """2,000 recreation areas: around every settlement and in the mountains."""
    rng = rng_for("recreation_areas")
    towns = [(g.representative_point(), p["name"]) for g, p in ctx.tettsteder]
    features: list[tuple[BaseGeometry, dict[str, Any]]] = []
    while len(features) < N_RECREATION:
        if rng.uniform() < 0.65:
            centre, town = towns[int(rng.integers(len(towns)))]
            distance, bearing = rng.uniform(500, 7000), rng.uniform(0, 2 * np.pi)
            px, py = centre.x + distance * np.cos(bearing), centre.y + distance * np.sin(bearing)
            size, value = rng.uniform(200, 1400), str(rng.choice(["A", "B", "B", "C", "C"]))
            label = f"{town} {demo_nature.RECREATION_NAMES[int(rng.integers(5))]}"
        else:
            px, py = rng.uniform(WEST, EAST - 30_000), rng.uniform(SOUTH + 30_000, NORTH)
            if not ctx.geo.in_county(px, py) or ctx.margin(px, py) < -150:
                continue
            size, value = rng.uniform(600, 2500), str(rng.choice(["A", "A", "B", "B", "C"]))
            label = f"Fjellområde {demo_nature.MOUNTAIN_NAMES[int(rng.integers(4))]}"
        if not ctx.geo.in_county(px, py):
            continue
        aspect, angle = rng.uniform(1, 2), rng.uniform(0, 3)
        shape = demo_shapes.blob(rng, px, py, size, aspect=aspect, angle=angle)
        geometry = ctx.geo.clip(shape)
        if geometry is not None:
            name = f"{label} {len(features) + 1}"
            features.append((geometry, {"name": name, "value": value}))
    return features


def _near_towns(
    ctx: Context, rng: np.random.Generator, count: int, size: tuple[float, float], reach: float
) -> list[BaseGeometry]:
    towns = [g.representative_point() for g, _ in ctx.tettsteder]
    shapes: list[BaseGeometry] = []
    while len(shapes) < count:
        centre = towns[int(rng.integers(len(towns)))]
        distance, bearing = rng.uniform(0, reach), rng.uniform(0, 2 * np.pi)
        px, py = centre.x + distance * np.cos(bearing), centre.y + distance * np.sin(bearing)
        shape = demo_shapes.blob(rng, px, py, rng.uniform(*size), aspect=rng.uniform(1, 2))
        geometry = ctx.geo.clip(shape)
        if geometry is not None:
            shapes.append(geometry)
    return shapes


def build_state_recreation(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The demo's state-secured areas plus more along the shores near settlements."""
    features = demo_nature.state_recreation_areas(ctx.geo)
    rng = rng_for("state_recreation_areas")
    for number, shape in enumerate(
        _near_towns(ctx, rng, N_STATE_RECREATION - len(features), (80, 350), 6000), start=1
    ):
        features.append((shape, {"name": f"Statlig sikret friluftsområde {number}"}))
    return features


def build_cultural_environments(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The demo's cultural environments plus ~200 more near settlements and in valleys."""
    features = demo_heritage.cultural_environments(ctx.geo)
    rng = rng_for("cultural_environments")
    categories = (
        ["regional interesse"] * 6 + ["nasjonal interesse"] * 3 + ["utvalgt kulturlandskap"]
    )
    for number, shape in enumerate(
        _near_towns(ctx, rng, N_CULTURAL_ENVIRONMENTS, (200, 1200), 9000), start=1
    ):
        category = str(rng.choice(categories))
        features.append((shape, {"name": f"Kulturmiljø {number}", "category": category}))
    return features


def build_heritage_plans(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The demo's municipal heritage-plan environments plus ~150 more, in one municipality each."""
    features = demo_heritage.municipal_heritage_plans(ctx.geo)
    rng = rng_for("municipal_heritage_plans")
    for number, shape in enumerate(_near_towns(ctx, rng, N_HERITAGE_PLANS, (150, 500), 4000)):
        point = shape.representative_point()
        kommune = next((k for k, g in ctx.municipalities.items() if g.covers(point)), None)
        if kommune is None:
            continue
        geometry = tidy(shape.intersection(ctx.municipalities[kommune]), 100)
        if geometry is None:
            continue
        name = ctx.geo.municipality_names[kommune]
        properties = {
            "name": f"Kulturmiljø i kulturminneplanen {number + 1}",
            "kommunenummer": kommune,
            "plan_name": f"Kulturminneplan for {name}",
        }
        features.append((geometry, properties))
    return features


def build_corridors(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """The demo corridors plus wandering migration routes inside the living areas."""
    features = demo_nature.villrein_corridors(ctx.geo)
    living = [
        (g, p["name"]) for g, p in ctx.layers["villrein_areas"] if p["category"] == "leveområde"
    ]
    rng = rng_for("villrein_corridors")
    while len(features) < len(demo_nature.VILLREIN_CORRIDORS) + N_EXTRA_CORRIDORS:
        area, name = living[int(rng.integers(len(living)))]
        start = area.representative_point()
        minx, miny, maxx, maxy = area.bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not area.contains(Point(x, y)):
            x, y = start.x, start.y
        heading = rng.uniform(0, 2 * np.pi)
        points = [(x, y)]
        for _ in range(10):
            heading += rng.uniform(-0.5, 0.5)
            step = rng.uniform(1500, 3500)
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            points.append((x, y))
        geometry = ctx.geo.clip(LineString(points), area)
        if geometry is not None and geometry.length > 2000:
            number = len(features) + 1
            features.append((geometry, {"name": f"Trekkvei {number}", "villrein_area": name}))
    return features


def _allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split a count by weights with the largest-remainder method (sums exactly)."""
    norm = sum(weights.values())
    raw = {k: total * w / norm for k, w in weights.items()}
    counts = {k: int(math.floor(v)) for k, v in raw.items()}
    for key in sorted(raw, key=lambda k: (counts[k] - raw[k], k))[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


# Kommuneplan mix: arealformål areas only (boundary, LNFR and zones are added on top).
URBAN_MIX = {
    "cabin_new": 0.05,
    "cabin_old": 0.05,
    "cabin_spread": 0.01,
    "housing_new": 0.18,
    "housing_old": 0.22,
    "business": 0.09,
    "retail": 0.03,
    "public": 0.05,
    "sport": 0.02,
    "green": 0.12,
    "road": 0.15,
    "tourism": 0.01,
    "raastoff": 0.02,
}
RURAL_MIX = {
    "cabin_new": 0.21,
    "cabin_old": 0.20,
    "cabin_spread": 0.04,
    "housing_new": 0.08,
    "housing_old": 0.10,
    "business": 0.05,
    "retail": 0.01,
    "public": 0.02,
    "sport": 0.01,
    "green": 0.06,
    "road": 0.16,
    "tourism": 0.04,
    "raastoff": 0.02,
}
EXPANSION_SHARE = 0.3  # of new cabin areas: enlargements of adopted cabin fields


def _plan_counts(kommunenummer: str, total: int, centrality: int) -> dict[str, int]:
    lnfr = max(3, round(0.04 * total))
    zones = round(0.08 * total)
    mix = URBAN_MIX if centrality <= 2 else RURAL_MIX
    counts = _allocate(total - 1 - lnfr - zones, mix)
    counts["expansion"] = round(EXPANSION_SHARE * counts["cabin_new"])
    counts["cabin_new"] -= counts["expansion"]
    return {**counts, "lnfr": lnfr, "zones": zones}


def l_allocation(ctx: Context) -> dict[str, int]:
    """L's features per municipality: half by land area, half evenly; 30,000 in all."""
    areas = {k: g.area for k, g in ctx.municipalities.items()}
    total_area = sum(areas.values())
    weights = {k: 0.5 * a / total_area + 0.5 / len(areas) for k, a in areas.items()}
    return _allocate(L_FEATURES, weights)


def build_existing(
    ctx: Context, needs: dict[str, int]
) -> tuple[list[tuple[BaseGeometry, dict[str, Any]]], dict[str, list[BaseGeometry]]]:
    """Adopted kommuneplaner: cabin fields in the mountains and housing at the towns."""
    rng = rng_for("existing_kommuneplan")
    features: list[tuple[BaseGeometry, dict[str, Any]]] = []
    cabins: dict[str, list[BaseGeometry]] = {}
    for kommunenummer in sorted(ctx.municipalities):
        pools = ctx.pools[kommunenummer]
        occupancy = Occupancy()
        placed: list[BaseGeometry] = []
        planid = f"KPA{2014 + int(kommunenummer[-2:]) % 9}"
        base = {"kommunenummer": kommunenummer, "planidentifikasjon": planid}
        for _ in range(needs[kommunenummer] * 40):
            if len(placed) >= needs[kommunenummer]:
                break
            x, y = pools.sample(rng, "mountain")
            shape = demo_shapes.blob(
                rng,
                x,
                y,
                rng.uniform(120, 380),
                aspect=rng.uniform(1, 2.2),
                angle=rng.uniform(0, 3),
            )
            if not occupancy.free(shape, 150):
                continue
            geometry = pools.clip(shape, 2000)
            if geometry is None:
                continue
            occupancy.add(geometry)
            placed.append(geometry)
            props = {**base, "arealformal": 1120, "arealbruksstatus": 1}
            features.append((geometry, props))
        cabins[kommunenummer] = placed
        for formal, pool, count in ((1110, "town_edge", 25), (1300, "town_edge", 8)):
            for _ in range(count):
                x, y = pools.sample(rng, pool)
                shape = demo_shapes.blob(rng, x, y, rng.uniform(80, 250), roughness=0.1)
                geometry = tidy(shape.intersection(pools.inner), 500)
                if geometry is not None and occupancy.free(geometry):
                    occupancy.add(geometry)
                    features.append(
                        (geometry, {**base, "arealformal": formal, "arealbruksstatus": 1})
                    )
    return features, cabins


def mark_framtidig(features: list[tuple[BaseGeometry, dict[str, Any]]]) -> None:
    """Make a share of the adopted areas framtidig (arealbruksstatus 2): the plans' reserves.

    A generator of its own, drawn after the areas are placed, so the areas' shapes and
    purposes stay as they were (G1 reads only those; the S/M/L findings do not change).
    """
    rng = rng_for("existing_kommuneplan-status")
    for _, properties in features:
        if rng.uniform() < FRAMTIDIG_SHARE.get(properties["arealformal"], 0.0):
            properties["arealbruksstatus"] = 2


def build_buildings(ctx: Context) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """Building points: the adopted areas (as the demo's), the towns, farms, setre, cabins."""
    rng = rng_for("buildings")
    points = demo_buildings.BuildingPoints()
    adopted = ctx.layers["existing_kommuneplan"]
    for geometry, properties in adopted:
        demo_buildings.buildings_in_area(rng, points, geometry, properties)
    areas = shapely.STRtree([g for g, _ in adopted])
    towns = shapely.STRtree([g for g, _ in ctx.tettsteder])
    kommuner = sorted(ctx.municipalities)

    def kommune_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The kommunenummer of each point, "" outside the county or inside an adopted area."""
        out = np.full(len(x), "", dtype=object)
        for kommunenummer in kommuner:
            inside = shapely.contains_xy(ctx.municipalities[kommunenummer], x, y)
            out[inside & (out == "")] = kommunenummer
        in_area, _ = areas.query(shapely.points(x, y), predicate="intersects")
        out[in_area] = ""
        return out

    # The towns: a lot grid as dense as the population asks, around the adopted areas.
    codes = list(TOWN_TYPES)
    weights = np.array([TOWN_TYPES[c] for c in codes])
    for geometry, properties in ctx.tettsteder:
        wanted = properties["population"] * TOWN_BUILDINGS_PER_PERSON
        spacing = float(np.clip(math.sqrt(geometry.area / wanted), 25.0, 80.0))
        lots = demo_buildings.lot_grid(rng, geometry, spacing)
        if not len(lots):
            continue
        owner = kommune_of(lots[:, 0], lots[:, 1])
        kinds = rng.choice(codes, size=len(lots), p=weights / weights.sum())
        for (x, y), kommunenummer, kind in zip(lots, owner, kinds, strict=True):
            if kommunenummer:
                points.add(x, y, int(kind), demo_buildings.built_status(rng), kommunenummer)

    # Farmsteads, setre and spread cabins, spread over the municipalities by their terrain.
    groups = (
        ("valley", N_FARMS, [demo_buildings.VANINGSHUS, demo_buildings.DRIFTSBYGNING], 40.0),
        ("mountain", N_SETRE, [demo_buildings.SETERHUS], 0.0),
        ("forest", N_SPREAD_CABINS, [demo_buildings.FRITIDSBYGG], 0.0),
    )
    for pool, total, kinds, spread in groups:
        sizes = {k: len(ctx.pools[k].pools[pool]) for k in kommuner}
        shares = _allocate(total, {k: float(n) + 1.0 for k, n in sizes.items()})
        for kommunenummer in kommuner:
            municipality = ctx.municipalities[kommunenummer]
            for _ in range(shares[kommunenummer]):
                x, y = ctx.pools[kommunenummer].sample(rng, pool)
                if len(towns.query(Point(x, y), predicate="dwithin", distance=100)):
                    continue
                tun = list(kinds)
                if spread:
                    tun += [demo_buildings.ANNEN_LANDBRUKSBYGNING] * int(rng.integers(0, 2))
                    tun += [demo_buildings.GARASJE_BOLIG] * int(rng.integers(0, 2))
                for kind in tun:
                    bx = x + float(rng.uniform(-spread, spread))
                    by = y + float(rng.uniform(-spread, spread))
                    if not shapely.contains_xy(municipality, bx, by):
                        continue
                    if len(areas.query(Point(bx, by), predicate="dwithin", distance=30)):
                        continue
                    points.add(bx, by, kind, demo_buildings.built_status(rng), kommunenummer)
    return points.features()


# --- plans -----------------------------------------------------------------------------------

# (pool, radius range m, arealformål, arealbruksstatus, feltnavn prefix) per kind of area.
AREA_KINDS: dict[str, tuple[str, tuple[float, float], list[int], int, str]] = {
    "cabin_new": ("mountain", (90, 330), [1120], 2, "BFR"),
    "cabin_old": ("mountain", (90, 330), [1120], 1, "BFR"),
    "cabin_spread": ("forest", (150, 450), [5220], 2, "LSF"),
    "housing_new": ("town_edge", (60, 240), [1110], 2, "B"),
    "housing_old": ("town", (60, 240), [1110], 1, "B"),
    "business": ("town_edge", (70, 280), [1300], 2, "N"),
    "retail": ("town", (40, 140), [1150, 1130, 1140], 2, "S"),
    "public": ("town", (40, 150), [1160], 2, "BOP"),
    "sport": ("town_edge", (60, 200), [1400], 1, "BIA"),
    "green": ("town_edge", (50, 300), [3040, 3001, 3030], 1, "GF"),
    "tourism": ("mountain", (100, 350), [1170], 2, "BFT"),
}


def _feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": shapely.geometry.mapping(shapely.set_precision(geometry, 0.01)),
    }


def _collection(name: str, plan: dict[str, Any], features: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{CANONICAL_SRID}"}},
        "plan": plan,
        "features": features,
    }


def _layer_in(ctx: Context, layer_id: str, area: BaseGeometry) -> list[tuple[BaseGeometry, dict]]:
    prepared = prep(area)
    return [(g, p) for g, p in ctx.layers[layer_id] if prepared.intersects(g)]


def build_kommuneplan(
    ctx: Context, kommunenummer: str, total: int, planid: str, cabins: list[BaseGeometry]
) -> dict[str, Any]:
    """A kommuneplan arealdel of exactly `total` features for one municipality."""
    rng = rng_for(f"plan-{planid}-{kommunenummer}")
    municipality = ctx.municipalities[kommunenummer]
    pools = ctx.pools[kommunenummer]
    counts = _plan_counts(kommunenummer, total, ctx.centrality[kommunenummer])
    occupancy = Occupancy()
    areas: list[tuple[BaseGeometry, dict[str, Any]]] = []
    numbers: dict[str, int] = defaultdict(int)

    def add(geometry: BaseGeometry, formal: int, status: int, prefix: str) -> None:
        numbers[prefix] += 1
        occupancy.add(geometry)
        properties = {"arealformal": formal, "arealbruksstatus": status}
        properties["feltnavn"] = f"{prefix}{numbers[prefix]}"
        areas.append((geometry, properties))

    # Adopted cabin fields, repeated as existing areas, and some enlarged as new ones.
    repeated = min(counts["cabin_old"], len(cabins))
    for geometry in cabins[:repeated]:
        add(geometry, 1120, 1, "BFR")
    enlarged = cabins[repeated : repeated + counts["expansion"]]
    for geometry in enlarged:
        edge = shapely.get_exterior_ring(shapely.get_parts(geometry)[0])
        point = edge.interpolate(rng.uniform(0, 1), normalized=True)
        blob = demo_shapes.blob(rng, point.x, point.y, rng.uniform(100, 250))
        grown = tidy(geometry.union(blob).intersection(pools.inner), 2000)
        if grown is not None and occupancy.free(grown.difference(geometry.buffer(1))):
            add(grown, 1120, 2, "BFR")
        else:
            add(geometry, 1120, 2, "BFR")
    counts["cabin_old"] -= repeated
    counts["cabin_new"] += counts["expansion"] - len(enlarged)

    # Råstoffutvinning over some deposits of protected importance.
    deposits = [
        g
        for g, p in _layer_in(ctx, "mineral_deposits", pools.inner)
        if p["importance"] in ("nasjonal", "regional")
    ]
    order = [int(i) for i in rng.permutation(len(deposits))]
    safeguarded = set(order[: counts["raastoff"]])
    for deposit in (deposits[i] for i in order[: counts["raastoff"]]):
        geometry = tidy(deposit.buffer(15).intersection(pools.inner), 500)
        if geometry is not None and occupancy.free(geometry):
            add(geometry, 1200, 2, "BRU")
        else:
            counts["green"] += 1
    for kind, (pool, (low, high), formals, status, prefix) in AREA_KINDS.items():
        wanted = counts.get(kind, 0)
        placed = 0
        for _ in range(wanted * 60):
            if placed >= wanted:
                break
            x, y = pools.sample(rng, pool)
            shape = demo_shapes.blob(
                rng, x, y, rng.uniform(low, high), aspect=rng.uniform(1, 2), angle=rng.uniform(0, 3)
            )
            if not occupancy.free(shape, 5):
                continue
            geometry = pools.clip(shape, 500)
            if geometry is None:
                continue
            formal = formals[int(rng.integers(len(formals)))]
            add(geometry, formal, status, prefix)
            if kind == "housing_new" and rng.uniform() < 0.5:
                areas[-1][1].update(
                    {"utnyttingstype": 18, "utnyttingstall": int(rng.integers(40, 140))}
                )
            placed += 1
        if placed < wanted:  # crowded municipality: the rest become road areas
            counts["road"] += wanted - placed
    # Roads: short segments along valleys and towns.
    placed = 0
    for _ in range(counts["road"] * 80):
        if placed >= counts["road"]:
            break
        x, y = pools.sample(rng, "valley" if rng.uniform() < 0.6 else "town_edge")
        heading, points = rng.uniform(0, 2 * np.pi), [(x, y)]
        for _ in range(int(rng.integers(2, 6))):
            heading += rng.uniform(-0.4, 0.4)
            step = rng.uniform(100, 300)
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            points.append((x, y))
        road = LineString(points).buffer(rng.uniform(6, 12), cap_style="flat", quad_segs=2)
        if not occupancy.free(road, 2):
            continue
        geometry = pools.clip(road, 200)
        if geometry is None:
            continue
        add(geometry, 2010, int(rng.choice([1, 2])), "SV")
        placed += 1

    # Hensynssoner: over environments, protected environments and deposits, then others.
    zones: list[tuple[BaseGeometry, int]] = []
    for layer_id in ("cultural_environments", "municipal_heritage_plans"):
        for geometry, _ in _layer_in(ctx, layer_id, pools.inner):
            if rng.uniform() < 0.7:
                zone = geometry.buffer(15) if rng.uniform() < 0.75 else geometry.buffer(-40)
                zones.append((zone, 570))
    for geometry, properties in _layer_in(ctx, "heritage_protected", pools.inner):
        if properties["category"] == "fredet kulturmiljø" and rng.uniform() < 0.75:
            zones.append((geometry.buffer(10), 730))
    for index, deposit in enumerate(deposits):
        if index not in safeguarded and rng.uniform() < 0.45:
            zones.append((deposit.buffer(20), 590))
    recreation = _layer_in(ctx, "recreation_areas", pools.inner)
    zone_order = rng.permutation(len(zones))
    zones = [zones[i] for i in zone_order][: counts["zones"]]
    while len(zones) < counts["zones"]:
        if recreation and rng.uniform() < 0.4:
            zones.append((recreation[int(rng.integers(len(recreation)))][0], 530))
            continue
        x, y = pools.sample(rng, "valley" if rng.uniform() < 0.5 else "any")
        code = int(rng.choice([310, 310, 320, 560, 550]))
        zones.append((demo_shapes.blob(rng, x, y, rng.uniform(100, 600)), code))
    zone_features = []
    for number, (zone, code) in enumerate(zones, start=1):
        geometry = tidy(zone.intersection(pools.inner), 50) or demo_shapes.blob(
            rng, *pools.sample(rng, "any"), 100.0
        )
        zone_features.append(
            (geometry, {"hensynssone": f"H{code}_{number}", "feltnavn": f"H{code}_{number}"})
        )

    # LNFR: the rest of the municipality, cut on a grid into exactly counts["lnfr"] features.
    # The plan boundary keeps 5 m inside the municipality outline: Drammen's outline reaches
    # ~178 m beyond the county outline at one spot, just past the upload check's tolerance
    # once the county outline is simplified, and a plan would be refused.
    outline = municipality.buffer(-5)
    rest = outline.difference(shapely.union_all([g for g, _ in areas]))
    lnfr_features = _split_rest(rest, counts["lnfr"])
    features = [
        _feature(
            outline, {"objtype": "KpOmråde", "plannavn": f"Kommuneplanens arealdel ({planid})"}
        )
    ]
    features += [_feature(g, p) for g, p in areas]
    features += [
        _feature(g, {"arealformal": 5100, "arealbruksstatus": 1, "feltnavn": f"LNFR{i}"})
        for i, g in enumerate(lnfr_features, start=1)
    ]
    features += [_feature(g, p) for g, p in zone_features]
    plan = {
        "kommunenummer": kommunenummer,
        "planidentifikasjon": planid,
        "plantype": 20,
        "planstatus": 2,
        "plannavn": f"Kommuneplanens arealdel, benchmark {planid}",
    }
    name = f"{ctx.geo.municipality_names[kommunenummer]} {planid}"
    return _collection(name, plan, features)


def _split_rest(rest: BaseGeometry, count: int) -> list[BaseGeometry]:
    """Cut a polygon on a grid and merge the pieces into `count` features."""
    minx, miny, maxx, maxy = rest.bounds
    cell = math.sqrt(max(rest.area, 1.0) / count) / 1.5
    while True:
        cells = [
            box(x, y, x + cell, y + cell)
            for y in np.arange(miny, maxy, cell)
            for x in np.arange(minx, maxx, cell)
        ]
        clipped = [shapely.clip_by_rect(rest, *c.bounds) for c in cells]
        pieces = [tidy(p if p.is_valid else shapely.make_valid(p), 1000) for p in clipped]
        pieces = [p for p in pieces if p is not None]
        if len(pieces) >= count:
            break
        cell /= 1.5
    groups = np.array_split(np.arange(len(pieces)), count)
    return [shapely.union_all([pieces[i] for i in group]) for group in groups]


def build_s_plan(ctx: Context) -> dict[str, Any]:
    """S: a 30-feature detaljregulering for cabins and a village edge on the slope above Geilo."""
    rng = rng_for("plan-S")
    pools = ctx.pools[S_MUNICIPALITY]
    geilo = Point(demo_base.utm(8.2066, 60.5343))
    heritage = ctx.layers["heritage_protected"]
    tree = shapely.STRtree([g for g, _ in heritage])
    # The slope spot 1.5-6 km from Geilo station, just below the tree line, with most
    # heritage features around it (so the heritage rule has work to do).
    best, best_score = None, -1
    for i in range(len(pools.x)):
        x, y = float(pools.x[i]), float(pools.y[i])
        distance = geilo.distance(Point(x, y))
        if not 1500 < distance < 6000 or not -130 < ctx.margin(x, y) < -40:
            continue
        score = len(tree.query(box(x - 900, y - 700, x + 900, y + 700)))
        if score > best_score:
            best, best_score = (x, y), score
    assert best is not None, "no slope spot near Geilo"
    cx, cy = best
    width, height, cols, rows = 1500.0, 1000.0, 6, 4
    west, south = cx - width / 2, cy - height / 2
    road = 8.0
    features = []
    boundary = box(west, south, west + width, south + height)
    features.append(_feature(boundary, {"objtype": "RpOmråde", "plannavn": "Geilo fjellgrend"}))
    cell_w, cell_h = width / cols, height / rows
    # The row nearest Geilo (lowest terrain) gets housing and business; the rest cabins.
    margins = [ctx.margin(cx, south + (r + 0.5) * cell_h) for r in range(rows)]
    low_row = int(np.argmin(margins))
    purposes = {
        (low_row, 0): (1111, "BFS1"),
        (low_row, 1): (1112, "BKS1"),
        (low_row, 2): (1300, "BN1"),
        (low_row, 3): (1170, "BFT1"),
        (low_row, 4): (2080, "SPA1"),
        (low_row, 5): (3040, "GF1"),
    }
    others = [(r, c) for r in range(rows) for c in range(cols) if r != low_row]
    extra = {others[3]: (3040, "GF2"), others[10]: (3040, "GF3"), others[16]: (5110, "L1")}
    extra[others[17]] = (5110, "L2")
    cabin = 0
    for r in range(rows):
        for c in range(cols):
            cell = box(
                west + c * cell_w + road / 2,
                south + r * cell_h + road / 2,
                west + (c + 1) * cell_w - road / 2,
                south + (r + 1) * cell_h - road / 2,
            )
            if (r, c) in purposes or (r, c) in extra:
                formal, name = purposes.get((r, c)) or extra[(r, c)]
            else:
                cabin += 1
                formal, name = int(rng.choice([1121, 1121, 1122])), f"BFF{cabin}"
            features.append(_feature(cell, {"arealformal": formal, "feltnavn": name}))
    # Roads: three between the rows, one collector down the middle (as strips between cells).
    for r in range(1, rows):
        y = south + r * cell_h
        strip = box(west, y - road / 2, west + width, y + road / 2)
        features.append(_feature(strip, {"arealformal": 2011, "feltnavn": f"SKV{r}"}))
    x = west + 3 * cell_w
    collector = shapely.difference(
        box(x - road / 2, south, x + road / 2, south + height),
        shapely.union_all(
            [
                box(
                    west, south + r * cell_h - road / 2, west + width, south + r * cell_h + road / 2
                )
                for r in range(1, rows)
            ]
        ),
    )
    features.append(_feature(collector, {"arealformal": 2011, "feltnavn": "SKV4"}))
    # One zone: båndlegging over the heritage site nearest the plan's centre.
    nearest = min(heritage, key=lambda item: item[0].distance(Point(cx, cy)))
    zone = nearest[0].buffer(20).intersection(boundary)
    if zone.is_empty:
        zone = Point(cx, cy).buffer(40)
    features.append(_feature(zone, {"hensynssone": "H730_1", "feltnavn": "H730_1"}))
    assert len(features) == S_FEATURES, len(features)
    plan = {
        "kommunenummer": S_MUNICIPALITY,
        "planidentifikasjon": "BENCHS",
        "plantype": 35,
        "planstatus": 2,
        "plannavn": "Detaljregulering Geilo fjellgrend (benchmark)",
    }
    return _collection("Geilo fjellgrend BENCHS", plan, features)


# --- writing and loading -------------------------------------------------------------------

LAYER_BUILDERS = {
    "tettsteder": None,  # built first, into ctx.tettsteder
    "transport_hubs": build_hubs,
    "mineral_deposits": build_deposits,
    "heritage_protected": build_heritage,
    "cultural_environments": build_cultural_environments,
    "municipal_heritage_plans": build_heritage_plans,
    "recreation_areas": build_recreation,
    "state_recreation_areas": build_state_recreation,
    "villrein_areas": lambda ctx: demo_nature.villrein_areas(ctx.geo),
    "villrein_corridors": build_corridors,
    "intact_nature": lambda ctx: demo_nature.intact_nature(ctx.geo),
    "forest_mask": lambda ctx: demo_forest.forest_mask(ctx.geo),
}


def write_layer(path: Path, features: list[tuple[BaseGeometry, dict[str, Any]]]) -> None:
    """Write a vector layer as a GeoPackage in EPSG:25832."""
    frame = gpd.GeoDataFrame([p for _, p in features], geometry=[g for g, _ in features], crs=CRS)
    path.unlink(missing_ok=True)
    frame.to_file(path, driver="GPKG", engine="pyogrio")


def generate(force: bool = False) -> dict[str, Any]:
    """Build every layer and plan into bench/.data unless they are there already."""
    stamp_file = common.DATA_DIR / "generated.json"
    if not force and stamp_file.exists():
        stamp = json.loads(stamp_file.read_text())
        if stamp.get("generator_version") == GENERATOR_VERSION:
            return stamp
    started = time.perf_counter()
    for directory in (common.LAYER_DIR, common.PLAN_DIR):
        directory.mkdir(parents=True, exist_ok=True)
    for old in [*common.LAYER_DIR.glob("*.gpkg"), *common.PLAN_DIR.glob("*.geojson")]:
        old.unlink()
    timings: dict[str, float] = {}

    t = time.perf_counter()
    raster_stamp = common.LAYER_DIR / "rasters.json"
    rasters_made = raster_stamp.exists() and json.loads(raster_stamp.read_text()) == RASTER_VERSION
    if force or not rasters_made:
        write_dem(common.LAYER_DIR / "elevation.tif")
        write_tree_line(common.LAYER_DIR / "tree_line.tif")
        raster_stamp.write_text(json.dumps(RASTER_VERSION))
    timings["rasters_s"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    ctx = Context()
    ctx.tettsteder = build_tettsteder(ctx)
    ctx.layers["tettsteder"] = ctx.tettsteder
    ctx.town_union = shapely.union_all([g for g, _ in ctx.tettsteder])
    for kommunenummer in ctx.municipalities:
        ctx.pools[kommunenummer] = Pools(ctx, kommunenummer)
    for layer_id, builder in LAYER_BUILDERS.items():
        if builder is not None:
            ctx.layers[layer_id] = builder(ctx)
    allocation = l_allocation(ctx)
    needs = {}
    for kommunenummer in ctx.municipalities:
        centrality = ctx.centrality[kommunenummer]
        totals = [allocation[kommunenummer]] + (
            [M_FEATURES] if kommunenummer == M_MUNICIPALITY else []
        )
        needs[kommunenummer] = (
            max(
                sum(
                    _plan_counts(kommunenummer, n, centrality)[k]
                    for k in ("cabin_old", "expansion")
                )
                for n in totals
            )
            + 10
        )
    ctx.layers["existing_kommuneplan"], cabins = build_existing(ctx, needs)
    mark_framtidig(ctx.layers["existing_kommuneplan"])
    ctx.layers["buildings"] = build_buildings(ctx)
    counts = {}
    for layer_id, features in ctx.layers.items():
        write_layer(common.LAYER_DIR / f"{layer_id}.gpkg", features)
        counts[layer_id] = len(features)
    timings["vectors_s"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    plans: dict[str, int] = {}

    def write_plan(name: str, collection: dict[str, Any]) -> None:
        path = common.PLAN_DIR / f"{name}.geojson"
        path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")))
        plans[name] = len(collection["features"])

    write_plan("S_3330", build_s_plan(ctx))
    write_plan(
        f"M_{M_MUNICIPALITY}",
        build_kommuneplan(ctx, M_MUNICIPALITY, M_FEATURES, "BENCHM", cabins[M_MUNICIPALITY]),
    )
    for kommunenummer in sorted(allocation):
        collection = build_kommuneplan(
            ctx, kommunenummer, allocation[kommunenummer], "BENCHL", cabins[kommunenummer]
        )
        write_plan(f"L_{kommunenummer}", collection)
    timings["plans_s"] = round(time.perf_counter() - t, 1)
    stamp = {
        "generator_version": GENERATOR_VERSION,
        "seed": SEED,
        "dem": {"cols": DEM_COLS, "rows": DEM_ROWS, "cell_m": DEM_CELL},
        "layer_features": counts,
        "plan_features": plans,
        "timings": timings,
        "total_s": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(common.peak_rss_mb()),
    }
    stamp_file.write_text(json.dumps(stamp, indent=1))
    return stamp


def load(force: bool = False) -> dict[str, Any]:
    """Load every layer into the bench database through layers.loader.load_layer."""
    common.ensure_database()
    from sqlalchemy import select, text

    from app.db import get_sessionmaker
    from db.models import LayerVersionOrm
    from layers.loader import LoadOptions, load_layer
    from layers.municipalities import load_administrative_units
    from layers.registry import get_registry

    stamp_file = common.DATA_DIR / "loaded.json"
    files = {
        path.name: [path.stat().st_size, path.stat().st_mtime_ns]
        for path in sorted(common.LAYER_DIR.iterdir())
    }
    with get_sessionmaker()() as session:
        if not force and stamp_file.exists():
            stamp = json.loads(stamp_file.read_text())
            current = {
                row.layer_id: row.checksum
                for row in session.execute(
                    select(LayerVersionOrm.layer_id, LayerVersionOrm.checksum)
                )
            }
            if stamp.get("files") == files and all(
                current.get(k) == v["checksum"] for k, v in stamp["layers"].items()
            ):
                return stamp
        started = time.perf_counter()
        load_administrative_units(session)
        options = LoadOptions(source=common.BENCH_SOURCE, licence=common.BENCH_LICENCE)
        layers = {}
        for layer_id, config in get_registry().items():
            suffix = ".tif" if config.kind == "raster" else ".gpkg"
            t = time.perf_counter()
            result = load_layer(
                session,
                layer_id,
                common.LAYER_DIR / f"{layer_id}{suffix}",
                options,
                raster_dir=common.RASTER_DIR,
            )
            layers[layer_id] = {
                "version": result.version,
                "features": result.feature_count,
                "checksum": result.checksum,
                "seconds": round(time.perf_counter() - t, 1),
            }
            print(
                f"  loaded {layer_id}: {result.feature_count} features "
                f"in {layers[layer_id]['seconds']} s",
                flush=True,
            )
        session.execute(text("ANALYZE"))
        session.commit()
    stamp = {
        "files": files,
        "layers": layers,
        "total_s": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(common.peak_rss_mb()),
    }
    stamp_file.write_text(json.dumps(stamp, indent=1))
    return stamp


def main() -> None:
    """Generate the data (if missing or --force) and load the layers into the bench DB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="regenerate and reload")
    parser.add_argument("--no-load", action="store_true", help="only write the files")
    args = parser.parse_args()
    generated = generate(args.force)
    print(json.dumps(generated, indent=1))
    if not args.no_load:
        print(json.dumps(load(args.force), indent=1))


if __name__ == "__main__":
    main()
