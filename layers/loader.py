"""Loading guideline layers from files into new, immutable layer versions.

Vectors (FileGDB, Shapefile, GML, GeoJSON, GeoPackage, SOSI; as files, folders or zipped
downloads: layers/sources/files.py) are reprojected to EPSG:25832, validated and stored in
PostGIS. Rasters (GeoTIFF) are written as Cloud Optimized GeoTIFFs into the raster
directory. A load either writes a complete new version or nothing; loading data identical
to the current version writes nothing.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.shutil
import shapely
from geoalchemy2.shape import from_shape
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.warp import Resampling
from shapely.geometry import box
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.models import LayerFeatureOrm, LayerVersionOrm
from layers.rasters import (
    RasterSourceError,
    is_tile_set,
    list_tiles,
    open_geotiff,
    tile_grid,
    tiles_checksum,
    write_mosaic_vrt,
)
from layers.registry import AttributeConfig, LayerConfig, get_layer_config
from layers.sources.files import (
    Constant,
    SourceFileError,
    VectorSource,
    constant_column,
    read_vector_source,
)
from layers.sources.stops import StopSourceError, read_stop_source, stop_source_kind
from layers.terrain_products import INPUT_LAYERS as TERRAIN_INPUTS
from layers.terrain_products import build_terrain_products
from spatial.crs import CANONICAL_SRID
from spatial.errors import ArealsjekkError

Progress = Callable[[str, int, int], None]
# A folder (a FileGDB .gdb or an unpacked download) is read too: layers/sources/files.py.
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".gml", ".shp", ".gdb", ".sos", ".sosi"}
RASTER_SUFFIXES = {".tif", ".tiff"}
INSERT_BATCH = 2000
GDAL_CACHE_MB = 256
GEOMETRY_FAMILIES = {
    "Polygon": ("Polygon", "MultiPolygon"),
    "LineString": ("LineString", "MultiLineString"),
    "Point": ("Point", "MultiPoint"),
}


class LayerLoadError(ArealsjekkError):
    """A layer file cannot be loaded; the message names the file and the feature."""


@dataclass(frozen=True)
class LoadOptions:
    """Provenance and attribute mapping given by the operator."""

    source: str | None = None
    source_date: date | None = None
    licence: str | None = None
    attr_map: dict[str, str] = field(default_factory=dict)
    # Layers of a multi-layer download read into one version; none: the file's only layer.
    source_layers: tuple[str, ...] = ()
    # --set values, per source layer or for all (layers/sources/files.py)
    constants: tuple[Constant, ...] = ()


@dataclass(frozen=True)
class LoadResult:
    """What a load did: the version now current and whether it was created."""

    layer_id: str
    version: int
    created: bool
    feature_count: int
    checksum: str
    # attribute -> {source value: features} for values its map does not know (left empty)
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)
    # what the format reader reported besides the features (e.g. NSR stops per type)
    notes: dict[str, Any] = field(default_factory=dict)


def load_layer(
    session: Session,
    layer_id: str,
    path: Path,
    options: LoadOptions | None = None,
    progress: Progress | None = None,
    raster_dir: Path | None = None,
) -> LoadResult:
    """Load a file as a new version of a layer, unless it equals the current version."""
    config = get_layer_config(layer_id)
    options = options or LoadOptions()
    path = Path(path)
    if config.kind == "raster":
        # A GeoTIFF, or a folder or zip of GeoTIFF tiles (layers/rasters.py).
        if raster_dir is None:
            raise LayerLoadError("no raster directory configured (AREALSJEKK_RASTER_DIR)")
        result = _load_raster(session, config, path, options, progress, raster_dir)
        # The map's hillshade and height above the tree line follow the current versions
        # (also for an unchanged load, so an older installation gets them).
        if layer_id in TERRAIN_INPUTS:
            build_terrain_products(raster_dir, current_versions(session))
        return result
    if not path.exists():
        raise LayerLoadError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    stops = stop_source_kind(path, config)  # NSR NeTEx XML or GTFS (layers/sources/stops.py)
    if not path.is_dir() and suffix not in VECTOR_SUFFIXES and stops is None:
        known = ", ".join(sorted(VECTOR_SUFFIXES))
        raise LayerLoadError(f"{path.name}: vector layer '{layer_id}' needs one of {known}")
    return _load_vector(session, config, path, options, progress)


def current_versions(session: Session) -> dict[str, LayerVersionOrm]:
    """Return the current (newest) version of every loaded layer, keyed by layer id."""
    newest = (
        select(LayerVersionOrm.layer_id, func.max(LayerVersionOrm.version).label("version"))
        .group_by(LayerVersionOrm.layer_id)
        .subquery()
    )
    rows = session.execute(
        select(LayerVersionOrm).join(
            newest,
            (LayerVersionOrm.layer_id == newest.c.layer_id)
            & (LayerVersionOrm.version == newest.c.version),
        )
    ).scalars()
    return {row.layer_id: row for row in rows}


def current_version(session: Session, layer_id: str) -> LayerVersionOrm | None:
    """Return the newest version of a layer, or None if it was never loaded."""
    return session.execute(
        select(LayerVersionOrm)
        .where(LayerVersionOrm.layer_id == layer_id)
        .order_by(LayerVersionOrm.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _next_version(session: Session, layer_id: str) -> int:
    # Serialise concurrent loads of one layer so version numbers stay consecutive.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(layer_id))))
    latest = session.execute(
        select(func.max(LayerVersionOrm.version)).where(LayerVersionOrm.layer_id == layer_id)
    ).scalar_one()
    return (latest or 0) + 1


# --- vectors -------------------------------------------------------------------------


def _read_vector(path: Path, config: LayerConfig, options: LoadOptions) -> VectorSource:
    """Read the chosen source layers, with the --set constants as columns of their own."""
    both = sorted({c.attribute for c in options.constants} & set(options.attr_map))
    if both:
        raise LayerLoadError(f"{both} given both by --set and by --attr-map; use one")
    try:
        stops = read_stop_source(path, config, options)
        if stops is not None:
            return stops
        # The config's constants per source layer, unless --attr-map names a column instead.
        defaults = {
            name: {a: v for a, v in s.set.items() if a not in options.attr_map}
            for s in config.source_layers
            for name in s.names
        }
        return read_vector_source(
            path, options.source_layers, options.constants, config.attributes, defaults
        )
    except (SourceFileError, StopSourceError) as exc:
        raise LayerLoadError(exc.detail) from None


def _load_vector(
    session: Session,
    config: LayerConfig,
    path: Path,
    options: LoadOptions,
    progress: Progress | None,
) -> LoadResult:
    source = _read_vector(path, config, options)
    frame = source.frame
    options = replace(options, attr_map={**options.attr_map, **source.constant_columns})
    if frame.empty:
        raise LayerLoadError(f"{path.name}: has no features")
    if frame.crs is None:
        raise LayerLoadError(f"{path.name}: declares no CRS; give the data an EPSG code")
    frame = frame.to_crs(epsg=CANONICAL_SRID)
    found = _attribute_columns(config, frame, path, options)
    columns = _one_column_each(frame, found)
    unmapped = _unmapped_values(config, frame, columns, found, path)
    features = [
        _vector_feature(config, path, position, row, columns)
        for position, row in enumerate(frame.itertuples(index=False))
    ]

    digest = hashlib.sha256(config.id.encode())
    for feature in features:
        # Millimetre coordinates, so the same data from another format or CRS hash alike.
        rounded = shapely.transform(feature["geometry"], lambda xy: np.round(xy, 3))
        digest.update(shapely.to_wkb(rounded, output_dimension=2))
        digest.update(json.dumps(feature["attributes"], sort_keys=True, default=str).encode())
    checksum = digest.hexdigest()
    current = current_version(session, config.id)
    if current is not None and current.checksum == checksum:
        return LoadResult(
            config.id,
            current.version,
            False,
            current.feature_count,
            checksum,
            unmapped,
            source.notes,
        )

    number = _next_version(session, config.id)
    version = LayerVersionOrm(
        layer_id=config.id,
        version=number,
        checksum=checksum,
        feature_count=len(features),
        extent=from_shape(box(*frame.total_bounds), srid=CANONICAL_SRID),
        source=options.source or config.source.name,
        source_date=options.source_date,
        licence=options.licence or config.source.licence,
        file_name=path.name,
        raster_file=None,
        details={
            "attribute_columns": {name: " or ".join(names) for name, names in found.items()},
            "source_crs": str(frame.crs),
            "source_layers": source.layers,
            "constants": source.constants,
            "unmapped_values": unmapped,
            **source.notes,
        },
    )
    session.add(version)
    session.flush()
    for start in range(0, len(features), INSERT_BATCH):
        batch = features[start : start + INSERT_BATCH]
        session.execute(
            insert(LayerFeatureOrm),
            [
                {
                    "layer_version_id": version.id,
                    "source_fid": f["source_fid"],
                    "attributes": f["attributes"],
                    "geom": from_shape(f["geometry"], srid=CANONICAL_SRID),
                }
                for f in batch
            ],
        )
        if progress:
            progress(config.id, start + len(batch), len(features))
    session.commit()
    return LoadResult(config.id, number, True, len(features), checksum, unmapped, source.notes)


def _attribute_columns(
    config: LayerConfig, frame: gpd.GeoDataFrame, path: Path, options: LoadOptions
) -> dict[str, list[str]]:
    """Find the source columns of each configured attribute, in the order of its names
    (--attr-map wins): source layers read together may keep one fact under different names."""
    unknown = set(options.attr_map) - set(config.attributes)
    if unknown:
        raise LayerLoadError(
            f"--attr-map names {sorted(unknown)}, which layer '{config.id}' does not keep; "
            f"its attributes are {sorted(config.attributes)}"
        )
    available = {str(c).lower(): str(c) for c in frame.columns if c != "geometry"}
    columns: dict[str, list[str]] = {}
    for name, attribute in config.attributes.items():
        candidates = (
            [options.attr_map[name]]
            if name in options.attr_map
            else [
                name,
                *attribute.source_names,
            ]
        )
        present = (available[c.lower()] for c in candidates if c.lower() in available)
        found = list(dict.fromkeys(present))
        if found:
            columns[name] = found
        elif attribute.required:
            raise LayerLoadError(
                f"{path.name}: layer '{config.id}' needs attribute '{name}' "
                f"({attribute.description}); looked for {candidates}, the file has "
                f"{sorted(available.values())}; map it with --attr-map {name}=COLUMN, or give "
                f"it per source layer with --set [SOURCE_LAYER:]{name}=VALUE"
            )
    return columns


def _one_column_each(frame: gpd.GeoDataFrame, found: dict[str, list[str]]) -> dict[str, str]:
    """One column per attribute: where several hold it, a column of each row's first value."""
    columns: dict[str, str] = {}
    for name, names in found.items():
        if len(names) == 1:
            columns[name] = names[0]
            continue
        # e.g. heritage ids: kulturminneId in enkeltminne, lokalitetId in lokalitet
        combined = frame[names[0]].copy()
        for other in names[1:]:
            empty = combined.isna() | (combined.astype(str).str.strip() == "")
            combined = combined.where(~empty, frame[other])
        columns[name] = f"arealsjekk_any_{name}"
        frame[columns[name]] = combined
    return columns


def _vector_feature(
    config: LayerConfig, path: Path, position: int, row: Any, columns: dict[str, str]
) -> dict[str, Any]:
    where = f"{path.name}: feature {position}"
    geometry = row.geometry
    if geometry is None or geometry.is_empty:
        raise LayerLoadError(f"{where}: has no geometry")
    family = GEOMETRY_FAMILIES[config.geometry_type or "Polygon"]
    if geometry.geom_type not in family:
        raise LayerLoadError(
            f"{where}: geometry is a {geometry.geom_type}; layer '{config.id}' holds "
            f"{config.geometry_type} features"
        )
    geometry = shapely.force_2d(geometry)
    if not geometry.is_valid:
        repaired = shapely.make_valid(geometry)
        parts = [p for p in shapely.get_parts(repaired) if p.geom_type in family]
        if not parts:
            raise LayerLoadError(f"{where}: invalid geometry ({shapely.is_valid_reason(geometry)})")
        geometry = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    attributes = {
        name: _attribute_value(config.attributes[name], getattr(row, column), where, name)
        for name, column in columns.items()
    }
    for name, attribute in config.attributes.items():
        if attribute.required and attributes.get(name) is None:
            raise LayerLoadError(f"{where}: required attribute '{name}' is empty")
    fid = getattr(row, "id", None) if "id" not in columns.values() else None
    return {
        "geometry": geometry,
        "attributes": attributes,
        "source_fid": None if fid is None else str(fid),
    }


def _attribute_value(attribute: AttributeConfig, value: Any, where: str, name: str) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if attribute.type == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise LayerLoadError(f"{where}: '{name}' = {value!r} is not an integer") from None
    if attribute.type == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise LayerLoadError(f"{where}: '{name}' = {value!r} is not a number") from None
    text = _source_text(value)
    if attribute.allowed is not None:
        # Unmapped values become None here; _unmapped_values counts and reports them.
        return attribute.map_value(text) if text else None
    return text


def _source_text(value: Any) -> str:
    """A source value as text: 2.0 (an integer code in a column with gaps) reads as '2'."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _unmapped_values(
    config: LayerConfig,
    frame: gpd.GeoDataFrame,
    columns: dict[str, str],
    found: dict[str, list[str]],
    path: Path,
) -> dict[str, dict[str, int]]:
    """Count the source values of each mapped attribute that its value map does not know.

    Unknown values are never guessed: if an attribute a rule needs (required) has any, the
    load fails listing them with their counts; for the others they are returned (and the
    features keep no value for that attribute).
    """
    unmapped: dict[str, dict[str, int]] = {}
    for name, column in columns.items():
        attribute = config.attributes[name]
        if attribute.allowed is None:
            continue
        counts: dict[str, int] = {}
        for raw, count in frame[column].value_counts(dropna=True).items():
            text = _source_text(raw)
            if text and attribute.map_value(text) is None:
                counts[text] = counts.get(text, 0) + int(count)
        if counts:
            unmapped[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    failed = [name for name in unmapped if config.attributes[name].required]
    if failed:
        lines = [
            f"'{name}' ({_column_label(name, found[name])}): "
            + ", ".join(f"'{value}': {count}" for value, count in unmapped[name].items())
            + f"; known: {_known_values(config.attributes[name])}"
            for name in failed
        ]
        raise LayerLoadError(
            f"{path.name}: layer '{config.id}' has values with no mapping in "
            f"layers/config/{config.id}.yaml (value: features): " + "; ".join(lines)
        )
    return unmapped


def _column_label(name: str, names: list[str]) -> str:
    if names == [constant_column(name)]:
        return "given with --set"
    return ("column " if len(names) == 1 else "columns ") + " or ".join(f"'{n}'" for n in names)


def _known_values(attribute: AttributeConfig) -> str:
    known = [*attribute.values, *(a for a in attribute.allowed or [] if a not in attribute.values)]
    return ", ".join(f"'{value}'" for value in known)


# --- rasters -------------------------------------------------------------------------


def _file_checksum(path: Path, layer_id: str, progress: Progress | None) -> str:
    digest = hashlib.sha256(layer_id.encode())
    size = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(f"{layer_id} (checksum)", done, size)
    return digest.hexdigest()


def _load_raster(
    session: Session,
    config: LayerConfig,
    path: Path,
    options: LoadOptions,
    progress: Progress | None,
    raster_dir: Path,
) -> LoadResult:
    tiles = None
    try:
        if is_tile_set(path):
            tiles = list_tiles(path)
            grid = tile_grid(tiles, config.raster.nodata if config.raster else None)
            checksum = tiles_checksum(config.id, tiles, progress)
        else:
            if not path.is_file():
                raise LayerLoadError(f"{path}: no such file or folder")
            if path.suffix.lower() not in RASTER_SUFFIXES:
                raise LayerLoadError(
                    f"{path.name}: raster layer '{config.id}' needs a GeoTIFF (.tif), or a "
                    "folder or zip of GeoTIFF tiles"
                )
            with open_geotiff(str(path), path.name) as dataset:
                if dataset.crs is None:
                    raise LayerLoadError(
                        f"{path.name}: declares no CRS; give the raster an EPSG code"
                    )
                if dataset.count < 1:
                    raise LayerLoadError(f"{path.name}: has no bands")
            checksum = _file_checksum(path, config.id, progress)
    except RasterSourceError as exc:
        raise LayerLoadError(exc.detail) from None
    current = current_version(session, config.id)
    if current is not None and current.checksum == checksum:
        return LoadResult(config.id, current.version, False, 0, checksum)

    raster_dir.mkdir(parents=True, exist_ok=True)
    target = raster_dir / f"{config.id}-{checksum[:16]}.tif"
    if tiles is None:
        details = _write_cog(path, target, config)
    else:
        with tempfile.TemporaryDirectory(dir=raster_dir) as work:
            mosaic = Path(work) / f"{path.stem}.vrt"
            write_mosaic_vrt(tiles, grid, mosaic)
            details = _write_cog(mosaic, target, config, label=path.name)
        details["tiles"] = [tile.name for tile in tiles]
        details["tile_nodata"] = grid.source_nodata
    number = store_raster_version(
        session,
        config.id,
        target,
        checksum=checksum,
        source=options.source or config.source.name,
        source_date=options.source_date,
        licence=options.licence or config.source.licence,
        file_name=path.name,
        details=details,
    )
    if progress:
        progress(config.id, 1, 1)
    return LoadResult(config.id, number, True, 0, checksum)


def grid_details(dataset: rasterio.DatasetReader, source_crs: str) -> dict[str, Any]:
    """Describe a stored raster's grid for its layer version (size, cell, type, extent, CRS)."""
    return {
        "width": dataset.width,
        "height": dataset.height,
        "resolution": list(dataset.res),
        "dtype": dataset.dtypes[0],
        "nodata": dataset.nodata,
        "bounds": list(dataset.bounds),
        "source_crs": source_crs,
    }


def store_raster_version(
    session: Session, layer_id: str, target: Path, details: dict[str, Any], **fields: Any
) -> int:
    """Record a written COG as the layer's next version; on failure remove the COG too.

    `details` holds the grid `_write_cog` reports (its `bounds` become the extent); `fields`
    are the version's checksum, source, source_date, licence and file_name.
    """
    try:
        number = _next_version(session, layer_id)
        session.add(
            LayerVersionOrm(
                layer_id=layer_id,
                version=number,
                feature_count=0,
                extent=from_shape(box(*details["bounds"]), srid=CANONICAL_SRID),
                raster_file=target.name,
                details=details,
                **fields,
            )
        )
        session.commit()
    except Exception:
        session.rollback()
        target.unlink(missing_ok=True)
        raise
    return number


def _write_cog(
    source: Path, target: Path, config: LayerConfig, label: str | None = None
) -> dict[str, Any]:
    """Write band 1 of `source` as a COG in EPSG:25832, streaming block by block."""
    nodata = config.raster.nodata if config.raster else None
    handle, partial = tempfile.mkstemp(suffix=".tif", dir=target.parent)
    os.close(handle)
    try:
        cog_options = {
            "driver": "COG",
            "compress": "DEFLATE",
            "blocksize": 512,
            "overview_resampling": "average",
            "num_threads": "ALL_CPUS",
        }
        # GDAL's block cache defaults to 5 % of RAM; cap it so a county-scale DEM is
        # streamed through a bounded amount of memory.
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), rasterio.open(source) as dataset:
            source_crs = str(dataset.crs)
            cog_options["predictor"] = 3 if dataset.dtypes[0].startswith("float") else 2
            if dataset.crs.to_epsg() == CANONICAL_SRID:
                rasterio.shutil.copy(dataset, partial, **cog_options)
            else:
                src_nodata = dataset.nodata if dataset.nodata is not None else nodata
                with WarpedVRT(
                    dataset,
                    crs=f"EPSG:{CANONICAL_SRID}",
                    resampling=Resampling.bilinear,
                    src_nodata=src_nodata,
                    nodata=src_nodata,
                ) as vrt:
                    rasterio.shutil.copy(vrt, partial, **cog_options)
        with rasterio.open(partial) as written:
            details = grid_details(written, source_crs)
        # Readable by every process that shares the volume (mkstemp makes it 0600).
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except RasterioError as exc:
        name = label or source.name
        raise LayerLoadError(f"{name}: cannot be converted to a COG: {exc}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return details
