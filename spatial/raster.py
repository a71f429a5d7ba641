"""Raster access: windowed reads and sampling of the stored Cloud Optimized GeoTIFFs."""

import threading
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import rasterio
import shapely
import shapely.geometry
from affine import Affine
from exactextract import exact_extract
from exactextract.feature import FeatureSource, JSONFeature
from exactextract.raster import NumPyRasterSource
from rasterio import features
from rasterio.enums import MaskFlags
from rasterio.transform import rowcol
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from spatial.geometry import union

# Polygons whose windows start in the same square of this many cells share one read;
# 512 matches the block size of the stored COGs.
GROUP_BLOCK_CELLS = 512
# Finding geometries are polygonized this many cell masks at a time (one labelled image).
DRAW_BATCH_MASKS = 64


# rasterio gives every thread its own GDAL environment the first time the thread opens a
# file, and setting one up registers GDAL's drivers and sets GDAL's (process-wide) config
# options without a lock that works: threads doing it at once corrupt the heap (seen as
# "malloc(): unaligned tcache chunk detected" with concurrent checks). Each thread gets its
# environment here once, one thread at a time, and keeps it.
_GDAL_ENV_LOCK = threading.Lock()
_thread = threading.local()


def open_raster(path: "Path | str") -> rasterio.DatasetReader:
    """Open a raster for reading, in this thread's GDAL environment (made safely once)."""
    if getattr(_thread, "gdal_env", None) is None:
        with _GDAL_ENV_LOCK:
            environment = rasterio.Env()
            environment.__enter__()  # kept for the thread's life: never exited
            _thread.gdal_env = environment
    return rasterio.open(path)


def sample_values(path: Path, points: Sequence[tuple[float, float]]) -> list[float | None]:
    """Return band-1 values at (x, y) points in the raster's CRS; None for nodata or outside."""
    with open_raster(path) as dataset:
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
    cells: "_MeasuredCells | None" = field(default=None, repr=False, compare=False)

    @property
    def covered_pct(self) -> float:
        """Share of the area both rasters have data for."""
        return 100.0 * self.covered_m2 / self.area_m2 if self.area_m2 > 0 else 0.0

    @cached_property
    def above(self) -> BaseGeometry:
        """The part of the area on cells above the tree line."""
        return draw_exposures([(self, False)])[0]


@dataclass(frozen=True)
class _MeasuredCells:
    """The cells under one area, kept so its finding geometry is drawn only when needed."""

    geometry: BaseGeometry
    transform: Affine
    above: np.ndarray
    transition: np.ndarray

    def mask(self, with_transition: bool) -> np.ndarray:
        """The cells above the tree line, and with_transition those in the transition zone."""
        return self.above | self.transition if with_transition else self.above


_this_thread = threading.local()


def open_surfaces(dem_path: Path, tree_line: "Path | float") -> "TreeLineSurfaces":
    """Return this thread's open terrain model and tree line, opening them on first use.

    Opening a COG reads its header, and a service checks plan after plan
    against the same two files. Open datasets are not thread-safe, so each thread keeps
    its own pair; it is replaced when either file is another (path, size or mtime).
    `tree_line` is the tree-line COG, or one height (m a.s.l.) for every cell.
    """
    paths = (dem_path,) if isinstance(tree_line, float | int) else (dem_path, tree_line)
    key = tuple(
        (str(p), stat.st_size, stat.st_mtime_ns) for p, stat in ((p, p.stat()) for p in paths)
    ) + ((float(tree_line),) if isinstance(tree_line, float | int) else ())
    cached = getattr(_this_thread, "surfaces", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    if cached is not None:
        cached[1].close()
    surfaces = TreeLineSurfaces(dem_path, tree_line)
    _this_thread.surfaces = (key, surfaces)
    return surfaces


class TreeLineSurfaces:
    """The terrain model and the tree-line surface, opened once for many polygons.

    Only windows are read, so county-scale rasters are never read whole. Polygons are
    measured in groups of neighbours: each group reads one window of the DEM, interpolates
    the tree line onto it and gets the coverage of all its polygons from one exactextract
    pass, instead of a read, a warp and an exactextract call per polygon.
    Not thread-safe: use one instance per thread (`open_surfaces` keeps one per thread).
    """

    def __init__(self, dem_path: Path, tree_line: "Path | float"):
        self._stack = ExitStack()
        # One height for every cell (a municipality's configured tree line), or a raster.
        self.tree_line_m = float(tree_line) if isinstance(tree_line, float | int) else None
        try:
            self.dem = self._stack.enter_context(open_raster(dem_path))
            self.tree_line = (
                None
                if self.tree_line_m is not None
                else self._stack.enter_context(open_raster(tree_line))
            )
        except BaseException:
            self._stack.close()
            raise
        for name, dataset in (("terrain model", self.dem), ("tree line", self.tree_line)):
            if dataset is not None and (dataset.transform.b != 0 or dataset.transform.d != 0):
                self.close()
                raise ValueError(f"the {name} raster {dataset.name} is rotated; store it north-up")
        if self.tree_line is not None and self.tree_line.crs != self.dem.crs:
            self.close()
            raise ValueError(
                f"the tree line raster ({self.tree_line.crs}) is not in the terrain model's CRS "
                f"({self.dem.crs}); the layer loader stores both in EPSG:25832"
            )

    def __enter__(self) -> "TreeLineSurfaces":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close both rasters."""
        self._stack.close()

    def exposure(self, geometry: BaseGeometry, transition_m: float) -> TreeLineExposure:
        """Measure terrain against the tree line under one polygon."""
        return self.exposures([geometry], transition_m)[0]

    def exposures(
        self, geometries: Sequence[BaseGeometry], transition_m: float
    ) -> list[TreeLineExposure]:
        """Measure terrain against the tree line under each polygon, in the given order."""
        results: list[TreeLineExposure | None] = [None] * len(geometries)
        windows = _windows_for(self.dem, geometries)
        for index, window in enumerate(windows):
            if window is None:
                area = geometries[index].area
                results[index] = TreeLineExposure(area, 0.0, 0.0, 0.0, None, None, None)
        for group in _neighbour_groups(windows):
            window = _union_window([windows[i] for i in group])
            elevation = read_float(self.dem, window)
            transform = self.dem.window_transform(window)
            covered = _covered_cells([geometries[i] for i in group], transform, elevation.shape)
            # The tree line is only needed at the cells some polygon covers.
            needed_rows = np.concatenate([cells[0] for cells in covered])
            needed_cols = np.concatenate([cells[1] for cells in covered])
            tree_line = np.full(elevation.shape, np.nan)
            if len(needed_rows) and self.tree_line is None:
                tree_line[needed_rows, needed_cols] = self.tree_line_m
            elif len(needed_rows):
                tree_line[needed_rows, needed_cols] = bilinear_at_centres(
                    self.tree_line, self.dem.transform, window, needed_rows, needed_cols
                )
            for index, (rows, cols, coverage) in zip(group, covered, strict=True):
                results[index] = _measure(
                    geometries[index],
                    elevation[rows, cols],
                    tree_line[rows, cols],
                    rows,
                    cols,
                    coverage,
                    transform,
                    transition_m,
                )
        return results  # type: ignore[return-value]


def bilinear_at_centres(
    dataset: rasterio.DatasetReader,
    grid: Affine,
    window: Window,
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """Interpolate band 1 bilinearly at cell centres of a window of a north-up grid: at the
    window's cells (rows[i], cols[i]) (1D result), or at every cell of it (2D).

    What GDAL's bilinear warp computes (NaN outside the raster and where the cell under the
    centre has no data; elsewhere weights renormalised over the neighbours with data), in
    numpy because the grid and the raster share their CRS and are both axis-aligned (a
    WarpedVRT does the same at a far higher cost: bench/README.md). Positions are computed
    from the whole grid's transform, so a cell gets the same value whichever window it is
    read in.
    Only the cells a check measures are asked for: a group's window is mostly other cells.
    """
    if rows is None or cols is None:
        shape = (int(window.height), int(window.width))
        every_row, every_col = (a.ravel() for a in np.indices(shape))
        return bilinear_at_centres(dataset, grid, window, every_row, every_col).reshape(shape)
    inverse = ~dataset.transform
    # Fractional source position of each cell centre, counted from source cell centres.
    x = (int(window.col_off) + cols + 0.5) * grid.a + grid.c
    y = (int(window.row_off) + rows + 0.5) * grid.e + grid.f
    u = x * inverse.a + inverse.c - 0.5
    v = y * inverse.e + inverse.f - 0.5
    inside = (u >= -0.5) & (u < dataset.width - 0.5) & (v >= -0.5) & (v < dataset.height - 0.5)
    out = np.full(len(rows), np.nan)
    if not inside.any():
        return out
    u, v = u[inside], v[inside]
    col0, row0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = u - col0, v - row0
    # The source cells under these centres plus one on each side; cells off the raster stay
    # NaN so that they drop out of the weights, as at the raster's edge in GDAL.
    first_col, first_row = int(col0.min()), int(row0.min())
    last_col, last_row = int(col0.max()) + 1, int(row0.max()) + 1
    source = np.full((last_row - first_row + 1, last_col - first_col + 1), np.nan)
    read = Window(0, 0, dataset.width, dataset.height).intersection(
        Window(first_col, first_row, last_col - first_col + 1, last_row - first_row + 1)
    )
    source[
        int(read.row_off) - first_row : int(read.row_off + read.height) - first_row,
        int(read.col_off) - first_col : int(read.col_off + read.width) - first_col,
    ] = read_float(dataset, read)
    r0, c0 = row0 - first_row, col0 - first_col
    # Interpolate along rows, then between them; a NaN neighbour makes the cell NaN here.
    upper = source[r0, c0] * (1.0 - fu) + source[r0, c0 + 1] * fu
    lower = source[r0 + 1, c0] * (1.0 - fu) + source[r0 + 1, c0 + 1] * fu
    values = upper * (1.0 - fv) + lower * fv
    gaps = np.flatnonzero(np.isnan(values))
    if len(gaps):
        values[gaps] = _bilinear_over_data(
            source,
            r0[gaps],
            c0[gaps],
            fv[gaps],
            fu[gaps],
            np.floor(v[gaps] + 0.5).astype(int) - first_row,
            np.floor(u[gaps] + 0.5).astype(int) - first_col,
        )
    out[inside] = values
    return out


def _bilinear_over_data(
    source: np.ndarray,
    r0: np.ndarray,
    c0: np.ndarray,
    fv: np.ndarray,
    fu: np.ndarray,
    under_row: np.ndarray,
    under_col: np.ndarray,
) -> np.ndarray:
    """Bilinear at single points, leaving out neighbours without data (as GDAL does)."""
    total = np.zeros(len(r0))
    weights = np.zeros(len(r0))
    for dr, wr in ((0, 1.0 - fv), (1, fv)):
        for dc, wc in ((0, 1.0 - fu), (1, fu)):
            values = source[r0 + dr, c0 + dc]
            weight = wr * wc * ~np.isnan(values)
            total += weight * np.nan_to_num(values)
            weights += weight
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(weights > 1e-9, total / weights, np.nan)
    # No value where the source cell under the centre itself has none.
    values[np.isnan(source[under_row, under_col])] = np.nan
    return values


def _measure(
    geometry: BaseGeometry,
    elevation: np.ndarray,
    tree_line: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    coverage: np.ndarray,
    transform: Affine,
    transition_m: float,
) -> TreeLineExposure:
    """Sum the covered cells (1D arrays, one entry per cell the polygon touches)."""
    margin = elevation - tree_line
    valid = ~np.isnan(margin)
    cell_area = abs(transform.a * transform.e)
    above = valid & (margin > 0)
    transition = valid & (margin <= 0) & (margin > -transition_m)
    max_elevation = tree_line_at_max = max_margin = None
    if valid.any():
        index = int(np.argmax(np.where(valid, elevation, -np.inf)))
        max_elevation = float(elevation[index])
        tree_line_at_max = float(tree_line[index])
        max_margin = float(np.max(margin[valid]))
    cells = None
    if above.any() or transition.any():
        row0, col0 = int(rows.min()), int(cols.min())
        shape = (int(rows.max()) - row0 + 1, int(cols.max()) - col0 + 1)
        above_mask, transition_mask = np.zeros(shape, bool), np.zeros(shape, bool)
        above_mask[rows[above] - row0, cols[above] - col0] = True
        transition_mask[rows[transition] - row0, cols[transition] - col0] = True
        cells = _MeasuredCells(
            geometry, transform @ Affine.translation(col0, row0), above_mask, transition_mask
        )
    return TreeLineExposure(
        area_m2=float(geometry.area),
        covered_m2=float(coverage[valid].sum() * cell_area),
        above_m2=float(coverage[above].sum() * cell_area),
        transition_m2=float(coverage[transition].sum() * cell_area),
        max_elevation_m=max_elevation,
        tree_line_at_max_m=tree_line_at_max,
        max_margin_m=max_margin,
        cells=cells,
    )


def _neighbour_groups(windows: Sequence[Window | None]) -> list[list[int]]:
    """Group polygon indexes by the raster block their window starts in.

    Polygons in one block share one read of both rasters. A polygon wider or taller than a
    block is measured alone, so no group reads much more than a block and its margins.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for index, window in enumerate(windows):
        if window is None:
            continue
        if window.width > GROUP_BLOCK_CELLS or window.height > GROUP_BLOCK_CELLS:
            key: tuple[int, ...] = (-1, index)
        else:
            key = (
                int(window.row_off) // GROUP_BLOCK_CELLS,
                int(window.col_off) // GROUP_BLOCK_CELLS,
            )
        groups.setdefault(key, []).append(index)
    return list(groups.values())


def _union_window(windows: Sequence[Window]) -> Window:
    """The smallest window holding all the given windows."""
    row0 = min(int(w.row_off) for w in windows)
    col0 = min(int(w.col_off) for w in windows)
    row1 = max(int(w.row_off + w.height) for w in windows)
    col1 = max(int(w.col_off + w.width) for w in windows)
    return Window(col0, row0, col1 - col0, row1 - row0)


def _windows_for(
    dataset: rasterio.DatasetReader, geometries: Sequence[BaseGeometry]
) -> list[Window | None]:
    """Return for each geometry the dataset window covering its bounds, or None if outside.

    The window has a margin of one cell on every side: exactextract misses some coverage
    of the cells on the edge of its grid, so no polygon may reach that edge. Computed for
    all geometries at once, with the arithmetic of rasterio's `from_bounds`,
    `round_offsets` and `round_lengths` (one call each per polygon is costly for G1).
    """
    if not len(geometries):
        return []
    left, bottom, right, top = shapely.bounds(np.asarray(geometries, dtype=object)).T
    # The four corners of each box, as from_bounds passes them to rowcol.
    xs = np.column_stack([left, right, right, left]).ravel()
    ys = np.column_stack([top, top, bottom, bottom]).ravel()
    rows, cols = (np.asarray(v).reshape(-1, 4) for v in rowcol(dataset.transform, xs, ys, op=float))
    col_off = np.floor(cols.min(axis=1) + 0.1) - 1
    row_off = np.floor(rows.min(axis=1) + 0.1) - 1
    width = np.floor(np.maximum(cols.max(axis=1) - cols.min(axis=1), 0.0) + 0.5) + 3
    height = np.floor(np.maximum(rows.max(axis=1) - rows.min(axis=1), 0.0) + 0.5) + 3
    # Clipped to the dataset; nothing left means the polygon lies outside it.
    col0, row0 = np.maximum(col_off, 0), np.maximum(row_off, 0)
    col1 = np.minimum(col_off + width, dataset.width)
    row1 = np.minimum(row_off + height, dataset.height)
    return [
        Window(int(c0), int(r0), int(c1 - c0), int(r1 - r0)) if c1 > c0 and r1 > r0 else None
        for c0, r0, c1, r1 in zip(col0, row0, col1, row1, strict=True)
    ]


def read_float(dataset: rasterio.DatasetReader, window: Window) -> np.ndarray:
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


class _PolygonSource(FeatureSource):
    """Polygons handed to exactextract as WKB, numbered so results map back to them."""

    def __init__(self, geometries: Sequence[BaseGeometry]):
        super().__init__()
        self._wkb = shapely.to_wkb(np.asarray(geometries, dtype=object))

    def count(self) -> int:
        """Number of polygons."""
        return len(self._wkb)

    def __iter__(self):
        for number, wkb in enumerate(self._wkb):
            yield _WkbFeature(number, wkb)

    def srs_wkt(self) -> None:
        """The polygons are in the grid's CRS; exactextract need not compare them."""
        return None


class _WkbFeature(JSONFeature):
    def __init__(self, number: int, wkb: bytes):
        super().__init__({"type": "Feature", "properties": {"number": number}})
        self._geometry_wkb = wkb

    def geometry(self) -> bytes:
        return self._geometry_wkb


def _covered_cells(
    geometries: Sequence[BaseGeometry], transform: Affine, shape: tuple[int, int]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return (rows, cols, coverage) of the cells under each polygon: one exactextract pass."""
    height, width = shape
    xmin, ymax = transform.c, transform.f
    xmax, ymin = xmin + width * transform.a, ymax + height * transform.e
    # exactextract only needs the grid here: the values are read apart, once per group.
    grid = NumPyRasterSource(np.zeros(shape), xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax)
    empty = np.zeros(0, dtype=int)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
        (empty, empty, np.zeros(0)) for _ in geometries
    ]
    results = exact_extract(
        grid,
        _PolygonSource(geometries),
        ["coverage", "center_x", "center_y"],
        output="geojson",
        include_cols=["number"],
    )
    for result in results:
        values = result["properties"]
        coverage = np.asarray(values["coverage"], dtype="float64")
        cols = np.floor((np.asarray(values["center_x"]) - xmin) / transform.a).astype(int)
        rows = np.floor((np.asarray(values["center_y"]) - ymax) / transform.e).astype(int)
        keep = coverage > 0
        out[values["number"]] = (rows[keep], cols[keep], coverage[keep])
    return out


def draw_exposures(requests: Sequence[tuple[TreeLineExposure, bool]]) -> list[BaseGeometry]:
    """Draw, for each (exposure, with_transition), the part of its area on cells above the
    tree line (with_transition: or in the transition zone): the union of those cells cut to
    the area, empty where there are none.

    The masks are stacked, a row apart, into one labelled image per DRAW_BATCH_MASKS and
    polygonized by GDAL in one call: called per mask, the set-up of `features.shapes` cost
    more than the polygonizing. Vertices are the cell corners GDAL would give per mask.
    """
    drawn: list[BaseGeometry] = [shapely.Polygon() for _ in requests]
    masked = [
        (index, exposure.cells, exposure.cells.mask(with_transition))
        for index, (exposure, with_transition) in enumerate(requests)
        if exposure.cells is not None
    ]
    masked = [item for item in masked if item[2].any()]
    for start in range(0, len(masked), DRAW_BATCH_MASKS):
        batch = masked[start : start + DRAW_BATCH_MASKS]
        labels = np.zeros(
            (sum(mask.shape[0] + 1 for _, _, mask in batch), max(m.shape[1] for _, _, m in batch)),
            dtype=np.int32,
        )
        first_rows = np.cumsum([0] + [mask.shape[0] + 1 for _, _, mask in batch[:-1]])
        for label, ((_, _, mask), row) in enumerate(zip(batch, first_rows, strict=True), 1):
            labels[row : row + mask.shape[0], : mask.shape[1]][mask] = label
        # Pixel coordinates (no transform): each region is moved onto its own grid below.
        regions = list(features.shapes(labels, mask=labels > 0, connectivity=4))
        owners = np.array([int(label) - 1 for _, label in regions])
        polygons = _regions_on_grids(
            [region["coordinates"] for region, _ in regions],
            owners,
            [cells.transform for _, cells, _ in batch],
            first_rows,
        )
        for (index, cells, _), parts in zip(
            batch, _grouped(polygons, owners, len(batch)), strict=True
        ):
            drawn[index] = shapely.intersection(union(parts), cells.geometry)
    return drawn


def _regions_on_grids(
    rings_of_regions: list[list], owners: np.ndarray, grids: list[Affine], first_rows: np.ndarray
) -> np.ndarray:
    """Build the polygonized regions on their masks' grids in one call: a corner (col, row)
    of the stacked image, in a mask whose rows start at first_row, lies where GDAL puts it
    on that mask's grid: x0 + col * dx, y0 + (row - first_row) * dy."""
    corners: list = []
    ring_ends, polygon_ends = [0], [0]
    for rings in rings_of_regions:
        for ring in rings:
            corners.extend(ring)
            ring_ends.append(len(corners))
        polygon_ends.append(len(ring_ends) - 1)
    xy = np.array(corners, dtype=float).reshape(-1, 2)
    # The mask each corner belongs to, to place it on that mask's grid.
    owner = np.repeat(owners, np.diff(np.array(ring_ends)[polygon_ends]))
    x0, dx, y0, dy = (np.array([getattr(g, k) for g in grids])[owner] for k in "cafe")
    placed = np.column_stack([x0 + xy[:, 0] * dx, y0 + (xy[:, 1] - first_rows[owner]) * dy])
    offsets = (np.array(ring_ends), np.array(polygon_ends))
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, placed, offsets)


def _grouped(items: np.ndarray, owners: np.ndarray, count: int) -> list[list]:
    """The items of each owner 0..count-1, in their order."""
    out: list[list] = [[] for _ in range(count)]
    for item, owner in zip(items, owners.tolist(), strict=True):
        out[owner].append(item)
    return out
