"""The synthetic rasters: terrain elevation and the climatic tree line.

- `elevation` (50 m cells over the county's bounding box, EPSG:25832): the terrain is built
  on a 250 m grid and smoothly upsampled. A regional trend rises from ~250 m around the
  Drammensfjord to ~1,300 m on Hardangervidda along the south-east/north-west axis, which
  is how Buskerud climbs from the lowlands to the western plateaus. Mountain massifs
  (Hallingskarvet up to ~1,900 m, Skogshorn, Norefjell, Blefjell, Krokskogen, ...) are
  Gaussian ridges added to the trend. The real valleys are troughs cut into that surface
  along polylines through real places, with a floor elevation and width interpolated along
  each line: Hallingdal (Haugastøl ~990 m, Geilo ~800, Ål ~435, Gol ~210, Nesbyen ~170,
  Flå ~160, Krøderen ~133), Hemsedal (Trøym ~620), Numedal (Rødberg ~350, Kongsberg
  ~150), Sigdal, Ådalen, the Tyrifjord basin (~63 m) and Drammensdalen with the fjord at
  0 m. Smooth noise from low-resolution random fields gives the uplands relief and is
  damped to nothing on the valley floors, which stay flat like real river plains. Values
  are rounded to 0.1 m and clamped to 0-2,000 m.
- `tree_line` (500 m cells): the climatic tree line rises from ~900 m in the east to
  ~1,100 m in the west, as it does towards the continental inland of Hallingdal and
  Hardangervidda, with a gentle smooth wobble of ±15 m.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.warp import Resampling, reproject

from layers.demo.base import (
    DEM_CELL,
    DEMO_LICENCE,
    DEMO_NOTE,
    DEMO_SOURCE,
    GRID_EAST,
    GRID_NORTH,
    GRID_SOUTH,
    GRID_WEST,
    MAX_ELEVATION,
    NODATA,
    TERRAIN_CELL,
    TREE_LINE_CELL,
    grid_transform,
    layer_rng,
    utm,
)
from spatial.crs import CANONICAL_SRID

# Valley troughs: (lon, lat, floor elevation m, width scale m) along each valley. Floors
# follow the real rivers and lakes; where two valleys meet their floors agree.
VALLEYS: dict[str, list[tuple[float, float, float, float]]] = {
    "Hallingdal": [
        (7.70, 60.52, 1120, 1800),
        (7.869, 60.511, 990, 2000),
        (8.045, 60.500, 985, 2200),
        (8.206, 60.534, 800, 2800),
        (8.346, 60.561, 560, 3000),
        (8.562, 60.629, 435, 3200),
        (8.700, 60.660, 380, 3200),
        (8.962, 60.705, 210, 3400),
        (9.105, 60.567, 170, 3400),
        (9.300, 60.480, 165, 3000),
        (9.460, 60.424, 160, 3000),
        (9.570, 60.370, 135, 3000),
        (9.622, 60.180, 133, 3500),
        (9.800, 60.130, 133, 3000),
        (9.900, 60.020, 100, 2200),
        (9.905, 59.890, 45, 2500),
    ],
    "Hemsedal": [
        (8.150, 61.000, 1000, 1800),
        (8.300, 60.960, 880, 2200),
        (8.450, 60.900, 700, 2600),
        (8.562, 60.863, 620, 3000),
        (8.720, 60.780, 450, 3000),
        (8.962, 60.705, 210, 3400),
    ],
    "Hovet": [
        (8.346, 60.561, 560, 2600),
        (8.100, 60.660, 760, 2200),
        (7.900, 60.740, 900, 1800),
    ],
    "Numedal": [
        (8.300, 60.440, 1000, 1800),
        (8.450, 60.420, 860, 2200),
        (8.700, 60.410, 750, 2600),
        (8.850, 60.350, 730, 2400),
        (8.945, 60.268, 350, 2500),
        (9.010, 60.170, 300, 2500),
        (9.170, 60.040, 250, 2500),
        (9.270, 59.990, 200, 2500),
        (9.430, 59.860, 170, 2500),
        (9.573, 59.835, 160, 2500),
        (9.652, 59.669, 150, 3000),
        (9.800, 59.580, 100, 2500),
        (9.930, 59.490, 60, 2500),
        (9.980, 59.400, 50, 2500),
    ],
    "Uvdal": [
        (8.350, 60.260, 950, 1500),
        (8.730, 60.270, 560, 2000),
        (8.945, 60.268, 350, 2500),
    ],
    "Sigdal": [
        (9.250, 60.300, 500, 1800),
        (9.370, 60.235, 400, 2000),
        (9.624, 60.050, 150, 2500),
        (9.800, 59.950, 100, 2500),
        (9.905, 59.890, 45, 2500),
    ],
    "Ådalen": [
        (9.980, 60.620, 180, 2200),
        (9.980, 60.560, 170, 2500),
        (10.000, 60.450, 150, 3000),
        (10.100, 60.300, 140, 3000),
        (10.256, 60.168, 90, 4000),
    ],
    "Tyrifjorden": [
        (10.256, 60.168, 90, 4000),
        (10.250, 60.120, 75, 4500),
        (10.290, 60.080, 63, 5000),
        (10.200, 60.010, 63, 6000),
        (10.002, 59.968, 63, 4000),
    ],
    "Drammensdalen": [
        (10.002, 59.968, 63, 3000),
        (9.950, 59.920, 55, 2500),
        (9.905, 59.890, 45, 2500),
        (9.910, 59.770, 12, 3500),
        (10.012, 59.746, 5, 3500),
        (10.204, 59.740, 2, 4000),
        (10.330, 59.690, 0, 3500),
        (10.410, 59.610, 0, 2500),
        (10.450, 59.530, 0, 2500),
    ],
    "Eiker": [
        (9.652, 59.669, 150, 3000),
        (9.754, 59.701, 100, 2500),
        (9.873, 59.734, 25, 3000),
        (9.910, 59.770, 12, 3500),
    ],
    "Lierdalen": [
        (10.220, 59.900, 63, 2000),
        (10.243, 59.786, 15, 3000),
        (10.250, 59.750, 0, 3000),
    ],
}

# Mountain ridges and massifs added to the trend: (lon, lat, height added m, width m).
RIDGES: dict[str, list[tuple[float, float, float, float]]] = {
    "Hallingskarvet": [
        (7.800, 60.620, 480, 2600),
        (7.970, 60.605, 660, 2800),
        (8.100, 60.600, 560, 2600),
        (8.230, 60.600, 380, 2400),
    ],
    "Nordfjella": [(7.850, 60.800, 300, 9000), (8.150, 60.850, 250, 8000)],
    "Skogshorn": [(8.655, 60.927, 480, 3500)],
    "Hemsedalsfjella": [(8.300, 60.850, 250, 6000), (8.450, 60.980, 250, 6000)],
    "Hardangervidda": [(8.250, 60.300, 180, 9000), (8.050, 60.400, 150, 7000)],
    "Reinsjøfjell": [(9.200, 60.150, 330, 9000)],
    "Norefjell": [(9.500, 60.240, 470, 7000)],
    "Blefjell": [(9.150, 59.820, 620, 6500)],
    "Vassfaret": [(9.750, 60.450, 280, 9000)],
    "Krokskogen": [(10.350, 60.020, 330, 6500)],
    "Finnemarka": [(10.050, 59.850, 280, 6000)],
    "Kongsbergfjella": [(9.450, 59.620, 380, 6000)],
}

# Regional trend: elevation by distance (km) from the Drammensfjord towards Hardangervidda.
TREND_ORIGIN = (10.204, 59.740)
TREND_TOWARDS = (7.869, 60.511)
TREND_KM = [-40.0, 0.0, 20.0, 50.0, 80.0, 110.0, 140.0, 170.0, 220.0]
TREND_M = [150.0, 250.0, 430.0, 640.0, 850.0, 1040.0, 1180.0, 1280.0, 1330.0]


def _grid_centres(cell: float) -> tuple[np.ndarray, np.ndarray]:
    cols = round((GRID_EAST - GRID_WEST) / cell)
    rows = round((GRID_NORTH - GRID_SOUTH) / cell)
    x = GRID_WEST + cell * (np.arange(cols) + 0.5)
    y = GRID_NORTH - cell * (np.arange(rows) + 0.5)
    return np.meshgrid(x, y)


def _nearest_on_polyline(
    xx: np.ndarray, yy: np.ndarray, vertices: Sequence[tuple[float, float, float, float]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance to a polyline and the value and width interpolated at the nearest point."""
    points = [(*utm(lon, lat), value, width) for lon, lat, value, width in vertices]
    best = np.full(xx.shape, np.inf)
    value = np.zeros(xx.shape)
    width = np.zeros(xx.shape)
    if len(points) == 1:
        points = points * 2
    for (x0, y0, v0, w0), (x1, y1, v1, w1) in zip(points[:-1], points[1:], strict=True):
        dx, dy = x1 - x0, y1 - y0
        length2 = max(dx * dx + dy * dy, 1e-9)
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / length2, 0.0, 1.0)
        d = np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))
        closer = d < best
        best = np.where(closer, d, best)
        value = np.where(closer, v0 + t * (v1 - v0), value)
        width = np.where(closer, w0 + t * (w1 - w0), width)
    return best, value, width


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], cell: float, spacing: float
) -> np.ndarray:
    """Smooth noise (mean 0, standard deviation 1) from a coarse random field upsampled."""
    factor = spacing / cell
    coarse_shape = (int(np.ceil(shape[0] / factor)) + 3, int(np.ceil(shape[1] / factor)) + 3)
    coarse = rng.standard_normal(coarse_shape).astype(np.float32)
    fine = np.zeros(shape, dtype=np.float32)
    reproject(
        coarse,
        fine,
        src_transform=grid_transform(GRID_WEST - spacing, GRID_NORTH + spacing, spacing),
        dst_transform=grid_transform(GRID_WEST, GRID_NORTH, cell),
        src_crs=f"EPSG:{CANONICAL_SRID}",
        dst_crs=f"EPSG:{CANONICAL_SRID}",
        resampling=Resampling.cubic_spline,
    )
    return fine / max(float(fine.std()), 1e-6)


def terrain_coarse() -> np.ndarray:
    """The terrain on the 250 m grid, float64."""
    xx, yy = _grid_centres(TERRAIN_CELL)
    ox, oy = utm(*TREND_ORIGIN)
    tx, ty = utm(*TREND_TOWARDS)
    axis = np.array([tx - ox, ty - oy]) / np.hypot(tx - ox, ty - oy)
    along_km = ((xx - ox) * axis[0] + (yy - oy) * axis[1]) / 1000.0
    base = np.interp(along_km, TREND_KM, TREND_M)
    for vertices in RIDGES.values():
        distance, height, width = _nearest_on_polyline(xx, yy, vertices)
        base += height * np.exp(-((distance / width) ** 2))

    rng = layer_rng("elevation")
    relief = np.clip(0.45 + along_km / 250.0, 0.45, 1.0)
    base += relief * (
        110 * _smooth_noise(rng, xx.shape, TERRAIN_CELL, 12_000)
        + 60 * _smooth_noise(rng, xx.shape, TERRAIN_CELL, 4_000)
        + 25 * _smooth_noise(rng, xx.shape, TERRAIN_CELL, 1_500)
    )
    # Irregular valley sides: the distance to a valley line is perturbed by smooth noise.
    wiggle = _smooth_noise(rng, xx.shape, TERRAIN_CELL, 3_000)

    terrain = base.copy()
    for vertices in VALLEYS.values():
        distance, floor, width = _nearest_on_polyline(xx, yy, vertices)
        # Flat floor for the inner 30 % of the width, then U-shaped sides up to the trend.
        u = np.maximum(distance / width + 0.25 * wiggle - 0.3, 0.0)
        carved = floor + (base - floor) * (1.0 - np.exp(-1.2 * u * u))
        terrain = np.minimum(terrain, carved)
    return terrain


def elevation_array() -> tuple[np.ndarray, Affine]:
    """The synthetic DEM (float32, 50 m cells) and its affine transform."""
    coarse = terrain_coarse().astype(np.float32)
    cols = round((GRID_EAST - GRID_WEST) / DEM_CELL)
    rows = round((GRID_NORTH - GRID_SOUTH) / DEM_CELL)
    transform = grid_transform(GRID_WEST, GRID_NORTH, DEM_CELL)
    dem = np.zeros((rows, cols), dtype=np.float32)
    reproject(
        coarse,
        dem,
        src_transform=grid_transform(GRID_WEST, GRID_NORTH, TERRAIN_CELL),
        dst_transform=transform,
        src_crs=f"EPSG:{CANONICAL_SRID}",
        dst_crs=f"EPSG:{CANONICAL_SRID}",
        resampling=Resampling.cubic,
    )
    np.clip(dem, 0.0, MAX_ELEVATION, out=dem)
    np.round(dem, 1, out=dem)
    return dem, transform


def tree_line_array() -> tuple[np.ndarray, Affine]:
    """The synthetic tree-line surface (float32, 500 m cells) and its affine transform."""
    xx, _ = _grid_centres(TREE_LINE_CELL)
    westness = (GRID_EAST - xx) / (GRID_EAST - GRID_WEST)
    wobble = _smooth_noise(layer_rng("tree_line"), xx.shape, TREE_LINE_CELL, 25_000)
    surface = np.clip(900.0 + 200.0 * westness + 15.0 * wobble, 880.0, 1120.0)
    transform = grid_transform(GRID_WEST, GRID_NORTH, TREE_LINE_CELL)
    return np.round(surface, 1).astype(np.float32), transform


def write_raster(path: Path, array: np.ndarray, transform: Affine, title: str) -> None:
    """Write a tiled, deflate-compressed float32 GeoTIFF labelled as synthetic demo data."""
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": array.shape[1],
        "height": array.shape[0],
        "crs": f"EPSG:{CANONICAL_SRID}",
        "transform": transform,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
    }
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(array, 1)
        dataset.update_tags(TIFFTAG_IMAGEDESCRIPTION=f"{title}. {DEMO_NOTE}")
        dataset.update_tags(SOURCE=DEMO_SOURCE, LICENCE=DEMO_LICENCE, UNIT="m a.s.l.")
        dataset.set_band_description(1, title)


RASTER_TITLES = {
    "elevation": "Synthetic terrain elevation, m a.s.l.",
    "tree_line": "Synthetic climatic tree-line elevation, m a.s.l.",
}
