"""Each kind of bad upload gets a clear 4xx problem naming the feature, and stores nothing."""

import pytest
from pyproj import Transformer
from shapely.geometry import box, mapping

from app.db import get_sessionmaker
from app.repositories.municipalities import load_boundaries
from tests.conftest import row_counts
from tests.plans import PLAN, cabin_area, collection, encode, feature

URL = "/api/v1/proposals"
EMPTY = {"plan_proposal": 0, "proposal_version": 0, "plan_feature": 0}
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}


def post(client, body, content_type="application/geo+json", **kwargs):
    data = body if isinstance(body, bytes) else encode(body)
    return client.post(URL, content=data, headers={"content-type": content_type}, **kwargs)


def assert_problem(response, status, *fragments):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("https://arealsjekk.no/problems/")
    for fragment in fragments:
        assert fragment in problem["detail"], problem["detail"]
    assert row_counts() == EMPTY
    return problem


def test_malformed_json(client):
    """Broken JSON is a 400 that says where parsing stopped."""
    assert_problem(
        post(client, b'{"type": "FeatureCollection", "features": [}'),
        400,
        "not valid JSON",
        "line 1, column 44",
    )


def test_not_utf8(client):
    """GeoJSON must be UTF-8 (RFC 7946 §11)."""
    assert_problem(post(client, '{"type": "Feature", "x": "Ål"}'.encode("latin-1")), 400, "UTF-8")


def test_not_a_feature_collection(client):
    """A single Feature is refused with a hint to wrap it."""
    assert_problem(
        post(client, cabin_area()), 422, "got type 'Feature'", "wrap it in a FeatureCollection"
    )


def test_json_that_is_not_geojson(client):
    """A JSON array is not a GeoJSON object."""
    assert_problem(post(client, [1, 2, 3]), 422, "not a GeoJSON object")


def test_empty_collection(client):
    """A plan without features is refused."""
    assert_problem(post(client, collection()), 422, "empty")


@pytest.mark.parametrize("geometry", [None, "absent"])
def test_missing_or_null_geometry(client, geometry):
    """An arealformål area without geometry names the feature."""
    area = cabin_area("BFR7")
    if geometry == "absent":
        del area["geometry"]
    else:
        area["geometry"] = None
    problem = assert_problem(
        post(client, collection(cabin_area(), area)),
        422,
        "feature 1 (feltnavn 'BFR7') (id 'BFR7')",
        "has no geometry",
    )
    assert problem["problems"][0]["feature"] == 1
    assert problem["problems"][0]["feature_id"] == "BFR7"


def test_line_where_an_area_is_required(client):
    """An arealformål given as a LineString is refused."""
    line = {"type": "LineString", "coordinates": [[8.40, 60.86], [8.41, 60.86]]}
    area = feature(line, "BFR3", arealformal=1120, arealbruksstatus=2)
    assert_problem(
        post(client, collection(area)),
        422,
        "feature 0 (id 'BFR3')",
        "LineString",
        "needs a Polygon or MultiPolygon",
    )


def test_unreadable_geometry(client):
    """Coordinates that do not form a polygon are refused with the reader's reason."""
    broken = {"type": "Polygon", "coordinates": [[[8.4, 60.86], [8.41]]]}
    assert_problem(
        post(client, collection(feature(broken, "B", arealformal=1120))),
        422,
        "feature 0 (id 'B')",
        "geometry cannot be read",
    )


@pytest.mark.parametrize(
    ("crs_name", "fragment"),
    [
        ("EPSG:99999", "EPSG:99999 does not exist"),
        ("urn:ogc:def:crs:FOO::1", "is not a CRS we know"),
        ("EPSG:4978", "not a 2D map projection"),
    ],
)
def test_unknown_or_unsupported_crs(client, crs_name, fragment):
    """An unknown or unusable CRS in the legacy crs member is refused and named."""
    crs = {"type": "name", "properties": {"name": crs_name}}
    assert_problem(post(client, collection(cabin_area(), crs=crs)), 422, crs_name, fragment)


def test_malformed_crs_member(client):
    """A crs member of the 2008 'link' type is refused."""
    crs = {"type": "link", "properties": {"href": "http://example.com/crs", "type": "proj4"}}
    assert_problem(post(client, collection(cabin_area(), crs=crs)), 422, "'link' is not supported")


def test_coordinates_outside_buskerud(client):
    """An area in Bergen is outside the county, beyond the tolerance."""
    bergen = cabin_area("BFR4", lon=5.32, lat=60.39)
    problem = assert_problem(
        post(client, collection(cabin_area(), bergen)),
        422,
        "feature 1 (feltnavn 'BFR4') (id 'BFR4')",
        "lies outside Buskerud",
    )
    assert "km" not in problem["detail"] and " m beyond the county boundary" in problem["detail"]


def test_area_just_across_the_county_boundary_is_within_tolerance(client):
    """A polygon reaching 50 m across the boundary is accepted (tolerance 200 m)."""
    with get_sessionmaker()() as session:
        county = load_boundaries(session, 200.0).county.boundary
    # A 400 m square on the county's northernmost vertex, pushed 50 m north.
    x, y = max((c for poly in county.geoms for c in poly.exterior.coords), key=lambda c: c[1])
    geometry = mapping(box(x - 200, y - 350, x + 200, y + 50))
    body = collection(
        feature(geometry, "EDGE", arealformal=5100, arealbruksstatus=1),
        plan=dict(PLAN, kommunenummer="3326"),
        crs=UTM32,
    )
    response = post(client, body)
    assert response.status_code == 201, response.text


def test_projected_area_beyond_the_tolerance_is_outside_the_county(client):
    """In UTM too (no degrees to check first): 250 m across the boundary is refused."""
    with get_sessionmaker()() as session:
        county = load_boundaries(session, 200.0).county.boundary
    x, y = max((c for poly in county.geoms for c in poly.exterior.coords), key=lambda c: c[1])
    inside = mapping(box(x - 200, y - 400, x + 200, y - 300))
    across = mapping(box(x - 200, y - 350, x + 200, y + 250))
    body = collection(
        feature(inside, "IN", arealformal=5100, arealbruksstatus=1),
        feature(across, "ACROSS", arealformal=5100, arealbruksstatus=1),
        plan=dict(PLAN, kommunenummer="3326"),
        crs=UTM32,
    )
    assert_problem(post(client, body), 422, "feature 1 (id 'ACROSS')", "lies outside Buskerud")


def test_area_following_a_municipality_outline_is_inside_the_county(client):
    """A kommuneplan area drawn exactly on Drammen's outline lies inside the county."""
    with get_sessionmaker()() as session:
        boundaries = load_boundaries(session, 200.0)
    drammen = boundaries.municipalities["3301"].geometry
    assert drammen.difference(boundaries.county.boundary).area > 0  # the sources differ
    body = collection(
        feature(mapping(drammen), "KPOMR", arealformal=5100, arealbruksstatus=1),
        plan=dict(PLAN, kommunenummer="3301"),
        crs=UTM32,
    )
    response = post(client, body)
    assert response.status_code == 201, response.text


def test_projected_coordinates_without_crs_member(client):
    """UTM coordinates sent as if they were CRS84 get a hint to declare the CRS."""
    geometry = {
        "type": "Polygon",
        "coordinates": [
            [[467400, 6747300], [467900, 6747300], [467900, 6747800], [467400, 6747300]]
        ],
    }
    assert_problem(
        post(client, collection(feature(geometry, "U", arealformal=1120))),
        422,
        "not longitude/latitude",
        "'crs' member",
    )


def test_figure_eight_ring_is_rejected(client):
    """A bow-tie whose lobes cancel out cannot be repaired safely."""
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[8.40, 60.86], [8.41, 60.865], [8.41, 60.86], [8.40, 60.865], [8.40, 60.86]]
        ],
    }
    assert_problem(
        post(client, collection(feature(bowtie, "BOW", arealformal=1120))),
        422,
        "feature 0 (id 'BOW')",
        "Self-intersection",
        "cannot be repaired safely",
    )


def test_body_over_the_size_limit(client, override_settings):
    """A body larger than max_upload_bytes is a 413."""
    override_settings(max_upload_bytes=500)
    body = encode(collection(cabin_area(), cabin_area("BFR2", lat=60.87)))
    assert len(body) > 500
    assert_problem(post(client, body), 413, "body is 726 bytes", "the limit is 500 bytes")


def test_streamed_body_over_the_size_limit(client, override_settings):
    """A chunked body without Content-Length is cut off once it passes the limit."""
    override_settings(max_upload_bytes=500)
    body = encode(collection(cabin_area(), cabin_area("BFR2", lat=60.87)))
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))
    response = client.post(URL, content=chunks, headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "the limit is 500 bytes")


def test_too_many_vertices(client, override_settings):
    """More vertices than max_upload_vertices is a 413 naming both numbers."""
    override_settings(max_upload_vertices=8)
    assert_problem(
        post(client, collection(cabin_area(), cabin_area("BFR2", lat=60.87))),
        413,
        "10 vertices",
        "limit is 8",
    )


def test_too_many_features(client, override_settings):
    """More features than max_upload_features is a 413."""
    override_settings(max_upload_features=1)
    assert_problem(
        post(client, collection(cabin_area(), cabin_area("BFR2", lat=60.87))),
        413,
        "2 features",
        "limit is 1",
    )


def test_unsupported_content_type(client):
    """A body declared as an image is a 415 naming the type."""
    assert_problem(post(client, b"\x89PNG....", content_type="image/png"), 415, "image/png")


def test_unrecognised_file_format(client):
    """Bytes that are no plan format we read are a 415 naming the formats we do read."""
    problem = assert_problem(
        post(client, b"just some words", content_type="application/octet-stream"), 415
    )
    assert "GeoJSON" in problem["detail"]


def test_missing_plan_identification(client):
    """Without plan attributes anywhere, the problem says where to give them."""
    body = collection(cabin_area())
    del body["plan"]
    problem = assert_problem(post(client, body), 422, "kommunenummer is missing")
    fields = {p["field"] for p in problem["problems"]}
    assert fields == {"kommunenummer", "planidentifikasjon", "plantype"}


def test_kommunenummer_outside_buskerud(client):
    """A pre-2024 Buskerud number (30xx) is not guessed into the new one."""
    body = collection(cabin_area(), plan=dict(PLAN, kommunenummer="3026"))
    assert_problem(post(client, body), 422, "'3026' is not a Buskerud municipality")


def test_unknown_plantype(client):
    """An unknown plantype code is refused (it decides which code lists apply)."""
    body = collection(cabin_area(), plan=dict(PLAN, plantype=99))
    assert_problem(post(client, body), 422, "'99' is not a known plantype code")


def test_features_disagreeing_on_the_plan_id(client):
    """Features naming two different plans are refused."""
    a = cabin_area("A")
    b = cabin_area("B", lat=60.87)
    a["properties"]["planidentifikasjon"] = "1"
    b["properties"]["planidentifikasjon"] = "2"
    body = collection(a, b, plan={"kommunenummer": "3326", "plantype": 20})
    assert_problem(post(client, body), 422, "features disagree on planidentifikasjon")


def test_one_bad_feature_stores_nothing_of_the_good_ones(client):
    """Validation is all-or-nothing: a valid area next to a broken one is not stored."""
    line = {"type": "LineString", "coordinates": [[8.40, 60.86], [8.41, 60.86]]}
    body = collection(
        cabin_area("OK1"), cabin_area("OK2", lat=60.87), feature(line, "BAD", arealformal=1110)
    )
    problem = assert_problem(post(client, body), 422, "feature 2 (id 'BAD')")
    assert len(problem["problems"]) == 1


def test_all_problems_are_listed(client):
    """Several broken features are all named in one response."""
    line = {"type": "LineString", "coordinates": [[8.40, 60.86], [8.41, 60.86]]}
    body = collection(
        feature(None, "N"),
        feature(line, "L", arealformal=1110),
        cabin_area("FAR", lon=5.3, lat=60.4),
    )
    for f in body["features"][:1]:
        f["properties"]["arealformal"] = 1110
    problem = assert_problem(post(client, body), 422, "and 2 more problems")
    assert [p["feature_id"] for p in problem["problems"]] == ["N", "L", "FAR"]


def test_self_intersection_is_told_in_bokmal_with_its_place(client):
    """Bokmål by default: the feature named by position and feltnavn, the crossing point in
    the file's coordinates, and `location` (CRS84) for the map to mark (issue 20)."""
    x, y = 474_800, 6_751_400  # EPSG:25832, Hemsedal
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[x - 100, y - 100], [x + 100, y + 100], [x + 100, y - 100], [x - 100, y + 100],
             [x - 100, y - 100]]
        ],
    }  # fmt: skip
    areas = [
        feature(mapping(box(x + dx, y - 600, x + dx + 100, y - 500)), name, arealformal=1120,
                arealbruksstatus=2, feltnavn=name)
        for dx, name in ((0, "BFR1"), (200, "BFR2"))
    ]  # fmt: skip
    body = collection(
        *areas,
        feature(bowtie, "c3", arealformal=1120, arealbruksstatus=2, feltnavn="BFR10"),
        crs=UTM32,
    )
    lon, lat = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True).transform(x, y)
    headers = {"content-type": "application/geo+json", "Accept-Language": "nb"}
    response = client.post(URL, content=encode(body), headers=headers)
    problem = assert_problem(response, 422, "objekt nr. 3, feltnavn «BFR10»")
    assert response.headers["content-language"] == "nb"
    assert problem["title"] == "Innholdet kan ikke brukes"
    assert "krysser seg selv ved 474800 6751400 og kan ikke repareres trygt" in problem["detail"]
    (entry,) = problem["problems"]
    assert entry["feature"] == 2 and entry["feltnavn"] == "BFR10" and entry["feature_id"] == "c3"
    assert "Self-intersection" not in entry["message"]
    assert entry["location"] == pytest.approx([lon, lat], abs=1e-6)

    english = client.post(URL, content=encode(body), headers={**headers, "Accept-Language": "en"})
    entry = assert_problem(english, 422, "Self-intersection[474800 6751400]")["problems"][0]
    assert entry["message"].startswith("invalid geometry that cannot be repaired safely")
    assert entry["location"] == pytest.approx([lon, lat], abs=1e-6)


def test_repair_note_is_bokmal_by_default_and_english_on_request(client):
    """A successful upload's report notes follow Accept-Language: bokmål unless 'en'."""
    x, y = 467_400.0, 6_747_300.0  # EPSG:25832, Hemsedal
    # The ring overshoots its start by 1 m before closing: repaired with a tiny area change.
    ring = [[x, y], [x + 500, y], [x + 500, y + 500], [x - 1, y + 500], [x + 1, y - 1], [x, y]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    body = collection(
        feature(geometry, "f1", arealformal=1120, arealbruksstatus=2, feltnavn="BFR2"), crs=UTM32
    )
    headers = {"content-type": "application/geo+json", "Accept-Language": "nb"}
    response = client.post(URL, content=encode(body), headers=headers)
    assert response.status_code == 201, response.text
    (note,) = response.json()["report"]["repaired"]
    assert note["message"].startswith("ugyldig geometri er reparert (flaten krysser seg selv ved")
    assert "m² før" in note["message"] and "endret med" in note["message"]
    assert note["feltnavn"] == "BFR2" and note["feature"] == 0
    proposal = response.json()["proposal_id"]
    version = client.get(f"{URL}/{proposal}/versions/1", headers={"Accept-Language": "en"})
    (note,) = version.json()["report"]["repaired"]
    assert note["message"].startswith("invalid geometry repaired with make_valid (Self-inter")
