"""Checks: run the rule set on a proposal version, read results, compare versions."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from app import check_runner
from app import openapi_examples as ex
from app.access import Principal, ensure_may_submit, visible_proposals
from app.db import SessionDep
from app.dependencies import (
    INT4_MAX,
    CheckIdPath,
    OutputCrsDep,
    PlanOverridesDep,
    ProposalIdPath,
    SettingsDep,
    UploadDep,
    VersionPath,
)
from app.repositories import checks as repo
from app.repositories import proposals as proposals_repo
from app.repositories.geojson import content_crs_header, feature_collection
from app.repositories.land_accounts import cabin_areas
from app.responses import GeoJSONResponse
from app.schemas import (
    CabinAreasPublic,
    CheckComparison,
    CheckPublic,
    CheckRequest,
    ComparePublic,
    FindingPublic,
    Link,
    QuickCheckPublic,
    RuleSetRef,
    UploadReportPublic,
)
from app.security import OptionalPrincipalDep, PrincipalDep
from app.uploads import prepare_upload
from app.urls import absolute, base_url_or_none
from db.models import PlanCheckOrm
from layers.raster_files import ensure_raster_files
from spatial.errors import InvalidInputError, Problem
from spatial.messages import Text
from spatial.rules.compare import compare_findings
from spatial.rules.model import SEVERITIES

router = APIRouter(prefix="/api/v1", tags=["checks"])

SeverityQuery = Annotated[
    str | None,
    Query(
        pattern="^(" + "|".join(SEVERITIES) + ")$",
        description="only this severity",
        examples=["conflict"],
    ),
]
RuleQuery = Annotated[str | None, Query(description="only this rule, e.g. G1", examples=["G1"])]
CheckOptionsBody = Annotated[CheckRequest | None, Body(openapi_examples=ex.CHECK_REQUEST_EXAMPLES)]

CHECK_PATH = f"/api/v1/proposals/{ex.PROPOSAL_ID}/versions/1/checks"
NO_VERSION_3 = ex.at(ex.NO_VERSION, f"/api/v1/proposals/{ex.PROPOSAL_ID}/versions/3/checks")
RUN_CHECK_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: ex.example_response(
        ex.CHECK, "The check is done (plans up to 300 areas)", location="URL of the check"
    ),
    202: ex.example_response(
        ex.CHECK_QUEUED,
        "Large plan: the check runs in the background; poll Location until status is done",
        location="URL of the check",
    ),
    **ex.problems(
        NO_VERSION_3,
        ex.at(ex.NOT_YOUR_MUNICIPALITY, CHECK_PATH),
    ),
}


def visible_check(session: SessionDep, check_id: int, principal: Principal | None) -> PlanCheckOrm:
    """Return a check the caller may see (a draft's checks are as hidden as the draft)."""
    return repo.get_check(session, check_id, visible_proposals(principal))


def _cabin_areas(
    session: SessionDep, check: PlanCheckOrm, kommunenummer: str, findings: list[FindingPublic]
) -> CabinAreasPublic | None:
    """New cabin areas beside the adopted ones' remaining capacity, for a finished check."""
    if check.status != "done":
        return None
    pairs = ((f.check, f.measures) for f in findings)
    return CabinAreasPublic(**cabin_areas(session, kommunenummer, check.finished_at, pairs))


def _check_public(session: SessionDep, check: PlanCheckOrm) -> CheckPublic:
    version = check.version
    proposal = version.proposal
    key = proposals_repo.proposal_key(proposal.kommunenummer, proposal.planidentifikasjon)
    findings = []
    if check.status == "done":
        findings = [
            FindingPublic(**repo.finding_dict(row)) for row in repo.finding_rows(session, check.id)
        ]
    base = f"/api/v1/checks/{check.id}"
    comparison = repo.check_comparison(session, check)
    return CheckPublic(
        id=check.id,
        status=check.status,
        proposal_id=key,
        version=version.version,
        rule_set=RuleSetRef(
            id=check.rule_set_id, version=check.rule_set_version, checksum=check.rule_set_checksum
        ),
        requested_layer_versions=check.requested_layer_versions,
        layer_versions=check.layer_versions,
        timings_ms=check.timings_ms,
        summary=check.summary or repo.empty_summary(),
        error=check.error,
        saksnummer=check.saksnummer,
        journalpost_id=check.journalpost_id,
        created_at=check.created_at,
        started_at=check.started_at,
        finished_at=check.finished_at,
        findings=findings,
        comparison=None if comparison is None else CheckComparison(**comparison),
        cabin_areas=_cabin_areas(session, check, proposal.kommunenummer, findings),
        links=[
            Link(href=base, rel="self"),
            Link(href=f"{base}/findings", rel="items", type="application/geo+json"),
            Link(href=f"/api/v1/proposals/{key}/versions/{version.version}", rel="up"),
        ],
    )


@router.post(
    "/proposals/{proposal_id}/versions/{version}/checks",
    response_model=CheckPublic,
    status_code=201,
    responses=RUN_CHECK_RESPONSES,
)
def run_check(
    proposal_id: ProposalIdPath,
    version: VersionPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    options: CheckOptionsBody = None,
) -> Any:
    """Check a stored version against the rule set and the current (or pinned) layers.

    `saksnummer` and `journalpostId` file the check under a case and record of the case
    system (by default the version's); they come back in the check, its webhook and report.
    """
    # Not found before forbidden: a 403 here would confirm that an invisible draft exists.
    found = proposals_repo.get_version(session, proposal_id, version, visible_proposals(principal))
    ensure_may_submit(session, principal, found.proposal.kommunenummer, "proposal")
    pinned = options.layer_versions if options else None
    # 503 naming the layer, before anything is stored: the check could only fail.
    ensure_raster_files(session, settings.raster_dir)
    background = found.feature_count > settings.sync_check_max_features
    check = check_runner.create_check(
        session,
        found,
        settings,
        pinned,
        background,
        options.saksnummer if options else None,
        options.journalpost_id if options else None,
    )
    location = absolute(base_url_or_none(request, settings), f"/api/v1/checks/{check.id}")
    if background:  # run by `arealsjekk worker` (app/jobs.py)
        body = _check_public(session, check).model_dump(mode="json")
        return JSONResponse(body, status_code=202, headers={"Location": location})
    check_runner.execute_check(check.id, settings)
    check_runner.finished_in_request(session, check.id)
    session.expire_all()
    response.headers["Location"] = location
    return _check_public(session, repo.get_check(session, check.id))


@router.get(
    "/proposals/{proposal_id}/versions/{version}/checks",
    response_model=list[CheckPublic],
    responses={
        200: ex.example_response([ex.CHECK]),
        **ex.problems(NO_VERSION_3),
    },
)
def list_checks(
    proposal_id: ProposalIdPath,
    version: VersionPath,
    session: SessionDep,
    principal: OptionalPrincipalDep,
) -> list[CheckPublic]:
    """List the checks of a version, newest first (findings included for finished ones)."""
    found = proposals_repo.get_version(session, proposal_id, version, visible_proposals(principal))
    return [_check_public(session, c) for c in repo.checks_of_version(session, found.id)]


@router.get(
    "/checks/{check_id}",
    response_model=CheckPublic,
    responses={
        200: ex.example_response(ex.CHECK_V2, "A check of version 2, compared with version 1"),
        **ex.problems(ex.NO_CHECK),
    },
)
def get_check(
    check_id: CheckIdPath, session: SessionDep, principal: OptionalPrincipalDep
) -> CheckPublic:
    """Show a check: status, rule-set and layer versions, summary per severity and rule, and
    how its findings compare with the proposal's previous check (new, unchanged, changed,
    resolved)."""
    return _check_public(session, visible_check(session, check_id, principal))


@router.get(
    "/checks/{check_id}/findings",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(
            ex.FINDINGS_GEOJSON, "The findings with their intersection geometries (null if none)"
        ),
        **ex.problems(ex.at(ex.NO_CHECK, "/api/v1/checks/99/findings")),
    },
)
def get_check_findings(
    check_id: CheckIdPath,
    session: SessionDep,
    crs: OutputCrsDep,
    principal: OptionalPrincipalDep,
    severity: SeverityQuery = None,
    rule: RuleQuery = None,
) -> Any:
    """Return a check's findings as GeoJSON with their intersection geometries."""
    check = visible_check(session, check_id, principal)
    features = repo.finding_features(session, check.id, crs.srid, severity, rule)
    body = feature_collection(features, crs.label, check_id=check.id, status=check.status)
    return GeoJSONResponse(body, headers=content_crs_header(crs.label))


@router.post(
    "/check",
    response_model=QuickCheckPublic,
    openapi_extra=ex.UPLOAD_BODY,
    responses={
        200: ex.example_response(ex.QUICK_CHECK, "The findings; nothing was stored"),
        **ex.problems(*(ex.at(example, "/api/v1/check") for example in ex.UPLOAD_PROBLEMS)),
    },
)
def quick_check(
    # The key is checked before the body is read: an anonymous upload costs nothing.
    principal: PrincipalDep,
    upload: UploadDep,
    session: SessionDep,
    settings: SettingsDep,
    overrides: PlanOverridesDep,
) -> QuickCheckPublic:
    """Check a posted plan file without storing anything (quick looks, case systems)."""
    prepared = prepare_upload(
        session, settings, upload.body, overrides.as_dict(), upload.filename, upload.content_type
    )
    plan = check_runner.plan_from_prepared(session, prepared)
    result = check_runner.evaluate(session, plan, settings)
    session.rollback()
    features = [check_runner.finding_feature(f, 4326) for f in result.findings]
    return QuickCheckPublic(
        rule_set=RuleSetRef(
            id=result.rule_set_id,
            version=result.rule_set_version,
            checksum=result.rule_set_checksum,
        ),
        layer_versions=result.layer_versions,
        timings_ms=result.timings_ms,
        summary=result.summary(),
        upload_report=UploadReportPublic.model_validate(prepared.report.as_dict()),
        findings=feature_collection(features, "CRS84"),
    )


@router.get(
    "/proposals/{proposal_id}/compare",
    response_model=ComparePublic,
    responses={
        200: ex.example_response(ex.COMPARE),
        **ex.problems(
            ex.NOT_CHECKED, ex.at(ex.NO_VERSION, f"/api/v1/proposals/{ex.PROPOSAL_ID}/compare")
        ),
    },
)
def compare_versions(
    proposal_id: ProposalIdPath,
    session: SessionDep,
    principal: OptionalPrincipalDep,
    from_version: Annotated[
        int, Query(alias="from", ge=1, le=INT4_MAX, description="older version", examples=[1])
    ],
    to_version: Annotated[
        int, Query(alias="to", ge=1, le=INT4_MAX, description="newer version", examples=[2])
    ],
) -> ComparePublic:
    """List findings that appeared, disappeared or changed between two checked versions."""
    checks = []
    visible = visible_proposals(principal)
    for number in (from_version, to_version):
        found = proposals_repo.get_version(session, proposal_id, number, visible)
        check = repo.latest_done_check(session, found.id)
        if check is None:
            raise InvalidInputError(
                Text(
                    f"versjon {number} av «{proposal_id}» har ingen ferdig kontroll; start en "
                    f"med POST /api/v1/proposals/{proposal_id}/versions/{number}/checks",
                    f"version {number} of '{proposal_id}' has no finished check; run one with "
                    f"POST /api/v1/proposals/{proposal_id}/versions/{number}/checks",
                ),
                [
                    Problem(
                        Text("ikke kontrollert", "not checked"),
                        field="from" if number == from_version else "to",
                    )
                ],
            )
        checks.append(check)
    old, new = (
        [repo.finding_dict(row) for row in repo.finding_rows(session, check.id)] for check in checks
    )
    return ComparePublic(
        proposal_id=proposal_id,
        from_version=from_version,
        to_version=to_version,
        from_check=checks[0].id,
        to_check=checks[1].id,
        **compare_findings(old, new),
    )
