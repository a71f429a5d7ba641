"""Liveness and readiness probes."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import jobs
from app import openapi_examples as ex
from app.db import get_engine, get_sessionmaker
from app.dependencies import SettingsDep
from app.schemas import HealthStatus
from layers.raster_files import missing_raster_files
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
                ex.NOT_READY,
                "The database is unreachable or not migrated to the code's head, the job "
                "queue does not answer, or a current raster layer's file is missing",
            ),
        },
    },
)
def readyz(settings: SettingsDep) -> JSONResponse:
    """Answer 200 only when the database is reachable and migrated to the code's head, the
    job queue answers, and every current raster layer's file is on disk."""
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
    if ready:
        ready = _queue_ready(checks, settings.worker_stalled_after_s)
    if ready:
        ready = _rasters_ready(checks, settings.raster_dir)
    status = HealthStatus(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(status.model_dump(), status_code=200 if ready else 503)


def _queue_ready(checks: dict[str, object], stalled_after_s: float) -> bool:
    """Report the job queue (workers alive, jobs waiting, the longest wait); ready when it
    can take jobs. No live worker is reported but not refused: the API still takes checks,
    which wait until a worker comes."""
    try:
        with get_sessionmaker()() as session:
            checks["queue"] = jobs.queue_state(session, stalled_after_s)
        return True
    except SQLAlchemyError:
        checks["queue"] = "unreachable"
        return False


def _rasters_ready(checks: dict[str, object], raster_dir: Path) -> bool:
    """Report whether the current raster layers' files are on disk; not ready when one is
    missing (checks would answer 503), naming each such layer and file name (not its path)."""
    try:
        with get_sessionmaker()() as session:
            missing = missing_raster_files(session, raster_dir)
    except SQLAlchemyError:
        checks["rasters"] = "unreadable"
        return False
    checks["rasters"] = {"missing": missing} if missing else "present"
    return not missing
