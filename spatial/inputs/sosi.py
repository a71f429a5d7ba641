"""Reading plan proposals from SOSI 4.5 text files (.sos): kommuneplan and reguleringsplan."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from spatial.crs import CrsRef, parse_crs
from spatial.errors import (
    InvalidInputError,
    MalformedInputError,
    PayloadTooLargeError,
    Problem,
    UnsupportedCRSError,
)
from spatial.inputs.curves import (
    Coord,
    arc_frame,
    arc_point_count,
    arc_points,
    circle_points,
    closed_ring,
    join_parts,
    join_tolerance_for,
)
from spatial.inputs.features import (
    GeometryReadError,
    SourcePlanBuilder,
    cannot_read,
    check_feature_count,
    leaves_to_properties,
)
from spatial.inputs.locations import lon_lat, within
from spatial.messages import Text
from spatial.numbers import first_non_integer, parse_decimal
from spatial.plan_model import MAX_COORDINATE, Z_DROPPED_WARNING, SourcePlan, UploadBudget

# SOSI ..KOORDSYS codes (SOSI-standarden del 1, realisering i SOSI-format) and their EPSG
# codes: NGO1948 Gauss-Krüger axes 1-8 and geographic, EUREF89 UTM zones 31-36 and
# geographic, ED50 UTM zones 31-36 and geographic. Others (local systems, WGS84 UTM) are
# refused rather than guessed.
KOORDSYS_EPSG: dict[int, int] = {
    **{axis: 27390 + axis for axis in range(1, 9)},
    9: 4273,
    **{code: 25810 + code for code in range(21, 27)},
    **{code: 23000 + code for code in range(31, 37)},
    50: 4230,
    84: 4258,
}

# ..TEGNSETT values and Python codecs. ND7/DECN7 are the 7-bit Norwegian ISO 646 variant,
# where [ \ ] { | } stand for Æ Ø Å æ ø å.
_CHARSETS: dict[str, str] = {
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "ISO8859-1": "latin-1",
    "ISO-8859-1": "latin-1",
    "ISO8859-10": "iso8859_10",
    "ISO-8859-10": "iso8859_10",
    "ANSI": "cp1252",
    "DOSN8": "cp865",
    "ND7": "iso646-no",
    "DECN7": "iso646-no",
}
_ISO646_NO = str.maketrans("[\\]{|}", "ÆØÅæøå")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_TEGNSETT = re.compile(r"\.\.TEGNSETT[ \t]+[\"']?([A-Za-z0-9_-]+)")
# The bytes of Æ Ø Å æ ø å in ISO8859-1/-10 and Windows-1252 (all agree), and in DOSN8.
_LATIN_NORWEGIAN = {bytes([b]) for b in "ÆØÅæøå".encode("iso8859_10")}
_DOSN8_NORWEGIAN = {bytes([b]) for b in "ÆØÅæøå".encode("cp865")}
_UNCLEAR_BYTE = re.compile(
    rb"[^\x00-\x7f" + re.escape(b"".join(sorted(_LATIN_NORWEGIAN | _DOSN8_NORWEGIAN))) + b"]"
)

# SOSI 4.x abbreviations of attributes whose Plan-GML / national-copy names Arealsjekk maps;
# renamed so the format-neutral attribute mapping (plan_input.ATTRIBUTE_ALIASES) finds them.
# A hensynssone's code is written under its group's name, RP... in reguleringsplaner and
# KP... in kommuneplaner (SOSI Plan 4.5/5.0: ..RPSIKRING 140, ..KPFARE 310), beside
# ..HENSYNSONENAVN; the Plan-GML names are sikring, støy, fare, infrastruktur, båndlegging,
# detaljering, angittHensyn and gjennomføring.
_ZONE_GROUPS = (
    "SIKRING",
    "STØY",
    "FARE",
    "INFRASTRUKTUR",
    "BÅNDLEGGING",
    "DETALJERING",
    "ANGITTHENSYN",
    "GJENNOMFØRING",
)
SOSI_ATTRIBUTE_NAMES: dict[str, str] = {
    "RPAREALFORMÅL": "AREALFORMÅL",
    "KPAREALFORMÅL": "AREALFORMÅL",
    **{f"{level}{group}": group for level in ("RP", "KP") for group in _ZONE_GROUPS},
    "PLANSTAT": "PLANSTATUS",
    "KOMM": "KOMMUNENUMMER",
}

_CURVE_TYPES = ("KURVE", "LINJE", "BUEP", "SIRKELP", "BUE", "SIRKEL", "KLOTOIDE")
_POINT_TYPES = ("PUNKT", "SYMBOL", "TEKST")
_SKIPPED_SECTIONS = ("DEF", "OBJDEF")
_COORDINATE_ELEMENTS = {"NØ": 2, "NØH": 3, "NØD": 3}
_TOKEN = re.compile(r'"[^"]*"?|\'[^\']*\'?|\S+')
_ELEMENT = re.compile(r"^(\.+)([A-Za-zÆØÅæøå][^\s!]*)$")
_PLAIN_VALUES = re.compile(r"^[\s0-9.+-]*$", re.ASCII)
_REF_TOKEN = re.compile(r"\(|\)|:?-?[0-9]+|\S", re.ASCII)
_REF_SERIAL = re.compile(r":?-?[0-9]+", re.ASCII)
# ...ENHET is the size of one coordinate unit: 0.01 or 0.001 m in plan data, 1e-7 degrees or
# so in geographic files. Outside this range it is a broken file, and scaled coordinates
# would overflow (1e308 × 100).
_ENHET_RANGE = (1e-12, 1e6)
# Lines parsed between two looks at the clock.
_LINES_PER_CHECK = 4096


@dataclass
class _Element:
    level: int
    name: str
    values: list[str] = field(default_factory=list)
    children: list["_Element"] = field(default_factory=list)


@dataclass
class _Object:
    kind: str
    line: int
    header: list[str] = field(default_factory=list)
    elements: list[_Element] = field(default_factory=list)
    # each ..NØ / ..NØH element starts a block: (values per point, numbers)
    coordinates: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def serial(self) -> str:
        return self.header[0].rstrip(":") if self.header else ""

    @property
    def label(self) -> str:
        return f".{self.kind} {self.serial}"


@dataclass(frozen=True)
class _Transform:
    origin_north: float
    origin_east: float
    unit: float

    def points(self, numbers: list[str], dimension: int) -> list[Coord]:
        """Scale 'north east [height]' numbers by ...ENHET from ...ORIGO-NØ to (east, north).

        SOSI coordinates are integers in units of ...ENHET: ASCII digits with an optional
        sign (numpy, like float(), would read '٦٧٤٦', '674_600' and '6746e5').
        """
        if (bad := first_non_integer(numbers)) is not None:
            raise ValueError(f"coordinate value '{bad[:40]}' is not an integer")
        values = np.asarray(numbers, dtype=float).reshape(-1, dimension)
        if not np.isfinite(values).all():
            raise ValueError("coordinates must be finite")
        with np.errstate(over="ignore", invalid="ignore"):
            north = self._scale(values[:, 0]) + self.origin_north
            east = self._scale(values[:, 1]) + self.origin_east
        # NaN fails the comparison too
        if not ((np.abs(north) <= MAX_COORDINATE) & (np.abs(east) <= MAX_COORDINATE)).all():
            raise OverflowError(f"scaled coordinates beyond ±{MAX_COORDINATE:g}")
        return list(zip(east.tolist(), north.tolist(), strict=True))

    def _scale(self, values: np.ndarray) -> np.ndarray:
        # ENHET 0.01 → divide by 100 rather than multiply by 0.01: the result is then the
        # float nearest the decimal coordinate, so nodes shared with other files compare equal.
        inverse = 1 / self.unit
        if self.unit < 1 and abs(inverse - round(inverse)) < 1e-9:
            return values / round(inverse)
        return values * self.unit


def read_sosi(body: bytes, max_features: int, budget: UploadBudget | None = None) -> SourcePlan:
    """Parse a SOSI text file into source features; raise on malformed input."""
    budget = budget or UploadBudget()
    text, warnings = _decode(body)
    head, objects = _parse(text, budget)
    crs, transform = _header(head)

    objects = [obj for obj in objects if obj.kind not in _SKIPPED_SECTIONS]
    by_serial: dict[str, _Object] = {}
    for obj in objects:
        if obj.serial in by_serial:
            other = by_serial[obj.serial]
            raise InvalidInputError(
                Text(
                    nb=f"serienummer {obj.serial} er brukt to ganger: {other.label}: (linje "
                    f"{other.line}) og {obj.label}: (linje {obj.line})",
                    en=f"serial number {obj.serial} is used twice: {other.label}: (line "
                    f"{other.line}) and {obj.label}: (line {obj.line})",
                )
            )
        by_serial[obj.serial] = obj

    referenced = {
        serial
        for obj in objects
        if obj.kind == "FLATE"
        for group in _ref_groups(obj, strict=False)
        for serial, _ in group
    }
    # Curves that bound areas are the areas' geometry; other objects (labels, lines) are
    # handed over so the upload report can name them as ignored.
    features_in = [
        obj for obj in objects if not (obj.kind in _CURVE_TYPES and obj.serial in referenced)
    ]
    if not features_in:
        raise InvalidInputError(
            Text(
                nb="SOSI-filen har ingen objekter: en plan trenger minst én flate",
                en="the SOSI file has no objects: a plan needs at least one area",
            )
        )
    check_feature_count(
        len(features_in),
        max_features,
        Text("SOSI-filen", "the SOSI file"),
        Text("objekter", "objects"),
    )

    builder = _GeometryBuilder(by_serial, transform, crs, budget)
    builder.count_arcs(objects)
    features = SourcePlanBuilder("sosi")
    for position, obj in enumerate(features_in):
        budget.check_time(Text("bygger geometriene i SOSI-filen", "building the SOSI geometries"))
        geometry = None
        geometry_error = None
        location = None
        try:
            geometry = builder.geometry(obj, position)
        except GeometryReadError as exc:
            geometry_error = cannot_read(exc)
            location = lon_lat(exc.point, crs)
        features.add(
            f"{obj.kind} {obj.serial}", _properties(obj), geometry, geometry_error, location
        )
    if any(dimension == 3 for obj in objects for dimension, _ in obj.coordinates):
        # ..NØH / ..NØD give a height or depth with each point; plans are checked in 2D.
        warnings.append(Problem(Z_DROPPED_WARNING))
    return features.plan(crs, warnings=warnings)


# --- decoding --------------------------------------------------------------------------------


def utf16_codec(body: bytes) -> str | None:
    """The codec of a file saved as UTF-16 (Windows editors' "Unicode"): by its byte-order
    mark, or by the zero bytes between the ASCII of `.HODE`; None for any other file."""
    if body.startswith(_UTF16_BOMS):
        return "utf-16"
    head = body[: min(len(body), 256) // 2 * 2]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if not odd.strip(b"\x00") and b"\x00" not in even:
        return "utf-16-le"
    if not even.strip(b"\x00") and b"\x00" not in odd:
        return "utf-16-be"
    return None


def _decode(body: bytes) -> tuple[str, list[Problem]]:
    """Decode by the header's ..TEGNSETT (the only way SOSI states its encoding), checked
    against the bytes: a byte-order mark or valid UTF-8 where an 8-bit set is declared, or no
    ..TEGNSETT at all, is read as what the bytes are with a warning, or refused."""
    if (utf16 := utf16_codec(body)) is not None:
        return _decode_utf16(body, utf16)
    bom = body.startswith(_UTF8_BOM)
    if bom:
        body = body[len(_UTF8_BOM) :]
    declared = _declared_charset(body)
    non_ascii = not body.isascii()
    utf8 = _utf8_or_none(body) if non_ascii or bom else body.decode("ascii")
    if declared is None:
        return _decode_undeclared(body, bom, utf8)
    codec = _CHARSETS.get(declared)
    if codec is None:
        raise MalformedInputError(
            Text(
                nb=f"..TEGNSETT {declared} er ikke et tegnsett Arealsjekk kan lese; bruk UTF-8, "
                "ISO8859-10, ISO8859-1, ANSI, DOSN8 eller ND7",
                en=f"..TEGNSETT {declared} is not a character set Arealsjekk reads; use UTF-8, "
                "ISO8859-10, ISO8859-1, ANSI, DOSN8 or ND7",
            )
        )
    if codec == "utf-8":
        if utf8 is None:
            raise _decode_error(body, declared)
        return utf8, []
    # An 8-bit set is declared. Text in Æ Ø Å that is also valid UTF-8 is UTF-8: the two-byte
    # UTF-8 sequences are Ã + a symbol in every 8-bit set, never Norwegian text.
    if utf8 is not None and (bom or non_ascii):
        why = (
            Text("starter med et UTF-8-merke (BOM)", "starts with a UTF-8 byte-order mark")
            if bom
            else Text("er gyldig UTF-8", "is valid UTF-8")
        )
        return utf8, [
            Problem(
                Text(
                    nb=f"filen oppgir ..TEGNSETT {declared}, men {why.nb}; den ble lest som "
                    "UTF-8. Rett ..TEGNSETT til UTF-8",
                    en=f"the file declares ..TEGNSETT {declared} but {why.en}; it was read as "
                    "UTF-8. Correct ..TEGNSETT to UTF-8",
                ),
                field="TEGNSETT",
            )
        ]
    if bom:
        raise MalformedInputError(
            Text(
                nb=f"filen starter med et UTF-8-merke (BOM), men er ikke UTF-8, og oppgir "
                f"..TEGNSETT {declared}: de to stemmer ikke overens; lagre filen på nytt i ett "
                "tegnsett og oppgi det i ..TEGNSETT",
                en=f"the file starts with a UTF-8 byte-order mark but is not UTF-8, and declares "
                f"..TEGNSETT {declared}: the two disagree; save the file again in one character "
                "set and name it in ..TEGNSETT",
            )
        )
    if codec == "iso646-no":
        try:
            return body.decode("ascii").translate(_ISO646_NO), []
        except UnicodeDecodeError:
            raise _decode_error(body, declared) from None
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        raise _decode_error(body, declared) from None
    if codec.startswith("iso8859") or codec == "latin-1":
        # C1 control bytes (0x80-0x9F) are no text in ISO 8859: such a file is in another set
        # (DOSN8 writes Æ Ø Å æ ø å there), and reading it as declared would garble the names.
        if (control := re.search(rb"[\x80-\x9f]", body)) is not None:
            raise _decode_error(body, declared, control.start())
    return text, []


def _decode_utf16(body: bytes, codec: str) -> tuple[str, list[Problem]]:
    """Read a UTF-16 file as UTF-16 with a warning: ..TEGNSETT has no name for it."""
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise MalformedInputError(
            Text(
                nb=f"filen ser ut som UTF-16-tekst, men byte {exc.start} er ikke UTF-16; "
                "SOSI-filer er 8-biters eller UTF-8: lagre den som UTF-8 og skriv ..TEGNSETT "
                "UTF-8 i .HODE",
                en=f"the file looks like UTF-16 text but byte {exc.start} is not UTF-16; SOSI "
                "files are 8-bit or UTF-8: save it as UTF-8 and write ..TEGNSETT UTF-8 in .HODE",
            )
        ) from None
    declared = _declared_charset(text.encode("utf-8"))
    return text, [
        Problem(
            Text(
                nb=f"filen er lagret som UTF-16, som ..TEGNSETT ikke har noe navn for (den "
                f"oppgir {declared or 'ingen ..TEGNSETT'}); den ble lest som UTF-16. Lagre den "
                "som UTF-8 og skriv ..TEGNSETT UTF-8",
                en=f"the file is saved as UTF-16, which ..TEGNSETT cannot name (it declares "
                f"{declared or 'no ..TEGNSETT'}); it was read as UTF-16. Save it as UTF-8 and "
                "write ..TEGNSETT UTF-8",
            ),
            field="TEGNSETT",
        )
    ]


def _declared_charset(body: bytes) -> str | None:
    """The ..TEGNSETT value of the .HODE (up to the first object), upper case, or None; a
    ..TEGNSETT in a '!' comment is no declaration."""
    head_end = re.search(rb"(?m)^[ \t]*\.(?!HODE\b)[A-Za-z\xc0-\xff]", body[:65536])
    head = body[: head_end.start()] if head_end else body[:65536]
    for line in head.splitlines():
        # Latin-1 maps each byte to one character, so '!', quotes and ASCII keep their places.
        declared = _TEGNSETT.search(_strip_comment(line.decode("latin-1")))
        if declared:
            return declared.group(1).upper()
    return None


def _utf8_or_none(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_undeclared(body: bytes, bom: bool, utf8: str | None) -> tuple[str, list[Problem]]:
    """A file whose .HODE has no ..TEGNSETT: read it only where the bytes leave no doubt."""
    if utf8 is not None:
        if bom or not body.isascii():
            what = (
                Text(
                    "UTF-8 (den starter med et UTF-8-merke)",
                    "UTF-8 (it starts with a byte-order mark)",
                )
                if bom
                else Text("UTF-8, som den er", "UTF-8, which it is")
            )
        elif re.search(rb"\.\.N\\", body):
            # ..N\ is ..NØ in ND7, the 7-bit Norwegian set of old SOSI files.
            text = body.decode("ascii").translate(_ISO646_NO)
            return text, [
                _missing_tegnsett(
                    Text("ND7 (den skriver ..NØ som ..N\\)", "ND7 (it writes ..NØ as ..N\\)")
                )
            ]
        else:
            what = Text("ren ASCII, som den er", "plain ASCII, which it is")
        return utf8, [_missing_tegnsett(what)]
    high = set(re.findall(rb"[\x80-\xff]", body))
    if high <= _LATIN_NORWEGIAN:
        # Æ Ø Å æ ø å have the same bytes in ISO8859-1, ISO8859-10 and ANSI (Windows-1252).
        return body.decode("iso8859_10"), [
            _missing_tegnsett(
                Text(
                    "ISO8859-10 (de eneste 8-biters tegnene er Æ Ø Å æ ø å)",
                    "ISO8859-10 (its only 8-bit characters are Æ Ø Å æ ø å)",
                )
            )
        ]
    if high <= _DOSN8_NORWEGIAN:
        return body.decode("cp865"), [
            _missing_tegnsett(
                Text(
                    "DOSN8 (de eneste 8-biters tegnene er Æ Ø Å æ ø å i DOSN8)",
                    "DOSN8 (its only 8-bit characters are Æ Ø Å æ ø å in DOSN8)",
                )
            )
        ]
    at = _UNCLEAR_BYTE.search(body).start()  # found: the bytes are in neither set
    line = body.count(b"\n", 0, at) + 1
    raise MalformedInputError(
        Text(
            nb=f"SOSI-hodet har ingen ..TEGNSETT, og filen er ikke UTF-8 (byte 0x{body[at]:02X} "
            f"på linje {line} er ikke Æ Ø Å æ ø å i noe tegnsett Arealsjekk kunne anta); legg "
            "til ..TEGNSETT i .HODE, f.eks. ..TEGNSETT ISO8859-10 eller ..TEGNSETT UTF-8",
            en=f"the SOSI header has no ..TEGNSETT and the file is not UTF-8 (byte "
            f"0x{body[at]:02X} on line {line} is not Æ Ø Å æ ø å in a set Arealsjekk could "
            "assume); add ..TEGNSETT to .HODE, e.g. ..TEGNSETT ISO8859-10 or ..TEGNSETT UTF-8",
        )
    )


def _missing_tegnsett(read_as: Text) -> Problem:
    return Problem(
        Text(
            nb=f"SOSI-hodet har ingen ..TEGNSETT; filen ble lest som {read_as.nb}. Legg til "
            "..TEGNSETT i .HODE",
            en=f"the SOSI header has no ..TEGNSETT; the file was read as {read_as.en}. Add "
            "..TEGNSETT to .HODE",
        ),
        field="TEGNSETT",
    )


def _decode_error(body: bytes, name: str, at: int | None = None) -> MalformedInputError:
    if at is None:
        at = _first_undecodable(body, name)
    line = body.count(b"\n", 0, at) + 1
    return MalformedInputError(
        Text(
            nb=f"filen oppgir ..TEGNSETT {name}, men byte 0x{body[at]:02X} på linje {line} er "
            f"ikke {name}-tekst; rett ..TEGNSETT til tegnsettet filen er lagret i",
            en=f"the file declares ..TEGNSETT {name} but byte 0x{body[at]:02X} on line {line} "
            f"is not {name} text; correct ..TEGNSETT to the character set the file is saved in",
        )
    )


def _first_undecodable(body: bytes, name: str) -> int:
    codec = _CHARSETS[name]
    try:
        body.decode("ascii" if codec == "iso646-no" else codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


# --- parsing ---------------------------------------------------------------------------------


def _strip_comment(line: str) -> str:
    """Drop a '!' comment unless the '!' is inside a quoted string."""
    if "!" not in line:
        return line
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "!":
            return line[:i]
    return line


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] in "\"'" and token[-1] == token[0]:
        return token[1:-1]
    return token.strip("\"'") if token[:1] in "\"'" else token


def _parse(text: str, budget: UploadBudget) -> tuple[_Object, list[_Object]]:
    """Split the file into the .HODE and the objects, each with its element tree."""
    head: _Object | None = None
    objects: list[_Object] = []
    current: _Object | None = None
    stack: list[_Element] = []  # the open element of each level, innermost last
    target: list[str] | None = None  # where values go
    fallback: list[str] | None = None  # where values on the next lines go (after ...KP)
    target_line = 0
    values = 0  # numbers on bare lines: nearly all coordinates
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        if not number % _LINES_PER_CHECK:
            budget.check_time(
                Text(f"leser SOSI-filen (linje {number})", f"parsing the SOSI file (line {number})")
            )
            _check_coordinate_count(values, number, budget)
        if target is not None and fallback is None and _PLAIN_VALUES.match(raw):
            line_values = raw.split()  # most lines are bare coordinates: skip tokenising
            target.extend(line_values)
            values += len(line_values)
            continue
        for token in _TOKEN.findall(_strip_comment(raw)):
            match = _ELEMENT.match(token) if token[0] == "." else None
            if match is None:
                if fallback is not None and number != target_line:
                    target, fallback = fallback, None
                if target is None:
                    raise MalformedInputError(
                        Text(
                            nb=f"linje {number}: «{token}» står før .HODE; en SOSI-fil starter "
                            "med .HODE",
                            en=f"line {number}: '{token}' comes before .HODE; a SOSI file starts "
                            "with .HODE",
                        )
                    )
                target.append(token)
                continue
            level, name = len(match.group(1)), match.group(2).upper()
            if level == 1:
                if name == "SLUTT":
                    _check_end(lines, number, budget)
                    return _finish(head, objects)
                current = _Object(name, number)
                if name == "HODE":
                    if head is not None:
                        raise MalformedInputError(
                            Text(
                                f"linje {number}: et andre .HODE", f"line {number}: a second .HODE"
                            )
                        )
                    head = current
                elif head is None:
                    raise MalformedInputError(
                        Text(
                            nb=f"linje {number}: .{name} står før .HODE; en SOSI-fil starter "
                            "med .HODE",
                            en=f"line {number}: .{name} comes before .HODE; a SOSI file starts "
                            "with .HODE",
                        )
                    )
                else:
                    objects.append(current)
                stack, target, fallback = [], current.header, None
                continue
            if current is None:
                raise MalformedInputError(
                    Text(
                        nb=f"linje {number}: {token} står før .HODE; en SOSI-fil starter med .HODE",
                        en=f"line {number}: {token} comes before .HODE; a SOSI file starts with "
                        ".HODE",
                    )
                )
            element = _Element(level, name)
            if level == 2:
                current.elements.append(element)
                stack, fallback = [element], None
                if name in _COORDINATE_ELEMENTS:
                    block: list[str] = []
                    current.coordinates.append((_COORDINATE_ELEMENTS[name], block))
                    target = block
                else:
                    target = element.values
                continue
            while stack and stack[-1].level >= level:
                stack.pop()
            if not stack:
                raise MalformedInputError(
                    Text(
                        nb=f"linje {number}: {token} står ikke inne i et topunktselement "
                        f"(..NAVN) i {current.label}",
                        en=f"line {number}: {token} is not inside a two-dot element of "
                        f"{current.label}",
                    )
                )
            stack[-1].children.append(element)
            stack.append(element)
            if stack[0].name in _COORDINATE_ELEMENTS:
                # A point's own elements (...KP 1 marks a node) take the rest of its line;
                # the next lines continue the coordinates.
                fallback = fallback if fallback is not None else target
                target, target_line = element.values, number
            else:
                target, fallback = element.values, None
    if head is None:
        return _finish(head, objects)
    # SOSI files end with .SLUTT (SOSI del 1, realisering i SOSI-format); without it the file
    # was cut short, and its last object may have lost coordinates or references.
    if current is None or current is head:
        last = Text(".HODE", ".HODE")
    else:
        last = Text(
            f"{current.label} (linje {current.line})", f"{current.label} (line {current.line})"
        )
    raise MalformedInputError(
        Text(
            nb=f"SOSI-filen slutter uten .SLUTT: den er avkuttet (det siste objektet, {last.nb}, "
            "kan være ufullstendig); last opp hele filen",
            en=f"the SOSI file ends without .SLUTT: it was cut short (the last object, "
            f"{last.en}, may be incomplete); upload the whole file",
        )
    )


def _check_end(lines: list[str], slutt: int, budget: UploadBudget) -> None:
    """Refuse objects after .SLUTT (two files joined, or a copy gone wrong): they would be
    lost without a word. Blank lines, comments and DOS end-of-file marks may follow."""
    for number in range(slutt, len(lines)):
        if not number % _LINES_PER_CHECK:
            budget.check_time(
                Text(f"leser etter .SLUTT (linje {number})", f"reading past .SLUTT (line {number})")
            )
        rest = _strip_comment(lines[number]).strip(" \t\x1a\x00")
        if rest:
            raise MalformedInputError(
                Text(
                    nb=f"linje {number + 1}: SOSI-filen fortsetter etter .SLUTT på linje "
                    f"{slutt}; en SOSI-fil slutter med .SLUTT (er to filer slått sammen?)",
                    en=f"line {number + 1}: the SOSI file goes on after .SLUTT on line {slutt}; "
                    "a SOSI file ends with .SLUTT (are two files joined?)",
                )
            )


def _check_coordinate_count(values: int, line: int, budget: UploadBudget) -> None:
    """Stop reading a file that holds more coordinates than the vertex limit allows (each
    kept as text until its object is built), before it is read to the end."""
    if budget.max_vertices is not None and values > 3 * budget.max_vertices:
        raise PayloadTooLargeError(
            Text(
                nb=f"SOSI-filen har mer enn {values} koordinatverdier innen linje {line}; en "
                f"plan kan ha høyst {budget.max_vertices} punkter",
                en=f"the SOSI file holds more than {values} coordinate values by line {line}; "
                f"a plan may have at most {budget.max_vertices} vertices",
            )
        )


def _finish(head: _Object | None, objects: list[_Object]) -> tuple[_Object, list[_Object]]:
    if head is None:
        raise MalformedInputError(
            Text(
                "filen har ikke noe .HODE: den er ikke en SOSI-fil",
                "the file has no .HODE: it is not a SOSI file",
            )
        )
    for obj in objects:
        if not obj.serial and obj.kind not in _SKIPPED_SECTIONS:
            raise MalformedInputError(
                Text(
                    nb=f"linje {obj.line}: .{obj.kind} har ikke noe serienummer (f.eks. "
                    f"«.{obj.kind} 12:»)",
                    en=f"line {obj.line}: .{obj.kind} has no serial number (e.g. "
                    f"'.{obj.kind} 12:')",
                )
            )
    return head, objects


# --- header ----------------------------------------------------------------------------------


def _find(elements: list[_Element], name: str) -> _Element | None:
    for element in elements:
        if element.name == name:
            return element
        found = _find(element.children, name)
        if found is not None:
            return found
    return None


def _header(head: _Object) -> tuple[CrsRef, _Transform]:
    """The CRS (..TRANSPAR ...KOORDSYS) and the coordinate scaling (...ORIGO-NØ, ...ENHET)."""
    koordsys = _find(head.elements, "KOORDSYS")
    if koordsys is None or not koordsys.values:
        raise UnsupportedCRSError(
            Text(
                nb="SOSI-hodet oppgir ikke noe koordinatsystem: ..TRANSPAR trenger ...KOORDSYS "
                "(f.eks. 22 for EUREF89 UTM sone 32)",
                en="the SOSI header names no coordinate system: ..TRANSPAR needs ...KOORDSYS "
                "(e.g. 22 for EUREF89 UTM zone 32)",
            )
        )
    if not re.fullmatch(r"[0-9]{1,4}", koordsys.values[0]):
        value = koordsys.values[0][:20]
        raise UnsupportedCRSError(
            Text(
                nb=f"...KOORDSYS «{value}» er ikke et SOSI-koordinatsystemnummer",
                en=f"...KOORDSYS '{value}' is not a SOSI coordinate system number",
            )
        )
    code = int(koordsys.values[0])
    if code not in KOORDSYS_EPSG:
        raise UnsupportedCRSError(
            Text(
                nb=f"...KOORDSYS {code} er ikke et SOSI-koordinatsystem Arealsjekk kjenner; bruk "
                "22 (EUREF89 UTM 32), 23 (UTM 33), 25 (UTM 35) eller 84 (EUREF89 geografisk)",
                en=f"...KOORDSYS {code} is not a SOSI coordinate system Arealsjekk knows; use 22 "
                "(EUREF89 UTM 32), 23 (UTM 33), 25 (UTM 35) or 84 (EUREF89 geographic)",
            )
        )
    crs = parse_crs(f"EPSG:{KOORDSYS_EPSG[code]}", what=f"...KOORDSYS {code}")

    origin = _find(head.elements, "ORIGO-NØ")
    unit = _find(head.elements, "ENHET")
    try:
        north, east = (parse_decimal(v) for v in origin.values[:2]) if origin else (0.0, 0.0)
        scale = parse_decimal(unit.values[0].replace(",", ".")) if unit and unit.values else 1.0
    except ValueError:
        raise MalformedInputError(
            Text(
                nb="...ORIGO-NØ må være to tall og ...ENHET ett tall (f.eks. 0.01)",
                en="...ORIGO-NØ must be two numbers and ...ENHET one number (e.g. 0.01)",
            )
        ) from None
    low, high = _ENHET_RANGE
    if not (abs(north) <= MAX_COORDINATE and abs(east) <= MAX_COORDINATE):  # False for NaN
        raise MalformedInputError(
            Text(
                nb=f"...ORIGO-NØ må være to endelige tall innenfor ±{MAX_COORDINATE:g}",
                en=f"...ORIGO-NØ must be two finite numbers within ±{MAX_COORDINATE:g}",
            )
        )
    if not low <= scale <= high:
        raise MalformedInputError(
            Text(
                nb=f"...ENHET må være et tall fra {low:g} til {high:g} (størrelsen på én "
                "koordinatenhet, f.eks. 0.01)",
                en=f"...ENHET must be a number from {low:g} to {high:g} (the size of one "
                "coordinate unit, e.g. 0.01)",
            )
        )
    return crs, _Transform(north, east, scale)


# --- geometry --------------------------------------------------------------------------------


def _ref_groups(obj: _Object, strict: bool = True) -> list[list[tuple[str, bool]]]:
    """Parse ..REF: the outer boundary, then each island in parentheses; (serial, reversed)."""
    tokens = [
        t for e in obj.elements if e.name == "REF" for v in e.values for t in _REF_TOKEN.findall(v)
    ]
    groups: list[list[tuple[str, bool]]] = [[]]
    inside = False
    for token in tokens:
        if token == "(":
            if inside and strict:
                raise GeometryReadError(
                    Text("..REF har parenteser inne i parenteser", "..REF has nested parentheses")
                )
            inside = True
            groups.append([])
        elif token == ")":
            if not inside and strict:
                raise GeometryReadError(
                    Text(
                        "..REF lukker en parentes som aldri ble åpnet",
                        "..REF closes a parenthesis it never opened",
                    )
                )
            inside = False
        elif _REF_SERIAL.fullmatch(token):
            reverse = "-" in token
            groups[-1].append((token.lstrip(":-"), reverse))
        elif strict:
            raise GeometryReadError(
                Text(
                    nb=f"..REF inneholder «{token}», som ikke er en referanse som :12 eller -12",
                    en=f"..REF holds '{token}', which is not a reference like :12 or -12",
                )
            )
    if inside and strict:
        raise GeometryReadError(
            Text(
                "..REF åpner en parentes som aldri blir lukket",
                "..REF opens a parenthesis it never closes",
            )
        )
    return [g for i, g in enumerate(groups) if g or i == 0]


class _GeometryBuilder:
    """Builds shapely geometries of SOSI objects; areas from their referenced curves."""

    def __init__(
        self,
        objects: dict[str, _Object],
        transform: _Transform,
        crs: CrsRef,
        budget: UploadBudget,
    ):
        self._objects = objects
        self._transform = transform
        # Arcs are drawn in a projected plane, also those of a geographic file.
        self._frame = arc_frame(crs)
        self._tolerance = join_tolerance_for(crs.is_geographic)
        self._curves: dict[str, list[Coord]] = {}
        self._islands: dict[str, list[Coord]] = {}  # outer rings of areas used as islands
        self._budget = budget
        self._position: int | None = None
        self._label: str | None = None

    def geometry(self, obj: _Object, position: int | None = None) -> BaseGeometry | None:
        """The object's geometry in the file's CRS, or None for objects without one.

        Every geometry built counts against the vertex budget before it is built: a curve is
        linearised once, but each area that refers to it gets a copy of its coordinates.
        """
        self._position, self._label = position, f"{obj.kind} {obj.serial}"
        if obj.kind == "FLATE":
            return self._surface(obj)
        if obj.kind in _CURVE_TYPES:
            coords = self._curve(obj.serial, obj)
            self._take(len(coords), obj.label)
            return LineString(np.asarray(coords, dtype=float))
        if obj.kind in _POINT_TYPES:
            points = self._points(obj)
            return Point(points[0]) if points else None
        if obj.kind == "SVERM":
            points = self._points(obj)
            self._take(len(points), obj.label)
            return MultiPoint(points) if points else None
        return None

    def count_arcs(self, objects: list[_Object]) -> None:
        """Refuse a file whose arcs alone need more vertices than the budget holds, before
        any is linearised (each estimated from its radius, angle and the chord tolerance)."""
        limit = self._budget.max_vertices
        if limit is None:
            return
        total = 0
        for obj in objects:
            if obj.kind not in ("BUEP", "SIRKELP"):
                continue
            try:
                points = self._points(obj)
            except GeometryReadError:
                continue  # building it says what is wrong
            if len(points) == 3:
                total += arc_point_count(points, obj.kind == "SIRKELP", self._frame)
            if total > limit:
                what = Text(
                    f"{obj.label} (linje {obj.line}), sammen med buene før den,",
                    f"{obj.label} (line {obj.line}), with the arcs before it,",
                )
                self._budget.refuse_vertices(what)

    def _take(self, count: int, what: Text | str) -> None:
        self._budget.take_vertices(count, what, self._position, self._label)

    def _points(self, obj: _Object) -> list[Coord]:
        points: list[Coord] = []
        for dimension, numbers in obj.coordinates:
            if len(numbers) % dimension:
                element = "NØH" if dimension == 3 else "NØ"
                raise GeometryReadError(
                    Text(
                        nb=f"..{element} har {len(numbers)} tall, ikke "
                        f"{'tripler' if dimension == 3 else 'par'} av nord og øst",
                        en=f"..{element} has {len(numbers)} numbers, not "
                        f"{'triples' if dimension == 3 else 'pairs'} of north and east",
                    )
                )
            if not self._budget.fits(len(points) + len(numbers) // dimension):
                self._budget.refuse_vertices(obj.label, self._position, self._label)
            try:
                points.extend(self._transform.points(numbers, dimension))
            except OverflowError:
                raise GeometryReadError(
                    Text(
                        nb=f"koordinatene, skalert med ...ENHET fra ...ORIGO-NØ, ligger utenfor "
                        f"±{MAX_COORDINATE:g}; sjekk hodet (.HODE)",
                        en=f"coordinates scaled by ...ENHET from ...ORIGO-NØ lie beyond "
                        f"±{MAX_COORDINATE:g}; check the header",
                    )
                ) from None
            except ValueError:
                bad = (first_non_integer(numbers) or numbers[0])[:40]
                raise GeometryReadError(
                    Text(
                        nb=f"koordinatverdien «{bad}» er ikke et tall (SOSI-koordinater er "
                        "heltall i enheter av ...ENHET)",
                        en=f"coordinate value '{bad}' is not a number (SOSI coordinates are "
                        "integers in units of ...ENHET)",
                    )
                ) from None
        return points

    def _surface(self, obj: _Object) -> Polygon:
        groups = _ref_groups(obj)
        if not groups[0]:
            raise GeometryReadError(
                Text(
                    "flaten har ingen ..REF til kurvene som avgrenser den",
                    "the area has no ..REF to its boundary curves",
                )
            )
        rings = []
        for index, group in enumerate(groups):
            what = (
                Text("yttergrensen", "the outer boundary")
                if index == 0
                else Text(f"øy {index}", f"island {index}")
            )
            in_obj = Text(f"{obj.label} ({what.nb})", f"{obj.label} ({what.en})")
            if index and (island := self._island_surface(group, obj.serial)) is not None:
                self._take(len(island), in_obj)
                rings.append(island)
                continue
            parts = []
            for serial, reverse in group:
                coords = self._curve(serial, None)
                sign = "-" if reverse else ":"
                parts.append((f"{sign}{serial}", coords[::-1] if reverse else coords))
            self._take(sum(len(coords) for _, coords in parts), in_obj)
            try:
                rings.append(closed_ring(join_parts(parts, self._tolerance), self._tolerance, what))
            except GeometryReadError as exc:
                raise within(what + f" (..REF {_ref_text(group)})", exc) from None
        # as arrays, shapely takes the coordinates in one step
        shell, *holes = (np.asarray(ring, dtype=float) for ring in rings)
        return Polygon(shell, holes)

    def _island_surface(self, group: list[tuple[str, bool]], own: str) -> list[Coord] | None:
        """An island given as a reference to another .FLATE, e.g. '..REF :1 :2 (:7)' where 7
        is a .FLATE: the island is that area's outer boundary (SOSI realisering: an island in
        parentheses in ..REF may name a .FLATE); None when the group refers to curves."""
        surfaces = [s for s, _ in group if self._kind(s) == "FLATE"]
        if not surfaces:
            return None
        serial = surfaces[0]
        if len(group) > 1:
            raise GeometryReadError(
                Text(
                    nb=f"..REF ({_ref_text(group)}) blander flaten :{serial} med kurver; en øy "
                    "er enten kurver eller én annen .FLATE",
                    en=f"..REF ({_ref_text(group)}) mixes the area :{serial} with curves; an "
                    "island is either curves or one other .FLATE",
                )
            )
        if serial == own:
            raise GeometryReadError(
                Text(
                    f"..REF (:{serial}) gjør flaten til en øy i seg selv",
                    f"..REF (:{serial}) makes the area an island of itself",
                )
            )
        if serial in self._islands:
            return self._islands[serial]
        outer = _ref_groups(self._objects[serial])[0]
        if not outer:
            raise GeometryReadError(
                Text(
                    f".FLATE {serial}, øya, har ingen ..REF",
                    f".FLATE {serial}, the island, has no ..REF",
                )
            )
        if any(self._kind(part) == "FLATE" for part, _ in outer):
            raise GeometryReadError(
                Text(
                    f".FLATE {serial}, øya, har en annen .FLATE som yttergrense",
                    f".FLATE {serial}, the island, has another .FLATE as its outer boundary",
                )
            )
        parts = []
        for part, reverse in outer:
            coords = self._curve(part, None)
            parts.append((f"{'-' if reverse else ':'}{part}", coords[::-1] if reverse else coords))
        try:
            ring = closed_ring(
                join_parts(parts, self._tolerance), self._tolerance, Text("øya", "island")
            )
        except GeometryReadError as exc:
            raise within(
                Text(f".FLATE {serial}, øya", f".FLATE {serial}, the island"), exc
            ) from None
        self._islands[serial] = ring
        return ring

    def _kind(self, serial: str) -> str | None:
        obj = self._objects.get(serial)
        return obj.kind if obj is not None else None

    def _curve(self, serial: str, obj: _Object | None) -> list[Coord]:
        if serial in self._curves:
            return self._curves[serial]
        curve = obj or self._objects.get(serial)
        if curve is None:
            raise GeometryReadError(
                Text(
                    f"..REF :{serial} viser ikke til noe objekt i filen",
                    f"..REF :{serial} refers to no object in the file",
                )
            )
        if curve.kind not in _CURVE_TYPES:
            raise GeometryReadError(
                Text(
                    f"..REF :{serial} viser til {curve.label}, som ikke er en kurve",
                    f"..REF :{serial} refers to {curve.label}, which is not a curve",
                )
            )
        points = self._points(curve)
        first = points[0] if points else None
        if curve.kind in ("KURVE", "LINJE"):
            if len(points) < 2:
                raise GeometryReadError(
                    Text(
                        f"{curve.label} har {len(points)} punkt; en kurve trenger 2",
                        f"{curve.label} has {len(points)} point; a curve needs 2",
                    ),
                    first,
                )
            coords = points
        elif curve.kind == "BUEP":
            if len(points) != 3:
                raise GeometryReadError(
                    Text(
                        f"{curve.label} har {len(points)} punkter; en bue (.BUEP) trenger 3",
                        f"{curve.label} has {len(points)} points; an arc (.BUEP) needs 3",
                    ),
                    first,
                )
            coords = self._arc(curve, points, arc_points)
        elif curve.kind == "SIRKELP":
            if len(points) != 3:
                raise GeometryReadError(
                    Text(
                        f"{curve.label} har {len(points)} punkter; en sirkel (.SIRKELP) trenger 3",
                        f"{curve.label} has {len(points)} points; a circle (.SIRKELP) needs 3",
                    ),
                    first,
                )
            coords = self._arc(curve, points, circle_points)
        else:
            raise GeometryReadError(
                Text(
                    nb=f"{curve.label} er en .{curve.kind}, som Arealsjekk ikke kan lese; "
                    "eksporter buer som .BUEP (tre punkter) eller som .KURVE",
                    en=f"{curve.label} is a .{curve.kind}, which Arealsjekk cannot read; export "
                    "arcs as .BUEP (three points) or as .KURVE",
                ),
                first,
            )
        self._curves[serial] = coords
        return coords

    def _arc(
        self, curve: _Object, points: list[Coord], linearise: Callable[..., list[Coord]]
    ) -> list[Coord]:
        def room_for(count: int) -> None:
            # Taken when a geometry uses the arc; refused here before its points are made.
            if not self._budget.fits(count):
                what = Text(
                    f"{curve.label} (linje {curve.line}), en bue med {count} punkter,",
                    f"{curve.label} (line {curve.line}), an arc of {count} points,",
                )
                self._budget.refuse_vertices(what, self._position, self._label)

        try:
            return linearise(*points, self._frame, before_building=room_for)
        except GeometryReadError as exc:
            raise within(curve.label, exc) from None


def _ref_text(group: list[tuple[str, bool]]) -> str:
    return " ".join(f"{'-' if reverse else ':'}{serial}" for serial, reverse in group)


# --- attributes ------------------------------------------------------------------------------

_GEOMETRY_ELEMENTS = {"REF", *_COORDINATE_ELEMENTS}


def _properties(obj: _Object) -> dict[str, Any]:
    """The object's attributes; groups (..NASJONALAREALPLANID ...KOMM) flattened to leaves."""
    leaves: list[tuple[tuple[str, ...], str]] = []
    for element in obj.elements:
        if element.name not in _GEOMETRY_ELEMENTS:
            _collect(element, (), leaves)
    return leaves_to_properties(leaves)


def _collect(
    element: _Element, path: tuple[str, ...], out: list[tuple[tuple[str, ...], str]]
) -> None:
    name = SOSI_ATTRIBUTE_NAMES.get(element.name, element.name)
    if element.values:
        out.append(((*path, name), " ".join(_unquote(v) for v in element.values)))
    for child in element.children:
        _collect(child, (*path, name), out)
