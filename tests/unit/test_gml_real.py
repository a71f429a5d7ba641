"""Plan-GML as real writers produce it (issue 18, items 4-7): CRS spellings and where the CRS
is given, positions without srsDimension, ring members in reverse, truncated files, solids.

The documents follow the layout of DiBK's Plan-GML validator test data
(github.com/Arkitektum/DiBK.RuleValidator.Rules.Gml, TestData/*.gml): a gml:FeatureCollection
with a gml:boundedBy envelope, an Arealplan object and RpArealformålOmråde areas with
identifikasjon; the WFS variants follow WFS 1.1 (GeoServer) and WFS 2.0 answers.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon

from spatial.crs import CrsRef, parse_crs, parse_crs_name, parse_output_crs
from spatial.errors import MalformedInputError, UnsupportedCRSError
from spatial.inputs.gml import read_gml
from spatial.messages import english


@contextmanager
def raises_english(error: type[Exception], pattern: str) -> Iterator[pytest.ExceptionInfo]:
    """pytest.raises, matching `pattern` in the English of the error's detail."""
    with pytest.raises(error) as caught:
        yield caught
    detail = english(caught.value.detail)
    assert re.search(pattern, detail), detail


APP = "http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0"
NAMESPACES = (
    'xmlns:gml="http://www.opengis.net/gml/3.2" '
    f'xmlns:app="{APP}" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:wfs="http://www.opengis.net/wfs/2.0"'
)
# An L-shaped area with a square courtyard near Hemsedal (EPSG:25832), and a five-sided one.
L_SHAPE = [
    (480000.0, 6740000.0),
    (480120.0, 6740000.0),
    (480120.0, 6740040.0),
    (480050.0, 6740040.0),
    (480050.0, 6740090.0),
    (480000.0, 6740090.0),
    (480000.0, 6740000.0),
]
COURTYARD = [
    (480010.0, 6740010.0),
    (480010.0, 6740030.0),
    (480030.0, 6740030.0),
    (480030.0, 6740010.0),
    (480010.0, 6740010.0),
]
# Six positions: 12 numbers in 2D, 18 in 3D; both counts are divisible by 2 and 3.
PENTAGON = [
    (481000.0, 6741000.0),
    (481080.0, 6741000.0),
    (481100.0, 6741060.0),
    (481040.0, 6741100.0),
    (480990.0, 6741050.0),
    (481000.0, 6741000.0),
]
L_AREA = Polygon(L_SHAPE, [COURTYARD]).area
PENTAGON_AREA = Polygon(PENTAGON).area


def pos_list(coords: list[tuple[float, float]], dimension: int = 2) -> str:
    height = [] if dimension == 2 else [612.5]
    return " ".join(" ".join(f"{v:.2f}" for v in (*c, *height)) for c in coords)


def polygon(coords, holes=(), srs: str = "", dimension: int = 2, list_attrs: str = "") -> str:
    """A gml:Polygon with LinearRings; `srs` is the attribute text on the polygon."""
    interiors = "".join(
        f"<gml:interior><gml:LinearRing><gml:posList{list_attrs}>{pos_list(h, dimension)}"
        "</gml:posList></gml:LinearRing></gml:interior>"
        for h in holes
    )
    return (
        f'<gml:Polygon gml:id="p-{len(coords)}"{srs}><gml:exterior><gml:LinearRing>'
        f"<gml:posList{list_attrs}>{pos_list(coords, dimension)}</gml:posList>"
        f"</gml:LinearRing></gml:exterior>{interiors}</gml:Polygon>"
    )


def area(fid: str, geometry: str, bounded: str = "") -> str:
    return f"""<app:RpArealformålOmråde gml:id="{fid}">{bounded}
      <app:identifikasjon><app:Identifikasjon><app:lokalId>{fid}-lokal</app:lokalId>
        <app:navnerom>http://data.geonorge.no/3326/Reguleringsplaner/so</app:navnerom>
      </app:Identifikasjon></app:identifikasjon>
      <app:område>{geometry}</app:område>
      <app:arealformål>1120</app:arealformål>
      <app:feltnavn>BFR{fid[-1]}</app:feltnavn>
    </app:RpArealformålOmråde>"""


PLAN = """<app:Arealplan gml:id="plan-1">
      <app:kommunenummer>3326</app:kommunenummer>
      <app:planidentifikasjon>2026007</app:planidentifikasjon>
      <app:plantype>35</app:plantype>
    </app:Arealplan>"""


def envelope(srs: str, corner_dimension: int = 2, dimension_attr: str = "") -> str:
    extra = " 600" if corner_dimension == 3 else ""
    return (
        f'<gml:Envelope srsName="{srs}"{dimension_attr}>'
        f"<gml:lowerCorner>480000 6740000{extra}</gml:lowerCorner>"
        f"<gml:upperCorner>481100 6741100{extra}</gml:upperCorner></gml:Envelope>"
    )


def collection(members: list[str], bounded: str = "", attrs: str = "") -> bytes:
    body = "".join(f"<gml:featureMember>{m}</gml:featureMember>" for m in members)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<gml:FeatureCollection {NAMESPACES}{attrs}>'
        f"{bounded}{body}</gml:FeatureCollection>"
    ).encode()


def two_areas(srs: str = "", dimension: int = 2, list_attrs: str = "") -> list[str]:
    return [
        PLAN,
        area("a1", polygon(L_SHAPE, [COURTYARD], srs, dimension, list_attrs)),
        area("a2", polygon(PENTAGON, (), srs, dimension, list_attrs)),
    ]


def areas_of(body: bytes) -> dict[str, float]:
    plan = read_gml(body, 100)
    for feature in plan.features:
        assert feature.geometry_error is None, feature.geometry_error
    return {f.source_id: f.geometry.area for f in plan.features}


def assert_two_areas(body: bytes, epsg: int) -> None:
    plan = read_gml(body, 100)
    assert plan.crs == CrsRef(epsg)
    areas = areas_of(body)
    assert areas["a1"] == pytest.approx(L_AREA, rel=1e-12)
    assert areas["a2"] == pytest.approx(PENTAGON_AREA, rel=1e-12)
    assert plan.plan_attributes["kommunenummer"] == "3326"


# --- CRS spellings (OGC 07-092r3 URNs, OGC 09-048r5 URIs) -------------------------------------


@pytest.mark.parametrize(
    ("text", "epsg", "dimension"),
    [
        ("urn:x-ogc:def:crs:EPSG:25832", 25832, 2),  # GeoServer, WFS 1.1
        ("urn:x-ogc:def:crs:EPSG:6.11.2:25833", 25833, 2),
        ("urn:ogc:def:crs:EPSG:25832", 25832, 2),  # version field left out
        ("URN:OGC:DEF:CRS:EPSG::25832", 25832, 2),
        ("http://www.opengis.net/gml/srs/epsg.xml#25832", 25832, 2),
        ("https://www.opengis.net/def/crs/EPSG/9.9.1/25833", 25833, 2),
        ("EPSG:5972", 5972, 3),
        ("urn:ogc:def:crs:EPSG::5973", 5973, 3),
        ("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5941", 25832, 3),
        ("urn:ogc:def:crs,crs:EPSG:6.3:5941,crs:EPSG:6.3:25833", 25833, 3),
        (
            "http://www.opengis.net/def/crs-compound?"
            "1=http://www.opengis.net/def/crs/EPSG/0/25832&2=http://www.opengis.net/def/crs/EPSG/0/5941",
            25832,
            3,
        ),
        ("urn:x-ogc:def:crs:OGC:1.3:CRS84", None, 2),
    ],
)
def test_crs_identifier_forms(text, epsg, dimension):
    name = parse_crs_name(text)
    assert (name.ref, name.dimension) == (CrsRef(epsg), dimension)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::25833", "exactly one 2D horizontal part"),
        ("urn:ogc:def:crs,crs:EPSG::5972,crs:EPSG::5941", "exactly one 2D horizontal part"),
        ("urn:ogc:def:crs,crs:EPSG::5941", "not a CRS we know"),
        ("urn:ogc:def:crs,crs:EPSG::25832,crs:FOO::1", "not a CRS we know"),
        ("urn:ogc:def:crs:EPSG::5941", "not a 2D map projection"),
        ("urn:ogc:def:crs:EPSG::99999", "does not exist"),
        ("urn:ogc:def:crs:EPSG::25832" + " " * 500, "characters"),
    ],
)
def test_crs_identifier_refusals(text, message):
    with raises_english(UnsupportedCRSError, message):
        parse_crs_name(text)


def test_single_crs_parsers_take_no_compound():
    """A compound is a data file's business: a crs parameter names one CRS."""
    assert parse_crs("urn:x-ogc:def:crs:EPSG:25833") == CrsRef(25833)
    with pytest.raises(UnsupportedCRSError):
        parse_crs("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5941")
    with pytest.raises(UnsupportedCRSError):
        parse_output_crs("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5941")


@pytest.mark.parametrize(
    ("srs", "epsg"),
    [
        ("urn:x-ogc:def:crs:EPSG:25832", 25832),
        ("urn:ogc:def:crs,crs:EPSG::25833,crs:EPSG::5941", 25833),
        ("http://www.opengis.net/gml/srs/epsg.xml#25832", 25832),
    ],
)
def test_gml_srs_name_forms_on_geometries(srs, epsg):
    dimension = 3 if "," in srs else 2
    assert_two_areas(collection(two_areas(f' srsName="{srs}"', dimension)), epsg)


# --- positions without srsDimension -----------------------------------------------------------


@pytest.mark.parametrize("epsg", [5972, 5973])
@pytest.mark.parametrize("dimension", [2, 3])
def test_compound_crs_lists_without_srs_dimension(epsg, dimension):
    """EPSG:5972/5973 with 2D or 3D lists and no srsDimension anywhere: the PENTAGON lists
    (12 or 18 numbers) fit both; the ring must close, which only one reading does."""
    srs = f' srsName="http://www.opengis.net/def/crs/EPSG/0/{epsg}"'
    assert_two_areas(collection(two_areas(srs, dimension)), epsg)


@pytest.mark.parametrize("dimension", [2, 3])
def test_compound_crs_curve_members_take_the_files_dimension(dimension):
    """Ring members of four positions (8 numbers in 2D, 12 in 3D) and three (6 or 9): a list
    that fits both readings takes the file's dimension, which the other list and the envelope
    corners tell."""
    ring = PENTAGON
    first, second = ring[:4], ring[3:]
    members = "".join(
        "<gml:curveMember><gml:LineString>"
        f"<gml:posList>{pos_list(part, dimension)}</gml:posList>"
        "</gml:LineString></gml:curveMember>"
        for part in (first, second)
    )
    geometry = (
        '<gml:Polygon srsName="EPSG:5972"><gml:exterior><gml:Ring>'
        f"{members}</gml:Ring></gml:exterior></gml:Polygon>"
    )
    body = collection(
        [PLAN, area("a2", geometry)],
        f"<gml:boundedBy>{envelope('EPSG:5972', dimension)}</gml:boundedBy>",
    )
    assert areas_of(body)["a2"] == pytest.approx(PENTAGON_AREA, rel=1e-12)


def test_a_3d_list_in_a_2d_crs_is_read_as_3d():
    """A list whose length only 3 divides (21 numbers) is 3D whatever the CRS says."""
    body = collection([PLAN, area("a1", polygon(L_SHAPE, (), ' srsName="EPSG:25832"', 3))])
    assert areas_of(body)["a1"] == pytest.approx(Polygon(L_SHAPE).area, rel=1e-12)


def test_explicit_srs_dimension_still_binds():
    body = collection(
        [PLAN, area("a1", polygon(L_SHAPE, (), ' srsName="EPSG:5972" srsDimension="3"', 2))]
    )
    feature = read_gml(body, 100).features[0]
    assert "not a multiple of its dimension 3" in english(feature.geometry_error)


def test_list_that_is_neither_2d_nor_3d():
    body = collection([PLAN, area("a1", polygon(L_SHAPE, (), ' srsName="EPSG:5972"', 2))]).replace(
        b" 6740000.00</gml:posList>",
        b"</gml:posList>",
        1,  # 13 numbers
    )
    feature = read_gml(body, 100).features[0]
    assert "neither 2D nor 3D" in english(feature.geometry_error)


# --- where the CRS is given -------------------------------------------------------------------


def test_crs_on_the_collection_envelope_only():
    bounded = f"<gml:boundedBy>{envelope('urn:ogc:def:crs:EPSG::25832')}</gml:boundedBy>"
    assert_two_areas(collection(two_areas(), bounded), 25832)


def test_crs_on_the_collection_element_only():
    attrs = ' srsName="urn:x-ogc:def:crs:EPSG:25833"'
    assert_two_areas(collection(two_areas(), attrs=attrs), 25833)


def test_crs_on_each_features_envelope_only():
    bounded = f"<gml:boundedBy>{envelope('EPSG:5972', 2)}</gml:boundedBy>"
    members = [
        PLAN,
        area("a1", polygon(L_SHAPE, [COURTYARD]), bounded),
        area("a2", polygon(PENTAGON), bounded),
    ]
    assert_two_areas(collection(members), 5972)


def wfs2(members: list[str], outer_bounded: str = "", inner_bounded: str = "") -> bytes:
    """A WFS 2.0 answer: wfs:boundedBy and wfs:member, the features in a nested collection as
    GeoServer writes them for several queries."""
    inner = "".join(f"<wfs:member>{m}</wfs:member>" for m in members)
    return (
        f'<?xml version="1.0"?>\n<wfs:FeatureCollection {NAMESPACES} numberMatched="3" '
        f'numberReturned="3">{outer_bounded}<wfs:member><wfs:FeatureCollection>{inner_bounded}'
        f"{inner}</wfs:FeatureCollection></wfs:member></wfs:FeatureCollection>"
    ).encode()


def test_crs_on_the_wfs_collection_envelope_only():
    bounded = f"<wfs:boundedBy>{envelope('urn:ogc:def:crs:EPSG::25832')}</wfs:boundedBy>"
    assert_two_areas(wfs2(two_areas(), outer_bounded=bounded), 25832)


def test_crs_on_the_nested_wfs_member_collection_only():
    bounded = f"<wfs:boundedBy>{envelope('urn:ogc:def:crs:EPSG::5972', 3)}</wfs:boundedBy>"
    assert_two_areas(wfs2(two_areas(dimension=3), inner_bounded=bounded), 5972)


def test_wfs_1_1_geoserver_output():
    """GeoServer's WFS 1.1 GML 3.1 answer: gml:featureMembers, urn:x-ogc srsName."""
    members = "".join(two_areas(' srsName="urn:x-ogc:def:crs:EPSG:25832"'))
    body = (
        '<?xml version="1.0"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" '
        'xmlns:gml="http://www.opengis.net/gml" '
        f'xmlns:app="{APP}"><gml:featureMembers>{members}</gml:featureMembers>'
        "</wfs:FeatureCollection>"
    ).encode()
    assert_two_areas(body, 25832)


def test_no_crs_anywhere_is_still_refused():
    with raises_english(UnsupportedCRSError, "names no CRS"):
        read_gml(collection(two_areas()), 100)


# --- ring members in reverse ------------------------------------------------------------------


def ring_of_curves(parts: list[list[tuple[float, float]]], orientation: str = "") -> bytes:
    """A Surface whose ring refers to shared boundary curves (RpFormålGrense) by xlink."""
    curves = [
        f"""<app:RpFormålGrense gml:id="g{i}"><app:grense>
        <gml:LineString gml:id="c{i}" srsName="EPSG:25832">
        <gml:posList>{pos_list(part)}</gml:posList></gml:LineString></app:grense>
        </app:RpFormålGrense>"""
        for i, part in enumerate(parts)
    ]
    members = "".join(
        f'<gml:curveMember xlink:href="#c{i}"/>'
        if i != 1 or not orientation
        else f'<gml:curveMember><gml:OrientableCurve orientation="{orientation}">'
        f'<gml:baseCurve xlink:href="#c{i}"/></gml:OrientableCurve></gml:curveMember>'
        for i in range(len(parts))
    )
    surface = (
        '<gml:Surface srsName="EPSG:25832"><gml:patches><gml:PolygonPatch><gml:exterior>'
        f"<gml:Ring>{members}</gml:Ring></gml:exterior></gml:PolygonPatch></gml:patches>"
        "</gml:Surface>"
    )
    return collection([PLAN, area("a1", surface), *curves])


L_PARTS = [L_SHAPE[0:3], L_SHAPE[2:5], L_SHAPE[4:7]]


@pytest.mark.parametrize(
    "parts",
    [
        L_PARTS,
        [L_PARTS[0], L_PARTS[1][::-1], L_PARTS[2]],  # the middle one given end first
        [L_PARTS[0][::-1], L_PARTS[1], L_PARTS[2]],  # the first
        [L_PARTS[0], L_PARTS[1], L_PARTS[2][::-1]],  # the last
        [L_PARTS[0][::-1], L_PARTS[1][::-1], L_PARTS[2][::-1]],  # all: the ring runs back
    ],
)
def test_ring_members_in_reverse_are_turned(parts):
    geometry = read_gml(ring_of_curves(parts), 100).features[0].geometry
    assert geometry.area == pytest.approx(Polygon(L_SHAPE).area, rel=1e-12)
    assert shapely.equals(geometry, Polygon(L_SHAPE))


def test_orientable_curve_still_turns_its_base():
    parts = [L_PARTS[0], L_PARTS[1][::-1], L_PARTS[2]]
    geometry = read_gml(ring_of_curves(parts, "-"), 100).features[0].geometry
    assert shapely.equals(geometry, Polygon(L_SHAPE))


def test_members_that_meet_at_neither_end_still_say_so():
    gap = [L_PARTS[0], [(p[0] + 5, p[1]) for p in L_PARTS[1]], L_PARTS[2]]
    feature = read_gml(ring_of_curves(gap), 100).features[0]
    assert feature.geometry is None
    assert "curve member 2 does not connect" in english(feature.geometry_error)


# --- truncated files --------------------------------------------------------------------------


def full_plan() -> bytes:
    bounded = f"<gml:boundedBy>{envelope('urn:ogc:def:crs:EPSG::25832')}</gml:boundedBy>"
    return collection(two_areas(), bounded)


@pytest.mark.parametrize(
    ("cut_after", "innermost"),
    [
        (b"</gml:featureMember>", "FeatureCollection"),  # after a complete feature
        (b"<app:feltnavn>BF", "feltnavn"),  # in an element's text
        (b"<gml:posList>480000.00 67", "posList"),  # in the coordinates
        (b"<app:arealform", "område"),  # inside a tag
    ],
)
def test_truncated_xml_is_refused_naming_it(cut_after, innermost):
    body = full_plan()
    cut = body.index(cut_after) + len(cut_after)
    with pytest.raises(MalformedInputError) as raised:
        read_gml(body[:cut], 100)
    detail = english(raised.value.detail)
    assert "the XML ends early" in detail and "truncated" in detail
    if innermost != "område":
        assert f"the innermost <{innermost}>" in detail


def test_cut_in_the_xml_declaration():
    with raises_english(MalformedInputError, "before its first element is complete"):
        read_gml(full_plan()[:12], 100)


def test_junk_after_the_document_is_not_called_truncation():
    with pytest.raises(MalformedInputError) as raised:
        read_gml(full_plan() + b"<more/>", 100)
    assert "not well-formed" in english(raised.value.detail)
    assert "truncated" not in english(raised.value.detail)


# --- 3D geometry ------------------------------------------------------------------------------


def test_solid_is_named_as_unsupported_3d_geometry():
    face = polygon(L_SHAPE, (), "", 3)
    solid = (
        '<gml:Solid srsName="EPSG:5972" srsDimension="3"><gml:exterior><gml:Shell>'
        f"<gml:surfaceMember>{face}</gml:surfaceMember></gml:Shell></gml:exterior></gml:Solid>"
    )
    plan = read_gml(collection([PLAN, area("a1", solid)]), 100)
    assert plan.crs == CrsRef(5972)  # not "names no CRS"
    error = plan.features[0].geometry_error
    assert "3D geometry (gml:Solid) is not supported" in english(error)


@pytest.mark.parametrize(("dimension", "warned"), [(2, False), (3, True)])
def test_dropped_heights_are_named(dimension, warned):
    plan = read_gml(collection(two_areas(' srsName="EPSG:5972"', dimension)), 100)
    messages = [english(w.message) for w in plan.warnings]
    assert ("Z coordinates were dropped; plans are checked in 2D" in messages) is warned


@pytest.mark.parametrize(
    "body",
    [
        collection(two_areas(' srsName="urn:x-ogc:def:crs:EPSG:25832"')),
        collection(two_areas(' srsName="urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5941"', 3)),
        collection(
            two_areas(), f"<gml:boundedBy>{envelope('urn:ogc:def:crs:EPSG::25832')}</gml:boundedBy>"
        ),
    ],
    ids=["urn-x-ogc", "compound-urn-3d", "crs-on-envelope"],
)
def test_areas_match_gdal(body, tmp_path):
    """Where GDAL's GML driver reads the variant, it finds the same CRS and areas."""
    path = tmp_path / "plan.gml"
    path.write_bytes(body)
    frame = pyogrio.read_dataframe(path, layer="RpArealformålOmråde")
    assert frame.crs.to_epsg() == read_gml(body, 100).crs.epsg
    ours = areas_of(body)
    for fid, geometry in zip(frame["gml_id"], frame.geometry, strict=True):
        assert ours[fid] == pytest.approx(geometry.area, rel=1e-9)


def test_crs_on_the_wfs_member_wrapper_only():
    members = "".join(
        f'<wfs:member srsName="urn:x-ogc:def:crs:EPSG:25833">{m}</wfs:member>' for m in two_areas()
    )
    body = (
        f'<?xml version="1.0"?>\n<wfs:FeatureCollection {NAMESPACES}>{members}'
        "</wfs:FeatureCollection>"
    ).encode()
    assert_two_areas(body, 25833)
