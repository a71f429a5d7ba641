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
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from db.models import ApiKeyOrm, PlanProposalOrm
from spatial.errors import ArealsjekkError

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
        raise AuthenticationError("the API key is malformed; keys look like ask_xxxxxxxx_…")
    key = session.execute(
        select(ApiKeyOrm).where(ApiKeyOrm.prefix == parts[1], ApiKeyOrm.revoked_at.is_(None))
    ).scalar_one_or_none()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(token)):
        raise AuthenticationError("the API key is not valid (unknown or revoked)")
    return Principal(key.id, key.name, key.role, key.kommunenummer)


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


def ensure_may_submit(principal: Principal, kommunenummer: str) -> None:
    """Refuse (403) uploads and checks for a municipality the key is not scoped to."""
    if principal.is_county and principal.role == "forum":
        return
    if not principal.may_submit_for(kommunenummer):
        raise PermissionDeniedError(
            f"the key '{principal.name}' ({principal.role}, "
            f"{principal.kommunenummer or 'no municipality'}) may not submit for {kommunenummer}"
        )
