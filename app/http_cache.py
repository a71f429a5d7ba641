"""ETag, Cache-Control and 304 Not Modified for GET answers (RFC 9110 §8.8, §13; RFC 9111).

Every 200 answer to a GET (and so HEAD) gets a weak ETag over its representation (the body
with its Content-Type, Content-Crs and Content-Language), unless the route set one itself or
said no-store; a request whose If-None-Match names it gets 304 without a body (RFC 9110
§13.1.2, weak comparison). The tag follows the data: a new layer version, proposal version
or check changes the body and so the tag. OGC API item pages carry `timeStamp`, the time the
page was made, which is not part of the data: it is left out of the tag, so a weak tag
(semantically equivalent, §8.8.1) is the right kind.

Cache-Control, unless the route set its own:
- the public read services (WMS, WMTS, OGC API, tiles, the OpenAPI document) answer the same
  to everyone: a short max-age (`public_cache_max_age_s`) and revalidation after that, as
  the data change when layers or proposals change. A request with credentials (API key,
  session cookie) gets `private` instead of `public`: RFC 9111 §3.5 keeps shared caches from
  storing answers to authorized requests, and the other credentials are ours alone;
- everything else (/api/v1, the pages) may depend on who asks (drafts are visible to
  their municipality): `private, no-cache`, so only the browser keeps it and asks again
  each time (the ETag makes that a 304).
"""

import hashlib
import re
from http.cookies import CookieError, SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.compression import is_compressible
from app.limits import request_settings
from app.security import SESSION_COOKIE
from app.wire import add_vary

# Paths answered the same to every caller (published data only): any origin may read them
# (app.cors) and shared caches may keep them.
PUBLIC_PREFIXES = ("/wms", "/wmts", "/ogcapi", "/tiles")
PUBLIC_PATHS = frozenset({"/api/v1/openapi.json"})
# Paths whose answer depends on the Accept header (f=html or Accept: text/html, tile formats).
NEGOTIATED_PREFIXES = ("/ogcapi", "/tiles", "/wmts")
# A streamed answer is held back for its ETag up to this size; a longer one is sent on as it
# comes, without an ETag (a one-piece body is in memory already and is always tagged).
MAX_BUFFERED_BYTES = 16 * 1024 * 1024
PRIVATE_NO_CACHE = "private, no-cache"
# Headers a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5).
NOT_MODIFIED_HEADERS = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"}
)
# OGC API – Features Part 1, schema timeStamp: "the time and date when the response was generated".
_TIMESTAMP = re.compile(rb'"timeStamp":\s*"[^"]*"')
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[^"]*")\s*(?:,|$)')


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def is_public_read(path: str) -> bool:
    """Tell whether a path serves the same published data to every caller."""
    return path in PUBLIC_PATHS or _under(path, PUBLIC_PREFIXES)


def has_credentials(headers: Headers) -> bool:
    """Tell whether a request carries an API key or a session cookie."""
    if "authorization" in headers or "x-api-key" in headers:
        return True
    for cookie_header in headers.getlist("cookie"):
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except CookieError:
            # A cookie header we cannot read may still carry the session: assume it does.
            return True
        if SESSION_COOKIE in cookies:
            return True
    return False


def cache_control(path: str, credentials: bool, max_age: int) -> str:
    """Return the Cache-Control for a 200 answer to GET `path` (see the module doc)."""
    if not is_public_read(path):
        return PRIVATE_NO_CACHE
    scope = "private" if credentials else "public"
    return f"{scope}, max-age={max_age}, must-revalidate"


def entity_tag(headers: Headers, body: bytes) -> str:
    """Return the weak ETag of a representation: its body and the headers that describe it."""
    content_type = headers.get("content-type", "")
    if "json" in content_type:
        body = _TIMESTAMP.sub(b'"timeStamp":""', body)
    digest = hashlib.blake2b(digest_size=16)
    for name in ("content-type", "content-crs", "content-language"):
        digest.update(headers.get(name, "").encode("latin-1") + b"\n")
    digest.update(body)
    return f'W/"{digest.hexdigest()}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Tell whether If-None-Match names `etag` by weak comparison (RFC 9110 §13.1.2)."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(match.group(1) == opaque for match in _ENTITY_TAG.finditer(if_none_match))


def not_modified(start: Message) -> list[Message]:
    """Return the 304 answer standing for a 200 whose start message is `start`."""
    headers = [(n, v) for n, v in start.get("headers", []) if n.lower() in NOT_MODIFIED_HEADERS]
    return [
        {"type": "http.response.start", "status": 304, "headers": headers},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


class HttpCacheMiddleware:
    """ASGI middleware adding ETag, Cache-Control and Vary to GET answers, and answering 304."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag the answer; answer 304 when the client has it already."""
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        path = scope["path"]
        if_none_match = request_headers.get("if-none-match")
        credentials = has_credentials(request_headers)
        max_age = request_settings(scope).public_cache_max_age_s

        start: Message | None = None
        held: list[bytes] = []
        held_size = 0
        passing = True  # send on as it comes
        finished = False  # a 304 has been sent: drop the rest of the body

        async def send_cached(message: Message) -> None:
            nonlocal start, held_size, passing, finished
            if finished:
                return
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] not in (200, 304):
                    await send(message)
                    return
                headers.setdefault("Cache-Control", cache_control(path, credentials, max_age))
                vary = ["Accept"] if _under(path, NEGOTIATED_PREFIXES) else []
                if is_compressible(headers.get("content-type", "")):
                    vary.append("Accept-Encoding")
                add_vary(headers, *vary)
                if message["status"] == 304:
                    # The route's own 304 (static files): it gets the same caching headers.
                    await send(message)
                    return
                if "no-store" in headers["cache-control"].lower():
                    await send(message)
                elif "etag" in headers:
                    # The route tagged it: compare now, before its body is made to wait.
                    if none_match(if_none_match, headers["etag"]):
                        finished = True
                        for answer in not_modified(message):
                            await send(answer)
                    else:
                        await send(message)
                else:
                    start, passing = message, False
                return
            if passing or start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            held.append(body)
            held_size += len(body)
            if more_body and held_size <= MAX_BUFFERED_BYTES:
                return
            if more_body:
                # Too long to hold: send what came untagged, and the rest as it comes.
                passing = True
                await send(start)
                await send(
                    {"type": "http.response.body", "body": b"".join(held), "more_body": True}
                )
                return
            whole = b"".join(held)
            headers = MutableHeaders(scope=start)
            headers["ETag"] = entity_tag(headers, whole)
            if none_match(if_none_match, headers["etag"]):
                finished = True
                for answer in not_modified(start):
                    await send(answer)
                return
            if "content-length" not in headers:
                headers["Content-Length"] = str(len(whole))
            await send(start)
            await send({"type": "http.response.body", "body": whole, "more_body": False})

        await self.app(scope, receive, send_cached)
