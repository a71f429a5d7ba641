"""Web friendliness over HTTP: header names on the wire, CORS, gzip, ETag/304, caching, HEAD.

What reaches the client's socket (header capitalisation, gzip bytes, HEAD without a body) is
read with http.client from a real uvicorn on 127.0.0.1; the rest through the TestClient.
"""

import gzip
import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import morecantile
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route
from typer.testing import CliRunner

from app import cli
from app.compression import CompressionMiddleware
from app.cors import CorsMiddleware
from app.http_cache import MAX_BUFFERED_BYTES, HttpCacheMiddleware, none_match
from app.main import create_app
from app.settings import Settings
from app.wire import WIRE_PROTOCOL, HeaderCaseMiddleware, HeadMiddleware, canonical_name
from tests.live import serve
from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_vector_layer

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
CAPABILITIES = "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"
ITEMS = "/ogcapi/collections/mineral_deposits/items"
ALLOWED = "https://sak.drammen.kommune.no"
FOREIGN = "https://evil.example.org"
# Written by uvicorn itself, after the application: not ours to spell.
SERVER_HEADERS = {"date", "server"}
TO_LONLAT = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True)


@pytest.fixture(scope="module")
def wire_server() -> Iterator[str]:
    """The service as `arealsjekk serve` runs it (uvicorn with WIRE_PROTOCOL)."""
    with serve(create_app(), WIRE_PROTOCOL) as url:
        yield url


def fetch(
    base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request with http.client; return the status, the headers as they came on the
    wire (names unchanged) and the raw body (not decompressed)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The value of a header by case-insensitive name."""
    values = [value for key, value in headers if key.lower() == name.lower()]
    return ", ".join(values) if values else None


def vary(response_headers) -> set[str]:
    """The field names a response's Vary lists, lowercased."""
    value = response_headers.get("vary", "")
    return {name.strip().lower() for name in value.split(",") if name.strip()}


def deposits(count: int) -> list[dict]:
    """`count` 100 m squares 200 m apart in rows of 50 from (X0, Y0), with a long name each."""
    return [
        {
            "geometry": box(
                X0 + (i % 50) * 200,
                Y0 + (i // 50) * 200,
                X0 + (i % 50) * 200 + 100,
                Y0 + (i // 50) * 200 + 100,
            ),
            "name": f"Forekomst nummer {i} i Hemsedal",
            "importance": "regional",
        }
        for i in range(count)
    ]


@pytest.fixture
def minerals(tmp_path) -> None:
    """Three deposits loaded as the mineral_deposits layer."""
    load_vector_layer("mineral_deposits", deposits(3), tmp_path)


# --- header names on the wire -----------------------------------------------------------


def test_canonical_names():
    """Each hyphenated word capitalised; ETag and WWW-Authenticate as the RFCs spell them."""
    assert canonical_name(b"content-type") == b"Content-Type"
    assert canonical_name(b"CONTENT-LENGTH") == b"Content-Length"
    assert canonical_name(b"etag") == b"ETag"
    assert canonical_name(b"www-authenticate") == b"WWW-Authenticate"
    assert canonical_name(b"content-crs") == b"Content-Crs"
    assert canonical_name(b"x-content-type-options") == b"X-Content-Type-Options"


def test_the_service_is_served_with_h11(monkeypatch):
    """`arealsjekk serve` runs uvicorn with the implementation that keeps header names."""
    calls = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls[0]["http"] == WIRE_PROTOCOL == "h11"


def test_header_names_reach_the_client_capitalised(wire_server, minerals):
    """QGIS looks up `Content-Type` case-sensitively: every header the service writes arrives
    in its usual capitalisation, for WMS capabilities and feature info, OGC API and errors."""
    info = (
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=mineral_deposits"
        "&QUERY_LAYERS=mineral_deposits&STYLES=&CRS=EPSG:25832"
        f"&BBOX={X0 - 100},{Y0 - 100},{X0 + 200},{Y0 + 200}&WIDTH=300&HEIGHT=300&I=150&J=150"
        "&INFO_FORMAT=application/json"
    )
    for path in (CAPABILITIES, info, f"{ITEMS}?limit=2", "/ogcapi/collections/nothing"):
        status, headers, _ = fetch(wire_server, path, headers={"Accept-Encoding": "gzip"})
        names = [name for name, _ in headers if name.lower() not in SERVER_HEADERS]
        assert names == [canonical_name(n.encode()).decode() for n in names], (path, names)
        assert "Content-Type" in names and "Content-Length" in names
        if status == 200:
            assert {"ETag", "Cache-Control", "Vary", "X-Content-Type-Options"} <= set(names)
    status, headers, body = fetch(wire_server, info)
    assert status == 200 and header(headers, "Content-Type").startswith("application/json")
    assert ("Content-Type", header(headers, "Content-Type")) in headers
    assert json.loads(body)["features"]
    status, headers, _ = fetch(wire_server, f"{ITEMS}?limit=2")
    assert ("Content-Crs", "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>") in headers


# Identify in feature mode, as QGIS's Identify tool does on a WMS layer; prints what QGIS read.
QGIS_IDENTIFY = """
import json, sys
from qgis.core import (QgsApplication, QgsDataSourceUri, QgsPointXY, QgsRaster, QgsRasterLayer,
                       QgsRectangle)
base, x, y = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
application = QgsApplication([], False)
application.initQgis()
uri = QgsDataSourceUri()
for key, value in (("crs", "EPSG:25832"), ("format", "image/png"), ("layers", "mineral_deposits"),
                   ("styles", ""), ("url", base + "/wms")):
    uri.setParam(key, value)
layer = QgsRasterLayer(bytes(uri.encodedUri()).decode(), "w", "wms")
found = layer.dataProvider().identify(QgsPointXY(x, y), QgsRaster.IdentifyFormatFeature,
                                      QgsRectangle(x - 150, y - 150, x + 150, y + 150), 300, 300)
report = {"valid": found.isValid(), "texts": [], "features": []}
for value in found.results().values():
    if isinstance(value, str):
        report["texts"].append(value)  # how the provider reports a body it could not parse
        continue
    for store in value:
        for feature in store.features():
            report["features"].append({"name": feature["name"],
                                       "geometry": feature.geometry().asWkt(0)})
print(json.dumps(report), flush=True)
"""


def qgis_identify(base: str, tmp_path) -> dict:
    """Run QGIS 3.22 (Debian's python3-qgis, offscreen) identify against `base`."""
    python = Path("/usr/bin/python3")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_RUNTIME_DIR=str(runtime))
    if (
        not python.exists()
        or subprocess.run(
            [str(python), "-c", "import qgis.core"], env=env, capture_output=True, check=False
        ).returncode
    ):
        message = "PyQGIS (python3-qgis) is missing; `bash scripts/dev.sh test` installs it"
        if os.environ.get("AREALSJEKK_SKIP_GIS_CLIENTS") == "1":
            pytest.skip(message)
        pytest.fail(message)
    done = subprocess.run(
        [str(python), "-c", QGIS_IDENTIFY, base, str(X0 + 50), str(Y0 + 50)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # QGIS may crash on its way out after printing; the report line is all we need.
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"QGIS printed no report ({done.returncode}): {done.stderr[-2000:]}"
    return json.loads(lines[-1])


@pytest.mark.slow
def test_qgis_identifies_the_feature_info_json(wire_server, minerals, tmp_path):
    """QGIS 3.22 takes the GetFeatureInfo JSON for JSON, with its geometry, from the service
    as served; from uvicorn's httptools (lowercase names) it took it for GML."""
    served = qgis_identify(wire_server, tmp_path)
    assert served["valid"] and not served["texts"], served
    assert [f["name"] for f in served["features"]] == ["Forekomst nummer 0 i Hemsedal"]
    assert served["features"][0]["geometry"].startswith("Polygon")
    with serve(create_app(), "httptools") as url:
        lowercase = qgis_identify(url, tmp_path)
    assert not lowercase["valid"] and not lowercase["features"], lowercase


def test_uvicorn_httptools_would_lowercase_every_name(minerals):
    """Why the service runs h11: uvicorn's httptools implementation lowercases the names the
    application writes, so only h11 delivers `Content-Type`."""
    with serve(create_app(), "httptools") as url:
        _, headers, _ = fetch(url, CAPABILITIES)
    assert "content-type" in [name for name, _ in headers]
    assert all(name == name.lower() for name, _ in headers)


# --- CORS -----------------------------------------------------------------------------


def preflight(client, path: str, origin: str, method: str = "GET", request_headers: str = ""):
    """Send a CORS preflight as a browser does."""
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    return client.options(path, headers=headers)


def test_public_services_answer_every_origin_without_credentials(anonymous, minerals):
    """WMS, OGC API and tiles are read by web maps on any site: `*`, never with credentials."""
    for path in ("/ogcapi", ITEMS, "/wms", "/tiles"):
        answer = preflight(anonymous, path, FOREIGN, request_headers="if-none-match")
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "GET" in answer.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in answer.headers
    # Writing is not offered across origins, nor are API keys sent to the public services.
    assert preflight(anonymous, ITEMS, FOREIGN, "POST").status_code == 400
    assert preflight(anonymous, ITEMS, FOREIGN, request_headers="authorization").status_code == 400

    simple = anonymous.get(ITEMS, headers={"Origin": FOREIGN})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip() for h in simple.headers["access-control-expose-headers"].split(",")}
    assert {"ETag", "Link", "Content-Crs", "Location", "Retry-After"} <= exposed
    assert "access-control-allow-credentials" not in simple.headers
    # Even with the session cookie: a browser shares nothing credentialed without
    # Access-Control-Allow-Credentials, which is never sent.
    cookie = anonymous.get(ITEMS, headers={"Origin": FOREIGN, "Cookie": "arealsjekk_session=x"})
    assert "access-control-allow-credentials" not in cookie.headers


def test_the_api_answers_only_configured_origins(anonymous, api_keys, override_settings):
    """/api/v1 allows the origins in cors_origins (default none), without credentials."""
    assert Settings().cors_origins == []
    assert preflight(anonymous, "/api/v1/proposals", ALLOWED).status_code == 400

    override_settings(cors_origins=[ALLOWED])
    answer = preflight(anonymous, "/api/v1/proposals", ALLOWED, "POST", "authorization,x-api-key")
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed_headers = answer.headers["access-control-allow-headers"].lower()
    assert {"authorization", "x-api-key", "idempotency-key"} <= set(allowed_headers.split(", "))
    assert "origin" in vary(answer.headers)
    assert "access-control-allow-credentials" not in answer.headers

    refused = preflight(anonymous, "/api/v1/proposals", FOREIGN, "POST", "authorization")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    key = {"Authorization": f"Bearer {api_keys['planner_3326']}"}
    allowed = anonymous.get("/api/v1/proposals", headers={"Origin": ALLOWED, **key})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "origin" in vary(allowed.headers)
    foreign = anonymous.get("/api/v1/proposals", headers={"Origin": FOREIGN, **key})
    assert foreign.status_code == 200  # the browser, not the server, withholds the answer
    assert "access-control-allow-origin" not in foreign.headers
    # The pages are for this origin alone.
    assert (
        "access-control-allow-origin" not in anonymous.get("/", headers={"Origin": ALLOWED}).headers
    )


def test_cors_origins_setting(monkeypatch):
    """AREALSJEKK_CORS_ORIGINS is a JSON list of origins; paths and other schemes are refused."""
    monkeypatch.setenv("AREALSJEKK_CORS_ORIGINS", '["https://Sak.Drammen.Kommune.no/", "*"]')
    assert Settings().cors_origins == [ALLOWED, "*"]
    for bad in ('["https://sak.drammen.kommune.no/api"]', '["ftp://x.no"]', '["sak.no"]'):
        monkeypatch.setenv("AREALSJEKK_CORS_ORIGINS", bad)
        with pytest.raises(ValueError, match="cors_origins"):
            Settings()


# --- gzip -----------------------------------------------------------------------------


def test_large_geojson_is_gzipped_and_png_is_not(wire_server, tmp_path):
    """A 2 000-feature GeoJSON page comes gzipped to a client that accepts it, and whole
    without; a PNG map is never gzipped. Both vary with Accept-Encoding."""
    load_vector_layer("mineral_deposits", deposits(2000), tmp_path)
    path = f"{ITEMS}?limit=2000"
    status, zipped_headers, zipped = fetch(wire_server, path, headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert header(zipped_headers, "Content-Encoding") == "gzip"
    assert int(header(zipped_headers, "Content-Length")) == len(zipped)
    status, plain_headers, plain = fetch(wire_server, path)
    assert status == 200 and header(plain_headers, "Content-Encoding") is None
    assert len(zipped) * 5 < len(plain)
    page, unzipped = json.loads(plain), json.loads(gzip.decompress(zipped))
    assert unzipped["numberReturned"] == page["numberReturned"] == 2000
    assert unzipped["features"] == page["features"]
    for headers in (zipped_headers, plain_headers):
        assert "accept-encoding" in {v.strip().lower() for v in header(headers, "Vary").split(",")}
    # The same data: the same (weak) tag in either encoding.
    assert header(zipped_headers, "ETag") == header(plain_headers, "ETag")

    getmap = (
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=mineral_deposits&STYLES="
        f"&CRS=EPSG:25832&BBOX={X0},{Y0},{X0 + 10_000},{Y0 + 8_000}&WIDTH=512&HEIGHT=410"
        "&FORMAT=image/png&TRANSPARENT=TRUE"
    )
    status, headers, png = fetch(wire_server, getmap, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and header(headers, "Content-Type") == "image/png"
    assert header(headers, "Content-Encoding") is None
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1024


def streaming_app(size: int) -> Starlette:
    """A tiny app streaming `size` bytes of JSON-ish text in 64 KiB chunks, behind the
    service's web middlewares in the service's order."""

    async def chunks():
        sent = 0
        while sent < size:
            piece = min(64 * 1024, size - sent)
            yield (b'{"n":1},' * (piece // 8 + 1))[:piece]
            sent += piece

    async def endpoint(request):
        return StreamingResponse(chunks(), media_type="application/json")

    app = Starlette(routes=[Route("/ogcapi/stream", endpoint)])
    for middleware in (HttpCacheMiddleware, CompressionMiddleware, CorsMiddleware):
        app = middleware(app)
    return HeaderCaseMiddleware(HeadMiddleware(app))


@pytest.mark.parametrize("size", [300 * 1024, MAX_BUFFERED_BYTES + 3 * 64 * 1024])
def test_streamed_answers_stay_whole(size):
    """A streamed answer is tagged while it is small enough to hold, and sent on untagged
    when it is longer; gzipped or not, the client gets every byte."""
    with serve(streaming_app(size), WIRE_PROTOCOL) as url:
        status, plain_headers, plain = fetch(url, "/ogcapi/stream")
        _, zipped_headers, zipped = fetch(
            url, "/ogcapi/stream", headers={"Accept-Encoding": "gzip"}
        )
        head_status, head_headers, head_body = fetch(url, "/ogcapi/stream", "HEAD")
    assert status == 200 and len(plain) == size
    assert gzip.decompress(zipped) == plain
    assert header(zipped_headers, "Content-Encoding") == "gzip"
    assert head_status == 200 and head_body == b""
    tagged = header(plain_headers, "ETag")
    if size <= MAX_BUFFERED_BYTES:
        assert tagged and header(plain_headers, "Content-Length") == str(size)
        assert header(head_headers, "Content-Length") == str(size)
    else:
        assert tagged is None and header(plain_headers, "Transfer-Encoding") == "chunked"


# --- ETag, 304 and Cache-Control ------------------------------------------------------------


def revalidates(client, path: str, **headers: str):
    """GET path twice, the second time with the first answer's ETag; return both answers."""
    first = client.get(path, headers=headers)
    assert first.status_code == 200, first.text
    second = client.get(path, headers={**headers, "If-None-Match": first.headers["etag"]})
    return first, second


def test_if_none_match_follows_rfc_9110():
    """Weak comparison; a list of tags; `*`; nothing for an absent header."""
    tag = 'W/"abc"'
    assert none_match('"abc"', tag) and none_match('W/"abc"', tag)
    assert none_match('"x", W/"abc"', tag) and none_match(" * ", tag)
    assert not none_match('"abcd"', tag) and not none_match(None, tag)
    assert not none_match('"x", "y"', tag)


def test_capabilities_answer_304_while_unchanged(anonymous, minerals, tmp_path):
    """GetCapabilities is tagged; the tag answers 304 (no body) until the layers change."""
    first, second = revalidates(anonymous, CAPABILITIES)
    assert first.headers["etag"].startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=60, must-revalidate"
    assert second.status_code == 304 and second.content == b""
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == first.headers["cache-control"]
    assert "accept-encoding" in vary(second.headers)

    hub = {"geometry": Point(X0, Y0), "name": "Tuv"}
    load_vector_layer("transport_hubs", [hub], tmp_path)
    changed = anonymous.get(CAPABILITIES, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


def test_items_and_features_answer_304_until_the_data_change(anonymous, client, tmp_path):
    """Item pages carry the time they were made, yet keep their tag while the data stay;
    a new layer version or a new proposal changes it."""
    load_vector_layer("mineral_deposits", deposits(3), tmp_path)
    for path in (ITEMS, f"{ITEMS}?limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/25832"):
        first, second = revalidates(anonymous, path)
        assert second.status_code == 304, path
        assert second.content == b""
    feature_id = anonymous.get(ITEMS).json()["features"][0]["id"]
    _, again = revalidates(anonymous, f"{ITEMS}/{feature_id}")
    assert again.status_code == 304
    landing, landing_again = revalidates(anonymous, "/ogcapi/collections")
    assert landing_again.status_code == 304
    # The HTML representation (f=html or Accept: text/html) has a tag of its own, and the
    # answers say that they vary with Accept.
    assert "accept" in vary(landing.headers)
    page, page_again = revalidates(anonymous, ITEMS, Accept="text/html")
    assert page.headers["content-type"].startswith("text/html")
    assert page_again.status_code == 304
    assert page.headers["etag"] != anonymous.get(ITEMS).headers["etag"]
    assert "accept" in vary(page.headers)
    assert revalidates(anonymous, f"{ITEMS}?f=html")[1].status_code == 304

    first = anonymous.get(ITEMS)
    time.sleep(1.1)  # a later timeStamp
    assert anonymous.get(ITEMS).headers["etag"] == first.headers["etag"]
    load_vector_layer("mineral_deposits", deposits(4), tmp_path)
    changed = anonymous.get(ITEMS, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["numberMatched"] == 4
    assert changed.headers["etag"] != first.headers["etag"]

    proposals = "/ogcapi/collections/proposals/items"
    before = anonymous.get(proposals).headers["etag"]
    geometry = box(X0, Y0, X0 + 200, Y0 + 100).__geo_interface__
    plan = feature(geometry, "BFR1", arealformal=1120, arealbruksstatus=2, feltnavn="BFR1")
    uploaded = client.post("/api/v1/proposals", content=encode(collection(plan, crs=UTM32)))
    assert uploaded.status_code == 201, uploaded.text
    published = client.post(f"/api/v1/proposals/{uploaded.json()['proposal_id']}/publish")
    assert published.status_code == 200, published.text
    after = anonymous.get(proposals, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before


def tile_of(x: float, y: float, zoom: int) -> morecantile.Tile:
    """The WebMercatorQuad tile holding an EPSG:25832 point."""
    lon, lat = TO_LONLAT.transform(x, y)
    return morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)


def test_tiles_answer_304_until_the_data_change(anonymous, tmp_path):
    """Vector and raster tiles keep the tiles' own Cache-Control and answer 304 to their tag;
    a new layer version changes the tag."""
    load_vector_layer("mineral_deposits", deposits(3), tmp_path)
    tile = tile_of(X0 + 50, Y0 + 50, 12)
    vector = f"/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}"
    raster = f"/tiles/mineral_deposits/WebMercatorQuad/12/{tile.y}/{tile.x}.png"
    tags = {}
    for path in (vector, raster):
        first, second = revalidates(anonymous, path)
        assert second.status_code == 304 and second.content == b"", path
        assert first.headers["cache-control"] == "public, max-age=60, must-revalidate"
        tags[path] = first.headers["etag"]
    load_vector_layer("mineral_deposits", deposits(60), tmp_path)
    for path in (vector, raster):
        changed = anonymous.get(path, headers={"If-None-Match": tags[path]})
        assert changed.status_code == 200 and changed.headers["etag"] != tags[path], path


@pytest.mark.parametrize(
    "credential",
    [
        {"Authorization": "Bearer {key}"},
        {"X-API-Key": "{key}"},
        {"Cookie": "theme=dark; arealsjekk_session=abc"},
    ],
    ids=["bearer", "x-api-key", "session-cookie"],
)
def test_answers_to_requests_with_credentials_are_private(anonymous, api_keys, credential):
    """A shared cache keeps no answer given to a request with an API key or a session."""
    headers = {k: v.format(key=api_keys["planner_3326"]) for k, v in credential.items()}
    for path in ("/ogcapi/collections", CAPABILITIES):
        cache_control = anonymous.get(path, headers=headers).headers["cache-control"]
        assert cache_control.startswith("private"), (path, cache_control)
        public = anonymous.get(path).headers["cache-control"]
        assert public.startswith("public")
    # The API's answers may depend on the caller (drafts): private, revalidated each time.
    if "Cookie" not in headers:
        mine = anonymous.get("/api/v1/proposals", headers=headers)
        assert mine.status_code == 200
        assert mine.headers["cache-control"] == "private, no-cache"
    assert anonymous.get("/api/v1/proposals").headers["cache-control"] == "private, no-cache"


def test_a_304_on_the_wire_keeps_the_connection(wire_server, minerals):
    """uvicorn sends the 304 without a body, and the connection serves the next request."""
    parts = urlsplit(wire_server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", CAPABILITIES, headers={"Accept-Encoding": "gzip"})
        first = connection.getresponse()
        first.read()
        etag = first.getheader("ETag")
        connection.request("GET", CAPABILITIES, headers={"If-None-Match": etag})
        again = connection.getresponse()
        assert again.status == 304 and again.read() == b""
        assert again.getheader("ETag") == etag
        assert again.getheader("Cache-Control") == first.getheader("Cache-Control")
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_no_store_answers_get_no_tag(client):
    """Who is signed in is never kept anywhere: the session answer keeps its no-store."""
    answer = client.get("/api/v1/session")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "etag" not in answer.headers


# --- HEAD -------------------------------------------------------------------------------


def test_head_is_get_without_the_body(wire_server, minerals):
    """HEAD answers every GET route, mount and page with GET's status and headers, no body."""
    tile = tile_of(X0 + 50, Y0 + 50, 12)
    paths = [
        "/",
        "/forum",
        "/static/app.js",
        "/healthz",
        "/api/v1/openapi.json",
        "/api/v1/proposals",
        CAPABILITIES,
        "/ogcapi",
        f"{ITEMS}?limit=2",
        "/tiles",
        f"/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}",
        "/ogcapi/collections/nothing",
    ]
    for path in paths:
        for encoding in ({}, {"Accept-Encoding": "gzip"}):
            status, get_headers, body = fetch(wire_server, path, headers=encoding)
            head_status, head_headers, head_body = fetch(wire_server, path, "HEAD", encoding)
            assert head_status == status and status in (200, 404), (path, status)
            assert head_body == b"", path
            assert body, path
            drop = {"date", "x-request-id"}  # a fresh id on every answer
            assert [h for h in head_headers if h[0].lower() not in drop] == [
                h for h in get_headers if h[0].lower() not in drop
            ], path
