"""Signing in on the pages: the API key once per browser session, then an HttpOnly cookie.

The pages used to keep the key in each tab's sessionStorage and fetch reports with it into
blob: addresses; with a cookie a new tab, and a report link opened in one, is signed in, and
report links are plain addresses that can be shared (the server checks access on each).
Follows the OWASP Session Management and CSRF Prevention cheat sheets: the cookie is HttpOnly
(script cannot read it), SameSite=Strict, Secure over https, and holds no key but a random
token whose hash the server keeps (app.access.start_session); the session ends with «Logg ut»,
the key's revocation, the browser session or session_max_age_s. State-changing requests it
authenticates must come from our own origin (app.security.ensure_same_origin). These
endpoints are for the pages, not the API description.
"""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.access import (
    AuthenticationError,
    Principal,
    Role,
    authenticate,
    end_session,
    start_session,
)
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.errors import problem_response
from app.security import (
    SESSION_COOKIE,
    ensure_same_origin,
    optional_principal,
)
from app.settings import Settings
from db.models import MunicipalityOrm
from spatial.messages import Text

# Who is signed in is this browser's business alone: no cache keeps it (OWASP Session
# Management Cheat Sheet, "Web content caching").
NO_STORE = "no-store"
router = APIRouter(prefix="/api/v1/session", tags=["session"], include_in_schema=False)


class SignIn(BaseModel):
    """The API key to sign in with."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=200)


class SessionInfo(BaseModel):
    """Who is signed in: the key's name, role and municipality."""

    key_name: str
    role: Role
    kommunenummer: str | None
    municipality: str | None
    # "cookie" for a browser sign-in; "header" when the request itself carried the key.
    via: Literal["cookie", "header"]
    expires_at: datetime | None


NOT_SIGNED_IN = Text(
    "ikke innlogget: logg inn med en API-nøkkel (POST /api/v1/session)",
    "not signed in: sign in with an API key (POST /api/v1/session)",
)


def _is_https(request: Request, settings: Settings) -> bool:
    public_url = settings.public_url or ""
    return request.url.scheme == "https" or public_url.startswith("https:")


def _info(
    session: SessionDep, principal: Principal, via: str, expires_at: datetime | None
) -> SessionInfo:
    municipality = (
        session.get(MunicipalityOrm, principal.kommunenummer) if principal.kommunenummer else None
    )
    return SessionInfo(
        key_name=principal.name,
        role=principal.role,
        kommunenummer=principal.kommunenummer,
        municipality=municipality.name if municipality else None,
        via=via,
        expires_at=expires_at,
    )


def _clear_cookie(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=_is_https(request, settings),
        httponly=True,
        samesite="strict",
    )


@router.post("")
def sign_in(
    body: SignIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> SessionInfo:
    """Check an API key and sign this browser in with it (a session cookie)."""
    # Login CSRF: another site must not sign a visitor's browser in with a key of its own.
    if request.headers.get("origin") or request.headers.get("referer"):
        ensure_same_origin(request, settings)
    principal = authenticate(session, body.api_key.strip())
    token, expires_at = start_session(session, principal, settings.session_max_age_s)
    # No Max-Age: the cookie ends with the browser session; the server ends it after
    # session_max_age_s in any case.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        secure=_is_https(request, settings),
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = NO_STORE
    return _info(session, principal, "cookie", expires_at)


@router.get("", response_model=SessionInfo)
def who_am_i(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Say who is signed in (the session cookie, or the key sent with this request); 401 if none."""
    try:
        principal = optional_principal(request, session, settings)
    except AuthenticationError as error:
        answer = problem_response(401, error.detail, "unauthorized", request.url.path)
        answer.headers["WWW-Authenticate"] = 'Bearer realm="arealsjekk"'
        # A cookie of a revoked key or an ended session is of no more use: drop it.
        _clear_cookie(answer, request, settings)
        return answer
    if principal is None:
        answer = problem_response(401, NOT_SIGNED_IN, "unauthorized", request.url.path)
        answer.headers["WWW-Authenticate"] = 'Bearer realm="arealsjekk"'
        return answer
    # Set by optional_principal when the cookie signed the caller in; a key header wins.
    expires_at = getattr(request.state, "session_expires_at", None)
    info = _info(session, principal, "header" if expires_at is None else "cookie", expires_at)
    headers = {"Cache-Control": NO_STORE}
    return Response(info.model_dump_json(), media_type="application/json", headers=headers)


@router.delete("", status_code=204)
def sign_out(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Sign this browser out: the session ends on the server and the cookie is cleared."""
    # A browser always sends Origin with a DELETE: one without it is not our page.
    ensure_same_origin(request, settings)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(session, cookie)
    response = Response(status_code=204)
    _clear_cookie(response, request, settings)
    return response
