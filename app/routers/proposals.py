"""Plan proposals: upload a version, list proposals, read versions and their areas."""

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, update

from app import openapi_examples as ex
from app.access import ensure_may_submit, visible_proposals
from app.case_references import SAKSNUMMER_HELP, SAKSNUMMER_PATTERN
from app.db import SessionDep
from app.dependencies import (
    OutputCrsDep,
    PageDep,
    PlanOverridesDep,
    ProposalIdPath,
    SettingsDep,
    UploadCaseReferenceDep,
    UploadDep,
    VersionPath,
)
from app.language import current_language
from app.repositories import proposals as repo
from app.repositories.geojson import content_crs_header, feature_collection
from app.responses import GeoJSONResponse
from app.schemas import (
    IdenticalUploadPublic,
    Link,
    ProposalPage,
    ProposalPublic,
    ProposalSummary,
    UploadReportPublic,
    VersionPublic,
    VersionSummary,
)
from app.security import OptionalPrincipalDep, SubmitterDep
from app.uploads import prepare_upload
from app.urls import absolute, base_url_or_none
from app.webhooks import enqueue_proposal_published
from db.models import PlanProposalOrm, ProposalVersionOrm
from spatial.messages import Text

router = APIRouter(prefix="/api/v1/proposals", tags=["proposals"])

PREFIX = router.prefix


def _version_links(proposal_id: str, number: int) -> list[Link]:
    base = f"{PREFIX}/{proposal_id}/versions/{number}"
    return [
        Link(href=base, rel="self"),
        Link(href=f"{base}/features", rel="items", type="application/geo+json"),
        Link(href=f"{PREFIX}/{proposal_id}", rel="collection"),
    ]


def _version_summary(proposal_id: str, version: ProposalVersionOrm) -> VersionSummary:
    return VersionSummary(
        version=version.version,
        uploaded_at=version.uploaded_at,
        plantype=version.plantype,
        planstatus=version.planstatus,
        plannavn=version.plannavn,
        source_format=version.source_format,
        source_crs=version.source_crs,
        source_filename=version.source_filename,
        content_sha256=version.content_sha256,
        feature_count=version.feature_count,
        saksnummer=version.saksnummer,
        journalpost_id=version.journalpost_id,
        links=_version_links(proposal_id, version.version),
    )


def _proposal_fields(proposal: PlanProposalOrm, latest: int | None) -> dict[str, Any]:
    key = repo.proposal_key(proposal.kommunenummer, proposal.planidentifikasjon)
    return {
        "id": key,
        "kommunenummer": proposal.kommunenummer,
        "planidentifikasjon": proposal.planidentifikasjon,
        "plantype": proposal.plantype,
        "planstatus": proposal.planstatus,
        "plannavn": proposal.plannavn,
        "latest_version": latest,
        "published_at": proposal.published_at,
        "created_at": proposal.created_at,
        "updated_at": proposal.updated_at,
        "links": [Link(href=f"{PREFIX}/{key}", rel="self")],
    }


def _version_public(
    session: SessionDep, version: ProposalVersionOrm, area_counts: dict[str, int] | None = None
) -> VersionPublic:
    proposal = version.proposal
    key = repo.proposal_key(proposal.kommunenummer, proposal.planidentifikasjon)
    return VersionPublic(
        **_version_summary(key, version).model_dump(),
        proposal_id=key,
        kommunenummer=proposal.kommunenummer,
        planidentifikasjon=proposal.planidentifikasjon,
        area_counts=area_counts or repo.version_area_counts(session, version.id),
        report=UploadReportPublic.model_validate(version.report),
    )


IfIdenticalQuery = Annotated[
    Literal["existing", "new_version"],
    Query(
        description="when the content is byte for byte the proposal's latest version: "
        "'existing' answers 200 with that version and stores nothing; 'new_version' "
        "stores it as a new version anyway",
        examples=["new_version"],
    ),
]
IDENTICAL_UPLOAD_RESPONSE: dict[str, Any] = {
    **ex.example_response(
        ex.IDENTICAL_UPLOAD,
        "Byte for byte the latest version (with the same plan attributes): no new "
        "version; the latest one, with identical_to_version and a note",
    ),
    "model": IdenticalUploadPublic,
}


@router.post(
    "",
    status_code=201,
    response_model=VersionPublic,
    openapi_extra=ex.PROPOSAL_UPLOAD_BODY,
    responses={
        201: ex.example_response(
            ex.VERSION, "Stored as a new version", location="URL of the new version"
        ),
        200: IDENTICAL_UPLOAD_RESPONSE,
        **ex.problems(*ex.UPLOAD_PROBLEMS, ex.NOT_YOUR_MUNICIPALITY),
    },
)
def upload_proposal(
    # The key is checked before the body is read: an anonymous upload costs nothing.
    principal: SubmitterDep,
    upload: UploadDep,
    case: UploadCaseReferenceDep,
    session: SessionDep,
    settings: SettingsDep,
    overrides: PlanOverridesDep,
    request: Request,
    response: Response,
    if_identical: IfIdenticalQuery = "existing",
) -> Any:
    """Upload a plan proposal in any of the formats the request body lists.

    Content that is byte for byte the proposal's latest version makes no new version unless
    `if_identical=new_version` asks for one (or the upload names another saksnummer or
    journalpostId): the answer is 200 with that version and `identical_to_version`.
    A case system names its case and record with `saksnummer` and `journalpostId`, as query
    parameters or as fields of the multipart form; they are kept with the version.
    """
    plan = prepare_upload(
        session, settings, upload.body, overrides.as_dict(), upload.filename, upload.content_type
    )
    # Refused by the key's role and municipality alone, whether the plan exists or not: an
    # upload for another municipality's plan id is a 403 that tells nothing about its drafts.
    ensure_may_submit(session, principal, plan.metadata.kommunenummer)
    base_url = base_url_or_none(request, settings)
    repo.lock_plan(session, plan.metadata.kommunenummer, plan.metadata.planidentifikasjon)
    if if_identical == "existing":
        same = repo.identical_latest_version(
            session, plan, upload.body, case.saksnummer, case.journalpost_id
        )
        if same is not None:
            return _identical_answer(session, same, base_url)
    version = repo.store_version(
        session, plan, upload.body, upload.filename, case.saksnummer, case.journalpost_id
    )
    # Built from memory: after the commit, a failing database must not turn into an error
    # answer for an upload that is stored (the client would retry and store it twice).
    public = _version_public(session, version, repo.area_counts(plan))
    response.headers["Location"] = _header_url(base_url, public.links[0].href)
    return public


def _header_url(base_url: str | None, path: str) -> str:
    """An absolute URL for Location headers (followed by clients on other hosts)."""
    # A header is ASCII (RFC 9110 §5.5): a plan id with æøå is percent-encoded (RFC 3986).
    return quote(absolute(base_url, path), safe="/:?=&%")


def _identical_answer(
    session: SessionDep, version: ProposalVersionOrm, base_url: str | None
) -> JSONResponse:
    """The answer to an upload that repeats the latest version: 200, that version, a note."""
    public = _version_public(session, version)
    note = Text(
        f"Innholdet er byte for byte likt versjon {version.version}; ingen ny versjon ble "
        "laget. Send if_identical=new_version for å lagre det som en ny versjon likevel.",
        f"The content is byte for byte version {version.version}; no new version was made. "
        "Send if_identical=new_version to store it as a new version anyway.",
    )
    body = IdenticalUploadPublic(
        **public.model_dump(),
        identical_to_version=version.version,
        note=note.in_language(current_language()),
    )
    # Content-Location names the version this answer represents (RFC 9110 §8.7).
    location = _header_url(base_url, public.links[0].href)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=200, headers={"Content-Location": location}
    )


@router.get("", response_model=ProposalPage, responses={200: ex.example_response(ex.PROPOSAL_PAGE)})
def list_proposals(
    session: SessionDep,
    page: PageDep,
    principal: OptionalPrincipalDep,
    kommunenummer: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{4}$", description="only this municipality", examples=["3326"]),
    ] = None,
    saksnummer: Annotated[
        str | None,
        Query(
            pattern=SAKSNUMMER_PATTERN,
            description="only proposals filed under this saksnummer: a version uploaded "
            "under it, or the forum's own (" + SAKSNUMMER_HELP + ")",
            examples=["2026/123"],
        ),
    ] = None,
) -> ProposalPage:
    """List the proposals the caller may see (published, and own drafts), newest first."""
    visible = visible_proposals(principal)
    total = repo.count_proposals(session, kommunenummer, visible, saksnummer)
    rows = repo.list_proposals(session, kommunenummer, page.limit, page.offset, visible, saksnummer)
    items = [ProposalSummary(**_proposal_fields(p, latest)) for p, latest in rows]
    filters = {"kommunenummer": kommunenummer, "saksnummer": saksnummer}
    links = [Link(href=_page_href(filters, page.limit, page.offset), rel="self")]
    if page.offset + page.limit < total:
        links.append(
            Link(href=_page_href(filters, page.limit, page.offset + page.limit), rel="next")
        )
    if page.offset > 0:
        previous = max(page.offset - page.limit, 0)
        links.append(Link(href=_page_href(filters, page.limit, previous), rel="prev"))
    return ProposalPage(items=items, total=total, limit=page.limit, offset=page.offset, links=links)


def _page_href(filters: dict[str, str | None], limit: int, offset: int) -> str:
    given = {name: value for name, value in filters.items() if value}
    return f"{PREFIX}?" + urlencode({"limit": limit, "offset": offset, **given}, safe="/")


@router.get(
    "/{proposal_id}",
    response_model=ProposalPublic,
    responses={200: ex.example_response(ex.PROPOSAL), **ex.problems(ex.NO_PROPOSAL)},
)
def get_proposal(
    proposal_id: ProposalIdPath, session: SessionDep, principal: OptionalPrincipalDep
) -> ProposalPublic:
    """Show a proposal with all its versions."""
    proposal = repo.get_proposal(session, proposal_id, visible_proposals(principal))
    latest = proposal.versions[-1].version if proposal.versions else None
    return ProposalPublic(
        **_proposal_fields(proposal, latest),
        versions=[_version_summary(proposal_id, v) for v in proposal.versions],
    )


@router.get(
    "/{proposal_id}/versions/{version}",
    response_model=VersionPublic,
    responses={
        200: ex.example_response(ex.VERSION),
        **ex.problems(ex.NO_VERSION, ex.NO_PROPOSAL),
    },
)
def get_version(
    proposal_id: ProposalIdPath,
    version: VersionPath,
    session: SessionDep,
    principal: OptionalPrincipalDep,
) -> VersionPublic:
    """Show one version with its upload report."""
    found = repo.get_version(session, proposal_id, version, visible_proposals(principal))
    return _version_public(session, found)


@router.get(
    "/{proposal_id}/versions/{version}/features",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(ex.PROPOSAL_FEATURES, "The version's areas (two shown)"),
        **ex.problems(
            ex.NO_VERSION,
            ex.at(ex.BAD_CRS, f"{PREFIX}/{ex.PROPOSAL_ID}/versions/1/features"),
        ),
    },
)
def get_version_features(
    proposal_id: ProposalIdPath,
    version: VersionPath,
    session: SessionDep,
    crs: OutputCrsDep,
    principal: OptionalPrincipalDep,
) -> Any:
    """Return a version's areas as GeoJSON (CRS84 unless `crs` asks for 25832/25833)."""
    found = repo.get_version(session, proposal_id, version, visible_proposals(principal))
    features = repo.version_features(session, found, crs.srid)
    body = feature_collection(features, crs.label, proposal_id=proposal_id, version=found.version)
    return GeoJSONResponse(body, headers=content_crs_header(crs.label))


@router.post(
    "/{proposal_id}/publish",
    response_model=ProposalPublic,
    responses={
        200: ex.example_response(ex.PROPOSAL_PUBLISHED),
        **ex.problems(
            ex.NO_PROPOSAL,
            ex.at(ex.NOT_YOUR_MUNICIPALITY, f"{PREFIX}/{ex.PROPOSAL_ID}/publish"),
        ),
    },
)
def publish_proposal(
    proposal_id: ProposalIdPath,
    session: SessionDep,
    principal: SubmitterDep,
    settings: SettingsDep,
) -> ProposalPublic:
    """Publish a proposal: from now on every role, and the WMS/OGC API, can see it.

    Webhooks registered for `proposal.published` hear of it (once: publishing again changes
    nothing and sends nothing)."""
    # Not found before forbidden: a 403 here would confirm that an invisible draft exists.
    proposal = repo.get_proposal(session, proposal_id, visible_proposals(principal))
    ensure_may_submit(session, principal, proposal.kommunenummer, "proposal")
    # One conditional UPDATE: of concurrent requests exactly one publishes (the others wait
    # for its row lock and then find it published), so the event goes out once.
    published = session.execute(
        update(PlanProposalOrm)
        .where(PlanProposalOrm.id == proposal.id, PlanProposalOrm.published_at.is_(None))
        .values(published_at=func.now())
        .returning(PlanProposalOrm.id)
    ).scalar_one_or_none()
    if published is not None:
        # Queued in the same transaction: published and announced, or neither.
        enqueue_proposal_published(session, proposal, settings)
        session.commit()
        session.refresh(proposal)
    return get_proposal(proposal_id, session, principal)
