"""What a planner reads when an upload goes wrong (issue 20, item 4): every refusal and every
note of the upload report is in bokmål with the English kept for integrators, names the
feature by feltnavn, lokalId and position, and a geometry error carries the place (CRS84)
for the map to mark. No database is needed.
"""

import io
import sqlite3
import zipfile

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from spatial.crs import CrsRef
from spatial.errors import (
    ArealsjekkError,
    InvalidInputError,
    MalformedInputError,
    PayloadTooLargeError,
    UnsupportedCRSError,
)
from spatial.geometry_errors import parse_explanation, reason_nb
from spatial.inputs.formats import ReadLimits, read_plan
from spatial.messages import Text, english
from spatial.plan_model import UploadBudget
from tests.plans import collection, encode, feature
from tests.unit.test_plan_formats import prepare

LIMITS = ReadLimits(
    max_features=100, max_zip_members=20, max_unpacked_bytes=50_000_000, max_vertices=100_000
)
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
TO_CRS84 = Transformer.from_crs("EPSG:25832", "OGC:CRS84", always_xy=True)
# Hemsedal, in EPSG:25832: the place of the example.
CROSSING = (474_800, 6_751_400)


def ring(*points: tuple[float, float]) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


def square(x: float, y: float, size: float = 100) -> dict:
    return ring((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y))


def bowtie(x: float, y: float) -> dict:
    """A figure eight crossing itself at (x, y): its lobes cancel, so it cannot be repaired."""
    return ring(
        (x - 100, y - 100), (x + 100, y + 100), (x + 100, y - 100), (x - 100, y + 100),
        (x - 100, y - 100),
    )  # fmt: skip


def area(geometry: dict, fid: str, **properties) -> dict:
    return feature(geometry, fid, arealformal=1120, arealbruksstatus=2, **properties)


def upload(*features: dict, crs: dict | None = UTM32, **members):
    """Read and validate a GeoJSON plan of `features` (in EPSG:25832 unless `crs` says)."""
    if crs is not None:
        members["crs"] = crs
    body = encode(collection(*features, **members))
    return prepare(read_plan(body, "plan.geojson", None, LIMITS))


def refused(kind: type[ArealsjekkError], call, *args) -> ArealsjekkError:
    with pytest.raises(kind) as raised:
        call(*args)
    return raised.value


def assert_bilingual(text: Text | str, *nb_words: str, en: str | None = None) -> None:
    """A Text whose bokmål differs from its English and holds the words a planner reads."""
    assert isinstance(text, Text), text
    assert text.nb != text.en
    for word in nb_words:
        assert word in text.nb, (word, text.nb)
    if en is not None:
        assert en in text.en, (en, text.en)


def assert_near(location: tuple[float, float] | None, x: float, y: float) -> None:
    """`location` is (lon, lat) of the EPSG:25832 point (x, y), to about a metre."""
    assert location is not None
    lon, lat = TO_CRS84.transform(x, y)
    assert location == pytest.approx((lon, lat), abs=2e-5)


# --- The file cannot be read --------------------------------------------------------------------


def test_bad_json_says_where_in_bokmal():
    body = b'{"type": "FeatureCollection",\n "features": [}'
    error = refused(MalformedInputError, read_plan, body, "p.geojson", None, LIMITS)
    assert_bilingual(error.detail, "ikke gyldig JSON", "linje 2", en="body is not valid JSON")
    assert "her mangler en verdi" in error.detail.nb  # Python's "Expecting value"
    assert "Expecting" not in error.detail.nb


def test_not_a_feature_collection():
    single = encode(area(square(*CROSSING), "a"))
    error = refused(InvalidInputError, read_plan, single, "p.geojson", None, LIMITS)
    assert_bilingual(
        error.detail,
        "FeatureCollection",
        "legg objektet i en FeatureCollection",
        en="expected a GeoJSON FeatureCollection, got type 'Feature'; wrap it",
    )
    error = refused(InvalidInputError, read_plan, b"[1, 2]", "p.geojson", None, LIMITS)
    assert_bilingual(error.detail, "ikke et GeoJSON-objekt", en="body is not a GeoJSON object")


@pytest.mark.parametrize(
    ("name", "nb", "en"),
    [
        ("EPSG:999999", "finnes ikke", "EPSG:999999 does not exist"),
        ("urn:ogc:def:crs:XYZ::1", "ikke et koordinatsystem vi kjenner", "is not a CRS we know"),
        ("EPSG:4978", "verken en todimensjonal kartprojeksjon", "is not a 2D map projection"),
    ],
)
def test_bad_crs(name, nb, en):
    crs = {"type": "name", "properties": {"name": name}}
    with pytest.raises(UnsupportedCRSError) as raised:
        upload(area(square(*CROSSING), "a"), crs=crs)
    assert_bilingual(raised.value.detail, "crs-medlemmet", nb, en=en)


def test_zip_bomb_is_refused_in_bokmal():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plan.shp", b"\x00" * 20_000_000)
    error = refused(PayloadTooLargeError, read_plan, buffer.getvalue(), "plan.zip", None, LIMITS)
    assert_bilingual(error.detail, "zip-bombe", "ganger sin pakkede størrelse", en="a zip bomb?")


def test_unsafe_zip_member_is_named():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.shp", b"x")
    error = refused(InvalidInputError, read_plan, buffer.getvalue(), "plan.zip", None, LIMITS)
    assert_bilingual(error.detail, "zip-arkivet avvises", "'..' i stien godtas ikke")
    assert error.problems[0].field == "../evil.shp"
    assert_bilingual(error.problems[0].message, "utrygt filnavn", en="unsafe member name")


def test_geopackage_whose_layer_is_a_view_is_refused_in_bokmal(tmp_path):
    path = tmp_path / "plan.gpkg"
    geometry = [box(*CROSSING, 474_900, 6_751_500)]
    frame = gpd.GeoDataFrame({"arealformal": [1120]}, geometry=geometry, crs=25832)
    frame.to_file(path, driver="GPKG", layer="areas", engine="pyogrio", SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE areas RENAME TO stored")
        connection.execute("CREATE VIEW areas AS SELECT * FROM stored")
    connection.close()
    error = refused(InvalidInputError, read_plan, path.read_bytes(), "plan.gpkg", None, LIMITS)
    assert_bilingual(error.detail, "GeoPackage-filen avvises", "ikke en tabell", en="is a view")
    assert error.problems[0].field == "areas"


def test_time_budget_says_what_was_being_done():
    budget = UploadBudget(time_budget_s=0)
    while not budget.expired():
        pass
    what = Text("kontroll av geometriene", "checking the geometries")
    error = refused(PayloadTooLargeError, budget.check_time, what)
    assert_bilingual(
        error.detail, "stoppet under kontroll av geometriene", en="stopped while checking"
    )


# --- A feature is wrong: named, and marked on the map -----------------------------------------


def test_self_intersection_names_the_feltnavn_and_the_place():
    error = refused(
        InvalidInputError,
        upload,
        area(square(474_000, 6_751_000), "a", feltnavn="BFR1"),
        area(square(474_200, 6_751_000), "b", feltnavn="BFR2"),
        area(bowtie(*CROSSING), "c", feltnavn="BFR10"),
    )
    problem = error.problems[0]
    assert (problem.feature, problem.feltnavn, problem.feature_id) == (2, "BFR10", "c")
    assert_bilingual(
        problem.message,
        "flaten krysser seg selv ved 474800 6751400",
        "kan ikke repareres trygt",
        en="invalid geometry that cannot be repaired safely: Self-intersection[474800 6751400]",
    )
    assert "Self-intersection" not in problem.message.nb
    assert error.detail.nb.startswith("objekt nr. 3, feltnavn «BFR10»")
    assert_near(problem.location, *CROSSING)
    assert problem.as_dict("nb")["location"] == pytest.approx(list(problem.location), abs=1e-7)


def test_self_intersection_names_the_lokal_id_without_feltnavn():
    error = refused(
        InvalidInputError,
        upload,
        area(square(474_000, 6_751_000), "a", feltnavn="BFR1"),
        area(bowtie(*CROSSING), None, identifikasjon={"lokalId": "7f3c-11", "navnerom": "x"}),
    )
    problem = error.problems[0]
    assert (problem.feature, problem.lokal_id, problem.feltnavn) == (1, "7f3c-11", None)
    assert "lokalId «7f3c-11»" in error.detail.nb
    assert_near(problem.location, *CROSSING)


def test_place_is_shown_in_the_files_own_crs():
    """A file in EPSG:25833 hears its own coordinates; the map gets CRS84."""
    to_33 = Transformer.from_crs("EPSG:25832", "EPSG:25833", always_xy=True)
    x, y = to_33.transform(*CROSSING)
    crs = {"type": "name", "properties": {"name": "EPSG:25833"}}
    with pytest.raises(InvalidInputError) as raised:
        upload(area(bowtie(round(x), round(y)), "c"), crs=crs)
    problem = raised.value.problems[0]
    assert f"ved {round(x)} {round(y)}" in problem.message.nb
    lon, lat = Transformer.from_crs("EPSG:25833", "OGC:CRS84", always_xy=True).transform(
        round(x), round(y)
    )
    assert problem.location == pytest.approx((lon, lat), abs=2e-5)


def test_ring_of_two_points_is_named_and_marked():
    """Two positions, not closed: GeoJSON wants four (RFC 7946 §3.1.6); shapely refuses it."""
    x, y = CROSSING
    error = refused(InvalidInputError, upload, area(ring((x, y), (x + 50, y)), "r", feltnavn="o1"))
    problem = error.problems[0]
    assert (problem.feature, problem.feltnavn) == (0, "o1")
    assert_bilingual(problem.message, "bare 2 punkter", "minst fire", en="geometry cannot be read")
    assert_near(problem.location, x, y)


@pytest.mark.parametrize("positions", [3, 4])
def test_closed_ring_of_two_distinct_points_is_named_and_marked(positions):
    x, y = CROSSING
    points = [(x, y), (x + 50, y), (x, y), (x, y)][:positions]
    error = refused(InvalidInputError, upload, area(ring(*points), "r", feltnavn="o2"))
    problem = error.problems[0]
    assert problem.feltnavn == "o2"
    assert_bilingual(problem.message, "for få punkter", "ved 474800 6751400", en="Too few points")
    assert_near(problem.location, x, y)


def test_area_outside_buskerud_is_marked_where_it_is_farthest_out():
    bergen = (297_000, 6_700_000)  # EPSG:25832, far west of the county
    error = refused(InvalidInputError, upload, area(square(*bergen, 100), "u", feltnavn="BFR9"))
    problem = error.problems[0]
    assert_bilingual(
        problem.message, "ligger utenfor Buskerud", "fylkesgrensen", en="lies outside Buskerud"
    )
    assert problem.feltnavn == "BFR9"
    assert_near(problem.location, bergen[0], bergen[1])


def test_plan_attribute_problems_are_bokmal():
    with pytest.raises(InvalidInputError) as raised:
        upload(
            area(square(*CROSSING), "a"),
            plan={"kommunenummer": "3326", "planidentifikasjon": "x y", "plantype": 20},
        )
    messages = {p.field: p.message for p in raised.value.problems}
    assert_bilingual(messages["planidentifikasjon"], "ikke en gyldig planidentifikasjon")


# --- Upload report notes ---------------------------------------------------------------------


def test_unknown_arealformal_code_is_reported_in_bokmal():
    prepared = upload(
        feature(square(*CROSSING), "a", arealformal=9999, arealbruksstatus=2, feltnavn="X1")
    )
    note = prepared.report.unknown_codes[0]
    assert (note.feature, note.feltnavn) == (0, "X1")
    assert_bilingual(
        note.message, "arealformål '9999' finnes ikke i kodelisten", en="is not in the"
    )
    stored = prepared.report.as_dict()["unknown_codes"][0]
    assert stored["message"] == note.message.nb and stored["message_en"] == note.message.en


def test_repair_note_says_what_and_how_much_in_bokmal():
    x, y = CROSSING
    # A square with a tiny loop on its top edge: repaired, the area changes by far under 1 %.
    spike = ring(
        (x, y), (x + 100, y), (x + 100, y + 100), (x + 50, y + 100), (x + 50, y + 90),
        (x + 51, y + 101), (x, y + 100), (x, y),
    )  # fmt: skip
    prepared = upload(area(spike, "s", feltnavn="BFR3"))
    note = prepared.report.repaired[0]
    assert (note.feature, note.feltnavn) == (0, "BFR3")
    assert_bilingual(
        note.message,
        "ugyldig geometri er reparert",
        "flaten krysser seg selv ved",
        "m² før",
        "endret med",
        en="invalid geometry repaired with make_valid (Self-intersection[",
    )
    assert note.location is not None
    assert_near(note.location, x + 50.9, y + 100)


def test_missing_arealbruksstatus_and_outside_municipality_warnings_are_bokmal():
    kongsberg = (540_000, 6_610_000)  # EPSG:25832, in Kongsberg, not Hemsedal
    prepared = upload(feature(square(*kongsberg), "k", arealformal=1120, feltnavn="B1"))
    messages = [w.message for w in prepared.report.warnings]
    assert any(isinstance(m, Text) and "mangler arealbruksstatus" in m.nb for m in messages)
    outside = [m for m in messages if "ligger helt utenfor" in m.nb]
    assert outside and "Hemsedal (3326)" in outside[0].nb
    assert all(english(m) != m.nb for m in messages)


# --- The GEOS reasons ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        "Self-intersection",
        "Ring Self-intersection",
        "Too few points in geometry component",
        "Hole lies outside shell",
        "Holes are nested",
        "Nested shells",
        "Interior is disconnected",
        "Invalid Coordinate",
        "Ring is not closed",
        "Duplicate Rings",
    ],
)
def test_every_geos_reason_has_bokmal_words(reason):
    words = reason_nb(reason)
    assert words and "GEOS" not in words and reason.lower() not in words.lower()


def test_unknown_geos_reason_is_quoted_not_dropped():
    explained = parse_explanation("Something new[1 2]", CrsRef(25832))
    assert "Something new" in explained.text.nb and explained.text.en == "Something new[1 2]"
    assert explained.point == (1.0, 2.0)


def test_an_open_ring_is_closed_and_said_so():
    """RFC 7946 §3.1.6: a ring that lost its last position is read closed, with a note
    naming the feature and marking where the ring starts; a closed ring gets no note."""
    x, y = CROSSING
    open_triangle = ring((x, y), (x + 1000, y), (x + 1000, y + 1000))
    prepared = upload(area(open_triangle, "b1", feltnavn="BFR7"), area(square(x + 3000, y), "b2"))
    (note,) = prepared.report.warnings
    assert_bilingual(note.message, "slutter ikke der den begynner", "lukket", en="RFC 7946")
    assert (note.feature, note.feature_id) == (0, "b1")
    assert_near(note.location, x, y)
    stored = {area.source_id: area.geometry for area in prepared.areas}
    assert stored["b1"].area == pytest.approx(500_000)
