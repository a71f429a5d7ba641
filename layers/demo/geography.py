"""The real boundaries and the synthetic grids the layer builders share."""

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from layers.demo.base import (
    COUNTY_FILE,
    DEM_CELL,
    GRID_EAST,
    GRID_NORTH,
    GRID_SOUTH,
    GRID_WEST,
    MUNICIPALITIES_FILE,
    TREE_LINE_CELL,
    utm,
)
from layers.demo.sample_sites import SAMPLE_AREAS
from layers.demo.shapes import tidy
from layers.demo.terrain import VALLEYS
from spatial.crs import CANONICAL_SRID


class Geography:
    """The real boundaries in EPSG:25832, the grids and what the layers share."""

    def __init__(self, dem: np.ndarray, tree_line: np.ndarray) -> None:
        county = gpd.read_file(COUNTY_FILE, engine="pyogrio").to_crs(epsg=CANONICAL_SRID)
        self.county = shapely.make_valid(shapely.union_all(county.geometry.values))
        self.county_prepared = prep(self.county)
        kommuner = gpd.read_file(MUNICIPALITIES_FILE, engine="pyogrio").to_crs(epsg=CANONICAL_SRID)
        self.municipalities = {
            row.kommunenummer: shapely.make_valid(row.geometry) for row in kommuner.itertuples()
        }
        self.municipality_names = {
            row.kommunenummer: row.kommunenavn for row in kommuner.itertuples()
        }
        self.dem = dem
        self.tree_line = tree_line
        self.keep_out = shapely.union_all(SAMPLE_AREAS)
        self.valleys = {
            name: [(*utm(lon, lat), f, w) for lon, lat, f, w in v] for name, v in VALLEYS.items()
        }
        # Valley floors and lower slopes, where roads, railways and villages are.
        self.valley_floors = shapely.union_all(
            [
                LineString([p[:2] for p in points[i : i + 2]]).buffer(
                    0.9 * (points[i][3] + points[i + 1][3]) / 2
                )
                for points in self.valleys.values()
                for i in range(len(points) - 1)
            ]
        )
        self.tettsteder: list[BaseGeometry] = []

    def elevation(self, x: float, y: float) -> float:
        """Terrain elevation of the 50 m cell holding (x, y)."""
        row = int((GRID_NORTH - y) // DEM_CELL)
        col = int((x - GRID_WEST) // DEM_CELL)
        return float(self.dem[row, col])

    def tree_line_at(self, x: float, y: float) -> float:
        """Tree-line elevation of the 500 m cell holding (x, y)."""
        row = int((GRID_NORTH - y) // TREE_LINE_CELL)
        col = int((x - GRID_WEST) // TREE_LINE_CELL)
        return float(self.tree_line[row, col])

    def clip(self, geometry: BaseGeometry, area: BaseGeometry | None = None) -> BaseGeometry | None:
        """The part of a geometry inside the county (and `area`), on a 1 cm grid."""
        if not self.county_prepared.contains(geometry):
            geometry = geometry.intersection(self.county)
        if area is not None:
            geometry = geometry.intersection(area)
        return tidy(geometry)

    def free(self, geometry: BaseGeometry) -> bool:
        """True when a random feature stays clear of the sample plans' areas."""
        return not geometry.intersects(self.keep_out)

    def in_county(self, x: float, y: float) -> bool:
        """True for a point inside the county and the grids."""
        inside_grid = GRID_WEST < x < GRID_EAST and GRID_SOUTH < y < GRID_NORTH
        return inside_grid and self.county_prepared.contains(Point(x, y))

    def along_valley(
        self, rng: np.random.Generator, lateral: tuple[float, float]
    ) -> tuple[float, float, str, float, float]:
        """A random point beside a valley line: (x, y, valley name, floor width, direction)."""
        segments = [
            (name, a, b)
            for name, points in self.valleys.items()
            for a, b in zip(points[:-1], points[1:], strict=True)
        ]
        lengths = np.array([np.hypot(b[0] - a[0], b[1] - a[1]) for _, a, b in segments])
        index = int(rng.choice(len(segments), p=lengths / lengths.sum()))
        name, a, b = segments[index]
        t = rng.uniform()
        width = a[3] + t * (b[3] - a[3])
        direction = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
        offset = rng.uniform(*lateral) * width * rng.choice([-1.0, 1.0])
        x = a[0] + t * (b[0] - a[0]) - np.sin(direction) * offset
        y = a[1] + t * (b[1] - a[1]) + np.cos(direction) * offset
        return float(x), float(y), name, width, direction
