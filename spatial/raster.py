"""Raster access: windowed reads and sampling of the stored Cloud Optimized GeoTIFFs."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
import shapely.geometry
from affine import Affine
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from rasterio import features
from rasterio.enums import Resampling
from rasterio.errors import WindowError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry


def sample_values(path: Path, points: Sequence[tuple[float, float]]) -> list[float | None]:
    """Return band-1 values at (x, y) points in the raster's CRS; None for nodata or outside."""
    with rasterio.open(path) as dataset:
        left, bottom, right, top = dataset.bounds
        nodata = dataset.nodata
        values: list[float | None] = []
        for (x, y), sample in zip(points, dataset.sample(points, indexes=1), strict=True):
            inside = left <= x < right and bottom < y <= top
            value = float(sample[0])
            if not inside or (nodata is not None and value == nodata) or np.isnan(value):
                values.append(None)
            else:
                values.append(value)
        return values


@dataclass(frozen=True)
class TreeLineExposure:
    """How much of an area lies above, and just below, the tree line (coverage-weighted)."""

    area_m2: float
    covered_m2: float
    above_m2: float
    transition_m2: float
    max_elevation_m: float | None
    tree_line_at_max_m: float | None
    max_margin_m: float | None
    above: BaseGeometry
    transition: BaseGeometry

    @property
    def covered_pct(self) -> float:
        """Share of the area both rasters have data for."""
        return 100.0 * self.covered_m2 / self.area_m2 if self.area_m2 > 0 else 0.0


def tree_line_exposure(
    geometry: BaseGeometry, dem_path: Path, tree_line_path: Path, transition_m: float
) -> TreeLineExposure:
    """Measure terrain against the tree line under a polygon, weighting cells by coverage.

    The tree-line surface is resampled onto the DEM's grid for the window under the
    polygon only, so county-scale rasters are never read whole.
    """
    empty = shapely.Polygon()
    with rasterio.open(dem_path) as dem:
        window = _window_for(dem, geometry)
        if window is None:
            return TreeLineExposure(geometry.area, 0.0, 0.0, 0.0, None, None, None, empty, empty)
        elevation = _read_float(dem, window)
        transform = dem.window_transform(window)
        height, width = elevation.shape
        with (
            rasterio.open(tree_line_path) as tree_line_src,
            WarpedVRT(
                tree_line_src,
                crs=dem.crs,
                transform=transform,
                width=width,
                height=height,
                resampling=Resampling.bilinear,
            ) as tree_line_vrt,
        ):
            tree_line = tree_line_vrt.read(1, masked=True).astype("float64").filled(np.nan)
            crs_wkt = dem.crs.to_wkt()

    margin = elevation - tree_line
    coverage = _coverage_fractions(geometry, transform, width, height, crs_wkt)
    valid = ~np.isnan(margin)
    cell_area = abs(transform.a * transform.e)
    inside = (coverage > 0) & valid
    above_cells = inside & (margin > 0)
    transition_cells = inside & (margin <= 0) & (margin > -transition_m)
    max_elevation = tree_line_at_max = max_margin = None
    if inside.any():
        index = np.nanargmax(np.where(inside, elevation, -np.inf))
        max_elevation = float(elevation.flat[index])
        tree_line_at_max = float(tree_line.flat[index])
        max_margin = float(np.max(margin[inside]))
    return TreeLineExposure(
        area_m2=float(geometry.area),
        covered_m2=float(coverage[valid].sum() * cell_area),
        above_m2=float(coverage[above_cells].sum() * cell_area),
        transition_m2=float(coverage[transition_cells].sum() * cell_area),
        max_elevation_m=max_elevation,
        tree_line_at_max_m=tree_line_at_max,
        max_margin_m=max_margin,
        above=_cells_within(above_cells, transform, geometry),
        transition=_cells_within(transition_cells, transform, geometry),
    )


def _window_for(dataset: rasterio.DatasetReader, geometry: BaseGeometry) -> Window | None:
    """Return the dataset window covering the geometry's bounds, or None if outside."""
    full = Window(0, 0, dataset.width, dataset.height)
    window = from_bounds(*geometry.bounds, transform=dataset.transform)
    window = window.round_offsets(op="floor").round_lengths(op="ceil")
    window = Window(window.col_off, window.row_off, window.width + 1, window.height + 1)
    try:
        clipped = window.intersection(full)
    except WindowError:
        return None
    return clipped if clipped.width > 0 and clipped.height > 0 else None


def _read_float(dataset: rasterio.DatasetReader, window: Window) -> np.ndarray:
    return dataset.read(1, window=window, masked=True).astype("float64").filled(np.nan)


def _coverage_fractions(
    geometry: BaseGeometry, transform: Affine, width: int, height: int, crs_wkt: str
) -> np.ndarray:
    """Return the share of each cell the polygon covers (exactextract), as a 2D array."""
    xmin, ymax = transform.c, transform.f
    xmax, ymin = xmin + width * transform.a, ymax + height * transform.e
    grid = NumPyRasterSource(
        np.zeros((height, width)), xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, srs_wkt=crs_wkt
    )
    frame = gpd.GeoDataFrame(geometry=[geometry], crs=crs_wkt)
    result = exact_extract(grid, frame, ["coverage", "center_x", "center_y"], output="pandas")
    fractions = np.zeros((height, width))
    if len(result):
        row = result.iloc[0]
        cols = ((np.asarray(row["center_x"]) - xmin) / transform.a).astype(int)
        rows = ((np.asarray(row["center_y"]) - ymax) / transform.e).astype(int)
        fractions[rows, cols] = np.asarray(row["coverage"])
    return fractions


def _cells_within(mask: np.ndarray, transform: Affine, geometry: BaseGeometry) -> BaseGeometry:
    """Return the union of the masked cells, cut to the geometry."""
    if not mask.any():
        return shapely.Polygon()
    polygons = [
        shapely.geometry.shape(shape)
        for shape, value in features.shapes(
            mask.astype("uint8"), mask=mask, transform=transform, connectivity=4
        )
        if value == 1
    ]
    return shapely.intersection(shapely.union_all(polygons), geometry)
