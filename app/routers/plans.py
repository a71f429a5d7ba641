"""Proposals addressed by the national plan id: /api/v1/plans/{kommunenummer}/{planidentifikasjon}.

Case systems know plans by kommunenummer and planidentifikasjon (KS Fiks Plan's
nasjonalArealplanId); these routes are the same resources as /api/v1/proposals/{id}.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response

from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import (
    KommunenummerPath,
    PlanOverrides,
    SettingsDep,
    UploadCaseReferenceDep,
    UploadDep,
    VersionPath,
)
from app.routers import checks, proposals
from app.schemas import CheckPublic, CheckRequest, ProposalPublic, VersionPublic
from app.security import OptionalPrincipalDep, PrincipalDep, SubmitterDep

router = APIRouter(prefix="/api/v1/plans", tags=["plans (national plan id)"])

PlanIdPath = Annotated[str, Path(pattern=r"^[0-9A-Za-zÆØÅæøå._-]{1,16}$", examples=["KPA2026"])]
PLAN_PATH = "/api/v1/plans/3326/KPA2026"


def _proposal_id(kommunenummer: str, planidentifikasjon: str) -> str:
    return f"{kommunenummer}_{planidentifikasjon}"


@router.get(
    "/{kommunenummer}/{planidentifikasjon}",
    response_model=ProposalPublic,
    responses={
        200: ex.example_response(ex.PROPOSAL),
        **ex.problems(ex.at(ex.NO_PROPOSAL, PLAN_PATH)),
    },
)
def get_plan(
    kommunenummer: KommunenummerPath,
    planidentifikasjon: PlanIdPath,
    session: SessionDep,
    principal: OptionalPrincipalDep,
) -> ProposalPublic:
    """Show a proposal, addressed by its national plan id."""
    return proposals.get_proposal(
        _proposal_id(kommunenummer, planidentifikasjon), session, principal
    )


@router.post(
    "/{kommunenummer}/{planidentifikasjon}/versions",
    response_model=VersionPublic,
    status_code=201,
    openapi_extra=ex.PROPOSAL_UPLOAD_BODY,
    responses={
        201: ex.example_response(ex.VERSION, "Stored as a new version", location="its URL"),
        200: proposals.IDENTICAL_UPLOAD_RESPONSE,
        **ex.problems(
            *(ex.at(example, f"{PLAN_PATH}/versions") for example in ex.UPLOAD_PROBLEMS),
            ex.at(ex.NOT_YOUR_MUNICIPALITY, f"{PLAN_PATH}/versions"),
        ),
    },
)
def upload_plan_version(
    kommunenummer: KommunenummerPath,
    planidentifikasjon: PlanIdPath,
    # The key is checked before the body is read: an anonymous upload costs nothing.
    principal: SubmitterDep,
    upload: UploadDep,
    case: UploadCaseReferenceDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    if_identical: proposals.IfIdenticalQuery = "existing",
) -> Any:
    """Upload a new version of the plan named in the path (the path wins over the file).

    Content that is byte for byte the plan's latest version makes no new version unless
    `if_identical=new_version` asks for one (200 with `identical_to_version`).
    `saksnummer` and `journalpostId` (query parameters or form fields) are kept with the
    version.
    """
    overrides = PlanOverrides(kommunenummer, planidentifikasjon, None, None, None)
    return proposals.upload_proposal(
        principal, upload, case, session, settings, overrides, request, response, if_identical
    )


@router.post(
    "/{kommunenummer}/{planidentifikasjon}/versions/{version}/checks",
    response_model=CheckPublic,
    status_code=201,
    responses=checks.RUN_CHECK_RESPONSES,
)
def check_plan_version(
    kommunenummer: KommunenummerPath,
    planidentifikasjon: PlanIdPath,
    version: VersionPath,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    options: Annotated[
        CheckRequest | None, Body(openapi_examples=ex.CHECK_REQUEST_EXAMPLES)
    ] = None,
) -> Any:
    """Check a version of the plan named in the path (202 + Location for large plans)."""
    return checks.run_check(
        _proposal_id(kommunenummer, planidentifikasjon),
        version,
        session,
        settings,
        request,
        response,
        principal,
        options,
    )
