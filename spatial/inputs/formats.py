"""The plan formats Arealsjekk reads, in one table, and reading an upload with the right reader.

Each row names a format's file extensions, the media types that identify it, how its first
bytes are recognised, its reader and an example file. The upload dependency, the CLI, the API
document and the map page's file input are derived from the table; adding a format is a
reader, a row here and its tests.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from spatial.errors import ArealsjekkError
from spatial.inputs import examples
from spatial.inputs.geojson import read_geojson
from spatial.inputs.gml import read_gml
from spatial.inputs.ogr import read_geopackage, read_zipped_shapefile
from spatial.inputs.sosi import read_sosi, utf16_codec
from spatial.messages import Text
from spatial.plan_model import SourcePlan, UploadBudget

_BOM = b"\xef\xbb\xbf"
_SHAPEFILE_MAGIC = b"\x00\x00\x27\x0a"
# Media types that name no format (none sent, or "some bytes", or "some text"): the content
# decides. They are accepted with every format's own types.
UNTYPED_MEDIA_TYPES = ("", "application/octet-stream", "text/plain")
# Media types that describe no file at all but arrive with one: curl's -d/--data-binary sends
# the raw file as a form by default. Read like untyped bodies (the content and the filename
# decide), but not advertised: the API document lists what clients should send.
MISLABELLED_MEDIA_TYPES = ("application/x-www-form-urlencoded",)


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


@dataclass(frozen=True)
class PlanFormat:
    """One format a plan can be uploaded in.

    `title` names it in a sentence ("send GeoJSON, … or a zipped Shapefile"), `title_nb` on
    the planner's page. The first extension and media type are the usual ones. `sniff` says
    whether a file's first bytes are this format; `read` reads a whole file within the limits
    and budget; `example` makes a small plan in the format.
    """

    name: str
    title: str
    title_nb: str
    extensions: tuple[str, ...]
    media_types: tuple[str, ...]
    binary: bool
    sniff: Callable[[bytes], bool]
    read: Callable[[bytes, ReadLimits, UploadBudget], SourcePlan]
    example: Callable[[], bytes]


def _text_start(head: bytes) -> bytes:
    """The first bytes of a text file without a UTF-8 byte order mark and leading blanks."""
    head = head[:4096]
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    return head.lstrip()


def _is_geojson(head: bytes) -> bool:
    return _text_start(head).startswith((b"{", b"["))


def _is_xml(head: bytes) -> bool:
    return _text_start(head).startswith(b"<")


def _is_sosi(head: bytes) -> bool:
    """A SOSI file starts with .HODE; comments (!) and blank lines may precede it. A file
    saved as UTF-16 is looked at as text (the reader reads it with a warning)."""
    if (utf16 := utf16_codec(head)) is not None:
        head = head[: len(head) // 2 * 2].decode(utf16, errors="ignore").encode("utf-8")
    for line in _text_start(head).splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(b"!"):
            continue
        return stripped.upper().startswith(b".HODE")
    return False


def _is_sqlite(head: bytes) -> bool:
    return head.startswith(b"SQLite format 3\x00")


def _is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _read_geojson(body: bytes, limits: ReadLimits, budget: UploadBudget) -> SourcePlan:
    return read_geojson(body, limits.max_features, budget)


def _read_gml(body: bytes, limits: ReadLimits, budget: UploadBudget) -> SourcePlan:
    return read_gml(body, limits.max_features, budget)


def _read_sosi(body: bytes, limits: ReadLimits, budget: UploadBudget) -> SourcePlan:
    return read_sosi(body, limits.max_features, budget)


def _read_geopackage(body: bytes, limits: ReadLimits, budget: UploadBudget) -> SourcePlan:
    return read_geopackage(body, limits.max_features, budget, limits.max_property_keys)


def _read_zipped_shapefile(body: bytes, limits: ReadLimits, budget: UploadBudget) -> SourcePlan:
    return read_zipped_shapefile(
        body,
        limits.max_features,
        max_members=limits.max_zip_members,
        max_unpacked_bytes=limits.max_unpacked_bytes,
        max_compression_ratio=limits.max_compression_ratio,
        budget=budget,
        max_property_keys=limits.max_property_keys,
    )


# The sniffers exclude each other (their first bytes differ), so the order is the order
# formats are listed in.
PLAN_FORMATS: tuple[PlanFormat, ...] = (
    PlanFormat(
        name="geojson",
        title="GeoJSON",
        title_nb="GeoJSON",
        extensions=(".geojson", ".json"),
        media_types=("application/geo+json", "application/json"),
        binary=False,
        sniff=_is_geojson,
        read=_read_geojson,
        example=examples.geojson_example,
    ),
    PlanFormat(
        name="gml",
        title="Plan-GML 5.0",
        title_nb="Plan-GML",
        extensions=(".gml", ".xml"),
        media_types=("application/gml+xml", "application/xml", "text/xml"),
        binary=False,
        sniff=_is_xml,
        read=_read_gml,
        example=examples.gml_example,
    ),
    PlanFormat(
        name="sosi",
        title="SOSI",
        title_nb="SOSI",
        extensions=(".sos", ".sosi"),
        media_types=("text/vnd.sosi", "application/x-sosi"),
        binary=False,
        sniff=_is_sosi,
        read=_read_sosi,
        example=examples.sosi_example,
    ),
    PlanFormat(
        name="gpkg",
        title="GeoPackage",
        title_nb="GeoPackage",
        extensions=(".gpkg",),
        media_types=("application/geopackage+sqlite3", "application/x-sqlite3"),
        binary=True,
        sniff=_is_sqlite,
        read=_read_geopackage,
        example=examples.geopackage_example,
    ),
    PlanFormat(
        name="zip",
        title="a zipped Shapefile",
        title_nb="zippet Shapefile",
        extensions=(".zip",),
        media_types=("application/zip", "application/x-zip-compressed"),
        binary=True,
        sniff=_is_zip,
        read=_read_zipped_shapefile,
        example=examples.zipped_shapefile_example,
    ),
)
_BY_NAME = {row.name: row for row in PLAN_FORMATS}
_BY_EXTENSION = {extension: row for row in PLAN_FORMATS for extension in row.extensions}
_BY_MEDIA_TYPE = {media_type: row for row in PLAN_FORMATS for media_type in row.media_types}


def _listing(words: list[str], conjunction: str = "or") -> str:
    """'a, b or c' (with 'eller' for bokmål)."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


ACCEPTED = _listing([f"{row.title} ({row.extensions[0]})" for row in PLAN_FORMATS])
ACCEPTED_NB = _listing([f"{row.title_nb} ({row.extensions[0]})" for row in PLAN_FORMATS], "eller")
FORMAT_TITLES = _listing([row.title for row in PLAN_FORMATS])
FORMAT_TITLES_NB = _listing([row.title_nb for row in PLAN_FORMATS], "eller")
EXTENSIONS = tuple(_BY_EXTENSION)
MEDIA_TYPES = tuple(_BY_MEDIA_TYPE)
ACCEPTED_MEDIA_TYPES = frozenset((*UNTYPED_MEDIA_TYPES, *MISLABELLED_MEDIA_TYPES, *MEDIA_TYPES))


def detect_format(filename: str | None, content_type: str | None, body: bytes) -> str:
    """Return 'geojson', 'gml', 'sosi', 'gpkg' or 'zip': magic bytes first, then name and type."""
    for row in PLAN_FORMATS:
        if row.sniff(body):
            return row.name
    suffix = _suffix(filename)
    if suffix == ".shp" or body.startswith(_SHAPEFILE_MAGIC):
        raise UnsupportedFormatError(
            Text(
                nb="en Shapefile må lastes opp som en .zip-fil med .shp-filen og de tilhørende "
                ".shx-, .dbf- og .prj-filene",
                en="a Shapefile must be uploaded as a .zip holding the .shp with its .shx, .dbf "
                "and .prj files",
            )
        )
    if not body.strip():
        raise UnsupportedFormatError(
            Text(
                nb=f"opplastingen er tom; send {ACCEPTED_NB}",
                en=f"the upload is empty; send {ACCEPTED}",
            )
        )
    # The content says nothing recognisable: trust the name, then the media type, so the
    # reader can say precisely what is wrong with the file.
    media_type = (content_type or "").split(";")[0].strip().lower()
    named = _BY_EXTENSION.get(suffix or "") or _BY_MEDIA_TYPE.get(media_type)
    if named is not None:
        return named.name
    raise UnsupportedFormatError(
        Text(
            nb=f"filen er ikke i et format Arealsjekk kan lese; send {ACCEPTED_NB}",
            en=f"the upload is in no format Arealsjekk reads; send {ACCEPTED}",
        )
    )


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
    row = _BY_NAME[detect_format(filename, content_type, body)]
    return row.read(body, limits, budget)


def _suffix(filename: str | None) -> str | None:
    if not filename:
        return None
    match = re.search(r"(\.[A-Za-z0-9]+)$", filename.strip())
    return match.group(1).lower() if match else None
