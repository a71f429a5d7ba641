"""The land account (arealregnskap): per municipality and for the county, over time."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from app import jobs
from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import KommunenummerPath, OutputCrsDep, SettingsDep
from app.land_account import (
    OSLO,
    account_at,
    indicator_series,
    latest_accounts,
    reserve_properties,
)
from app.land_account_export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    attachment,
    county_sheet,
    filename,
    indicator_sheet,
    municipality_sheets,
    reserve_rows,
    to_csv,
    to_xlsx,
)
from app.openapi_examples.land_account import (
    LAND_ACCOUNT_COUNTY_CSV,
    LAND_ACCOUNT_CSV,
    PLANVASK_GEOJSON,
    PLANVASK_HTML,
)
from app.reports import pdf
from app.reports.planvask import build_planvask, planvask_features, render_planvask
from app.repositories.geojson import content_crs_header, feature_collection, geometry_json
from app.responses import GeoJSONResponse
from app.schemas import (
    LandAccountJob,
    LandAccountPublic,
    LandAccountSummary,
    Link,
)
from app.security import AdminDep
from app.urls import absolute, base_url_or_none, public_base_url
from db.models import LandAccountAreaOrm, LandAccountOrm, MunicipalityOrm

PREFIX = "/api/v1/land-account"
router = APIRouter(prefix=PREFIX, tags=["land-account"])

DateQuery = Annotated[
    date | None,
    Query(
        alias="date",
        description="the account as it stood on this date: the latest computed on or before "
        "it (Norwegian time); default the latest",
        examples=["2026-12-01"],
    ),
]


def account_links(kommunenummer: str) -> list[Link]:
    """The links of a municipality's account."""
    base = f"{PREFIX}/{kommunenummer}"
    return [
        Link(href=base, rel="self"),
        Link(href=f"{base}/reserves", rel="reserves", type="application/geo+json"),
        Link(href=f"{base}/planvask.html", rel="planvask", type="text/html"),
        Link(href=f"{base}/planvask.pdf", rel="planvask", type="application/pdf"),
        Link(href=f"{base}/planvask.geojson", rel="planvask", type="application/geo+json"),
        Link(href=f"{base}.csv", rel="alternate", type="text/csv"),
        Link(href=f"{base}.xlsx", rel="alternate", type=XLSX_MEDIA_TYPE),
        Link(href=PREFIX, rel="collection"),
        Link(href=f"/arealregnskap?kommune={kommunenummer}", rel="alternate", type="text/html"),
    ]


def account_public(
    account: LandAccountOrm, name: str, trend: list[dict[str, Any]]
) -> LandAccountPublic:
    """An account as the API shows it."""
    return LandAccountPublic(
        id=account.id,
        kommunenummer=account.kommunenummer,
        municipality=name,
        computed_at=account.computed_at,
        trigger=account.trigger,
        method={
            "id": account.method_id,
            "version": account.method_version,
            "checksum": account.method_checksum,
        },
        rule_set={
            "id": account.rule_set_id,
            "version": account.rule_set_version,
            "checksum": account.rule_set_checksum,
        },
        layer_versions=account.layer_versions,
        totals=account.totals,
        notes=account.notes,
        trend=trend,
        links=account_links(account.kommunenummer),
    )


@router.get(
    "",
    response_model=LandAccountSummary,
    responses={
        200: ex.example_response(ex.LAND_ACCOUNT_SUMMARY, "The county's land account"),
        **ex.problems(ex.at(ex.BAD_DATE, PREFIX)),
    },
)
def county_summary(session: SessionDep, day: DateQuery = None) -> LandAccountSummary:
    """The county summary: every municipality's latest land account (as of `date`), the
    county totals and the indicator «konflikter i arealregnskapet» per municipality and year."""
    names = dict(session.execute(select(MunicipalityOrm.kommunenummer, MunicipalityOrm.name)).all())
    accounts = latest_accounts(session, day)
    rows = []
    for account in accounts:
        totals = account.totals
        rows.append(
            {
                "kommunenummer": account.kommunenummer,
                "municipality": names.get(account.kommunenummer, ""),
                "account_id": account.id,
                "computed_at": account.computed_at,
                **{key: totals[key] for key in SUMMARY_FIGURES},
                "cabin_lots": totals["cabin_capacity"]["lots"],
                "by_rule": {rule: f["conflict_m2"] for rule, f in totals["by_rule"].items()},
                "href": f"{PREFIX}/{account.kommunenummer}",
            }
        )
    county: dict[str, float | int] = {
        key: round(sum(r[key] for r in rows), 1) for key in SUMMARY_AREAS
    }
    county |= {key: sum(r[key] for r in rows) for key in SUMMARY_COUNTS}
    county["conflict_share_pct"] = (
        round(100 * county["conflict_m2"] / county["reserve_m2"], 2)
        if county["reserve_m2"]
        else 0.0
    )
    return LandAccountSummary(
        on=day,
        municipalities=rows,
        county=county,
        indicator=indicator_series(session, day=day),
        links=[
            Link(href=PREFIX, rel="self"),
            Link(href="/arealregnskap", rel="alternate", type="text/html"),
            Link(href=f"{PREFIX}.csv", rel="alternate", type="text/csv"),
            Link(href=f"{PREFIX}.xlsx", rel="alternate", type=XLSX_MEDIA_TYPE),
        ],
    )


SUMMARY_AREAS = ("area_m2", "built_m2", "reserve_m2", "conflict_m2")
SUMMARY_COUNTS = ("reserve_count", "reserves_in_conflict", "cabin_lots")
SUMMARY_FIGURES = (*SUMMARY_AREAS, "reserve_count", "reserves_in_conflict", "conflict_share_pct")


@router.post(
    "",
    response_model=LandAccountJob,
    status_code=202,
    responses={
        202: ex.example_response(ex.LAND_ACCOUNT_QUEUED, "Queued", location="the account"),
        **ex.problems(ex.at(ex.NO_MUNICIPALITY, PREFIX)),
    },
)
def compute(
    principal: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    kommunenummer: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}$",
            description="the municipality to compute (default: all 18)",
            examples=["3326"],
        ),
    ] = None,
) -> LandAccountJob:
    """Queue a computation of the land account of one municipality, or of all (admin); a
    worker runs it against the current layer versions. While the same computation waits,
    a second request is answered with the waiting one's (job null)."""
    if kommunenummer is not None:
        from app.check_runner import municipality_info

        municipality_info(session, kommunenummer)
    job_id = jobs.defer_land_accounts(session, "api", kommunenummer)
    session.commit()
    target = f"{PREFIX}/{kommunenummer}" if kommunenummer else PREFIX
    response.headers["Location"] = absolute(base_url_or_none(request, settings), target)
    return LandAccountJob(
        job_id=job_id,
        kommunenummer=kommunenummer,
        links=[Link(href=target, rel="result")],
    )


CSV_DESCRIPTION = (
    "CSV for Excel with Norwegian settings: `;`-separated, decimal comma without thousands "
    "separator, UTF-8 with byte order mark, CRLF; areas in m² (0.1), shares in % (0.01); "
    "a text that would start a formula gets a leading apostrophe. Content-Disposition: "
    'attachment; filename="arealregnskap-{stem}-YYYY-MM-DD.csv"'
)
XLSX_DESCRIPTION = (
    "An XLSX workbook (figures as numbers, the same as in the JSON): {sheets}. "
    'Content-Disposition: attachment; filename="arealregnskap-{stem}-YYYY-MM-DD.xlsx"'
)


def _today() -> date:
    return datetime.now(OSLO).date()


def _county_export(session: SessionDep, day: date | None) -> tuple[list[Any], date]:
    summary = county_summary(session, day).model_dump(mode="json")
    names = {row["kommunenummer"]: row["municipality"] for row in summary["municipalities"]}
    sheets = [county_sheet(summary), indicator_sheet(summary["indicator"], names)]
    return sheets, day or _today()


@router.get(
    ".csv",
    response_class=Response,
    responses={
        200: ex.example_response(
            LAND_ACCOUNT_COUNTY_CSV, CSV_DESCRIPTION.format(stem="buskerud"), "text/csv"
        ),
        **ex.problems(ex.at(ex.BAD_DATE, f"{PREFIX}.csv")),
    },
)
def county_csv(session: SessionDep, day: DateQuery = None) -> Response:
    """The county table as CSV: each municipality's latest land account (as of `date`), one
    row each, and their sum; the file is named by `date` (default today)."""
    sheets, on = _county_export(session, day)
    return Response(
        to_csv(sheets[0]),
        media_type=CSV_MEDIA_TYPE,
        headers=attachment(filename("buskerud", on, "csv")),
    )


@router.get(
    ".xlsx",
    response_class=Response,
    responses={
        200: ex.binary_response(
            XLSX_MEDIA_TYPE,
            XLSX_DESCRIPTION.format(
                stem="buskerud",
                sheets="«Kommuner» (as the CSV) and «Indikator» (per municipality and year)",
            ),
        ),
        **ex.problems(ex.at(ex.BAD_DATE, f"{PREFIX}.xlsx")),
    },
)
def county_xlsx(session: SessionDep, day: DateQuery = None) -> Response:
    """The county table as an XLSX workbook, with the indicator «konflikter i
    arealregnskapet» per municipality and year on a second sheet."""
    sheets, on = _county_export(session, day)
    return Response(
        to_xlsx(sheets, "Arealregnskap for Buskerud"),
        media_type=XLSX_MEDIA_TYPE,
        headers=attachment(filename("buskerud", on, "xlsx")),
    )


def _municipality_export(
    session: SessionDep, kommunenummer: str, day: date | None
) -> tuple[list[Any], date, str]:
    account = municipality_account(kommunenummer, session, day)
    sheets = municipality_sheets(account.model_dump(mode="json"), reserve_rows(session, account.id))
    computed = account.computed_at.astimezone(OSLO).date()
    title = f"Arealregnskap for {kommunenummer} {account.municipality}"
    return sheets, computed, title


@router.get(
    "/{kommunenummer}.csv",
    response_class=Response,
    responses={
        200: ex.example_response(LAND_ACCOUNT_CSV, CSV_DESCRIPTION.format(stem="3326"), "text/csv"),
        **ex.problems(ex.at(ex.NO_LAND_ACCOUNT, f"{PREFIX}/3326.csv")),
    },
)
def municipality_csv(
    kommunenummer: KommunenummerPath, session: SessionDep, day: DateQuery = None
) -> Response:
    """A municipality's reserves (as of `date`) as CSV, heaviest conflict first: area, built
    and unbuilt part, lots, and the part in conflict with each guideline; the file is named by
    the day the account was computed."""
    sheets, computed, _ = _municipality_export(session, kommunenummer, day)
    return Response(
        to_csv(sheets[0]),
        media_type=CSV_MEDIA_TYPE,
        headers=attachment(filename(kommunenummer, computed, "csv")),
    )


@router.get(
    "/{kommunenummer}.xlsx",
    response_class=Response,
    responses={
        200: ex.binary_response(
            XLSX_MEDIA_TYPE,
            XLSX_DESCRIPTION.format(
                stem="3326",
                sheets="«Reserver» (as the CSV), «Formålsgrupper», «Retningslinjer», "
                "«Utvikling» (the indicator per year) and «Om beregningen» (method, rule set, "
                "layer versions, notes)",
            ),
        ),
        **ex.problems(ex.at(ex.NO_LAND_ACCOUNT, f"{PREFIX}/3326.xlsx")),
    },
)
def municipality_xlsx(
    kommunenummer: KommunenummerPath, session: SessionDep, day: DateQuery = None
) -> Response:
    """A municipality's land account (as of `date`) as an XLSX workbook: the reserves, the
    figures per arealformål group and per guideline, the trend and what it was computed from."""
    sheets, computed, title = _municipality_export(session, kommunenummer, day)
    return Response(
        to_xlsx(sheets, title),
        media_type=XLSX_MEDIA_TYPE,
        headers=attachment(filename(kommunenummer, computed, "xlsx")),
    )


@router.get(
    "/{kommunenummer}",
    response_model=LandAccountPublic,
    responses={
        200: ex.example_response(ex.LAND_ACCOUNT, "The municipality's land account"),
        **ex.problems(ex.NO_LAND_ACCOUNT, ex.at(ex.BAD_DATE, f"{PREFIX}/3326")),
    },
)
def municipality_account(
    kommunenummer: KommunenummerPath, session: SessionDep, day: DateQuery = None
) -> LandAccountPublic:
    """A municipality's land account (as of `date`): reserves by arealformål group, how much
    of them each guideline finds in conflict, the cabin areas' remaining capacity, what it
    was computed from, and the indicator's trend per year."""
    account = account_at(session, kommunenummer, day)
    name = session.get(MunicipalityOrm, kommunenummer).name
    return account_public(account, name, indicator_series(session, kommunenummer, day))


@router.get(
    "/{kommunenummer}/reserves",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(ex.LAND_ACCOUNT_RESERVES, "The reserves (one shown)"),
        **ex.problems(ex.NO_LAND_ACCOUNT, ex.at(ex.BAD_CRS, f"{PREFIX}/3326/reserves")),
    },
)
def reserves(
    kommunenummer: KommunenummerPath,
    session: SessionDep,
    crs: OutputCrsDep,
    day: DateQuery = None,
    conflicts_only: Annotated[
        bool, Query(description="only the reserves in conflict with a guideline")
    ] = False,
) -> Any:
    """The account's reserves as GeoJSON (the unbuilt parts) with their figures per guideline,
    in the planvask's order and numbering (heaviest conflict first, then the largest area to
    adapt); `conflicts_only` leaves out the rest."""
    account = account_at(session, kommunenummer, day)
    query = select(
        LandAccountAreaOrm, geometry_json(LandAccountAreaOrm.geom, crs.srid).label("geometry")
    ).where(LandAccountAreaOrm.account_id == account.id, LandAccountAreaOrm.is_reserve)
    if conflicts_only:
        query = query.where(LandAccountAreaOrm.conflict_m2 > 0)
    query = query.order_by(LandAccountAreaOrm.position)
    features = [
        {
            "type": "Feature",
            "id": area.position + 1,  # the planvask's number: positions are in its order
            "properties": {**reserve_properties(area), "source_key": area.feature_key},
            "geometry": geometry,
        }
        for area, geometry in session.execute(query)
    ]
    body = feature_collection(
        features,
        crs.label,
        account_id=account.id,
        kommunenummer=kommunenummer,
        computed_at=account.computed_at.isoformat(),
    )
    return GeoJSONResponse(body, headers=content_crs_header(crs.label))


PLANVASK_PDF_UNAVAILABLE = [
    ex.problem(503, "service-unavailable", detail, f"{PREFIX}/3326/planvask.pdf", summary=summary)
    for detail, summary in (
        (pdf.BUSY, "Every PDF layout slot is busy (with Retry-After)"),
        (pdf.too_slow(), "The layout ran past its time limit and was stopped (with Retry-After)"),
    )
]


def _planvask_html(
    session: SessionDep, settings: SettingsDep, kommunenummer: str, day: date | None, base_url: str
) -> str:
    """Render a municipality's planvask (as of `day`) as a self-contained HTML page."""
    account = account_at(session, kommunenummer, day)
    report = build_planvask(session, settings, account, on=day, base_url=base_url)
    # The maps are drawn; nothing else in the report needs the database.
    session.close()
    return render_planvask(report)


def _account_exists(session: SessionDep, kommunenummer: str, day: date | None) -> None:
    """Raise 404 unless the municipality has an account (as of `day`)."""
    account_at(session, kommunenummer, day)
    session.close()


@router.get(
    "/{kommunenummer}/planvask.html",
    response_class=HTMLResponse,
    responses={
        200: ex.example_response(
            PLANVASK_HTML, "A self-contained HTML page in bokmål (maps inline)", ex.HTML
        ),
        **ex.problems(
            ex.at(ex.NO_LAND_ACCOUNT, f"{PREFIX}/3326/planvask.html"),
            ex.at(ex.BAD_DATE, f"{PREFIX}/3328/planvask.html"),
        ),
    },
)
def planvask_html(
    kommunenummer: KommunenummerPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    day: DateQuery = None,
) -> Response:
    """The planvask (Buskerudplanen §6.2.4 tiltak 5) in bokmål: the adopted reserves in
    conflict with the guidelines, heaviest first (conflicts before warnings, then the area
    concerned), each with its figures per guideline, paragraph, the rule engine's messages
    and the method's suggested action for the next revision of the kommuneplan; with maps."""
    base_url = public_base_url(request, settings)
    return HTMLResponse(_planvask_html(session, settings, kommunenummer, day, base_url))


@router.get(
    "/{kommunenummer}/planvask.pdf",
    response_class=Response,
    responses={
        200: ex.binary_response(
            ex.PDF,
            'An A4 PDF (Content-Disposition: inline; filename="arealsjekk-planvask-3326.pdf")',
        ),
        **ex.problems(
            ex.at(ex.NO_LAND_ACCOUNT, f"{PREFIX}/3326/planvask.pdf"),
            ex.at(ex.BAD_DATE, f"{PREFIX}/3328/planvask.pdf"),
            *PLANVASK_PDF_UNAVAILABLE,
        ),
    },
)
async def planvask_pdf(
    kommunenummer: KommunenummerPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    day: DateQuery = None,
) -> Response:
    """The planvask as an A4 PDF (for the municipality's revision of its kommuneplan)."""
    base_url = public_base_url(request, settings)
    # Not found answers before waiting for a layout slot; no database connection is held
    # while waiting.
    await run_in_threadpool(_account_exists, session, kommunenummer, day)
    return await pdf.inline_pdf(
        request,
        base_url,
        lambda: _planvask_html(session, settings, kommunenummer, day, base_url),
        f"arealsjekk-planvask-{kommunenummer}.pdf",
    )


@router.get(
    "/{kommunenummer}/planvask.geojson",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(PLANVASK_GEOJSON, "The planvask's reserves (one shown)"),
        **ex.problems(
            ex.at(ex.NO_LAND_ACCOUNT, f"{PREFIX}/3326/planvask.geojson"),
            ex.at(ex.BAD_DATE, f"{PREFIX}/3328/planvask.geojson"),
            ex.at(ex.BAD_CRS, f"{PREFIX}/3328/planvask.geojson"),
        ),
    },
)
def planvask_geojson(
    kommunenummer: KommunenummerPath,
    session: SessionDep,
    settings: SettingsDep,
    crs: OutputCrsDep,
    day: DateQuery = None,
) -> Any:
    """The planvask's reserves as GeoJSON for QGIS, in the report's order (`rank`): the
    unbuilt part of each reserve with its figures, a column per guideline of the method
    (`g1_conflict_m2`, …), the paragraphs, the rule engine's messages and the method's
    suggested actions (text in bokmål)."""
    account = account_at(session, kommunenummer, day)
    features = planvask_features(session, account, settings, crs.srid)
    body = feature_collection(
        features,
        crs.label,
        account_id=account.id,
        kommunenummer=kommunenummer,
        computed_at=account.computed_at.isoformat(),
    )
    return GeoJSONResponse(body, headers=content_crs_header(crs.label))
