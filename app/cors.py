"""CORS (the Fetch standard's cross-origin requests) for web maps and web clients on other sites.

Two policies, both through Starlette's CORSMiddleware and neither with credentials (no
Access-Control-Allow-Credentials: a browser never sends the session cookie cross-origin, and
an API key travels only in a header a script sets on purpose):
- the public read services (WMS, WMTS, OGC API, tiles, the OpenAPI document; see
  app.http_cache.is_public_read) serve published data to anyone: any origin may read them
  with GET and HEAD, as web maps on other sites load layers from GeoServer or pygeoapi;
- /api/v1 answers only the origins in `cors_origins` (AREALSJEKK_CORS_ORIGINS, a JSON list
  such as ["https://sak.drammen.kommune.no"]), default none: a case system's web client on
  another origin must be named before its scripts may call the API with a key.
Preflight requests (OPTIONS with Access-Control-Request-Method) are answered here, before
any route.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.http_cache import is_public_read
from app.limits import request_settings

# Response headers a script on another origin may read beyond the CORS-safelisted ones.
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Content-Crs",
    "Location",
    "Retry-After",
    "Content-Location",
    "Idempotent-Replayed",
    "WWW-Authenticate",
)
# Browsers cache a preflight answer this long (Chromium caps it at 2 hours).
PREFLIGHT_MAX_AGE_S = 3600
API_PREFIX = "/api/v1"
API_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
API_REQUEST_HEADERS = (
    "Authorization",
    "X-API-Key",
    "Idempotency-Key",
    "Content-Type",
    "If-None-Match",
)


def _public_policy(app: ASGIApp) -> CORSMiddleware:
    return CORSMiddleware(
        app,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["If-None-Match", "If-Modified-Since"],
        allow_credentials=False,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_S,
    )


def _api_policy(app: ASGIApp, origins: tuple[str, ...]) -> CORSMiddleware:
    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=API_METHODS,
        allow_headers=API_REQUEST_HEADERS,
        allow_credentials=False,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_S,
    )


class CorsMiddleware:
    """ASGI middleware applying the public or the API CORS policy by path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.public = _public_policy(app)
        # One policy per configured origin list (tests change the settings per app).
        self.api: dict[tuple[str, ...], CORSMiddleware] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight, or add the CORS headers to the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if is_public_read(path):
            await self.public(scope, receive, send)
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            origins = tuple(request_settings(scope).cors_origins)
            policy = self.api.get(origins)
            if policy is None:
                policy = self.api[origins] = _api_policy(self.app, origins)
            await policy(scope, receive, send)
        else:
            # The pages and their files are for this origin only.
            await self.app(scope, receive, send)
