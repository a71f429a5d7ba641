"""Rasters made from the loaded terrain for the map: hillshade, and height above the tree line.

Both are pure functions of layer versions, so each file is named by the checksums of the
versions it is made from (`hillshade-{elevation}.tif`, `above_tree_line-{elevation}-{tree
line}.tif`) and written once, when elevation or tree_line gets a version (layers load,
layers derive, demo-data) or by `arealsjekk layers derive above_tree_line`. A file made from
older versions can never be shown as current: the WMS looks up the file of the current
versions, and draws nothing while it is missing. No layer version is recorded: the inputs'
versions are the provenance, written into each file's GDAL metadata.

The difference uses G1's own comparison (spatial/raster.py): the tree line interpolated
bilinearly at the centre of each terrain cell, as the check measures it.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window

from db.models import LayerVersionOrm
from spatial.raster import bilinear_at_centres, read_float

# Rows of the terrain model handled at a time (the COG's block height): bounded memory.
STRIP_ROWS = 512
NODATA_DIFF = -9999.0
# Hillshade: 0 is nodata, 1-255 the shade; light from the north-west at 45° (the
# cartographic convention, as `gdaldem hillshade` defaults).
NODATA_SHADE = 0
AZIMUTH_DEG = 315.0
ALTITUDE_DEG = 45.0
# Relief is exaggerated so that valleys show at county scale, where the COG's overviews
# average the shade of many cells.
Z_FACTOR = 2.0
PROVENANCE_TAG = "AREALSJEKK_DERIVED_FROM"
INPUT_LAYERS = ("elevation", "tree_line")


def hillshade_path(raster_dir: Path, elevation: LayerVersionOrm) -> Path:
    """Where the hillshade of a terrain model version is stored."""
    return raster_dir / f"hillshade-{elevation.checksum[:16]}.tif"


def above_tree_line_path(
    raster_dir: Path, elevation: LayerVersionOrm, tree_line: LayerVersionOrm
) -> Path:
    """Where the height above the tree line for these two versions is stored."""
    return raster_dir / f"above_tree_line-{elevation.checksum[:16]}-{tree_line.checksum[:16]}.tif"


def build_terrain_products(raster_dir: Path, current: dict[str, LayerVersionOrm]) -> list[Path]:
    """Write the hillshade and the height above the tree line of the current versions, if
    missing; return the files written."""
    elevation, tree_line = current.get("elevation"), current.get("tree_line")
    written: list[Path] = []
    if elevation is None or not elevation.raster_file:
        return written
    dem = raster_dir / elevation.raster_file
    if not dem.is_file():
        return written
    target = hillshade_path(raster_dir, elevation)
    if not target.exists():
        _write_strips(dem, target, _shade_strip, "uint8", NODATA_SHADE, None, _note(elevation))
        written.append(target)
    if tree_line is not None and tree_line.raster_file:
        surface = raster_dir / tree_line.raster_file
        target = above_tree_line_path(raster_dir, elevation, tree_line)
        if surface.is_file() and not target.exists():
            note = f"{_note(elevation)} - {_note(tree_line)}"
            _write_strips(dem, target, _difference_strip, "float32", NODATA_DIFF, surface, note)
            written.append(target)
    return written


def _note(version: LayerVersionOrm) -> str:
    return f"{version.layer_id} v{version.version} ({version.checksum[:16]})"


def _difference_strip(dem, window: Window, surface) -> np.ndarray:
    """Terrain minus the tree line (m), NaN where either has no value."""
    elevation = read_float(dem, window)
    tree_line = bilinear_at_centres(surface, dem.transform, window)
    return elevation - tree_line


def _shade_strip(dem, window: Window, _surface) -> np.ndarray:
    """Hillshade (Horn's slope and aspect) of a strip, NaN where the terrain has no value."""
    # One row above and below the strip for the 3 × 3 neighbourhood, edges repeated.
    top = max(0, int(window.row_off) - 1)
    bottom = min(dem.height, int(window.row_off + window.height) + 1)
    padded = read_float(dem, Window(0, top, dem.width, bottom - top))
    if top == int(window.row_off):
        padded = np.vstack([padded[:1], padded])
    if bottom == int(window.row_off + window.height):
        padded = np.vstack([padded, padded[-1:]])
    padded = np.hstack([padded[:, :1], padded, padded[:, -1:]])
    z = padded * Z_FACTOR
    cell_x, cell_y = abs(dem.transform.a), abs(dem.transform.e)
    # Horn (1981): weighted differences over the 3 × 3 window.
    dzdx = (
        (z[:-2, 2:] + 2 * z[1:-1, 2:] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[1:-1, :-2] + z[2:, :-2])
    ) / (8 * cell_x)
    dzdy = (
        (z[2:, :-2] + 2 * z[2:, 1:-1] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[:-2, 1:-1] + z[:-2, 2:])
    ) / (8 * cell_y)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    zenith = np.radians(90.0 - ALTITUDE_DEG)
    azimuth = np.radians(360.0 - AZIMUTH_DEG + 90.0)
    shade = np.cos(zenith) * np.cos(slope) + np.sin(zenith) * np.sin(slope) * np.cos(
        azimuth - aspect
    )
    # Where a neighbour has no terrain the centre keeps its own value if it has one.
    centre = padded[1:-1, 1:-1]
    shade = np.where(np.isnan(shade) & ~np.isnan(centre), np.cos(zenith), shade)
    return np.where(np.isnan(centre), np.nan, 1.0 + 254.0 * np.clip(shade, 0.0, 1.0))


def _write_strips(
    dem_path: Path,
    target: Path,
    compute,
    dtype: str,
    nodata: float,
    surface_path: Path | None,
    note: str,
) -> None:
    """Compute a raster on the terrain model's grid strip by strip and store it as a COG."""
    handle, partial = tempfile.mkstemp(suffix=".tif", dir=target.parent)
    os.close(handle)
    handle, staging = tempfile.mkstemp(suffix=".tif", dir=target.parent)
    os.close(handle)
    try:
        with rasterio.open(dem_path) as dem:
            surface = rasterio.open(surface_path) if surface_path else None
            profile = {
                "driver": "GTiff",
                "width": dem.width,
                "height": dem.height,
                "count": 1,
                "dtype": dtype,
                "crs": dem.crs,
                "transform": dem.transform,
                "nodata": nodata,
                "tiled": True,
                "blockxsize": 512,
                "blockysize": 512,
                # A staging file read once: fast compression, the COG compresses well.
                "compress": "DEFLATE",
                "zlevel": 1,
            }
            try:
                with rasterio.open(staging, "w", **profile) as out:
                    for row in range(0, dem.height, STRIP_ROWS):
                        window = Window(0, row, dem.width, min(STRIP_ROWS, dem.height - row))
                        values = compute(dem, window, surface)
                        values = np.where(np.isnan(values), nodata, values)
                        if dtype == "uint8":
                            values = np.rint(values)
                        out.write(values.astype(dtype), 1, window=window)
                    out.update_tags(**{PROVENANCE_TAG: note})
            finally:
                if surface is not None:
                    surface.close()
        with rasterio.open(staging) as staged:
            rasterio.shutil.copy(
                staged,
                partial,
                driver="COG",
                compress="DEFLATE",
                predictor=3 if dtype == "float32" else 2,
                blocksize=512,
                overview_resampling="average",
                num_threads="ALL_CPUS",
            )
        # Readable by every process that shares the volume (mkstemp makes it 0600).
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    finally:
        for path in (partial, staging):
            if os.path.exists(path):
                os.unlink(path)
