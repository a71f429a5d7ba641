"""The webhook events' bodies as models, for the OpenAPI document's `webhooks` (OpenAPI 3.1).

app.webhooks builds the payloads; these models describe them for case systems and their
generated clients, and the tests check every delivered payload against them (extra fields
are refused, so a payload cannot grow a field the document does not name). Field names
follow KS Fiks Plan and Noark 5 (camelCase), as the payloads do.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from app.webhooks import CHECK_COMPLETED, FINDING_REVIEWED, PROPOSAL_PUBLISHED


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)


class AdministrativEnhet(_Payload):
    """The municipality that owns the plan."""

    kommunenummer: str = Field(examples=["3326"])


class NasjonalArealplanId(_Payload):
    """The national plan id in KS Fiks Plan's shape."""

    administrativ_enhet: AdministrativEnhet = Field(alias="administrativEnhet")
    planidentifikasjon: str = Field(examples=["KPA2026"])


class _Event(_Payload):
    delivery_id: int = Field(
        alias="deliveryId",
        description="the delivery's id, as in X-Arealsjekk-Delivery: the same on every attempt "
        "and re-send, so a receiver de-duplicates by it",
    )
    saksnummer: str | None = Field(
        description="the case system's saksnummer the check or version was filed under"
    )
    journalpost_id: str | None = Field(
        alias="journalpostId", description="the case system's journalpost"
    )


class EventRuleSet(_Payload):
    """The rule set a check ran."""

    id: str
    version: str


class CheckSummary(_Payload):
    """A finished (or failed) check."""

    id: int
    status: Literal["done", "failed"]
    rule_set: EventRuleSet = Field(alias="ruleSet")
    summary: dict[str, Any] | None = Field(description="findings per severity and per rule")
    finished_at: datetime | None = Field(alias="finishedAt")


class CheckLinks(_Payload):
    """Absolute URLs (AREALSJEKK_PUBLIC_URL, else the address the webhook was registered at)."""

    check: str
    findings: str
    report: str
    proposal: str


class CheckCompleted(_Event):
    """`check.completed`: a check of a plan version finished or failed."""

    event: Literal["check.completed"]
    check: CheckSummary
    nasjonal_arealplan_id: NasjonalArealplanId = Field(alias="nasjonalArealplanId")
    versjon: int = Field(description="the plan version checked")
    links: CheckLinks


class FindingLinks(_Payload):
    """Where the finding and its review are."""

    review: str
    findings: str


class ReviewedFinding(_Payload):
    """The finding the forum decided on."""

    id: int
    rule: str = Field(examples=["G1"])
    severity: str = Field(examples=["conflict"])
    message: str
    links: FindingLinks


class Review(_Payload):
    """The regional plan forum's decision on a finding."""

    status: str = Field(examples=["change_required"])
    previous_status: str = Field(alias="previousStatus", examples=["open"])
    comment: str | None
    reviewer: str | None
    reviewed_at: datetime | None = Field(alias="reviewedAt")


class CheckRef(_Payload):
    """The check the finding belongs to."""

    id: int


class ReviewLinks(_Payload):
    """Absolute URLs of the check, its report and the proposal."""

    check: str
    report: str
    proposal: str


class FindingReviewed(_Event):
    """`finding.reviewed`: the forum set or changed a finding's review."""

    event: Literal["finding.reviewed"]
    finding: ReviewedFinding
    review: Review
    check: CheckRef
    nasjonal_arealplan_id: NasjonalArealplanId = Field(alias="nasjonalArealplanId")
    versjon: int
    plannavn: str | None
    forum_saksnummer: str | None = Field(
        alias="forumSaksnummer", description="the regional plan forum's own saksnummer"
    )
    links: ReviewLinks


class ProposalLinks(_Payload):
    """Absolute URLs of the proposal and its latest version."""

    proposal: str
    version: str | None = None


class ProposalPublished(_Event):
    """`proposal.published`: a proposal was published (every role can see it from now on)."""

    event: Literal["proposal.published"]
    nasjonal_arealplan_id: NasjonalArealplanId = Field(alias="nasjonalArealplanId")
    plannavn: str | None
    plantype: int
    versjon: int | None = Field(description="the latest version")
    published_at: datetime | None = Field(alias="publishedAt")
    forum_saksnummer: str | None = Field(alias="forumSaksnummer")
    links: ProposalLinks


EVENT_MODELS: dict[str, type[_Payload]] = {
    CHECK_COMPLETED: CheckCompleted,
    FINDING_REVIEWED: FindingReviewed,
    PROPOSAL_PUBLISHED: ProposalPublished,
}


def _event_operation_id(route: APIRoute) -> str:
    """`on_check_completed`: apart from the paths' operation ids (app.openapi.operation_id)."""
    return f"on_{route.name}"


# The documentation of what the service sends: operations under `webhooks`, not paths.
events = APIRouter(generate_unique_id_function=_event_operation_id)
RECEIVED = "Received: any 2xx. Anything else, or no answer in time, is retried with backoff."
DELIVERY_HEADERS = (
    "Each delivery is a JSON POST to the registered URL, signed: "
    '`X-Arealsjekk-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. '
    "`X-Arealsjekk-Delivery` is the same on every attempt and re-send: de-duplicate by it "
    "(delivery is at least once). Answer 2xx within AREALSJEKK_WEBHOOK_TIMEOUT_S."
)


def delivery_headers(
    x_arealsjekk_event: Annotated[str, Header(description="the event's name")],
    x_arealsjekk_delivery: Annotated[
        str, Header(description="the delivery's id: the same on every attempt and re-send")
    ],
    x_arealsjekk_signature: Annotated[
        str, Header(description="t=<unix time>,v1=<hex HMAC-SHA256(secret, '<t>.' + body)>")
    ],
    x_arealsjekk_redelivery: Annotated[
        str | None, Header(description="how often the delivery was re-sent on request")
    ] = None,
) -> None:
    """The headers every delivery carries (documented, never called)."""


DeliveryHeaders = Annotated[None, Depends(delivery_headers)]


@events.post(
    CHECK_COMPLETED, status_code=204, description=DELIVERY_HEADERS, response_description=RECEIVED
)
def check_completed(body: CheckCompleted, headers: DeliveryHeaders) -> None:
    """A check of a plan version finished or failed."""


@events.post(
    FINDING_REVIEWED, status_code=204, description=DELIVERY_HEADERS, response_description=RECEIVED
)
def finding_reviewed(body: FindingReviewed, headers: DeliveryHeaders) -> None:
    """The regional plan forum set or changed the review of a finding."""


@events.post(
    PROPOSAL_PUBLISHED, status_code=204, description=DELIVERY_HEADERS, response_description=RECEIVED
)
def proposal_published(body: ProposalPublished, headers: DeliveryHeaders) -> None:
    """A proposal was published."""
