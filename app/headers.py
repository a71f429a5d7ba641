"""Security headers on every response: a Content-Security-Policy on documents, nosniff on all.

Follows the OWASP Secure Headers Project and the OWASP XSS Prevention Cheat Sheet: the pages
insert every value from the API as text, and the policy is the second line of defence should
one slip through (CSP Level 3, https://www.w3.org/TR/CSP3/).
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import get_settings


def content_security_policy(img_origins: tuple[str, ...] = ()) -> str:
    """The policy, with img-src also allowing the given origins (the configured base map)."""
    return CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data: blob:", " ".join(("img-src 'self' data: blob:", *img_origins))
    )


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # Scripts only from files of this service: no inline script, no event handler
        # attributes, no eval. The pages and the Swagger UI page load everything from files.
        "script-src 'self'",
        # 'unsafe-inline' for styles only: the reports are self-contained documents with an
        # embedded stylesheet and style attributes (they are also saved as files and laid
        # out by WeasyPrint, so they cannot link a stylesheet), and Swagger UI sets style
        # attributes. CSS cannot run script, and no page builds markup from data.
        "style-src 'self' 'unsafe-inline'",
        # Map tiles and WMS images come from this service; the reports embed their maps as
        # data: URLs, and stylesheets (Swagger UI, Leaflet) use data: images.
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
# Responses a browser shows as a document that can run script: the policy goes on these.
DOCUMENT_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
)


def is_document(content_type: str) -> bool:
    """Tell whether a Content-Type is one a browser renders as a (scriptable) document."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in DOCUMENT_TYPES or media_type.endswith("+xml")


class SecurityHeadersMiddleware:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The map page loads base-map tiles from the configured tile service, and only there.
        origin = get_settings().basemap_origin
        self.policy = content_security_policy((origin,) if origin else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                # Every response: no MIME sniffing (a JSON or text body is never run as
                # script or shown as HTML), no URL of ours in other sites' logs.
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if is_document(headers.get("content-type", "")):
                    headers.setdefault("Content-Security-Policy", self.policy)
                    # frame-ancestors for browsers without CSP Level 2 (clickjacking).
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
