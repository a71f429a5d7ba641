"""Plan-GML, SOSI, GeoPackage and zipped Shapefile readers, and format detection.

The readers are tested on their SourcePlan output; prepare_plan runs against the shipped
boundary files, so no database is needed.
"""

import io
import math
import re
import stat
import zipfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, box

from layers.municipalities import COUNTY_FILE, MUNICIPALITIES_FILE
from spatial.crs import CrsRef
from spatial.errors import (
    ArealsjekkError,
    InvalidInputError,
    MalformedInputError,
    PayloadTooLargeError,
    UnsupportedCRSError,
)
from spatial.geometry import CoverageArea
from spatial.inputs.curves import ARC_MAX_DEVIATION_M, arc_frame, arc_points
from spatial.inputs.formats import ReadLimits, UnsupportedFormatError, detect_format, read_plan
from spatial.inputs.gml import read_gml
from spatial.inputs.ogr import read_geopackage, read_zipped_shapefile
from spatial.inputs.sosi import read_sosi
from spatial.messages import english
from spatial.plan_input import Boundaries, InputLimits, MunicipalityBoundary, prepare_plan
from spatial.plan_model import SourceFeature, SourcePlan


@contextmanager
def raises_en(kind: type[Exception], match: str):
    """pytest.raises for domain errors, matching `match` against the English detail (the
    default str() of a domain error is its bokmål)."""
    with pytest.raises(kind) as raised:
        yield raised
    error = raised.value
    text = english(error.detail) if isinstance(error, ArealsjekkError) else str(error)
    assert re.search(match, text), text


# Writing the test Shapefiles and GeoPackages makes GDAL warn about what the tests intend.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Normalized/laundered field name:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning"),
    pytest.mark.filterwarnings("ignore:GPKG. bad application_id:RuntimeWarning"),
]
PLANS = Path(__file__).parents[1] / "fixtures" / "plans"
GML_FILE = PLANS / "hemsedal-reguleringsplanforslag.gml"
SOSI_FILE = PLANS / "hole-kpa-2026.sos"
SAMPLE_GEOJSON = Path(__file__).parents[2] / "samples" / "hemsedal-kpa-demo.geojson"
LIMITS = ReadLimits(max_features=1000)
ZIP_LIMITS = {"max_members": 20, "max_unpacked_bytes": 50_000_000, "max_compression_ratio": 200}
# A half circle of radius 25 m on a 100 m × 50 m rectangle (both fixtures use the shape).
ARC_RADIUS = 25.0
ARC_AREA = 100 * 50 + math.pi * ARC_RADIUS**2 / 2
ARC_LENGTH = math.pi * ARC_RADIUS


def gml_bytes() -> bytes:
    return GML_FILE.read_bytes()


def sosi_text() -> str:
    return SOSI_FILE.read_bytes().decode("iso8859_10")


def by_id(plan: SourcePlan) -> dict:
    return {f.source_id: f for f in plan.features}


def assert_arc_area(area: float) -> None:
    # Arcs are drawn so that the polyline encloses the arc's exact area (curves.py).
    assert area == pytest.approx(ARC_AREA, rel=1e-9)


@lru_cache(maxsize=1)
def boundaries() -> Boundaries:
    municipalities = gpd.read_file(MUNICIPALITIES_FILE, engine="pyogrio").to_crs(25832)
    county = gpd.read_file(COUNTY_FILE, engine="pyogrio").to_crs(25832)
    return Boundaries(
        county=CoverageArea.build(shapely.make_valid(county.geometry.union_all()), 200),
        municipalities={
            row.kommunenummer: MunicipalityBoundary.build(
                row.kommunenummer, row.kommunenavn, shapely.make_valid(row.geometry)
            )
            for row in municipalities.itertuples()
        },
    )


def prepare(source: SourcePlan):
    limits = InputLimits(max_vertices=500_000, repair_max_area_change=0.01)
    return prepare_plan(source, boundaries(), limits)


# --- Plan-GML 5.0 ----------------------------------------------------------------------------


def test_gml_plan_attributes_and_features():
    plan = read_gml(gml_bytes(), 100)
    assert plan.source_format == "gml"
    assert plan.crs.epsg == 25832
    assert plan.plan_attributes["kommunenummer"] == "3326"
    assert plan.plan_attributes["planidentifikasjon"] == "2026007"
    assert plan.plan_attributes["plantype"] == 35  # integer codes are handed over as int
    assert plan.plan_attributes["planstatus"] == 2
    assert plan.plan_attributes["plannavn"] == "Detaljregulering for Fjellstølen hyttefelt"
    assert [f.properties["objtype"] for f in plan.features] == [
        "RpOmråde",
        "RpArealformålOmråde",
        "RpArealformålOmråde",
        "RpAngittHensynSone",
        "RpFormålGrense",
        "RpFormålGrense",
        "RpGrense",
        "RpFormålGrense",
    ]
    assert [f.position for f in plan.features] == list(range(8))
    assert all(f.geometry_error is None for f in plan.features)
    features = by_id(plan)
    assert features["_rpomrade-1"].geometry.area == pytest.approx(200 * 100)
    bfr1 = features["_bfr1"].properties
    assert (bfr1["arealformål"], bfr1["feltnavn"], bfr1["utnyttingstall"]) == (
        1120,
        "BFR1",
        "150",
    )
    hensyn = features["_h570"]
    assert hensyn.properties["angittHensyn"] == 570
    assert hensyn.properties["hensynSonenavn"] == "H570_1"
    assert hensyn.geometry.equals(box(468120, 6748000, 468200, 6748100))


def test_gml_arc_is_linearised_within_the_stated_deviation():
    area = by_id(read_gml(gml_bytes(), 100))["_bfr1"].geometry
    assert area.geom_type == "Polygon" and area.is_valid
    assert_arc_area(area.area)
    centre = Point(468100, 6748025)
    arc = [p for p in area.exterior.coords if p[0] > 468100]
    assert len(arc) > 10
    assert all(abs(centre.distance(Point(p)) - ARC_RADIUS) <= ARC_MAX_DEVIATION_M for p in arc)
    ring = list(area.exterior.coords)
    for a, b in zip(ring[:-1], ring[1:], strict=True):
        middle = Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        if a[0] >= 468100 and b[0] >= 468100 and a != b:
            assert abs(ARC_RADIUS - centre.distance(middle)) <= ARC_MAX_DEVIATION_M + 1e-9


def test_gml_surface_from_xlinked_boundary_curves():
    """GF1's ring: two curves by id, RpGrense reversed (OrientableCurve '-'), one feature."""
    gf1 = by_id(read_gml(gml_bytes(), 100))["_gf1"]
    assert gf1.geometry_error is None
    assert gf1.geometry.equals(box(468000, 6748050, 468100, 6748100))
    assert gf1.geometry.area == pytest.approx(100 * 50)


def test_gml_ring_member_in_reverse_is_turned():
    """Issue 18: a ring member given end first (no orientation '-') is turned, as GDAL does."""
    body = gml_bytes().replace(b'orientation="-"', b'orientation="+"')
    gf1 = by_id(read_gml(body, 100))["_gf1"]
    assert gf1.geometry_error is None
    assert gf1.geometry.equals(box(468000, 6748050, 468100, 6748100))


def test_gml_mixed_crs_is_rejected():
    body = gml_bytes().replace(
        b'<gml:Polygon gml:id="_h570-g">', b'<gml:Polygon gml:id="_h570-g" srsName="EPSG:25833">'
    )
    with pytest.raises(UnsupportedCRSError) as raised:
        read_gml(body, 100)
    detail = english(raised.value.detail)
    assert "EPSG:25833" in detail and "one coordinate reference system" in detail
    assert raised.value.problems[0].feature == 3
    assert raised.value.problems[0].feature_id == "_h570"


def test_gml_unknown_srs_names_the_feature():
    body = gml_bytes().replace(b'srsName="EPSG:25832"', b'srsName="EPSG:999999"')
    with pytest.raises(UnsupportedCRSError) as raised:
        read_gml(body, 100)
    assert raised.value.problems[0].feature == 1


def gml_document(members: str, srs: str = "EPSG:25832", dimension: str = "2") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"
    xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0"
    xmlns:xlink="http://www.w3.org/1999/xlink">
  <gml:boundedBy><gml:Envelope srsName="{srs}" srsDimension="{dimension}"/></gml:boundedBy>
  {members}
</gml:FeatureCollection>""".encode()


def area_member(pos_list: str, fid: str = "a1") -> str:
    return f"""<gml:featureMember><app:RpArealformålOmråde gml:id="{fid}">
  <app:område><gml:Polygon><gml:exterior><gml:LinearRing>
    <gml:posList>{pos_list}</gml:posList>
  </gml:LinearRing></gml:exterior></gml:Polygon></app:område>
  <app:arealformål>1120</app:arealformål>
</app:RpArealformålOmråde></gml:featureMember>"""


def test_gml_compound_3d_crs_and_srs_dimension():
    ring = "570000 6660000 120 570100 6660000 121 570100 6660050 122 570000 6660000 120"
    plan = read_gml(
        gml_document(area_member(ring), "http://www.opengis.net/def/crs/EPSG/0/5972", "3"), 10
    )
    assert plan.crs.epsg == 5972
    assert plan.features[0].geometry.area == pytest.approx(100 * 50 / 2)
    assert plan.features[0].geometry.bounds == (570000, 6660000, 570100, 6660050)


def test_gml_geographic_crs_uses_latitude_first():
    ring = "60.07 10.25 60.07 10.26 60.08 10.26 60.07 10.25"
    plan = read_gml(gml_document(area_member(ring), "urn:ogc:def:crs:EPSG::4258"), 10)
    assert plan.crs.epsg == 4258
    assert plan.features[0].geometry.bounds == pytest.approx((10.25, 60.07, 10.26, 60.08))


def test_gml_rejects_external_entity():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE gml:FeatureCollection [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2">&xxe;</gml:FeatureCollection>"""
    with pytest.raises(MalformedInputError) as raised:
        read_gml(body, 10)
    assert "external entity ('xxe')" in english(raised.value.detail)
    assert "file:///etc/passwd" in english(raised.value.detail)


def test_gml_rejects_billion_laughs():
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]>
<lolz>&lol9;</lolz>""".encode()
    with pytest.raises(MalformedInputError) as raised:
        read_gml(body, 10)
    assert "entity declaration ('lol0')" in english(raised.value.detail)
    assert "entity-expansion" in english(raised.value.detail)


def test_gml_rejects_any_dtd():
    body = b'<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>'
    with pytest.raises(MalformedInputError) as raised:
        read_gml(body, 10)
    assert "document type declaration (DTD)" in english(raised.value.detail)
    assert "http://example.invalid/x.dtd" in english(raised.value.detail)


def test_gml_never_fetches_remote_references():
    member = """<gml:featureMember><app:RpArealformålOmråde gml:id="a1">
  <app:område><gml:Polygon><gml:exterior>
    <gml:Ring><gml:curveMember xlink:href="http://example.com/curves.gml#c1"/></gml:Ring>
  </gml:exterior></gml:Polygon></app:område>
</app:RpArealformålOmråde></gml:featureMember>"""
    feature = read_gml(gml_document(member), 10).features[0]
    assert feature.geometry is None
    assert "outside the file" in english(feature.geometry_error)


def test_gml_missing_reference_and_degenerate_arc_are_feature_errors():
    missing = """<gml:featureMember><app:RpArealformålOmråde gml:id="a1">
  <app:område><gml:Polygon><gml:exterior>
    <gml:Ring><gml:curveMember xlink:href="#nowhere"/></gml:Ring>
  </gml:exterior></gml:Polygon></app:område>
</app:RpArealformålOmråde></gml:featureMember>"""
    arc = """<gml:featureMember><app:RpArealformålOmråde gml:id="a2">
  <app:område><gml:Polygon><gml:exterior><gml:Ring><gml:curveMember><gml:Curve><gml:segments>
    <gml:Arc><gml:posList>468000 6748000 468010 6748010 468000 6748000</gml:posList></gml:Arc>
  </gml:segments></gml:Curve></gml:curveMember></gml:Ring></gml:exterior></gml:Polygon></app:område>
</app:RpArealformålOmråde></gml:featureMember>"""
    first, second = read_gml(gml_document(missing + arc), 10).features
    assert "'#nowhere', which is not in the file" in english(first.geometry_error)
    assert "starts and ends at the same point" in english(second.geometry_error)


def test_gml_malformed_xml_and_not_gml():
    with pytest.raises(MalformedInputError) as malformed:
        read_gml(b"<gml:FeatureCollection><unclosed>", 10)
    assert "line 1" in english(malformed.value.detail)
    with pytest.raises(InvalidInputError) as not_gml:
        read_gml(b"<kml><Document/></kml>", 10)
    assert "no GML features" in english(not_gml.value.detail)


def test_gml_feature_limit():
    with pytest.raises(PayloadTooLargeError) as raised:
        read_gml(gml_bytes(), 5)
    assert "8 features; the limit is 5" in english(raised.value.detail)


def test_arc_points_direction_and_straight_arcs():
    metres = arc_frame(None)
    clockwise = arc_points((0.0, 0.0), (10.0, 10.0), (20.0, 0.0), metres)
    assert all(y >= -1e-9 for _, y in clockwise)  # bulges north, through the middle point
    counter = arc_points((20.0, 0.0), (10.0, 10.0), (0.0, 0.0), metres)
    assert len(counter) == len(clockwise)
    assert all(math.dist(a, b) < 1e-9 for a, b in zip(counter, clockwise[::-1], strict=True))
    assert arc_points((0.0, 0.0), (5.0, 0.0), (10.0, 0.0), metres) == [(0, 0), (5, 0), (10, 0)]


# --- SOSI ------------------------------------------------------------------------------------


def test_sosi_header_objects_and_attributes():
    plan = read_sosi(SOSI_FILE.read_bytes(), 100)
    assert plan.source_format == "sosi"
    assert plan.crs.epsg == 25832
    assert [f.source_id for f in plan.features] == [
        "FLATE 1",
        "FLATE 2",
        "FLATE 3",
        "FLATE 4",
        "TEKST 30",
        "PUNKT 31",
        "KURVE 32",
    ]
    features = by_id(plan)
    boundary = features["FLATE 1"].properties
    assert boundary["OBJTYPE"] == "KpOmråde"
    # ..NASJONALAREALPLANID ...KOMM / ...PLANID flattened, SOSI abbreviations renamed
    assert boundary["KOMMUNENUMMER"] == "3310"
    assert boundary["PLANID"] == "2026001"
    assert boundary["PLANSTATUS"] == 2
    assert boundary["LOKALID"] == "c9a3e7a4-1b0f-4a35-9a57-1f1c0e2b0001"
    assert features["FLATE 2"].properties["AREALFORMÅL"] == 1120
    assert features["FLATE 2"].properties["AREALBRUKSSTATUS"] == 2
    assert features["TEKST 30"].geometry.geom_type == "Point"


def test_sosi_tegnsett_iso8859_10_is_decoded():
    features = by_id(read_sosi(SOSI_FILE.read_bytes(), 100))
    assert features["FLATE 2"].properties["OMRÅDENAVN"] == "BFR1 Åsbråten"
    assert features["FLATE 3"].properties["OMRÅDENAVN"] == "LNF Øvre Bjørkås"
    assert features["FLATE 4"].properties["HENSYNSONENAVN"] == "H570_1 Kulturmiljø Sætre"
    assert features["TEKST 30"].properties["STRENG"] == "Sørbråten"


def test_sosi_utf8_ansi_and_nd7():
    text = sosi_text()
    utf8 = read_sosi(text.replace("ISO8859-10", "UTF-8").encode("utf-8"), 100)
    assert by_id(utf8)["FLATE 3"].properties["OMRÅDENAVN"] == "LNF Øvre Bjørkås"
    ansi = read_sosi(text.replace("ISO8859-10", "ANSI").encode("cp1252"), 100)
    assert by_id(ansi)["FLATE 4"].properties["HENSYNSONENAVN"] == "H570_1 Kulturmiljø Sætre"
    nd7 = text.replace("ISO8859-10", "ND7").translate(str.maketrans("ÆØÅæøå", "[\\]{|}"))
    features = by_id(read_sosi(nd7.encode("ascii"), 100))
    assert features["FLATE 2"].properties["OMRÅDENAVN"] == "BFR1 Åsbråten"


def test_sosi_wrong_tegnsett_names_the_line():
    body = sosi_text().replace("ISO8859-10", "UTF-8").encode("iso8859_10")
    with pytest.raises(MalformedInputError) as raised:
        read_sosi(body, 100)
    detail = english(raised.value.detail)
    assert "TEGNSETT UTF-8" in detail and "line" in detail


def test_sosi_enhet_and_origo_scale_coordinates():
    features = by_id(read_sosi(SOSI_FILE.read_bytes(), 100))
    # 6000000 7000000 at ENHET 0.01 from ORIGO-NØ 6600000 500000 is N 6660000, E 570000
    assert features["FLATE 1"].geometry.bounds == (570000, 6660000, 570300, 6660200)
    assert features["FLATE 1"].geometry.area == pytest.approx(300 * 200)
    assert features["TEKST 30"].geometry.coords[0] == (570020, 6660030)
    unit_one = sosi_text().replace("...ENHET 0.01", "...ENHET 1")
    scaled = by_id(read_sosi(unit_one.encode("iso8859_10"), 100))["FLATE 1"].geometry
    assert scaled.bounds == (7500000, 12600000, 7530000, 12620000)


def test_sosi_hole_and_reversed_references():
    features = by_id(read_sosi(SOSI_FILE.read_bytes(), 100))
    bfr1 = features["FLATE 2"].geometry
    assert len(bfr1.interiors) == 1
    assert bfr1.area == pytest.approx(100 * 50 - 10 * 10)
    hensyn = features["FLATE 4"].geometry  # ..REF -13 …: the shared curve reversed
    assert hensyn.equals(box(570000, 6660050, 570100, 6660150))
    wrong_sign = sosi_text().replace("..REF -13 :19", "..REF :13 :19")
    feature = by_id(read_sosi(wrong_sign.encode("iso8859_10"), 100))["FLATE 4"]
    assert feature.geometry is None
    assert ":19 does not connect to :13" in english(feature.geometry_error)


def test_sosi_buep_is_linearised_within_the_stated_deviation():
    lnf = by_id(read_sosi(SOSI_FILE.read_bytes(), 100))["FLATE 3"].geometry
    assert lnf.is_valid
    assert_arc_area(lnf.area)
    centre = Point(570200, 6660025)
    arc = [p for p in lnf.exterior.coords if p[0] > 570200]
    assert len(arc) > 10
    assert all(abs(centre.distance(Point(p)) - ARC_RADIUS) <= ARC_MAX_DEVIATION_M for p in arc)


def test_sosi_koordsys_codes():
    for code, epsg in ((23, 25833), (25, 25835), (84, 4258)):
        text = sosi_text().replace("...KOORDSYS 22", f"...KOORDSYS {code}")
        assert read_sosi(text.encode("iso8859_10"), 100).crs.epsg == epsg
    unknown = sosi_text().replace("...KOORDSYS 22", "...KOORDSYS 99")
    with pytest.raises(UnsupportedCRSError, match="KOORDSYS 99"):
        read_sosi(unknown.encode("iso8859_10"), 100)


def test_sosi_geographic_coordinates_are_lon_lat():
    body = """.HODE
..TEGNSETT UTF-8
..TRANSPAR
...KOORDSYS 84
...ORIGO-NØ 0 0
...ENHET 0.000001
.PUNKT 1:
..OBJTYPE KpJuridiskPunkt
..NØ
60071000 10250000
.SLUTT
""".encode()
    point = read_sosi(body, 10).features[0].geometry
    assert (point.x, point.y) == pytest.approx((10.25, 60.071))


def test_sosi_broken_references_are_feature_errors():
    text = sosi_text()
    missing = text.replace("..REF :20", "..REF :99")
    missing_error = by_id(read_sosi(missing.encode("iso8859_10"), 100))["FLATE 1"].geometry_error
    assert "refers to no object" in english(missing_error)
    open_ring = text.replace("..REF -12 :15 :16 :18", "..REF -12 :15 :16")
    error = english(by_id(read_sosi(open_ring.encode("iso8859_10"), 100))["FLATE 3"].geometry_error)
    assert "not closed" in error and "..REF -12 :15 :16" in error


def test_sosi_malformed_files():
    cases = [
        (MalformedInputError, b".FLATE 1:\n..OBJTYPE KpOmr\n.SLUTT\n", 10, "before .HODE"),
        (
            UnsupportedCRSError,
            ".HODE\n..TEGNSETT UTF-8\n.PUNKT 1:\n..NØ\n1 2\n.SLUTT\n".encode(),
            10,
            "KOORDSYS",
        ),
        (MalformedInputError, b".HODE\n..TEGNSETT EBCDIC\n.SLUTT\n", 10, "TEGNSETT EBCDIC"),
        (PayloadTooLargeError, SOSI_FILE.read_bytes(), 3, "7 objects; the limit is 3"),
    ]
    for error, body, limit, text in cases:
        with pytest.raises(error) as raised:
            read_sosi(body, limit)
        assert text in english(raised.value.detail)


# --- the same plan through prepare_plan ------------------------------------------------------


def test_gml_through_prepare_plan():
    prepared = prepare(read_gml(gml_bytes(), 100))
    assert (prepared.metadata.kommunenummer, prepared.metadata.planidentifikasjon) == (
        "3326",
        "2026007",
    )
    assert prepared.metadata.plantype == 35
    kinds = {a.source_id: (a.kind, a.arealformal, a.hensynssone) for a in prepared.areas}
    assert kinds == {
        "_rpomrade-1": ("planomrade", None, None),
        "_bfr1": ("arealformal", 1120, None),
        "_gf1": ("arealformal", 3040, None),
        "_h570": ("hensynssone", None, 570),
    }
    assert len(prepared.report.ignored) == 4  # the boundary curves


def test_sosi_through_prepare_plan():
    prepared = prepare(read_sosi(SOSI_FILE.read_bytes(), 100))
    assert (prepared.metadata.kommunenummer, prepared.metadata.planidentifikasjon) == (
        "3310",
        "2026001",
    )
    assert (prepared.metadata.plantype, prepared.metadata.planstatus) == (20, 2)
    areas = {a.source_id: a for a in prepared.areas}
    assert (areas["FLATE 2"].arealformal, areas["FLATE 2"].arealbruksstatus) == (1120, 2)
    assert areas["FLATE 2"].feltnavn == "BFR1 Åsbråten"
    assert (areas["FLATE 3"].arealformal, areas["FLATE 3"].arealbruksstatus) == (5100, 1)
    assert areas["FLATE 4"].hensynssone == 570
    assert areas["FLATE 1"].kind == "planomrade"
    assert {p.feature_id for p in prepared.report.ignored} == {"TEKST 30", "PUNKT 31", "KURVE 32"}


# --- GeoPackage and zipped Shapefile ---------------------------------------------------------


def plan_frames() -> dict[str, gpd.GeoDataFrame]:
    """The SOSI fixture's areas as one GeoDataFrame per object type."""
    features = by_id(read_sosi(SOSI_FILE.read_bytes(), 100))
    crs = "EPSG:25832"
    return {
        "KpOmråde": gpd.GeoDataFrame(
            {
                "planidentifikasjon": ["2026001"],
                "kommunenummer": ["3310"],
                "plantype": [20],
                "planstatus": [2],
                "plannavn": ["Kommuneplanens arealdel for Hole, Sørbråten"],
            },
            geometry=[features["FLATE 1"].geometry],
            crs=crs,
        ),
        "KpArealformålOmråde": gpd.GeoDataFrame(
            {
                "arealformal": [1120, 5100],
                "arealbruksstatus": [2, 1],
                "omradenavn": ["BFR1 Åsbråten", "LNF Øvre Bjørkås"],
            },
            geometry=[features["FLATE 2"].geometry, features["FLATE 3"].geometry],
            crs=crs,
        ),
        "KpAngittHensynSone": gpd.GeoDataFrame(
            {"angitthensyn": [570], "hensynsonenavn": ["H570_1 Kulturmiljø Sætre"]},
            geometry=[features["FLATE 4"].geometry],
            crs=crs,
        ),
    }


def geopackage(tmp_path: Path, frames: dict[str, gpd.GeoDataFrame]) -> bytes:
    path = tmp_path / "plan.gpkg"
    for layer, frame in frames.items():
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
    return path.read_bytes()


def test_geopackage_layers_become_object_types(tmp_path):
    plan = read_geopackage(geopackage(tmp_path, plan_frames()), 100)
    assert plan.source_format == "gpkg"
    assert plan.crs.epsg == 25832
    assert [f.properties["objtype"] for f in plan.features] == [
        "KpOmråde",
        "KpArealformålOmråde",
        "KpArealformålOmråde",
        "KpAngittHensynSone",
    ]
    sosi = by_id(read_sosi(SOSI_FILE.read_bytes(), 100))
    assert plan.features[2].geometry.area == pytest.approx(sosi["FLATE 3"].geometry.area)
    assert plan.features[1].properties["omradenavn"] == "BFR1 Åsbråten"
    assert plan.features[1].properties["arealformal"] == 1120
    assert plan.features[1].source_id == "KpArealformålOmråde:1"
    prepared = prepare(plan)
    assert prepared.metadata.planidentifikasjon == "2026001"
    assert sorted((a.kind, a.arealformal or a.hensynssone) for a in prepared.areas[1:]) == [
        ("arealformal", 1120),
        ("arealformal", 5100),
        ("hensynssone", 570),
    ]


def test_geopackage_generic_layer_keeps_attribute_detection(tmp_path):
    frames = {"areas": plan_frames()["KpArealformålOmråde"]}
    plan = read_geopackage(geopackage(tmp_path, frames), 100)
    assert all("objtype" not in f.properties for f in plan.features)


def test_geopackage_with_mixed_crs(tmp_path):
    frames = plan_frames()
    frames["KpAngittHensynSone"] = frames["KpAngittHensynSone"].to_crs(25833)
    with pytest.raises(UnsupportedCRSError) as raised:
        read_geopackage(geopackage(tmp_path, frames), 100)
    assert "KpAngittHensynSone: EPSG:25833" in english(raised.value.detail)
    assert "KpOmråde: EPSG:25832" in english(raised.value.detail)
    assert "ulike koordinatsystemer" in raised.value.detail.nb


def test_geopackage_without_crs(tmp_path):
    frame = plan_frames()["KpOmråde"]
    no_crs = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame.geometry))
    with raises_en(UnsupportedCRSError, match="no coordinate reference system"):
        read_geopackage(geopackage(tmp_path, {"KpOmråde": no_crs}), 100)


def test_geopackage_without_vector_layers(tmp_path):
    path = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), path, layer="notes", driver="GPKG")
    with raises_en(InvalidInputError, match="no layer with geometries"):
        read_geopackage(path.read_bytes(), 100)
    with raises_en(MalformedInputError, match="cannot be opened"):
        read_geopackage(b"SQLite format 3\x00" + b"\x00" * 200, 100)


def shapefile_files(tmp_path: Path, encoding: str = "UTF-8", cpg: bool = True) -> dict[str, bytes]:
    frames = plan_frames()
    rows = []
    for layer, frame in frames.items():
        for record, geometry in zip(
            frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
        ):
            rows.append({"objtype": layer, **record, "geometry": geometry})
    frame = gpd.GeoDataFrame(rows, crs="EPSG:25832")
    path = tmp_path / "Hole KPA.shp"
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "Hole KPA"}
    if not cpg:
        files.pop("Hole KPA.cpg", None)
    return files


def zip_bytes(files: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def read_zip(body: bytes, **limits) -> SourcePlan:
    return read_zipped_shapefile(body, 100, **{**ZIP_LIMITS, **limits})


def test_zipped_shapefile_in_a_folder(tmp_path):
    files = shapefile_files(tmp_path)
    body = zip_bytes({f"plan/{name}": data for name, data in files.items()} | {"README.txt": b"x"})
    plan = read_zip(body)
    assert plan.source_format == "shapefile"
    assert plan.crs.epsg == 25832
    assert len(plan.features) == 4
    bfr1 = plan.features[1].properties
    # .dbf names are cut to 10 characters; the plan attribute names are restored
    assert bfr1["arealformal"] == 1120 and bfr1["arealbruksstatus"] == 2
    assert bfr1["omradenavn"] == "BFR1 Åsbråten"
    assert plan.features[3].properties["hensynsonenavn"] == "H570_1 Kulturmiljø Sætre"
    assert plan.features[0].source_id == "Hole KPA:0"
    prepared = prepare(plan)
    assert prepared.metadata.kommunenummer == "3310"
    assert {a.arealformal for a in prepared.areas if a.kind == "arealformal"} == {1120, 5100}


def test_zipped_shapefile_latin1_without_cpg(tmp_path):
    body = zip_bytes(shapefile_files(tmp_path, encoding="ISO-8859-1", cpg=False))
    plan = read_zip(body)
    assert plan.features[2].properties["omradenavn"] == "LNF Øvre Bjørkås"


@pytest.mark.parametrize(
    ("name", "symlink", "message"),
    [
        ("../evil.shp", False, "'..' path components"),
        ("plan/../../evil.shp", False, "'..' path components"),
        ("/etc/evil.shp", False, "absolute paths"),
        ("C:\\evil.shp", False, "absolute paths"),
        ("link.shp", True, "symbolic links"),
    ],
)
def test_zip_with_unsafe_member_is_refused(tmp_path, name, symlink, message):
    files = shapefile_files(tmp_path) | {name: b"\x00" * 100}
    with pytest.raises(InvalidInputError) as raised:
        read_zip(zip_bytes(files, symlinks=(name,) if symlink else ()))
    assert message in english(raised.value.detail)
    assert "zip-arkivet avvises" in raised.value.detail.nb
    assert raised.value.problems[0].field == name


def test_zip_with_too_many_members(tmp_path):
    files = {f"part{i}.txt": b"x" for i in range(30)}
    with raises_en(PayloadTooLargeError, match="30 members; the limit is 20"):
        read_zip(zip_bytes(files))


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    files = shapefile_files(tmp_path) | {"Hole KPA.dbf": b"\x00" * 20_000_000}
    body = zip_bytes(files)
    assert len(body) < 100_000
    with raises_en(PayloadTooLargeError, match="times its packed size"):
        read_zip(body)
    with raises_en(PayloadTooLargeError, match="unpacks to 20"):
        read_zip(body, max_unpacked_bytes=10_000_000)


@pytest.mark.parametrize("count", [0, 2])
def test_zip_needs_exactly_one_shapefile(tmp_path, count):
    files = shapefile_files(tmp_path)
    if count == 0:
        files = {name: data for name, data in files.items() if not name.endswith(".shp")}
        expected = "no Shapefile"
    else:
        files = files | {f"other/{name}": data for name, data in files.items()}
        expected = "2 Shapefiles (Hole KPA.shp, other/Hole KPA.shp)"
    with pytest.raises(InvalidInputError) as raised:
        read_zip(zip_bytes(files))
    assert expected in english(raised.value.detail)
    assert "zip-arkivet inneholder" in raised.value.detail.nb


def test_zip_missing_parts_and_broken_archive(tmp_path):
    files = {n: d for n, d in shapefile_files(tmp_path).items() if not n.endswith(".dbf")}
    with raises_en(InvalidInputError, match="lacks its .dbf"):
        read_zip(zip_bytes(files))
    with raises_en(MalformedInputError, match="not a readable zip"):
        read_zip(b"PK\x03\x04 not really a zip")
    no_prj = {n: d for n, d in shapefile_files(tmp_path).items() if not n.endswith(".prj")}
    with raises_en(UnsupportedCRSError, match="zip the .prj"):
        read_zip(zip_bytes(no_prj))


# --- detect_format and read_plan -------------------------------------------------------------


def test_detect_format_by_content(tmp_path):
    assert detect_format(None, None, SAMPLE_GEOJSON.read_bytes()) == "geojson"
    assert detect_format("plan.json", None, b"\xef\xbb\xbf  {}") == "geojson"
    assert detect_format(None, None, gml_bytes()) == "gml"
    assert detect_format(None, None, SOSI_FILE.read_bytes()) == "sosi"
    assert detect_format(None, None, b"! laget av Arealsjekk\n\n.HODE\n") == "sosi"
    assert detect_format(None, None, geopackage(tmp_path, plan_frames())) == "gpkg"
    assert detect_format(None, None, zip_bytes({"a.txt": b"a"})) == "zip"
    # content wins over a misleading name
    assert detect_format("plan.gml", "application/gml+xml", b'{"type": "x"}') == "geojson"


def test_detect_format_falls_back_to_name_and_type():
    assert detect_format("plan.SOS", None, b"garbage") == "sosi"
    assert detect_format(None, "application/geo+json; charset=utf-8", b"garbage") == "geojson"
    with raises_en(UnsupportedFormatError, match="no format Arealsjekk reads"):
        detect_format("plan.dwg", "application/acad", b"AC1032")
    with raises_en(UnsupportedFormatError, match="zip holding the .shp"):
        detect_format("plan.shp", None, b"\x00\x00\x27\x0a" + b"\x00" * 96)
    with raises_en(UnsupportedFormatError, match="empty"):
        detect_format("plan.sos", None, b"  \n")
    assert issubclass(UnsupportedFormatError, ArealsjekkError)


def test_read_plan_dispatches_every_format(tmp_path):
    shp = zip_bytes(shapefile_files(tmp_path))
    gpkg = geopackage(tmp_path, plan_frames())
    bodies = {
        "geojson": SAMPLE_GEOJSON.read_bytes(),
        "gml": gml_bytes(),
        "sosi": SOSI_FILE.read_bytes(),
        "gpkg": gpkg,
        "shapefile": shp,
    }
    for expected, body in bodies.items():
        assert read_plan(body, None, None, LIMITS).source_format == expected
    with pytest.raises(PayloadTooLargeError):
        read_plan(gml_bytes(), "plan.gml", None, ReadLimits(max_features=2))
    with raises_en(PayloadTooLargeError, match="members"):
        read_plan(shp, "plan.zip", None, ReadLimits(max_features=100, max_zip_members=2))


def test_a_file_without_plan_areas_says_what_it_holds():
    """An FKB-like file (no plan attributes either) hears it has no plan areas, and what it has."""
    features = [
        SourceFeature(i, None, {"objtype": t}, box(470_000 + i, 6_750_000, 470_001 + i, 6_750_001))
        for i, t in enumerate(["Bygning", "Bygning", "Bygning", "Veglenke"])
    ]
    features.append(SourceFeature(4, None, {"navn": "Gol"}, Point(470_000, 6_750_000)))
    with pytest.raises(InvalidInputError) as raised:
        prepare(SourcePlan(features, CrsRef(25832), "geojson"))
    assert english(raised.value.detail) == (
        "the plan has no arealformål areas or hensynssoner Arealsjekk can read; the file "
        "holds 3 Bygning, 1 Veglenke, 1 Point without object type"
    )
    assert raised.value.detail.nb == (
        "planen har ingen arealformålsområder eller hensynssoner som Arealsjekk kan lese; "
        "filen inneholder 3 Bygning, 1 Veglenke, 1 Point uten objekttype"
    )
