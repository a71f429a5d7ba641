"""Reading plan proposals from GeoJSON (RFC 7946, or the 2008 dialect with a `crs` member)."""

import json
import math
from itertools import chain
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from spatial.crs import CRS84, CrsRef, parse_crs, transform_point
from spatial.errors import (
    InvalidInputError,
    MalformedInputError,
    PayloadTooLargeError,
    Problem,
    UnsupportedCRSError,
    summarize,
)
from spatial.geometry_errors import format_point
from spatial.inputs.features import SourcePlanBuilder, cannot_read, check_feature_count
from spatial.json_text import loads_exact
from spatial.messages import Text
from spatial.plan_model import SourceFeature, SourcePlan, UploadBudget

# RFC 8259 §6 lets a parser limit the range of numbers. Python turns longer integer text into
# an int in quadratic time and refuses over 4,300 digits with a ValueError; no plan attribute
# or coordinate needs more than a few dozen digits.
MAX_INTEGER_DIGITS = 1000
# A parsed JSON value takes some 65-95 bytes however few it takes in the file ('"a",' is four),
# an object 200-300: 20 MB of empty objects take 620 MB. Values are counted on the bytes before
# parsing, by the commas, colons and brackets around them, objects three times. A GeoJSON
# position takes three ('[', 'x,', 'y,') and a feature some dozens, so a plan within the vertex
# and feature limits fits, and a parse stays under some 190 MB. (Commas and colons in text
# count too, a small overestimate.)
JSON_VALUES_PER_VERTEX = 3
JSON_VALUES_PER_FEATURE = 40
# A coordinate is a JSON number (RFC 7946 §3.1.1); numpy and shapely would also read the
# strings '٨.٤١', '８', '6_086', ' 1 ' and the booleans true/false as numbers.
_NUMBER_TYPES = frozenset({int, float})
# The longest spelling of a CRS identifier (an http URI of an EPSG code) is under 60 characters.
_MAX_CRS_TEXT = 200


class _NotJsonNumber(ValueError):
    """A number Python's json module accepts but JSON (RFC 8259) and PostgreSQL do not;
    its one argument is a Text saying which."""


def _refuse_constant(name: str) -> float:
    raise _NotJsonNumber(Text(f"'{name}' er ikke et tall i JSON", f"'{name}' is not a JSON number"))


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJsonNumber(
            Text(
                f"tallet '{text[:40]}' er for stort eller for lite",
                f"the number '{text[:40]}' is out of range",
            )
        )
    return value


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise _NotJsonNumber(
            Text(
                nb=f"et heltall med {digits} sifre ('{text[:20]}…') er lengre enn de "
                f"{MAX_INTEGER_DIGITS} sifrene som godtas",
                en=f"an integer of {digits} digits ('{text[:20]}…') is longer than the "
                f"{MAX_INTEGER_DIGITS} digits accepted",
            )
        )
    return int(text)


def read_geojson(body: bytes, max_features: int, budget: UploadBudget | None = None) -> SourcePlan:
    """Parse a GeoJSON FeatureCollection into source features; raise on malformed input."""
    budget = budget or UploadBudget()
    if budget.max_vertices is not None:
        _check_value_count(body, max_features, budget.max_vertices)
    document = _parse_json(body)
    budget.check_time(Text("tolking av GeoJSON-filen", "parsing the GeoJSON"))
    if not isinstance(document, dict) or "type" not in document:
        raise InvalidInputError(
            Text(
                nb="innholdet er ikke et GeoJSON-objekt: en plan sendes som en "
                "FeatureCollection (en samling objekter)",
                en="body is not a GeoJSON object: expected a FeatureCollection",
            )
        )
    if document["type"] != "FeatureCollection":
        kind = str(document["type"])[:60]
        feature = document["type"] == "Feature"
        raise InvalidInputError(
            Text(
                nb=f"filen er av GeoJSON-typen '{kind}', men en plan sendes som en "
                "FeatureCollection (en samling objekter)"
                + ("; legg objektet i en FeatureCollection" if feature else ""),
                en=f"expected a GeoJSON FeatureCollection, got type '{document['type']}'"
                + ("; wrap it in a FeatureCollection" if feature else ""),
            )
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInputError(
            Text(
                nb="FeatureCollection-en mangler listen 'features' med planens objekter",
                en="the FeatureCollection has no 'features' array",
            )
        )
    if not features:
        raise InvalidInputError(
            Text(
                nb="FeatureCollection-en er tom: en plan trenger minst ett område",
                en="the FeatureCollection is empty: a plan needs at least one area",
            )
        )
    check_feature_count(
        len(features), max_features, Text("FeatureCollection-en", "the FeatureCollection")
    )

    crs = _read_crs_member(document.get("crs"))
    plan_attributes = document.get("plan") or {}
    if not isinstance(plan_attributes, dict):
        raise InvalidInputError(
            Text(
                nb="medlemmet 'plan' må være et objekt med planens egenskaper",
                en="the 'plan' member must be an object of plan attributes",
            ),
            [Problem(Text("må være et objekt", "must be an object"), field="plan")],
        )

    problems: list[Problem] = []
    members = [_feature_members(i, f, problems) for i, f in enumerate(features)]
    if problems:
        raise InvalidInputError(summarize(problems), problems)
    builder = SourcePlanBuilder("geojson")
    for source_id, properties in members:
        builder.add(source_id, properties)
    warnings = _read_geometries(builder.features, features, crs)
    return builder.plan(crs, plan_attributes, warnings)


def _check_value_count(body: bytes, max_features: int, max_vertices: int) -> None:
    """Refuse JSON with more values than a plan within the limits needs, before parsing it."""
    limit = JSON_VALUES_PER_VERTEX * max_vertices + JSON_VALUES_PER_FEATURE * max_features
    values = body.count(b",") + body.count(b":") + body.count(b"[") + 3 * body.count(b"{")
    if values > limit:
        raise PayloadTooLargeError(
            Text(
                nb=f"GeoJSON-filen inneholder rundt {values} verdier (lister, objekter og det "
                f"som står i dem); grensen er {limit}, nok til {max_features} objekter og "
                f"{max_vertices} punkter",
                en=f"the GeoJSON holds some {values} values (arrays, objects and the items in "
                f"them); the limit is {limit}, enough for {max_features} features and "
                f"{max_vertices} vertices",
            )
        )


def _parse_json(body: bytes) -> Any:
    """Parse the body as strict JSON (RFC 8259): no NaN or Infinity, no number beyond a double."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(
            Text(
                nb=f"filen er ikke UTF-8-tekst (byte nr. {exc.start + 1} er ugyldig); GeoJSON "
                "skal lagres som UTF-8 (RFC 7946 §11)",
                en=f"body is not UTF-8 text (byte {exc.start}); GeoJSON must be UTF-8 "
                "(RFC 7946 §11)",
            )
        ) from None
    try:
        return loads_exact(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise MalformedInputError(
            Text(
                nb=f"filen er ikke gyldig JSON: feil på linje {exc.lineno}, tegn {exc.colno} "
                f"({_json_error_nb(exc.msg)})",
                en=f"body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            )
        ) from None
    except _NotJsonNumber as exc:
        reason = exc.args[0]
        raise MalformedInputError(
            Text(f"filen er ikke gyldig JSON: {reason.nb}", f"body is not valid JSON: {reason.en}")
        ) from None
    except RecursionError:
        raise MalformedInputError(
            Text(
                nb="filen kan ikke brukes som JSON: lister eller objekter ligger for dypt inne "
                "i hverandre",
                en="body is not usable JSON: arrays or objects nest too deeply",
            )
        ) from None


# The messages of Python's JSON decoder, in bokmål (what a planner sees of a broken file).
_JSON_ERRORS_NB = {
    "Expecting value": "her mangler en verdi",
    "Expecting property name enclosed in double quotes": "her skulle det stått et "
    "egenskapsnavn i doble anførselstegn",
    "Expecting ':' delimiter": "her mangler et kolon (:)",
    "Expecting ',' delimiter": "her mangler et komma (,)",
    "Extra data": "det står mer tekst etter slutten av JSON-innholdet",
    "Unterminated string starting at": "en tekst mangler avsluttende anførselstegn",
    "Invalid control character at": "en tekst inneholder et ugyldig kontrolltegn",
    "Invalid \\escape": "en tekst har en ugyldig \\-sekvens",
    "Invalid \\uXXXX escape": "en tekst har en ugyldig \\u-sekvens",
}


def _json_error_nb(message: str) -> str:
    """Python's JSON error message in bokmål (the original quoted if it is not known)."""
    return _JSON_ERRORS_NB.get(message, f"melding fra JSON-leseren: «{message}»")


def _read_crs_member(member: Any) -> CrsRef:
    """Read the legacy GeoJSON 2008 `crs` member; RFC 7946 data have none and are CRS84."""
    if member is None:
        return CRS84
    properties = member.get("properties") if isinstance(member, dict) else None
    example = '{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}}'
    if not isinstance(properties, dict):
        raise UnsupportedCRSError(
            Text(
                nb=f"medlemmet 'crs' (koordinatsystemet) må se slik ut: {example}",
                en=f"the 'crs' member must look like {example}",
            ),
            [Problem(Text("crs-medlemmet er feil bygd", "malformed crs member"), field="crs")],
        )
    if member.get("type") == "name" and isinstance(properties.get("name"), str):
        return parse_crs(_bounded_crs_text(properties["name"]), what=_CRS_MEMBER)
    if member.get("type") == "EPSG" and properties.get("code") is not None:
        return parse_crs(_bounded_crs_text(f"EPSG:{properties['code']}"), what=_CRS_MEMBER)
    kind = str(member.get("type"))[:60]
    raise UnsupportedCRSError(
        Text(
            nb=f"medlemmet 'crs' av typen '{kind}' støttes ikke; oppgi koordinatsystemet med "
            "en EPSG-kode (typen 'name')",
            en=f"the 'crs' member of type '{member.get('type')}' is not supported; "
            "name the CRS with an EPSG code (type 'name')",
        ),
        [Problem(Text("crs-typen støttes ikke", "unsupported crs member type"), field="crs")],
    )


_CRS_MEMBER = Text("crs-medlemmet", "crs member")


def _bounded_crs_text(text: str) -> str:
    """A CRS name as given, unless it is far longer than any CRS identifier is (refused)."""
    if len(text) > _MAX_CRS_TEXT:
        raise UnsupportedCRSError(
            Text(
                nb=f"crs-medlemmet oppgir '{text[:60]}…' ({len(text)} tegn), som ikke er et "
                "koordinatsystem vi kjenner; bruk en EPSG-kode, f.eks. 'EPSG:25832'",
                en=f"the crs member names '{text[:60]}…' ({len(text)} characters), which is "
                "not a CRS we know; use an EPSG code such as 'EPSG:25832'",
            ),
            [Problem(Text("ukjent koordinatsystem", "unknown CRS"), field="crs")],
        )
    return text


def _feature_members(
    position: int, feature: Any, problems: list[Problem]
) -> tuple[str | None, dict[str, Any]]:
    """A Feature's id and properties; what is wrong with it goes to `problems`."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(
            Problem(
                Text(
                    "er ikke et GeoJSON-objekt av typen Feature", "is not a GeoJSON Feature object"
                ),
                feature=position,
            )
        )
        return None, {}
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        problems.append(
            Problem(
                Text(
                    "'properties' (egenskapene) må være et objekt eller null",
                    "'properties' must be an object or null",
                ),
                feature=position,
            )
        )
        return None, {}
    source_id = feature.get("id")
    return (None if source_id is None else str(source_id)), properties


def _read_geometries(
    source_features: list[SourceFeature], features: list[Any], crs: CrsRef = CRS84
) -> list[Problem]:
    """Read each feature's geometry member into `geometry`, or say why in `geometry_error`;
    return warnings for what was read with a change (an open ring, closed).

    Well-formed polygons and multipolygons, nearly every plan area, are built from their
    coordinate arrays in one call per type (`_from_coordinate_arrays`). Everything else is
    read by `shapely.geometry.shape` itself, which closes open rings and words the errors.
    """
    members = [features[f.position].get("geometry") for f in source_features]
    kept = _from_coordinate_arrays(members)
    warnings: list[Problem] = []
    for i, (feature, member) in enumerate(zip(source_features, members, strict=True)):
        if member is None:
            continue
        if i in kept:
            feature.geometry = kept[i]
            continue
        if isinstance(member, dict) and (bad := _not_a_number(member.get("coordinates"))):
            feature.geometry_error = Text(
                nb=f"koordinaten {bad} er ikke et tall; koordinater i GeoJSON skal være tall "
                "(RFC 7946 §3.1.1)",
                en=f"coordinate {bad} is not a JSON number; GeoJSON positions are numbers "
                "(RFC 7946 §3.1.1)",
            )
            continue
        try:
            feature.geometry = shape(member)
            if (open_ring := _open_ring(member)) is not None:
                warnings.append(_closed_ring_note(feature, open_ring, crs))
        except Exception as exc:  # shapely raises several types for broken coordinates
            short = _short_ring(member)
            if short is not None:
                count, point = short
                feature.geometry_error = Text(
                    nb=f"en grense har bare {count} punkter (ved {format_point(point, crs)}); "
                    "en flate trenger minst fire, der det første og det siste er like",
                    en=cannot_read(exc).en,
                )
                feature.geometry_error_location = _crs84(point, crs)
                continue
            kind = str(member.get("type"))[:40] if isinstance(member, dict) else "?"
            feature.geometry_error = Text(
                nb=f"geometrien kan ikke leses: 'coordinates' er ikke bygd opp slik GeoJSON "
                f"krever for typen '{kind}' (RFC 7946 §3.1; melding fra programvaren: «{exc}»)",
                en=cannot_read(exc).en,
            )
    return warnings


def _open_ring(member: Any) -> tuple[float, float] | None:
    """The first point of a polygon ring whose last position is not its first, or None."""
    if not isinstance(member, dict) or member.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    polygons = member.get("coordinates")
    if member["type"] == "Polygon":
        polygons = [polygons]
    for polygon in polygons if isinstance(polygons, list) else []:
        for ring in polygon if isinstance(polygon, list) else []:
            if not isinstance(ring, list) or len(ring) < 3:
                continue
            first, last = ring[0], ring[-1]
            if not (isinstance(first, list) and isinstance(last, list) and len(first) >= 2):
                continue
            if first[:2] != last[:2] and all(type(v) in _NUMBER_TYPES for v in first[:2]):
                return float(first[0]), float(first[1])
    return None


def _closed_ring_note(feature: SourceFeature, point: tuple[float, float], crs: CrsRef) -> Problem:
    # RFC 7946 §3.1.6: a ring's first and last positions are the same. A file that lost its
    # last position is read closed, and the upload report says so.
    return Problem(
        Text(
            nb=f"en grense slutter ikke der den begynner (ved {format_point(point, crs)}); "
            "den er lukket med en rett linje tilbake til første punkt – kontroller at ingen "
            "punkter mangler",
            en=f"a ring does not end where it starts (at {format_point(point, crs)}); it was "
            "closed with a straight line back to its first position (RFC 7946 §3.1.6)",
        ),
        feature=feature.position,
        feature_id=feature.source_id,
        location=_crs84(point, crs),
    )


def _short_ring(member: Any) -> tuple[int, tuple[float, float]] | None:
    """The number of positions and the first point of a polygon ring with fewer than four
    positions (RFC 7946 §3.1.6), or None."""
    if not isinstance(member, dict) or member.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    polygons = member.get("coordinates")
    if member["type"] == "Polygon":
        polygons = [polygons]
    for polygon in polygons if isinstance(polygons, list) else []:
        for ring in polygon if isinstance(polygon, list) else []:
            if not isinstance(ring, list) or not 0 < len(ring) < 4:
                continue
            first = ring[0]
            if (
                isinstance(first, list)
                and len(first) >= 2
                and all(type(v) in _NUMBER_TYPES for v in first[:2])
            ):
                return len(ring), (float(first[0]), float(first[1]))
    return None


def _crs84(point: tuple[float, float], crs: CrsRef) -> tuple[float, float] | None:
    """A point of the file in CRS84 (longitude, latitude), for the map; None if it has none."""
    try:
        lon, lat = transform_point(point, crs, CRS84)
    except Exception:  # noqa: BLE001 - PROJ refuses points outside a CRS's area: no marker
        return None
    return (lon, lat) if abs(lon) <= 180 and abs(lat) <= 90 else None  # False for NaN


def _from_coordinate_arrays(members: list[Any]) -> dict[int, BaseGeometry]:
    """Build the well-formed Polygon and MultiPolygon members from their parsed coordinates.

    Every ring of such a member has four or more positions and is closed, every part has a
    shell, and all positions of a type convert to one 2D or 3D float array as `shape`
    converts them (numpy's rules). Those members, nearly all of a plan, become geometries
    in one `shapely.from_ragged_array` call per type. The rest are left to `shape` (all of
    a type when its positions do not make one array, e.g. 2D and 3D members mixed).
    """
    kept: dict[int, BaseGeometry] = {}
    for kind, type_id in (
        ("Polygon", shapely.GeometryType.POLYGON),
        ("MultiPolygon", shapely.GeometryType.MULTIPOLYGON),
    ):
        positions: list[int] = []
        coordinates: list[Any] = []
        ring_ends, part_ends, member_ends = [0], [0], [0]
        for i, member in enumerate(members):
            if not isinstance(member, dict) or member.get("type") != kind:
                continue
            polygons = _well_formed_polygons(member.get("coordinates"), kind == "MultiPolygon")
            if polygons is None:
                continue
            positions.append(i)
            for polygon in polygons:
                for ring in polygon:
                    coordinates.extend(ring)
                    ring_ends.append(len(coordinates))
                part_ends.append(len(ring_ends) - 1)
            member_ends.append(len(part_ends) - 1)
        if not positions:
            continue
        # One pass in C over all values; only numbers go on (the others are read, and
        # refused naming their feature, one by one below).
        try:
            if not set(map(type, chain.from_iterable(coordinates))) <= _NUMBER_TYPES:
                continue
        except TypeError:  # a position that is not an array
            continue
        try:
            array = np.array(coordinates, dtype=float)
        except (ValueError, TypeError, OverflowError):
            continue  # mixed 2D and 3D, or positions that are not numbers
        if array.ndim != 2 or array.shape[1] not in (2, 3) or not np.isfinite(array).all():
            continue
        offsets = [np.array(ring_ends), np.array(part_ends)]
        if type_id == shapely.GeometryType.MULTIPOLYGON:
            offsets.append(np.array(member_ends))
        geometries = shapely.from_ragged_array(type_id, array, tuple(offsets))
        kept.update(zip(positions, geometries, strict=True))
    return kept


def _not_a_number(coordinates: Any, depth: int = 0) -> str | None:
    """The first value of a coordinates member that is neither an array nor a JSON number,
    as JSON text, or None."""
    if isinstance(coordinates, list):
        if depth > 4:  # deeper than a MultiPolygon's positions: shape() says what is wrong
            return None
        for item in coordinates:
            if bad := _not_a_number(item, depth + 1):
                return bad
        return None
    if depth == 0 or coordinates is None or type(coordinates) in _NUMBER_TYPES:
        return None  # not an array at all: shape() says what is wrong
    return json.dumps(coordinates, ensure_ascii=False)[:40]


def _well_formed_polygons(coordinates: Any, multi: bool) -> list[list] | None:
    """The polygons of a member's coordinates if every ring is closed and has four or
    more positions and no part is empty; otherwise None."""
    polygons = coordinates if multi else [coordinates]
    if not isinstance(polygons, list) or not polygons:
        return None
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return None
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                return None
    return polygons
