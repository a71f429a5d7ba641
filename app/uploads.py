"""Turning an uploaded file into a validated plan (shared by the API and the CLI)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ServiceNotReadyError
from app.repositories.municipalities import load_boundaries
from app.settings import Settings
from spatial.errors import InvalidInputError, Problem
from spatial.formats import ReadLimits, read_plan
from spatial.plan_input import InputLimits, prepare_plan, unstorable
from spatial.plan_model import PreparedPlan


def prepare_upload(
    session: Session,
    settings: Settings,
    body: bytes,
    overrides: Mapping[str, Any],
    filename: str | None = None,
    content_type: str | None = None,
) -> PreparedPlan:
    """Read a plan file in any supported format and validate it against the boundaries."""
    if filename is not None and (reason := unstorable(filename)):
        raise InvalidInputError(f"filename: {reason}", [Problem(reason, field="filename")])
    limits = ReadLimits(
        max_features=settings.max_upload_features,
        max_zip_members=settings.max_zip_members,
        max_unpacked_bytes=settings.max_unpacked_bytes,
        max_compression_ratio=settings.max_compression_ratio,
    )
    source = read_plan(body, filename, content_type, limits)
    boundaries = load_boundaries(session, settings.outside_county_tolerance_m)
    if boundaries is None:
        raise ServiceNotReadyError(
            "municipality boundaries are not loaded; run 'arealsjekk load-municipalities'"
        )
    input_limits = InputLimits(
        max_vertices=settings.max_upload_vertices,
        repair_max_area_change=settings.repair_max_area_change,
    )
    return prepare_plan(source, boundaries, input_limits, plan_overrides=overrides)
