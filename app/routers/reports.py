"""Conflict reports of checks, as HTML and as PDF with maps."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from app import openapi_examples as ex
from app.access import Principal
from app.db import SessionDep
from app.dependencies import CheckIdPath, SettingsDep, output_crs
from app.reports import pdf
from app.reports.data import KARTVERKET, build_report, check_ready
from app.reports.render import render_html
from app.routers.checks import get_check_findings, visible_check
from app.security import OptionalPrincipalDep
from app.urls import public_base_url

router = APIRouter(prefix="/api/v1", tags=["reports"])

PDF = "application/pdf"
NOT_READY = ex.problems(ex.CHECK_RUNNING, ex.CHECK_FAILED, ex.NO_CHECK)
PDF_UNAVAILABLE = [
    ex.problem(503, "service-unavailable", detail, "/api/v1/checks/16/report.pdf", summary=summary)
    for detail, summary in (
        (pdf.BUSY, "Every PDF layout slot is busy (with Retry-After)"),
        (pdf.too_slow(), "The layout ran past its time limit and was stopped (with Retry-After)"),
    )
]

AttachQuery = Annotated[
    Literal["findings"] | None,
    Query(
        description="`findings`: the check's findings as GeoJSON (what "
        "GET /api/v1/checks/{check_id}/findings answers) embedded in the PDF as a PDF/A-3 "
        "associated file `funn-kontroll-{check_id}.geojson` (application/geo+json, "
        "AFRelationship Data)",
        examples=["findings"],
    ),
]
GEOJSON = "application/geo+json"


def _ready_check(session: SessionDep, check_id: int, principal: Principal | None) -> None:
    """Raise 404 unless the caller may see the check, 409 unless it is done."""
    check_ready(visible_check(session, check_id, principal))
    session.close()


def _report_html(
    session: SessionDep,
    settings: SettingsDep,
    check_id: int,
    principal: Principal | None,
    base_url: str,
) -> str:
    """Render a finished check's report as a self-contained HTML page."""
    visible_check(session, check_id, principal)
    report = build_report(session, settings, check_id, base_url=base_url)
    # The maps are drawn; nothing else in the report needs the database.
    session.close()
    return render_html("reports/report.html", r=report, kartverket=KARTVERKET)


def _findings_attachment(
    session: SessionDep, check_id: int, principal: Principal | None
) -> pdf.PdfAttachment:
    """The check's findings, as GET /api/v1/checks/{id}/findings answers them, to attach."""
    answer = get_check_findings(
        check_id=check_id, session=session, crs=output_crs(None), principal=principal
    )
    session.close()
    return pdf.PdfAttachment(
        name=f"funn-kontroll-{check_id}.geojson",
        media_type=GEOJSON,
        content=bytes(answer.body),
        description=f"Funn fra kontroll {check_id} som GeoJSON (RFC 7946)",
    )


@router.get(
    "/checks/{check_id}/report.html",
    response_class=HTMLResponse,
    responses={
        200: ex.example_response(
            ex.REPORT_HTML, "A self-contained HTML page in bokmål (maps inline)", ex.HTML
        ),
        **NOT_READY,
    },
)
def get_report_html(
    check_id: CheckIdPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    principal: OptionalPrincipalDep,
) -> Response:
    """The conflict report of a check in bokmål: summary, maps, findings, data sources."""
    base_url = public_base_url(request, settings)
    return HTMLResponse(_report_html(session, settings, check_id, principal, base_url))


@router.get(
    "/checks/{check_id}/report.pdf",
    response_class=Response,
    responses={
        200: ex.binary_response(
            PDF,
            "An A4 PDF/A-3a, also identified as PDF/UA-1 (Content-Disposition: inline; "
            'filename="arealsjekk-kontroll-1.pdf"); with attach=findings the findings GeoJSON '
            "is embedded in it",
        ),
        **ex.problems(
            ex.CHECK_RUNNING, ex.CHECK_FAILED, ex.NO_CHECK, ex.REPORT_BAD_ATTACH, *PDF_UNAVAILABLE
        ),
    },
)
async def get_report_pdf(
    check_id: CheckIdPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    principal: OptionalPrincipalDep,
    attach: AttachQuery = None,
) -> Response:
    """The conflict report of a check as an A4 PDF for the archive and the plan forum: PDF/A-3
    level A (ISO 19005-3: tagged, fonts embedded, sRGB output intent, XMP identification),
    also identified as PDF/UA-1; `attach=findings` embeds the findings GeoJSON."""
    base_url = public_base_url(request, settings)
    # Not found and not ready answer before waiting for a layout slot; no database
    # connection is held while waiting.
    await run_in_threadpool(_ready_check, session, check_id, principal)
    return await pdf.inline_pdf(
        request,
        base_url,
        lambda: _report_html(session, settings, check_id, principal, base_url),
        f"arealsjekk-kontroll-{check_id}.pdf",
        (lambda: [_findings_attachment(session, check_id, principal)]) if attach else None,
    )
