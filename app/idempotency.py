"""Idempotency-Key for POST requests: a retried request gets the first answer again.

The same key with the same request (method, path, query and body) replays the stored
response; the same key with a different request is a 409. Keys are scoped to the API key
that sent them (by a hash of the credential), so clients cannot collide with each other.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import get_sessionmaker
from app.errors import DATABASE_UNAVAILABLE, database_unavailable_response, problem_body
from app.models import IdempotencyRecordOrm

logger = logging.getLogger(__name__)

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
# Headers worth replaying; the rest (date, server) belong to the original answer.
REPLAYED_HEADERS = ("content-type", "location", "content-crs")
# A claim without an answer after this long belongs to a request whose answer could not be
# recorded; a retry may take it over. Far longer than any request takes.
ABANDONED_AFTER = timedelta(minutes=10)


def _problem(status: int, detail: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(problem_body(status, detail, "idempotency")).encode()
    return status, [(b"content-type", b"application/problem+json")], body


def _scope_of(headers: dict[bytes, bytes]) -> str:
    credential = headers.get(b"authorization") or headers.get(b"x-api-key") or b"anonymous"
    return hashlib.sha256(credential).hexdigest()


def _claim(scope: str, key: str, method: str, path: str, digest: str):
    """Return a stored answer, a conflict, or None after reserving the key for this request."""
    with get_sessionmaker()() as session:
        record = session.execute(
            select(IdempotencyRecordOrm).where(
                IdempotencyRecordOrm.scope == scope, IdempotencyRecordOrm.key == key
            )
        ).scalar_one_or_none()
        if record is None:
            session.add(
                IdempotencyRecordOrm(
                    scope=scope, key=key, method=method, path=path, request_sha256=digest
                )
            )
            try:
                session.commit()
                return None
            except IntegrityError:
                session.rollback()
                return _problem(409, "a request with this Idempotency-Key is being processed")
        if record.request_sha256 != digest:
            return _problem(
                409,
                "this Idempotency-Key was used for a different request; use a new key "
                "for a new request",
            )
        if record.response_status is None:
            if record.created_at > datetime.now(UTC) - ABANDONED_AFTER:
                return _problem(409, "a request with this Idempotency-Key is being processed")
            # Its answer was never recorded (the database went away mid-request): take over.
            record.created_at = func.now()
            session.commit()
            return None
        headers = [(k.encode(), v.encode()) for k, v in (record.response_headers or {}).items()]
        headers.append((b"idempotent-replayed", b"true"))
        return record.response_status, headers, record.response_body or b""


def _store(scope: str, key: str, status: int, headers: dict[str, str], body: bytes) -> None:
    with get_sessionmaker()() as session:
        record = session.execute(
            select(IdempotencyRecordOrm).where(
                IdempotencyRecordOrm.scope == scope, IdempotencyRecordOrm.key == key
            )
        ).scalar_one()
        record.response_status = status
        record.response_headers = headers
        record.response_body = body
        session.commit()


def _release(scope: str, key: str) -> None:
    with get_sessionmaker()() as session:
        session.execute(
            delete(IdempotencyRecordOrm).where(
                IdempotencyRecordOrm.scope == scope, IdempotencyRecordOrm.key == key
            )
        )
        session.commit()


class IdempotencyMiddleware:
    """ASGI middleware giving POST requests with an Idempotency-Key at-most-once effects."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Replay, refuse or record a POST that carries an Idempotency-Key."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send(send, *_problem(400, "Idempotency-Key must be 1-255 printable characters"))
            return

        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        query = scope.get("query_string", b"")
        digest = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"?" + query + b"\n" + body
        ).hexdigest()
        owner = _scope_of(headers)
        try:
            earlier = await run_in_threadpool(
                _claim, owner, key, scope["method"], scope["path"], digest
            )
        except DATABASE_UNAVAILABLE as exc:
            # This middleware runs outside the app's exception handlers: answer like them.
            response = database_unavailable_response(scope["method"], scope["path"], exc)
            await response(scope, receive, send)
            return
        if earlier is not None:
            await _send(send, *earlier)
            return

        replayed = False

        async def replay_body() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        response_headers: list[tuple[bytes, bytes]] = []
        response_body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            try:
                # Server errors and refused credentials are not answers worth replaying.
                if status >= 500 or status in (401, 403):
                    await run_in_threadpool(_release, owner, key)
                else:
                    kept = {
                        k.decode(): v.decode()
                        for k, v in response_headers
                        if k.decode().lower() in REPLAYED_HEADERS
                    }
                    answer = b"".join(response_body)
                    await run_in_threadpool(_store, owner, key, status, kept, answer)
            except DATABASE_UNAVAILABLE:
                # The answer is sent but cannot be kept; the claim expires after
                # ABANDONED_AFTER, so a retry is not refused for ever.
                logger.warning("could not record the answer to Idempotency-Key %r", key)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
