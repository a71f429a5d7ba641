"""Reading plan proposals from GeoPackage and zipped Shapefile (via pyogrio/GDAL)."""

import io
import math
import re
import stat
import tempfile
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from spatial.codelists import fold_name
from spatial.crs import CrsRef, parse_crs
from spatial.errors import (
    InvalidInputError,
    MalformedInputError,
    PayloadTooLargeError,
    Problem,
    UnsupportedCRSError,
    summarize,
)
from spatial.plan_model import SourceFeature, SourcePlan

# Sidecar files GDAL reads next to a .shp; anything else in the archive is left packed.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
# Below this size a member's compression ratio says nothing (a short .cpg or a blank .dbf
# compresses extremely well without being a bomb).
_RATIO_FLOOR_BYTES = 1 << 20
_COPY_CHUNK = 1 << 16

# Plan attribute names as they arrive in a Shapefile, whose .dbf cuts names to 10 characters
# ("arealformal" → "arealforma"); compared after folding like plan_input does.
_KNOWN_ATTRIBUTES = (
    "arealformal",
    "arealbruksstatus",
    "hensynssone",
    "angitthensyn",
    "hensynsonenavn",
    "feltbetegnelse",
    "omradenavn",
    "kommunenummer",
    "planidentifikasjon",
    "bandlegging",
    "gjennomforing",
    "infrastruktur",
    "detaljering",
)
_OBJTYPE_NAMES = ("objtype", "objekttype", "featuretype")
_PLAN_OBJECT_LAYER = re.compile(r"^(kp|rp)\w*(omrade|sone)$")


def read_geopackage(body: bytes, max_features: int) -> SourcePlan:
    """Read every vector layer of a GeoPackage into source features."""
    with tempfile.TemporaryDirectory(prefix="arealsjekk-gpkg-") as directory:
        path = Path(directory) / "upload.gpkg"
        path.write_bytes(body)
        return _read_layers(path, max_features, "gpkg", shapefile=False)


def read_zipped_shapefile(
    body: bytes,
    max_features: int,
    max_members: int,
    max_unpacked_bytes: int,
    max_compression_ratio: float,
) -> SourcePlan:
    """Check a zip archive for safety, unpack its one Shapefile and read it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise MalformedInputError(f"body is not a readable zip archive: {exc}") from None
    with archive:
        members = _checked_members(archive, max_members, max_unpacked_bytes, max_compression_ratio)
        shp = _single_shapefile(members)
        stem = PurePosixPath(shp.filename).stem
        folder = str(PurePosixPath(shp.filename).parent)
        parts = [
            m
            for m in members
            if str(PurePosixPath(m.filename).parent) == folder
            and PurePosixPath(m.filename).stem.lower() == stem.lower()
            and PurePosixPath(m.filename).suffix.lower() in SHAPEFILE_PARTS
        ]
        missing = {".shx", ".dbf"} - {PurePosixPath(m.filename).suffix.lower() for m in parts}
        if missing:
            raise InvalidInputError(
                f"the Shapefile '{shp.filename}' lacks its {' and '.join(sorted(missing))} "
                "file; zip the .shp together with its .shx, .dbf and .prj"
            )
        with tempfile.TemporaryDirectory(prefix="arealsjekk-shp-") as directory:
            # Files are written under a sanitised name chosen here, never a path from the
            # archive, so nothing can land outside the temporary directory.
            safe_stem = re.sub(r"[^\w .-]", "_", stem).lstrip(".") or "plan"
            budget = [max_unpacked_bytes]
            for member in parts:
                suffix = PurePosixPath(member.filename).suffix.lower()
                _extract(archive, member, Path(directory) / f"{safe_stem}{suffix}", budget)
            path = Path(directory) / f"{safe_stem}.shp"
            return _read_layers(path, max_features, "shapefile", shapefile=True)


def _checked_members(
    archive: zipfile.ZipFile,
    max_members: int,
    max_unpacked_bytes: int,
    max_compression_ratio: float,
) -> list[zipfile.ZipInfo]:
    """Refuse unsafe archives before anything is unpacked: names, count, size, ratio."""
    infos = archive.infolist()
    if len(infos) > max_members:
        raise PayloadTooLargeError(
            f"the zip archive has {len(infos)} members; the limit is {max_members}"
        )
    problems: list[Problem] = []
    for info in infos:
        reason = _unsafe_name(info)
        if reason:
            problems.append(Problem(f"unsafe member name: {reason}", field=info.filename))
        elif info.flag_bits & 0x1:
            problems.append(Problem("member is encrypted", field=info.filename))
    if problems:
        raise InvalidInputError(f"the zip archive is refused: {summarize(problems)}", problems)
    files = [info for info in infos if not info.is_dir()]
    total = sum(info.file_size for info in files)
    if total > max_unpacked_bytes:
        raise PayloadTooLargeError(
            f"the zip archive unpacks to {total} bytes; the limit is {max_unpacked_bytes}"
        )
    packed = sum(info.compress_size for info in files)
    for info in files:
        if info.file_size > _RATIO_FLOOR_BYTES and (
            info.file_size / max(info.compress_size, 1) > max_compression_ratio
        ):
            raise PayloadTooLargeError(
                f"zip member '{info.filename}' unpacks to "
                f"{info.file_size / max(info.compress_size, 1):.0f} times its packed size; "
                f"the limit is {max_compression_ratio:.0f} (a zip bomb?)"
            )
    if total > _RATIO_FLOOR_BYTES and total / max(packed, 1) > max_compression_ratio:
        raise PayloadTooLargeError(
            f"the zip archive unpacks to {total / max(packed, 1):.0f} times its packed size; "
            f"the limit is {max_compression_ratio:.0f} (a zip bomb?)"
        )
    return files


def _unsafe_name(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic links are not accepted"
    if "\x00" in name:
        return "the name contains a NUL byte"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute paths are not accepted"
    if ".." in re.split(r"[\\/]", name):
        return "'..' path components are not accepted"
    return None


def _single_shapefile(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    def ignored(name: str) -> bool:  # macOS resource forks: __MACOSX/…, ._name.shp
        path = PurePosixPath(name.replace("\\", "/"))
        return path.parts[0] == "__MACOSX" or path.name.startswith("._")

    shapefiles = [
        m
        for m in members
        if PurePosixPath(m.filename).suffix.lower() == ".shp" and not ignored(m.filename)
    ]
    if len(shapefiles) == 1:
        return shapefiles[0]
    if not shapefiles:
        names = ", ".join(m.filename for m in members[:10]) or "nothing"
        raise InvalidInputError(
            f"the zip archive holds no Shapefile (.shp); it holds {names}. Upload a "
            "GeoPackage, GML or SOSI file directly, not zipped"
        )
    names = ", ".join(m.filename for m in shapefiles)
    raise InvalidInputError(
        f"the zip archive holds {len(shapefiles)} Shapefiles ({names}); zip one plan's "
        "Shapefile per upload, or send a GeoPackage with one layer per object type"
    )


def _extract(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, budget: list[int]
) -> None:
    """Copy one member, counting bytes: a header may understate what a member unpacks to."""
    try:
        with archive.open(member) as source, target.open("wb") as sink:
            while chunk := source.read(_COPY_CHUNK):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise PayloadTooLargeError(
                        f"zip member '{member.filename}' unpacks to more than the archive "
                        "declares; refused"
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise MalformedInputError(f"zip member '{member.filename}' cannot be read: {exc}") from None


def _read_layers(path: Path, max_features: int, source_format: str, shapefile: bool) -> SourcePlan:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # GDAL raises its own DataSourceError types
        raise MalformedInputError(
            f"the {_what(source_format)} cannot be opened: {_gdal_message(exc, path)}"
        ) from None
    vector = [(str(name), geometry) for name, geometry in layers if geometry is not None]
    if not vector:
        raise InvalidInputError(f"the {_what(source_format)} has no layer with geometries")
    counts = {name: _feature_count(path, name, source_format) for name, _ in vector}
    total = sum(counts.values())
    if total > max_features:
        raise PayloadTooLargeError(
            f"the {_what(source_format)} has {total} features; the limit is {max_features}"
        )
    if total == 0:
        raise InvalidInputError(f"the {_what(source_format)} is empty: a plan needs an area")

    features: list[SourceFeature] = []
    crs_by_layer: dict[str, CrsRef] = {}
    for name, _ in vector:
        frame = _read_frame(path, name, source_format, shapefile)
        crs_by_layer[name] = _layer_crs(frame.crs, name, source_format)
        rename = _shapefile_names(list(frame.columns)) if shapefile else {}
        objtype = _layer_objtype(name, frame.columns)
        rows = frame.itertuples(index=False, name=None)
        for fid, row in zip(frame.index, rows, strict=True):
            properties: dict[str, Any] = {"objtype": objtype} if objtype else {}
            geometry = None
            for column, value in zip(frame.columns, row, strict=True):
                if column == frame.geometry.name:
                    geometry = value
                else:
                    properties[rename.get(column, column)] = _plain(value)
            features.append(
                SourceFeature(
                    position=len(features),
                    source_id=f"{name}:{fid}",
                    properties=properties,
                    geometry=geometry,
                )
            )
    crs_values = set(crs_by_layer.values())
    if len(crs_values) > 1:
        problems = [
            Problem(f"layer '{name}' is in {ref.label}", field=name)
            for name, ref in crs_by_layer.items()
        ]
        raise UnsupportedCRSError(
            "the layers use different coordinate reference systems ("
            + ", ".join(f"{name}: {ref.label}" for name, ref in crs_by_layer.items())
            + "); a plan file must use one",
            problems,
        )
    return SourcePlan(features=features, crs=crs_values.pop(), source_format=source_format)


def _gdal_message(exc: Exception, path: Path) -> str:
    """GDAL's message without the temporary directory the upload was written to."""
    return str(exc).replace(str(path.parent) + "/", "")


def _what(source_format: str) -> str:
    return "GeoPackage" if source_format == "gpkg" else "Shapefile"


def _feature_count(path: Path, layer: str, source_format: str) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    except Exception as exc:  # GDAL raises its own error types
        raise MalformedInputError(
            f"layer '{layer}' of the {_what(source_format)} cannot be read: "
            f"{_gdal_message(exc, path)}"
        ) from None


def _read_frame(path: Path, layer: str, source_format: str, shapefile: bool) -> gpd.GeoDataFrame:
    """Read a layer; a Shapefile without .cpg is tried as UTF-8, then as GDAL decides."""
    encodings: list[str | None] = [None]
    if shapefile and not path.with_suffix(".cpg").exists():
        encodings = ["UTF-8", None]
    for encoding in encodings:
        try:
            return pyogrio.read_dataframe(path, layer=layer, encoding=encoding, fid_as_index=True)
        except UnicodeDecodeError:
            continue
        except Exception as exc:  # GDAL raises its own error types
            raise MalformedInputError(
                f"layer '{layer}' of the {_what(source_format)} cannot be read: "
                f"{_gdal_message(exc, path)}"
            ) from None
    raise MalformedInputError(
        f"the text attributes of layer '{layer}' are in an unknown encoding; add a .cpg file "
        "naming it (e.g. UTF-8)"
    )


def _layer_crs(crs: CRS | None, layer: str, source_format: str) -> CrsRef:
    if crs is None:
        hint = "zip the .prj file with the .shp" if source_format == "shapefile" else "set it"
        raise UnsupportedCRSError(
            f"layer '{layer}' of the {_what(source_format)} has no coordinate reference "
            f"system; {hint}",
            [Problem("no CRS", field=layer)],
        )
    epsg = crs.to_epsg()
    if epsg is None:
        raise UnsupportedCRSError(
            f"layer '{layer}' is in '{crs.name}', which has no EPSG code; export it in an EPSG "
            "CRS such as EPSG:25832 (ETRS89 / UTM 32N)",
            [Problem(f"CRS '{crs.name}' has no EPSG code", field=layer)],
        )
    return parse_crs(f"EPSG:{epsg}", what=f"layer '{layer}'")


def _layer_objtype(layer: str, columns: Any) -> str | None:
    """The layer name as object type, when features have none and it names a plan object."""
    if any(fold_name(str(column)) in _OBJTYPE_NAMES for column in columns):
        return None
    # Only names such as KpArealformålOmråde / rparealformalomrade: a layer called "areas"
    # would otherwise override the kind plan_input infers from the attributes.
    return layer if _PLAN_OBJECT_LAYER.match(fold_name(layer)) else None


def _shapefile_names(columns: list[str]) -> dict[str, str]:
    """Restore plan attribute names the .dbf cut to 10 characters."""
    rename: dict[str, str] = {}
    for column in columns:
        folded = fold_name(str(column))
        if len(str(column)) != 10 or folded in _KNOWN_ATTRIBUTES:
            continue
        matches = [name for name in _KNOWN_ATTRIBUTES if name.startswith(folded)]
        if len(matches) == 1:
            rename[column] = matches[0]
    return rename


def _plain(value: Any) -> Any:
    """Convert numpy/pandas values to JSON-ready Python values (the attributes are kept)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date | time):  # pandas.Timestamp is a datetime
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
