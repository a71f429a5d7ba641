"""Checks: run the rule set on a proposal version, read results, compare versions."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app import check_runner
from app.access import Principal, ensure_may_submit, ensure_visible
from app.db import SessionDep
from app.dependencies import OutputCrsDep, PlanOverridesDep, SettingsDep, UploadDep
from app.models import PlanCheckOrm
from app.repositories import checks as repo
from app.repositories import proposals as proposals_repo
from app.repositories.geojson import content_crs_header, feature_collection
from app.responses import GeoJSONResponse
from app.schemas import (
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
from spatial.errors import InvalidInputError, Problem
from spatial.rules.compare import compare_findings
from spatial.rules.model import SEVERITIES

router = APIRouter(prefix="/api/v1", tags=["checks"])

ProposalIdPath = Annotated[str, Path(description="kommunenummer_planidentifikasjon")]
VersionPath = Annotated[int, Path(ge=1, description="version number")]
CheckIdPath = Annotated[int, Path(ge=1, description="check id")]
SeverityQuery = Annotated[
    str | None, Query(pattern="^(" + "|".join(SEVERITIES) + ")$", description="only this severity")
]
RuleQuery = Annotated[str | None, Query(description="only this rule, e.g. G1")]


def visible_check(session: SessionDep, check_id: int, principal: Principal | None) -> PlanCheckOrm:
    """Return a check the caller may see (a draft's checks are as hidden as the draft)."""
    check = repo.get_check(session, check_id)
    ensure_visible(check.version.proposal, principal)
    return check


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
        created_at=check.created_at,
        started_at=check.started_at,
        finished_at=check.finished_at,
        findings=findings,
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
    responses={202: {"description": "Large plan: the check runs in the background; poll Location"}},
)
def run_check(
    proposal_id: ProposalIdPath,
    version: VersionPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    options: Annotated[CheckRequest | None, Body()] = None,
) -> Any:
    """Check a stored version against the rule set and the current (or pinned) layers."""
    found = proposals_repo.get_version(session, proposal_id, version)
    ensure_visible(found.proposal, principal)
    ensure_may_submit(principal, found.proposal.kommunenummer)
    pinned = options.layer_versions if options else None
    check = check_runner.create_check(session, found, settings, pinned)
    location = f"/api/v1/checks/{check.id}"
    if found.feature_count > settings.sync_check_max_features:
        request.app.state.check_jobs.submit(check.id, settings)
        body = _check_public(session, check).model_dump(mode="json")
        return JSONResponse(body, status_code=202, headers={"Location": location})
    check_runner.execute_check(check.id, settings)
    session.expire_all()
    response.headers["Location"] = location
    return _check_public(session, repo.get_check(session, check.id))


@router.get("/proposals/{proposal_id}/versions/{version}/checks", response_model=list[CheckPublic])
def list_checks(
    proposal_id: ProposalIdPath,
    version: VersionPath,
    session: SessionDep,
    principal: OptionalPrincipalDep,
) -> list[CheckPublic]:
    """List the checks of a version, newest first (findings included for finished ones)."""
    found = proposals_repo.get_version(session, proposal_id, version)
    ensure_visible(found.proposal, principal)
    return [_check_public(session, c) for c in repo.checks_of_version(session, found.id)]


@router.get("/checks/{check_id}", response_model=CheckPublic)
def get_check(
    check_id: CheckIdPath, session: SessionDep, principal: OptionalPrincipalDep
) -> CheckPublic:
    """Show a check: status, rule-set and layer versions, summary per severity and rule."""
    return _check_public(session, visible_check(session, check_id, principal))


@router.get("/checks/{check_id}/findings", response_class=GeoJSONResponse)
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


@router.post("/check", response_model=QuickCheckPublic)
def quick_check(
    upload: UploadDep,
    session: SessionDep,
    settings: SettingsDep,
    overrides: PlanOverridesDep,
    principal: PrincipalDep,
) -> QuickCheckPublic:
    """Check a posted plan file without storing anything (quick looks, case systems)."""
    prepared = prepare_upload(
        session, settings, upload.body, overrides.as_dict(), upload.filename, upload.content_type
    )
    plan = check_runner.plan_from_prepared(session, prepared)
    result = check_runner.evaluate(session, plan, settings)
    session.rollback()
    rule_set = check_runner.get_rule_set(settings)
    features = [check_runner.finding_feature(f, 4326) for f in result.findings]
    return QuickCheckPublic(
        rule_set=RuleSetRef(id=rule_set.id, version=rule_set.version, checksum=rule_set.checksum),
        layer_versions=result.layer_versions,
        timings_ms=result.timings_ms,
        summary=result.summary(),
        upload_report=UploadReportPublic.model_validate(prepared.report.as_dict()),
        findings=feature_collection(features, "CRS84"),
    )


@router.get("/proposals/{proposal_id}/compare", response_model=ComparePublic)
def compare_versions(
    proposal_id: ProposalIdPath,
    session: SessionDep,
    principal: OptionalPrincipalDep,
    from_version: Annotated[int, Query(alias="from", ge=1, description="older version")],
    to_version: Annotated[int, Query(alias="to", ge=1, description="newer version")],
) -> ComparePublic:
    """List findings that appeared, disappeared or changed between two checked versions."""
    checks = []
    for number in (from_version, to_version):
        found = proposals_repo.get_version(session, proposal_id, number)
        ensure_visible(found.proposal, principal)
        check = repo.latest_done_check(session, found.id)
        if check is None:
            raise InvalidInputError(
                f"version {number} of '{proposal_id}' has no finished check; run one with "
                f"POST /api/v1/proposals/{proposal_id}/versions/{number}/checks",
                [Problem("not checked", field="from" if number == from_version else "to")],
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
