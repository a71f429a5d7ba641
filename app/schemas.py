"""API response models (separate from the ORM models in db.models)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app import openapi_examples as ex
from app.case_references import (
    JOURNALPOST_ID_HELP,
    JOURNALPOST_ID_PATTERN,
    SAKSNUMMER_HELP,
    SAKSNUMMER_PATTERN,
)
from app.language import current_language
from layers.registry import get_registry


def _examples(*examples: Any) -> ConfigDict:
    """Model config giving the model's JSON schema these examples (shown in the API docs)."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class Link(BaseModel):
    """A hypermedia link."""

    href: str
    rel: str
    type: str = "application/json"


class ReportEntry(BaseModel):
    """One line of an upload report, naming the feature it concerns, in the answer's language."""

    message: str
    feature: int | None = None
    feature_id: str | None = None
    field: str | None = None
    feltnavn: str | None = None
    lokal_id: str | None = None
    location: list[float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _in_request_language(cls, data: Any) -> Any:
        # Stored reports keep bokmål in `message` and English in `message_en`.
        if isinstance(data, dict) and "message_en" in data:
            data = dict(data)
            english = data.pop("message_en")
            if current_language() == "en":
                data["message"] = english
        return data


class UploadReportPublic(BaseModel):
    """What was repaired, ignored or could not be interpreted in an upload."""

    repaired: list[ReportEntry] = []
    ignored: list[ReportEntry] = []
    unknown_codes: list[ReportEntry] = []
    warnings: list[ReportEntry] = []


class CaseReferenceFields(BaseModel):
    """The case (saksnummer) and record (journalpostId) a case system filed this under."""

    # journalpostId is the Noark 5 / KS Fiks name; Python reads it as journalpost_id.
    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    saksnummer: str | None = Field(None, description=SAKSNUMMER_HELP, examples=["2026/123"])
    journalpost_id: str | None = Field(
        None, alias="journalpostId", description=JOURNALPOST_ID_HELP, examples=["2026/123-4"]
    )


class VersionSummary(CaseReferenceFields):
    """A proposal version as listed under its proposal."""

    version: int
    uploaded_at: datetime
    plantype: int
    planstatus: int | None
    plannavn: str | None
    source_format: str
    source_crs: str
    source_filename: str | None
    content_sha256: str
    feature_count: int
    links: list[Link]


class VersionPublic(VersionSummary):
    """A proposal version with its upload report and area counts."""

    model_config = _examples(ex.VERSION)

    proposal_id: str
    kommunenummer: str
    planidentifikasjon: str
    area_counts: dict[str, int] = Field(description="stored areas per kind")
    report: UploadReportPublic


class IdenticalUploadPublic(VersionPublic):
    """An upload whose content is byte for byte the proposal's latest version: no version made."""

    model_config = _examples(ex.IDENTICAL_UPLOAD)

    identical_to_version: int = Field(
        description="the latest version, whose content_sha256 this upload has; it is not stored "
        "again (ask with if_identical=new_version to store it as a new version anyway)"
    )
    note: str = Field(description="what happened, in the answer's language")


class ProposalSummary(BaseModel):
    """A plan proposal in a list."""

    id: str = Field(description="national plan id: kommunenummer_planidentifikasjon")
    kommunenummer: str
    planidentifikasjon: str
    plantype: int
    planstatus: int | None
    plannavn: str | None
    latest_version: int | None
    published_at: datetime | None = Field(None, description="null while the proposal is a draft")
    created_at: datetime
    updated_at: datetime
    links: list[Link]


class ProposalPublic(ProposalSummary):
    """A plan proposal with all its versions."""

    model_config = _examples(ex.PROPOSAL)

    versions: list[VersionSummary]


class ProposalPage(BaseModel):
    """A page of proposals."""

    model_config = _examples(ex.PROPOSAL_PAGE)

    items: list[ProposalSummary]
    total: int
    limit: int
    offset: int
    links: list[Link]


class HealthStatus(BaseModel):
    """Result of a health or readiness probe."""

    model_config = _examples(ex.READY, ex.NOT_READY)

    status: str
    checks: dict[str, Any] = {}


class LayerVersionPublic(BaseModel):
    """One version of a guideline layer, with its provenance."""

    model_config = _examples(ex.LAYER_VERSION_VECTOR, ex.LAYER_VERSION_RASTER)

    layer_id: str
    version: int
    checksum: str = Field(description="sha256 of the loaded content")
    feature_count: int
    source: str
    source_date: date | None
    licence: str
    file_name: str
    loaded_at: datetime
    raster: dict[str, Any] | None = Field(None, description="grid of a raster layer")
    links: list[Link]


class LayerAttributePublic(BaseModel):
    """An attribute a layer keeps."""

    description: str
    type: str
    allowed: list[str] | None
    source_names: list[str] = Field(
        default_factory=list, description="column names it is read from in the agencies' files"
    )
    values: dict[str, str] = Field(
        default_factory=dict,
        description="real source values and the internal value each is read as",
    )


class LayerPublic(BaseModel):
    """A guideline layer from the registry with its current version."""

    model_config = _examples(ex.LAYER, ex.LAYER_RASTER)

    id: str
    title: str
    description: str
    kind: str
    geometry_type: str | None
    guidelines: list[str]
    optional: bool
    attributes: dict[str, LayerAttributePublic]
    source: dict[str, Any]
    current_version: LayerVersionPublic | None
    links: list[Link]


class FindingPublic(BaseModel):
    """A finding, without its geometry (see the findings GeoJSON for that)."""

    model_config = _examples(ex.FINDING_G1_CONFLICT)

    id: int | None = None
    rule_id: str
    check: str
    paragraph: str
    severity: str = Field(description="conflict | warning | unknown | info | ok")
    plan_feature_ids: list[int]
    plan_feature_keys: list[str] = Field(
        description="the plan areas' keys: lokalId, else feltnavn, feature id or position "
        "(they follow an area across versions)"
    )
    plan_feature_names: list[str] = Field(
        description="the plan areas as people name them: feltnavn, else feature id or position"
    )
    layer_refs: list[dict[str, Any]]
    measures: dict[str, Any]
    message: str
    suggested_action: str
    fingerprint: str
    comparison: str | None = Field(
        None,
        description="new | unchanged | changed against the previous check of the proposal "
        "(same fingerprint; changed: severity or measures differ); null without a previous check",
    )
    previous_finding_id: int | None = Field(
        None, description="the previous check's finding this one continues (unchanged, changed)"
    )


class ReviewState(BaseModel):
    """A finding's review in the forum (status 'open' when never reviewed), and who made it."""

    status: Literal["open", "discussed", "accepted", "change_required", "objection"]
    comment: str | None
    reviewer: str | None
    key_name: str | None = Field(None, description="name of the API key that recorded it")
    user_name: str | None = Field(
        None, description="the user the municipality's login proxy passed on, when configured"
    )
    carried_from_version: int | None = Field(
        None,
        description="set when the review was made on an earlier version and carried over to "
        "this unchanged finding: the version it was made on",
    )
    updated_at: datetime | None


class ResolvedFinding(BaseModel):
    """A finding of the previous check that no finding of this check continues."""

    id: int
    rule_id: str
    check: str
    severity: str
    plan_feature_keys: list[str]
    plan_feature_names: list[str]
    message: str
    fingerprint: str
    review: ReviewState


class CheckComparison(BaseModel):
    """How a check's findings compare with the proposal's previous finished check."""

    previous_check_id: int
    previous_version: int
    counts: dict[str, int] = Field(description="findings new, unchanged, changed and resolved")
    resolved: list[ResolvedFinding]


class RuleSetRef(BaseModel):
    """Which rule set a check used."""

    id: str
    version: str
    checksum: str


class ExistingCabinCapacity(BaseModel):
    """What is left in the municipality's adopted cabin areas, from a land account."""

    account_id: int
    computed_on: date
    unbuilt_m2: float
    unbuilt_share_pct: float
    lots: int = Field(description="estimated lots at the land-account method's density")
    areas: int


class CabinAreasPublic(BaseModel):
    """The new cabin areas a version adds (as G1 measured them, parts inside adopted cabin
    areas left out), next to what is left in the adopted ones (§6.2.4: densify first)."""

    new_areas: int
    new_area_m2: float
    existing: ExistingCabinCapacity | None = Field(
        description="from the municipality's latest land account when the check ran; null "
        "when none had been computed"
    )


class CheckPublic(CaseReferenceFields):
    """A check of a proposal version: status, what it used, summary and findings."""

    model_config = _examples(ex.CHECK)

    id: int
    status: str = Field(description="queued | running | done | failed")
    proposal_id: str
    version: int
    rule_set: RuleSetRef
    requested_layer_versions: dict[str, int] | None
    layer_versions: dict[str, int | None] | None
    timings_ms: dict[str, float] | None
    summary: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    findings: list[FindingPublic]
    comparison: CheckComparison | None = Field(
        None,
        description="against the proposal's previous finished check (an earlier version, or "
        "an earlier check of this version); null when there is none",
    )
    cabin_areas: CabinAreasPublic | None = Field(
        None, description="new cabin areas and the adopted ones' remaining capacity (done checks)"
    )
    links: list[Link]


class CheckRequest(BaseModel):
    """Options for a check; by default the current version of every layer is used."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [ex.CHECK_REQUEST]},
        validate_by_name=True,
        serialize_by_alias=True,
    )

    layer_versions: dict[str, Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        None,
        description="pin layer versions to reproduce an earlier check, e.g. {'tree_line': 1}",
    )
    # Surrounding blanks are dropped as on upload; the pair is the version's unless either
    # is given.
    saksnummer: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=SAKSNUMMER_PATTERN)] | None
    ) = Field(
        None, description=SAKSNUMMER_HELP + "; by default the version's", examples=["2026/123"]
    )
    journalpost_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=JOURNALPOST_ID_PATTERN)]
        | None
    ) = Field(
        None,
        alias="journalpostId",
        description=JOURNALPOST_ID_HELP + "; by default the version's",
        examples=["2026/123-7"],
    )

    @field_validator("layer_versions")
    @classmethod
    def _known_layers(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        # A misspelt layer would otherwise be ignored silently and the check not reproduced.
        unknown = sorted(set(value or {}) - set(get_registry()))
        if unknown:
            shown = ", ".join(repr(name[:60]) for name in unknown[:5])
            raise ValueError(f"no layer {shown}; see /api/v1/layers")
        return value


class QuickCheckPublic(BaseModel):
    """The result of a check that stores nothing."""

    model_config = _examples(ex.QUICK_CHECK)

    rule_set: RuleSetRef
    layer_versions: dict[str, int | None]
    timings_ms: dict[str, float]
    summary: dict[str, Any]
    upload_report: UploadReportPublic
    findings: dict[str, Any] = Field(description="GeoJSON FeatureCollection (CRS84)")


class ComparePublic(BaseModel):
    """How the findings changed between the checks of two versions."""

    model_config = _examples(ex.COMPARE)

    proposal_id: str
    from_version: int
    to_version: int
    from_check: int
    to_check: int
    appeared: list[dict[str, Any]]
    disappeared: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    unchanged_count: int


class ProblemDetails(BaseModel):
    """An error answer: RFC 7807 problem details (`application/problem+json`), see app.errors."""

    model_config = _examples(ex.UPLOAD_INVALID.body)

    type: str = Field(description="URI naming the kind of problem, e.g. …/problems/not-found")
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="what is wrong, in one line")
    instance: str | None = Field(None, description="the path of the request")
    problems: list[ReportEntry] | None = Field(
        None,
        description="every problem of an invalid input, with the feature (0-based position "
        "`feature`, GeoJSON id `feature_id`) or the `field` it concerns",
    )


class RecheckPublic(BaseModel):
    """A re-check of the current plans a layer version touches (app/rechecks.py)."""

    id: int
    layer_id: str
    layer_version: int
    previous_version: int | None = Field(description="the version compared against")
    status: str = Field(description="queued | running | done (its checks are queued) | failed")
    requested_by: str | None = Field(description="the API key's name (county roles only)")
    reach_m: float | None = Field(
        description="how far from a plan area the rules look into the layer (null: not yet "
        "known, or every plan)"
    )
    proposal_versions: int | None = Field(
        description="proposal versions re-checked (county roles only: drafts are among them)"
    )
    details: dict[str, Any] | None = Field(
        description="what changed: changed_features (vector) or changed_blocks (raster), "
        "changed_bounds (EPSG:25832), nearest (a rule measures the nearest feature)"
    )
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: list[Link]


class ImpactCounts(BaseModel):
    """How a re-check's findings differ from the plan's previous check."""

    new_conflicts: int = Field(description="conflicts that were not conflicts before")
    resolved_conflicts: int = Field(description="conflicts that are gone or milder now")
    new_warnings: int
    resolved_warnings: int
    changed_findings: int = Field(description="new, changed and resolved findings of any kind")


class ImpactPlan(BaseModel):
    """One re-checked proposal version whose findings changed (or are not known yet)."""

    proposal_id: str
    kommunenummer: str
    version: int
    check_id: int
    status: str = Field(description="queued | running | done | failed")
    previous_check_id: int | None
    findings_changed: bool | None = Field(description="null until the check is done")
    counts: ImpactCounts | None
    links: list[Link]


class ImpactTotals(BaseModel):
    """Totals over the re-checks the caller may see."""

    rechecks: int
    queued: int
    running: int
    done: int
    failed: int
    changed: int = Field(description="finished re-checks whose findings changed")
    unchanged: int
    new_conflicts: int
    resolved_conflicts: int
    new_warnings: int
    resolved_warnings: int


class LayerImpactPublic(BaseModel):
    """The plans whose findings changed against a layer version's previous version."""

    layer_id: str
    version: int
    previous_version: int | None
    recheck: RecheckPublic | None = Field(
        description="the newest re-check against this version (null: none was asked for)"
    )
    totals: ImpactTotals
    plans: list[ImpactPlan]
    links: list[Link]


class NamedVersion(BaseModel):
    """A rule set or land-account method: id, version and the checksum of its file."""

    id: str
    version: str
    checksum: str


class IndicatorPoint(BaseModel):
    """The indicator «konflikter i arealregnskapet» for one municipality and year: the year's
    last account."""

    kommunenummer: str
    year: int
    account_id: int
    computed_at: datetime
    reserve_m2: float
    conflict_m2: float
    conflict_share_pct: float
    reserves_in_conflict: int


class LandAccountPublic(BaseModel):
    """A municipality's land account (arealregnskap) as computed at one time.

    `totals` holds the figures: `area_m2`, `built_m2`, `reserve_m2`, `reserve_count`,
    `conflict_m2` (the part in conflict with at least one guideline), `reserves_in_conflict`,
    `conflict_share_pct`; `by_group` the same per arealformål group with `rules` (per rule
    `conflict_m2`, `warning_m2`, `unknown_m2`); `by_rule` per guideline; `cabin_capacity`
    the adopted cabin areas' unbuilt share and estimated lots.
    """

    id: int
    kommunenummer: str
    municipality: str
    computed_at: datetime
    trigger: str
    method: NamedVersion
    rule_set: NamedVersion
    layer_versions: dict[str, int | None]
    totals: dict[str, Any]
    notes: list[str]
    trend: list[IndicatorPoint]
    links: list[Link]


class LandAccountRow(BaseModel):
    """One municipality's latest land account in the county summary."""

    kommunenummer: str
    municipality: str
    account_id: int
    computed_at: datetime
    area_m2: float
    built_m2: float
    reserve_m2: float
    reserve_count: int
    conflict_m2: float
    reserves_in_conflict: int
    conflict_share_pct: float
    cabin_lots: int
    by_rule: dict[str, float]
    href: str


class LandAccountSummary(BaseModel):
    """The county's land account: each municipality's latest account, totals, the indicator."""

    on: date | None = Field(description="the date asked for (null: the latest accounts)")
    municipalities: list[LandAccountRow]
    county: dict[str, float | int]
    indicator: list[IndicatorPoint]
    links: list[Link]


class LandAccountJob(BaseModel):
    """A queued land-account computation (job null: the same one was already waiting)."""

    job_id: int | None
    kommunenummer: str | None
    links: list[Link]
