"""Deriving a tree-line surface from a terrain model and a forest mask (layers/README.md).

Where no climatic tree-line dataset can be had, the upper limit of today's forest stands in
for it: on a coarse grid, each cell gets a high percentile of the elevations of the forest
cells of the terrain model within a moving window, where the terrain rises above that
forest (so a limit is seen); cells without one are filled by interpolation from those
with one, and the surface is smoothed. numpy and GDAL only (through rasterio).
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from numpy.lib.stride_tricks import sliding_window_view
from rasterio import features
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from spatial.raster import open_raster

# GDAL metadata item of a derived COG describing, in bokmål, where its tree line comes from;
# G1 quotes it in its findings.
NOTE_TAG = "AREALSJEKK_TREE_LINE"
# Recorded with each derived version and part of its checksum: change it with the method.
METHOD = "forest-percentile-window-v1"
NODATA = -9999.0
# Elevations are counted in bins over this range (m a.s.l.; Norway's terrain lies inside).
LOWEST_M, HIGHEST_M = -100.0, 2600.0
# Open land is counted in coarser bins: only whether it lies just above the forest matters.
OPEN_BIN_M = 20.0
# Terrain rows read and rasterised at a time, in cells (bounded memory for a county DEM).
STRIP_CELLS = 2_000_000
STRIP_CACHE_MB = 64


@dataclass(frozen=True)
class TreeLineParams:
    """The parameters of the derivation; recorded with every derived version."""

    percentile: float = 98.0  # of the forest cells' elevations in the window
    window_m: float = 5000.0  # side of the square moving window
    cell_m: float = 500.0  # cell size of the derived surface
    smooth_m: float = 1500.0  # side of the square moving mean applied at the end
    max_fill_m: float = 20000.0  # gaps farther than this from a measured cell stay empty
    min_forest_m2: float = 500_000.0  # forest a window needs to be measured (2 % of 5 x 5 km)
    open_band_m: float = 100.0  # open land must lie within this height above the value ...
    min_open_m2: float = 100_000.0  # ... this much of it in the window, to see a limit
    bin_m: float = 5.0  # elevation resolution of the counting
    offset_m: float = 0.0  # added to the result (the climatic line lies above the forest's)

    def __post_init__(self) -> None:
        """Reject values the method cannot use."""
        checks = {
            "percentile": 50.0 <= self.percentile <= 100.0,
            "window_m": self.window_m >= self.cell_m,
            "cell_m": self.cell_m > 0,
            "smooth_m": self.smooth_m >= 0,
            "max_fill_m": self.max_fill_m >= 0,
            "min_forest_m2": self.min_forest_m2 >= 0,
            "open_band_m": self.open_band_m > 0,
            "min_open_m2": self.min_open_m2 >= 0,
            "bin_m": 0.1 <= self.bin_m <= 50,
            "offset_m": abs(self.offset_m) <= 500,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid tree-line parameters: {', '.join(bad)} ({self})")

    def as_dict(self) -> dict[str, float]:
        """The parameters as JSON-ready values."""
        return asdict(self)


@dataclass(frozen=True)
class DerivedSurface:
    """A derived tree-line grid (float32, NaN where there is none) and what went into it."""

    values: np.ndarray
    transform: Affine
    crs: rasterio.crs.CRS
    forest_cells: int
    measured_cells: int
    filled_cells: int
    lower_bound_cells: int


def derive_surface(
    dem_path: Path,
    forest: Sequence[BaseGeometry],
    params: TreeLineParams,
    open_land: Sequence[BaseGeometry] | None = None,
) -> DerivedSurface:
    """Derive the tree-line surface over the terrain model from forest polygons in its CRS.

    `open_land` are the polygons of open mountain (AR5 åpen fastmark, snø/isbre, ikke
    kartlagt); a limit is seen where they lie just above the forest. Without them (a mask
    of forest only, such as SR16) every cell outside the forest counts as open.
    """
    # The strips are read once each, in order: GDAL's block cache (5 % of RAM by default)
    # would only hold blocks never read again.
    with rasterio.Env(GDAL_CACHEMAX=STRIP_CACHE_MB), rasterio.open(dem_path) as dem:
        if dem.transform.b != 0 or dem.transform.d != 0:
            raise ValueError(f"the terrain model {dem_path.name} is rotated; store it north-up")
        block = max(1, round(params.cell_m / abs(dem.transform.a)))
        counts, open_counts, terrain_max, forest_cells = _block_counts(
            dem, forest, open_land, block, params.bin_m
        )
        cell_m2 = abs(dem.transform.a * dem.transform.e)
        min_cells = max(1, params.min_forest_m2 / cell_m2)
        min_open_cells = max(1, params.min_open_m2 / cell_m2)
        transform = dem.transform @ Affine.scale(block)
        crs = dem.crs
    cell_m = abs(transform.a)
    reach = max(0, round((params.window_m / cell_m - 1) / 2))
    measured = window_percentile(counts, reach, params.percentile, params.bin_m)
    forest_in_window = window_sum(counts.sum(axis=2, dtype=np.uint32), reach)
    highest = window_max(terrain_max, reach)
    # A limit is seen only where the window holds enough forest and open land lies just
    # above the forest's top: on a hill forested to the top the highest forest says nothing
    # of a limit, nor does forest ending at farmland, a town or the edge of the mask.
    open_above = window_count_between(
        open_counts, reach, measured, measured + params.open_band_m, OPEN_BIN_M
    )
    seen = (forest_in_window >= min_cells) & (open_above >= min_open_cells)
    measured = np.where(seen, measured, np.nan)
    surface = fill_gaps(measured, params.max_fill_m / cell_m)
    filled = int(np.count_nonzero(~np.isnan(surface))) - int(np.count_nonzero(seen))
    # Where nothing was seen within reach but forest grows up to the hilltops, the line lies
    # at least that high: the window's highest terrain is the only bound there is.
    bound = np.isnan(surface) & (forest_in_window >= min_cells)
    surface[bound] = highest[bound]
    surface = moving_mean(surface, max(0, round((params.smooth_m / cell_m - 1) / 2)))
    surface[np.isnan(terrain_max)] = np.nan  # no terrain model under the cell
    surface = (surface + params.offset_m).astype("float32")
    return DerivedSurface(
        values=surface,
        transform=transform,
        crs=crs,
        forest_cells=forest_cells,
        measured_cells=int(np.count_nonzero(seen)),
        filled_cells=filled,
        lower_bound_cells=int(np.count_nonzero(bound)),
    )


def _block_counts(
    dem: rasterio.DatasetReader,
    forest: Sequence[BaseGeometry],
    open_land: Sequence[BaseGeometry] | None,
    block: int,
    bin_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Count forest cells and open cells per (block, elevation bin); the highest terrain
    per block.

    The terrain model is read in strips of whole blocks; the polygons meeting a strip are
    burnt onto its cells (cell centres inside, as GDAL rasterises by default).
    """
    rows, cols = -(-dem.height // block), -(-dem.width // block)
    dtype = np.uint16 if block * block < 2**16 else np.uint32
    counts = np.zeros((rows, cols, _bin_count(bin_m)), dtype=dtype)
    open_counts = np.zeros((rows, cols, _bin_count(OPEN_BIN_M)), dtype=dtype)
    terrain_max = np.full((rows, cols), np.nan, dtype="float32")
    forest_burner = _Burner(forest)
    open_burner = _Burner(open_land) if open_land is not None else None
    strip_rows = max(1, STRIP_CELLS // max(dem.width * block, 1)) * block
    forest_cells = 0
    for row0 in range(0, dem.height, strip_rows):
        window = Window(0, row0, dem.width, min(strip_rows, dem.height - row0))
        elevation = dem.read(1, window=window, masked=True).astype("float32").filled(np.nan)
        strip_transform = dem.window_transform(window)
        inside = forest_burner.burn(elevation.shape, strip_transform)
        is_open = (
            ~inside
            if open_burner is None
            else open_burner.burn(elevation.shape, strip_transform) & ~inside
        )
        # Pad to whole blocks with NaN, then view as (block rows, block, block cols, block).
        height, width = elevation.shape
        padded = np.full((-(-height // block) * block, cols * block), np.nan, dtype="float32")
        padded[:height, :width] = elevation
        mask = np.zeros(padded.shape, dtype=bool)
        mask[:height, :width] = inside & ~np.isnan(elevation)
        forest_cells += int(np.count_nonzero(mask))
        first = row0 // block
        blocks = padded.reshape(-1, block, cols, block)
        with _all_nan_ok():
            terrain_max[first : first + blocks.shape[0]] = np.nanmax(blocks, axis=(1, 3))
        counts[first : first + blocks.shape[0]] = _histograms(padded, mask, block, bin_m)
        open_mask = np.zeros(padded.shape, dtype=bool)
        open_mask[:height, :width] = is_open & ~np.isnan(elevation)
        open_counts[first : first + blocks.shape[0]] = _histograms(
            padded, open_mask, block, OPEN_BIN_M
        )
    return counts, open_counts, terrain_max, forest_cells


def _histograms(elevation: np.ndarray, mask: np.ndarray, block: int, bin_m: float) -> np.ndarray:
    """Count the masked cells of a strip (whole blocks) per (block row, block col, bin)."""
    n_bins = _bin_count(bin_m)
    rows, cols = elevation.shape[0] // block, elevation.shape[1] // block
    cell_row, cell_col = np.nonzero(mask)
    bins = np.clip(((elevation[mask] - LOWEST_M) // bin_m).astype(np.int64), 0, n_bins - 1)
    cell_block = (cell_row // block) * cols + cell_col // block
    counted = np.bincount(cell_block * n_bins + bins, minlength=rows * cols * n_bins)
    return counted.reshape(rows, cols, n_bins)


def _bin_count(bin_m: float) -> int:
    return int(np.ceil((HIGHEST_M - LOWEST_M) / bin_m))


class _Burner:
    """Polygons indexed once, burnt onto one strip's cells at a time."""

    def __init__(self, polygons: Sequence[BaseGeometry]):
        self.polygons = np.asarray([shapely.force_2d(g) for g in polygons], dtype=object)
        self.index = shapely.STRtree(self.polygons)

    def burn(self, shape: tuple[int, int], transform: Affine) -> np.ndarray:
        """The cells of the strip whose centres lie in a polygon."""
        height, width = shape
        west, north = transform.c, transform.f
        area = shapely.box(west, north + height * transform.e, west + width * transform.a, north)
        near = self.polygons[self.index.query(area)]
        if not len(near):
            return np.zeros(shape, dtype=bool)
        return features.rasterize(
            ((g, 1) for g in near), out_shape=shape, transform=transform, fill=0, dtype="uint8"
        ).astype(bool)


@contextmanager
def _all_nan_ok() -> Iterator[None]:
    """Silence numpy's warning for windows without any value (their maximum is NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def window_sum(values: np.ndarray, reach: int) -> np.ndarray:
    """Sum over the square of cells within `reach` cells of each cell (2D array)."""
    kind = np.float64 if np.issubdtype(values.dtype, np.floating) else np.int64
    padded = np.pad(values.astype(kind), ((reach + 1, reach), (reach + 1, reach)))
    total = padded.cumsum(axis=0).cumsum(axis=1)
    size = 2 * reach + 1
    return total[size:, size:] - total[:-size, size:] - total[size:, :-size] + total[:-size, :-size]


def window_histograms(counts: np.ndarray, reach: int) -> Iterator[np.ndarray]:
    """Yield, row by row, the summed histograms (cols, bins) of the square windows within
    `reach` cells of each cell: a running sum down the rows and differences of a running
    total along them, so memory stays at one row of windows."""
    rows, cols, n_bins = counts.shape
    running = np.zeros((cols, n_bins), dtype=np.int64)
    for row in range(min(reach, rows)):
        running += counts[row]
    ends = np.minimum(np.arange(cols) + reach, cols - 1)
    starts = np.arange(cols) - reach - 1
    for row in range(rows):
        if row + reach < rows:
            running += counts[row + reach]
        if row - reach - 1 >= 0:
            running -= counts[row - reach - 1]
        cumulative = np.cumsum(running, axis=0)
        yield cumulative[ends] - np.where(
            (starts >= 0)[:, None], cumulative[np.maximum(starts, 0)], 0
        )


def window_percentile(
    counts: np.ndarray, reach: int, percentile: float, bin_m: float
) -> np.ndarray:
    """The percentile of the counted elevations within `reach` cells of each cell.

    Elevations are taken as spread evenly inside their bin. NaN where the window is empty.
    """
    out = np.full(counts.shape[:2], np.nan)
    for row, window in enumerate(window_histograms(counts, reach)):
        out[row] = _percentile_of_histograms(window, percentile, bin_m)
    return out


def window_count_between(
    counts: np.ndarray, reach: int, low: np.ndarray, high: np.ndarray, bin_m: float
) -> np.ndarray:
    """Per cell, the counted elevations in its window in the bins from the one holding
    `low` to the one holding `high` (0 where `low` is NaN)."""
    n_bins = counts.shape[2]
    out = np.zeros(counts.shape[:2], dtype=np.int64)
    columns = np.arange(counts.shape[1])
    for row, window in enumerate(window_histograms(counts, reach)):
        known = ~np.isnan(low[row])
        first, last = (
            np.clip((np.nan_to_num(edge[row]) - LOWEST_M) // bin_m, 0, n_bins - 1).astype(int)
            for edge in (low, high)
        )
        cumulative = np.cumsum(window, axis=1)
        below = np.where(first > 0, cumulative[columns, np.maximum(first - 1, 0)], 0)
        out[row] = np.where(known, cumulative[columns, last] - below, 0)
    return out


def _percentile_of_histograms(hist: np.ndarray, percentile: float, bin_m: float) -> np.ndarray:
    """The percentile of each row's histogram (bins of bin_m from LOWEST_M); NaN if empty."""
    total = hist.sum(axis=1)
    cumulative = np.cumsum(hist, axis=1)
    target = percentile / 100.0 * total
    # The first bin reaching the target, and how far into it the target lies.
    k = np.argmax(cumulative >= np.maximum(target, 1e-9)[:, None], axis=1)
    rows = np.arange(len(hist))
    before = np.where(k > 0, cumulative[rows, np.maximum(k - 1, 0)], 0)
    inside = hist[rows, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(inside > 0, (target - before) / inside, 0.0)
    values = LOWEST_M + (k + np.clip(fraction, 0.0, 1.0)) * bin_m
    return np.where(total > 0, values, np.nan)


def window_max(values: np.ndarray, reach: int) -> np.ndarray:
    """The maximum of the non-NaN values within `reach` cells; NaN where there is none."""
    padded = np.pad(values.astype("float64"), reach, constant_values=np.nan)
    view = sliding_window_view(padded, (2 * reach + 1, 2 * reach + 1))
    with _all_nan_ok():
        return np.nanmax(view, axis=(2, 3))


def fill_gaps(values: np.ndarray, max_cells: float) -> np.ndarray:
    """Fill NaN cells outwards from the cells with values, one ring of cells per step (each
    new cell the mean of its known 8 neighbours), for up to `max_cells` steps; farther gaps
    stay NaN. A gap so takes the values of the nearest known cells around it."""
    out = values.astype("float64").copy()
    for _ in range(int(np.ceil(max_cells))):
        known = ~np.isnan(out)
        if known.all() or not known.any():
            break
        padded = np.pad(np.where(known, out, 0.0), 1)
        present = np.pad(known, 1).astype(np.int64)
        total = np.zeros(out.shape)
        count = np.zeros(out.shape, dtype=np.int64)
        height, width = out.shape
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                if dr == 1 and dc == 1:
                    continue
                total += padded[dr : dr + height, dc : dc + width]
                count += present[dr : dr + height, dc : dc + width]
        grow = ~known & (count > 0)
        if not grow.any():
            break
        out[grow] = total[grow] / count[grow]
    return out


def moving_mean(values: np.ndarray, reach: int) -> np.ndarray:
    """Mean of the non-NaN values within `reach` cells; NaN cells stay NaN."""
    if reach <= 0:
        return values.astype("float64")
    known = ~np.isnan(values)
    sums = window_sum(np.where(known, values, 0.0), reach)
    counts = window_sum(known.astype(np.int64), reach)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return np.where(known, mean, np.nan)


@lru_cache(maxsize=64)
def _note(path: str, size: int, mtime_ns: int) -> str | None:
    with open_raster(path) as dataset:
        return dataset.tags().get(NOTE_TAG)


def derivation_note(path: Path) -> str | None:
    """The note a derived tree-line COG carries on its origin; None for a loaded file."""
    stat = Path(path).stat()
    return _note(str(path), stat.st_size, stat.st_mtime_ns)
