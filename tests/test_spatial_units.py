"""Unit tests of the spatial package (no database)."""

import pytest
from shapely.geometry import Polygon

from spatial.crs import CRS84, CrsRef, parse_crs, parse_output_crs
from spatial.errors import UnsupportedCRSError
from spatial.geometry import RepairRefused, repair_polygon
from spatial.plan_input import parse_code


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
