"""gzip for text answers (JSON, GeoJSON, XML, HTML, vector tiles) when the client accepts it.

Starlette's GZipMiddleware does the work (streamed answers are compressed chunk by chunk, large
chunks in a worker thread). Formats that are compressed already (PNG, JPEG, PDF, zip,
GeoPackage) are sent as they are: gzip would cost time and gain nothing.
"""

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.wire import add_vary

# Starlette's list (images, audio, video, archives, event streams) and the compressed
# formats this service sends: PDF reports, GeoTIFFs, GeoPackage and SQLite downloads.
EXCLUDED_TYPES = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "image/tiff",
    "application/geopackage+sqlite3",
    "application/vnd.sqlite3",
    "application/x-sqlite3",
)
# Smaller answers fit a packet or two either way.
MINIMUM_SIZE = 1024
# zlib's default level: level 9 costs far more time for a few per cent on GeoJSON.
COMPRESS_LEVEL = 6


def is_compressible(content_type: str) -> bool:
    """Tell whether an answer of this Content-Type is gzipped for clients that accept it."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not media_type:
        return False
    family = media_type.split("/", 1)[0] + "/*"
    return media_type not in EXCLUDED_TYPES and family not in EXCLUDED_TYPES


class CompressionMiddleware:
    """ASGI middleware gzipping compressible answers (for clients that accept gzip)."""

    def __init__(self, app: ASGIApp) -> None:
        self.gzip = GZipMiddleware(
            app,
            minimum_size=MINIMUM_SIZE,
            compresslevel=COMPRESS_LEVEL,
            exclude_content_types=EXCLUDED_TYPES,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Compress the answer when the client accepts gzip."""
        if scope["type"] != "http":
            await self.gzip(scope, receive, send)
            return

        async def send_weakened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Every answer of a compressible type varies with Accept-Encoding, also one
                # too small to be compressed (RFC 9110 §12.5.5): the next may be larger.
                if is_compressible(headers.get("content-type", "")):
                    add_vary(headers, "Accept-Encoding")
                etag = headers.get("etag")
                # A strong validator names exact bytes; the gzipped bytes differ from those
                # the route tagged (RFC 9110 §8.8.1), and each encoding is still the same
                # data, which a weak validator says (as nginx does).
                if etag and "content-encoding" in headers and not etag.startswith("W/"):
                    headers["ETag"] = "W/" + etag
            await send(message)

        await self.gzip(scope, receive, send_weakened)
