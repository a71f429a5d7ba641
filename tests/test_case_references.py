"""Case systems: retries that replay by meaning, case references, absolute Location headers.

The retries are sent by real clients over real HTTP (curl as the README shows, requests and
httpx with a multipart form, a re-serialised JSON body): each new multipart body carries a
new random boundary (RFC 7578 §4.1), so only a fingerprint by meaning can tell a retry.
"""

import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import requests
from sqlalchemy import text

from app import openapi_examples as ex
from app.access import authenticate
from app.db import get_engine, get_sessionmaker
from app.idempotency import request_fingerprint
from db.models import IdempotencyRecordOrm
from tests.conftest import row_counts
from tests.plans import PLAN, cabin_area, collection, encode

PLAN_URL = "/api/v1/plans/3326/2024001/versions"


def plan_file(tmp_path, lat=60.86, name="planforslag.geojson"):
    """Write a one-area plan file as a municipality would upload it."""
    path = tmp_path / name
    path.write_bytes(encode(collection(cabin_area(lat=lat), plan=PLAN)))
    return path


def curl_upload(live_server, key, idempotency_key, path, *fields):
    """Upload with curl -F exactly as the README's integration guide does; (status, body)."""
    args = ["curl", "-s", "-w", "\n%{http_code}", "-X", "POST"]
    args += ["-H", f"Authorization: Bearer {key}", "-H", f"Idempotency-Key: {idempotency_key}"]
    args += ["-F", f"file=@{path}"]
    for field in fields:
        args += ["-F", field]
    args.append(live_server + PLAN_URL)
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    body, status = out.rsplit("\n", 1)
    return int(status), body


def test_a_curl_multipart_retry_returns_the_first_answer(live_server, api_keys, tmp_path):
    """The README's curl retry: a new boundary, the same parts, the first answer again."""
    key = api_keys["case_3326"]
    path = plan_file(tmp_path)
    idem = f"sak-{uuid.uuid4()}"
    fields = ("saksnummer=2026/1234", "journalpostId=2026/1234-5")
    status, first = curl_upload(live_server, key, idem, path, *fields)
    assert status == 201, first
    again_status, again = curl_upload(live_server, key, idem, path, *fields)
    assert again_status == 201
    assert json.loads(again) == json.loads(first)
    assert json.loads(first)["saksnummer"] == "2026/1234"
    assert json.loads(first)["journalpostId"] == "2026/1234-5"
    # Another file under the same key is another request.
    other = plan_file(tmp_path, lat=60.87, name="annet.geojson")
    conflict_status, conflict = curl_upload(live_server, key, idem, other, *fields)
    assert conflict_status == 409, conflict
    assert json.loads(conflict)["type"].endswith("/idempotency")
    # The same file under the same key but another journalpost is another request too.
    status, _ = curl_upload(live_server, key, idem, path, "journalpostId=2026/1234-6")
    assert status == 409


@pytest.mark.parametrize("client_library", ["requests", "httpx"])
def test_a_python_multipart_retry_returns_the_first_answer(
    live_server, api_keys, tmp_path, client_library
):
    """requests' and httpx's files= retries each replay; a changed file name is a 409."""
    path = plan_file(tmp_path)
    headers = {
        "Authorization": f"Bearer {api_keys['case_3326']}",
        "Idempotency-Key": f"py-{client_library}-{uuid.uuid4()}",
    }
    url = live_server + PLAN_URL

    def post(name="planforslag.geojson"):
        files = {"file": (name, path.read_bytes())}
        data = {"saksnummer": "26/77"}
        if client_library == "requests":
            answer = requests.post(url, headers=headers, files=files, data=data, timeout=60)
            return answer.status_code, answer.headers, answer.json()
        answer = httpx.post(url, headers=headers, files=files, data=data, timeout=60)
        return answer.status_code, answer.headers, answer.json()

    first_status, first_headers, first = post()
    again_status, again_headers, again = post()
    assert first_status == again_status == 201
    assert again == first
    assert again_headers["idempotent-replayed"] == "true"
    assert again_headers["location"] == first_headers["location"]
    # Absolute, from the address the client used (a trusted host): 127.0.0.1.
    proposal = f"{live_server}/api/v1/proposals/3326_2024001"
    assert first_headers["location"] == f"{proposal}/versions/{first['version']}"
    renamed_status, _, renamed = post("omdøpt.geojson")
    assert renamed_status == 409, renamed


def test_a_json_retry_reserialised_returns_the_first_answer(client):
    """A JSON body with other key order and spacing is the same request; another value is not."""
    upload = client.post("/api/v1/proposals", content=encode(collection(cabin_area(), plan=PLAN)))
    assert upload.status_code == 201
    url = f"/api/v1/proposals/{upload.json()['proposal_id']}/versions/1/checks"
    headers = {"Idempotency-Key": "check-json-1", "Content-Type": "application/json"}
    first = client.post(
        url, content=b'{"saksnummer": "2026/9", "journalpostId": "2026/9-1"}', headers=headers
    )
    assert first.status_code == 201, first.text
    again = client.post(
        url, content=b'{\n  "journalpostId":"2026/9-1",\n"saksnummer":"2026/9"}', headers=headers
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = client.post(url, content=b'{"saksnummer": "2026/10"}', headers=headers)
    assert other.status_code == 409
    assert row_counts(("plan_check",))["plan_check"] == 1


def test_case_references_are_kept_echoed_and_filterable(client):
    """saksnummer and journalpostId: on the version, inherited or overridden by the check,
    and a filter on the proposal listing."""
    body = encode(collection(cabin_area(), plan=PLAN))
    upload = client.post(
        "/api/v1/proposals?saksnummer=2026/1234&journalpostId=2026/1234-5", content=body
    )
    assert upload.status_code == 201, upload.text
    version = upload.json()
    assert (version["saksnummer"], version["journalpostId"]) == ("2026/1234", "2026/1234-5")
    proposal_id = version["proposal_id"]
    stored = client.get(f"/api/v1/proposals/{proposal_id}/versions/1").json()
    assert (stored["saksnummer"], stored["journalpostId"]) == ("2026/1234", "2026/1234-5")

    checks = f"/api/v1/proposals/{proposal_id}/versions/1/checks"
    inherited = client.post(checks).json()
    assert (inherited["saksnummer"], inherited["journalpostId"]) == ("2026/1234", "2026/1234-5")
    own = client.post(checks, json={"saksnummer": "2026/1234", "journalpostId": "2026/1234-9"})
    own = own.json()
    assert (own["saksnummer"], own["journalpostId"]) == ("2026/1234", "2026/1234-9")
    # Naming one part files the check under that alone, not beside the version's other part.
    other_case = client.post(checks, json={"saksnummer": "2026/999"}).json()
    assert (other_case["saksnummer"], other_case["journalpostId"]) == ("2026/999", None)
    assert client.get(f"/api/v1/checks/{own['id']}").json()["journalpostId"] == "2026/1234-9"

    # The same file filed under another record is a new version, not "identical".
    again = client.post("/api/v1/proposals?journalpostId=2026/1234-8", content=body)
    assert again.status_code == 201 and again.json()["version"] == 2
    same = client.post("/api/v1/proposals", content=body)
    assert same.status_code == 200 and same.json()["identical_to_version"] == 2

    listed = client.get("/api/v1/proposals?saksnummer=2026/1234").json()
    assert [p["id"] for p in listed["items"]] == [proposal_id]
    assert listed["links"][0]["href"].endswith("saksnummer=2026/1234")
    # A check asked for under another case files the proposal there too.
    assert client.get("/api/v1/proposals?saksnummer=2026/999").json()["total"] == 1
    assert client.get("/api/v1/proposals?saksnummer=2026/998").json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("saksnummer=1234", "saksnummer"),
        ("saksnummer=2026/12%0A34", "saksnummer"),
        ("journalpostId=%3Cscript%3E", "journalpostId"),
        ("journalpostId=" + "9" * 101, "journalpostId"),
    ],
)
def test_malformed_case_references_are_refused_by_name(client, query, field):
    """A malformed reference is a 422 naming the field; nothing is stored."""
    body = encode(collection(cabin_area(), plan=PLAN))
    response = client.post(f"/api/v1/proposals?{query}", content=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in problem["detail"]
    assert row_counts()["proposal_version"] == 0


def test_a_form_field_contradicting_the_query_is_refused(client):
    """The same reference given twice with different values is ambiguous: refused."""
    files = {"file": ("p.geojson", encode(collection(cabin_area(), plan=PLAN)))}
    response = client.post(
        "/api/v1/proposals?saksnummer=2026/1", files=files, data={"saksnummer": "2026/2"}
    )
    assert response.status_code == 422, response.text
    assert "saksnummer" in response.json()["detail"]
    assert row_counts()["proposal_version"] == 0


def test_location_headers_are_absolute_from_the_public_url(client, override_settings):
    """With AREALSJEKK_PUBLIC_URL set, Location names it, whatever Host the client sent."""
    override_settings(public_url="https://arealsjekk.example/plan")
    upload = client.post("/api/v1/proposals", content=encode(collection(cabin_area(), plan=PLAN)))
    base = "https://arealsjekk.example/plan/api/v1/proposals/3326_2024001"
    assert upload.headers["location"] == f"{base}/versions/1"
    check = client.post("/api/v1/proposals/3326_2024001/versions/1/checks")
    assert (
        check.headers["location"]
        == f"https://arealsjekk.example/plan/api/v1/checks/{check.json()['id']}"
    )


def test_a_retry_overtaking_its_first_request_is_told_to_retry(client, api_keys):
    """While the first request holds the key, its retry gets a 409 of its own type with
    Retry-After (not the 409 of a key reused for another request); then the answer."""
    body = encode(collection(cabin_area(), plan=PLAN))
    headers = {"Idempotency-Key": "overtaken-1", "Content-Type": "application/geo+json"}
    with get_sessionmaker()() as session:
        admin = authenticate(session, api_keys["admin"]).key_id
        # The first request's claim, as the middleware records it before running it.
        session.add(
            IdempotencyRecordOrm(
                api_key_id=admin,
                key="overtaken-1",
                method="POST",
                path="/api/v1/proposals",
                request_sha256=request_fingerprint(
                    "POST", "/api/v1/proposals", b"", headers["Content-Type"], body
                ),
            )
        )
        session.commit()
    retry = client.post("/api/v1/proposals", content=body, headers=headers)
    assert retry.status_code == 409
    assert retry.headers["retry-after"] == "1"
    assert retry.json() == ex.IDEMPOTENCY_IN_PROGRESS.body
    assert row_counts()["proposal_version"] == 0
    another_plan = encode(collection(cabin_area(lat=60.87), plan=PLAN))
    other = client.post("/api/v1/proposals", content=another_plan, headers=headers)
    assert other.status_code == 409 and "retry-after" not in other.headers
    assert other.json()["type"].endswith("/idempotency")


def test_concurrent_copies_of_an_upload_make_one_version(live_server, api_keys):
    """A case system's retry while the first upload still runs (no Idempotency-Key): the
    copies wait for the first and answer its version as identical."""
    body = encode(collection(cabin_area(), plan=PLAN))
    headers = {"Authorization": f"Bearer {api_keys['case_3326']}"}

    def post(_: int) -> httpx.Response:
        return httpx.post(live_server + PLAN_URL, content=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(post, range(6)))
    assert sorted(answer.status_code for answer in answers) == [200] * 5 + [201]
    assert {answer.json()["version"] for answer in answers} == {1}
    assert row_counts()["proposal_version"] == 1


def test_concurrent_publishing_announces_once(live_server, api_keys, receivers):
    """Of concurrent publish requests exactly one publishes, and one event is queued."""
    headers = {"Authorization": f"Bearer {api_keys['case_3326']}"}
    hook = httpx.post(
        live_server + "/api/v1/webhooks", json={"url": receivers().url}, headers=headers
    )
    assert hook.status_code == 201, hook.text
    upload = httpx.post(
        live_server + PLAN_URL, content=encode(collection(cabin_area(), plan=PLAN)), headers=headers
    )
    assert upload.status_code == 201, upload.text
    url = f"{live_server}/api/v1/proposals/3326_2024001/publish"

    def publish(_: int) -> httpx.Response:
        return httpx.post(url, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(publish, range(8)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.json()["published_at"] for answer in answers}) == 1
    with get_engine().connect() as connection:
        events = connection.execute(
            text("SELECT count(*) FROM webhook_delivery WHERE event = 'proposal.published'")
        ).scalar_one()
    assert events == 1
