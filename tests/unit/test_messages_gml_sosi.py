"""Plan-GML and SOSI problems in bokmål (issue 20, item 4): what a planner reads when a file
cannot be used names the element, the feature (feltnavn, lokalId, position) and, for a
geometry that cannot be built, the point where it goes wrong (CRS84, for the map to mark);
the English text is there for integrators who ask for it."""

import pytest
from pyproj import Transformer

from spatial.crs import CrsRef
from spatial.errors import (
    ArealsjekkError,
    InvalidInputError,
    MalformedInputError,
    UnsupportedCRSError,
)
from spatial.inputs.gml import read_gml
from spatial.inputs.locations import feature_names, lon_lat
from spatial.inputs.sosi import read_sosi
from spatial.messages import Text, english
from tests.unit.test_plan_formats import by_id, prepare
from tests.unit.test_sosi_real import plan as sosi_plan

TO_CRS84 = Transformer.from_crs("EPSG:25832", "OGC:CRS84", always_xy=True)
# The south-west corner of the test plans, near Sørbråten in Hole (EPSG:25832).
CORNER = (570000.0, 6660000.0)


def assert_bokmal(text: Text | str, *words: str) -> str:
    """The text is a Text whose bokmål differs from its English and holds `words`."""
    assert isinstance(text, Text), text
    assert text.nb != text.en, text
    for word in words:
        assert word in text.nb, (word, text.nb)
    return text.nb


def assert_at(location: tuple[float, float] | None, point: tuple[float, float]) -> None:
    """`location` is the EPSG:25832 `point` in CRS84 (longitude, latitude)."""
    assert location is not None
    expected = TO_CRS84.transform(*point)
    assert location == pytest.approx(expected, abs=1e-7)
    assert 9 < location[0] < 11 and 59 < location[1] < 61  # Hole, Buskerud


def refused(reader, body: bytes, error: type[ArealsjekkError] = ArealsjekkError):
    with pytest.raises(error) as raised:
        reader(body, 100)
    return raised.value


# --- Plan-GML ------------------------------------------------------------------------------


def gml(members: str, envelope: str = ' srsName="EPSG:25832"') -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"
    xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0"
    xmlns:xlink="http://www.w3.org/1999/xlink">
  <gml:boundedBy><gml:Envelope{envelope}/></gml:boundedBy>
  {members}
</gml:FeatureCollection>""".encode()


def area(geometry: str, fid: str = "a1", feltnavn: str = "BFS1", lokal_id: str = "lok-1") -> str:
    return f"""<gml:featureMember><app:RpArealformålOmråde gml:id="{fid}">
  <app:identifikasjon><app:Identifikasjon><app:lokalId>{lokal_id}</app:lokalId>
    <app:navnerom>https://data.geonorge.no/sosi/plan</app:navnerom></app:Identifikasjon>
  </app:identifikasjon>
  <app:feltnavn>{feltnavn}</app:feltnavn>
  <app:område>{geometry}</app:område>
  <app:arealformål>1120</app:arealformål>
</app:RpArealformålOmråde></gml:featureMember>"""


def linear_ring(pos_list: str, srs: str = "", dimension: str = "") -> str:
    return (
        f"<gml:Polygon{srs}><gml:exterior><gml:LinearRing>"
        f"<gml:posList{dimension}>{pos_list}</gml:posList>"
        "</gml:LinearRing></gml:exterior></gml:Polygon>"
    )


SQUARE = "570000 6660000 570100 6660000 570100 6660100 570000 6660100 570000 6660000"


def test_malformed_xml_says_where_in_bokmal():
    error = refused(read_gml, b"<FeatureCollection>\n<a></b>", MalformedInputError)
    bokmal = assert_bokmal(error.detail, "ikke gyldig XML", "linje 2", "kolonne")
    assert "slutt-tagg" in bokmal  # expat's "mismatched tag", in words
    assert english(error.detail).startswith("body is not well-formed XML: mismatched tag")


def test_a_message_of_the_xml_parser_it_has_no_words_for_is_quoted():
    error = refused(read_gml, b"<a>\x01</a>", MalformedInputError)
    assert_bokmal(error.detail, "ikke gyldig XML", "linje 1")


def test_truncated_xml_names_the_open_elements_in_bokmal():
    body = gml(area(linear_ring(SQUARE)))
    cut = body.index(b"<gml:posList>") + len(b"<gml:posList>570")
    error = refused(read_gml, body[:cut], MalformedInputError)
    assert_bokmal(error.detail, "slutter for tidlig", "avkuttet", "det innerste <posList>")
    assert "the innermost <posList>" in english(error.detail)


def test_dtd_is_refused_in_bokmal():
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    error = refused(read_gml, body, MalformedInputError)
    assert_bokmal(error.detail, "dokumenttypedeklarasjon (DTD)", "«file:///etc/passwd»")
    assert "external entity ('e')" in english(error.detail)


@pytest.mark.parametrize(
    "body",
    [
        b"<kml xmlns='http://www.opengis.net/kml/2.2'><Document/></kml>",
        # GML 3.3's namespace: not a FeatureCollection of GML 3.2 or 3.1
        b"<x:FeatureCollection xmlns:x='http://www.opengis.net/gml/3.3'/>",
    ],
    ids=["kml", "gml-3.3"],
)
def test_not_plan_gml_says_what_was_expected(body):
    error = refused(read_gml, body, InvalidInputError)
    assert_bokmal(error.detail, "har ingen GML-objekter", "Plan-GML 5.0 FeatureCollection")
    assert "holds no GML features" in english(error.detail)


def test_missing_srs_name_names_the_feature_by_feltnavn_and_lokal_id():
    body = gml(area(linear_ring(SQUARE), "a1", "BFS1", "lok-1"), envelope="")
    error = refused(read_gml, body, UnsupportedCRSError)
    [problem] = error.problems
    assert_bokmal(problem.message, "ingen srsName", "koordinatsystem")
    assert english(problem.message) == (
        "geometry has no srsName and the FeatureCollection names no CRS"
    )
    assert (problem.feature, problem.feature_id) == (0, "a1")
    assert (problem.feltnavn, problem.lokal_id) == ("BFS1", "lok-1")
    # The one-line detail names the feature as a planner knows it.
    assert_bokmal(error.detail, "objekt nr. 1", "feltnavn «BFS1»", "lokalId «lok-1»")


def test_unknown_crs_names_each_feature():
    members = area(linear_ring(SQUARE, ' srsName="EPSG:999999"'), "a1", "BFS1", "lok-1")
    members += area(linear_ring(SQUARE, ' srsName="EPSG:999999"'), "a2", "BFS2", "lok-2")
    error = refused(read_gml, gml(members, envelope=""), UnsupportedCRSError)
    assert [(p.feltnavn, p.lokal_id) for p in error.problems] == [
        ("BFS1", "lok-1"),
        ("BFS2", "lok-2"),
    ]
    for problem in error.problems:
        assert_bokmal(problem.message, "999999")
        assert "999999" in english(problem.message)
    assert_bokmal(error.detail, "og 1 problem til")


def test_mixed_crs_names_the_odd_feature():
    members = area(linear_ring(SQUARE), "a1", "BFS1", "lok-1")
    members += area(linear_ring(SQUARE), "a2", "BFS2", "lok-2")
    members += area(linear_ring(SQUARE, ' srsName="EPSG:25833"'), "a3", "BFS3", "lok-3")
    error = refused(read_gml, gml(members), UnsupportedCRSError)
    [problem] = error.problems
    assert_bokmal(problem.message, "bruker EPSG:25833", "objekt nr. 1", "ett koordinatsystem")
    assert english(problem.message).startswith("uses EPSG:25833 but feature 0 and 1 more use")
    assert (problem.feature, problem.feltnavn, problem.lokal_id) == (2, "BFS3", "lok-3")


def read_one(member: str):
    [feature] = read_gml(gml(member), 100).features
    assert feature.geometry is None
    return feature


def test_bad_pos_list_is_a_feature_error_marked_at_its_first_point():
    feature = read_one(area(linear_ring(SQUARE + " 570000", dimension=' srsDimension="2"')))
    assert_bokmal(feature.geometry_error, "geometrien kan ikke leses", "11 tall", "dimensjonen 2")
    assert english(feature.geometry_error) == (
        "geometry cannot be read: gml:posList has 11 numbers, not a multiple of its dimension 2"
    )
    assert_at(feature.geometry_error_location, CORNER)


def test_unclosed_ring_is_marked_where_it_starts():
    open_ring = "570000 6660000 570100 6660000 570100 6660100 570000 6660100"
    feature = read_one(area(linear_ring(open_ring)))
    assert_bokmal(feature.geometry_error, "gml:LinearRing er ikke lukket", "starter i")
    assert "gml:LinearRing is not closed: it starts at 570000.000 6660000.000" in english(
        feature.geometry_error
    )
    assert_at(feature.geometry_error_location, CORNER)


def arc_ring(arc: str) -> str:
    return (
        "<gml:Polygon><gml:exterior><gml:Ring><gml:curveMember><gml:Curve><gml:segments>"
        f"{arc}</gml:segments></gml:Curve></gml:curveMember></gml:Ring></gml:exterior>"
        "</gml:Polygon>"
    )


def test_an_arc_that_cannot_be_made_is_marked_at_its_start():
    arc = (
        "<gml:Arc><gml:posList>570050 6660050 570060 6660060 570050 6660050</gml:posList></gml:Arc>"
    )
    feature = read_one(area(arc_ring(arc)))
    assert_bokmal(feature.geometry_error, "en bue starter og slutter i samme punkt")
    assert "an arc starts and ends at the same point (570050.000 6660050.000)" in english(
        feature.geometry_error
    )
    assert_at(feature.geometry_error_location, (570050, 6660050))


def test_an_arc_with_too_few_points_and_a_bad_centre_arc():
    arc = "<gml:Arc><gml:posList>570050 6660050 570060 6660060</gml:posList></gml:Arc>"
    feature = read_one(area(arc_ring(arc)))
    assert_bokmal(feature.geometry_error, "gml:Arc har 2 punkter", "en bue trenger 3")
    assert_at(feature.geometry_error_location, (570050, 6660050))
    centre = (
        "<gml:CircleByCenterPoint numArc='1'><gml:pos>570050 6660050</gml:pos>"
        "<gml:radius uom='ft'>5</gml:radius></gml:CircleByCenterPoint>"
    )
    feature = read_one(area(arc_ring(centre)))
    assert_bokmal(feature.geometry_error, "gml:radius i gml:CircleByCenterPoint", "«ft»")
    assert_at(feature.geometry_error_location, (570050, 6660050))


def test_ring_members_that_do_not_connect_are_named_and_marked():
    members = (
        "<gml:curveMember><gml:LineString><gml:posList>570000 6660000 570100 6660000"
        "</gml:posList></gml:LineString></gml:curveMember>"
        "<gml:curveMember><gml:LineString><gml:posList>570200 6660100 570300 6660200"
        "</gml:posList></gml:LineString></gml:curveMember>"
    )
    geometry = (
        f"<gml:Polygon><gml:exterior><gml:Ring>{members}</gml:Ring></gml:exterior></gml:Polygon>"
    )
    feature = read_one(area(geometry))
    assert_bokmal(feature.geometry_error, "kurvedel 2 henger ikke sammen med kurvedel 1")
    assert "curve member 2 does not connect to curve member 1" in english(feature.geometry_error)
    assert_at(feature.geometry_error_location, (570200, 6660100))


def test_xlink_outside_the_file_has_no_point_but_a_bokmal_text():
    geometry = (
        "<gml:Polygon><gml:exterior><gml:Ring>"
        '<gml:curveMember xlink:href="https://example.invalid/c.gml#c1"/>'
        "</gml:Ring></gml:exterior></gml:Polygon>"
    )
    feature = read_one(area(geometry))
    assert_bokmal(feature.geometry_error, "utenfor filen", "ingenting hentes")
    assert feature.geometry_error_location is None


def test_gml_geometry_error_reaches_the_problem_with_names_and_location():
    """Through the plan validation, the problem a planner reads names the area and carries
    the point for the map."""
    good = area(linear_ring(SQUARE), "a1", "BFS1", "lok-1")
    open_ring = "570000 6660000 570100 6660000 570100 6660100 570000 6660100"
    bad = area(linear_ring(open_ring), "a2", "BFS2", "lok-2")
    with pytest.raises(InvalidInputError) as raised:
        prepare(read_gml(gml(good + bad), 100))
    [problem] = [p for p in raised.value.problems if p.feature == 1]
    assert_bokmal(problem.message, "ikke lukket")
    assert (problem.feltnavn, problem.lokal_id) == ("BFS2", "lok-2")
    assert_at(problem.location, CORNER)
    stored = problem.as_dict()
    assert stored["message"] == problem.message.nb and stored["message_en"] == problem.message.en
    assert stored["location"] == [round(v, 7) for v in problem.location]


# --- SOSI ----------------------------------------------------------------------------------


def test_sosi_without_koordsys_says_what_to_write():
    body = sosi_plan().replace("...KOORDSYS 22\n", "").encode()
    error = refused(read_sosi, body, UnsupportedCRSError)
    assert_bokmal(error.detail, "SOSI-hodet oppgir ikke noe koordinatsystem", "...KOORDSYS")
    assert english(error.detail).startswith("the SOSI header names no coordinate system")


def test_sosi_unknown_koordsys_lists_the_known_ones():
    body = sosi_plan().replace("...KOORDSYS 22", "...KOORDSYS 99").encode()
    error = refused(read_sosi, body, UnsupportedCRSError)
    assert_bokmal(error.detail, "...KOORDSYS 99", "bruk 22", "eller 84")


@pytest.mark.parametrize(
    ("charset", "words"),
    [
        ("EBCDIC", ("..TEGNSETT EBCDIC er ikke et tegnsett", "bruk UTF-8")),
        ("ISO8859-10", ("filen oppgir ..TEGNSETT ISO8859-10", "rett ..TEGNSETT")),
    ],
)
def test_sosi_bad_tegnsett_is_refused_in_bokmal(charset, words):
    # ISO8859-10 declared for bytes that are not: a DOSN8 'ø' (0x9B) is a C1 control byte there.
    text = sosi_plan(charset=charset, name="BFS1 Åsbråten")
    body = text.encode("cp865") if charset == "ISO8859-10" else text.encode()
    error = refused(read_sosi, body, MalformedInputError)
    assert_bokmal(error.detail, *words)


def test_sosi_missing_tegnsett_is_a_bokmal_warning_on_the_field():
    source = read_sosi(sosi_plan(charset=None).encode(), 100)
    [warning] = source.warnings
    assert warning.field == "TEGNSETT"
    assert_bokmal(warning.message, "SOSI-hodet har ingen ..TEGNSETT", "UTF-8, som den er")
    assert english(warning.message).startswith("the SOSI header has no ..TEGNSETT")


def test_sosi_cut_short_names_the_last_object():
    body = sosi_plan().replace(".SLUTT\n", "").encode()
    error = refused(read_sosi, body, MalformedInputError)
    assert_bokmal(error.detail, "slutter uten .SLUTT", "(linje ", "last opp hele filen")


def test_sosi_ring_that_does_not_close_is_marked_where_it_starts():
    body = sosi_plan(extra=".FLATE 4:\n..OBJTYPE RpArealformålOmråde\n..REF :14\n")
    # .KURVE 14 goes three sides of a square and stops.
    curve = ".KURVE 14:\n..OBJTYPE Grense\n..NØ\n666000000 57020000\n666000000 57030000\n"
    curve += "666010000 57030000\n666010000 57020000\n"
    source = read_sosi(body.replace(".SLUTT\n", curve + ".SLUTT\n").encode(), 100)
    feature = by_id(source)["FLATE 4"]
    assert_bokmal(feature.geometry_error, "yttergrensen (..REF :14)", "er ikke lukket", "starter i")
    assert "the outer boundary (..REF :14): the outer boundary is not closed" in english(
        feature.geometry_error
    )
    assert_at(feature.geometry_error_location, (570200, 6660000))


def test_sosi_broken_arc_is_named_and_marked():
    arc = ".BUEP 14:\n..OBJTYPE Grense\n..NØ\n666000000 57020000\n666010000 57030000\n"
    extra = ".FLATE 4:\n..OBJTYPE RpArealformålOmråde\n..REF :14\n"
    body = sosi_plan(extra=extra).replace(".SLUTT\n", arc + ".SLUTT\n")
    feature = by_id(read_sosi(body.encode(), 100))["FLATE 4"]
    assert_bokmal(feature.geometry_error, ".BUEP 14 har 2 punkter", "en bue (.BUEP) trenger 3")
    assert_at(feature.geometry_error_location, (570200, 6660000))


def test_sosi_klotoide_says_how_to_export():
    curve = ".KLOTOIDE 14:\n..OBJTYPE Grense\n..NØ\n666000000 57020000\n666010000 57030000\n"
    extra = ".FLATE 4:\n..OBJTYPE RpArealformålOmråde\n..REF :14\n"
    body = sosi_plan(extra=extra).replace(".SLUTT\n", curve + ".SLUTT\n")
    feature = by_id(read_sosi(body.encode(), 100))["FLATE 4"]
    assert_bokmal(feature.geometry_error, "Arealsjekk ikke kan lese", "eksporter buer som .BUEP")


def test_sosi_reference_to_nothing_has_no_point():
    body = sosi_plan().replace("..REF :12\n", "..REF :99\n").encode()
    feature = by_id(read_sosi(body, 100))["FLATE 2"]
    assert_bokmal(feature.geometry_error, "..REF :99 viser ikke til noe objekt i filen")
    assert feature.geometry_error_location is None


def test_sosi_geometry_error_reaches_the_problem_named_by_feltnavn():
    body = sosi_plan(name="BFS1 Åsbråten").replace("..REF :12\n", "..REF :99\n")
    body = body.replace(
        '..FELTNAVN "BFS1 Åsbråten"\n',
        '..FELTNAVN "BFS1 Åsbråten"\n..IDENTIFIKASJON\n...LOKALID sos-2\n',
    )
    with pytest.raises(InvalidInputError) as raised:
        prepare(read_sosi(body.encode(), 100))
    [problem] = [p for p in raised.value.problems if p.feature_id == "FLATE 2"]
    assert_bokmal(problem.message, "viser ikke til noe objekt")
    assert (problem.feltnavn, problem.lokal_id) == ("BFS1 Åsbråten", "sos-2")
    assert_bokmal(raised.value.detail, "feltnavn «BFS1 Åsbråten»")


# --- the helpers ---------------------------------------------------------------------------


def test_feature_names_read_leaf_and_dotted_keys():
    assert feature_names({"FELTNAVN": "o_BFS1", "LOKALID": "x"}) == ("o_BFS1", "x")
    assert feature_names({"a.b.lokalId": 12, "feltbetegnelse": " S1 "}) == ("S1", "12")
    assert feature_names({"feltnavn": ["a", "b"], "lokalId": True}) == (None, None)


def test_lon_lat_of_points_in_and_outside_a_crs():
    assert lon_lat(CORNER, CrsRef(25832)) == pytest.approx(TO_CRS84.transform(*CORNER))
    assert lon_lat((10.25, 60.07), CrsRef(None)) == (10.25, 60.07)
    assert lon_lat((1e30, 1e30), CrsRef(25832)) is None
    assert lon_lat(None, CrsRef(25832)) is None and lon_lat(CORNER, None) is None
