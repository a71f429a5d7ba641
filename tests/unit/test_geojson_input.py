"""The GeoJSON reader: strict JSON numbers, and geometries read as `shapely.geometry.shape` would.

Polygons and multipolygons are read in bulk from their coordinate arrays; these tests pin
that every geometry member, well-formed or broken, comes out exactly as `shape` reads it
(or with its error).
No database is needed.
"""

import json
import random

import pytest
import shapely
from shapely.geometry import shape

from spatial.errors import MalformedInputError
from spatial.inputs.geojson import read_geojson
from spatial.json_text import loads_exact
from spatial.messages import english

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]

# Geometry members with the quirks the two readers treat differently, and ordinary ones.
GEOMETRIES = {
    "polygon": {"type": "Polygon", "coordinates": [SQUARE]},
    "polygon with hole": {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[1, 1], [2, 1], [2, 2], [1, 1]],
        ],
    },
    "multipolygon": {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE], [[[5, 5], [6, 5], [6, 6], [5, 5]]]],
    },
    "3d": {"type": "Polygon", "coordinates": [[[x, y, 7.5] for x, y in SQUARE]]},
    "mixed 2d and 3d": {
        "type": "Polygon",
        "coordinates": [[[0, 0, 5], [1, 0], [1, 1, 5], [0, 0, 5]]],
    },
    "4 ordinates": {"type": "Polygon", "coordinates": [[[x, y, 1, 2] for x, y in SQUARE]]},
    "open ring": {"type": "Polygon", "coordinates": [SQUARE[:-1]]},
    "three-point ring": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
    "empty polygon": {"type": "Polygon", "coordinates": []},
    "empty ring": {"type": "Polygon", "coordinates": [[]]},
    "empty multipolygon": {"type": "MultiPolygon", "coordinates": []},
    "multipolygon with an empty part": {"type": "MultiPolygon", "coordinates": [[]]},
    "text coordinates": {"type": "Polygon", "coordinates": [[[str(x), str(y)] for x, y in SQUARE]]},
    "boolean coordinate": {
        "type": "Polygon",
        "coordinates": [[[True, 0], *SQUARE[1:-1], [True, 0]]],
    },
    "null coordinate": {"type": "Polygon", "coordinates": [[[None, 0], *SQUARE[1:]]]},
    "one ordinate": {"type": "Polygon", "coordinates": [[[0], *SQUARE[1:-1], [0]]]},
    "too shallow": {"type": "Polygon", "coordinates": SQUARE},
    "multipolygon too shallow": {"type": "MultiPolygon", "coordinates": [SQUARE]},
    "no coordinates": {"type": "Polygon"},
    "null coordinates": {"type": "Polygon", "coordinates": None},
    "object coordinates": {"type": "Polygon", "coordinates": {"0": 1}},
    "huge integer": {
        "type": "Polygon",
        "coordinates": [[[10**20, 0], [1, 0], [1, 1], [10**20, 0]]],
    },
    "17 significant digits": {
        "type": "Polygon",
        "coordinates": [
            [
                [0.12345678901234568, 59.123456789012345],
                [1e-320, 0],
                [1, 1],
                [0.12345678901234568, 59.123456789012345],
            ]
        ],
    },
    "bbox member": {"type": "Polygon", "bbox": [0, 0, 1, 1], "coordinates": [SQUARE]},
    "lower-case type": {"type": "polygon", "coordinates": [SQUARE]},
    "point": {"type": "Point", "coordinates": [1, 2]},
    "line": {"type": "LineString", "coordinates": SQUARE},
    "collection": {
        "type": "GeometryCollection",
        "geometries": [{"type": "Polygon", "coordinates": [SQUARE]}],
    },
    "a feature as geometry": {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    },
}


def collection(geometries: list) -> bytes:
    """A FeatureCollection with one feature per geometry member."""
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def as_shape_reads_it(member: dict) -> tuple:
    """What `shapely.geometry.shape` makes of a geometry member: WKT and Z, or the error."""
    try:
        geometry = shape(member)
    except Exception as exc:
        return ("error", f"geometry cannot be read: {exc}")
    return (shapely.to_wkt(geometry, rounding_precision=-1), geometry.has_z, geometry.geom_type)


NOT_NUMBERS = {"text coordinates", "boolean coordinate"}


@pytest.mark.parametrize("name", GEOMETRIES)
def test_every_geometry_is_read_as_shape_reads_it(name):
    """Alone and among well-formed polygons, each member reads as `shape` reads it."""
    member = GEOMETRIES[name]
    neighbours = [GEOMETRIES["polygon"], member, GEOMETRIES["multipolygon"], None]
    plan = read_geojson(collection(neighbours), 100)
    features = plan.features
    for feature, given in zip(features, neighbours, strict=True):
        if given is None:
            assert feature.geometry is None and feature.geometry_error is None
            continue
        if feature.geometry_error is not None:
            assert feature.geometry_error.nb != feature.geometry_error.en
            got = ("error", english(feature.geometry_error))
        else:
            geometry = feature.geometry
            got = (
                shapely.to_wkt(geometry, rounding_precision=-1),
                geometry.has_z,
                geometry.geom_type,
            )
        if given is member and name in NOT_NUMBERS:
            # shape() reads "0" and true as numbers; GeoJSON positions are numbers only
            # (RFC 7946 §3.1.1), so these are refused naming the feature
            assert got[0] == "error" and "is not a JSON number" in got[1], got
            continue
        assert got == as_shape_reads_it(given), name


def test_bulk_read_keeps_every_coordinate_exactly():
    """Coordinates survive the bulk read bit for bit (shortest round-trip floats)."""
    ring = [[556_123.123456789 + i * 0.1, 6_612_345.987654321 + (i % 7) * 0.3] for i in range(40)]
    ring.append(ring[0])
    member = {"type": "Polygon", "coordinates": [ring]}
    [feature] = read_geojson(collection([member]), 10).features
    assert shapely.get_coordinates(feature.geometry).tolist() == ring


def test_many_members_read_together_keep_their_own_rings_and_parts():
    """Offsets across members: rings, holes and parts land in the member they belong to."""
    rng = random.Random(4)
    members = []
    for n in range(60):
        x, y = rng.uniform(0, 1000), rng.uniform(0, 1000)
        shell = [[x, y], [x + 10, y], [x + 10, y + 10], [x, y + 10], [x, y]]
        hole = [[x + 2, y + 2], [x + 2, y + 4], [x + 4, y + 4], [x + 2, y + 2]]
        polygon = [shell, hole] if n % 3 else [shell]
        if n % 2:
            members.append({"type": "MultiPolygon", "coordinates": [polygon] * (1 + n % 4)})
        else:
            members.append({"type": "Polygon", "coordinates": polygon})
    features = read_geojson(collection(members), 100).features
    for feature, member in zip(features, members, strict=True):
        assert shapely.to_wkb(feature.geometry) == shapely.to_wkb(shape(member))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            b'{"type": "FeatureCollection", "features": [1e400]}',
            "the number '1e400' is out of range",
        ),
        (b'{"type": "FeatureCollection", "features": [-1e309]}', "out of range"),
        (b'{"type": "FeatureCollection", "features": [NaN]}', "'NaN' is not a JSON number"),
        (
            b'{"type": "FeatureCollection", "features": [Infinity]}',
            "'Infinity' is not a JSON number",
        ),
        (b'{"type": "FeatureCollection", "features": [}', "line 1, column 44"),
        (b"[" * 100_000, "not"),
    ],
)
def test_json_that_is_not_strict_json_is_refused(text, fragment):
    """Numbers JSON cannot carry and broken syntax are refused, saying where or what."""
    with pytest.raises(MalformedInputError) as refused:
        read_geojson(text, 100)
    assert fragment in english(refused.value.detail)


def test_escaped_lone_surrogate_in_a_property_is_still_read():
    """What Python's json module accepted before (a lone UTF-16 surrogate escape) still reads."""
    body = (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
        b'"properties": {"name": "x\\ud800"}, "geometry": null}]}'
    )
    [feature] = read_geojson(body, 10).features
    assert feature.properties["name"] == "x\ud800"


def test_integer_beyond_a_double_is_read_as_shape_reads_it():
    """A 401-digit integer coordinate (valid JSON) is a feature error, as `shape` words it."""
    square = json.dumps({"type": "Polygon", "coordinates": [SQUARE]})
    huge = "1" + "0" * 400
    member = square.replace("[1, 1]", f"[{huge}, 1]", 1)
    body = collection([None]).replace(b"null", member.encode())
    [feature] = read_geojson(body, 10).features
    assert feature.geometry is None
    assert ("error", english(feature.geometry_error)) == as_shape_reads_it(json.loads(member))


def test_long_integers_in_properties_are_kept_exactly():
    """Integers of 20 or more digits come through whole (orjson alone would round them)."""
    long_integer = 12345678901234567890123
    body = collection([GEOMETRIES["polygon"]]).replace(
        b'"properties": {}',
        f'"properties": {{"n": {long_integer}, "m": 18446744073709551615}}'.encode(),
    )
    [feature] = read_geojson(body, 10).features
    assert feature.properties == {"n": long_integer, "m": 2**64 - 1}


@pytest.mark.parametrize(
    "text",
    ['{"a": 12345678901234567890123}', '{"a": 1e400}', '{"a": "x\\ud800"}', '[1.5, -2, "æøå"]'],
)
def test_loads_exact_reads_what_python_json_reads(text):
    """Same values as Python's json module, including what orjson refuses or would round."""
    assert loads_exact(text) == json.loads(text)
    assert loads_exact(text.encode()) == json.loads(text)
