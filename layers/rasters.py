"""Raster sources for raster layers: one GeoTIFF, or a folder or zip of GeoTIFF tiles.

Kartverket distributes DTM 10 as many GeoTIFF tiles (EPSG:25833, neighbours overlapping at
the seams). A tile set becomes one mosaic: a GDAL VRT written here that places every tile
on their common grid, so the loader warps and writes it as one COG block by block without
ever holding the mosaic in memory. Each tile's own nodata value is honoured, so a tile's
empty margin never hides a neighbour's data; where two tiles both have data the one whose
name sorts last wins (overlapping DTM tiles hold the same values there).
"""

import hashlib
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element, SubElement, tostring

import rasterio
from rasterio.crs import CRS
from rasterio.errors import RasterioError

from spatial.errors import ArealsjekkError

Progress = Callable[[str, int, int], None]
TIFF_SUFFIXES = (".tif", ".tiff")
# Files GIS tools write beside a GeoTIFF (world file, PAM statistics, projection, external
# overviews); they are read past, never used: the tile's own header is authoritative.
SIDECAR_SUFFIXES = (".tfw", ".tifw", ".aux.xml", ".prj", ".ovr")
# Documents a download carries beside its tiles (read-me, licence, metadata, a product
# sheet); read past too. Anything else (e.g. an .asc or .img grid) may be terrain in
# another format, so it is refused rather than silently left out of the mosaic.
DOCUMENT_SUFFIXES = (".txt", ".pdf", ".html", ".htm", ".md", ".xml", ".json", ".csv")
# As for vector downloads (layers/sources/files.py): a member unpacking to more than this
# many times its packed size (beyond the first MiB) is a zip bomb, not a DTM tile.
MAX_COMPRESSION_RATIO = 500
_RATIO_FLOOR_BYTES = 1 << 20
# Tiles on one grid are offset by whole cells; allow for rounding in the stored origin.
GRID_TOLERANCE_CELLS = 0.01
CHUNK = 8 * 1024 * 1024


class RasterSourceError(ArealsjekkError):
    """A raster file or tile set cannot be used; the message names the file or tile."""


@dataclass(frozen=True)
class Tile:
    """One GeoTIFF of a tile set: its name, how GDAL opens it and how to read its bytes."""

    name: str
    gdal_path: str
    size: int
    archive: Path | None = None
    member: str | None = None

    def chunks(self) -> Iterator[bytes]:
        """Yield the tile's bytes (decompressed, for a zip member) in bounded chunks."""
        if self.archive is not None and self.member is not None:
            with zipfile.ZipFile(self.archive) as archive, archive.open(self.member) as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
            return
        with open(self.gdal_path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


@dataclass(frozen=True)
class TileGrid:
    """What all tiles of a set share, and the extent of their union."""

    crs: CRS
    resolution: tuple[float, float]
    dtype: str
    nodata: float | None
    bounds: tuple[float, float, float, float]
    source_nodata: list[float]


def is_tile_set(path: Path) -> bool:
    """True for a folder or a zip archive (a tile set), False for a single raster file."""
    return path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")


def list_tiles(path: Path) -> list[Tile]:
    """Return the GeoTIFF tiles of a folder or zip, sorted by name; refuse anything else."""
    tiles = _zip_tiles(path) if path.is_file() else _folder_tiles(path)
    if not tiles:
        raise RasterSourceError(f"{path.name}: holds no GeoTIFF tiles (.tif)")
    seen: dict[str, str] = {}
    for tile in tiles:
        if tile.name in seen:
            raise RasterSourceError(
                f"{path.name}: two tiles are named '{tile.name}' ({seen[tile.name]} and "
                f"{tile.gdal_path}); a tile set names each tile once"
            )
        seen[tile.name] = tile.gdal_path
    return sorted(tiles, key=lambda t: t.name)


def _kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(TIFF_SUFFIXES):
        return "tile"
    if lower.endswith(SIDECAR_SUFFIXES + DOCUMENT_SUFFIXES):
        return "sidecar"
    return "other"


def _folder_tiles(folder: Path) -> list[Tile]:
    tiles, others = [], []
    for root, _dirs, names in os.walk(folder):  # symlinked folders are not followed
        for name in names:
            full = Path(root) / name
            kind = _kind(name)
            if kind == "tile":
                tiles.append(Tile(name, str(full), full.stat().st_size))
            elif kind == "other":
                others.append(str(full.relative_to(folder)))
    if others:
        raise RasterSourceError(_not_tiles(folder.name, others))
    return tiles


def _zip_tiles(path: Path) -> list[Tile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RasterSourceError(f"{path.name}: not a readable zip archive ({exc})") from None
    tiles, others = [], []
    with archive:
        for info in archive.infolist():
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise RasterSourceError(
                    f"{path.name}: member '{name}' points outside the archive (absolute path "
                    "or '..'); refused"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise RasterSourceError(f"{path.name}: member '{name}' is a symbolic link; refused")
            if info.is_dir():
                continue
            if info.file_size > _RATIO_FLOOR_BYTES + MAX_COMPRESSION_RATIO * info.compress_size:
                raise RasterSourceError(
                    f"{path.name}: member '{name}' unpacks to {info.file_size} bytes from "
                    f"{info.compress_size}, over {MAX_COMPRESSION_RATIO} times its packed size; "
                    "refused"
                )
            kind = _kind(name)
            if kind == "tile":
                tiles.append(
                    Tile(
                        PurePosixPath(parts[-1]).name,
                        f"/vsizip/{path.resolve()}/{name}",
                        info.file_size,
                        archive=path,
                        member=name,
                    )
                )
            elif kind == "other":
                others.append(name)
    if others:
        raise RasterSourceError(_not_tiles(path.name, others))
    return tiles


def _not_tiles(source: str, others: list[str]) -> str:
    shown = ", ".join(sorted(others)[:5]) + (
        f" and {len(others) - 5} more" if len(others) > 5 else ""
    )
    return (
        f"{source}: holds files that are not GeoTIFF tiles: {shown}; a tile set holds only "
        f".tif tiles (and their {', '.join(SIDECAR_SUFFIXES)} side files, and documents: "
        f"{', '.join(DOCUMENT_SUFFIXES)})"
    )


def tiles_checksum(layer_id: str, tiles: list[Tile], progress: Progress | None) -> str:
    """SHA-256 over the layer id and every tile's name and bytes, in name order."""
    digest = hashlib.sha256(layer_id.encode())
    total = sum(tile.size for tile in tiles)
    done = 0
    for tile in tiles:
        digest.update(f"\0{tile.name}\0{tile.size}\0".encode())
        for chunk in tile.chunks():
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(f"{layer_id} (checksum)", done, total)
    return digest.hexdigest()


def open_geotiff(gdal_path: str, name: str) -> rasterio.DatasetReader:
    """Open a file only as a GeoTIFF: GDAL would otherwise open e.g. a VRT named .tif,
    which can point at any file on the machine."""
    try:
        return rasterio.open(gdal_path, driver="GTiff")
    except RasterioError as exc:
        raise RasterSourceError(f"{name}: cannot be read as a GeoTIFF: {exc}") from None


def tile_grid(tiles: list[Tile], fallback_nodata: float | None) -> TileGrid:
    """Check that the tiles share CRS, cell size, data type and grid; return their union."""
    first: dict | None = None
    bounds = [float("inf"), float("inf"), float("-inf"), float("-inf")]
    nodata_values: set[float] = set()
    first_nodata: float | None = None
    for tile in tiles:
        with open_geotiff(tile.gdal_path, tile.name) as dataset:
            if dataset.crs is None:
                raise RasterSourceError(
                    f"tile {tile.name}: declares no CRS; give the tiles an EPSG code"
                )
            if dataset.count < 1:
                raise RasterSourceError(f"tile {tile.name}: has no bands")
            transform = dataset.transform
            if transform.b != 0 or transform.d != 0 or transform.e >= 0:
                raise RasterSourceError(
                    f"tile {tile.name}: is rotated or upside down; tiles must be north-up"
                )
            this = {
                "name": tile.name,
                "crs": dataset.crs,
                "res": dataset.res,
                "dtype": dataset.dtypes[0],
                "origin": (transform.c, transform.f),
            }
            if dataset.nodata is not None:
                nodata_values.add(float(dataset.nodata))
                if first_nodata is None:
                    first_nodata = float(dataset.nodata)
            left, bottom, right, top = dataset.bounds
        if first is None:
            first = this
        else:
            _same_grid(first, this)
        bounds = [
            min(bounds[0], left),
            min(bounds[1], bottom),
            max(bounds[2], right),
            max(bounds[3], top),
        ]
    assert first is not None
    # The first nodata value the tiles declare marks empty mosaic cells; the layer config's
    # value only if no tile declares one.
    return TileGrid(
        crs=first["crs"],
        resolution=first["res"],
        dtype=first["dtype"],
        nodata=first_nodata if first_nodata is not None else fallback_nodata,
        bounds=(bounds[0], bounds[1], bounds[2], bounds[3]),
        source_nodata=sorted(nodata_values),
    )


def _same_grid(first: dict, this: dict) -> None:
    where = f"tile {this['name']}"
    if this["crs"] != first["crs"]:
        raise RasterSourceError(
            f"{where}: is in {_crs_name(this['crs'])}, but {first['name']} is in "
            f"{_crs_name(first['crs'])}; all tiles of a set must share one CRS"
        )
    (rx, ry), (fx, fy) = this["res"], first["res"]
    if abs(rx - fx) > 1e-6 * fx or abs(ry - fy) > 1e-6 * fy:
        raise RasterSourceError(
            f"{where}: has {rx:g} × {ry:g} cells, but {first['name']} has {fx:g} × {fy:g}; "
            "all tiles of a set must share one resolution"
        )
    if this["dtype"] != first["dtype"]:
        raise RasterSourceError(
            f"{where}: holds {this['dtype']} values, but {first['name']} holds "
            f"{first['dtype']}; all tiles of a set must share one data type"
        )
    for offset, cell in zip(
        (this["origin"][0] - first["origin"][0], this["origin"][1] - first["origin"][1]),
        (fx, fy),
        strict=True,
    ):
        cells = offset / cell
        if abs(cells - round(cells)) > GRID_TOLERANCE_CELLS:
            raise RasterSourceError(
                f"{where}: its cells are not on the grid of {first['name']} (origins differ "
                f"by {abs(cells):.3f} cells); tiles of a set must share one grid"
            )


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def write_mosaic_vrt(tiles: list[Tile], grid: TileGrid, target: Path) -> None:
    """Write a GDAL VRT placing every tile on the common grid of `grid`."""
    resx, resy = grid.resolution
    left, _bottom, right, top = grid.bounds
    width = round((right - left) / resx)
    height = round((top - grid.bounds[1]) / resy)
    root = Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    SubElement(root, "SRS").text = grid.crs.to_wkt()
    SubElement(root, "GeoTransform").text = f"{left!r}, {resx!r}, 0, {top!r}, 0, {-resy!r}"
    band = SubElement(root, "VRTRasterBand", dataType=_vrt_type(grid.dtype), band="1")
    if grid.nodata is not None:
        SubElement(band, "NoDataValue").text = repr(float(grid.nodata))
    for tile in tiles:
        with open_geotiff(tile.gdal_path, tile.name) as dataset:
            x_off = round((dataset.transform.c - left) / resx)
            y_off = round((top - dataset.transform.f) / resy)
            block_y, block_x = dataset.block_shapes[0]
            source = SubElement(band, "ComplexSource")
            SubElement(source, "SourceFilename", relativeToVRT="0").text = tile.gdal_path
            SubElement(source, "SourceBand").text = "1"
            SubElement(
                source,
                "SourceProperties",
                RasterXSize=str(dataset.width),
                RasterYSize=str(dataset.height),
                DataType=_vrt_type(dataset.dtypes[0]),
                BlockXSize=str(block_x),
                BlockYSize=str(block_y),
            )
            size = {"xSize": str(dataset.width), "ySize": str(dataset.height)}
            SubElement(source, "SrcRect", xOff="0", yOff="0", **size)
            SubElement(source, "DstRect", xOff=str(x_off), yOff=str(y_off), **size)
            if dataset.nodata is not None:
                # Cells that are nodata in this tile leave what an earlier tile wrote.
                SubElement(source, "NODATA").text = repr(float(dataset.nodata))
    target.write_bytes(tostring(root, encoding="utf-8"))


def _vrt_type(dtype: str) -> str:
    names = {
        "uint8": "Byte",
        "int8": "Int8",
        "uint16": "UInt16",
        "int16": "Int16",
        "uint32": "UInt32",
        "int32": "Int32",
        "float32": "Float32",
        "float64": "Float64",
    }
    if dtype not in names:
        raise RasterSourceError(f"tiles hold {dtype} values, which a mosaic cannot take")
    return names[dtype]
