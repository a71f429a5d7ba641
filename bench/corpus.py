"""A corpus of malformed plan files in every upload format, generated at run time.

`generate(directory, seed)` writes the files (into bench/.data/reliability/corpus, which is
git-ignored, when run by bench/reliability.py) and returns one Case per file. Every case but the
controls must be refused with a 4xx problem+json; each control is the well-formed file the
format's broken variants are made from and must be accepted (201), so a refusal of a
variant is due to what was broken in it, not to the rest of the file.

Run alone to look at the files:  .venv/bin/python bench/corpus.py [DIRECTORY]
"""

from __future__ import annotations

import io
import json
import math
import random
import shutil
import sqlite3
import stat
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import Polygon, box

ROOT = Path(__file__).resolve().parent.parent
GML_FIXTURE = ROOT / "tests" / "fixtures" / "plans" / "hemsedal-reguleringsplanforslag.gml"
SOSI_FIXTURE = ROOT / "tests" / "fixtures" / "plans" / "hole-kpa-2026.sos"
# Over the default vertex limit (500,000) while under the body limit (20 MiB).
HUGE_VERTICES = 520_000
OVER_BODY_LIMIT = 21 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One file of the corpus and how it is sent."""

    name: str
    format: str  # geojson | gml | sosi | gpkg | zip | other
    path: str  # relative to the corpus directory
    filename: str | None  # sent as ?filename= (or the multipart file name)
    content_type: str | None
    note: str
    multipart: str | None = None  # name of the form field, when sent as multipart
    control: bool = False  # a well-formed file: must be accepted


class Corpus:
    """Collects the cases while writing their files."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.cases: list[Case] = []
        self.controls: dict[str, bytes] = {}

    def add(
        self,
        name: str,
        fmt: str,
        body: bytes,
        note: str,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        multipart: str | None = None,
        control: bool = False,
    ) -> None:
        """Write one file and record how it is sent."""
        if control:
            self.controls[fmt] = body
        elif body == self.controls.get(fmt) and name != "geojson-nul-in-filename":
            raise ValueError(f"{name}: the replacement that should break it changed nothing")
        path = f"{fmt}/{name}.bin"
        target = self.directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        self.cases.append(Case(name, fmt, path, filename, content_type, note, multipart, control))


def generate(directory: Path, seed: int = 1) -> list[Case]:
    """Write the corpus into `directory` (emptied first) and return its cases."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    corpus = Corpus(directory)
    with warnings.catch_warnings():
        # GDAL warns about what the broken files are meant to be (no CRS, cut field names).
        warnings.simplefilter("ignore")
        for part in (_geojson, _gml, _sosi, _geopackage, _zip, _other, _hostile):
            part(corpus, rng)
    return corpus.cases


def _truncations(corpus: Corpus, fmt: str, body: bytes, **send: Any) -> None:
    for share in (0.1, 0.5, 0.9):
        corpus.add(
            f"{fmt}-truncated-{int(share * 100)}pct",
            fmt,
            body[: int(len(body) * share)],
            f"the control file cut after {int(share * 100)} % of its bytes",
            **send,
        )


# --- GeoJSON -------------------------------------------------------------------------------

# Hemsedal (3326), as the tests use it.
LON, LAT = 8.40, 60.86


def _square(lon: float, lat: float, size: float = 0.005) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def geojson_plan(
    geometry: dict[str, Any] | None = None, plan: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A one-area GeoJSON plan in Hemsedal; arguments replace parts of it."""
    properties = {"arealformal": 1120, "arealbruksstatus": 2, "feltnavn": "BFR1"}
    properties.update(extra.pop("properties", {}))
    return {
        "type": "FeatureCollection",
        "plan": plan
        or {
            "kommunenummer": "3326",
            "planidentifikasjon": "CORPUS1",
            "plantype": 20,
            "planstatus": 2,
            "plannavn": "Corpus control",
        },
        "features": [
            {
                "type": "Feature",
                "id": "BFR1",
                "properties": properties,
                "geometry": _square(LON, LAT) if geometry is None else geometry,
            }
        ],
        **extra,
    }


def _geojson(corpus: Corpus, rng: random.Random) -> None:
    send = {"filename": "plan.geojson", "content_type": "application/geo+json"}

    def add(name: str, body: bytes | dict[str, Any], note: str, **kwargs: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        corpus.add(f"geojson-{name}", "geojson", data, note, **{**send, **kwargs})

    control = json.dumps(geojson_plan()).encode()
    add("control", control, "a well-formed one-area plan", control=True)
    _truncations(corpus, "geojson", control, **send)
    add("invalid-json", b'{"type": "FeatureCollection", "features": [}', "a syntax error")
    add("latin1", control.replace(b"Corpus control", "Åsen å".encode("latin-1")), "not UTF-8")
    add("utf16", "\ufeff".encode("utf-16-le") + control.decode().encode("utf-16-le"), "UTF-16")
    add("deep-array", b"[" * 200_000 + b"]" * 200_000, "200,000 nested arrays")
    deep = b'{"type": "FeatureCollection", "features": [' + b"[" * 100_000 + b"]" * 100_000
    add("deep-in-features", deep + b"]}", "100,000 nested arrays inside 'features'")
    point = json.dumps({"type": "Point", "coordinates": [LON, LAT]})
    nested = '{"type": "GeometryCollection", "geometries": [' * 3000 + point + "]}" * 3000
    marker = json.dumps(geojson_plan({"type": "Point"}))
    add(
        "deep-geometry-collection",
        marker.replace('{"type": "Point"}', nested).encode(),
        "3,000 nested GeometryCollections",
    )
    nan_ring = [[LON, LAT], [math.nan, LAT], [LON + 0.005, LAT + 0.005], [LON, LAT]]
    add("nan-coordinates", geojson_plan({"type": "Polygon", "coordinates": [nan_ring]}), "NaN")
    inf = control.replace(str(LON + 0.005).encode(), b"1e999", 1)
    add("infinite-coordinate", inf, "a coordinate of 1e999 (infinity)")
    big = control.replace(str(LAT).encode(), b"1" + b"0" * 400, 1)
    add("huge-integer-coordinate", big, "a 401-digit integer coordinate")
    add(
        "nul-in-name",
        geojson_plan(properties={"feltnavn": "BFR\u00001"}),
        "a NUL character in an area name",
    )
    add(
        "nul-in-plan-name",
        geojson_plan(
            plan={
                "kommunenummer": "3326",
                "planidentifikasjon": "CORPUS1",
                "plantype": 20,
                "planstatus": 2,
                "plannavn": "Corpus\u0000control",
            }
        ),
        "a NUL character in the plan name",
    )
    add(
        "nul-in-attribute-key",
        geojson_plan(properties={"note\u0000": "x"}),
        "a NUL character in an attribute name",
    )
    add(
        "nan-attribute",
        geojson_plan(properties={"score": math.nan}),
        "an attribute whose value is NaN",
    )
    add(
        "lone-surrogate",
        control.replace(b"Corpus control", b"Corpus \\ud800 control"),
        "an unpaired UTF-16 surrogate escape in a string",
    )
    add(
        "nul-in-feature-id",
        control.replace(b'"id": "BFR1"', b'"id": "BFR\\u00001"'),
        "a NUL character in a feature id",
    )
    deep_properties = '{"a": ' * 500 + "1" + "}" * 500
    add(
        "deep-properties",
        control.replace(b'"feltnavn": "BFR1"', f'"nested": {deep_properties}'.encode()),
        "an attribute nesting objects 500 levels deep",
    )
    add(
        "nul-in-filename",
        control,
        "a well-formed plan whose ?filename= holds a NUL character",
        filename="plan\x00.geojson",
    )
    add("top-level-array", b"[1, 2, 3]", "a JSON array")
    add("not-a-collection", {"type": "Point", "coordinates": [LON, LAT]}, "a bare Point")
    add("type-is-object", {"type": {"a": 1}, "features": []}, "'type' is an object")
    add("features-object", {"type": "FeatureCollection", "features": {}}, "features: {}")
    add("empty-collection", {"type": "FeatureCollection", "features": []}, "no features")
    add("null-geometry", geojson_plan({}) | {"features": [{"type": "Feature"}]}, "no geometry")
    strings = {"type": "Polygon", "coordinates": [[["a", "b"], ["c", "d"]]]}
    add("string-coordinates", geojson_plan(strings), "coordinates are strings")
    short = {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 0.01, LAT]]]}
    add("two-point-ring", geojson_plan(short), "a ring of two points")
    bowtie = [[LON, LAT], [LON + 0.01, LAT + 0.01], [LON + 0.01, LAT], [LON, LAT + 0.01]]
    add(
        "bowtie",
        geojson_plan({"type": "Polygon", "coordinates": [bowtie + [bowtie[0]]]}),
        "a self-intersecting (figure-eight) ring",
    )
    add(
        "properties-array",
        geojson_plan() | {"features": [{"type": "Feature", "properties": [1], "geometry": None}]},
        "properties is an array",
    )
    wrong_crs = geojson_plan(
        {"type": "Polygon", "coordinates": [_utm_ring(468000, 6748000, 200)]},
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
    )
    add("wrong-crs-25833", wrong_crs, "EPSG:25832 coordinates declared as EPSG:25833")
    unknown = geojson_plan(crs={"type": "name", "properties": {"name": "EPSG:99999"}})
    add("unknown-crs", unknown, "an EPSG code that does not exist")
    add(
        "crs-garbage",
        geojson_plan(crs={"type": "name", "properties": {"name": 7}}),
        "a crs member whose name is a number",
    )
    projected = {"type": "Polygon", "coordinates": [_utm_ring(468000, 6748000, 200)]}
    add("projected-without-crs", geojson_plan(projected), "UTM coordinates without crs")
    add("outside-buskerud", geojson_plan(_square(10.75, 59.91)), "an area in Oslo")
    add("polar", geojson_plan(_square(10.0, 89.999, 0.0005)), "an area at the North Pole")
    plan = {"kommunenummer": "0301", "planidentifikasjon": "X", "plantype": 20, "planstatus": 2}
    add("kommune-outside", geojson_plan(plan=plan), "kommunenummer of Oslo")
    plan = {
        "kommunenummer": "3326",
        "planidentifikasjon": "x'; DROP TABLE plan_feature;--",
        "plantype": 20,
        "planstatus": 2,
    }
    add("planid-injection", geojson_plan(plan=plan), "SQL in the plan id")
    ring = _circle_lonlat(LON + 0.01, LAT + 0.005, 0.002, HUGE_VERTICES)
    add(
        "huge-vertex",
        geojson_plan({"type": "Polygon", "coordinates": [ring]}),
        f"one ring of {HUGE_VERTICES} vertices",
    )
    many = geojson_plan()
    many["features"] = many["features"] * 20_001
    add("too-many-features", many, "20,001 features")
    padding = b" " * OVER_BODY_LIMIT
    add("over-size-limit", control[:-1] + padding + b"}", "over 20 MiB")
    add("random-bytes", rng.randbytes(65536), "random bytes named .geojson")


def _utm_ring(x: float, y: float, size: float) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def _circle_lonlat(lon: float, lat: float, radius: float, count: int) -> list[list[float]]:
    ring = [
        [
            round(lon + radius * math.cos(2 * math.pi * i / count), 9),
            round(lat + radius * math.sin(2 * math.pi * i / count), 9),
        ]
        for i in range(count)
    ]
    return ring + [ring[0]]


# --- Plan-GML ------------------------------------------------------------------------------


def _gml(corpus: Corpus, rng: random.Random) -> None:
    send = {"filename": "planforslag.gml", "content_type": "application/gml+xml"}

    def add(name: str, body: bytes | str, note: str, **kwargs: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        corpus.add(f"gml-{name}", "gml", data, note, **{**send, **kwargs})

    control = GML_FIXTURE.read_bytes()
    text = control.decode()
    add("control", control, "the Plan-GML 5.0 test fixture (3326_2026007)", control=True)
    _truncations(corpus, "gml", control, **send)
    root = '<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2">'
    add(
        "xxe-file",
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        f"{root}&x;</gml:FeatureCollection>",
        "an external entity reading /etc/passwd",
    )
    add(
        "xxe-parameter-entity",
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>'
        f"\n{root}</gml:FeatureCollection>",
        "an external parameter entity",
    )
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    add(
        "billion-laughs",
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY lol0 "lol">{entities}]>\n'
        f"{root}&lol9;</gml:FeatureCollection>",
        "nested entity expansion (10^9 'lol')",
    )
    quadratic = "A" * 50_000
    add(
        "quadratic-blowup",
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "{quadratic}">]>\n'
        f"{root}{'&a;' * 5000}</gml:FeatureCollection>",
        "one 50 kB entity used 5,000 times",
    )
    add(
        "external-dtd",
        '<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://127.0.0.1:9/plan.dtd">\n'
        f"{root}</gml:FeatureCollection>",
        "an external DTD (on a closed loopback port, should it ever be fetched)",
    )
    add(
        "xinclude",
        f'<?xml version="1.0"?>\n{root[:-1]} xmlns:xi="http://www.w3.org/2001/XInclude">'
        '<xi:include href="file:///etc/passwd" parse="text"/></gml:FeatureCollection>',
        "an XInclude of /etc/passwd",
    )
    add("not-xml", "<gml:FeatureCollection <<< >>>", "broken markup")
    add("not-gml", "<html><body><p>plan</p></body></html>", "well-formed XML but HTML")
    add(
        "encoding-mismatch",
        text.replace('encoding="utf-8"', 'encoding="utf-16"'),
        "UTF-8 bytes declared as UTF-16",
    )
    add(
        "unknown-encoding",
        text.replace('encoding="utf-8"', 'encoding="x-klingon"'),
        "an encoding Python does not know",
    )
    add(
        "invalid-utf8",
        control.replace("Fjellstølen".encode(), b"Fjellst\xf8len"),
        "a Latin-1 byte in UTF-8 text",
    )
    add("nul-byte", control.replace(b"Fjellst", b"Fjell\x00st"), "a NUL byte in a name")
    add("char-ref-nul", text.replace("Fjellstølen", "Fjell&#0;stølen"), "&#0; in a name")
    add(
        "broken-xlink",
        text.replace('xlink:href="#_', 'xlink:href="#_missing_'),
        "xlinks to ids that are not in the file",
    )
    add(
        "remote-xlink",
        text.replace('xlink:href="#_', 'xlink:href="http://127.0.0.1:9/x.gml#_'),
        "xlinks to another (loopback, closed) server",
    )
    first_poslist = text.index("<gml:posList>") + len("<gml:posList>")
    end = text.index("</gml:posList>", first_poslist)
    add(
        "odd-poslist",
        text[:first_poslist] + "468000 6748000 468200" + text[end:],
        "a posList of three numbers",
    )
    add("text-poslist", text[:first_poslist] + "a b c d e f g h" + text[end:], "a posList of words")
    add(
        "nan-poslist",
        text[:first_poslist] + "NaN NaN 1 2 3 4 NaN NaN" + text[end:],
        "NaN coordinates",
    )
    add("unknown-srs", text.replace("25832", "99999"), "EPSG:99999 everywhere")
    add("wrong-crs-25833", text.replace("25832", "25833"), "zone 32 coordinates as zone 33")
    add("geographic-crs", text.replace("25832", "4258"), "UTM coordinates as lat/lon")
    deep = "<a>" * 100_000 + "</a>" * 100_000
    add(
        "deep-nesting",
        f"{root}<gml:featureMember>{deep}</gml:featureMember></gml:FC>",
        "100,000 nested elements, then a mismatched end tag",
    )
    deep_ok = f"{root}<gml:featureMember>{deep}</gml:featureMember></gml:FeatureCollection>"
    add("deep-nesting-well-formed", deep_ok, "100,000 nested elements in a feature")
    ring = " ".join(f"{x:.3f} {y:.3f}" for x, y in _circle_xy(468100, 6748050, 40, HUGE_VERTICES))
    add(
        "huge-vertex",
        text[:first_poslist] + ring + text[end:],
        f"a posList of {HUGE_VERTICES} positions",
    )
    add("random-bytes", rng.randbytes(65536), "random bytes named .gml")


def _circle_xy(x: float, y: float, radius: float, count: int) -> list[tuple[float, float]]:
    points = [
        (
            x + radius * math.cos(2 * math.pi * i / count),
            y + radius * math.sin(2 * math.pi * i / count),
        )
        for i in range(count)
    ]
    return points + [points[0]]


# --- SOSI ----------------------------------------------------------------------------------


def _sosi(corpus: Corpus, rng: random.Random) -> None:
    send = {"filename": "plan.sos", "content_type": "text/vnd.sosi"}
    control = SOSI_FIXTURE.read_bytes()
    text = control.decode("iso8859_10")

    def add(name: str, body: bytes | str, note: str, **kwargs: Any) -> None:
        data = body.encode("iso8859_10") if isinstance(body, str) else body
        corpus.add(f"sosi-{name}", "sosi", data, note, **{**send, **kwargs})

    add("control", control, "the SOSI 4.5 test fixture (3310_2026001)", control=True)
    _truncations(corpus, "sosi", control, **send)
    add("broken-ref", text.replace("..REF :20", "..REF :99"), "a reference to no object")
    add("ref-to-area", text.replace("..REF :20", "..REF :2"), "an area bounded by an area")
    add("self-ref", text.replace("..REF :20", "..REF :1"), "an area bounded by itself")
    add(
        "bad-ref-syntax",
        text.replace("..REF :20", "..REF :: (( -x"),
        "a REF that is not a reference list",
    )
    add(
        "open-ring",
        text.replace("..REF -12 :15 :16 :18", "..REF -12 :15 :16"),
        "an area whose boundary does not close",
    )
    add("duplicate-serial", text.replace(".KURVE 21:", ".KURVE 20:"), "serial 20 twice")
    add(
        "utf8-declared-latin",
        text.replace("..TEGNSETT ISO8859-10", "..TEGNSETT UTF-8").encode("iso8859_10"),
        "TEGNSETT UTF-8, bytes in ISO 8859-10",
    )
    add("unknown-tegnsett", text.replace("ISO8859-10", "EBCDIC"), "TEGNSETT EBCDIC")
    add(
        "nul-in-name",
        text.replace('"BFR1 Åsbråten"', '"BFR1\x00Åsbråten"'),
        "a NUL byte in an area name",
    )
    add(
        "nul-in-plan-name",
        text.replace("Kommuneplanens arealdel for Hole", "Kommuneplanens\x00arealdel"),
        "a NUL byte in the plan name",
    )
    add("no-header", text[text.index(".FLATE 1:") :], "objects before any .HODE")
    add("header-only", ".HODE\n..TEGNSETT UTF-8\n.SLUTT\n", "a header and nothing else")
    add("bad-koordsys", text.replace("KOORDSYS 22", "KOORDSYS 999"), "KOORDSYS 999")
    add("no-koordsys", text.replace("...KOORDSYS 22\n", ""), "no KOORDSYS")
    add("wrong-crs-23", text.replace("KOORDSYS 22", "KOORDSYS 23"), "zone 32 data as zone 33")
    add("enhet-zero", text.replace("...ENHET 0.01", "...ENHET 0"), "ENHET 0")
    add("enhet-negative", text.replace("...ENHET 0.01", "...ENHET -1e308"), "ENHET -1e308")
    add("enhet-text", text.replace("...ENHET 0.01", "...ENHET abc"), "ENHET abc")
    add("origo-huge", text.replace("6600000 500000", "1e308 1e308"), "ORIGO-NØ 1e308")
    corner = "6000000 7030000 12000"  # a vertex of the plan boundary, KURVE 20
    add("text-coordinates", text.replace(corner, "north east 12000"), "a vertex 'north east'")
    add("nan-coordinates", text.replace(corner, "nan inf 12000"), "a vertex 'nan inf'")
    add("binary-after-header", control[:300] + rng.randbytes(20_000), "random bytes")
    # The plan boundary (KURVE 20) as a closed ring of HUGE_VERTICES points (centimetres).
    ring = [(round(n), round(e)) for e, n in _circle_xy(7015000, 6010000, 9000, HUGE_VERTICES)]
    start, end = text.index(".KURVE 20:"), text.index(".KURVE 21:")
    block = "\n".join(f"{n} {e}" for n, e in ring)
    huge = f"{text[:start]}.KURVE 20:\n..OBJTYPE KpGrense\n..NØ\n{block}\n{text[end:]}"
    add("huge-vertex", huge, f"a boundary curve of {HUGE_VERTICES} points")
    add("random-bytes", rng.randbytes(65536), "random bytes named .sos")


# --- GeoPackage ----------------------------------------------------------------------------

# Hole (3310), EPSG:25832, as the SOSI fixture.
HOLE_X, HOLE_Y = 570000.0, 6660000.0


def plan_frames(crs: str | None = "EPSG:25832") -> dict[str, gpd.GeoDataFrame]:
    """A small Hole plan as one GeoDataFrame per object type."""
    return {
        "KpOmråde": gpd.GeoDataFrame(
            {
                "kommunenummer": ["3310"],
                "planidentifikasjon": ["CORPUSG"],
                "plantype": [20],
                "planstatus": [2],
                "plannavn": ["Corpus GeoPackage"],
            },
            geometry=[box(HOLE_X, HOLE_Y, HOLE_X + 300, HOLE_Y + 200)],
            crs=crs,
        ),
        "KpArealformålOmråde": gpd.GeoDataFrame(
            {"arealformal": [1120, 5100], "arealbruksstatus": [2, 1], "omradenavn": ["A", "B"]},
            geometry=[
                box(HOLE_X, HOLE_Y, HOLE_X + 150, HOLE_Y + 200),
                box(HOLE_X + 150, HOLE_Y, HOLE_X + 300, HOLE_Y + 200),
            ],
            crs=crs,
        ),
    }


def _gpkg_bytes(frames: dict[str, Any], edit: Any = None) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plan.gpkg"
        for layer, frame in frames.items():
            pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
        if edit is not None:
            with sqlite3.connect(path) as connection:
                # GDAL's triggers call spatial SQL functions plain sqlite3 does not have.
                triggers = connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                ).fetchall()
                for (name,) in triggers:
                    connection.execute(f'DROP TRIGGER "{name}"')
                edit(connection)
        return path.read_bytes()


def _geopackage(corpus: Corpus, rng: random.Random) -> None:
    send = {"filename": "plan.gpkg", "content_type": "application/geopackage+sqlite3"}

    def add(name: str, body: bytes, note: str, **kwargs: Any) -> None:
        corpus.add(f"gpkg-{name}", "gpkg", body, note, **{**send, **kwargs})

    control = _gpkg_bytes(plan_frames())
    add("control", control, "a two-layer GeoPackage plan in Hole (3310_CORPUSG)", control=True)
    _truncations(corpus, "gpkg", control, **send)
    add("corrupt", control[:100] + rng.randbytes(len(control) - 100), "header, then noise")
    add("header-only", b"SQLite format 3\x00" + b"\x00" * 200, "an SQLite header alone")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plain.sqlite"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (a TEXT)")
            connection.execute("INSERT INTO notes VALUES ('x')")
        add("plain-sqlite", path.read_bytes(), "an SQLite database that is no GeoPackage")
    table = _gpkg_bytes({"notes": pd.DataFrame({"a": [1]})})
    add("no-geometry-layer", table, "an attribute table only")

    def garble(connection: sqlite3.Connection) -> None:
        connection.execute(
            'UPDATE "KpArealformålOmråde" SET geom = ?', (b"GP\x00\x01" + rng.randbytes(60),)
        )

    add("garbled-geometry", _gpkg_bytes(plan_frames(), garble), "geometry blobs of noise")

    def truncate_blob(connection: sqlite3.Connection) -> None:
        connection.execute('UPDATE "KpArealformålOmråde" SET geom = substr(geom, 1, 30)')

    add("truncated-geometry", _gpkg_bytes(plan_frames(), truncate_blob), "cut geometry blobs")

    def drop_contents(connection: sqlite3.Connection) -> None:
        connection.execute("DELETE FROM gpkg_geometry_columns")

    add("no-geometry-columns", _gpkg_bytes(plan_frames(), drop_contents), "metadata removed")

    def bad_srs(connection: sqlite3.Connection) -> None:
        connection.execute("UPDATE gpkg_geometry_columns SET srs_id = 987654")

    add("undefined-srs", _gpkg_bytes(plan_frames(), bad_srs), "an srs_id that is not defined")
    wrong = plan_frames("EPSG:25833")
    add("wrong-crs-25833", _gpkg_bytes(wrong), "zone 32 coordinates as zone 33")
    add("no-crs", _gpkg_bytes(plan_frames(None)), "no CRS at all")
    mixed = plan_frames()
    mixed["KpOmråde"] = mixed["KpOmråde"].to_crs("EPSG:4258")
    add("mixed-crs", _gpkg_bytes(mixed), "layers in different CRSs")
    empty = {"KpArealformålOmråde": plan_frames()["KpArealformålOmråde"].iloc[0:0]}
    add("empty-layer", _gpkg_bytes(empty), "a layer without features")
    ring = _circle_xy(HOLE_X + 150, HOLE_Y + 100, 60, HUGE_VERTICES)
    frames = plan_frames()
    frames["KpArealformålOmråde"] = gpd.GeoDataFrame(
        {"arealformal": [1120], "arealbruksstatus": [2]},
        geometry=[Polygon(ring)],
        crs="EPSG:25832",
    )
    add("huge-vertex", _gpkg_bytes(frames), f"one polygon of {HUGE_VERTICES} vertices")
    add("random-bytes", rng.randbytes(65536), "random bytes named .gpkg")


# --- zipped Shapefile ----------------------------------------------------------------------


def shapefile_parts(frames: dict[str, gpd.GeoDataFrame] | None = None) -> dict[str, bytes]:
    """The plan as one Shapefile (.shp, .shx, .dbf, .prj, .cpg) with an objtype column."""
    frames = frames or plan_frames()
    rows = []
    for layer, frame in frames.items():
        for record, geometry in zip(
            frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
        ):
            rows.append({"objtype": layer, **record, "geometry": geometry})
    crs = next(iter(frames.values())).crs
    frame = gpd.GeoDataFrame(rows, crs=crs)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plan.shp"
        pyogrio.write_dataframe(frame, path, encoding="UTF-8")
        return {p.name: p.read_bytes() for p in Path(directory).iterdir()}


def zip_bytes(
    files: dict[str, bytes], symlinks: tuple[str, ...] = (), encrypted: tuple[str, ...] = ()
) -> bytes:
    """A zip archive of the files; some members may be marked as symlinks or encrypted."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    body = bytearray(buffer.getvalue())
    # zipfile clears the "encrypted" flag on writing: set bit 0 of the general purpose flags
    # in the member's local header (offset 6) and central directory entry (offset 8).
    for name in encrypted:
        encoded = name.encode()
        local = body.find(b"PK\x03\x04")
        while body[local + 30 : local + 30 + len(encoded)] != encoded:
            local = body.find(b"PK\x03\x04", local + 4)
        central = body.find(b"PK\x01\x02")
        while body[central + 46 : central + 46 + len(encoded)] != encoded:
            central = body.find(b"PK\x01\x02", central + 4)
        body[local + 6] |= 0x1
        body[central + 8] |= 0x1
    return bytes(body)


def _zip(corpus: Corpus, rng: random.Random) -> None:
    send = {"filename": "plan.zip", "content_type": "application/zip"}

    def add(name: str, body: bytes, note: str, **kwargs: Any) -> None:
        corpus.add(f"zip-{name}", "zip", body, note, **{**send, **kwargs})

    parts = shapefile_parts()
    control = zip_bytes(parts)
    add("control", control, "a zipped Shapefile plan in Hole (3310_CORPUSG)", control=True)
    _truncations(corpus, "zip", control, **send)
    add("traversal", zip_bytes(parts | {"../evil.shp": b"x"}), "a '../' member")
    add(
        "deep-traversal",
        zip_bytes(parts | {"a/../../../tmp/evil.shp": b"x"}),
        "'..' inside a member path",
    )
    add("absolute", zip_bytes(parts | {"/etc/evil.shp": b"x"}), "an absolute path")
    add("windows-drive", zip_bytes(parts | {"C:\\evil.shp": b"x"}), "a drive letter")
    link = {"link.shp": b"/etc/passwd"}
    add(
        "symlink",
        zip_bytes(link | {"link.shx": b"", "link.dbf": b""}, ("link.shp",)),
        "a .shp that is a symbolic link",
    )
    add("encrypted", zip_bytes(parts, encrypted=("plan.shp",)), "members flagged encrypted")
    bomb = dict(parts)
    bomb["plan.dbf"] = b"\x00" * 50_000_000
    add("bomb", zip_bytes(bomb), "a 50 MB member packed to ~50 kB")
    add("nested-bomb", zip_bytes({"inner.zip": zip_bytes(bomb)}), "a zip bomb inside a zip")
    add("empty", b"PK\x05\x06" + b"\x00" * 18, "an empty archive")
    add("no-shapefile", zip_bytes({"readme.txt": b"plan"}), "no .shp")
    two = parts | {f"other/{name}": data for name, data in parts.items()}
    add("two-shapefiles", zip_bytes(two), "two .shp")
    add("missing-dbf", zip_bytes({k: v for k, v in parts.items() if k != "plan.dbf"}), "no .dbf")
    add("missing-prj", zip_bytes({k: v for k, v in parts.items() if k != "plan.prj"}), "no .prj")
    garbage = parts | {"plan.shp": rng.randbytes(len(parts["plan.shp"]))}
    add("garbage-shp", zip_bytes(garbage), ".shp of noise")
    cut = parts | {"plan.shp": parts["plan.shp"][:120], "plan.shx": parts["plan.shx"][:60]}
    add("truncated-shp", zip_bytes(cut), "the .shp and .shx cut short")
    add("garbage-dbf", zip_bytes(parts | {"plan.dbf": rng.randbytes(400)}), ".dbf of noise")
    add(
        "local-prj",
        zip_bytes(parts | {"plan.prj": b'LOCAL_CS["site grid"]'}),
        "a .prj of a local grid without EPSG code",
    )
    add(
        "garbage-prj", zip_bytes(parts | {"plan.prj": b"not a CRS at all"}), "a .prj that is no CRS"
    )
    wrong = shapefile_parts(plan_frames("EPSG:25833"))
    add("wrong-crs-25833", zip_bytes(wrong), "zone 32 coordinates as zone 33")
    many = {f"part{i}.txt": b"x" for i in range(150)}
    add("too-many-members", zip_bytes(parts | many), "155 members")
    # plan.dbf first, so the first local and central headers are its own
    dbf_first = {"plan.dbf": b"a" * 100_000} | {k: v for k, v in parts.items() if k != "plan.dbf"}
    lying = bytearray(zip_bytes(dbf_first))
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):
        at = lying.find(marker)
        offset = 22 if marker == b"PK\x03\x04" else 24
        lying[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    add("understated-size", bytes(lying), "a member whose header says 10 bytes")
    frames = plan_frames()
    ring = _circle_xy(HOLE_X + 150, HOLE_Y + 100, 60, HUGE_VERTICES)
    frames["KpArealformålOmråde"] = gpd.GeoDataFrame(
        {"arealformal": [1120], "arealbruksstatus": [2], "omradenavn": ["A"]},
        geometry=[Polygon(ring)],
        crs="EPSG:25832",
    )
    add("huge-vertex", zip_bytes(shapefile_parts(frames)), f"{HUGE_VERTICES} vertices")
    add("random-bytes", b"PK\x03\x04" + rng.randbytes(65536), "a zip signature, then noise")


# --- anything else -------------------------------------------------------------------------


def _other(corpus: Corpus, rng: random.Random) -> None:
    def add(name: str, body: bytes, note: str, **kwargs: Any) -> None:
        corpus.add(f"other-{name}", "other", body, note, **kwargs)

    add("random-bytes", rng.randbytes(65536), "random bytes, no name or type")
    add("random-bytes-octet", rng.randbytes(4096), "", content_type="application/octet-stream")
    add("empty", b"", "an empty body", content_type="application/geo+json")
    add("whitespace", b" \n\t\r\n" * 100, "only whitespace")
    add("bom-only", b"\xef\xbb\xbf", "a UTF-8 byte order mark alone", filename="plan.geojson")
    shp = shapefile_parts()["plan.shp"]
    add("raw-shp", shp, "a .shp without its zip", filename="plan.shp")
    add("pdf", b"%PDF-1.7\n" + rng.randbytes(2000), "a PDF", filename="plan.pdf")
    add("png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(2000), "a PNG", filename="plan.png")
    add("dwg", b"AC1032" + rng.randbytes(2000), "a DWG", filename="plan.dwg")
    add("html-type", b"<p>plan</p>", "text/html", content_type="text/html")
    control = json.dumps(geojson_plan()).encode()
    add(
        "multipart-wrong-field",
        control,
        "a well-formed plan in a form field not named 'file'",
        filename="plan.geojson",
        content_type="application/geo+json",
        multipart="upload",
    )
    add(
        "multipart-random",
        rng.randbytes(8192),
        "random bytes as the form's file",
        filename="plan.bin",
        content_type="application/octet-stream",
        multipart="file",
    )
    add(
        "multipart-truncated-gml",
        GML_FIXTURE.read_bytes()[:3000],
        "half a GML file as the form's file",
        filename="plan.gml",
        content_type="application/gml+xml",
        multipart="file",
    )


if __name__ == "__main__":
    default = ROOT / "bench" / ".data" / "reliability" / "corpus"
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    cases = generate(target)
    print(f"{len(cases)} files in {target}")
    for case in cases:
        size = (target / case.path).stat().st_size
        print(f"  {case.name:40} {size:>10} B  {case.note}")


# --- hostile files (issue 16): code in data, work before limits, values too large ---------


def _view_gpkg(select_sql: str) -> bytes:
    """The control GeoPackage with a view of `select_sql` registered as a feature layer."""

    def register(connection: sqlite3.Connection) -> None:
        connection.execute(f"CREATE VIEW hostile AS {select_sql}")
        connection.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
            "VALUES ('hostile', 'features', 'hostile', 25832)"
        )
        connection.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('hostile', 'geom', 'POLYGON', 25832, 0, 0)"
        )

    return _gpkg_bytes(plan_frames(), register)


def _arc_sosi(arcs: int) -> str:
    """A SOSI plan whose area is bounded by `arcs` half-circle .BUEP curves of 50 km radius."""
    head = SOSI_FIXTURE.read_bytes().decode("iso8859_10")
    head = head[: head.index(".FLATE 1:")]
    refs = " ".join(f":{100 + i}" for i in range(arcs))
    parts = [
        head,
        ".FLATE 1:\n..OBJTYPE KpArealformålOmråde\n..AREALFORMÅL 1120\n"
        "..AREALBRUKSSTATUS 2\n..NASJONALAREALPLANID\n...KOMM 3310\n...PLANID 2026666\n"
        f"..REF {refs}\n..NØ\n6010000 7015000\n",
    ]
    for i in range(arcs):
        n, e = 6010000 + i, 7015000
        parts.append(
            f".BUEP {100 + i}:\n..OBJTYPE KpGrense\n..NØ\n{n} {e}\n{n + 5_000_000} "
            f"{e + 5_000_000}\n{n} {e + 10_000_000}\n"
        )
    parts.append(".SLUTT\n")
    return "".join(parts)


def _hostile(corpus: Corpus, rng: random.Random) -> None:
    gpkg = {"filename": "plan.gpkg", "content_type": "application/geopackage+sqlite3"}
    corpus.add(
        "hostile-gpkg-recursive-view",
        "gpkg",
        _view_gpkg(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT x AS fid, NULL AS geom FROM c"
        ),
        "a view with an endless recursive query registered as a layer",
        **gpkg,
    )
    corpus.add(
        "hostile-gpkg-randomblob-view",
        "gpkg",
        _view_gpkg("SELECT 1 AS fid, randomblob(900000000) AS geom"),
        "a view that allocates 900 MB per row registered as a layer",
        **gpkg,
    )

    def generated_column(connection: sqlite3.Connection) -> None:
        connection.execute(
            'ALTER TABLE "KpArealformålOmråde" ADD COLUMN big BLOB '
            "GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL"
        )

    corpus.add(
        "hostile-gpkg-generated-column",
        "gpkg",
        _gpkg_bytes(plan_frames(), generated_column),
        "a virtual generated column computing 900 MB per row",
        **gpkg,
    )
    corpus.add(
        "hostile-sosi-4000-arcs",
        "sosi",
        _arc_sosi(4000).encode("iso8859_10"),
        "4,000 half-circle arcs of 50 km radius: millions of vertices once linearised",
        filename="plan.sos",
        content_type="text/vnd.sosi",
    )
    # json.dumps cannot write such an integer either: put its digits in by hand.
    text = json.dumps(geojson_plan(properties={"areal": "DIGITS"}))
    oversized = {
        "5000-digit-integer": (
            text.replace('"DIGITS"', "9" * 5000),
            "an integer of 5,000 digits (over Python's int conversion limit)",
        ),
        "1mb-plannavn": (
            json.dumps(geojson_plan(plan={**geojson_plan()["plan"], "plannavn": "x" * 10**6})),
            "a plan name of 1 MB",
        ),
        "200000-keys": (
            json.dumps(geojson_plan(properties={f"k{i}": i for i in range(200_000)})),
            "one feature with 200,000 properties",
        ),
        "15mb-property": (
            json.dumps(geojson_plan(properties={"merknad": "y" * 15_000_000})),
            "one property of 15 MB",
        ),
    }
    for name, (body, note) in oversized.items():
        corpus.add(
            f"hostile-geojson-{name}",
            "geojson",
            body.encode(),
            note,
            filename="plan.geojson",
            content_type="application/geo+json",
        )
