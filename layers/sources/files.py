"""Reading guideline vector data as the agencies distribute it.

A download is a file (FileGDB folder, Shapefile, GML, GeoJSON, GeoPackage, SOSI), a folder of
such files, or a zip archive of them as it comes from Geonorge, NGU or Miljødirektoratet
(the datasets may sit a folder or two deep). Its *source layers* are the layers of those
datasets (a FileGDB's feature classes, a Shapefile's name, a GML feature type, a SOSI file's
OBJTYPE values). One or more of them become one frame, with constant attribute values set per
source layer (`--set`): Riksantikvaren's data says what a polygon is only by the layer it is in.
"""

import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from spatial.errors import ArealsjekkError
from spatial.inputs.ogr import extract_member, list_geopackage_tables, read_geopackage_table
from spatial.inputs.sosi import read_sosi
from spatial.messages import english

# Each readable dataset suffix and the GDAL driver that must read it ("SOSI": our own reader;
# GDAL has no SOSI driver here, and spatial/inputs/sosi.py linearises arcs correctly; "GPKG":
# our own sqlite3 reader, since GDAL's GPKG driver runs the SQL a file defines, its views).
DATASET_DRIVERS = {
    ".gdb": "OpenFileGDB",
    ".shp": "ESRI Shapefile",
    ".gml": "GML",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".sos": "SOSI",
    ".sosi": "SOSI",
}
# Files read together with a dataset file of the same name.
COMPANION_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg", ".xsd")
# Archive limits. National downloads are large (Riksantikvaren's GML zip is ~300 MB and
# unpacks to a few GB), so the limits are far above the upload path's; they stop zip bombs
# and archives that would fill the disk, not large data.
MAX_MEMBERS = 50_000
MAX_UNPACKED_BYTES = 40 * 1024**3
MAX_COMPRESSION_RATIO = 500
_RATIO_FLOOR_BYTES = 1 << 20
# Layers listed from one dataset at most (a FileGDB of a national theme has a few dozen).
MAX_LAYERS = 1000
# SOSI objects read from one file at most (a county extract holds a few thousand).
MAX_SOSI_OBJECTS = 5_000_000
# Features and vertices read from one GeoPackage table at most: far above the national themes
# the layers take, they stop a file that would fill memory before it is read.
MAX_GPKG_FEATURES = 10_000_000
MAX_GPKG_VERTICES = 500_000_000
# A FileGDB's system catalogue table; its header starts with version 3 (32-bit offsets) or
# 4 (64-bit, ArcGIS Pro 3.2+), little-endian.
_GDB_CATALOGUE = "a00000001.gdbtable"
_SHP_FILE_CODE = b"\x00\x00\x27\x0a"
# Formats that make GDAL read other files or run code: a file carrying one of these under a
# harmless suffix would be opened by its content, not its name.
_FOREIGN_XML = (b"<OGRVRTDataSource", b"<VRTDataset", b"<GDAL_WMS", b"<WFS_GDAL")
# What zipfile raises on a broken archive: its own errors, the decompressor's, bad offsets.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    struct.error,
    EOFError,
    OSError,
)


class SourceFileError(ArealsjekkError):
    """A download cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Constant:
    """A value given with `--set [SOURCE_LAYER:]ATTRIBUTE=VALUE` (no layer: every layer)."""

    attribute: str
    value: str
    source_layer: str | None = None


@dataclass(frozen=True)
class SourceLayer:
    """One layer of a download, under the name `--source-layer` takes."""

    name: str
    dataset: Path
    driver: str
    layer: str
    geometry_type: str | None
    features: int | None = None
    # A SOSI file is parsed once, when its layers are listed; these are this layer's objects.
    sosi_rows: gpd.GeoDataFrame | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """The name with its geometry type and, if known, its feature count."""
        facts = [self.geometry_type or "no geometry"]
        if self.features is not None and self.features >= 0:
            facts.append(f"{self.features} features")
        return f"{self.name} ({', '.join(facts)})"


@dataclass
class VectorSource:
    """What was read: one frame of every chosen source layer, and where each constant went."""

    frame: gpd.GeoDataFrame
    layers: list[str]
    constant_columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, dict[str, str]] = field(default_factory=dict)
    # what a format reader reports besides the frame (e.g. NSR stops per type), kept in the
    # version's details
    notes: dict[str, object] = field(default_factory=dict)


def parse_constant(text: str) -> Constant:
    """Parse `[SOURCE_LAYER:]ATTRIBUTE=VALUE`; raise ValueError if it has no '='."""
    target, sep, value = text.partition("=")
    if not sep or not target.strip():
        raise ValueError(f"'{text}' is not [SOURCE_LAYER:]ATTRIBUTE=VALUE")
    layer, colon, attribute = target.rpartition(":")
    return Constant(attribute.strip(), value.strip(), layer.strip() if colon else None)


def constant_column(attribute: str) -> str:
    """The frame column a constant for `attribute` is written to."""
    return f"arealsjekk_set_{attribute}"


def read_vector_source(
    path: Path,
    source_layers: Sequence[str] = (),
    constants: Sequence[Constant] = (),
    attributes: Collection[str] | None = None,
    defaults: Mapping[str, Mapping[str, str]] | None = None,
) -> VectorSource:
    """Read the chosen source layers of a download into one frame in the first layer's CRS.

    `defaults` are the layer config's constants per source-layer name (source_layers[].set).
    """
    path = Path(path)
    if not path.exists():
        raise SourceFileError(f"{path}: no such file or folder")
    with _unpacked(path) as folder_or_file:
        catalogue = list_source_layers(folder_or_file, path.name)
        chosen = _choose(catalogue, source_layers, path.name)
        per_layer = _constants_per_layer(constants, chosen, attributes, path.name, defaults)
        frames = []
        crs = None
        for layer in chosen:
            frame = _read_layer(layer, path.name)
            if frame.crs is None:
                raise SourceFileError(
                    f"{path.name}: layer '{layer.name}' declares no CRS; give the data an EPSG code"
                )
            crs = crs or frame.crs
            frame = frame.to_crs(crs)
            for attribute, value in per_layer[layer.name].items():
                frame[constant_column(attribute)] = value
            if len(chosen) > 1:
                # Layers lack each other's columns: as object columns the gaps become NaN
                # without turning a layer's integers (e.g. lokalitetId 41907) into floats.
                frame = frame.astype({c: object for c in frame.columns if c != "geometry"})
            frames.append(frame)
    combined = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    columns = {a: constant_column(a) for values in per_layer.values() for a in values}
    return VectorSource(combined, [layer.name for layer in chosen], columns, per_layer)


def list_source_layers(path: Path, label: str | None = None) -> list[SourceLayer]:
    """Every layer with geometry in a dataset or a folder of datasets (an unpacked zip)."""
    label = label or path.name
    datasets = [path] if _dataset_driver(path) else list(_datasets_in(path))
    if not datasets:
        known = ", ".join(sorted(DATASET_DRIVERS))
        raise SourceFileError(f"{label}: holds no dataset Arealsjekk reads ({known})")
    found: list[SourceLayer] = []
    for dataset in datasets:
        found.extend(_dataset_layers(dataset, label))
    if not found:
        raise SourceFileError(f"{label}: holds no layer with geometries")
    # The same layer name in two datasets (e.g. two Shapefile folders): name it by its file.
    repeated = {name for name, count in Counter(s.name for s in found).items() if count > 1}
    return [
        replace(s, name=f"{s.dataset.name}:{s.name}") if s.name in repeated else s for s in found
    ]


# --- choosing layers and constants -----------------------------------------------------


def _choose(catalogue: list[SourceLayer], wanted: Sequence[str], label: str) -> list[SourceLayer]:
    if not wanted:
        if len(catalogue) == 1:
            return catalogue
        listing = "; ".join(layer.describe() for layer in catalogue)
        raise SourceFileError(
            f"{label}: holds {len(catalogue)} layers: {listing}. Choose with --source-layer "
            "NAME (repeat it to load several into one version)"
        )
    by_name = {layer.name: layer for layer in catalogue}
    folded: dict[str, list[SourceLayer]] = {}
    for layer in catalogue:
        folded.setdefault(layer.name.lower(), []).append(layer)
    chosen: list[SourceLayer] = []
    for name in wanted:
        match = by_name.get(name)
        if match is None and len(folded.get(name.lower(), [])) == 1:
            match = folded[name.lower()][0]
        if match is None:
            names = ", ".join(layer.describe() for layer in catalogue)
            raise SourceFileError(f"{label}: has no layer '{name}'; its layers are {names}")
        if match in chosen:
            raise SourceFileError(f"--source-layer '{name}' is given twice")
        chosen.append(match)
    return chosen


def _constants_per_layer(
    constants: Sequence[Constant],
    chosen: list[SourceLayer],
    attributes: Collection[str] | None,
    label: str,
    defaults: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, str]]:
    """Resolve each --set to the chosen layers; one naming a layer overrides one for all."""
    names = [layer.name for layer in chosen]
    per_layer: dict[str, dict[str, str]] = {name: {} for name in names}
    if attributes is not None:
        unknown = sorted({c.attribute for c in constants} - set(attributes))
        if unknown:
            raise SourceFileError(
                f"--set names {unknown}, which this layer does not keep; its attributes are "
                f"{sorted(attributes)}"
            )
    for constant in sorted(constants, key=lambda c: c.source_layer is not None):
        if constant.source_layer is None:
            targets = names
        else:
            lowered = {name.lower(): name for name in names}
            target = lowered.get(constant.source_layer.lower())
            if target is None:
                raise SourceFileError(
                    f"--set {constant.source_layer}:{constant.attribute}: '"
                    f"{constant.source_layer}' is not a chosen source layer of {label} "
                    f"(chosen: {', '.join(names)})"
                )
            targets = [target]
        for name in targets:
            per_layer[name][constant.attribute] = constant.value
    # The config's constants fill attributes no --set gives, where every chosen layer has one
    # (SandGrusOmr and PukkOmr: resource type); else the file's own column decides.
    folded = {name.lower(): values for name, values in (defaults or {}).items()}
    given = {constant.attribute for constant in constants}
    for attribute in sorted({a for values in folded.values() for a in values} - given):
        found = {name: folded.get(name.lower(), {}).get(attribute) for name in names}
        if all(value is not None for value in found.values()):
            for name, value in found.items():
                per_layer[name][attribute] = str(value)
    for attribute in {a for values in per_layer.values() for a in values}:
        missing = [name for name, values in per_layer.items() if attribute not in values]
        if missing:
            raise SourceFileError(
                f"--set gives '{attribute}' for some source layers but not for "
                f"{', '.join(missing)}; give it for each (LAYER:{attribute}=VALUE) or once for "
                f"all ({attribute}=VALUE)"
            )
    return per_layer


# --- finding and checking datasets ---------------------------------------------------------


def _dataset_driver(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".gdb":
        return DATASET_DRIVERS[suffix] if path.is_dir() else None
    return DATASET_DRIVERS.get(suffix) if path.is_file() else None


def _datasets_in(folder: Path) -> Iterator[Path]:
    """Datasets in a folder and its subfolders; a FileGDB folder is one dataset."""
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if _dataset_driver(entry):
            yield entry
        elif entry.is_dir():
            yield from _datasets_in(entry)


def _check_content(dataset: Path, driver: str, label: str) -> None:
    """Check a dataset is what its name says before GDAL opens it.

    GDAL picks a driver by content, not by name: a 'data.gml' holding a VRT document would be
    opened as one, and a VRT reads any file or database it names.
    """
    where = f"{label}: {dataset.name}"
    if driver == "OpenFileGDB":
        catalogue = dataset / _GDB_CATALOGUE
        head = catalogue.read_bytes()[:4] if catalogue.is_file() else b""
        if len(head) < 4 or struct.unpack("<i", head)[0] not in (3, 4):
            raise SourceFileError(f"{where}: is not a File Geodatabase (no {_GDB_CATALOGUE})")
        return
    with dataset.open("rb") as handle:
        head = handle.read(4096)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if driver == "ESRI Shapefile":
        ok = head[:4] == _SHP_FILE_CODE and len(head) >= 32 and head[28:32] == b"\xe8\x03\x00\x00"
    elif driver == "GML":
        ok = text.startswith(b"<") and not any(tag in head for tag in _FOREIGN_XML)
    elif driver == "GeoJSON":
        ok = text.startswith(b"{")
    elif driver == "GPKG":
        ok = head.startswith(b"SQLite format 3\x00")
    else:
        ok = True
    if not ok:
        raise SourceFileError(f"{where}: its content is not {driver} data; refused")


def _dataset_layers(dataset: Path, label: str) -> list[SourceLayer]:
    driver = DATASET_DRIVERS[dataset.suffix.lower()]
    _check_content(dataset, driver, label)
    if driver == "SOSI":
        frame = _sosi_frame(dataset, label)
        layers = []
        for name in dict.fromkeys(frame["OBJTYPE"]):
            rows = frame[frame["OBJTYPE"] == name].reset_index(drop=True)
            kinds = rows.geometry.dropna().geom_type
            geometry_type = str(kinds.iloc[0]) if len(kinds) else None
            layers.append(SourceLayer(name, dataset, driver, name, geometry_type, len(rows), rows))
        return layers
    if driver == "GPKG":
        try:
            tables = list_geopackage_tables(dataset)
        except ArealsjekkError as exc:
            detail = english(exc.detail)
            raise SourceFileError(f"{label}: {dataset.name} cannot be read: {detail}") from None
        return [
            SourceLayer(t.name, dataset, driver, t.name, t.geometry_type, t.features)
            for t in tables
        ]
    layers = []
    # Layers by index rather than pyogrio.list_layers, which takes no open options.
    for index in range(MAX_LAYERS):
        try:
            info = pyogrio.read_info(dataset, layer=index, **_open_options(driver))
        except DataLayerError:
            break  # past the last layer
        except DataSourceError as exc:
            raise SourceFileError(f"{label}: {dataset.name} cannot be read: {exc}") from None
        if info.get("driver") != driver:
            raise SourceFileError(
                f"{label}: {dataset.name} is read by GDAL as {info.get('driver')}, not "
                f"{driver}; refused"
            )
        if info.get("geometry_type") is None:
            continue  # attribute tables, e.g. a FileGDB's relationship classes
        name = str(info["layer_name"])
        layers.append(
            SourceLayer(name, dataset, driver, name, info["geometry_type"], info["features"])
        )
    return layers


def _open_options(driver: str) -> dict[str, str]:
    # The GML driver would otherwise fetch a WFS application schema from the network and
    # write a .gfs schema file beside the operator's file.
    return {"DOWNLOAD_SCHEMA": "NO", "WRITE_GFS": "NO"} if driver == "GML" else {}


def _read_layer(layer: SourceLayer, label: str) -> gpd.GeoDataFrame:
    if layer.sosi_rows is not None:
        return layer.sosi_rows
    if layer.driver == "GPKG":
        return _gpkg_frame(layer, label)
    # A Shapefile without .cpg is tried as UTF-8 first: GDAL would read it as ISO-8859-1.
    encodings: list[str | None] = [None]
    if layer.driver == "ESRI Shapefile" and not layer.dataset.with_suffix(".cpg").exists():
        encodings = ["UTF-8", None]
    for encoding in encodings:
        try:
            return pyogrio.read_dataframe(
                layer.dataset, layer=layer.layer, encoding=encoding, **_open_options(layer.driver)
            )
        except UnicodeDecodeError:
            continue
        except (DataSourceError, DataLayerError) as exc:
            raise SourceFileError(
                f"{label}: layer '{layer.name}' cannot be read as vector data: {exc}"
            ) from None
    raise SourceFileError(f"{label}: layer '{layer.name}' has text in an unknown encoding")


def _sosi_frame(path: Path, label: str) -> gpd.GeoDataFrame:
    """A SOSI file as a frame; the OBJTYPE column (or the object kind) names the layer."""
    try:
        plan = read_sosi(path.read_bytes(), MAX_SOSI_OBJECTS)
    except ArealsjekkError as exc:
        raise SourceFileError(f"{label}: {path.name}: {english(exc.detail)}") from None
    rows = []
    for feature in plan.features:
        if feature.geometry_error:
            raise SourceFileError(
                f"{label}: {path.name}: {feature.source_id}: {english(feature.geometry_error)}"
            )
        properties = dict(feature.properties)
        kind = (feature.source_id or "").split(" ")[0]
        properties["OBJTYPE"] = str(properties.get("OBJTYPE") or kind)
        rows.append({**properties, "geometry": feature.geometry})
    crs = "OGC:CRS84" if plan.crs.epsg is None else f"EPSG:{plan.crs.epsg}"
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def _gpkg_frame(layer: SourceLayer, label: str) -> gpd.GeoDataFrame:
    """A GeoPackage table as a frame, read by our own reader (no SQL of the file's runs)."""
    try:
        rows = read_geopackage_table(
            layer.dataset, layer.layer, MAX_GPKG_FEATURES, MAX_GPKG_VERTICES
        )
    except ArealsjekkError as exc:
        raise SourceFileError(
            f"{label}: layer '{layer.name}' of {layer.dataset.name} cannot be read: "
            f"{english(exc.detail)}"
        ) from None
    frame = pd.DataFrame(rows.columns, index=pd.RangeIndex(len(rows.geometries)))
    geometry = gpd.GeoSeries(rows.geometries, index=frame.index, crs=rows.crs)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=rows.crs)


# --- zip archives --------------------------------------------------------------------------


@contextmanager
def _unpacked(path: Path) -> Iterator[Path]:
    """A zip's datasets unpacked into a temporary folder; other paths as they are."""
    if path.is_dir() or path.suffix.lower() != ".zip":
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="arealsjekk-layer-") as directory:
        _unzip(path, Path(directory))
        yield Path(directory)


def _unzip(path: Path, target: Path) -> None:
    """Unpack the datasets of a zip under names chosen here, never paths from the archive."""
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise SourceFileError(f"{path.name}: cannot be read as a zip archive: {exc}") from None
    with archive:
        members = _checked_members(archive, path.name)
        folders: dict[tuple[str, ...], Path] = {}
        budget = [MAX_UNPACKED_BYTES]
        for member in members:
            parts = PurePosixPath(member.filename.replace("\\", "/")).parts
            if parts[0] == "__MACOSX" or parts[-1].startswith("._"):
                continue
            gdb = next((i for i, p in enumerate(parts[:-1]) if p.lower().endswith(".gdb")), None)
            if gdb is not None:
                if gdb != len(parts) - 2:
                    continue  # a FileGDB has no subfolders
                folder_key, folder_name = parts[: gdb + 1], _safe_name(parts[gdb])
            elif PurePosixPath(parts[-1]).suffix.lower() in (
                *DATASET_DRIVERS,
                *COMPANION_SUFFIXES,
            ):
                folder_key, folder_name = parts[:-1], ""
            else:
                continue  # documentation, metadata, styles
            if folder_key not in folders:
                folders[folder_key] = target / f"{len(folders):03d}" / folder_name
                folders[folder_key].mkdir(parents=True)
            target_file = folders[folder_key] / _safe_name(parts[-1])
            try:
                extract_member(archive, member, target_file, budget)
            except ArealsjekkError as exc:
                raise SourceFileError(f"{path.name}: {english(exc.detail)}") from None


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w .-]", "_", name).lstrip(".") or "unnamed"


def _checked_members(archive: zipfile.ZipFile, label: str) -> list[zipfile.ZipInfo]:
    """Refuse unsafe archives before anything is unpacked: names, count, size, ratio."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SourceFileError(f"{label}: has {len(infos)} members; the limit is {MAX_MEMBERS}")
    for info in infos:
        name = info.filename
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SourceFileError(f"{label}: member '{name}' is a symbolic link; refused")
        if "\x00" in name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            raise SourceFileError(f"{label}: member '{name}' has an absolute path; refused")
        if ".." in re.split(r"[\\/]", name):
            raise SourceFileError(f"{label}: member '{name}' has a '..' component; refused")
        if info.flag_bits & 0x1:
            raise SourceFileError(f"{label}: member '{name}' is encrypted")
    files = [info for info in infos if not info.is_dir()]
    total = sum(info.file_size for info in files)
    if total > MAX_UNPACKED_BYTES:
        raise SourceFileError(
            f"{label}: unpacks to {total} bytes; the limit is {MAX_UNPACKED_BYTES}"
        )
    for info in files:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise SourceFileError(
                f"{label}: member '{info.filename}' unpacks to {ratio:.0f} times its packed "
                f"size; the limit is {MAX_COMPRESSION_RATIO} (a zip bomb?)"
            )
    return files
