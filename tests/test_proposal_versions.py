"""Versioning (each upload is a new version) and paging of the proposal list."""

from tests.conftest import row_counts
from tests.plans import PLAN, cabin_area, collection, encode

URL = "/api/v1/proposals"


def upload(client, body, **params):
    response = client.post(
        URL, content=encode(body), params=params, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_each_upload_is_a_new_version_and_nothing_is_overwritten(client):
    """Version 2 leaves version 1 and its areas as they were."""
    first = upload(client, collection(cabin_area("BFR1")))
    second = upload(
        client,
        collection(
            cabin_area("BFR1", lat=60.87),
            cabin_area("BFR2"),
            plan=dict(PLAN, planstatus=3, plannavn="Vedtatt"),
        ),
    )
    assert (first["version"], second["version"]) == (1, 2)
    assert first["content_sha256"] != second["content_sha256"]

    proposal = client.get(f"{URL}/3326_2024001").json()
    assert proposal["latest_version"] == 2
    assert proposal["planstatus"] == 3 and proposal["plannavn"] == "Vedtatt"
    assert [v["version"] for v in proposal["versions"]] == [1, 2]
    assert [v["feature_count"] for v in proposal["versions"]] == [1, 2]
    assert proposal["versions"][0]["planstatus"] == 2  # each version keeps its own attributes

    v1 = client.get(f"{URL}/3326_2024001/versions/1/features").json()["features"]
    v2 = client.get(f"{URL}/3326_2024001/versions/2/features").json()["features"]
    assert v1[0]["geometry"]["coordinates"][0][0][0] == [8.4, 60.86]
    assert v2[0]["geometry"]["coordinates"][0][0][0] == [8.4, 60.87]
    assert v1[0]["id"] != v2[0]["id"]
    assert row_counts() == {"plan_proposal": 1, "proposal_version": 2, "plan_feature": 3}


def test_same_file_uploaded_twice_makes_a_second_version_only_when_asked(client):
    """Identical content again is answered 200 with the latest version and no new version;
    if_identical=new_version records it as a new version with the same checksum."""
    body = collection(cabin_area())
    first = upload(client, body)
    again = client.post(
        URL,
        content=encode(body),
        headers={"content-type": "application/json", "accept-language": "nb"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["identical_to_version"] == 1
    assert again.json()["version"] == 1
    assert again.json()["content_sha256"] == first["content_sha256"]
    assert again.json()["note"].startswith("Innholdet er byte for byte likt versjon 1")
    assert again.headers["content-location"] == f"http://testserver{URL}/3326_2024001/versions/1"
    assert "location" not in again.headers
    assert row_counts()["proposal_version"] == 1
    second = upload(client, body, if_identical="new_version")
    assert second["version"] == 2 and "identical_to_version" not in second
    assert first["content_sha256"] == second["content_sha256"]
    # Another plan status given as a query parameter is another version, though the bytes agree.
    third = client.post(
        URL,
        content=encode(body),
        params={"planstatus": 3},
        headers={"content-type": "application/json"},
    )
    assert third.status_code == 201 and third.json()["version"] == 3


def test_version_metadata_and_report(client):
    """A version can be read on its own, with its upload report and area counts."""
    upload(client, collection(cabin_area()), filename="kpa-hemsedal.geojson")
    version = client.get(f"{URL}/3326_2024001/versions/1").json()
    assert version["source_filename"] == "kpa-hemsedal.geojson"
    assert version["area_counts"]["arealformal"] == 1
    assert version["report"]["warnings"] == []


def test_unknown_proposal_and_version_are_404_problems(client):
    """Unknown ids get 404 problem responses that name them."""
    missing = client.get(f"{URL}/3326_NOPE")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "3326_NOPE" in missing.json()["detail"]
    upload(client, collection(cabin_area()))
    assert client.get(f"{URL}/3326_2024001/versions/7").status_code == 404
    assert client.get(f"{URL}/not-an-id").status_code == 404


def test_paging_and_filtering_by_municipality(client):
    """Five proposals in two municipalities page through with limit/offset and next links."""
    for i in range(3):
        upload(client, collection(cabin_area()), planidentifikasjon=f"H{i}")
    for i in range(2):
        upload(
            client,
            collection(cabin_area(lon=9.0, lat=60.75)),
            kommunenummer="3324",
            planidentifikasjon=f"G{i}",
        )

    page1 = client.get(URL, params={"limit": 2}).json()
    assert page1["total"] == 5 and page1["limit"] == 2 and page1["offset"] == 0
    assert [p["id"] for p in page1["items"]] == ["3324_G1", "3324_G0"]  # newest first
    next_link = next(link["href"] for link in page1["links"] if link["rel"] == "next")
    page2 = client.get(next_link).json()
    assert [p["id"] for p in page2["items"]] == ["3326_H2", "3326_H1"]
    last = client.get(URL, params={"limit": 2, "offset": 4}).json()
    assert [p["id"] for p in last["items"]] == ["3326_H0"]
    assert {link["rel"] for link in last["links"]} == {"self", "prev"}

    hemsedal = client.get(URL, params={"kommunenummer": "3326"}).json()
    assert hemsedal["total"] == 3
    assert {p["kommunenummer"] for p in hemsedal["items"]} == {"3326"}


def test_page_limit_is_capped_by_the_settings(client, override_settings):
    """A limit above max_page_limit is lowered to it; a limit of 0 is a parameter error."""
    override_settings(max_page_limit=2)
    for i in range(3):
        upload(client, collection(cabin_area()), planidentifikasjon=f"H{i}")
    assert client.get(URL, params={"limit": 100}).json()["limit"] == 2
    bad = client.get(URL, params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "query.limit"


def test_concurrent_uploads_of_one_plan_get_consecutive_versions(client):
    """Parallel uploads of the same plan id (new versions asked for) never collide on a
    version number."""
    from concurrent.futures import ThreadPoolExecutor

    body = encode(collection(cabin_area()))

    def send(_: int) -> int:
        response = client.post(
            URL,
            content=body,
            params={"if_identical": "new_version"},
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 201, response.text
        return response.json()["version"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = sorted(pool.map(send, range(8)))
    assert versions == list(range(1, 9))
    assert row_counts() == {"plan_proposal": 1, "proposal_version": 8, "plan_feature": 8}
