"""WMS 1.3.0 and 1.1.1 at /wms, rendered by Mapnik (see app/wms/)."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from app import openapi_examples as ex
from app.check_runner import get_rule_set
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.urls import public_base_url
from app.wms.catalog import wms_layers
from app.wms.service import (
    VERSIONS,
    WmsError,
    WmsResponse,
    exception_report,
    get_capabilities,
    get_feature_info,
    get_legend_graphic,
    get_map,
)

router = APIRouter(tags=["wms"])


def _answer(
    params: dict[str, str], url: str, session: SessionDep, settings: SettingsDep
) -> WmsResponse:
    version = params.get("VERSION") or params.get("WMTVER") or "1.3.0"
    try:
        service = params.get("SERVICE", "WMS").upper()
        if service != "WMS":
            raise WmsError(
                f"SERVICE must be WMS, not '{service}'", "InvalidParameterValue", "SERVICE"
            )
        request = params.get("REQUEST", "")
        if not request:
            raise WmsError("parameter REQUEST is missing", "MissingParameterValue", "REQUEST")
        request = request.lower()
        if request == "getcapabilities":
            # Version negotiation (WMS 1.3.0 §6.2.4): answer the newest we have if unknown.
            version = version if version in VERSIONS else VERSIONS[0]
        elif version not in VERSIONS:
            raise WmsError(
                f"VERSION {version} is not supported; use 1.3.0 or 1.1.1",
                "InvalidParameterValue",
                "VERSION",
            )
        catalog = wms_layers(session, settings, get_rule_set(settings))
        if request == "getcapabilities":
            return get_capabilities(version, url, catalog, settings)
        if request == "getmap":
            return get_map(params, version, catalog, settings)
        if request == "getfeatureinfo":
            return get_feature_info(params, version, catalog, settings, session)
        if request == "getlegendgraphic":
            return get_legend_graphic(params, catalog)
        raise WmsError(
            f"REQUEST {params['REQUEST']} is not supported", "OperationNotSupported", "REQUEST"
        )
    except WmsError as error:
        return exception_report(error, version if version in VERSIONS else VERSIONS[0])


@router.get(
    "/wms",
    summary="OGC WMS 1.3.0 / 1.1.1",
    description=ex.WMS_DESCRIPTION,
    response_class=Response,
    openapi_extra=ex.WMS_OPENAPI,
    responses={
        200: {
            "description": "GetMap and GetLegendGraphic: a PNG; GetCapabilities: XML; "
            "GetFeatureInfo: HTML, JSON or XML (INFO_FORMAT)",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "text/xml": {"schema": {"type": "string"}, "example": ex.WMS_CAPABILITIES},
                "application/json": {"example": ex.WMS_FEATURE_INFO},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        400: {
            "description": "A ServiceExceptionReport (application/vnd.ogc.se_xml in 1.1.1)",
            "content": {"text/xml": {"schema": {"type": "string"}, "example": ex.WMS_EXCEPTION}},
        },
    },
)
async def wms(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Answer GetCapabilities, GetMap (PNG), GetFeatureInfo and GetLegendGraphic."""
    params = {key.upper(): value for key, value in request.query_params.items()}
    url = public_base_url(request, settings) + request.app.url_path_for("wms") + "?"
    # Mapnik and the database block: keep them off the event loop.
    answer = await run_in_threadpool(_answer, params, url, session, settings)
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
