"""Hostile HTTP requests (issue 16): capped bodies, idempotency per key, hidden drafts, 4xx params.

Every example of the issue that concerns request bodies, drafts, Idempotency-Key records and
query parameters is kept here as a regression test.
"""

import http.client
import json
import re
import socket
import string
import threading
import time
from urllib.parse import quote, urlsplit

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text

from app import limits
from app.access import create_api_key, revoke_api_key
from app.db import get_engine, get_sessionmaker
from app.dependencies import uploaded_file
from app.main import API_ROUTERS
from app.settings import get_settings
from tests.conftest import row_counts
from tests.plans import PLAN, cabin_area, collection, encode

MB = 1024 * 1024
PROBLEM_JSON = "application/problem+json"
SECRET = dict(PLAN, planidentifikasjon="SECRET1", plannavn="Hemmelig utkast")


def bearer(api_keys, name):
    return {"Authorization": f"Bearer {api_keys[name]}"}


def idempotency_records() -> int:
    return row_counts(("idempotency_record",))["idempotency_record"]


# --- 1. Request bodies are capped as they arrive --------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class PeakRss:
    """Sample this process's resident memory while a block runs (the live server is in it)."""

    def __enter__(self) -> "PeakRss":
        self.base = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.base


def post_chunked(base_url: str, path: str, headers: dict[str, str], prefix: bytes, total: int):
    """POST `prefix` and then filler up to `total` bytes, chunked, as a client that keeps
    sending until the answer arrives. Returns (status, headers, body, bytes sent)."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Transfer-Encoding: chunked"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    stop = threading.Event()
    sent = [0]
    filler = b" " * MB

    def pump() -> None:
        try:
            piece = prefix
            while sent[0] < total and not stop.is_set():
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent[0] += len(piece)
                piece = filler[: min(MB, total - sent[0])]
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close once it has answered

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    try:
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, body, sent[0]
    finally:
        stop.set()
        sock.close()
        sender.join(timeout=30)


MULTIPART_HEAD = (
    b"--b0undary\r\n"
    b'Content-Disposition: form-data; name="file"; filename="big.geojson"\r\n'
    b"Content-Type: application/geo+json\r\n\r\n"
)


@pytest.mark.parametrize(
    ("path", "content_type", "prefix", "key"),
    [
        # The example: the Idempotency-Key middleware read all of it first.
        ("/api/v1/check", "application/geo+json", b'{"type": "FeatureCollection"', "huge-1"),
        ("/api/v1/proposals", "multipart/form-data; boundary=b0undary", MULTIPART_HEAD, None),
        (
            "/api/v1/plans/3326/BIG1/versions",
            "multipart/form-data; boundary=b0undary",
            MULTIPART_HEAD,
            "huge-2",
        ),
    ],
)
def test_a_200_mb_chunked_body_is_refused_as_it_arrives(
    live_server, api_keys, path, content_type, prefix, key
):
    """413 once the upload limit is passed; memory stays flat; nothing is stored or claimed."""
    headers = {"Content-Type": content_type, "Accept-Language": "en", **bearer(api_keys, "admin")}
    if key:
        headers["Idempotency-Key"] = key
    with PeakRss() as rss:
        status, answer_headers, body, sent = post_chunked(
            live_server, path, headers, prefix, 200 * MB
        )
    print(f"{path}: peak RSS +{rss.growth / MB:.0f} MB, {sent / MB:.0f} MB sent before the 413")
    assert status == 413, body[:300]
    assert answer_headers["content-type"] == PROBLEM_JSON
    problem = json.loads(body)
    limit = get_settings().max_upload_bytes
    if content_type.startswith("multipart/"):
        limit += limits.MULTIPART_ALLOWANCE
    assert problem["problems"] == [{"message": f"larger than {limit} bytes", "field": "body"}]
    assert problem["detail"].endswith(f"past the limit; the limit is {limit} bytes")
    assert rss.growth < 150 * MB
    assert idempotency_records() == 0
    assert row_counts()["plan_proposal"] == 0


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(live_server, api_keys):
    """Content-Length of 1 GB: the 413 comes without the server waiting for a byte of body."""
    parts = urlsplit(live_server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", "/api/v1/proposals")
    connection.putheader("Content-Length", str(1024 * MB))
    connection.putheader("Content-Type", "application/geo+json")
    connection.putheader("Idempotency-Key", "declared-1")
    connection.putheader("Accept-Language", "nb")
    connection.putheader("Authorization", f"Bearer {api_keys['admin']}")
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 413
    assert body["detail"].startswith(f"innholdet i forespørselen er {1024 * MB} byte")
    assert idempotency_records() == 0


UPLOAD_ROUTES = (
    "/api/v1/check",
    "/api/v1/proposals",
    "/api/v1/plans/3326/KEYFIRST/versions",
    "/api/v1/layers/mineral_deposits/versions",
)


@pytest.mark.parametrize("path", UPLOAD_ROUTES)
@pytest.mark.parametrize(
    "credential", [None, "ask_00000000_unknown", "ask_00000000_unknown+idempotency"]
)
def test_the_key_is_checked_before_the_body_is_read(live_server, path, credential):
    """A request that may not upload gets its 401 while the body is still unsent: the
    server does not read (or hold) 19 MB from a client it will refuse anyway."""
    parts = urlsplit(live_server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", path)
    connection.putheader("Content-Length", str(19 * MB))
    connection.putheader("Content-Type", "application/geo+json")
    if credential is not None:
        token, _, idempotent = credential.partition("+")
        connection.putheader("Authorization", f"Bearer {token}")
        if idempotent:
            connection.putheader("Idempotency-Key", "key-first-1")
    connection.endheaders()  # and no body: a server waiting for it times the client out
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 401, body
    assert body["status"] == 401
    assert idempotency_records() == 0


def test_a_client_that_leaves_mid_body_is_one_log_line(live_server, api_keys, caplog):
    """Dropped uploads are a line each, not two tracebacks: a loop of them must not be able
    to flood the log."""
    parts = urlsplit(live_server)
    caplog.set_level("INFO")
    for _ in range(3):
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(
                b"POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Authorization: Bearer {api_keys['admin']}\r\n".encode()
                + b"Content-Type: application/geo+json\r\nContent-Length: 1000000\r\n\r\n{"
            )
            time.sleep(0.2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if sum("client disconnected" in r.getMessage() for r in caplog.records) >= 3:
            break
        time.sleep(0.1)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("client disconnected during the body" in m for m in messages) == 3, messages
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert not any("unhandled error" in m or "Exception in ASGI" in m for m in messages)


def test_json_bodies_have_a_small_cap(client, api_keys):
    """Reviews, webhooks and check options take JSON of a few kB: 2 MB is a 413, not a 400."""
    big = b'{"status": "open", "reviewer": "x", "comment": "' + b"x" * (2 * MB) + b'"}'
    chunks = (big[i : i + 64 * 1024] for i in range(0, len(big), 64 * 1024))
    for content in (big, chunks):
        response = client.put(
            "/api/v1/forum/findings/1/review",
            content=content,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413, response.text
        assert response.json()["problems"][0]["field"] == "body"
    response = client.post(
        "/api/v1/webhooks",
        content=big,
        headers={"Content-Type": "application/json", "Idempotency-Key": "hook-1"},
    )
    assert response.status_code == 413
    assert idempotency_records() == 0


@pytest.mark.parametrize("limit", [{"max_upload_bytes": 500}, {"max_upload_features": 1}])
def test_a_413_is_not_kept_for_the_key(client, override_settings, limit):
    """Too large (refused by the body cap, or by the app after reading): never replayed."""
    override_settings(**limit)
    body = encode(collection(cabin_area(), cabin_area("BFR2", lat=60.87)))
    for _ in range(2):
        response = client.post(
            "/api/v1/proposals", content=body, headers={"Idempotency-Key": "too-big"}
        )
        assert response.status_code == 413, response.text
        assert "idempotent-replayed" not in response.headers
    assert idempotency_records() == 0


def _uses_upload(dependant) -> bool:
    return any(d.call is uploaded_file or _uses_upload(d) for d in dependant.dependencies)


def test_every_upload_route_gets_the_upload_limit():
    """The routes that read a plan or layer file are the ones app.limits lets upload."""
    uploads, others = set(), set()
    for router in API_ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            path = re.sub(r"\{[^}]+\}", "x1", route.path)
            for method in route.methods:
                scope = {"method": method, "path": path}
                (uploads if _uses_upload(route.dependant) else others).add(
                    (method, path, limits.is_upload(scope))
                )
    assert uploads and all(allowed for *_, allowed in uploads), uploads
    assert not any(allowed for *_, allowed in others), others


# --- 2. Idempotency records belong to their API key ------------------------------------------


def upload(client, key, headers=None, plan=PLAN):
    body = encode(collection(cabin_area(), plan=plan))
    return client.post(
        "/api/v1/proposals",
        content=body,
        headers={"Idempotency-Key": key, **(headers or {})},
    )


def test_a_replay_is_for_the_same_api_key_however_it_is_sent(client, api_keys):
    """Bearer or X-API-Key: the same key replays; another key of the same municipality does not."""
    first = upload(client, "mine", bearer(api_keys, "planner_3326"))
    assert first.status_code == 201
    same = upload(client, "mine", {"Authorization": "", "X-API-Key": api_keys["planner_3326"]})
    assert same.headers["idempotent-replayed"] == "true" and same.json() == first.json()
    other = upload(client, "mine", bearer(api_keys, "case_3326"))
    # Run anew (not replayed): the content is version 1 already, so no version is made.
    assert other.status_code == 200 and "idempotent-replayed" not in other.headers
    assert other.json()["identical_to_version"] == 1


@pytest.mark.parametrize("fate", ["revoked", "unknown"])
def test_a_revoked_or_unknown_key_gets_401_not_a_replay(client, fate):
    """The stored draft is not handed out again once the key that made it is revoked."""
    with get_sessionmaker()() as session:
        key, token = create_api_key(session, "short-lived", "planner", "3326")
    draft = dict(PLAN, planidentifikasjon="SECRET9")
    assert upload(client, "k1", {"Authorization": f"Bearer {token}"}, draft).status_code == 201
    if fate == "revoked":
        with get_sessionmaker()() as session:
            revoke_api_key(session, key.id)
    else:
        token = token[:-4] + "AAAA"
    again = upload(client, "k1", {"Authorization": f"Bearer {token}"}, draft)
    assert again.status_code == 401
    assert again.headers["www-authenticate"].startswith("Bearer")
    assert "idempotent-replayed" not in again.headers
    assert "SECRET9" not in again.text


def test_records_expire_and_expired_ones_are_purged(client, override_settings):
    """After idempotency_ttl_s the key is new again; old records go as new ones are made."""
    override_settings(idempotency_ttl_s=60)
    assert upload(client, "day-old").json()["version"] == 1
    assert upload(client, "day-old").headers["idempotent-replayed"] == "true"
    age = "UPDATE idempotency_record SET created_at = now() - interval '2 hours'"
    with get_engine().begin() as connection:
        connection.execute(text(age))
    again = upload(client, "day-old")
    # Run anew (not replayed): the content is version 1 already, so no version is made.
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert again.json()["identical_to_version"] == 1
    with get_engine().begin() as connection:
        connection.execute(text(age))
    assert upload(client, "fresh").status_code == 200
    with get_engine().connect() as connection:
        keys = connection.execute(text("SELECT key FROM idempotency_record")).scalars().all()
    assert keys == ["fresh"]


def test_refused_answers_are_not_kept(client, api_keys):
    """403 and 415 refuse the request; after the fix the same key carries it out."""
    kongsberg = dict(PLAN, kommunenummer="3303", planidentifikasjon="KB1")
    refused = upload(client, "retry-me", bearer(api_keys, "planner_3326"), kongsberg)
    assert refused.status_code == 403
    png = client.post(
        "/api/v1/proposals",
        content=b"\x89PNG",
        headers={"Content-Type": "image/png", "Idempotency-Key": "as-png"},
    )
    assert png.status_code == 415
    assert idempotency_records() == 0
    body = encode(collection(cabin_area(), plan=PLAN))
    fixed = client.post(
        "/api/v1/proposals",
        content=body,
        headers={"Content-Type": "application/geo+json", "Idempotency-Key": "as-png"},
    )
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers


# --- 3. Drafts do not leak -------------------------------------------------------------------

MISSING = {"proposal": "3326_NOTHERE", "planid": "NOTHERE", "check": 987654, "finding": 987654321}
PLAN_BODY = encode(collection(cabin_area(), plan=dict(PLAN, planidentifikasjon="IGNORED")))
REVIEW = {"status": "discussed", "comment": None, "reviewer": "Planforum"}

# (method, path, JSON body or raw bytes): every request that names a proposal, check or finding.
ABOUT_A_DRAFT = [
    ("GET", "/api/v1/proposals/{proposal}", None),
    ("GET", "/api/v1/proposals/{proposal}/versions/1", None),
    ("GET", "/api/v1/proposals/{proposal}/versions/2", None),
    ("GET", "/api/v1/proposals/{proposal}/versions/99", None),
    ("GET", "/api/v1/proposals/{proposal}/versions/1/features", None),
    ("GET", "/api/v1/proposals/{proposal}/versions/1/checks", None),
    ("POST", "/api/v1/proposals/{proposal}/versions/1/checks", None),
    ("POST", "/api/v1/proposals/{proposal}/versions/99/checks", None),
    ("GET", "/api/v1/proposals/{proposal}/compare?from=1&to=2", None),
    ("GET", "/api/v1/proposals/{proposal}/compare?from=1&to=99", None),
    ("POST", "/api/v1/proposals/{proposal}/publish", None),
    ("GET", "/api/v1/plans/3326/{planid}", None),
    ("POST", "/api/v1/plans/3326/{planid}/versions/1/checks", None),
    ("POST", "/api/v1/plans/3326/{planid}/versions/99/checks", None),
    # Uploading for another municipality's plan id is refused by role alone (403), whether
    # the plan exists or not; it reveals nothing.
    ("POST", "/api/v1/plans/3326/{planid}/versions", PLAN_BODY),
    ("GET", "/api/v1/checks/{check}", None),
    ("GET", "/api/v1/checks/{check}/findings", None),
    ("GET", "/api/v1/checks/{check}/report.html", None),
    ("GET", "/api/v1/checks/{check}/report.pdf", None),
    ("GET", "/api/v1/forum/findings/{finding}/review", None),
    ("PUT", "/api/v1/forum/findings/{finding}/review", REVIEW),
    ("GET", "/ogcapi/collections/proposals/items/{feature}", None),
    ("GET", "/ogcapi/collections/findings/items/{finding}", None),
]


@pytest.fixture
def draft(client, api_keys):
    """A Hemsedal draft with two versions and a finished check of the first."""
    owner = bearer(api_keys, "planner_3326")
    for lat in (60.86, 60.87):
        body = encode(collection(cabin_area(lat=lat), plan=SECRET))
        assert client.post("/api/v1/proposals", content=body, headers=owner).status_code == 201
    check = client.post("/api/v1/proposals/3326_SECRET1/versions/1/checks", headers=owner)
    assert check.status_code == 201, check.text
    assert check.json()["findings"], "the check needs a finding to address"
    features = client.get("/api/v1/proposals/3326_SECRET1/versions/1/features", headers=owner)
    return {
        "proposal": "3326_SECRET1",
        "planid": "SECRET1",
        "check": check.json()["id"],
        "finding": check.json()["findings"][0]["id"],
        "feature": features.json()["features"][0]["id"],
    }


def _request(client, headers, method, template, body, ids):
    url = template.format(**ids)
    kwargs = {"json": body} if isinstance(body, dict) else {"content": body}
    response = client.request(method, url, headers=headers, **kwargs)
    # Only the ids in this request's URL are set aside: others may equal a version number.
    used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    sent = {name: str(value) for name, value in ids.items() if name in used}
    text_ = response.text
    for name, value in sorted(sent.items(), key=lambda item: -len(item[1])):
        text_ = re.sub(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", f"{{{name}}}", text_)
    shape = (
        response.status_code,
        response.headers.get("content-type"),
        response.headers.get("www-authenticate"),
        text_,
    )
    return shape, response


@pytest.mark.parametrize("caller", [None, "planner_3303"])
def test_a_draft_answers_exactly_as_an_id_that_does_not_exist(client, api_keys, draft, caller):
    """For each request naming a draft the caller may not see, the answer equals the answer
    for an unknown id once the ids the caller sent are set aside."""
    headers = {"Authorization": ""} if caller is None else bearer(api_keys, caller)
    missing = {**MISSING, "feature": 987654321}
    for method, template, body in ABOUT_A_DRAFT:
        hidden, response = _request(client, headers, method, template, body, draft)
        unknown, _ = _request(client, headers, method, template, body, missing)
        assert hidden == unknown, (method, template)
        assert response.status_code in (401, 403, 404), (method, template, response.text)
        assert "SECRET1" not in response.text or "SECRET1" in template.format(**draft)
        assert "Hemmelig" not in response.text
    owner = bearer(api_keys, "planner_3326")
    assert client.get("/api/v1/proposals/3326_SECRET1", headers=owner).status_code == 200


def test_versions_of_a_draft_are_not_counted_by_its_answers(client, api_keys, draft):
    """versions/2 (exists) and versions/99 (does not) answer alike for those who may not see."""
    stranger = bearer(api_keys, "planner_3303")
    answers = [
        client.get(f"/api/v1/proposals/3326_SECRET1/versions/{n}", headers=stranger).json()
        for n in (1, 2, 3, 99)
    ]
    assert all(answer["detail"] == "no proposal '3326_SECRET1'" for answer in answers)


def test_walking_check_ids_lists_no_plan_ids(client, draft):
    """The issue's example: an anonymous GET /api/v1/checks/{id} named the draft's plan id."""
    for suffix in ("", "/findings", "/report.html", "/report.pdf"):
        response = client.get(
            f"/api/v1/checks/{draft['check']}{suffix}", headers={"Authorization": ""}
        )
        assert response.status_code == 404
        assert response.json()["detail"] == f"no check {draft['check']}"


# --- 4. Bad parameters are 4xx, never 500 ----------------------------------------------------

OGC_ITEMS = "/ogcapi/collections/municipalities/items"
LAYER_ITEMS = "/api/v1/layers/mineral_deposits/items"
UTM32 = "http://www.opengis.net/def/crs/EPSG/0/25832"


BAD_BBOXES = [
    ({"bbox": "nan,nan,nan,nan"}, "bbox"),
    ({"bbox": "-inf,-inf,inf,inf"}, "bbox"),
    ({"bbox": "-Infinity,59,10,60"}, "bbox"),
    ({"bbox": "1e309,59,1e310,60"}, "bbox"),
    ({"bbox": "1e308,1e308,1e308,1e308"}, "bbox-crs"),
    ({"bbox": "-1e308,-1e308,1e308,1e308"}, "bbox-crs"),
    ({"bbox": "-1e308,-1e308,1e308,1e308", "bbox-crs": UTM32}, "bbox-crs"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "1,2,3,4,5"}, "bbox"),
    ({"bbox": "1,2,3,4,5,6,7"}, "bbox"),
    ({"bbox": "1,2,,4"}, "bbox"),
    ({"bbox": "10,60,9,61"}, "bbox"),
    ({"bbox": "9,61,10,60"}, "bbox"),
    ({"bbox": "٩,٦٠,١٠,٦١"}, "bbox"),
    ({"bbox": "9,6²,10,61"}, "bbox"),
    ({"bbox": "1_0,60,11,61"}, "bbox"),
    # Projected coordinates without bbox-crs are not degrees.
    ({"bbox": "500000,6700000,510000,6710000"}, "bbox-crs"),
    ({"bbox": "9,60,10,61", "bbox-crs": "EPSG:999999"}, "bbox-crs"),
    ({"bbox": "9,60,10,61", "bbox-crs": "nonsense"}, "bbox-crs"),
    ({"bbox": "-4e7,-4e7,4e7,4e7", "bbox-crs": "EPSG:25833"}, "bbox-crs"),
]


@pytest.mark.parametrize(("path", "status"), [(OGC_ITEMS, 400), (LAYER_ITEMS, 422)])
def test_bad_bboxes_are_4xx_naming_the_parameter(client, path, status):
    """OGC API answers 400 (§7.15.3); the REST API 422 as for its other parameters."""
    for params, field in BAD_BBOXES:
        response = client.get(path, params=params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
        fields = {problem.get("field") for problem in response.json().get("problems", [])}
        assert field in fields, (params, response.text)


def test_large_boxes_find_the_whole_county(client):
    """A box of the whole world, in any offered CRS, finds all 18 municipalities."""
    for params in [
        {"bbox": "-180,-90,180,90"},
        {"bbox": "-90,-180,90,180", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
        {"bbox": "-20037508,-20037508,20037508,20037508", "bbox-crs": "EPSG:3857"},
        {"bbox": "100000,6500000,400000,6900000", "bbox-crs": "EPSG:25833"},
        {"bbox": "-1e7,-1e7,4e7,4e7", "bbox-crs": UTM32},
        {"bbox": "7,59,0,11,62,1000"},
    ]:
        response = client.get(OGC_ITEMS, params=params)
        assert response.status_code == 200, (params, response.text)
        assert response.json()["numberMatched"] == 18, params


def test_ogc_datetime_is_checked(client):
    """Invalid datetime values are 400 (OGC API Features §7.15.4); valid ones select all."""
    for value, status in [
        ("garbage", 400),
        ("2026-13-01", 400),
        ("2026-02-30T00:00:00Z", 400),
        ("2026-01-01T25:00:00Z", 400),
        ("2026-01-01/2025-01-01", 400),
        ("../..", 400),
        ("/", 400),
        ("2026-01-01/2026-02-01/2026-03-01", 400),
        ("٢٠٢٦-01-01", 400),
        ("2026-01-01T00:00:00", 400),  # RFC 3339 needs the offset
        ("2026-01-01T00:00:00Z", 200),
        ("2026-01-01", 200),
        ("../2026-01-01T00:00:00+01:00", 200),
        ("2026-01-01/..", 200),
        ("2025-01-01/2026-01-01T12:00:00.5Z", 200),
    ]:
        response = client.get(OGC_ITEMS, params={"datetime": value})
        assert response.status_code == status, (value, response.text)
        if status == 400:
            assert response.json()["problems"][0]["field"] == "datetime"
        else:
            assert response.json()["numberMatched"] == 18


INTEGER_PARAMETERS = [
    "/api/v1/checks/{n}",
    "/api/v1/checks/{n}/findings",
    "/api/v1/checks/{n}/report.html",
    "/api/v1/checks/{n}/report.pdf",
    "/api/v1/proposals/3326_X/versions/{n}",
    "/api/v1/proposals/3326_X/versions/{n}/features",
    "/api/v1/proposals/3326_X/versions/{n}/checks",
    "/api/v1/proposals/3326_X/compare?from={n}&to=1",
    "/api/v1/proposals/3326_X/compare?from=1&to={n}",
    "/api/v1/plans/3326/X/versions/{n}/checks",
    "/api/v1/forum/findings/{n}/review",
    "/api/v1/forum/findings?limit={n}",
    "/api/v1/proposals?limit={n}",
    "/api/v1/proposals?offset={n}",
    "/api/v1/layers/mineral_deposits/items?version={n}",
    "/api/v1/layers/mineral_deposits/items?limit={n}",
    "/ogcapi/collections/proposals/items/{n}",
    "/ogcapi/collections/findings/items/{n}",
    "/ogcapi/collections/mineral_deposits/items/{n}",
    "/ogcapi/collections/municipalities/items/{n}",
    "/ogcapi/collections/municipalities/items?limit={n}",
    "/ogcapi/collections/municipalities/items?offset={n}",
    "/api/v1/proposals?kommunenummer=332{n}",
    "/api/v1/plans/332{n}/X",
    "/api/v1/forum/findings?kommunenummer=332{n}",
]


def test_unicode_digits_in_integer_parameters_are_4xx(client):
    """Only ASCII digits are numbers here; '²' or '٣' is an invalid (or unknown) value."""
    for template in INTEGER_PARAMETERS:
        method = "POST" if template.endswith("/checks") else "GET"
        for digits in ("²", "٣", "１", "1²", "⑴"):
            response = client.request(method, template.format(n=quote(digits)))
            assert 400 <= response.status_code < 500, (template, digits, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON


def test_integers_beyond_the_database_range_are_refused_as_parameters(client):
    """Ids, versions and offsets past PostgreSQL's integer range never reach the database."""
    for path, status in [
        ("/api/v1/checks/2147483648", 422),
        ("/api/v1/checks/99999999999999999999999", 422),
        ("/api/v1/proposals/3326_X/versions/2147483648", 422),
        ("/api/v1/forum/findings/9223372036854775808/review", 422),
        ("/api/v1/proposals?offset=9223372036854775808", 422),
        ("/api/v1/proposals?limit=99999999999999999999999", 200),  # capped at max_page_limit
        ("/ogcapi/collections/municipalities/items?offset=9223372036854775808", 400),
        ("/ogcapi/collections/proposals/items/99999999999999999999", 404),
    ]:
        response = client.get(path)
        assert response.status_code == status, (path, response.text)
        if status == 422:
            assert response.json()["type"].endswith("/invalid-parameter"), path


@pytest.mark.parametrize(
    ("pinned", "field"),
    [
        ({"tree_line": 2**31}, "tree_line"),
        ({"tree_line": 0}, "tree_line"),
        ({"nosuch": 1}, "layer_versions"),
    ],
)
def test_pinned_layer_versions_are_checked_before_a_check_is_stored(client, pinned, field):
    """A version beyond the database's integers or an unknown layer is a 422 naming it, not
    a failed check stored with 'internal error'."""
    body = encode(collection(cabin_area()))
    assert client.post("/api/v1/proposals", content=body).status_code == 201
    response = client.post(
        "/api/v1/proposals/3326_2024001/versions/1/checks", json={"layer_versions": pinned}
    )
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json()["problems"])
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM plan_check")).scalar_one() == 0
