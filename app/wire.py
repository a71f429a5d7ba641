"""What goes on the wire: header names in their usual capitalisation, and HEAD for every GET.

Header names are case-insensitive (RFC 9110 §5.1), but some clients look them up by their
usual spelling: QGIS 3.22 reads the GetFeatureInfo `Content-Type` case-sensitively and took
our JSON for GML when it arrived as `content-type`. Starlette keeps header names lowercase,
so the outermost middleware writes them canonically; uvicorn's h11 implementation sends
names as given, while its httptools implementation lowercases every name, so the service
runs uvicorn with h11 (WIRE_PROTOCOL; `arealsjekk serve` passes it).

HEAD is answered exactly as GET without the body (RFC 9110 §9.3.2) for every route, mount and
page: FastAPI's routes answer only the methods they declare (a GET route answers HEAD 405).
"""

from functools import lru_cache

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# uvicorn's `http` option: the implementation that keeps header names as the app writes them.
WIRE_PROTOCOL = "h11"

# Names whose usual spelling is not each hyphenated word capitalised.
SPECIAL_NAMES = {
    b"etag": b"ETag",
    b"www-authenticate": b"WWW-Authenticate",
    b"content-md5": b"Content-MD5",
    b"te": b"TE",
    b"x-xss-protection": b"X-XSS-Protection",
    b"x-request-id": b"X-Request-ID",
}


@lru_cache(maxsize=512)
def canonical_name(name: bytes) -> bytes:
    """Return a header name in its usual capitalisation (content-type → Content-Type)."""
    lower = name.lower()
    special = SPECIAL_NAMES.get(lower)
    if special is not None:
        return special
    return b"-".join(part[:1].upper() + part[1:] for part in lower.split(b"-"))


def add_vary(headers: MutableHeaders, *names: str) -> None:
    """Add field names to Vary, listing each name once (Vary is a list, RFC 9110 §12.5.5)."""
    tokens: dict[str, str] = {}
    for value in [*headers.getlist("vary"), *names]:
        for token in value.split(","):
            if token.strip():
                tokens.setdefault(token.strip().lower(), token.strip())
    if tokens:
        headers["Vary"] = ", ".join(tokens.values())


class HeaderCaseMiddleware:
    """ASGI middleware writing every response header name in its canonical capitalisation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rename the response headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_canonical(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (canonical_name(name), value) for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_canonical)


class HeadMiddleware:
    """ASGI middleware answering HEAD as GET with the same headers and no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run a HEAD request as a GET and drop the body of its answer."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] in ("http.response.body", "http.response.pathsend"):
                # Content-Length stays that of the GET answer (RFC 9110 §8.6).
                more_body = message.get("more_body", False)
                await send({"type": "http.response.body", "body": b"", "more_body": more_body})
            else:
                await send(message)

        # A copy: the server reads the original scope's method to know it sends no body.
        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
