"""Liveness and readiness probes."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import openapi_examples as ex
from app.db import get_engine
from app.schemas import HealthStatus
from migrations.runner import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.head("/healthz", include_in_schema=False)
@router.get(
    "/healthz", response_model=HealthStatus, responses={200: ex.example_response(ex.HEALTHY)}
)
def healthz() -> HealthStatus:
    """Answer as long as the process is up."""
    return HealthStatus(status="ok")


# Load balancers probe with HEAD as often as with GET.
@router.head("/readyz", include_in_schema=False)
@router.get(
    "/readyz",
    response_model=HealthStatus,
    responses={
        200: ex.example_response(ex.READY),
        503: {
            "model": HealthStatus,
            **ex.example_response(
                ex.NOT_READY, "The database is unreachable or not migrated to the code's head"
            ),
        },
    },
)
def readyz() -> JSONResponse:
    """Answer 200 only when the database is reachable and migrated to the code's head."""
    head = head_revision()
    checks: dict[str, object] = {"migrations_head": head}
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            current = current_revision(connection)
        checks["database"] = "reachable"
        checks["migrations_current"] = current
        ready = current == head
    except SQLAlchemyError:
        checks["database"] = "unreachable"
        ready = False
    status = HealthStatus(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(status.model_dump(), status_code=200 if ready else 503)
