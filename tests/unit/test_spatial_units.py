"""Unit tests of the spatial package (no database)."""

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from spatial.crs import CRS84, CrsRef, parse_crs, parse_output_crs
from spatial.errors import UnsupportedCRSError
from spatial.geometry import RepairRefused, as_multipolygons, repair_polygon, vertex_count
from spatial.messages import english
from spatial.plan_input import parse_code, unstorable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EPSG:25833", CrsRef(25833)),
        ("epsg:25832", CrsRef(25832)),
        ("urn:ogc:def:crs:EPSG::25833", CrsRef(25833)),
        ("urn:ogc:def:crs:EPSG:6.6:4326", CrsRef(4326)),
        ("http://www.opengis.net/def/crs/EPSG/0/25835", CrsRef(25835)),
        ("25832", CrsRef(25832)),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", CRS84),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", CRS84),
        ("EPSG:5972", CrsRef(5972)),  # UTM 32 + NN2000 heights, used by 3D Plan-GML
    ],
)
def test_crs_spellings(text, expected):
    """The usual spellings of EPSG and CRS84 identifiers are understood."""
    assert parse_crs(text) == expected


def test_output_crs_is_limited_to_the_offered_ones():
    """Output CRSs are CRS84, 25832 and 25833; others are refused by name."""
    assert parse_output_crs(None) == ("CRS84", 4326)
    assert parse_output_crs("http://www.opengis.net/def/crs/EPSG/0/25833") == ("EPSG:25833", 25833)
    with pytest.raises(UnsupportedCRSError, match="EPSG:3857"):
        parse_output_crs("EPSG:3857")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1120, 1120),
        ("1120", 1120),
        (" 570 ", 570),
        ("H570", 570),
        ("h570_1", 570),
        (1120.0, 1120),
        ({"kodeverdi": "1200"}, 1200),
        ("BFR", None),
        (True, None),
        (None, None),
        ("H5701_2", 5701),
    ],
)
def test_code_values(value, code):
    """Codes are read from numbers, strings, H-labels and Fiks code objects."""
    assert parse_code(value) == code


def test_repair_keeps_area_of_a_small_overshoot():
    """A 1 m overshoot past the start is repaired with a tiny area change."""
    ring = [(0, 0), (500, 0), (500, 500), (-1, 500), (1, -1), (0, 0)]
    repaired, repair = repair_polygon(Polygon(ring), max_area_change=0.01)
    assert repaired.is_valid
    assert repair.relative_change < 0.01
    assert repaired.area == pytest.approx(250_000, rel=0.01)


def test_repair_refuses_a_bow_tie():
    """Lobes that cancel out in the ring area make the intended shape unclear."""
    with pytest.raises(RepairRefused) as refused:
        repair_polygon(Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)]), 0.01)
    assert "Self-intersection" in refused.value.reason


NUL = "contains a NUL character (\\u0000), which text cannot hold"
SURROGATE = "contains an unpaired UTF-16 surrogate, which is not Unicode text"
NOT_FINITE = "has a number that is not finite (NaN or infinity)"


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"next": value}
    return value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"feltnavn": "BFR1", "arealformal": 1120, "areal": 10.5, "ok": True, "x": None}, None),
        ({"feltnavn": "B\x00FR1"}, NUL),
        ({"felt\x00navn": "BFR1"}, NUL),
        ({"feltnavn": "B\ud800"}, SURROGATE),
        ({"\udfff": 1}, SURROGATE),
        ({"areal": float("nan")}, NOT_FINITE),
        ({"areal": float("-inf"), "navn": "x\x00"}, NUL),  # the walk's order decides
        ({"liste": ["a", {"b": "c\x00"}]}, NUL),
        ({"liste": [1.0, float("inf")]}, NOT_FINITE),
        (nested(32), None),
        (nested(33), "nests attribute values more than 32 levels deep"),
        ("tekst\x00", NUL),
        (None, None),
    ],
)
def test_unstorable_values_are_named_whatever_their_shape(value, reason):
    """Flat attribute dicts take a shortcut; what it finds and misses must match the walk."""
    found = unstorable(value)
    assert (None if found is None else english(found)) == reason
    assert found is None or found.nb != found.en


def test_as_multipolygons_keeps_order_and_equals_one_by_one():
    square, other = box(0, 0, 1, 1), box(5, 5, 7, 6)
    inputs = [square, MultiPolygon([other, box(9, 9, 10, 10)]), other, Polygon()]
    out = as_multipolygons(inputs)
    assert [g.geom_type for g in out] == ["MultiPolygon"] * 4
    assert shapely.to_wkb(out[0]) == shapely.to_wkb(MultiPolygon([square]))
    assert out[1] is inputs[1]
    assert shapely.to_wkb(out[2]) == shapely.to_wkb(MultiPolygon([other]))
    assert as_multipolygons([]) == []
    assert vertex_count(inputs) == 5 + 10 + 5 + 0
    assert vertex_count([]) == 0
