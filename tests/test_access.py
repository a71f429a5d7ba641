"""API keys and roles: 401 without a valid key, 403 for a role that may not, drafts hidden."""

import geopandas as gpd
import pytest
from shapely.geometry import Point

from app.access import create_api_key, revoke_api_key
from app.db import get_sessionmaker
from tests.conftest import row_counts
from tests.plans import PLAN, cabin_area, collection, encode

KONGSBERG = dict(PLAN, kommunenummer="3303", planidentifikasjon="KB1")


def as_key(client, api_keys, name):
    """Switch the test client to another role's key (None: anonymous)."""
    client.headers.pop("Authorization", None)
    if name is not None:
        client.headers["Authorization"] = f"Bearer {api_keys[name]}"
    return client


def upload(client, plan=PLAN, lon=8.40, lat=60.86):
    body = collection(cabin_area(lon=lon, lat=lat), plan=plan)
    return client.post("/api/v1/proposals", content=encode(body))


def test_no_key_is_401_with_a_bearer_challenge(anonymous):
    """Writing without a key: 401 and WWW-Authenticate, nothing stored."""
    response = upload(anonymous)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in response.json()["detail"]
    assert row_counts()["plan_proposal"] == 0
    assert (
        anonymous.post("/api/v1/check", content=encode(collection(cabin_area()))).status_code == 401
    )
    assert anonymous.get("/api/v1/forum/findings").status_code == 401


@pytest.mark.parametrize("token", ["ask_deadbeef_nope", "not-a-key", "ask_"])
def test_invalid_key_is_401(anonymous, token):
    """Unknown or malformed keys are refused with 401."""
    anonymous.headers["Authorization"] = f"Bearer {token}"
    assert upload(anonymous).status_code == 401


def test_revoked_key_is_401(client, api_keys):
    """A revoked key stops working at once."""
    with get_sessionmaker()() as session:
        key, token = create_api_key(session, "short-lived", "planner", "3326")
        revoke_api_key(session, key.id)
    client.headers["Authorization"] = f"Bearer {token}"
    assert upload(client).status_code == 401


@pytest.mark.parametrize(
    ("role", "plan", "status"),
    [
        ("planner_3326", PLAN, 201),
        ("planner_3326", KONGSBERG, 403),
        ("planner_3303", KONGSBERG, 201),
        ("case_3326", PLAN, 201),
        ("case_3326", KONGSBERG, 403),
        ("case_county", KONGSBERG, 201),
        ("admin", KONGSBERG, 201),
        ("forum", PLAN, 403),
    ],
)
def test_who_may_upload_for_which_municipality(client, api_keys, role, plan, status):
    """Planners and case systems upload for their municipality; the forum does not upload."""
    as_key(client, api_keys, role)
    lon, lat = (9.65, 59.67) if plan["kommunenummer"] == "3303" else (8.40, 60.86)
    response = upload(client, plan, lon, lat)
    assert response.status_code == status, response.text
    if status == 403:
        assert row_counts()["plan_proposal"] == 0


def test_drafts_are_visible_only_to_their_municipality_and_the_county(client, api_keys):
    """Hemsedal's draft is hidden from Kongsberg and anonymous callers until published."""
    as_key(client, api_keys, "planner_3326")
    assert upload(client).status_code == 201
    url = "/api/v1/proposals/3326_2024001"
    for name, visible in [
        ("planner_3326", True),
        ("forum", True),
        ("admin", True),
        ("case_county", True),
        ("planner_3303", False),
        (None, False),
    ]:
        as_key(client, api_keys, name)
        assert client.get(url).status_code == (200 if visible else 404), name
        assert client.get(f"{url}/versions/1/features").status_code == (200 if visible else 404)
        total = client.get("/api/v1/proposals").json()["total"]
        assert total == (1 if visible else 0), name

    as_key(client, api_keys, "planner_3303")
    assert client.post(f"{url}/publish").status_code == 404  # cannot publish what it cannot see
    as_key(client, api_keys, "planner_3326")
    published = client.post(f"{url}/publish")
    assert published.status_code == 200 and published.json()["published_at"]
    for name in ("planner_3303", None):
        as_key(client, api_keys, name)
        assert client.get(url).status_code == 200, name


def test_checks_follow_the_proposal(client, api_keys):
    """Only the municipality and county roles check a plan; others see its checks if published."""
    as_key(client, api_keys, "planner_3326")
    assert upload(client).status_code == 201
    url = "/api/v1/proposals/3326_2024001/versions/1/checks"
    check = client.post(url)
    assert check.status_code == 201
    check_url = f"/api/v1/checks/{check.json()['id']}"
    as_key(client, api_keys, "planner_3303")
    assert client.post(url).status_code == 404
    assert client.get(check_url).status_code == 404
    assert client.get(f"{check_url}/report.html").status_code == 404
    as_key(client, api_keys, "forum")
    assert client.post(url).status_code == 201
    as_key(client, api_keys, "planner_3326")
    client.post("/api/v1/proposals/3326_2024001/publish")
    as_key(client, api_keys, "planner_3303")
    assert client.get(check_url).status_code == 200
    assert client.post(url).status_code == 403  # may see it now, but not check it
    as_key(client, api_keys, None)
    assert client.get(check_url).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), ("planner_3326", 403), ("case_county", 403), ("forum", 200), ("admin", 200)],
)
def test_forum_endpoints_are_for_county_roles(client, api_keys, role, status):
    """The forum's lists, reviews and agenda need the forum or admin role."""
    as_key(client, api_keys, role)
    assert client.get("/api/v1/forum/findings").status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), ("planner_3326", 403), ("forum", 403), ("case_county", 403), ("admin", 201)],
)
def test_layer_loading_needs_admin(client, api_keys, role, status, tmp_path):
    """Loading a guideline layer over REST is the county admin's."""
    frame = gpd.GeoDataFrame(
        {"navn": ["Gol stasjon"], "type": ["jernbanestasjon"]},
        geometry=[Point(503_000, 6_735_000)],
        crs=25832,
    )
    path = tmp_path / "hubs.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    as_key(client, api_keys, role)
    response = client.post(
        "/api/v1/layers/transport_hubs/versions",
        params={"filename": "hubs.geojson", "licence": "NLOD 2.0"},
        content=path.read_bytes(),
        headers={"content-type": "application/geo+json"},
    )
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["licence"] == "NLOD 2.0" and response.json()["feature_count"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/api/v1/municipalities",
        "/api/v1/layers",
        "/api/v1/rules",
        "/",
        "/forum",
        "/ogcapi",
    ],
)
def test_public_reads_need_no_key(anonymous, path):
    """Health, base data, layer metadata, rules, the pages and OGC API are open."""
    assert anonymous.get(path).status_code == 200
