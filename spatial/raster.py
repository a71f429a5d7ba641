"""Raster access: windowed reads and sampling of the stored Cloud Optimized GeoTIFFs."""

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
import shapely.geometry
from affine import Affine
from exactextract import exact_extract
from exactextract.feature import JSONFeatureSource
from exactextract.raster import NumPyRasterSource
from rasterio import features
from rasterio.enums import MaskFlags, Resampling
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

    Opens both rasters for this one polygon; to measure many polygons, open them once
    with `TreeLineSurfaces` and call its `exposure`.
    """
    with TreeLineSurfaces(dem_path, tree_line_path) as surfaces:
        return surfaces.exposure(geometry, transition_m)


class TreeLineSurfaces:
    """The terrain model and the tree-line surface, opened once for many polygons.

    The tree-line surface is warped (bilinear) onto the DEM's grid by one virtual raster;
    reading a window of it resamples only the blocks under that window, so county-scale
    rasters are never read whole. Keeping the datasets open for a whole check lets GDAL's
    block cache serve the DEM tiles and warped tree-line blocks that neighbouring areas
    share, instead of opening, decompressing and warping them again for every area.
    Not thread-safe: use one instance per thread (one per check).
    """

    def __init__(self, dem_path: Path, tree_line_path: Path):
        self._stack = ExitStack()
        try:
            self.dem = self._stack.enter_context(rasterio.open(dem_path))
            tree_line_src = self._stack.enter_context(rasterio.open(tree_line_path))
            self.tree_line = self._stack.enter_context(
                WarpedVRT(
                    tree_line_src,
                    crs=self.dem.crs,
                    transform=self.dem.transform,
                    width=self.dem.width,
                    height=self.dem.height,
                    resampling=Resampling.bilinear,
                )
            )
            self._crs_wkt = self.dem.crs.to_wkt()
        except BaseException:
            self._stack.close()
            raise

    def __enter__(self) -> "TreeLineSurfaces":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close both rasters."""
        self._stack.close()

    def exposure(self, geometry: BaseGeometry, transition_m: float) -> TreeLineExposure:
        """Measure terrain against the tree line under a polygon, weighting cells by coverage."""
        empty = shapely.Polygon()
        window = _window_for(self.dem, geometry)
        if window is None:
            return TreeLineExposure(geometry.area, 0.0, 0.0, 0.0, None, None, None, empty, empty)
        elevation = _read_float(self.dem, window)
        transform = self.dem.window_transform(window)
        height, width = elevation.shape
        tree_line = _read_float(self.tree_line, window)

        margin = elevation - tree_line
        coverage = _coverage_fractions(geometry, transform, width, height, self._crs_wkt)
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
    """Read band 1 as float64 with NaN where the band's mask says no data."""
    flags = dataset.mask_flag_enums[0]
    nodata = dataset.nodata
    if flags == [MaskFlags.all_valid]:
        return dataset.read(1, window=window).astype("float64")
    if flags == [MaskFlags.nodata] and nodata is not None:
        # The mask is just "equals the nodata value": compare here instead of letting GDAL
        # compute a mask band for every window (a second pass over the same blocks).
        values = dataset.read(1, window=window)
        same_type = np.array(nodata).astype(values.dtype)
        if np.isnan(nodata) or float(same_type) == float(nodata):
            missing = np.isnan(values) if np.isnan(nodata) else values == same_type
            out = values.astype("float64")
            out[missing] = np.nan
            return out
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
    # One GeoJSON-like feature rather than a GeoDataFrame: same result, no pandas overhead.
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geometry)}
    result = exact_extract(
        grid,
        JSONFeatureSource([feature], srs_wkt=crs_wkt),
        ["coverage", "center_x", "center_y"],
        output="geojson",
    )
    fractions = np.zeros((height, width))
    if result:
        values = result[0]["properties"]
        cols = ((np.asarray(values["center_x"]) - xmin) / transform.a).astype(int)
        rows = ((np.asarray(values["center_y"]) - ymax) / transform.e).astype(int)
        fractions[rows, cols] = np.asarray(values["coverage"])
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
