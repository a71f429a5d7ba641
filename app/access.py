"""API keys with roles, and who may see and do what (SPEC §Non-functional, security).

No FastAPI here: the request dependencies are in app.security.

Keys are random tokens `ask_<prefix>_<secret>`; only a SHA-256 hash is stored (the tokens
carry 256 bits of entropy, so a slow password hash adds nothing). Roles:

- planner: one municipality; uploads, checks and publishes its proposals, sees its drafts
- case_system: as planner (scoped to one municipality, or county-wide when unscoped),
  and registers webhooks
- forum: the regional plan forum; sees every proposal and records reviews
- admin: county GIS administrator; everything, including loading layers
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, or_, select, true, update
from sqlalchemy.orm import Session

from db.models import ApiKeyOrm, BrowserSessionOrm, MunicipalityOrm, PlanProposalOrm
from spatial.errors import ArealsjekkError
from spatial.messages import Text

Role = Literal["planner", "case_system", "forum", "admin"]
ROLES: tuple[Role, ...] = ("planner", "case_system", "forum", "admin")
COUNTY_ROLES = frozenset({"forum", "admin"})
KEY_PREFIX = "ask_"


class AuthenticationError(ArealsjekkError):
    """No valid API key was given (401)."""


class PermissionDeniedError(ArealsjekkError):
    """The API key is valid but its role may not do this (403)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's id, name, role and municipality scope."""

    key_id: int
    name: str
    role: Role
    kommunenummer: str | None

    @property
    def is_county(self) -> bool:
        """True for the county-wide roles (forum, admin)."""
        return self.role in COUNTY_ROLES

    def may_submit_for(self, kommunenummer: str) -> bool:
        """Planners and case systems submit for their municipality; admins for any."""
        if self.role == "admin":
            return True
        if self.role == "planner":
            return self.kommunenummer == kommunenummer
        if self.role == "case_system":
            return self.kommunenummer in (None, kommunenummer)
        return False


def bearer_token(authorization: str | None, api_key: str | None) -> str | None:
    """Return the API key sent as `Authorization: Bearer <key>` or `X-API-Key`, if any."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return api_key or None


def hash_key(token: str) -> str:
    """Return the stored form of an API key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """Return (prefix, full token) for a new API key."""
    prefix = secrets.token_hex(4)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def create_api_key(
    session: Session, name: str, role: Role, kommunenummer: str | None
) -> tuple[ApiKeyOrm, str]:
    """Store a new API key and return it with the token, which is shown only this once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "planner" and not kommunenummer:
        raise ValueError("a planner key needs the kommunenummer it is scoped to")
    if role in COUNTY_ROLES and kommunenummer:
        raise ValueError(f"a {role} key is county-wide; give no kommunenummer")
    prefix, token = new_token()
    key = ApiKeyOrm(
        name=name, role=role, kommunenummer=kommunenummer, prefix=prefix, key_hash=hash_key(token)
    )
    session.add(key)
    session.commit()
    return key, token


def authenticate(session: Session, token: str) -> Principal:
    """Return the principal of a token, or raise AuthenticationError."""
    parts = token.split("_")
    if len(parts) < 3 or not token.startswith(KEY_PREFIX):
        raise AuthenticationError(
            Text(
                "API-nøkkelen har feil form; nøkler ser ut som ask_xxxxxxxx_…",
                "the API key is malformed; keys look like ask_xxxxxxxx_…",
            )
        )
    key = session.execute(
        select(ApiKeyOrm).where(ApiKeyOrm.prefix == parts[1], ApiKeyOrm.revoked_at.is_(None))
    ).scalar_one_or_none()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(token)):
        raise AuthenticationError(
            Text(
                "API-nøkkelen er ikke gyldig (ukjent eller trukket tilbake)",
                "the API key is not valid (unknown or revoked)",
            )
        )
    return Principal(key.id, key.name, key.role, key.kommunenummer)


# Browser sessions (OWASP Session Management Cheat Sheet): after one sign-in with the API key
# the browser holds a random token, not the key; the server keeps the token's hash with the
# key, an absolute expiry and the time it was ended, so «Logg ut» and revoking the key end it
# at once, in every process.
SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _session_expired() -> AuthenticationError:
    return AuthenticationError(
        Text(
            "innloggingen er utløpt eller ugyldig; logg inn på nytt med API-nøkkelen",
            "the sign-in has expired or is not valid; sign in again with the API key",
        )
    )


def start_session(session: Session, principal: Principal, max_age_s: int) -> tuple[str, datetime]:
    """Record a browser session for a signed-in API key; return its token and expiry."""
    now = datetime.now(UTC)
    # Ended and expired sessions are of no more use: cleared as new ones start.
    session.execute(delete(BrowserSessionOrm).where(BrowserSessionOrm.expires_at < now))
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=max_age_s)
    session.add(
        BrowserSessionOrm(
            token_hash=hash_key(token), api_key_id=principal.key_id, expires_at=expires_at
        )
    )
    session.commit()
    return token, expires_at


def session_principal(session: Session, token: str) -> tuple[Principal, datetime]:
    """Return the principal of a session token and when it expires; raise 401 if it is unknown,
    ended, expired, or its key revoked."""
    if not SESSION_TOKEN.fullmatch(token):
        raise _session_expired()
    row = session.execute(
        select(ApiKeyOrm, BrowserSessionOrm.expires_at)
        .join(BrowserSessionOrm, BrowserSessionOrm.api_key_id == ApiKeyOrm.id)
        .where(
            BrowserSessionOrm.token_hash == hash_key(token),
            BrowserSessionOrm.ended_at.is_(None),
            BrowserSessionOrm.expires_at > func.now(),
            ApiKeyOrm.revoked_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        raise _session_expired()
    key, expires_at = row
    return Principal(key.id, key.name, key.role, key.kommunenummer), expires_at


def end_session(session: Session, token: str) -> None:
    """End a browser session («Logg ut»): its token signs nobody in after this."""
    if SESSION_TOKEN.fullmatch(token):
        session.execute(
            update(BrowserSessionOrm)
            .where(BrowserSessionOrm.token_hash == hash_key(token))
            .values(ended_at=func.now())
        )
        session.commit()


def revoke_api_key(session: Session, key_id: int) -> None:
    """Revoke an API key."""
    key = session.get(ApiKeyOrm, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.commit()


def visible_proposals(principal: Principal | None):
    """SQL condition on PlanProposalOrm: published ones, plus the drafts the caller may see.

    Reads by id apply it in the query that looks the proposal (or check) up, so a draft the
    caller may not see is not found exactly as an id that does not exist is not found: the
    same answer, naming only what the caller sent, from the same single query (OWASP API1:2023,
    "Broken Object Level Authorization"; a 403 would confirm that the draft exists).
    """
    published = PlanProposalOrm.published_at.is_not(None)
    if principal is None:
        return published
    if principal.is_county or (principal.role == "case_system" and not principal.kommunenummer):
        return true()
    return or_(published, PlanProposalOrm.kommunenummer == principal.kommunenummer)


ROLE_NAMES_NB = {
    "planner": "planlegger",
    "case_system": "saksbehandlingssystem",
    "forum": "regionalt planforum",
    "admin": "administrator",
}


def _municipality(session: Session, kommunenummer: str | None) -> str:
    if kommunenummer is None:
        return "hele fylket"
    name = session.execute(
        select(MunicipalityOrm.name).where(MunicipalityOrm.kommunenummer == kommunenummer)
    ).scalar_one_or_none()
    return f"{name} ({kommunenummer})" if name else kommunenummer


def ensure_may_submit(
    session: Session, principal: Principal, kommunenummer: str, subject: str = "file"
) -> None:
    """Refuse (403) uploads and checks for a municipality the key is not scoped to.

    The answer says which municipality the file (or proposal) and the key belong to, so a
    planner who picked the wrong file or key sees which (issue 20: access errors).
    """
    if principal.is_county and principal.role == "forum":
        return
    if principal.may_submit_for(kommunenummer):
        return
    theirs = _municipality(session, kommunenummer)
    if principal.role not in ("planner", "case_system"):
        raise PermissionDeniedError(
            Text(
                f"API-nøkkelen «{principal.name}» har rollen "
                f"{ROLE_NAMES_NB.get(principal.role, principal.role)} og kan ikke sende inn "
                f"planer for {theirs}",
                f"the key '{principal.name}' ({principal.role}) may not submit for {kommunenummer}",
            )
        )
    ours = _municipality(session, principal.kommunenummer)
    what_nb = "Filen gjelder" if subject == "file" else "Planforslaget tilhører"
    raise PermissionDeniedError(
        Text(
            f"{what_nb} {theirs}, men API-nøkkelen «{principal.name}» er for {ours}. Bruk en "
            f"nøkkel for {theirs}, eller kontroller kommunenummeret i filen.",
            f"the {'file' if subject == 'file' else 'proposal'} is for {theirs}, but the key "
            f"'{principal.name}' ({principal.role}) is for {ours}; use a key for {theirs}, or "
            "check the kommunenummer in the file",
        )
    )
