"""WMS 1.3.0 and 1.1.1 at /wms, rendered by Mapnik in a pool of render processes (app/wms/).

Every answer of /wms that is not a map, legend, capabilities or feature info is a
ServiceExceptionReport in the requested version's format (OGC WMS 1.3.0 §6.11, Annex E),
never problem+json: GIS clients show its message. WMS 1.3.0 Table E.1 has codes only for
client errors; for a server that cannot answer now (HTTP 503, with Retry-After) this service
uses the codes "ServerBusy" (no renderer free in time, or the render ran past its time
limit) and "ServiceUnavailable" (the database or the renderer is unavailable, or the service
is stopping); the schema leaves `code` open. A genuine bug is a 500 report without a code.
"""

import logging
import re
import time
from collections.abc import Callable

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from app import openapi_examples as ex
from app.check_runner import get_rule_set
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.errors import DATABASE_UNAVAILABLE, OUTAGE_LOG, RETRY_AFTER_S, STATUS_BY_ERROR
from app.language import current_language
from app.settings import Settings
from app.urls import public_base_url
from app.wms.catalog import wms_layers
from app.wms.pool import (
    PoolClosedError,
    RendererBusyError,
    RenderError,
    RenderFailedError,
    RenderTimeoutError,
)
from app.wms.service import (
    VERSIONS,
    WmsError,
    WmsResponse,
    exception_report,
    get_capabilities,
    get_feature_info,
    get_legend_graphic,
    get_map,
    shown,
)
from spatial.errors import ArealsjekkError
from spatial.messages import localize
from spatial.plan_colours import get_plan_colours

logger = logging.getLogger(__name__)
router = APIRouter(tags=["wms"])

SERVER_BUSY = "ServerBusy"
SERVICE_UNAVAILABLE = "ServiceUnavailable"
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


def _answer(
    params: dict[str, str],
    capabilities_url: Callable[[], str],
    session: Session,
    settings: Settings,
    queue_deadline: float,
) -> WmsResponse | Callable[[], WmsResponse]:
    """Answer one WMS request (in a worker thread: the database blocks); for GetMap and
    GetLegendGraphic, check it and return the render that answers it."""
    version = params.get("VERSION") or params.get("WMTVER") or "1.3.0"
    service = params.get("SERVICE", "WMS").upper()
    if service != "WMS":
        raise WmsError(
            f"SERVICE must be WMS, not '{shown(service)}'", "InvalidParameterValue", "SERVICE"
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
            f"VERSION {shown(version)} is not supported; use 1.3.0 or 1.1.1",
            "InvalidParameterValue",
            "VERSION",
        )
    catalog = wms_layers(session, settings, get_rule_set(settings))
    if request == "getcapabilities":
        return get_capabilities(version, capabilities_url(), catalog, settings, session)
    if request == "getmap":
        return get_map(params, version, catalog, settings, queue_deadline)
    if request == "getfeatureinfo":
        return get_feature_info(params, version, catalog, settings, session)
    if request == "getlegendgraphic":
        return get_legend_graphic(params, catalog, settings, queue_deadline)
    raise WmsError(
        f"REQUEST {shown(params['REQUEST'])} is not supported", "OperationNotSupported", "REQUEST"
    )


def _render_error(exc: RenderError, request: Request) -> WmsError:
    if isinstance(exc, RendererBusyError | RenderTimeoutError):
        return WmsError(str(exc), SERVER_BUSY, status=503)
    if isinstance(exc, PoolClosedError):
        return WmsError(
            "the service is stopping; try again shortly", SERVICE_UNAVAILABLE, status=503
        )
    assert isinstance(exc, RenderFailedError)
    if "statement timeout" in exc.detail:
        return WmsError("the map's data took too long to read", SERVER_BUSY, status=503)
    if exc.kind == "RuntimeError" and "Postgis Plugin" in exc.detail and "ERROR:" not in exc.detail:
        # Mapnik's PostGIS input reports a database it cannot reach (refused, restarting, a
        # broken pooled connection) as a RuntimeError without a server ERROR; an SQL error
        # (ERROR:) would be a bug in the layer's SQL.
        OUTAGE_LOG.failed(request.method, request.url.path, "Mapnik PostGIS plugin")
        return WmsError(
            "the database is not reachable at the moment; try again shortly",
            SERVICE_UNAVAILABLE,
            status=503,
        )
    if exc.kind == "ProcessExit":
        # Already logged by the pool, which has started another process.
        return WmsError(str(exc) + "; try again shortly", SERVICE_UNAVAILABLE, status=503)
    # Mapnik's message can quote the connection string; its password stays out of the log.
    detail = re.sub(r"password=\S+", "password=***", exc.detail)
    logger.error("render failed: %s: %s", exc.kind, detail)
    return WmsError("internal error; it has been logged", status=500)


def wms_error(exc: Exception, request: Request) -> WmsError:
    """Turn any exception of a WMS request into the error its ServiceException reports."""
    if isinstance(exc, WmsError):
        return exc
    if isinstance(exc, RenderError):
        return _render_error(exc, request)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        if getattr(getattr(exc, "orig", None), "sqlstate", None) == QUERY_CANCELED:
            return WmsError("the query took too long; try a smaller area", SERVER_BUSY, status=503)
        OUTAGE_LOG.failed(request.method, request.url.path, type(exc).__name__)
        return WmsError(
            "the database is not reachable at the moment; try again shortly",
            SERVICE_UNAVAILABLE,
            status=503,
        )
    if isinstance(exc, ArealsjekkError):
        # E.g. an untrusted Host header (400) or a broken rule set (503): app.errors' statuses.
        status = next(s for error_type, s, _ in STATUS_BY_ERROR if isinstance(exc, error_type))
        return WmsError(localize(exc.detail, current_language()), status=status)
    # Never echo the exception text: it can contain SQL, paths or other users' data.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return WmsError("internal error; it has been logged", status=500)


def render_gate(request: Request, settings: Settings) -> anyio.Semaphore:
    """The app's limit on requests holding a thread while they wait for a render process."""
    gate = getattr(request.app.state, "wms_render_gate", None)
    if gate is None:
        gate = anyio.Semaphore(settings.wms_render_processes)
        request.app.state.wms_render_gate = gate
    return gate


PLAN_COLOURS_EXAMPLE = {
    "source": "SOSI tegneregler for arealplaner (NPAD Del 2), from DiBK's styles: …",
    "arealformal": {
        "1110": {
            "fill": "#ffff33",
            "fill_existing": "#ffff99",
            "title": "Boligbebyggelse",
            "combined": False,
        }
    },
    "default": {
        "fill": "#e0e0e0",
        "fill_existing": "#f0f0f0",
        "title": "Annet arealformål",
        "combined": False,
    },
    "legend": [{"code": "1110", "title": "Boligbebyggelse"}],
    "arealbruksstatus": {"1": "Nåværende", "2": "Framtidig"},
}


@router.get(
    "/api/v1/plan-colours",
    summary="Arealformål colours (SOSI tegneregler)",
    responses={200: {"content": {"application/json": {"example": PLAN_COLOURS_EXAMPLE}}}},
)
def plan_colours() -> dict:
    """The colour of each arealformål code in the SOSI tegneregler for arealplaner, as the
    WMS layers `proposals` and `existing_kommuneplan` draw them: `fill` is the framtidig
    (and reguleringsplan) shade, `fill_existing` the nåværende one (arealbruksstatus 1);
    `legend` lists the main formål with short titles."""
    return get_plan_colours().as_json()


@router.get(
    "/wms",
    summary="OGC WMS 1.3.0 / 1.1.1",
    description=ex.WMS_DESCRIPTION,
    response_class=Response,
    openapi_extra=ex.WMS_OPENAPI,
    responses={
        200: {
            "description": "GetMap: PNG, PNG8 (image/png; mode=8bit) or JPEG (FORMAT); "
            "GetLegendGraphic: a PNG; GetCapabilities: XML; GetFeatureInfo: HTML, GeoJSON "
            "with each feature's geometry in the request's CRS, or XML (INFO_FORMAT)",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "text/xml": {"schema": {"type": "string"}, "example": ex.WMS_CAPABILITIES},
                "application/json": {"example": ex.WMS_FEATURE_INFO},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        400: {
            "description": "A ServiceExceptionReport (application/vnd.ogc.se_xml in 1.1.1)",
            "content": {"text/xml": {"schema": {"type": "string"}, "example": ex.WMS_EXCEPTION}},
        },
        503: {
            "description": "A ServiceExceptionReport: every renderer busy, the render ran past "
            "its time limit, or the database is unavailable (with Retry-After)",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
    },
)
async def wms(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Answer GetCapabilities, GetMap (PNG, PNG8, JPEG), GetFeatureInfo and GetLegendGraphic."""
    params = {key.upper(): value for key, value in request.query_params.items()}
    version = params.get("VERSION") or params.get("WMTVER")

    def capabilities_url() -> str:
        return public_base_url(request, settings) + request.app.url_path_for("wms") + "?"

    queue_deadline = time.monotonic() + settings.wms_queue_timeout_s
    arguments = (params, capabilities_url, session, settings, queue_deadline)
    try:
        answer = await run_in_threadpool(_answer, *arguments)
        if callable(answer):
            # Waiting here holds no thread: a flood of GetMaps cannot take the threads that
            # /healthz and the API need. The thread then waits for a render process until
            # the same deadline.
            gate = render_gate(request, settings)
            with anyio.move_on_after(max(0.0, queue_deadline - time.monotonic())) as waiting:
                await gate.acquire()
            if waiting.cancelled_caught:
                raise RendererBusyError("every map renderer is busy; try again shortly")
            try:
                answer = await run_in_threadpool(answer)
            finally:
                gate.release()
    except Exception as exc:  # every failure of /wms is a ServiceException (see module doc)
        answer = exception_report(wms_error(exc, request), version if version in VERSIONS else "")
    headers = {"Retry-After": str(RETRY_AFTER_S)} if answer.status == 503 else None
    return Response(
        answer.body, status_code=answer.status, media_type=answer.media_type, headers=headers
    )
