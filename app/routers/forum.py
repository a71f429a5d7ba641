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
from app.case_references import SAKSNUMMER_PATTERN
from app.db import SessionDep
from app.dependencies import FindingIdPath, PageDep, ProposalIdPath, SettingsDep
from app.reports import pdf
from app.reports.agenda import build_agenda
from app.reports.render import render_html
from app.repositories import forum as repo
from app.repositories.proposals import get_proposal, proposal_key
from app.schemas import Link, ReviewState
from app.security import PrincipalDep, ProxyUserDep, require_roles
from app.urls import public_base_url
from spatial.errors import InvalidInputError, Problem
from spatial.messages import Text
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
SeverityQuery = Annotated[
    list[str] | None,
    Query(
        description="default conflict,warning,unknown; 'all' for every severity",
        examples=[["conflict", "warning"]],
    ),
]


ComparisonQuery = Annotated[
    list[str] | None,
    Query(
        description="against the proposal's previous check: new, unchanged, changed; "
        f"default all; {LIST_HELP}",
        examples=[["new", "changed"]],
    ),
]


class PreviousReview(ReviewState):
    """The review of the finding a changed finding continues, made on an earlier version."""

    version: int = Field(description="the version the review was made on")


class ForumFinding(BaseModel):
    """A finding of a proposal's latest check, with its municipality, plan and review."""

    id: int
    check_id: int
    proposal_id: str
    version: int
    kommunenummer: str
    municipality: str
    plannavn: str | None
    saksnummer: str | None = Field(
        None, description="the forum's case number for the proposal (PUT …/saksnummer)"
    )
    rule_id: str
    paragraph: str
    severity: str
    message: str
    suggested_action: str
    measures: dict[str, Any]
    plan_feature_keys: list[str]
    plan_feature_names: list[str]
    comparison: str | None = Field(
        description="new | unchanged | changed against the previous check (null: none); an "
        "unchanged finding carries its review over, a changed one is open again"
    )
    previous_finding_id: int | None
    previous_version: int | None = Field(
        description="the version of the previous check the finding was compared with"
    )
    review: ReviewState
    previous_review: PreviousReview | None = Field(
        description="for a changed finding: the review of the finding it continues "
        "(«fra versjon N»); null otherwise"
    )
    links: list[Link]


class ForumFindingPage(BaseModel):
    """A page of forum findings."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.FORUM_FINDING_PAGE]})

    items: list[ForumFinding]
    total: int
    limit: int
    offset: int
    links: list[Link]


class ResolvedForumFinding(BaseModel):
    """A finding of a proposal's previous check that its latest check no longer has."""

    id: int
    check_id: int = Field(description="the previous check, where it was found")
    version: int = Field(description="the version it was found on")
    resolved_in_check_id: int
    resolved_in_version: int = Field(description="the version it is resolved in («Løst i versjon»)")
    proposal_id: str
    kommunenummer: str
    municipality: str
    plannavn: str | None
    rule_id: str
    paragraph: str
    severity: str
    message: str
    plan_feature_keys: list[str]
    plan_feature_names: list[str]
    review: ReviewState = Field(description="its last review, on the version it was found on")
    links: list[Link]


class ResolvedPage(BaseModel):
    """A page of resolved findings."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.FORUM_RESOLVED_PAGE]})

    items: list[ResolvedForumFinding]
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
    reviewer: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = Field(
        None,
        description="who made it; by default the user the login proxy passes on "
        "(AREALSJEKK_USER_HEADER), else the API key's name",
    )

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
    key_name: str | None
    user_name: str | None
    carried_from_version: int | None = Field(
        description="made on this earlier version and carried over with the finding"
    )
    created_at: datetime


class ReviewPublic(BaseModel):
    """A finding's review with its history, oldest change first."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.REVIEW]})

    finding_id: int
    status: ReviewStatus
    comment: str | None
    reviewer: str | None
    key_name: str | None = Field(description="name of the API key that recorded it")
    user_name: str | None = Field(description="the login proxy's user, when configured")
    carried_from_version: int | None = Field(
        description="set when the review was made on an earlier version and carried over"
    )
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
            Text(
                f"{name} må være «all» eller blant {', '.join(allowed)}; fikk {', '.join(bad)}",
                f"{name} must be 'all' or among {', '.join(allowed)}; got {', '.join(bad)}",
            ),
            [Problem(Text(f"ukjent verdi «{v}»", f"unknown value '{v}'"), field=name) for v in bad],
        )
    return values


def _kommunenummer(raw: list[str] | None) -> tuple[str, ...]:
    values = _values(raw)
    bad = [v for v in values if not re.fullmatch(r"[0-9]{4}", v)]
    if bad:
        raise InvalidInputError(
            Text("kommunenummer må være fire sifre", "kommunenummer must be four digits"),
            [
                Problem(
                    Text(f"ikke et kommunenummer: «{v}»", f"not a kommunenummer: '{v}'"),
                    field="kommunenummer",
                )
                for v in bad
            ],
        )
    return values


def _links(row: dict[str, Any]) -> list[Link]:
    check = f"/api/v1/checks/{row['check_id']}"
    return [
        Link(href=f"{check}/report.html", rel="report", type="text/html"),
        Link(href=f"{check}/report.pdf", rel="alternate", type="application/pdf"),
        Link(href=f"{PREFIX}/findings/{row['id']}/review", rel="review"),
        Link(href=check, rel="related"),
        Link(href=f"{check}/findings", rel="related", type="application/geo+json"),
    ]


def _item(row: dict[str, Any]) -> ForumFinding:
    return ForumFinding(
        **{k: v for k, v in row.items() if k in ForumFinding.model_fields}, links=_links(row)
    )


def _page_links(path: str, query: dict[str, str], limit: int, offset: int, total: int):
    def href(at: int) -> str:
        return f"{PREFIX}/{path}?" + urlencode({**query, "limit": limit, "offset": at}, safe=",")

    links = [Link(href=href(offset), rel="self")]
    if offset + limit < total:
        links.append(Link(href=href(offset + limit), rel="next"))
    if offset > 0:
        links.append(Link(href=href(max(offset - limit, 0)), rel="prev"))
    return links


def _filters(
    kommunenummer: list[str] | None,
    rule_id: list[str] | None,
    severity: list[str] | None,
    **more: tuple[str, ...],
) -> repo.ForumFilters:
    """The filters the forum's lists share (municipality, rule, severity), checked, and more."""
    return repo.ForumFilters(
        kommunenummer=_kommunenummer(kommunenummer),
        rule_id=tuple(v.upper() for v in _values(rule_id)),
        severity=_choice(severity, "severity", SEVERITIES, repo.DEFAULT_SEVERITIES),
        **more,
    )


def _given(**raw: list[str] | None) -> dict[str, str]:
    return {name: ",".join(_values(given)) for name, given in raw.items() if _values(given)}


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
    severity: SeverityQuery = None,
    status: Annotated[
        list[str] | None,
        Query(
            description="review status; default open; 'all' for every one",
            examples=[["open", "discussed"]],
        ),
    ] = None,
    comparison: ComparisonQuery = None,
) -> ForumFindingPage:
    """Findings of the latest check of each proposal's latest version, for the forum to review.

    Each says whether it is new, unchanged or changed since the proposal's previous check:
    an unchanged finding carries its review over (with `carried_from_version`), a changed
    one is open again and shows the earlier review as `previous_review`. Findings the
    latest checks no longer have are listed by GET /api/v1/forum/resolved.
    """
    filters = _filters(
        kommunenummer,
        rule_id,
        severity,
        status=_choice(status, "status", repo.REVIEW_STATUSES, repo.DEFAULT_STATUSES),
        comparison=_choice(comparison, "comparison", repo.COMPARISONS, ()),
    )
    total = repo.count_findings(session, filters)
    items = [_item(row) for row in repo.list_findings(session, filters, page.limit, page.offset)]
    query = _given(
        kommunenummer=kommunenummer,
        rule_id=rule_id,
        severity=severity,
        status=status,
        comparison=comparison,
    )
    links = _page_links("findings", query, page.limit, page.offset, total)
    return ForumFindingPage(
        items=items, total=total, limit=page.limit, offset=page.offset, links=links
    )


@router.get(
    "/resolved",
    response_model=ResolvedPage,
    responses={
        200: ex.example_response(ex.FORUM_RESOLVED_PAGE, "A page of resolved findings"),
        **ex.problems(ex.at(ex.FORUM_BAD_SEVERITY, f"{PREFIX}/resolved")),
    },
)
def list_resolved(
    session: SessionDep,
    page: PageDep,
    kommunenummer: KommunenummerQuery = None,
    rule_id: RuleIdQuery = None,
    severity: SeverityQuery = None,
) -> ResolvedPage:
    """Findings resolved in each proposal's latest check: found by the previous check (of an
    earlier version, or earlier of this one) and no longer there («Løst i versjon M»)."""
    filters = _filters(kommunenummer, rule_id, severity, status=())
    total = repo.count_resolved(session, filters)
    rows = repo.list_resolved(session, filters, page.limit, page.offset)
    items = [ResolvedForumFinding(**row, links=_links(row)) for row in rows]
    query = _given(kommunenummer=kommunenummer, rule_id=rule_id, severity=severity)
    links = _page_links("resolved", query, page.limit, page.offset, total)
    return ResolvedPage(items=items, total=total, limit=page.limit, offset=page.offset, links=links)


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
def put_review(
    finding_id: FindingIdPath,
    body: ReviewRequest,
    session: SessionDep,
    principal: PrincipalDep,
    user: ProxyUserDep,
) -> Any:
    """Set a finding's review; each change is kept in the history with who, when, from and to.

    The review records the name of the API key that made it and, behind a login proxy
    (AREALSJEKK_USER_HEADER), the user; `reviewer` defaults to that user, else the key's name.
    """
    reviewer = body.reviewer or user or principal.name
    return repo.set_review(
        session, finding_id, body.status, body.comment, reviewer, principal.name, user
    )


DATE_HELP = "YYYY-MM-DD, inclusive, on the day the check finished (Norwegian time)"
FromQuery = Annotated[
    date | None, Query(alias="from", description=DATE_HELP, examples=["2026-11-01"])
]
ToQuery = Annotated[date | None, Query(alias="to", description=DATE_HELP, examples=["2026-11-30"])]
MeetingDateQuery = Annotated[
    date | None,
    Query(
        description="the forum meeting's date, YYYY-MM-DD (in the heading)", examples=["2026-12-10"]
    ),
]


class SaksnummerRequest(BaseModel):
    """The case-management number (saksnummer) the forum gives a proposal; null removes it."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.SAKSNUMMER_REQUEST]})

    saksnummer: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=20, pattern=SAKSNUMMER_PATTERN),
        ]
        | None
    ) = Field(description="saksår/sekvensnummer, e.g. 2026/123 (Noark 5); null to remove")


class SaksnummerPublic(BaseModel):
    """A proposal's saksnummer as the agenda shows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [ex.SAKSNUMMER]})

    proposal_id: str
    saksnummer: str | None
    links: list[Link]


@router.put(
    "/proposals/{proposal_id}/saksnummer",
    response_model=SaksnummerPublic,
    responses={
        200: ex.example_response(ex.SAKSNUMMER, "The proposal's saksnummer"),
        **ex.problems(ex.NO_PROPOSAL, ex.SAKSNUMMER_INVALID),
    },
)
def put_saksnummer(
    proposal_id: ProposalIdPath, body: SaksnummerRequest, session: SessionDep
) -> SaksnummerPublic:
    """Set the saksnummer the agenda shows for a proposal (drafts included); null removes it."""
    proposal = get_proposal(session, proposal_id)
    proposal.saksnummer = body.saksnummer
    session.commit()
    key = proposal_key(proposal.kommunenummer, proposal.planidentifikasjon)
    return SaksnummerPublic(
        proposal_id=key,
        saksnummer=proposal.saksnummer,
        links=[Link(href=f"/api/v1/proposals/{key}", rel="related")],
    )


def _agenda_parameters(
    first: date | None, last: date | None, kommunenummer: list[str] | None
) -> tuple[str, ...]:
    if first is not None and last is not None and first > last:
        raise InvalidInputError(
            Text(f"from ({first}) er etter to ({last})", f"from ({first}) is after to ({last})"),
            [Problem(Text("etter «to»", "after 'to'"), field="from")],
        )
    return _kommunenummer(kommunenummer)


def _agenda_html(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    first: date | None,
    last: date | None,
    kommunenummer: list[str] | None,
    meeting_date: date | None = None,
) -> str:
    municipalities = _agenda_parameters(first, last, kommunenummer)
    query = {
        "from": first,
        "to": last,
        "kommunenummer": ",".join(municipalities),
        "meeting_date": meeting_date,
    }
    given = urlencode({k: str(v) for k, v in query.items() if v}, safe=",")
    agenda = build_agenda(
        session,
        settings,
        first,
        last,
        municipalities,
        query=f"?{given}" if given else "",
        # Links in an agenda are followed from e-mail and archives: the configured public URL.
        base_url=public_base_url(request, settings),
        meeting_date=meeting_date,
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
    meeting_date: MeetingDateQuery = None,
) -> Response:
    """The forum meeting's agenda: proposals checked in the period with saksnummer, drafts
    marked, and the conflicts, warnings and unknowns to decide with a proposed conclusion."""
    return HTMLResponse(
        _agenda_html(request, session, settings, first, last, kommunenummer, meeting_date)
    )


@router.get(
    "/agenda.pdf",
    response_class=Response,
    responses={
        200: ex.binary_response(
            ex.PDF,
            "An A4 PDF/A-3a, also identified as PDF/UA-1 (Content-Disposition: inline; "
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
    meeting_date: MeetingDateQuery = None,
) -> Response:
    """The forum meeting's agenda as an A4 PDF for the archive: PDF/A-3a (tagged, fonts
    embedded), also identified as PDF/UA-1."""
    # Laid out as the conflict reports are: in a slot, in a process that can be stopped.
    # Bad parameters answer before waiting for a slot.
    _agenda_parameters(first, last, kommunenummer)
    try:
        async with pdf.layout_slot():
            html = await run_in_threadpool(
                _agenda_html, request, session, settings, first, last, kommunenummer, meeting_date
            )
            session.close()
            base_url = public_base_url(request, settings)
            content = await pdf.html_to_pdf(html, base_url, request.is_disconnected)
    except pdf.ClientLeftError:
        return Response(status_code=pdf.CLIENT_CLOSED_REQUEST)
    name = f"planforum-saksliste-{first or 'start'}-{last or 'slutt'}.pdf"
    if meeting_date is not None:
        name = f"planforum-saksliste-{meeting_date}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
