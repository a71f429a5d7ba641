"""ORM models: the tables Alembic migrates and the service reads and writes."""

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from spatial.crs import CANONICAL_SRID


def _area_geometry() -> Geometry:
    # Indexes are declared explicitly below (and in the migration) so that every
    # spatial index has a name we chose and appears in review.
    return Geometry("MULTIPOLYGON", srid=CANONICAL_SRID, spatial_index=False)


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class MunicipalityOrm(Base):
    """One of Buskerud's municipalities (2024 boundaries)."""

    __tablename__ = "municipality"

    kommunenummer: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    centrality_class: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[Any] = mapped_column(_area_geometry())

    __table_args__ = (
        CheckConstraint("kommunenummer ~ '^[0-9]{4}$'", name="ck_municipality_kommunenummer"),
        CheckConstraint("centrality_class BETWEEN 1 AND 6", name="ck_municipality_centrality"),
        Index("ix_municipality_geom", "geom", postgresql_using="gist"),
    )


class CountyOrm(Base):
    """The county boundary, used to reject plan geometry that lies outside Buskerud."""

    __tablename__ = "county"

    fylkesnummer: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[Any] = mapped_column(_area_geometry())

    __table_args__ = (Index("ix_county_geom", "geom", postgresql_using="gist"),)


class PlanProposalOrm(Base):
    """A plan proposal, addressed by its national plan id (kommunenummer, planidentifikasjon)."""

    __tablename__ = "plan_proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kommunenummer: Mapped[str] = mapped_column(ForeignKey("municipality.kommunenummer"))
    planidentifikasjon: Mapped[str] = mapped_column(String(16))
    # Plan-level attributes as of the latest version; each version keeps its own copy.
    plantype: Mapped[int] = mapped_column(SmallInteger)
    planstatus: Mapped[int | None] = mapped_column(SmallInteger)
    plannavn: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A proposal is a draft, visible only to its municipality and the county, until published.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The regional plan forum's case number for the proposal, shown on the meeting agenda.
    saksnummer: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list["ProposalVersionOrm"]] = relationship(
        back_populates="proposal", order_by="ProposalVersionOrm.version"
    )

    __table_args__ = (
        UniqueConstraint("kommunenummer", "planidentifikasjon", name="uq_plan_proposal_planid"),
    )


class ProposalVersionOrm(Base):
    """One upload of a proposal; uploads never overwrite earlier versions."""

    __tablename__ = "proposal_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("plan_proposal.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    plantype: Mapped[int] = mapped_column(SmallInteger)
    planstatus: Mapped[int | None] = mapped_column(SmallInteger)
    plannavn: Mapped[str | None] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(Text)
    source_crs: Mapped[str] = mapped_column(Text)
    source_filename: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # The uploading case system's case and record (Noark 5 saksnummer, journalpostId).
    saksnummer: Mapped[str | None] = mapped_column(Text, index=True)
    journalpost_id: Mapped[str | None] = mapped_column(Text)

    proposal: Mapped[PlanProposalOrm] = relationship(back_populates="versions")

    __table_args__ = (
        UniqueConstraint("proposal_id", "version", name="uq_proposal_version_number"),
        CheckConstraint("version >= 1", name="ck_proposal_version_positive"),
    )


class PlanFeatureOrm(Base):
    """An area of a proposal version: plan boundary, arealformål area or hensynssone."""

    __tablename__ = "plan_feature"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("proposal_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    arealformal: Mapped[int | None] = mapped_column(SmallInteger)
    arealbruksstatus: Mapped[int | None] = mapped_column(SmallInteger)
    feltnavn: Mapped[str | None] = mapped_column(Text)
    hensynssone: Mapped[int | None] = mapped_column(SmallInteger)
    hensynssone_navn: Mapped[str | None] = mapped_column(Text)
    lokal_id: Mapped[str | None] = mapped_column(Text)
    # Recognises the area in the plan's next version (spatial.plan_model.area_keys).
    area_key: Mapped[str] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB)
    geom: Mapped[Any] = mapped_column(_area_geometry())

    __table_args__ = (
        UniqueConstraint("version_id", "position", name="uq_plan_feature_position"),
        CheckConstraint(
            "kind IN ('planomrade', 'arealformal', 'hensynssone')", name="ck_plan_feature_kind"
        ),
        Index("ix_plan_feature_geom", "geom", postgresql_using="gist"),
    )


class LayerVersionOrm(Base):
    """One load of a guideline layer; versions are never changed once written."""

    __tablename__ = "layer_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    extent: Mapped[Any] = mapped_column(
        Geometry("POLYGON", srid=CANONICAL_SRID, spatial_index=False)
    )
    source: Mapped[str] = mapped_column(Text)
    source_date: Mapped[date | None] = mapped_column(Date)
    licence: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    # Raster layers live as Cloud Optimized GeoTIFFs in the raster directory (see
    # layers/README.md for why not PostGIS raster); this is the file's name there.
    raster_file: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("layer_id", "version", name="uq_layer_version_number"),
        CheckConstraint("version >= 1", name="ck_layer_version_positive"),
        Index("ix_layer_version_extent", "extent", postgresql_using="gist"),
    )


class LayerFeatureOrm(Base):
    """A feature of a vector layer version, with the attributes the layer config keeps."""

    __tablename__ = "layer_feature"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer_version_id: Mapped[int] = mapped_column(
        ForeignKey("layer_version.id", ondelete="CASCADE"), index=True
    )
    source_fid: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    geom: Mapped[Any] = mapped_column(
        Geometry("GEOMETRY", srid=CANONICAL_SRID, spatial_index=False)
    )

    # Reads name one version and a box: one GiST over both (btree_gist); reads that keep
    # some attribute values ask `attributes @> ...` of the GIN index (migration 0006).
    __table_args__ = (
        Index("ix_layer_feature_version_geom", "layer_version_id", "geom", postgresql_using="gist"),
        Index(
            "ix_layer_feature_attributes",
            "attributes",
            postgresql_using="gin",
            postgresql_ops={"attributes": "jsonb_path_ops"},
        ),
    )


class LayerRecheckOrm(Base):
    """A re-check of the current proposal versions a new layer version touches (app/rechecks.py)."""

    __tablename__ = "layer_recheck"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_version_id: Mapped[int] = mapped_column(
        ForeignKey("layer_version.id", ondelete="CASCADE"), index=True
    )
    layer_id: Mapped[str] = mapped_column(String(64))
    layer_version: Mapped[int] = mapped_column(Integer)
    # The version compared against (null: the layer's first version).
    previous_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(Text)
    # How far the rules look from a plan area into this layer (null: to the nearest feature).
    reach_m: Mapped[float | None] = mapped_column(Float)
    proposal_versions: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_layer_recheck_status"
        ),
        # One batch per layer version waits or runs at a time: a second request joins it.
        Index(
            "uq_layer_recheck_pending",
            "layer_id",
            "layer_version",
            unique=True,
            postgresql_where="status IN ('queued', 'running')",
        ),
    )


class RuleSetTextOrm(Base):
    """A rule set as it was read, stored once under its checksum; checks run what they name."""

    __tablename__ = "rule_set_text"

    checksum: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_set_id: Mapped[str] = mapped_column(Text)
    rule_set_version: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        # Content-addressed: the key is the SHA-256 of the text (as spatial.rules.ruleset).
        CheckConstraint(
            "checksum = encode(sha256(convert_to(text, 'UTF8')), 'hex')",
            name="ck_rule_set_text_checksum",
        ),
    )


class PlanCheckOrm(Base):
    """A run of a rule set over a proposal version, with what it needs to be reproduced."""

    __tablename__ = "plan_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_version_id: Mapped[int] = mapped_column(
        ForeignKey("proposal_version.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    rule_set_id: Mapped[str] = mapped_column(Text)
    rule_set_version: Mapped[str] = mapped_column(Text)
    # The rule set the check runs (rule_set_text); checks made before migration 0008 may
    # name one that was never stored.
    rule_set_checksum: Mapped[str] = mapped_column(
        String(64), ForeignKey("rule_set_text.checksum", name="fk_plan_check_rule_set_text")
    )
    # Versions asked for by a re-run (null: current ones), and the versions actually used.
    requested_layer_versions: Mapped[dict[str, int] | None] = mapped_column(JSONB)
    layer_versions: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    timings_ms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    # The proposal's previous finished check that this one's findings were matched against.
    previous_check_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_check.id", name="fk_plan_check_previous", ondelete="SET NULL")
    )
    # The layer re-check that queued this check (null: asked for directly).
    recheck_id: Mapped[int | None] = mapped_column(
        ForeignKey("layer_recheck.id", name="fk_plan_check_recheck", ondelete="SET NULL"),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The case and record the check belongs to: as asked for, else the version's.
    saksnummer: Mapped[str | None] = mapped_column(Text, index=True)
    journalpost_id: Mapped[str | None] = mapped_column(Text)

    version: Mapped[ProposalVersionOrm] = relationship()

    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_plan_check_status"
        ),
    )


class CheckFindingOrm(Base):
    """One finding of a check, with its intersection geometry."""

    __tablename__ = "check_finding"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("plan_check.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(16))
    check: Mapped[str] = mapped_column(String(64))
    paragraph: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    plan_feature_ids: Mapped[list[int]] = mapped_column(JSONB)
    plan_feature_keys: Mapped[list[str]] = mapped_column(JSONB)
    plan_feature_names: Mapped[list[str]] = mapped_column(JSONB)
    layer_refs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    measures: Mapped[dict[str, Any]] = mapped_column(JSONB)
    message: Mapped[str] = mapped_column(Text)
    suggested_action: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    # Against the previous check (null: none): new, unchanged or changed, and the finding
    # this one continues.
    comparison: Mapped[str | None] = mapped_column(String(10))
    previous_finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_finding.id", name="fk_check_finding_previous", ondelete="SET NULL")
    )
    geom: Mapped[Any | None] = mapped_column(
        Geometry("GEOMETRY", srid=CANONICAL_SRID, spatial_index=False)
    )

    __table_args__ = (
        CheckConstraint(
            "severity IN ('conflict', 'warning', 'unknown', 'info', 'ok')",
            name="ck_check_finding_severity",
        ),
        CheckConstraint(
            "comparison IN ('new', 'unchanged', 'changed')", name="ck_check_finding_comparison"
        ),
        UniqueConstraint("check_id", "position", name="uq_check_finding_position"),
        Index("ix_check_finding_fingerprint", "check_id", "fingerprint"),
        Index("ix_check_finding_geom", "geom", postgresql_using="gist"),
    )


REVIEW_STATUS_CHECK = "('open', 'discussed', 'accepted', 'change_required', 'objection')"


class FindingReviewOrm(Base):
    """The regional plan forum's current review of a finding (no row: still open)."""

    __tablename__ = "finding_review"

    finding_id: Mapped[int] = mapped_column(
        ForeignKey("check_finding.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(Text)
    # Who made it: the API key's name and, behind a login proxy, the user it passed on.
    key_name: Mapped[str | None] = mapped_column(Text)
    user_name: Mapped[str | None] = mapped_column(Text)
    # Set when the review was carried over from an unchanged finding of an earlier version.
    carried_from_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"status IN {REVIEW_STATUS_CHECK}", name="ck_finding_review_status"),
    )


class FindingReviewEventOrm(Base):
    """One change of a finding's review: who, when, from which status to which."""

    __tablename__ = "finding_review_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("check_finding.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(Text)
    key_name: Mapped[str | None] = mapped_column(Text)
    user_name: Mapped[str | None] = mapped_column(Text)
    carried_from_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            f"from_status IN {REVIEW_STATUS_CHECK} AND to_status IN {REVIEW_STATUS_CHECK}",
            name="ck_finding_review_event_status",
        ),
    )


class ApiKeyOrm(Base):
    """An API key: only its hash is stored; the role decides what it may do."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    kommunenummer: Mapped[str | None] = mapped_column(ForeignKey("municipality.kommunenummer"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "role IN ('planner', 'case_system', 'forum', 'admin')", name="ck_api_key_role"
        ),
    )


class BrowserSessionOrm(Base):
    """A signed-in browser: the cookie holds a random token, this row only its hash."""

    __tablename__ = "browser_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Set by «Logg ut» (DELETE /api/v1/session): the token is of no use after.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyRecordOrm(Base):
    """The stored answer to a POST made with an Idempotency-Key, to replay on retries."""

    __tablename__ = "idempotency_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Records belong to the API key that made them; only that key replays them.
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("api_key_id", "key", name="uq_idempotency_api_key_key"),
        # Expired records are purged oldest first.
        Index("ix_idempotency_record_created_at", "created_at"),
    )


class WebhookOrm(Base):
    """A case system's callback URL for events such as check.completed."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    # The shared secret signs deliveries (HMAC-SHA256), so it is kept as given.
    secret: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The service's base URL as the webhook was registered through it: the links in its
    # payloads start with it when AREALSJEKK_PUBLIC_URL is not set.
    base_url: Mapped[str | None] = mapped_column(Text)


class WebhookDeliveryOrm(Base):
    """One event sent (or to be sent) to a webhook, with its attempts."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How often the delivery was sent again on request (POST .../redeliver).
    redeliveries: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_delivery_status"
        ),
    )


class TileCacheOrm(Base):
    """A rendered map tile (MVT or PNG), valid while the data and styles behind it are unchanged.

    `stamp` names what the tile was made from (layer versions, the latest published proposal
    versions and finished checks, styles, the service's version): a tile whose stamp differs
    from the current one is never served, and is replaced or swept away.
    """

    __tablename__ = "tile_cache"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    layer: Mapped[str] = mapped_column(String(64), primary_key=True)
    tile_matrix_set: Mapped[str] = mapped_column(String(32), primary_key=True)
    z: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_tile_cache_layer_stamp", "kind", "layer", "stamp"),
        # The oldest tiles go first when the cache is full (app.tiles.cache.prune).
        Index("ix_tile_cache_created_at", "created_at"),
    )


class LandAccountOrm(Base):
    """One computation of a municipality's land account (app/land_account.py), kept for the
    time series: the date, the method, the rule set and the layer versions it used."""

    __tablename__ = "land_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kommunenummer: Mapped[str] = mapped_column(ForeignKey("municipality.kommunenummer"))
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # What asked for it: "cli", "api", or "layers" (the recomputation after new layer versions).
    trigger: Mapped[str] = mapped_column(Text)
    method_id: Mapped[str] = mapped_column(Text)
    method_version: Mapped[str] = mapped_column(Text)
    method_checksum: Mapped[str] = mapped_column(String(64))
    rule_set_id: Mapped[str] = mapped_column(Text)
    rule_set_version: Mapped[str] = mapped_column(Text)
    rule_set_checksum: Mapped[str] = mapped_column(
        String(64), ForeignKey("rule_set_text.checksum", name="fk_land_account_rule_set_text")
    )
    layer_versions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    totals: Mapped[dict[str, Any]] = mapped_column(JSONB)
    notes: Mapped[list[str]] = mapped_column(JSONB)

    __table_args__ = (Index("ix_land_account_kommune_time", "kommunenummer", "computed_at"),)


class LandAccountAreaOrm(Base):
    """An adopted area measured by a land account: built and unbuilt parts, lots, and how
    much of its reserve each guideline finds in conflict."""

    __tablename__ = "land_account_area"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("land_account.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    feature_key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    planidentifikasjon: Mapped[str | None] = mapped_column(Text)
    arealformal: Mapped[int] = mapped_column(Integer)
    arealbruksstatus: Mapped[int | None] = mapped_column(SmallInteger)
    purpose_group: Mapped[str] = mapped_column(String(32))
    is_reserve: Mapped[bool] = mapped_column(Boolean)
    area_m2: Mapped[float] = mapped_column(Float)
    built_m2: Mapped[float] = mapped_column(Float)
    unbuilt_m2: Mapped[float] = mapped_column(Float)
    building_count: Mapped[int] = mapped_column(Integer)
    lots: Mapped[int | None] = mapped_column(Integer)
    # rule id -> {conflict_m2, warning_m2, unknown_m2}, within the reserve.
    conflicts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The reserve's part in conflict with at least one guideline.
    conflict_m2: Mapped[float] = mapped_column(Float)
    # A reserve's unbuilt part (null: all built, or not a reserve: kept as figures only).
    geom: Mapped[Any | None] = mapped_column(_area_geometry())

    __table_args__ = (
        UniqueConstraint("account_id", "position", name="uq_land_account_area_position"),
        Index("ix_land_account_area_geom", "geom", postgresql_using="gist"),
    )


class LandAccountFindingOrm(Base):
    """A finding of the rule engine on a reserve of a land account."""

    __tablename__ = "land_account_finding"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("land_account.id", ondelete="CASCADE"), index=True
    )
    area_id: Mapped[int] = mapped_column(
        ForeignKey("land_account_area.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[str] = mapped_column(String(16))
    check: Mapped[str] = mapped_column(String(64))
    paragraph: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    layer_refs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    measures: Mapped[dict[str, Any]] = mapped_column(JSONB)
    message: Mapped[str] = mapped_column(Text)
    suggested_action: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    # The part of the reserve the finding concerns.
    area_m2: Mapped[float] = mapped_column(Float)
    geom: Mapped[Any | None] = mapped_column(
        Geometry("GEOMETRY", srid=CANONICAL_SRID, spatial_index=False)
    )

    __table_args__ = (
        CheckConstraint(
            "severity IN ('conflict', 'warning', 'unknown', 'info', 'ok')",
            name="ck_land_account_finding_severity",
        ),
        Index("ix_land_account_finding_geom", "geom", postgresql_using="gist"),
    )
