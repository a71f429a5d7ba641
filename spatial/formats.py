"""Recognising an uploaded plan file's format and reading it with the matching reader."""

import re
from dataclasses import dataclass

from spatial.errors import ArealsjekkError
from spatial.geojson_input import read_geojson
from spatial.gml_input import read_gml
from spatial.ogr_input import read_geopackage, read_zipped_shapefile
from spatial.plan_model import SourcePlan, UploadBudget
from spatial.sosi_input import read_sosi

FORMATS = ("geojson", "gml", "sosi", "gpkg", "zip")
ACCEPTED = (
    "GeoJSON (.geojson), Plan-GML 5.0 (.gml), SOSI (.sos), GeoPackage (.gpkg) "
    "or a zipped Shapefile (.zip)"
)

_EXTENSIONS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gml": "gml",
    ".xml": "gml",
    ".sos": "sosi",
    ".sosi": "sosi",
    ".gpkg": "gpkg",
    ".zip": "zip",
}
_CONTENT_TYPES = {
    "application/geo+json": "geojson",
    "application/json": "geojson",
    "application/gml+xml": "gml",
    "application/xml": "gml",
    "text/xml": "gml",
    "text/vnd.sosi": "sosi",
    "application/x-sosi": "sosi",
    "application/geopackage+sqlite3": "gpkg",
    "application/x-sqlite3": "gpkg",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
}
_BOM = b"\xef\xbb\xbf"
_SHAPEFILE_MAGIC = b"\x00\x00\x27\x0a"


class UnsupportedFormatError(ArealsjekkError):
    """The upload is in no format Arealsjekk reads (HTTP 415)."""


@dataclass(frozen=True)
class ReadLimits:
    """Limits on what one upload may hold; zip limits guard against archive bombs.

    `max_vertices` and `time_budget_s` make the budget readers take from before they build
    coordinates (None: unlimited); `max_property_keys` lets a reader refuse a table with more
    attribute columns than a feature may have before it reads a row.
    """

    max_features: int
    max_zip_members: int = 100
    max_unpacked_bytes: int = 64 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_vertices: int | None = None
    time_budget_s: float | None = None
    max_property_keys: int | None = None

    def budget(self) -> UploadBudget:
        """A fresh budget of vertices and time for one upload."""
        return UploadBudget(self.max_vertices, self.time_budget_s)


def detect_format(filename: str | None, content_type: str | None, body: bytes) -> str:
    """Return 'geojson', 'gml', 'sosi', 'gpkg' or 'zip': magic bytes first, then name and type."""
    sniffed = _sniff(body)
    if sniffed is not None:
        return sniffed
    suffix = _suffix(filename)
    if suffix == ".shp" or body.startswith(_SHAPEFILE_MAGIC):
        raise UnsupportedFormatError(
            "a Shapefile must be uploaded as a .zip holding the .shp with its .shx, .dbf and "
            ".prj files"
        )
    if not body.strip():
        raise UnsupportedFormatError(f"the upload is empty; send {ACCEPTED}")
    # The content says nothing recognisable: trust the name, then the media type, so the
    # reader can say precisely what is wrong with the file.
    media_type = (content_type or "").split(";")[0].strip().lower()
    named = _EXTENSIONS.get(suffix or "") or _CONTENT_TYPES.get(media_type)
    if named is not None:
        return named
    raise UnsupportedFormatError(f"the upload is in no format Arealsjekk reads; send {ACCEPTED}")


def read_plan(
    body: bytes,
    filename: str | None,
    content_type: str | None,
    limits: ReadLimits,
    budget: UploadBudget | None = None,
) -> SourcePlan:
    """Read an uploaded plan in any supported format into source features.

    `budget` (by default a fresh one from `limits`) is shared with the validation that
    follows, so the time budget covers both.
    """
    budget = budget or limits.budget()
    kind = detect_format(filename, content_type, body)
    if kind == "geojson":
        return read_geojson(body, limits.max_features, budget)
    if kind == "gml":
        return read_gml(body, limits.max_features, budget)
    if kind == "sosi":
        return read_sosi(body, limits.max_features, budget)
    if kind == "gpkg":
        return read_geopackage(body, limits.max_features, budget, limits.max_property_keys)
    return read_zipped_shapefile(
        body,
        limits.max_features,
        max_members=limits.max_zip_members,
        max_unpacked_bytes=limits.max_unpacked_bytes,
        max_compression_ratio=limits.max_compression_ratio,
        budget=budget,
        max_property_keys=limits.max_property_keys,
    )


def _suffix(filename: str | None) -> str | None:
    if not filename:
        return None
    match = re.search(r"(\.[A-Za-z0-9]+)$", filename.strip())
    return match.group(1).lower() if match else None


def _sniff(body: bytes) -> str | None:
    """Recognise a format by its first bytes; None when they say nothing."""
    if body.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if body.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    head = body[:4096]
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    text = head.lstrip()
    if text.startswith((b"{", b"[")):
        return "geojson"
    if text.startswith(b"<"):
        return "gml"
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(b"!"):
            continue  # SOSI comments may precede the header
        return "sosi" if stripped.upper().startswith(b".HODE") else None
    return None
