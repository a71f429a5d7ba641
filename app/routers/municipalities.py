"""Buskerud's municipalities as GeoJSON."""

from typing import Any

from fastapi import APIRouter

from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import KommunenummerPath, OutputCrsDep
from app.repositories import municipalities as repo
from app.repositories.geojson import content_crs_header, feature_collection
from app.responses import GeoJSONResponse

router = APIRouter(prefix="/api/v1/municipalities", tags=["municipalities"])

ATTRIBUTION = "© Kartverket, CC BY 4.0 (administrative boundaries 2024)"


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(ex.MUNICIPALITIES, "The municipalities (one shown)"),
        **ex.problems(ex.BAD_CRS),
    },
)
def list_municipalities(session: SessionDep, crs: OutputCrsDep) -> Any:
    """List the 18 municipalities with region and SSB centrality class (GeoJSON)."""
    features = repo.list_municipality_features(session, crs.srid)
    body = feature_collection(features, crs.label, attribution=ATTRIBUTION)
    return GeoJSONResponse(body, headers=content_crs_header(crs.label))


@router.get(
    "/{kommunenummer}",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(ex.MUNICIPALITY, "The municipality as a GeoJSON Feature"),
        **ex.problems(ex.NO_MUNICIPALITY, ex.at(ex.BAD_CRS, "/api/v1/municipalities/3326")),
    },
)
def get_municipality(
    kommunenummer: KommunenummerPath, session: SessionDep, crs: OutputCrsDep
) -> Any:
    """Return one municipality as a GeoJSON Feature."""
    feature = repo.get_municipality_feature(session, kommunenummer, crs.srid)
    return GeoJSONResponse(feature, headers=content_crs_header(crs.label))
