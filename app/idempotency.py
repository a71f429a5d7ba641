"""Idempotency-Key for POST requests: a retried request gets the first answer again.

The same key with the same request replays the stored response; the same key with a
different request is a 409 (IETF draft "The Idempotency-Key HTTP Header Field", §2.2: the
fingerprint is the server's choice). "The same" is judged by meaning, not by bytes
(`request_fingerprint`): a retried multipart upload carries a new random boundary (RFC 7578
§4.1) but the same parts, and a JSON body may be re-serialised with other spacing or key
order. The fingerprint is the method, the path, the query's parameters and the content: for
multipart/form-data the form's charset and the parts' names, filenames, media types and
bytes; for JSON as the readers accept it its canonical form; otherwise the media type and
the bytes. Whatever the service reads differently is fingerprinted differently.

A record belongs to the API key that made it, by the key's id: only that key replays it,
and a revoked or unknown key is refused (401) before any record is looked up. Records
expire after `idempotency_ttl_s`; an expired key counts as new, and expired records are
purged as new ones are made. Requests without an API key pass through
untouched (every POST needs one and answers 401 itself).

The body is read within the request body limit (app.limits) before anything is recorded,
and refused answers (401, 403, 413, 415, ..., an untrusted Host) and server errors are not
kept: they say nothing about the request's effect, and the retry after a fix must run.
"""

import hashlib
import json
import logging
import math
from datetime import timedelta
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import limits
from app.access import AuthenticationError, authenticate, bearer_token
from app.db import get_sessionmaker
from app.errors import DATABASE_UNAVAILABLE, database_unavailable_response, problem_body
from app.language import current_language
from app.urls import UNTRUSTED_HOST_SLUG
from db.models import IdempotencyRecordOrm
from spatial.messages import Text

logger = logging.getLogger(__name__)

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
# Headers worth replaying; the rest (date, server) belong to the original answer.
REPLAYED_HEADERS = ("content-type", "location", "content-location", "content-crs")
# Answers that refuse the request rather than carry it out are not replayed: by status, and
# by problem type where a status also carries answers about the request itself (a Host the
# service does not trust is about the deployment, fixed by the operator).
NOT_KEPT = frozenset({401, 403, 408, 413, 415, 429})
NOT_KEPT_PROBLEMS = frozenset({UNTRUSTED_HOST_SLUG})
# A claim without an answer after this long belongs to a request whose answer could not be
# recorded; a retry may take it over. Far longer than any request takes.
ABANDONED_AFTER = timedelta(minutes=10)
# Expired records removed per new record: keeps each purge short under any backlog.
PURGE_BATCH = 1000

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


IN_PROGRESS = Text(
    "en forespørsel med denne Idempotency-Key behandles allerede; prøv igjen om litt for å "
    "få svaret",
    "a request with this Idempotency-Key is being processed; try again shortly for its answer",
)
# A retry that overtakes its first request is told apart from a key reused for another
# request (IETF draft "The Idempotency-Key HTTP Header Field" §2.6): its own problem type,
# and when to ask again (RFC 9110 §10.2.3).
IN_PROGRESS_SLUG = "idempotency-in-progress"
IN_PROGRESS_RETRY_AFTER_S = 1


def _in_progress() -> Answer:
    status, headers, body = _problem(409, IN_PROGRESS, IN_PROGRESS_SLUG)
    headers.append((b"retry-after", str(IN_PROGRESS_RETRY_AFTER_S).encode()))
    return status, headers, body


def _problem(
    status: int, detail: Text | str, slug: str = "idempotency", path: str | None = None
) -> Answer:
    body = json.dumps(
        problem_body(status, detail, slug, path, language=current_language())
    ).encode()
    return status, [(b"content-type", b"application/problem+json")], body


def _media_type(content_type: str) -> tuple[str, dict[bytes, bytes]]:
    media_type, options = parse_options_header(content_type)
    return media_type.decode("latin-1").lower(), options


def _marked(value: bytes | None) -> bytes:
    """A parameter marked as absent or present: Starlette tells `filename=""` (a file) from no
    filename (a text field), and refuses a part without a name but not `name=""`."""
    return b"-" if value is None else b"=" + value


def _multipart_parts(body: bytes, boundary: bytes) -> list[tuple[bytes, ...]] | None:
    """Return each part's (name, filename, media type, bytes), or None when the body is no
    valid form."""
    parts: list[tuple[bytes, ...]] = []
    headers: dict[bytes, bytes] = {}
    field: list[bytes] = []
    value: list[bytes] = []
    data: list[bytes] = []

    def header_end() -> None:
        headers[b"".join(field).lower()] = b"".join(value)
        field.clear()
        value.clear()

    def part_end() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        name, filename = options.get(b"name"), options.get(b"filename")
        # The part's media type decides how a file the readers cannot sniff is read.
        media_type, _ = _media_type(headers.get(b"content-type", b"").decode("latin-1"))
        parts.append((_marked(name), _marked(filename), media_type.encode(), b"".join(data)))
        headers.clear()
        data.clear()

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": lambda b, start, end: field.append(b[start:end]),
            "on_header_value": lambda b, start, end: value.append(b[start:end]),
            "on_header_end": header_end,
            "on_part_data": lambda b, start, end: data.append(b[start:end]),
            "on_part_end": part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # noqa: BLE001 - any malformed form: the bytes are its fingerprint
        return None
    if parser.state != MultipartState.END:  # cut short: no closing boundary
        return None
    # Fields are read by name (Starlette's form), so their order carries no meaning.
    return sorted(parts, key=lambda part: part[0])


def _refuse(constant: str) -> float:
    raise ValueError(constant)


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(number)
    return value


def _canonical_json(body: bytes) -> bytes | None:
    """Return JSON in one form (sorted keys, no spaces, UTF-8), or None if it is not JSON."""
    try:
        # Only JSON as the service reads it (RFC 8259 §8.1: UTF-8, no byte order mark); a
        # BOM or UTF-16 body, refused by the readers, is compared by its bytes.
        text = body.decode("utf-8")
        if text.startswith("\ufeff"):
            return None
        # NaN, Infinity and 1e999 are refused by the readers, each with its own message.
        document = json.loads(text, parse_constant=_refuse, parse_float=_finite)
    except (ValueError, RecursionError):
        return None
    try:
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, RecursionError):
        return None


def _content_items(content_type: str, body: bytes) -> list[bytes]:
    media_type, options = _media_type(content_type)
    if media_type == "multipart/form-data" and options.get(b"boundary"):
        parts = _multipart_parts(body, options[b"boundary"])
        if parts is not None:
            # The form's charset decodes its names, filenames and values (RFC 7578 §4.6).
            charset = options.get(b"charset", b"").lower()
            return [b"multipart", charset] + [item for part in parts for item in part]
    if media_type == "application/json" or media_type.endswith("+json"):
        canonical = _canonical_json(body)
        if canonical is not None:
            return [b"json", canonical]
    # Anything else is the plan file itself (the upload reads even curl's default
    # application/x-www-form-urlencoded as the raw file): its bytes, and the media type that
    # decides how a file the readers cannot sniff is read.
    return [b"bytes", media_type.encode(), body]


def request_fingerprint(
    method: str, path: str, query: bytes, content_type: str, body: bytes
) -> str:
    """Return the SHA-256 of a request's meaning: method, path, query parameters, content."""
    # Parameters are read by name, so their order carries no meaning; repeated ones keep
    # theirs. Decoded as Latin-1, percent-escapes and raw bytes compare byte for byte.
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    parameters = sorted(pairs, key=lambda pair: pair[0])
    items = [
        method.encode(),
        path.encode("utf-8", "surrogateescape"),
        b"%d" % len(parameters),
        *(part.encode("latin-1") for pair in parameters for part in pair),
        *_content_items(content_type, body),
    ]
    digest = hashlib.sha256()
    for item in items:  # length-prefixed: no two different lists give the same stream
        digest.update(b"%d:" % len(item))
        digest.update(item)
    return digest.hexdigest()


def _record_of(api_key_id: int, key: str) -> ColumnElement[bool]:
    return (IdempotencyRecordOrm.api_key_id == api_key_id) & (IdempotencyRecordOrm.key == key)


def _purge_expired(session: Session, keep: timedelta) -> None:
    expired = (
        select(IdempotencyRecordOrm.id)
        .where(IdempotencyRecordOrm.created_at < func.now() - keep)
        .order_by(IdempotencyRecordOrm.created_at)
        .limit(PURGE_BATCH)
    )
    session.execute(delete(IdempotencyRecordOrm).where(IdempotencyRecordOrm.id.in_(expired)))


def _api_key_id(token: str, path: str) -> int | Answer:
    """Return the id of the API key the token belongs to, or the 401 answer to send."""
    with get_sessionmaker()() as session:
        try:
            return authenticate(session, token).key_id
        except AuthenticationError as exc:
            status, headers, body = _problem(401, exc.detail, "unauthorized", path)
            headers.append((b"www-authenticate", b'Bearer realm="arealsjekk"'))
            return status, headers, body


def _claim(
    api_key_id: int, key: str, method: str, path: str, digest: str, ttl: timedelta
) -> tuple[int | None, Answer | None]:
    """Return (the key's id, None) after reserving the key, or an answer to send instead."""
    with get_sessionmaker()() as session:
        age = func.now() - IdempotencyRecordOrm.created_at
        row = session.execute(
            select(IdempotencyRecordOrm, age > ttl, age > ABANDONED_AFTER).where(
                _record_of(api_key_id, key)
            )
        ).one_or_none()
        if row is not None and row[1] and row[0].response_status is not None:
            # Past its time an answer is forgotten: the key is new again.
            session.delete(row[0])
            session.flush()
            row = None
        if row is None:
            _purge_expired(session, max(ttl, ABANDONED_AFTER))
            session.add(
                IdempotencyRecordOrm(
                    api_key_id=api_key_id,
                    key=key,
                    method=method,
                    path=path,
                    request_sha256=digest,
                )
            )
            try:
                session.commit()
                return api_key_id, None
            except IntegrityError:
                session.rollback()
                return None, _in_progress()
        record, _, abandoned = row
        if record.request_sha256 != digest:
            return None, _problem(
                409,
                Text(
                    "denne Idempotency-Key er brukt for en annen forespørsel; bruk en ny nøkkel "
                    "for en ny forespørsel",
                    "this Idempotency-Key was used for a different request; use a new key "
                    "for a new request",
                ),
            )
        if record.response_status is None:
            if not abandoned:
                return None, _in_progress()
            # Its answer was never recorded (the database went away mid-request): take over.
            record.created_at = func.now()
            session.commit()
            return api_key_id, None
        headers = [(k.encode(), v.encode()) for k, v in (record.response_headers or {}).items()]
        headers.append((b"idempotent-replayed", b"true"))
        return None, (record.response_status, headers, record.response_body or b"")


def _kept(status: int, headers: list[tuple[bytes, bytes]], body: list[bytes]) -> bool:
    """Tell whether an answer says what the request did, and so is replayed to its retries."""
    if status >= 500 or status in NOT_KEPT:
        return False
    if not dict(headers).get(b"content-type", b"").startswith(b"application/problem+json"):
        return True
    try:
        problem_type = str(json.loads(b"".join(body)).get("type", ""))
    except (ValueError, AttributeError):
        return True
    return problem_type.rsplit("/", 1)[-1] not in NOT_KEPT_PROBLEMS


def _store(api_key_id: int, key: str, status: int, headers: dict[str, str], body: bytes) -> None:
    with get_sessionmaker()() as session:
        # A record purged meanwhile (a TTL shorter than the request) is simply not kept.
        session.execute(
            update(IdempotencyRecordOrm)
            .where(_record_of(api_key_id, key))
            .values(response_status=status, response_headers=headers, response_body=body)
        )
        session.commit()


def _release(api_key_id: int, key: str) -> None:
    with get_sessionmaker()() as session:
        session.execute(delete(IdempotencyRecordOrm).where(_record_of(api_key_id, key)))
        session.commit()


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope["headers"]:
        if header == name:
            return value.decode("latin-1")
    return None


class IdempotencyMiddleware:
    """ASGI middleware giving POST requests with an Idempotency-Key at-most-once effects."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Replay, refuse or record a POST that carries an Idempotency-Key."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = _header(scope, HEADER)
        token = bearer_token(_header(scope, b"authorization"), _header(scope, b"x-api-key"))
        if raw_key is None or token is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send(
                send,
                *_problem(
                    400,
                    Text(
                        "Idempotency-Key må være 1–255 skrivbare tegn",
                        "Idempotency-Key must be 1-255 printable characters",
                    ),
                ),
            )
            return

        try:
            # The key first: an unknown or revoked key is refused before its body is read.
            api_key_id = await run_in_threadpool(_api_key_id, token, scope["path"])
        except DATABASE_UNAVAILABLE as exc:
            response = database_unavailable_response(scope["method"], scope["path"], exc)
            await response(scope, receive, send)
            return
        if not isinstance(api_key_id, int):
            await _send(send, *api_key_id)
            return
        settings = limits.request_settings(scope)
        try:
            body = await limits.read_body(receive, limits.body_limit(scope, settings))
        except limits.BodyTooLargeError as exc:
            await limits.send_too_large(scope, send, exc)
            return
        digest = request_fingerprint(
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            _header(scope, b"content-type") or "",
            body,
        )
        ttl = timedelta(seconds=settings.idempotency_ttl_s)
        try:
            claimed_by, earlier = await run_in_threadpool(
                _claim, api_key_id, key, scope["method"], scope["path"], digest, ttl
            )
        except DATABASE_UNAVAILABLE as exc:
            # This middleware runs outside the app's exception handlers: answer like them.
            response = database_unavailable_response(scope["method"], scope["path"], exc)
            await response(scope, receive, send)
            return
        if earlier is not None:
            await _send(send, *earlier)
            return
        assert claimed_by == api_key_id

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
        recorded = False

        async def record() -> None:
            nonlocal recorded
            recorded = True
            try:
                if not _kept(status, response_headers, response_body):
                    await run_in_threadpool(_release, api_key_id, key)
                else:
                    kept = {
                        k.decode(): v.decode()
                        for k, v in response_headers
                        if k.decode().lower() in REPLAYED_HEADERS
                    }
                    answer = b"".join(response_body)
                    await run_in_threadpool(_store, api_key_id, key, status, kept, answer)
            except DATABASE_UNAVAILABLE:
                # The answer is sent but cannot be kept; the claim expires after
                # ABANDONED_AFTER, so a retry is not refused for ever.
                logger.warning("could not record the answer to Idempotency-Key %r", key)

        async def capture(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the last bytes go out: a client that retries as soon
                    # as it has the answer finds it, not a claim still "being processed".
                    await record()
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            if not recorded:
                await record()


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
