"""Turning an uploaded file into a validated plan (shared by the API and the CLI)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ServiceNotReadyError
from app.repositories.municipalities import load_boundaries
from app.settings import Settings
from spatial.errors import InvalidInputError, Problem
from spatial.inputs.formats import ReadLimits, read_plan
from spatial.messages import Text, english
from spatial.plan_input import InputLimits, prepare_plan, unstorable
from spatial.plan_model import PreparedPlan


def upload_limits(settings: Settings) -> tuple[ReadLimits, InputLimits]:
    """The limits an upload is read (ReadLimits) and validated (InputLimits) under."""
    read = ReadLimits(
        max_features=settings.max_upload_features,
        max_zip_members=settings.max_zip_members,
        max_unpacked_bytes=settings.max_unpacked_bytes,
        max_compression_ratio=settings.max_compression_ratio,
        max_vertices=settings.max_upload_vertices,
        time_budget_s=settings.upload_time_budget_s,
        max_property_keys=settings.max_feature_property_keys,
    )
    validate = InputLimits(
        max_vertices=settings.max_upload_vertices,
        repair_max_area_change=settings.repair_max_area_change,
        max_text_length=settings.max_text_length,
        max_property_bytes=settings.max_feature_property_bytes,
        max_property_keys=settings.max_feature_property_keys,
    )
    return read, validate


def prepare_upload(
    session: Session,
    settings: Settings,
    body: bytes,
    overrides: Mapping[str, Any],
    filename: str | None = None,
    content_type: str | None = None,
) -> PreparedPlan:
    """Read a plan file in any supported format and validate it against the boundaries.

    One budget of vertices and time (settings.upload_time_budget_s) covers reading and
    validating, so a hostile file is refused with a 4xx rather than holding a worker.
    """
    if filename is not None and (reason := _filename_problem(filename, settings)):
        raise InvalidInputError(
            Text(f"filnavnet: {reason}", f"filename: {english(reason)}"),
            [Problem(reason, field="filename")],
        )
    read_limits, input_limits = upload_limits(settings)
    budget = read_limits.budget()
    source = read_plan(body, filename, content_type, read_limits, budget)
    boundaries = load_boundaries(session, settings.outside_county_tolerance_m)
    if boundaries is None:
        raise ServiceNotReadyError(
            Text(
                "kommunegrensene er ikke lastet inn; driftsansvarlig kjører "
                "«arealsjekk load-municipalities»",
                "municipality boundaries are not loaded; run 'arealsjekk load-municipalities'",
            )
        )
    return prepare_plan(source, boundaries, input_limits, plan_overrides=overrides, budget=budget)


def _filename_problem(filename: str, settings: Settings) -> Text | str | None:
    if len(filename) > settings.max_text_length:
        return Text(
            f"er lengre enn {settings.max_text_length} tegn",
            f"is longer than {settings.max_text_length} characters",
        )
    return unstorable(filename)
