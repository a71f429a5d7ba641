"""A cap on every request body, counted as the bytes arrive (before anything buffers them).

Uploads (the plan and layer file endpoints) may send up to AREALSJEKK_MAX_UPLOAD_BYTES; every
other endpoint takes small JSON bodies. A body whose Content-Length is over the limit is
refused before a byte of it is read; a chunked body (no Content-Length) is refused as soon
as the bytes received pass the limit (RFC 9110 §15.5.14, 413 Content Too Large; OWASP API4:2023
"Unrestricted Resource Consumption"). The refusal is the only answer to the request: what
the application was doing with the partial body is dropped.

Starlette's RequestBodyLimitMiddleware (and FastAPI's max_body_size) fix one limit per route
when the routes are built; here the upload limit is a setting read per request, and the
answer is a problem document naming the limit.
"""

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_JSON, problem_body
from app.language import current_language
from app.settings import Settings, get_settings
from spatial.errors import PayloadTooLargeError, Problem
from spatial.messages import Text

# The routes that take a plan or layer file (app.dependencies.uploaded_file); every other
# request body is JSON of a few kilobytes (check options, reviews, webhooks).
UPLOAD_PATHS = tuple(
    re.compile(pattern)
    for pattern in (
        r"/api/v1/proposals",
        r"/api/v1/check",
        r"/api/v1/plans/[^/]+/[^/]+/versions",
        r"/api/v1/layers/[^/]+/versions",
    )
)
# A multipart form wraps the file in boundaries and part headers, allowed on top of
# max_upload_bytes; the file itself is held to it by app.dependencies.uploaded_file.
MULTIPART_ALLOWANCE = 64 * 1024
MAX_JSON_BODY_BYTES = 1024 * 1024


class BodyTooLargeError(PayloadTooLargeError):
    """The request body is over the limit for its endpoint (413)."""


def request_settings(scope: Scope) -> Settings:
    """Return the settings of the request's app (tests override get_settings on the app)."""
    overrides = getattr(scope.get("app"), "dependency_overrides", {})
    return overrides.get(get_settings, get_settings)()


def is_upload(scope: Scope) -> bool:
    """True for requests to an endpoint that takes a plan or layer file."""
    return scope.get("method") == "POST" and any(
        pattern.fullmatch(scope.get("path", "")) for pattern in UPLOAD_PATHS
    )


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"multipart/form-data"
    return False


def body_limit(scope: Scope, settings: Settings | None = None) -> int:
    """Return the largest body, in bytes, the request's endpoint accepts."""
    if not is_upload(scope):
        return MAX_JSON_BODY_BYTES
    limit = (settings or request_settings(scope)).max_upload_bytes
    return limit + MULTIPART_ALLOWANCE if _is_multipart(scope) else limit


def too_large(limit: int, declared: int | None = None) -> BodyTooLargeError:
    """Return the error for a body over `limit` (of `declared` bytes when that is known)."""
    if declared is not None:
        size = Text(f"er {declared} byte", f"is {declared} bytes")
    else:
        size = Text("går forbi grensen", "goes on past the limit")
    return BodyTooLargeError(
        Text(
            f"innholdet i forespørselen {size.nb}; grensen er {limit} byte",
            f"the request body {size.en}; the limit is {limit} bytes",
        ),
        [Problem(Text(f"større enn {limit} byte", f"larger than {limit} bytes"), field="body")],
    )


async def read_body(receive: Receive, limit: int) -> bytes:
    """Read a whole request body, raising BodyTooLargeError once it passes `limit`."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; what came is all there is
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_too_large(scope: Scope, send: Send, error: BodyTooLargeError) -> None:
    """Answer 413 with a problem document."""
    language = current_language()
    body = json.dumps(
        problem_body(
            413,
            error.detail,
            "payload-too-large",
            scope.get("path"),
            [problem.as_dict(language) for problem in error.problems],
            language,
        )
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", b"%d" % len(body)),
        (b"content-language", language.encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            # The server has checked the header's syntax; anything odd is left to it.
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    """ASGI middleware refusing request bodies over their endpoint's limit with 413."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the body's bytes as the application receives them; refuse past the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await send_too_large(scope, send, too_large(limit, declared))
            return

        received = 0
        refusal: BodyTooLargeError | None = None
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refusal
            if refusal is not None:
                raise refusal
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refusal = too_large(limit)
                    raise refusal
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refusal is not None and not started:
                return  # the application's answer to a cut-off body (e.g. a 400) is not sent
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLargeError as exc:
            if started:
                raise
            refusal = refusal or exc
        if refusal is not None and not started:
            await send_too_large(scope, send, refusal)
