"""Conflict reports of checks, as HTML and as PDF with maps."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from app import openapi_examples as ex
from app.access import Principal
from app.db import SessionDep
from app.dependencies import INT4_MAX, SettingsDep
from app.reports.data import KARTVERKET, build_report
from app.reports.render import html_to_pdf, render_html
from app.routers.checks import visible_check
from app.security import OptionalPrincipalDep
from app.urls import public_base_url

router = APIRouter(prefix="/api/v1", tags=["reports"])

CheckIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="check id")]
PDF = "application/pdf"
NOT_READY = ex.problems(ex.CHECK_RUNNING, ex.CHECK_FAILED, ex.NO_CHECK)


def _report_html(
    session: SessionDep, settings: SettingsDep, check_id: int, principal: Principal | None
) -> str:
    """Render a finished check's report as a self-contained HTML page."""
    visible_check(session, check_id, principal)
    report = build_report(session, settings, check_id)
    # The maps are drawn; nothing else in the report needs the database.
    session.close()
    return render_html("reports/report.html", r=report, kartverket=KARTVERKET)


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
    principal: OptionalPrincipalDep,
) -> Response:
    """The conflict report of a check in bokmål: summary, maps, findings, data sources."""
    return HTMLResponse(_report_html(session, settings, check_id, principal))


@router.get(
    "/checks/{check_id}/report.pdf",
    response_class=Response,
    responses={
        200: ex.binary_response(
            PDF,
            'An A4 PDF (Content-Disposition: inline; filename="arealsjekk-kontroll-1.pdf")',
        ),
        **NOT_READY,
    },
)
def get_report_pdf(
    check_id: CheckIdPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    principal: OptionalPrincipalDep,
) -> Response:
    """The conflict report of a check as an A4 PDF (for archiving and the plan forum)."""
    html = _report_html(session, settings, check_id, principal)
    pdf = html_to_pdf(html, public_base_url(request, settings))
    filename = f"arealsjekk-kontroll-{check_id}.pdf"
    return Response(
        pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
