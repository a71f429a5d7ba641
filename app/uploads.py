"""Turning an uploaded file into a validated plan (shared by the API and the CLI)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ServiceNotReadyError
from app.repositories.municipalities import load_boundaries
from app.settings import Settings
from spatial.geojson_input import read_geojson
from spatial.plan_input import InputLimits, prepare_plan
from spatial.plan_model import PreparedPlan


def prepare_geojson_upload(
    session: Session, settings: Settings, body: bytes, overrides: Mapping[str, Any]
) -> PreparedPlan:
    """Parse and validate a GeoJSON plan against the county and municipality boundaries."""
    source = read_geojson(body, settings.max_upload_features)
    boundaries = load_boundaries(session, settings.outside_county_tolerance_m)
    if boundaries is None:
        raise ServiceNotReadyError(
            "municipality boundaries are not loaded; run 'arealsjekk load-municipalities'"
        )
    limits = InputLimits(
        max_vertices=settings.max_upload_vertices,
        repair_max_area_change=settings.repair_max_area_change,
    )
    return prepare_plan(source, boundaries, limits, plan_overrides=overrides)
