import math
from pathlib import Path

import pytest
from pyproj import Transformer

from tests.conftest import row_counts
from tests.plans import (
    HEMSEDAL,
    PLAN,
    cabin_area,
    collection,
    encode,
    feature,
    square,
)

URL = "/api/v1/proposals"
EMPTY = {"plan_proposal": 0, "proposal_version": 0, "plan_feature": 0}


def post(client, body, **kwargs):
    data = body if isinstance(body, bytes) else encode(body)
    headers = kwargs.pop("headers", {"content-type": "application/geo+json"})
    return client.post(URL, content=data, headers=headers, **kwargs)


def test_happy_path_stores_version_1_and_reads_it_back(client):
    """A kommuneplan with a cabin area and a hensynssone is stored and read back."""
    zone = feature(
        square(8.401, 60.861, 0.002), "H570_1", angittHensyn="H570_1", hensynsonenavn="H570_1"
    )
    response = post(client, collection(cabin_area(), zone))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["proposal_id"] == "3326_2024001"
    assert body["version"] == 1
    assert body["area_counts"] == {"planomrade": 0, "arealformal": 1, "hensynssone": 1}
    assert body["source_crs"] == "CRS84"
    assert body["report"] == {"repaired": [], "ignored": [], "unknown_codes": [], "warnings": []}
    # Absolute (from the trusted Host here; AREALSJEKK_PUBLIC_URL when set).
    assert (
        response.headers["location"] == "http://testserver/api/v1/proposals/3326_2024001/versions/1"
    )

    features = client.get(response.headers["location"] + "/features").json()
    cabin, hensyn = features["features"]
    assert cabin["properties"]["arealformal"] == 1120
    assert cabin["properties"]["arealformal_navn"] == "Fritidsbebyggelse"
    assert cabin["properties"]["arealbruksstatus"] == 2
    assert cabin["properties"]["feltnavn"] == "BFR1"
    assert cabin["properties"]["original_properties"]["arealformal"] == 1120
    assert hensyn["properties"]["hensynssone"] == 570
    assert hensyn["properties"]["hensynssone_navn"] == "H570_1"
    ring = cabin["geometry"]["coordinates"][0][0]
    assert ring[0] == pytest.approx(list(HEMSEDAL), abs=1e-7)
    assert row_counts() == {"plan_proposal": 1, "proposal_version": 1, "plan_feature": 2}


def test_long_integer_attributes_are_stored_and_read_back_whole(client):
    """Integers beyond 64 bits in the properties survive storage (jsonb) and reading back."""
    cabin = cabin_area()
    cabin["properties"] |= {"registernummer": 12345678901234567890123, "teller": 2**64}
    response = post(client, collection(cabin))
    assert response.status_code == 201, response.text
    [stored] = client.get(response.headers["location"] + "/features").json()["features"]
    original = stored["properties"]["original_properties"]
    assert original["registernummer"] == 12345678901234567890123
    assert original["teller"] == 2**64


def test_plan_attributes_can_come_from_query_or_plan_boundary(client):
    """Without a `plan` member, the RpOmråde feature and query parameters name the plan."""
    boundary = feature(
        square(8.40, 60.86, 0.01),
        "RpOmrade",
        objtype="RpOmråde",
        planidentifikasjon="R-77",
        plannavn="Detaljregulering Tuv",
        plantype=35,
    )
    area = feature(
        square(8.401, 60.861, 0.002),
        "o_BFR1",
        objtype="RpArealformålOmråde",
        arealformål=1121,
        feltbetegnelse="BFF1",
    )
    body = {"type": "FeatureCollection", "features": [boundary, area]}
    response = post(client, body, params={"kommunenummer": "3326", "planstatus": 2})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["proposal_id"] == "3326_R-77"
    assert created["plantype"] == 35 and created["planstatus"] == 2
    assert created["plannavn"] == "Detaljregulering Tuv"
    assert created["area_counts"] == {"planomrade": 1, "arealformal": 1, "hensynssone": 0}
    features = client.get("/api/v1/proposals/3326_R-77/versions/1/features").json()["features"]
    assert features[1]["properties"]["arealformal_navn"].startswith("Fritidsbebyggelse")
    assert features[1]["properties"]["feltnavn"] == "BFF1"


# Transverse Mercator on the central meridian: easting is the false easting and
# northing is k0 times the meridian arc. The arc is computed here with Helmert's
# series for GRS80, independently of PROJ (at 60°N it gives the textbook
# 6 654 072.819 m).
def grs80_meridian_arc(lat_deg: float) -> float:
    a, f = 6378137.0, 1 / 298.257222101
    n = f / (2 - f)
    p = math.radians(lat_deg)
    return (
        a
        / (1 + n)
        * (
            (1 + n**2 / 4 + n**4 / 64) * p
            - (3 * n / 2 - 3 * n**3 / 16) * math.sin(2 * p)
            + (15 * n**2 / 16 - 15 * n**4 / 64) * math.sin(4 * p)
            - (35 * n**3 / 48) * math.sin(6 * p)
            + (315 * n**4 / 512) * math.sin(8 * p)
        )
    )


def test_meridian_arc_matches_the_known_value_at_60_degrees():
    """The reference formula reproduces the published GRS80 meridian arc at 60°N."""
    assert grs80_meridian_arc(60.0) == pytest.approx(6_654_072.819, abs=0.001)


@pytest.mark.parametrize("source", ["CRS84", "EPSG:25833"])
def test_reprojection_to_utm32_matches_a_known_coordinate_pair(client, source):
    """(9°E, 60.5°N) in Nesbyen becomes E 500 000 m, N k0·M(60.5°) in EPSG:25832."""
    lon, lat = 9.0, 60.5
    geometry = square(lon, lat, 0.01)
    members = {}
    if source != "CRS84":
        to_33 = Transformer.from_crs("OGC:CRS84", "EPSG:25833", always_xy=True)
        ring = [list(to_33.transform(x, y)) for x, y in geometry["coordinates"][0]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        members["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}}
    plan = dict(PLAN, kommunenummer="3322", planidentifikasjon="KP-NES")
    body = collection(
        feature(geometry, "A", arealformal=1110, arealbruksstatus=2), plan=plan, **members
    )
    response = post(client, body)
    assert response.status_code == 201, response.text
    assert response.json()["source_crs"] == source
    out = client.get(
        "/api/v1/proposals/3322_KP-NES/versions/1/features", params={"crs": "EPSG:25832"}
    )
    assert out.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    assert out.json()["crs"]["properties"]["name"].endswith("/EPSG/0/25832")
    easting, northing = out.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert easting == pytest.approx(500_000.0, abs=0.01)
    assert northing == pytest.approx(0.9996 * grs80_meridian_arc(lat), abs=0.01)


def test_small_self_intersection_is_repaired_and_reported(client):
    """A ring that crosses itself in a 1 m wide sliver is repaired with make_valid."""
    x, y = 467_400.0, 6_747_300.0  # EPSG:25832, Hemsedal
    # The ring overshoots its start by 1 m before closing, crossing its first edge.
    ring = [[x, y], [x + 500, y], [x + 500, y + 500], [x - 1, y + 500], [x + 1, y - 1], [x, y]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    crs = {"type": "name", "properties": {"name": "EPSG:25832"}}
    response = post(
        client, collection(feature(geometry, "BFR2", arealformal=1120, arealbruksstatus=2), crs=crs)
    )
    assert response.status_code == 201, response.text
    repaired = response.json()["report"]["repaired"]
    assert len(repaired) == 1
    assert repaired[0]["feature"] == 0 and repaired[0]["feature_id"] == "BFR2"
    assert "Self-intersection" in repaired[0]["message"]


def test_unknown_codes_are_reported_not_guessed(client):
    """An unknown arealformål is kept without a purpose and listed in the report."""
    odd = feature(square(8.41, 60.87), "X1", arealformal=1999, arealbruksstatus=2)
    response = post(client, collection(cabin_area(), odd))
    assert response.status_code == 201, response.text
    unknown = response.json()["report"]["unknown_codes"]
    assert [(u["feature"], u["feature_id"]) for u in unknown] == [(1, "X1")]
    assert "1999" in unknown[0]["message"]
    stored = client.get("/api/v1/proposals/3326_2024001/versions/1/features").json()
    assert stored["features"][1]["properties"]["arealformal"] is None
    assert stored["features"][1]["properties"]["original_properties"]["arealformal"] == 1999


def test_features_that_are_not_plan_areas_are_ignored_and_reported(client):
    """A label point is ignored, and the report says so."""
    label = feature(
        {"type": "Point", "coordinates": [8.402, 60.862]}, "P1", objtype="KpPåskrift", tekst="BFR1"
    )
    response = post(client, collection(cabin_area(), label))
    assert response.status_code == 201
    ignored = response.json()["report"]["ignored"]
    assert ignored[0]["feature"] == 1 and "KpPåskrift" in ignored[0]["message"]


def test_area_outside_its_municipality_is_a_warning(client):
    """An area in Buskerud but outside the plan's municipality is stored with a warning."""
    in_gol = cabin_area("BFR9", lon=9.0, lat=60.75)
    response = post(client, collection(cabin_area(), in_gol))
    assert response.status_code == 201
    warnings = response.json()["report"]["warnings"]
    assert warnings == [
        {
            "message": "lies entirely outside Hemsedal (3326)",
            "feature": 1,
            "feature_id": "BFR9",
            "field": None,
            "feltnavn": "BFR9",
            "lokal_id": None,
            "location": None,
        }
    ]


SAMPLES = sorted((Path(__file__).parent.parent / "samples").glob("*.geojson"))


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.stem for s in SAMPLES])
def test_the_shipped_samples_upload_cleanly(client, sample):
    """Every sample proposal in samples/ is accepted with nothing repaired, ignored or unknown."""
    response = post(client, sample.read_bytes())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["area_counts"]["arealformal"] >= 1
    assert all(not entries for entries in body["report"].values()), body["report"]


def test_the_readme_quick_tour_sample(client):
    """samples/hemsedal-kpa-demo.geojson is stored as proposal 3326_DEMO2026."""
    sample = Path(__file__).parent.parent / "samples" / "hemsedal-kpa-demo.geojson"
    body = post(client, sample.read_bytes()).json()
    assert body["proposal_id"] == "3326_DEMO2026"
    assert body["area_counts"] == {"planomrade": 1, "arealformal": 4, "hensynssone": 1}


def test_a_plan_id_with_norwegian_letters_gets_an_ascii_location(client):
    """Headers are ASCII (RFC 9110): the Location of an upload percent-encodes æøå, and it
    leads to the version."""
    body = collection(cabin_area(), plan={**PLAN, "planidentifikasjon": "Åsen_2.1"})
    response = client.post("/api/v1/proposals", content=encode(body))
    assert response.status_code == 201
    location = response.headers["location"]
    assert location == "http://testserver/api/v1/proposals/3326_%C3%85sen_2.1/versions/1"
    assert client.get(location).json()["version"] == 1
