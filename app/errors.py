"""The one place where domain errors become RFC 7807 problem responses."""

import logging
import threading
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.access import AuthenticationError, PermissionDeniedError
from app.language import current_language
from app.observability import REQUEST_ID_HEADER, current_request_id
from app.urls import UNTRUSTED_HOST_SLUG, UntrustedHostError
from layers.loader import LayerLoadError
from layers.raster_files import RasterFileMissingError
from layers.registry import LayerConfigError
from spatial.errors import (
    ArealsjekkError,
    InvalidInputError,
    MalformedInputError,
    NotFoundError,
    PayloadTooLargeError,
    Problem,
    UnsupportedCRSError,
)
from spatial.inputs.formats import UnsupportedFormatError
from spatial.messages import Text, join, localize
from spatial.rules.ruleset import RuleSetError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://arealsjekk.no/problems/"


class UnsupportedMediaTypeError(ArealsjekkError):
    """The request body has a content type the endpoint cannot read."""


class ServiceNotReadyError(ArealsjekkError):
    """Base data the request needs (e.g. municipality boundaries) are not loaded."""


class StateConflictError(ArealsjekkError):
    """The request conflicts with the resource's current state (409), e.g. a re-check
    against a layer version that is no longer current."""


# Checked in order, so subclasses must come before their bases.
STATUS_BY_ERROR: list[tuple[type[ArealsjekkError], int, str]] = [
    (NotFoundError, 404, "not-found"),
    (MalformedInputError, 400, "malformed-input"),
    (InvalidInputError, 422, "invalid-input"),
    (UnsupportedCRSError, 422, "unsupported-crs"),
    (PayloadTooLargeError, 413, "payload-too-large"),
    (UnsupportedMediaTypeError, 415, "unsupported-media-type"),
    (UnsupportedFormatError, 415, "unsupported-format"),
    (ServiceNotReadyError, 503, "service-not-ready"),
    (StateConflictError, 409, "conflict"),
    (AuthenticationError, 401, "unauthorized"),
    (UntrustedHostError, 400, UNTRUSTED_HOST_SLUG),
    (PermissionDeniedError, 403, "forbidden"),
    # A broken rule set or layer config is the operator's to fix, not the client's.
    (RuleSetError, 503, "configuration-error"),
    (LayerConfigError, 503, "configuration-error"),
    (RasterFileMissingError, 503, "layer-unavailable"),
    (LayerLoadError, 422, "invalid-layer-file"),
    (ArealsjekkError, 400, "bad-request"),
]


# RFC 7807 §3.1: the title is a short human-readable summary, in the answer's language.
TITLES_NB = {
    400: "Ugyldig forespørsel",
    401: "Mangler gyldig API-nøkkel",
    403: "Ikke tilgang",
    404: "Finnes ikke",
    405: "Metoden er ikke tillatt",
    406: "Formatet kan ikke leveres",
    409: "Konflikt",
    411: "Lengden mangler",
    412: "Forutsetning ikke oppfylt",
    413: "For stort innhold",
    415: "Filformatet støttes ikke",
    422: "Innholdet kan ikke brukes",
    428: "Forutsetning mangler",
    429: "For mange forespørsler",
    500: "Intern feil",
    503: "Tjenesten er ikke tilgjengelig nå",
    504: "Tidsavbrudd",
}


HTTP_DETAILS_NB = {
    404: "adressen finnes ikke i tjenesten",
    405: "metoden er ikke tillatt for denne adressen",
}


def problem_title(status: int, language: str) -> str:
    """Return the problem title for a status in the language (bokmål unless 'en')."""
    if language != "en" and status in TITLES_NB:
        return TITLES_NB[status]
    return HTTPStatus(status).phrase


def problem_body(
    status: int,
    detail: Text | str,
    slug: str,
    instance: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """The RFC 7807 problem object every error answer of the service carries."""
    language = language or current_language()
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": problem_title(status, language),
        "status": status,
        "detail": localize(detail, language),
    }
    if instance:
        body["instance"] = instance
    if problems:
        body["problems"] = problems
    return body


def problem_response(
    status: int,
    detail: Text | str,
    slug: str,
    instance: str | None = None,
    problems: list[Problem] | None = None,
) -> JSONResponse:
    """Build an RFC 7807 problem+json response in the request's language."""
    language = current_language()
    as_dicts = [p.as_dict(language) for p in problems] if problems else None
    body = problem_body(status, detail, slug, instance, as_dicts, language)
    headers = {"Content-Language": language}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(exc: ArealsjekkError) -> tuple[int, str]:
    for error_type, status, slug in STATUS_BY_ERROR:
        if isinstance(exc, error_type):
            return status, slug
    return 400, "bad-request"


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArealsjekkError)
    status, slug = _status_for(exc)
    response = problem_response(status, exc.detail, slug, request.url.path, exc.problems)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="arealsjekk"'
    return response


# Pydantic's error types (pydantic-core ErrorType) in bokmål; {name} takes the error's ctx.
VALIDATION_NB = {
    "missing": "mangler",
    "string_too_long": "er lengre enn {max_length} tegn",
    "string_too_short": "må ha minst {min_length} tegn",
    "too_long": "har mer enn {max_length} elementer",
    "too_short": "må ha minst {min_length} elementer",
    "string_type": "må være tekst",
    "string_pattern_mismatch": "har feil form (mønster {pattern})",
    "int_parsing": "må være et heltall",
    "int_type": "må være et heltall",
    "int_from_float": "må være et heltall",
    "float_parsing": "må være et tall",
    "float_type": "må være et tall",
    "finite_number": "må være et endelig tall",
    "bool_parsing": "må være true eller false",
    "bool_type": "må være true eller false",
    "greater_than": "må være større enn {gt}",
    "greater_than_equal": "må være minst {ge}",
    "less_than": "må være mindre enn {lt}",
    "less_than_equal": "kan være høyst {le}",
    "literal_error": "må være en av {expected}",
    "enum": "må være en av {expected}",
    "date_parsing": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_parsing": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_type": "må være en dato (ÅÅÅÅ-MM-DD)",
    "datetime_parsing": "må være et tidspunkt (RFC 3339)",
    "datetime_from_date_parsing": "må være et tidspunkt (RFC 3339)",
    "datetime_type": "må være et tidspunkt (RFC 3339)",
    "url_parsing": "må være en gyldig URL",
    "url_scheme": "må være en URL som begynner med {expected_schemes}",
    "url_type": "må være en URL",
    "json_invalid": "er ikke gyldig JSON",
    "json_type": "må være JSON",
    "dict_type": "må være et JSON-objekt",
    "model_type": "må være et JSON-objekt",
    "model_attributes_type": "må være et JSON-objekt",
    "list_type": "må være en liste",
    "extra_forbidden": "er ikke et kjent felt",
    "uuid_parsing": "må være en UUID",
}


def validation_text(error: Mapping[str, Any]) -> Text:
    """Return a pydantic validation error's message in bokmål and English."""
    english = str(error.get("msg", ""))
    template = VALIDATION_NB.get(str(error.get("type", "")))
    if template is None:
        return Text(f"ugyldig verdi ({english})", english)
    try:
        return Text(template.format(**(error.get("ctx") or {})), english)
    except (KeyError, IndexError, ValueError):
        return Text(f"ugyldig verdi ({english})", english)


def validation_problems(errors: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Return pydantic's errors as problems naming the parameter or field."""
    return [
        Problem(validation_text(err), field=".".join(str(part) for part in err["loc"]))
        for err in errors
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = validation_problems(exc.errors())
    detail = join((f"{p.field}: " + p.message for p in problems), "; ")
    return problem_response(422, detail, "invalid-parameter", request.url.path, problems)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    slug = phrase.lower().replace(" ", "-")
    detail = exc.detail if isinstance(exc.detail, Text) else str(exc.detail)
    if detail == phrase:  # Starlette's own answers (no such route, method not allowed)
        detail = Text(
            HTTP_DETAILS_NB.get(exc.status_code, problem_title(exc.status_code, "nb")), phrase
        )
    response = problem_response(exc.status_code, detail, slug, request.url.path)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value taken from the request (an id or offset beyond its integer
    # range, a NUL character in text): the client's to fix. The SQL and the value stay out of
    # the answer and the log, as for any error; the SQLSTATE says which kind it was.
    assert isinstance(exc, DataError)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    logger.info("refused a value the database cannot store (SQLSTATE %s)", sqlstate)
    return problem_response(
        422,
        Text(
            "en verdi i forespørselen er utenfor gyldig område eller inneholder tegn som ikke "
            "kan lagres (som NUL)",
            "a value in the request is out of range or contains characters that cannot be "
            "stored (such as NUL)",
        ),
        "invalid-value",
        request.url.path,
    )


# Seconds a client should wait before retrying while the database is unreachable.
RETRY_AFTER_S = 5


# The database is down, restarting or refusing connections (OperationalError), a pooled
# connection broke (InterfaceError), or no connection was free in time (TimeoutError).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, SQLAlchemyTimeoutError)


class OutageLog:
    """Log the first request the database could not serve, then a count every `every_s`.

    During an outage every request fails alike; one line per request would bury the log
    (hundreds a second under load). After a logged failure the next `every_s` seconds are
    only counted, and a timer writes the count when they are over, so none goes unreported.
    """

    def __init__(self, every_s: float = 10.0):
        self.every_s = every_s
        self._lock = threading.Lock()
        self._counting = False
        self._left_out = 0

    def failed(self, method: str, path: str, cause: str) -> None:
        """Record one failed request: log it, or count it if one was logged moments ago."""
        with self._lock:
            if self._counting:
                self._left_out += 1
                return
            self._counting = True
        timer = threading.Timer(self.every_s, self._report_left_out)
        timer.daemon = True
        timer.start()
        logger.warning("database unavailable on %s %s (%s)", method, path, cause)

    def _report_left_out(self) -> None:
        with self._lock:
            left_out, self._left_out, self._counting = self._left_out, 0, False
        if left_out:
            logger.warning(
                "database unavailable: %d more requests answered 503 in %g s",
                left_out,
                self.every_s,
            )


OUTAGE_LOG = OutageLog()


def database_unavailable_response(method: str, path: str, exc: Exception) -> JSONResponse:
    """The 503 problem (with Retry-After) for a request the database could not serve."""
    # An open transaction rolls back, so nothing half-done is stored. The pool (pre-ping)
    # reconnects by itself once the database is back.
    cause = type(getattr(exc, "orig", None) or exc).__name__
    OUTAGE_LOG.failed(method, path, cause)
    response = problem_response(
        503,
        Text(
            "databasen kan ikke nås akkurat nå; prøv igjen om litt",
            "the database is not reachable at the moment; try again shortly",
        ),
        "database-unavailable",
        path,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return database_unavailable_response(request.method, request.url.path, exc)


async def _client_disconnected(request: Request, exc: Exception) -> JSONResponse:
    # The client left while sending its body: nobody reads this answer, and a traceback per
    # dropped upload would let anyone flood the log (OWASP: log injection/exhaustion).
    logger.info("client disconnected during the body of %s %s", request.method, request.url.path)
    return problem_response(400, "the client disconnected before the body was sent", "bad-request")


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Never echo the exception text: it can contain SQL, paths or data of other users.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    response = problem_response(
        500,
        Text("intern feil; den er logget", "internal error; it has been logged"),
        "internal-error",
    )
    # This answer is sent outside app.metrics.RequestMiddleware, which names the others;
    # the id is still current here and finds the log line.
    request_id = current_request_id()
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def add_exception_handlers(app: FastAPI) -> None:
    """Register the problem-details handlers on the app."""
    app.add_exception_handler(ArealsjekkError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnected)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
