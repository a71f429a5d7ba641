"""Reading plan proposals from GeoPackage (with sqlite3) and zipped Shapefile (pyogrio/GDAL).

Guideline layers read their GeoPackages here too (`list_geopackage_tables`,
`read_geopackage_table`): the same reader, opened on the file in place, with larger limits.
"""

import io
import lzma
import math
import re
import sqlite3
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

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
from spatial.inputs.features import SourcePlanBuilder, cannot_read, check_feature_count
from spatial.messages import Text, english
from spatial.plan_model import SourcePlan, UploadBudget

# The files GDAL reads a whole Shapefile from; anything else in the archive is left packed
# (spatial indexes, .qix/.sbn/.sbx, only serve queries by area, which are not made here).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# Shapefile headers (ESRI Shapefile Technical Description, 1998): file code 9994 big-endian,
# version 1000 little-endian at byte 28, 100 bytes in all; the .shx has the same header and an
# 8-byte (offset, length) entry per record. A record's content starts with its shape type;
# lines, polygons and multipatches give their number of points after the box and the number
# of parts, multipoints right after the box.
_SHP_FILE_CODE = b"\x00\x00\x27\x0a"
_SHP_HEADER_BYTES = 100
_SHP_RECORD_HEAD_BYTES = 8 + 44
_SHP_POINT_TYPES = (1, 11, 21)
_SHP_MULTIPOINT_TYPES = (8, 18, 28)
_SHP_PART_TYPES = (3, 5, 13, 15, 23, 25, 31)
# A table's attribute values become Python objects of 60-100 bytes each, however few bytes
# they take in the file (a NULL takes one in a GeoPackage row): 20,000 rows of 1,000 NULL
# columns would take 700 MB from a 20 MB file. Tables may hold this many values per feature
# of the feature limit (plans have a dozen or two attributes); more is refused before reading.
ATTRIBUTE_VALUES_PER_FEATURE = 64
# Below this size a member's compression ratio says nothing (a short .cpg or a blank .dbf
# compresses extremely well without being a bomb).
_RATIO_FLOOR_BYTES = 1 << 20
# What zipfile raises on a broken or unsupported archive: besides its own errors, those of
# the decompressors and of seeking to offsets the archive states.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # compression methods and encryption zipfile cannot read
    RuntimeError,  # an encrypted member without password
    ValueError,  # negative seek offsets
    struct.error,
    EOFError,
    OSError,
)
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


# --- GeoPackage ------------------------------------------------------------------------------

# A GeoPackage is an SQLite database, and SQLite runs SQL the file itself defines: a view (a
# recursive CTE that never ends, randomblob(900000000)), a generated column, a virtual table.
# GDAL's GPKG driver runs that SQL when it reads a layer, so GeoPackages are read here with
# Python's sqlite3 the way SQLite advises for untrusted database files
# (https://sqlite.org/security.html, "Untrusted SQLite Database Files"): read-only and
# immutable, only the tables gpkg_contents lists as features and only if they are plain
# tables, an authorizer that allows reading those tables and nothing else (no function, view,
# trigger or recursive query of the file's), limits on value sizes, attached databases and
# the page cache, and a progress handler that stops at the upload's time budget.
_GPKG_METADATA = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys")
# SQLite virtual-machine steps between two looks at the clock.
_PROGRESS_STEPS = 10_000
# The connection's page cache in KiB (a negative PRAGMA cache_size); pages stay on disk.
_GPKG_CACHE_KIB = 8192
# srs_id -1 and 0 are "undefined Cartesian" and "undefined geographic" (OGC 12-128 Req 11).
_UNDEFINED_SRS = (-1, 0)
_ROWS_PER_FETCH = 500
# table_xinfo's `hidden`: 1 a hidden column of a virtual table, 2 a generated column computed
# whenever it is read (3, a stored generated column, holds a plain value).
_COMPUTED_COLUMNS = (1, 2)
# Envelope sizes by the envelope contents indicator of a geometry blob (OGC 12-128 §2.1.3.1.1).
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)


def read_geopackage(
    body: bytes,
    max_features: int,
    budget: UploadBudget | None = None,
    max_property_keys: int | None = None,
) -> SourcePlan:
    """Read every feature table of a GeoPackage without running any SQL the file defines."""
    budget = budget or UploadBudget()
    with tempfile.TemporaryDirectory(prefix="arealsjekk-gpkg-") as directory:
        path = Path(directory) / "upload.gpkg"
        path.write_bytes(body)
        with _untrusted_geopackage(path, len(body), budget) as (connection, authorizer):
            return _read_gpkg(connection, authorizer, max_features, budget, max_property_keys)


@contextmanager
def _untrusted_geopackage(
    path: Path, size: int, budget: UploadBudget
) -> Iterator[tuple[sqlite3.Connection, "_Authorizer"]]:
    """The open database and its authorizer; SQLite's errors become MalformedInputError."""
    try:
        authorizer = _Authorizer()
        with closing(_open_untrusted_sqlite(path, size, budget, authorizer)) as connection:
            yield connection, authorizer
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        # the progress handler stopped it
        budget.check_time(Text("lesing av GeoPackage-filen", "reading the GeoPackage"))
        # SQLite's message may quote bytes of a broken file that are not UTF-8.
        if isinstance(exc, UnicodeDecodeError):
            message = Text("oppbygningen av databasen kan ikke leses", "unreadable schema")
        elif "not authorized" in str(exc):
            message = Text(
                nb="den ber SQLite kjøre egen SQL; bare vanlige tabeller leses",
                en="it asks SQLite to run SQL of its own; only plain tables are read",
            )
        else:
            said = _short(str(exc))
            message = Text(f"melding fra SQLite: «{said}»", said)
        raise MalformedInputError(
            Text(
                nb=f"GeoPackage-filen kan ikke åpnes: {message.nb}",
                en=f"the GeoPackage cannot be opened: {message.en}",
            )
        ) from None


def _open_untrusted_sqlite(
    path: Path, size: int, budget: UploadBudget, authorizer: "_Authorizer"
) -> sqlite3.Connection:
    """Open a database file read-only, with the limits, authorizer and clock set."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    connection.text_factory = _utf8
    for pragma in ("query_only = ON", "trusted_schema = OFF", "cell_size_check = ON"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("PRAGMA mmap_size = 0")
    connection.execute(f"PRAGMA cache_size = -{_GPKG_CACHE_KIB}")
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    # Nothing read from the file can be larger than the file (no function may make values).
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(size, 1 << 20))
    connection.set_authorizer(authorizer)
    if budget.time_budget_s is not None:
        connection.set_progress_handler(budget.expired, _PROGRESS_STEPS)
    return connection


class _Authorizer:
    """Allow our own SELECTs of the GeoPackage tables named in `readable`, deny all else."""

    def __init__(self) -> None:
        self.readable = {"sqlite_master", *_GPKG_METADATA}

    def __call__(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        database: str | None,
        source: str | None,
    ) -> int:
        if source is not None:  # inside a view or trigger: SQL the file defines
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and (arg1 or "").lower() in self.readable:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and arg2 == "count":  # our count(*) only
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() == "table_xinfo":
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInputError(
            Text(
                nb="GeoPackage-filen inneholder tekst som ikke er UTF-8 (OGC 12-128 krever UTF-8)",
                en="the GeoPackage holds text that is not UTF-8 (OGC 12-128 requires UTF-8)",
            )
        ) from None


@dataclass
class _GpkgLayer:
    name: str
    geometry: str
    srs_id: Any
    key: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)  # (name, declared type)


def _read_gpkg(
    connection: sqlite3.Connection,
    authorizer: "_Authorizer",
    max_features: int,
    budget: UploadBudget,
    max_property_keys: int | None,
) -> SourcePlan:
    layers = _feature_tables(connection, authorizer, max_property_keys)
    counts = {
        layer.name: connection.execute(f"SELECT count(*) FROM {_quoted(layer.name)}").fetchone()[0]
        for layer in layers
    }
    total = sum(counts.values())
    check_feature_count(total, max_features, _GEOPACKAGE)
    if total == 0:
        raise InvalidInputError(
            Text(
                nb="GeoPackage-filen er tom: en plan trenger et område",
                en="the GeoPackage is empty: a plan needs an area",
            )
        )
    _check_attribute_values(
        sum(counts[layer.name] * len(layer.columns) for layer in layers), max_features, "GeoPackage"
    )
    crs_by_layer = {layer.name: _gpkg_crs(connection, layer) for layer in layers}
    _one_crs(crs_by_layer)

    builder = SourcePlanBuilder("gpkg")
    for layer in layers:
        _read_gpkg_layer(connection, layer, builder, budget)
    return builder.plan(next(iter(crs_by_layer.values())))


def _feature_tables(
    connection: sqlite3.Connection, authorizer: "_Authorizer", max_property_keys: int | None
) -> list[_GpkgLayer]:
    """The feature tables gpkg_contents lists, once each is checked to be a plain table."""
    schema = {
        str(name).lower(): (str(kind), str(sql or ""))
        for kind, name, sql in connection.execute("SELECT type, name, sql FROM sqlite_master")
    }
    if "gpkg_contents" not in schema:
        raise MalformedInputError(
            Text(
                nb="GeoPackage-filen kan ikke åpnes: den har ingen gpkg_contents-tabell (OGC "
                "12-128 §1.1.3), så den er en SQLite-database, men ikke en GeoPackage",
                en="the GeoPackage cannot be opened: it has no gpkg_contents table (OGC 12-128 "
                "§1.1.3), so it is an SQLite database but no GeoPackage",
            )
        )
    problems = [
        Problem(reason, field=table)
        for table in _GPKG_METADATA
        if table in schema and (reason := _not_a_plain_table(schema[table]))
    ]
    if problems:
        raise _refused(problems)
    if "gpkg_geometry_columns" not in schema:
        raise _no_geometry_layer("GeoPackage")
    layers = [
        _GpkgLayer(str(table), str(column), srs_id)
        for table, column, srs_id in connection.execute(
            "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents AS c "
            "JOIN gpkg_geometry_columns AS g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.rowid"
        )
    ]
    if not layers:
        raise _no_geometry_layer("GeoPackage")
    for layer in layers:
        problems.extend(_check_layer(connection, schema, layer, max_property_keys))
    if problems:
        raise _refused(problems)
    authorizer.readable.update(layer.name.lower() for layer in layers)
    return layers


def _refused(problems: list[Problem]) -> InvalidInputError:
    detail = summarize(problems)
    return InvalidInputError(
        Text(
            nb=f"GeoPackage-filen avvises: {detail.nb}",
            en=f"the GeoPackage is refused: {detail.en}",
        ),
        problems,
    )


def _no_geometry_layer(what: str) -> InvalidInputError:
    return InvalidInputError(
        Text(
            nb=f"{what}-filen har ikke noe kartlag med geometrier",
            en=f"the {what} has no layer with geometries",
        )
    )


_GEOPACKAGE = Text("GeoPackage-filen", "the GeoPackage")


def _not_a_plain_table(entry: tuple[str, str]) -> Text | None:
    kind, sql = entry
    if kind != "table":
        return Text(
            nb=f"er en {kind} (SQL), ikke en tabell; bare tabeller leses",
            en=f"is a {kind} (SQL), not a table; only tables are read",
        )
    if re.match(r"\s*create\s+virtual\s+table", sql, re.IGNORECASE):
        return Text(
            nb="er en virtuell tabell (kode, ikke lagrede data); bare vanlige tabeller leses",
            en="is a virtual table (code, not stored data); only plain tables are read",
        )
    return None


def _check_layer(
    connection: sqlite3.Connection,
    schema: dict[str, tuple[str, str]],
    layer: _GpkgLayer,
    max_property_keys: int | None,
) -> list[Problem]:
    """Check a feature table is a plain table with an integer key and its geometry column."""
    entry = schema.get(layer.name.lower())
    if entry is None:
        return [
            Problem(
                Text(
                    "står i gpkg_contents, men finnes ikke i filen",
                    "is listed in gpkg_contents but is not in the file",
                ),
                field=layer.name,
            )
        ]
    if reason := _not_a_plain_table(entry):
        return [Problem(reason, field=layer.name)]
    rows = connection.execute(f"PRAGMA table_xinfo({_quoted(layer.name)})").fetchall()
    problems = []
    computed = [str(row[1]) for row in rows if row[6] in _COMPUTED_COLUMNS]
    if computed:
        problems.append(
            Problem(
                Text(
                    nb=f"kolonnen '{computed[0]}' beregnes når den leses (en generert "
                    "kolonne); tabeller med objekter må inneholde lagrede verdier",
                    en=f"column '{computed[0]}' is computed when it is read (a generated "
                    "column); feature tables must hold stored values",
                ),
                field=layer.name,
            )
        )
    keys = [str(row[1]) for row in rows if row[5] == 1 and str(row[2]).upper() == "INTEGER"]
    if len(keys) != 1 or sum(1 for row in rows if row[5]) != 1:
        problems.append(
            Problem(
                Text(
                    "har ingen INTEGER PRIMARY KEY-kolonne (OGC 12-128 krav 29)",
                    "has no INTEGER PRIMARY KEY column (OGC 12-128 Req 29)",
                ),
                field=layer.name,
            )
        )
    names = {str(row[1]).lower(): str(row[1]) for row in rows}
    if layer.geometry.lower() not in names:
        problems.append(
            Problem(
                Text(
                    f"har ingen geometrikolonne '{layer.geometry}'",
                    f"has no geometry column '{layer.geometry}'",
                ),
                field=layer.name,
            )
        )
    if problems:
        return problems
    layer.key = keys[0]
    layer.geometry = names[layer.geometry.lower()]
    layer.columns = [
        (str(row[1]), str(row[2] or ""))
        for row in rows
        if str(row[1]) not in (layer.key, layer.geometry)
    ]
    if max_property_keys is not None and len(layer.columns) > max_property_keys:
        return [
            Problem(
                Text(
                    nb=f"har {len(layer.columns)} egenskapskolonner; et objekt kan ha høyst "
                    f"{max_property_keys} egenskaper",
                    en=f"has {len(layer.columns)} attribute columns; a feature may have at most "
                    f"{max_property_keys} attributes",
                ),
                field=layer.name,
            )
        ]
    return []


def _check_attribute_values(values: int, max_features: int, what: str) -> None:
    limit = ATTRIBUTE_VALUES_PER_FEATURE * max_features
    if values > limit:
        raise PayloadTooLargeError(
            Text(
                nb=f"{what}-filen inneholder {values} egenskapsverdier (objekter × "
                f"egenskapskolonner); grensen er {limit} ({ATTRIBUTE_VALUES_PER_FEATURE} for "
                f"hvert av de {max_features} objektene en opplasting kan ha)",
                en=f"the {what} holds {values} attribute values (features × attribute columns); "
                f"the limit is {limit} ({ATTRIBUTE_VALUES_PER_FEATURE} for each of the "
                f"{max_features} features an upload may have)",
            )
        )


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _gpkg_crs(connection: sqlite3.Connection, layer: _GpkgLayer) -> CrsRef:
    """A layer's CRS from gpkg_spatial_ref_sys: the EPSG code, or one PROJ finds for its WKT."""
    row = _srs_row(connection, layer)
    if row is None:
        return _layer_crs(None, layer.name, "gpkg")
    organization, code, definition = row
    if str(organization).strip().upper() == "EPSG":
        if isinstance(code, float) and code.is_integer():
            code = int(code)
        return parse_crs(f"EPSG:{_short(str(code))}", what=_layer_what(layer.name))
    return _layer_crs(_wkt_crs(definition, layer), layer.name, "gpkg")


def _srs_row(connection: sqlite3.Connection, layer: _GpkgLayer) -> tuple[Any, Any, Any] | None:
    """A layer's (organization, code, definition) in gpkg_spatial_ref_sys; None if undefined."""
    row = connection.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys "
        "WHERE srs_id = ?",
        (layer.srs_id,),
    ).fetchone()
    return None if row is None or layer.srs_id in _UNDEFINED_SRS else row


def _wkt_crs(definition: Any, layer: _GpkgLayer) -> CRS | None:
    """The CRS a layer's WKT defines; None for GDAL's 'Undefined SRS'."""
    try:
        crs = CRS.from_wkt(str(definition))
    except CRSError:
        srs_id = _short(str(layer.srs_id))
        raise UnsupportedCRSError(
            Text(
                nb=f"kartlaget '{layer.name}': srs_id {srs_id} i gpkg_spatial_ref_sys har "
                "verken en EPSG-kode eller en WKT-definisjon som kan leses",
                en=f"layer '{layer.name}': srs_id {srs_id} in gpkg_spatial_ref_sys is defined by "
                "no WKT PROJ reads and no EPSG code",
            ),
            [
                Problem(
                    Text(
                        "definisjonen av koordinatsystemet kan ikke leses",
                        "CRS definition cannot be read",
                    ),
                    field=layer.name,
                )
            ],
        ) from None
    # GDAL writes a layer without CRS with its own 'Undefined SRS', a local engineering CRS.
    return None if crs.is_engineering else crs


def _read_gpkg_layer(
    connection: sqlite3.Connection,
    layer: _GpkgLayer,
    builder: SourcePlanBuilder,
    budget: UploadBudget,
) -> None:
    columns = [layer.key, layer.geometry, *(name for name, _ in layer.columns)]
    cursor = connection.execute(
        f"SELECT {', '.join(_quoted(c) for c in columns)} FROM {_quoted(layer.name)}"
    )
    objtype = _layer_objtype(layer.name, [layer.geometry, *(n for n, _ in layer.columns)])
    boolean = {name for name, declared in layer.columns if declared.upper() == "BOOLEAN"}
    while rows := cursor.fetchmany(_ROWS_PER_FETCH):
        budget.check_time(_reading_layer(layer.name))
        for fid, blob, *values in rows:
            position = builder.next_position
            source_id = f"{layer.name}:{fid}"
            properties: dict[str, Any] = {"objtype": objtype} if objtype else {}
            for (name, _), value in zip(layer.columns, values, strict=True):
                properties[name] = _gpkg_value(value, name in boolean)
            geometry, error = None, None
            if blob is not None:
                try:
                    geometry = _gpkg_geometry(blob, budget, source_id, position)
                except ValueError as exc:
                    error = cannot_read(exc)
            builder.add(source_id, properties, geometry, error)


def _gpkg_value(value: Any, boolean: bool) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if boolean and value in (0, 1):
        return bool(value)
    return value


def _gpkg_geometry(blob: Any, budget: UploadBudget, source_id: str, position: int) -> BaseGeometry:
    """Decode a GeoPackage geometry blob: the header, then WKB walked before GEOS reads it."""
    wkb, vertices = _gpkg_wkb(blob, budget)
    what = Text(f"objektet '{source_id}'", f"feature '{source_id}'")
    budget.take_vertices(vertices, what, position, source_id)
    try:
        return shapely.from_wkb(wkb)
    except shapely.errors.GEOSException as exc:
        raise ValueError(_short(str(exc))) from None


def _gpkg_wkb(blob: Any, budget: UploadBudget) -> tuple[bytes, int]:
    """The WKB of a GeoPackage geometry blob and its vertex count; ValueError if malformed."""
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP":
        raise WkbError(
            "verdien er ikke en GeoPackage-geometri (den begynner ikke med 'GP')",
            "the value is no GeoPackage geometry (it does not start with 'GP')",
        )
    version, flags = blob[2], blob[3]
    if version != 0:
        raise WkbError(
            f"GeoPackage-geometrien har versjon {version + 1}, ikke 1",
            f"GeoPackage geometry version {version + 1} is not 1",
        )
    if flags & 0x20:
        raise WkbError(
            "utvidede GeoPackage-geometrityper leses ikke",
            "extended GeoPackage geometry types are not read",
        )
    envelope = (flags >> 1) & 0x07
    if envelope >= len(_ENVELOPE_BYTES):
        raise WkbError(
            f"omslagsindikatoren {envelope} er ikke definert",
            f"envelope contents indicator {envelope} is not defined",
        )
    start = 8 + _ENVELOPE_BYTES[envelope]
    vertices, end = wkb_vertices(blob, start, budget)
    return blob[start:end], vertices


# --- GeoPackage files of guideline layers ------------------------------------------------------

# gpkg_geometry_columns.geometry_type_name (OGC 12-128 Annex E) as GDAL names the types.
_GDAL_GEOMETRY_NAMES = {
    "GEOMETRY": "Unknown",
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRYCOLLECTION": "GeometryCollection",
}
# Declared column types GDAL reads as dates and times (OGC 12-128 Table 1: ISO 8601 text).
_TIME_TYPES = ("DATE", "DATETIME")
_SQLITE_MAX_LENGTH = 1_000_000_000


@dataclass(frozen=True)
class GeoPackageTable:
    """A feature table of a GeoPackage file: its name, geometry type and number of rows."""

    name: str
    geometry_type: str
    features: int


@dataclass
class GeoPackageRows:
    """One feature table as read: attribute columns in table order, geometries, CRS."""

    columns: dict[str, list[Any]]
    geometries: list[BaseGeometry | None]
    crs: CRS | None


@contextmanager
def _geopackage_file(
    path: Path, budget: UploadBudget
) -> Iterator[tuple[sqlite3.Connection, "_Authorizer"]]:
    """A GeoPackage file opened in place, as uploads are (read-only, immutable, authorizer)."""
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        # Opened immutable, SQLite reads the main file only; what the WAL holds would be lost.
        raise MalformedInputError(
            Text(
                nb=f"GeoPackage-filen har endringer som ikke er lagret inn i filen ({wal.name}); "
                "lukk programmet som skriver den (eller kjør `ogrinfo` på den én gang)",
                en=f"the GeoPackage has unsaved changes in {wal.name}; close the program that "
                "writes it (or run `ogrinfo` on it once) so they are written into the file",
            )
        )
    # SQLite's value-length limit cannot pass its compiled maximum (SQLITE_MAX_LENGTH, 1e9
    # bytes), which a layer file may well exceed; no value needs more.
    size = min(path.stat().st_size, _SQLITE_MAX_LENGTH)
    with _untrusted_geopackage(path.resolve(), size, budget) as opened:
        yield opened


def list_geopackage_tables(path: Path) -> list[GeoPackageTable]:
    """The feature tables of a GeoPackage file, refusing files whose layers are SQL."""
    with _geopackage_file(Path(path), UploadBudget()) as (connection, authorizer):
        tables = []
        for layer in _feature_tables(connection, authorizer, None):
            row = connection.execute(
                "SELECT geometry_type_name, z, m FROM gpkg_geometry_columns WHERE table_name = ?",
                (layer.name,),
            ).fetchone()
            name, z, m = row if row is not None else ("GEOMETRY", 0, 0)
            geometry_type = _GDAL_GEOMETRY_NAMES.get(str(name).upper(), str(name))
            suffix = ("Z" if z in (1, 2) else "") + ("M" if m in (1, 2) else "")
            count = connection.execute(f"SELECT count(*) FROM {_quoted(layer.name)}").fetchone()[0]
            tables.append(
                GeoPackageTable(layer.name, f"{geometry_type} {suffix}".strip(), int(count))
            )
        return tables


def read_geopackage_table(
    path: Path,
    table: str,
    max_features: int,
    max_vertices: int,
    budget: UploadBudget | None = None,
) -> GeoPackageRows:
    """Read one feature table of a GeoPackage file as columns, without running its SQL."""
    budget = budget or UploadBudget()
    with _geopackage_file(Path(path), budget) as (connection, authorizer):
        layers = {layer.name: layer for layer in _feature_tables(connection, authorizer, None)}
        layer = layers.get(table)
        if layer is None:
            raise InvalidInputError(
                Text(
                    f"GeoPackage-filen har ingen tabell med objekter som heter '{table}'",
                    f"the GeoPackage has no feature table '{table}'",
                )
            )
        count = connection.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0]
        check_feature_count(
            count,
            max_features,
            Text(f"kartlaget '{table}' i GeoPackage-filen", f"layer '{table}' of the GeoPackage"),
        )
        values = count * len(layer.columns)
        limit = ATTRIBUTE_VALUES_PER_FEATURE * max_features
        if values > limit:
            raise PayloadTooLargeError(
                Text(
                    nb=f"kartlaget '{table}' i GeoPackage-filen inneholder {values} "
                    f"egenskapsverdier (objekter × egenskapskolonner); grensen er {limit}",
                    en=f"layer '{table}' of the GeoPackage holds {values} attribute values "
                    f"(features × attribute columns); the limit is {limit}",
                )
            )
        crs = _gpkg_file_crs(connection, layer)
        return _read_gpkg_columns(connection, layer, max_vertices, budget, crs)


def _gpkg_file_crs(connection: sqlite3.Connection, layer: _GpkgLayer) -> CRS | None:
    """A layer's CRS as GDAL takes it: the EPSG code, else the WKT; None if undefined."""
    row = _srs_row(connection, layer)
    if row is None:
        return None
    organization, code, definition = row
    if str(organization).strip().upper() == "EPSG":
        try:
            return CRS.from_epsg(int(code))
        except (CRSError, TypeError, ValueError, OverflowError):
            pass  # an EPSG code PROJ does not know: its WKT may still say what it is
    return _wkt_crs(definition, layer)


def _read_gpkg_columns(
    connection: sqlite3.Connection,
    layer: _GpkgLayer,
    max_vertices: int,
    budget: UploadBudget,
    crs: CRS | None,
) -> GeoPackageRows:
    names = [name for name, _ in layer.columns]
    columns: dict[str, list[Any]] = {name: [] for name in names}
    geometries: list[BaseGeometry | None] = []
    vertices = 0
    cursor = connection.execute(
        f"SELECT {', '.join(_quoted(c) for c in [layer.key, layer.geometry, *names])} "
        f"FROM {_quoted(layer.name)}"
    )
    while rows := cursor.fetchmany(_ROWS_PER_FETCH):
        budget.check_time(_reading_layer(layer.name))
        wkbs: list[bytes | None] = []
        for fid, blob, *values in rows:
            for column, value in zip(columns.values(), values, strict=True):
                column.append(value)
            if blob is None:
                wkbs.append(None)
                continue
            try:
                wkb, count = _gpkg_wkb(blob, budget)
            except ValueError as exc:
                raise _unreadable_feature(f"{layer.name}:{fid}", cannot_read(exc)) from None
            vertices += count
            if vertices > max_vertices:
                raise PayloadTooLargeError(
                    Text(
                        nb=f"kartlaget '{layer.name}' i GeoPackage-filen har mer enn "
                        f"{max_vertices} punkter (passert ved objektet {layer.name}:{fid}); "
                        f"grensen er {max_vertices}",
                        en=f"layer '{layer.name}' of the GeoPackage has more than {max_vertices} "
                        f"vertices (passed at feature {layer.name}:{fid}); the limit is "
                        f"{max_vertices}",
                    )
                )
            wkbs.append(wkb)
        try:
            geometries.extend(shapely.from_wkb(wkbs))
        except shapely.errors.GEOSException:
            for (fid, *_), wkb in zip(rows, wkbs, strict=True):  # name the feature GEOS refuses
                try:
                    shapely.from_wkb(wkb)
                except shapely.errors.GEOSException as exc:
                    reason = cannot_read(_short(str(exc)))
                    raise _unreadable_feature(f"{layer.name}:{fid}", reason) from None
            raise
    for name, declared in layer.columns:
        columns[name] = _gpkg_column(columns[name], declared.upper())
    return GeoPackageRows(columns, geometries, crs)


def _unreadable_feature(name: str, reason: Text) -> MalformedInputError:
    return MalformedInputError(
        Text(f"objektet {name}: {reason.nb}", f"feature {name}: {reason.en}")
    )


def _gpkg_column(values: list[Any], declared: str) -> Any:
    """A column's values as GDAL gives them: booleans as bool, dates and times as datetimes."""
    if declared == "BOOLEAN" and all(v in (0, 1, None) for v in values):
        return [None if v is None else bool(v) for v in values]
    if declared in _TIME_TYPES and all(v is None or isinstance(v, str) for v in values):
        try:
            times = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
            return times.dt.as_unit("ms")  # GeoPackage times are given to the millisecond
        except (ValueError, TypeError, OverflowError):
            return values  # not ISO 8601 (or mixed time zones): kept as the text it is
    return values


# WKB (OGC 06-103r4 §8.2.9, with ISO's Z/M codes and PostGIS's EWKB flags): what the members
# of each multi type must be, and how deep collections may nest. GEOS reads nested collections
# recursively and a few thousand levels overflow its stack (the process dies), so the WKB is
# walked here first; a plan area is at most a collection of multipolygons.
_WKB_MEMBER_TYPE = {4: 1, 5: 2, 6: 3, 7: None}
_WKB_MAX_DEPTH = 3


class WkbError(ValueError):
    """A geometry blob is malformed; the argument is a Text, `str()` gives the English
    (operators' layer loads quote it)."""

    def __init__(self, nb: str, en: str):
        super().__init__(Text(nb, en))

    def __str__(self) -> str:
        return english(self.args[0])


_WKB_ENDS_EARLY = ("WKB-geometrien slutter for tidlig", "the WKB ends early")
_READING_WKB = Text("lesing av WKB-geometrier", "reading WKB geometries")


def wkb_vertices(
    data: bytes, offset: int = 0, budget: UploadBudget | None = None
) -> tuple[int, int]:
    """Walk a WKB geometry without building it; return its vertex count and end offset.

    Every count is checked against the bytes left, so a count of 2**31 in a short blob is
    refused rather than allocated; raise ValueError naming what is wrong.
    """
    return _scan_wkb(data, offset, 1, None, budget or UploadBudget())


def _scan_wkb(
    data: bytes, pos: int, depth: int, expected: int | None, budget: UploadBudget
) -> tuple[int, int]:
    if depth > _WKB_MAX_DEPTH:
        raise WkbError(
            f"geometrisamlinger ligger mer enn {_WKB_MAX_DEPTH} nivåer inne i hverandre",
            f"geometry collections nest more than {_WKB_MAX_DEPTH} levels deep",
        )
    if pos + 5 > len(data):
        raise WkbError(*_WKB_ENDS_EARLY)
    order = data[pos]
    if order not in (0, 1):
        raise WkbError(
            f"WKB-byterekkefølgen {order} er verken 0 eller 1",
            f"WKB byte order {order} is neither 0 nor 1",
        )
    fmt = "<I" if order == 1 else ">I"
    (code,) = struct.unpack_from(fmt, data, pos + 1)
    pos += 5
    dimensions = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)  # EWKB Z and M
    if code & 0x20000000:  # EWKB SRID
        pos += 4
    code &= 0x0FFFFFFF
    kind, iso = code % 1000, code // 1000
    if iso > 3 or kind not in (1, 2, 3, 4, 5, 6, 7):
        raise WkbError(
            f"WKB-geometritypen {code} leses ikke (bare punkter, linjer og flater)",
            f"WKB geometry type {code} is not read (only points, lines, polygons)",
        )
    if expected is not None and kind != expected:
        raise WkbError(
            f"en WKB-multigeometri inneholder en del av typen {kind}",
            f"a WKB multi-geometry holds a member of type {kind}",
        )
    dimensions += (0, 1, 1, 2)[iso]
    point = 8 * dimensions
    if kind == 1:
        if pos + point > len(data):
            raise WkbError(*_WKB_ENDS_EARLY)
        return 1, pos + point
    if kind == 2:
        count, pos = _wkb_count(data, pos, fmt, point)
        return count, pos + count * point
    if kind == 3:
        rings, pos = _wkb_count(data, pos, fmt, 4)
        total = 0
        for ring in range(rings):
            if not ring & 0xFFFF:
                budget.check_time(_READING_WKB)
            count, pos = _wkb_count(data, pos, fmt, point)
            total, pos = total + count, pos + count * point
        return total, pos
    members, pos = _wkb_count(data, pos, fmt, 9)
    total = 0
    for member in range(members):
        if not member & 0xFFFF:
            budget.check_time(_READING_WKB)
        count, pos = _scan_wkb(data, pos, depth + 1, _WKB_MEMBER_TYPE[kind], budget)
        total += count
    return total, pos


def _wkb_count(data: bytes, pos: int, fmt: str, item_bytes: int) -> tuple[int, int]:
    """Read a WKB count, refusing one that more items than the bytes left can hold."""
    if pos + 4 > len(data):
        raise WkbError(*_WKB_ENDS_EARLY)
    (count,) = struct.unpack_from(fmt, data, pos)
    pos += 4
    if count * item_bytes > len(data) - pos:
        raise WkbError(
            f"WKB-geometrien oppgir {count} deler eller punkter, men inneholder færre",
            f"the WKB declares {count} parts or points but holds fewer",
        )
    return count, pos


def _one_crs(crs_by_layer: dict[str, CrsRef]) -> None:
    if len(set(crs_by_layer.values())) > 1:
        problems = [
            Problem(
                Text(f"kartlaget '{name}' er i {ref.label}", f"layer '{name}' is in {ref.label}"),
                field=name,
            )
            for name, ref in crs_by_layer.items()
        ]
        listed = ", ".join(f"{name}: {ref.label}" for name, ref in crs_by_layer.items())
        raise UnsupportedCRSError(
            Text(
                nb=f"kartlagene bruker ulike koordinatsystemer ({listed}); en planfil må bruke ett",
                en=f"the layers use different coordinate reference systems ({listed}); a plan "
                "file must use one",
            ),
            problems,
        )


def _short(text: str, limit: int = 200) -> str:
    """A message or value cut to `limit` characters, for error details."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_zipped_shapefile(
    body: bytes,
    max_features: int,
    max_members: int,
    max_unpacked_bytes: int,
    max_compression_ratio: float,
    budget: UploadBudget | None = None,
    max_property_keys: int | None = None,
) -> SourcePlan:
    """Check a zip archive for safety, unpack its one Shapefile and read it."""
    budget = budget or UploadBudget()
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except _ZIP_ERRORS as exc:
        raise MalformedInputError(
            Text(
                nb=f"filen er ikke et zip-arkiv som kan leses (melding: «{exc}»)",
                en=f"body is not a readable zip archive: {exc}",
            )
        ) from None
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
                Text(
                    nb=f"Shapefile-en '{shp.filename}' mangler "
                    f"{' og '.join(sorted(missing))}-filen; pakk .shp-filen sammen med "
                    ".shx-, .dbf- og .prj-filene i zip-arkivet",
                    en=f"the Shapefile '{shp.filename}' lacks its "
                    f"{' and '.join(sorted(missing))} file; zip the .shp together with its "
                    ".shx, .dbf and .prj",
                )
            )
        with tempfile.TemporaryDirectory(prefix="arealsjekk-shp-") as directory:
            # Files are written under a sanitised name chosen here, never a path from the
            # archive, so nothing can land outside the temporary directory.
            safe_stem = re.sub(r"[^\w .-]", "_", stem).lstrip(".") or "plan"
            unpacked = [max_unpacked_bytes]
            for member in parts:
                suffix = PurePosixPath(member.filename).suffix.lower()
                extract_member(archive, member, Path(directory) / f"{safe_stem}{suffix}", unpacked)
            path = Path(directory) / f"{safe_stem}.shp"
            _check_shapefile(path, max_features, budget, max_property_keys)
            return _read_shapefile(path, budget)


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
            Text(
                nb=f"zip-arkivet har {len(infos)} filer; grensen er {max_members}",
                en=f"the zip archive has {len(infos)} members; the limit is {max_members}",
            )
        )
    problems: list[Problem] = []
    for info in infos:
        reason = _unsafe_name(info)
        if reason:
            message = Text(f"utrygt filnavn: {reason.nb}", f"unsafe member name: {reason.en}")
            problems.append(Problem(message, field=info.filename))
        elif info.flag_bits & 0x1:
            encrypted = Text("filen er kryptert", "member is encrypted")
            problems.append(Problem(encrypted, field=info.filename))
    if problems:
        detail = summarize(problems)
        raise InvalidInputError(
            Text(f"zip-arkivet avvises: {detail.nb}", f"the zip archive is refused: {detail.en}"),
            problems,
        )
    files = [info for info in infos if not info.is_dir()]
    total = sum(info.file_size for info in files)
    if total > max_unpacked_bytes:
        raise PayloadTooLargeError(
            Text(
                nb=f"zip-arkivet pakkes ut til {total} byte; grensen er {max_unpacked_bytes}",
                en=f"the zip archive unpacks to {total} bytes; the limit is {max_unpacked_bytes}",
            )
        )
    packed = sum(info.compress_size for info in files)
    for info in files:
        if info.file_size > _RATIO_FLOOR_BYTES and (
            info.file_size / max(info.compress_size, 1) > max_compression_ratio
        ):
            ratio = f"{info.file_size / max(info.compress_size, 1):.0f}"
            raise PayloadTooLargeError(
                Text(
                    nb=f"filen '{info.filename}' i zip-arkivet pakkes ut til {ratio} ganger "
                    f"sin pakkede størrelse; grensen er {max_compression_ratio:.0f} (en "
                    "zip-bombe?)",
                    en=f"zip member '{info.filename}' unpacks to {ratio} times its packed "
                    f"size; the limit is {max_compression_ratio:.0f} (a zip bomb?)",
                )
            )
    if total > _RATIO_FLOOR_BYTES and total / max(packed, 1) > max_compression_ratio:
        ratio = f"{total / max(packed, 1):.0f}"
        raise PayloadTooLargeError(
            Text(
                nb=f"zip-arkivet pakkes ut til {ratio} ganger sin pakkede størrelse; grensen "
                f"er {max_compression_ratio:.0f} (en zip-bombe?)",
                en=f"the zip archive unpacks to {ratio} times its packed size; the limit is "
                f"{max_compression_ratio:.0f} (a zip bomb?)",
            )
        )
    return files


def _unsafe_name(info: zipfile.ZipInfo) -> Text | None:
    name = info.filename
    mode = info.external_attr >> 16
    if not name:
        return Text("navnet er tomt", "the name is empty")
    if stat.S_ISLNK(mode):
        return Text("symbolske lenker godtas ikke", "symbolic links are not accepted")
    if "\x00" in name:
        return Text("navnet inneholder en NUL-byte", "the name contains a NUL byte")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return Text("absolutte stier godtas ikke", "absolute paths are not accepted")
    if ".." in re.split(r"[\\/]", name):
        return Text("'..' i stien godtas ikke", "'..' path components are not accepted")
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
        names = ", ".join(m.filename for m in members[:10])
        raise InvalidInputError(
            Text(
                nb=f"zip-arkivet inneholder ingen Shapefile (.shp); det inneholder "
                f"{names or 'ingenting'}. Last opp en GeoPackage-, GML- eller SOSI-fil direkte, "
                "uten å pakke den",
                en=f"the zip archive holds no Shapefile (.shp); it holds {names or 'nothing'}. "
                "Upload a GeoPackage, GML or SOSI file directly, not zipped",
            )
        )
    names = ", ".join(m.filename for m in shapefiles)
    raise InvalidInputError(
        Text(
            nb=f"zip-arkivet inneholder {len(shapefiles)} Shapefiler ({names}); pakk én plans "
            "Shapefile per opplasting, eller send en GeoPackage med ett kartlag per objekttype",
            en=f"the zip archive holds {len(shapefiles)} Shapefiles ({names}); zip one plan's "
            "Shapefile per upload, or send a GeoPackage with one layer per object type",
        )
    )


def extract_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, budget: list[int]
) -> None:
    """Copy one member, counting bytes against `budget[0]`: a header may understate what a
    member unpacks to. Raises PayloadTooLargeError or MalformedInputError naming the member."""
    try:
        with archive.open(member) as source, target.open("wb") as sink:
            while chunk := source.read(_COPY_CHUNK):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise PayloadTooLargeError(
                        Text(
                            nb=f"filen '{member.filename}' i zip-arkivet pakkes ut til mer enn "
                            "arkivet oppgir; avvist",
                            en=f"zip member '{member.filename}' unpacks to more than the "
                            "archive declares; refused",
                        )
                    )
                sink.write(chunk)
    except _ZIP_ERRORS as exc:
        raise MalformedInputError(
            Text(
                nb=f"filen '{member.filename}' i zip-arkivet kan ikke leses (melding: «{exc}»)",
                en=f"zip member '{member.filename}' cannot be read: {exc}",
            )
        ) from None


def _check_shapefile(
    path: Path, max_features: int, budget: UploadBudget, max_property_keys: int | None
) -> None:
    """Check the .shp, .shx and .dbf are Shapefile parts and count features and vertices.

    GDAL chooses a driver by a file's content, not its name: a 'plan.shp' holding a VRT (XML
    that makes GDAL read any local file or database) would be opened as one. Only files with
    the Shapefile headers reach GDAL, and the vertices are counted from the record headers
    the .shx points to, as GDAL reads them, before any geometry is built.
    """
    shx = path.with_suffix(".shx").read_bytes()  # 8 bytes a record: small once counted
    with path.open("rb") as shp:
        _check_shp_header(shp.read(_SHP_HEADER_BYTES), ".shp")
        _check_shp_header(shx[:_SHP_HEADER_BYTES], ".shx")
        records = (len(shx) - _SHP_HEADER_BYTES) // 8
        check_feature_count(records, max_features, _SHAPEFILE)
        if records == 0:
            raise InvalidInputError(
                Text(
                    "Shapefile-en er tom: en plan trenger et område",
                    "the Shapefile is empty: a plan needs an area",
                )
            )
        vertices = 0
        for record in range(records):
            if not record & 0xFFF:
                budget.check_time(
                    Text("telling av punktene i Shapefile-en", "counting the Shapefile's vertices")
                )
            (offset,) = struct.unpack_from(">i", shx, _SHP_HEADER_BYTES + 8 * record)
            shp.seek(max(offset, 0) * 2)
            vertices += _shp_points(shp.read(_SHP_RECORD_HEAD_BYTES))
    budget.take_vertices(vertices, _SHAPEFILE)
    fields = _dbf_fields(path.with_suffix(".dbf"))
    if max_property_keys is not None and fields > max_property_keys:
        raise InvalidInputError(
            Text(
                nb=f".dbf-filen i Shapefile-en har {fields} egenskapskolonner; et objekt kan ha "
                f"høyst {max_property_keys} egenskaper",
                en=f"the Shapefile's .dbf has {fields} attribute columns; a feature may have at "
                f"most {max_property_keys} attributes",
            ),
            [
                Problem(
                    Text(f"{fields} egenskapskolonner", f"{fields} attribute columns"),
                    field=path.with_suffix(".dbf").name,
                )
            ],
        )
    _check_attribute_values(records * fields, max_features, "Shapefile")


def _check_shp_header(header: bytes, suffix: str) -> None:
    if (
        len(header) < _SHP_HEADER_BYTES
        or header[:4] != _SHP_FILE_CODE
        or struct.unpack_from("<i", header, 28)[0] != 1000
    ):
        raise MalformedInputError(
            Text(
                nb=f"{suffix}-filen i zip-arkivet er ikke en Shapefile-{suffix} (den mangler "
                "Shapefile-hodet: filkode 9994, versjon 1000)",
                en=f"the zip's {suffix} file is not a Shapefile {suffix} (it lacks the "
                "Shapefile header: file code 9994, version 1000)",
            )
        )


def _shp_points(head: bytes) -> int:
    """The number of points of the .shp record whose first bytes are `head` (0 if unreadable)."""
    if len(head) < 12:
        return 0  # GDAL says what is wrong with a cut record
    (shape_type,) = struct.unpack_from("<i", head, 8)
    if shape_type in _SHP_POINT_TYPES:
        return 1
    at = 48 if shape_type in _SHP_PART_TYPES else 44 if shape_type in _SHP_MULTIPOINT_TYPES else 0
    if not at or len(head) < at + 4:
        return 0
    return max(struct.unpack_from("<i", head, at)[0], 0)


def _dbf_fields(path: Path) -> int:
    """The number of fields a .dbf header describes (dBASE: 32 bytes each, ended by 0x0D)."""
    with path.open("rb") as dbf:
        head = dbf.read(32)
        if len(head) < 32:
            raise MalformedInputError(
                Text(
                    ".dbf-filen i zip-arkivet er ikke en dBASE-tabell (den er for kort)",
                    "the zip's .dbf file is not a dBASE table (it is too short)",
                )
            )
        (header_bytes,) = struct.unpack_from("<H", head, 8)
        descriptors = dbf.read(max(header_bytes - 32, 0))
    fields = 0
    while fields * 32 < len(descriptors) and descriptors[fields * 32] != 0x0D:
        fields += 1
    return fields


def _read_shapefile(path: Path, budget: UploadBudget) -> SourcePlan:
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # GDAL raises its own DataSourceError types
        said = _gdal_message(exc, path)
        raise MalformedInputError(
            Text(
                nb=f"Shapefile-en kan ikke åpnes (melding fra GDAL: «{said}»)",
                en=f"the Shapefile cannot be opened: {said}",
            )
        ) from None
    if info.get("driver") != "ESRI Shapefile":
        driver = info.get("driver")
        raise MalformedInputError(
            Text(
                nb=f".shp-filen i zip-arkivet leses av GDAL som {driver}, ikke som en "
                "Shapefile; bare Shapefiler leses",
                en=f"the zip's .shp file is read by GDAL as {driver}, not as a Shapefile; "
                "only Shapefiles are read",
            )
        )
    name = str(info.get("layer_name") or path.stem)
    if info.get("geometry_type") is None:
        raise _no_geometry_layer("Shapefile")
    reading = Text("lesing av Shapefile-en", "reading the Shapefile")
    budget.check_time(reading)
    frame = _read_frame(path, name)
    budget.check_time(reading)
    crs = _layer_crs(frame.crs, name, "shapefile")
    rename = _shapefile_names(list(frame.columns))
    objtype = _layer_objtype(name, frame.columns)
    builder = SourcePlanBuilder("shapefile")
    geometry_column = frame.geometry.name
    names = [rename.get(column, column) for column in frame.columns]
    rows = frame.itertuples(index=False, name=None)
    for fid, row in zip(frame.index, rows, strict=True):
        if not builder.next_position % 1024:
            budget.check_time(
                Text("lesing av egenskapene i Shapefile-en", "reading the Shapefile's attributes")
            )
        properties: dict[str, Any] = {"objtype": objtype} if objtype else {}
        geometry = None
        for column, key, value in zip(frame.columns, names, row, strict=True):
            if column == geometry_column:
                geometry = value
            else:
                properties[key] = _plain(value)
        builder.add(f"{name}:{fid}", properties, geometry)
    return builder.plan(crs)


def _gdal_message(exc: Exception, path: Path) -> str:
    """GDAL's message without the temporary directory the upload was written to."""
    return _short(str(exc).replace(str(path.parent) + "/", ""))


def _read_frame(path: Path, layer: str) -> gpd.GeoDataFrame:
    """Read the layer; a Shapefile without .cpg is tried as UTF-8, then as GDAL decides."""
    encodings: list[str | None] = [None]
    if not path.with_suffix(".cpg").exists():
        encodings = ["UTF-8", None]
    for encoding in encodings:
        try:
            return pyogrio.read_dataframe(path, layer=layer, encoding=encoding, fid_as_index=True)
        except UnicodeDecodeError:
            continue
        except Exception as exc:  # GDAL raises its own error types
            said = _gdal_message(exc, path)
            raise MalformedInputError(
                Text(
                    nb=f"kartlaget '{layer}' i Shapefile-en kan ikke leses (melding fra GDAL: "
                    f"«{said}»)",
                    en=f"layer '{layer}' of the Shapefile cannot be read: {said}",
                )
            ) from None
    raise MalformedInputError(
        Text(
            nb=f"tekstegenskapene i kartlaget '{layer}' har en ukjent tegnkoding; legg ved en "
            ".cpg-fil som oppgir den (f.eks. UTF-8)",
            en=f"the text attributes of layer '{layer}' are in an unknown encoding; add a .cpg "
            "file naming it (e.g. UTF-8)",
        )
    )


def _what(source_format: str) -> str:
    return "GeoPackage" if source_format == "gpkg" else "Shapefile"


def _layer_crs(crs: CRS | None, layer: str, source_format: str) -> CrsRef:
    if crs is None:
        shapefile = source_format == "shapefile"
        what = _what(source_format)
        raise UnsupportedCRSError(
            Text(
                nb=f"kartlaget '{layer}' i {what}-filen har ikke noe koordinatsystem; "
                + ("pakk .prj-filen sammen med .shp-filen" if shapefile else "angi det"),
                en=f"layer '{layer}' of the {what} has no coordinate reference system; "
                + ("zip the .prj file with the .shp" if shapefile else "set it"),
            ),
            [Problem(Text("mangler koordinatsystem", "no CRS"), field=layer)],
        )
    epsg = crs.to_epsg()
    if epsg is None:
        raise UnsupportedCRSError(
            Text(
                nb=f"kartlaget '{layer}' er i '{crs.name}', som ikke har noen EPSG-kode; "
                "eksporter det i et koordinatsystem med EPSG-kode, f.eks. EPSG:25832 "
                "(ETRS89 / UTM 32N)",
                en=f"layer '{layer}' is in '{crs.name}', which has no EPSG code; export it in "
                "an EPSG CRS such as EPSG:25832 (ETRS89 / UTM 32N)",
            ),
            [
                Problem(
                    Text(
                        f"koordinatsystemet '{crs.name}' har ingen EPSG-kode",
                        f"CRS '{crs.name}' has no EPSG code",
                    ),
                    field=layer,
                )
            ],
        )
    return parse_crs(f"EPSG:{epsg}", what=_layer_what(layer))


def _layer_what(layer: str) -> Text:
    return Text(f"kartlaget '{layer}'", f"layer '{layer}'")


def _reading_layer(layer: str) -> Text:
    return Text(
        f"lesing av kartlaget '{layer}' i GeoPackage-filen",
        f"reading layer '{layer}' of the GeoPackage",
    )


_SHAPEFILE = Text("Shapefile-en", "the Shapefile")


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
