"""Request dependencies for API keys: who is calling, and which roles an endpoint allows."""

from typing import Annotated

from fastapi import Depends, Request

from app.access import (
    AuthenticationError,
    PermissionDeniedError,
    Principal,
    Role,
    authenticate,
    bearer_token,
)
from app.db import SessionDep


def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    """Return the caller if an API key was given; anonymous callers get None."""
    token = bearer_token(request.headers.get("authorization"), request.headers.get("x-api-key"))
    return None if token is None else authenticate(session, token)


def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """Return the caller, or answer 401 when no API key was given."""
    if principal is None:
        raise AuthenticationError(
            "this endpoint needs an API key: send 'Authorization: Bearer <key>'"
        )
    return principal


def require_roles(*roles: Role):
    """Build a dependency that allows only the given roles (403 for the others)."""

    def check(principal: Annotated[Principal, Depends(required_principal)]) -> Principal:
        if principal.role not in roles:
            raise PermissionDeniedError(
                f"the role '{principal.role}' may not do this; it needs {' or '.join(roles)}"
            )
        return principal

    check.roles = roles  # read by app.openapi to document who may call
    return check


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
PrincipalDep = Annotated[Principal, Depends(required_principal)]
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
SubmitterDep = Annotated[Principal, Depends(require_roles("planner", "case_system", "admin"))]
