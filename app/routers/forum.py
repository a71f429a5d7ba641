"""The regional plan forum: findings across municipalities, reviews, and the meeting agenda."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator

from app.db import SessionDep
from app.dependencies import PageDep, SettingsDep
from app.reports.agenda import build_agenda
from app.reports.render import html_to_pdf, render_html
from app.repositories import forum as repo
from app.schemas import Link
from app.security import require_roles
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
FindingIdPath = Annotated[int, Path(ge=1, description="finding id")]
ListQuery = Annotated[
    list[str] | None, Query(description="repeat the parameter or separate values with commas")
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
    review: ReviewState
    links: list[Link]


class ForumFindingPage(BaseModel):
    """A page of forum findings."""

    items: list[ForumFinding]
    total: int
    limit: int
    offset: int
    links: list[Link]


class ReviewRequest(BaseModel):
    """A review of a finding: the forum's status, a comment, and who made it."""

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
    bad = [v for v in values if not re.fullmatch(r"\d{4}", v)]
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


@router.get("/findings", response_model=ForumFindingPage)
def list_findings(
    session: SessionDep,
    page: PageDep,
    kommunenummer: ListQuery = None,
    rule_id: ListQuery = None,
    severity: Annotated[
        list[str] | None,
        Query(description="default conflict,warning,unknown; 'all' for every severity"),
    ] = None,
    status: Annotated[
        list[str] | None, Query(description="review status; default open; 'all' for every one")
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


@router.get("/findings/{finding_id}/review", response_model=ReviewPublic)
def get_review(finding_id: FindingIdPath, session: SessionDep) -> Any:
    """A finding's review and its history ('open' with no history if never reviewed)."""
    return repo.get_review(session, finding_id)


@router.put("/findings/{finding_id}/review", response_model=ReviewPublic)
def put_review(finding_id: FindingIdPath, body: ReviewRequest, session: SessionDep) -> Any:
    """Set a finding's review; each change is kept in the history with who, when, from and to."""
    return repo.set_review(session, finding_id, body.status, body.comment, body.reviewer)


DATE_HELP = "YYYY-MM-DD, inclusive, on the day the check finished (Norwegian time)"


def _agenda_html(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: date | None,
    last: date | None,
    kommunenummer: list[str] | None,
) -> str:
    if first is not None and last is not None and first > last:
        raise InvalidInputError(
            f"from ({first}) is after to ({last})", [Problem("after 'to'", field="from")]
        )
    municipalities = _kommunenummer(kommunenummer)
    query = {"from": first, "to": last, "kommunenummer": ",".join(municipalities)}
    given = urlencode({k: str(v) for k, v in query.items() if v}, safe=",")
    agenda = build_agenda(
        session,
        settings,
        first,
        last,
        municipalities,
        query=f"?{given}" if given else "",
        base_url=str(request.base_url),
    )
    return render_html("reports/agenda.html", a=agenda)


@router.get(
    "/agenda.html", response_class=HTMLResponse, responses={200: {"content": {"text/html": {}}}}
)
def agenda_html(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: Annotated[date | None, Query(alias="from", description=DATE_HELP)] = None,
    last: Annotated[date | None, Query(alias="to", description=DATE_HELP)] = None,
    kommunenummer: ListQuery = None,
) -> Response:
    """The forum meeting's agenda: proposals checked in the period, open conflicts and warnings."""
    return HTMLResponse(_agenda_html(request, session, settings, first, last, kommunenummer))


@router.get(
    "/agenda.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def agenda_pdf(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: Annotated[date | None, Query(alias="from", description=DATE_HELP)] = None,
    last: Annotated[date | None, Query(alias="to", description=DATE_HELP)] = None,
    kommunenummer: ListQuery = None,
) -> Response:
    """The forum meeting's agenda as an A4 PDF."""
    html = _agenda_html(request, session, settings, first, last, kommunenummer)
    pdf = html_to_pdf(html, str(request.base_url))
    name = f"planforum-saksliste-{first or 'start'}-{last or 'slutt'}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
