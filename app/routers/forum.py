"""The regional plan forum: findings across municipalities, reviews, and the meeting agenda."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import FindingIdPath, PageDep, SettingsDep
from app.reports import pdf
from app.reports.agenda import build_agenda
from app.reports.render import render_html
from app.repositories import forum as repo
from app.schemas import Link
from app.security import require_roles
from app.urls import public_base_url
from spatial.errors import InvalidInputError, Problem
from spatial.rules.model import SEVERITIES

PREFIX = "/api/v1/forum"
router = APIRouter(
    # The forum works across municipalities, drafts included: county roles only.
    dependencies=[Depends(require_roles("forum", "admin"))],
    prefix=PREFIX,
    tags=["forum"],
)

ReviewStatus = Literal["open", "discussed", "accepted", "change_required", "objection"]
LIST_HELP = "repeat the parameter or separate values with commas"
KommunenummerQuery = Annotated[
    list[str] | None,
    Query(description=f"kommunenummer; {LIST_HELP}", examples=[["3326", "3324"]]),
]
RuleIdQuery = Annotated[
    list[str] | None, Query(description=f"rule id; {LIST_HELP}", examples=[["G1", "G2"]])
]


class ReviewState(BaseModel):
    """A finding's current review in the forum (status 'open' when never reviewed)."""

    status: ReviewStatus
    comment: str | None
    reviewer: str | None
    updated_at: datetime | None


class ForumFinding(BaseModel):
    """A finding of a proposal's latest check, with its municipality, plan and review."""

    id: int
    check_id: int
    proposal_id: str
    version: int
    kommunenummer: str
    municipality: str
    plannavn: str | None
    rule_id: str
    paragraph: str
    severity: str
    message: str
    suggested_action: str
    measures: dict[str, Any]
    plan_feature_keys: list[str]
    plan_feature_names: list[str]
    review: ReviewState
    links: list[Link]


class ForumFindingPage(BaseModel):
    """A page of forum findings."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.FORUM_FINDING_PAGE]})

    items: list[ForumFinding]
    total: int
    limit: int
    offset: int
    links: list[Link]


class ReviewRequest(BaseModel):
    """A review of a finding: the forum's status, a comment, and who made it."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.REVIEW_REQUEST]})

    status: ReviewStatus = Field(
        description="open | discussed | accepted (godtatt som den er) | "
        "change_required (krever endring) | objection (innsigelse)"
    )
    comment: str | None = Field(None, max_length=4000)
    reviewer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None


class ReviewEvent(BaseModel):
    """One change of a review."""

    from_status: ReviewStatus
    to_status: ReviewStatus
    comment: str | None
    reviewer: str
    created_at: datetime


class ReviewPublic(BaseModel):
    """A finding's review with its history, oldest change first."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.REVIEW]})

    finding_id: int
    status: ReviewStatus
    comment: str | None
    reviewer: str | None
    updated_at: datetime | None
    history: list[ReviewEvent]


def _values(raw: list[str] | None) -> tuple[str, ...]:
    parts = (part.strip() for item in raw or [] for part in item.split(","))
    return tuple(dict.fromkeys(part for part in parts if part))


def _choice(
    raw: list[str] | None, name: str, allowed: tuple[str, ...], default: tuple[str, ...]
) -> tuple[str, ...]:
    values = _values(raw)
    if not values:
        return default
    if "all" in values:
        return ()
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInputError(
            f"{name} must be 'all' or among {', '.join(allowed)}; got {', '.join(bad)}",
            [Problem(f"unknown value '{v}'", field=name) for v in bad],
        )
    return values


def _kommunenummer(raw: list[str] | None) -> tuple[str, ...]:
    values = _values(raw)
    bad = [v for v in values if not re.fullmatch(r"[0-9]{4}", v)]
    if bad:
        raise InvalidInputError(
            "kommunenummer must be four digits",
            [Problem(f"not a kommunenummer: '{v}'", field="kommunenummer") for v in bad],
        )
    return values


def _item(row: dict[str, Any]) -> ForumFinding:
    check = f"/api/v1/checks/{row['check_id']}"
    return ForumFinding(
        **{k: v for k, v in row.items() if k in ForumFinding.model_fields},
        links=[
            Link(href=f"{check}/report.html", rel="report", type="text/html"),
            Link(href=f"{check}/report.pdf", rel="alternate", type="application/pdf"),
            Link(href=f"{PREFIX}/findings/{row['id']}/review", rel="review"),
            Link(href=check, rel="related"),
            Link(href=f"{check}/findings", rel="related", type="application/geo+json"),
        ],
    )


@router.get(
    "/findings",
    response_model=ForumFindingPage,
    responses={
        200: ex.example_response(ex.FORUM_FINDING_PAGE, "A page of findings (one shown)"),
        **ex.problems(ex.FORUM_BAD_SEVERITY),
    },
)
def list_findings(
    session: SessionDep,
    page: PageDep,
    kommunenummer: KommunenummerQuery = None,
    rule_id: RuleIdQuery = None,
    severity: Annotated[
        list[str] | None,
        Query(
            description="default conflict,warning,unknown; 'all' for every severity",
            examples=[["conflict", "warning"]],
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        Query(
            description="review status; default open; 'all' for every one",
            examples=[["open", "discussed"]],
        ),
    ] = None,
) -> ForumFindingPage:
    """Findings of the latest check of each proposal's latest version, for the forum to review."""
    filters = repo.ForumFilters(
        kommunenummer=_kommunenummer(kommunenummer),
        rule_id=tuple(v.upper() for v in _values(rule_id)),
        severity=_choice(severity, "severity", SEVERITIES, repo.DEFAULT_SEVERITIES),
        status=_choice(status, "status", repo.REVIEW_STATUSES, repo.DEFAULT_STATUSES),
    )
    total = repo.count_findings(session, filters)
    items = [_item(row) for row in repo.list_findings(session, filters, page.limit, page.offset)]
    query: dict[str, str] = {}
    for name, given in (
        ("kommunenummer", kommunenummer),
        ("rule_id", rule_id),
        ("severity", severity),
        ("status", status),
    ):
        if _values(given):
            query[name] = ",".join(_values(given))

    def href(offset: int) -> str:
        return f"{PREFIX}/findings?" + urlencode(
            {**query, "limit": page.limit, "offset": offset}, safe=","
        )

    links = [Link(href=href(page.offset), rel="self")]
    if page.offset + page.limit < total:
        links.append(Link(href=href(page.offset + page.limit), rel="next"))
    if page.offset > 0:
        links.append(Link(href=href(max(page.offset - page.limit, 0)), rel="prev"))
    return ForumFindingPage(
        items=items, total=total, limit=page.limit, offset=page.offset, links=links
    )


@router.get(
    "/findings/{finding_id}/review",
    response_model=ReviewPublic,
    responses={200: ex.example_response(ex.REVIEW), **ex.problems(ex.NO_FINDING)},
)
def get_review(finding_id: FindingIdPath, session: SessionDep) -> Any:
    """A finding's review and its history ('open' with no history if never reviewed)."""
    return repo.get_review(session, finding_id)


@router.put(
    "/findings/{finding_id}/review",
    response_model=ReviewPublic,
    responses={
        200: ex.example_response(ex.REVIEW, "The review with its history"),
        **ex.problems(ex.NO_FINDING, ex.REVIEW_INVALID),
    },
)
def put_review(finding_id: FindingIdPath, body: ReviewRequest, session: SessionDep) -> Any:
    """Set a finding's review; each change is kept in the history with who, when, from and to."""
    return repo.set_review(session, finding_id, body.status, body.comment, body.reviewer)


DATE_HELP = "YYYY-MM-DD, inclusive, on the day the check finished (Norwegian time)"
FromQuery = Annotated[
    date | None, Query(alias="from", description=DATE_HELP, examples=["2026-11-01"])
]
ToQuery = Annotated[date | None, Query(alias="to", description=DATE_HELP, examples=["2026-11-30"])]


def _agenda_parameters(
    first: date | None, last: date | None, kommunenummer: list[str] | None
) -> tuple[str, ...]:
    if first is not None and last is not None and first > last:
        raise InvalidInputError(
            f"from ({first}) is after to ({last})", [Problem("after 'to'", field="from")]
        )
    return _kommunenummer(kommunenummer)


def _agenda_html(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: date | None,
    last: date | None,
    kommunenummer: list[str] | None,
) -> str:
    municipalities = _agenda_parameters(first, last, kommunenummer)
    query = {"from": first, "to": last, "kommunenummer": ",".join(municipalities)}
    given = urlencode({k: str(v) for k, v in query.items() if v}, safe=",")
    agenda = build_agenda(
        session,
        settings,
        first,
        last,
        municipalities,
        query=f"?{given}" if given else "",
        base_url=public_base_url(request, settings),
    )
    return render_html("reports/agenda.html", a=agenda)


@router.get(
    "/agenda.html",
    response_class=HTMLResponse,
    responses={
        200: ex.example_response(ex.AGENDA_HTML, "The agenda as an HTML page in bokmål", ex.HTML),
        **ex.problems(ex.at(ex.AGENDA_BAD_RANGE, f"{PREFIX}/agenda.html")),
    },
)
def agenda_html(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: FromQuery = None,
    last: ToQuery = None,
    kommunenummer: KommunenummerQuery = None,
) -> Response:
    """The forum meeting's agenda: proposals checked in the period, open conflicts and warnings."""
    return HTMLResponse(_agenda_html(request, session, settings, first, last, kommunenummer))


@router.get(
    "/agenda.pdf",
    response_class=Response,
    responses={
        200: ex.binary_response(
            ex.PDF,
            "An A4 PDF (Content-Disposition: inline; "
            'filename="planforum-saksliste-2026-11-01-2026-11-30.pdf")',
        ),
        **ex.problems(
            ex.AGENDA_BAD_RANGE,
            *(
                ex.problem(503, "service-unavailable", detail, f"{PREFIX}/agenda.pdf", summary=s)
                for detail, s in (
                    (pdf.BUSY, "Every PDF layout slot is busy (with Retry-After)"),
                    (pdf.too_slow(), "The layout ran past its time limit (with Retry-After)"),
                )
            ),
        ),
    },
)
async def agenda_pdf(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: FromQuery = None,
    last: ToQuery = None,
    kommunenummer: KommunenummerQuery = None,
) -> Response:
    """The forum meeting's agenda as an A4 PDF."""
    # Laid out as the conflict reports are: in a slot, in a process that can be stopped.
    # Bad parameters answer before waiting for a slot.
    _agenda_parameters(first, last, kommunenummer)
    try:
        async with pdf.layout_slot():
            html = await run_in_threadpool(
                _agenda_html, request, session, settings, first, last, kommunenummer
            )
            session.close()
            base_url = public_base_url(request, settings)
            content = await pdf.html_to_pdf(html, base_url, request.is_disconnected)
    except pdf.ClientLeftError:
        return Response(status_code=pdf.CLIENT_CLOSED_REQUEST)
    name = f"planforum-saksliste-{first or 'start'}-{last or 'slutt'}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
