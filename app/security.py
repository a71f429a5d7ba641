"""Request dependencies for API keys: who is calling, and which roles an endpoint allows."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from app.access import (
    ROLE_NAMES_NB,
    AuthenticationError,
    PermissionDeniedError,
    Principal,
    Role,
    authenticate,
    bearer_token,
    session_principal,
)
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.settings import Settings
from app.urls import public_base_url
from spatial.errors import MalformedInputError
from spatial.messages import Text

# The browser session cookie set by POST /api/v1/session (app.routers.session).
SESSION_COOKIE = "arealsjekk_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def service_origin(request: Request, settings: Settings) -> str:
    """Return the service's own origin (scheme://host[:port]) from public_url or a trusted Host."""
    parts = urlsplit(public_base_url(request, settings))
    return f"{parts.scheme}://{parts.netloc}".lower()


def ensure_same_origin(request: Request, settings: Settings) -> None:
    """Refuse (403) a request whose Origin, or else Referer, is not this service's origin.

    A cookie is sent with whatever request a browser makes, so a state-changing request
    authenticated by it must show that it came from our own pages (OWASP CSRF Prevention
    Cheat Sheet, "Verifying origin with standard headers"; SameSite=Strict is the second line).
    A request with neither header is refused too.
    """
    sent = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(sent)
    origin = f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""
    if origin != service_origin(request, settings):
        raise PermissionDeniedError(
            Text(
                "forespørselen kommer ikke fra Arealsjekks egne sider (Origin mangler eller er "
                "en annen); med innlogging i nettleseren godtas endringer bare derfra",
                "the request does not come from Arealsjekk's own pages (Origin missing or "
                "foreign); with a browser sign-in, changes are accepted only from there",
            )
        )


def optional_principal(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Principal | None:
    """Return the caller from the API key header or the session cookie; anonymous gets None."""
    token = bearer_token(request.headers.get("authorization"), request.headers.get("x-api-key"))
    if token is not None:
        return authenticate(session, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal, expires_at = session_principal(session, cookie)
    request.state.session_expires_at = expires_at  # for GET /api/v1/session to show
    if request.method not in SAFE_METHODS:
        ensure_same_origin(request, settings)
    return principal


def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """Return the caller, or answer 401 when no API key was given."""
    if principal is None:
        raise AuthenticationError(
            Text(
                "dette krever en API-nøkkel: logg inn med nøkkelen på siden, eller send "
                "«Authorization: Bearer <nøkkel>»",
                "this endpoint needs an API key: send 'Authorization: Bearer <key>'",
            )
        )
    return principal


def require_roles(*roles: Role):
    """Build a dependency that allows only the given roles (403 for the others)."""

    def check(principal: Annotated[Principal, Depends(required_principal)]) -> Principal:
        if principal.role not in roles:
            needed_nb = " eller ".join(ROLE_NAMES_NB.get(role, role) for role in roles)
            raise PermissionDeniedError(
                Text(
                    f"API-nøkkelen «{principal.name}» har rollen "
                    f"{ROLE_NAMES_NB.get(principal.role, principal.role)}, og det kan den ikke "
                    f"gjøre her; det krever {needed_nb}",
                    f"the role '{principal.role}' may not do this; it needs {' or '.join(roles)}",
                )
            )
        return principal

    check.roles = roles  # read by app.openapi to document who may call
    return check


MAX_USER_NAME = 200


def proxy_user(request: Request, settings: SettingsDep) -> str | None:
    """Return the user a login proxy names in settings.user_header (None when unset or absent).

    The name is stored and shown with reviews: over MAX_USER_NAME characters or with control
    characters it is refused (400).
    """
    if settings.user_header is None:
        return None
    value = request.headers.get(settings.user_header, "").strip()
    if not value:
        return None
    try:
        # Headers arrive as latin-1 (RFC 9110 §5.5); proxies pass names with æøå as UTF-8.
        value = value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    if len(value) > MAX_USER_NAME or not value.isprintable():
        raise MalformedInputError(
            Text(
                f"{settings.user_header} må være et navn på høyst {MAX_USER_NAME} tegn uten "
                "kontrolltegn",
                f"{settings.user_header} must be a name of at most {MAX_USER_NAME} characters "
                "without control characters",
            )
        )
    return value


ProxyUserDep = Annotated[str | None, Depends(proxy_user)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
PrincipalDep = Annotated[Principal, Depends(required_principal)]
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
SubmitterDep = Annotated[Principal, Depends(require_roles("planner", "case_system", "admin"))]
