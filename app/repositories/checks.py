"""Storing and reading checks and their findings."""

from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from app.repositories.geojson import geometry_json
from db.models import (
    CheckFindingOrm,
    FindingReviewEventOrm,
    FindingReviewOrm,
    PlanCheckOrm,
    PlanProposalOrm,
    ProposalVersionOrm,
    RuleSetTextOrm,
)
from spatial.crs import CANONICAL_SRID
from spatial.errors import NotFoundError
from spatial.messages import Text
from spatial.rules.compare import UNCHANGED, match_findings
from spatial.rules.engine import CheckResult
from spatial.rules.model import FINDING_FIELDS, SEVERITIES
from spatial.rules.ruleset import RuleSet


def get_check(session: Session, check_id: int, visible: Any = None) -> PlanCheckOrm:
    """Return a check (of a proposal matching `visible`, if given), or raise NotFoundError.

    A check of a proposal that is not visible is not found alike: same query, same answer.
    """
    if visible is None:
        check = session.get(PlanCheckOrm, check_id)
    else:
        check = session.execute(
            select(PlanCheckOrm)
            .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
            .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
            .where(PlanCheckOrm.id == check_id, visible)
        ).scalar_one_or_none()
    if check is None:
        raise NotFoundError(Text(f"finner ingen kontroll nr. {check_id}", f"no check {check_id}"))
    return check


def store_rule_set(session: Session, rule_set: RuleSet) -> None:
    """Keep a rule set's text under its checksum, once (the caller commits)."""
    session.execute(
        pg_insert(RuleSetTextOrm)
        .values(
            checksum=rule_set.checksum,
            rule_set_id=rule_set.id,
            rule_set_version=rule_set.version,
            text=rule_set.text,
        )
        .on_conflict_do_nothing(index_elements=[RuleSetTextOrm.checksum])
    )


def rule_set_text(session: Session, checksum: str) -> str | None:
    """Return the stored text of the rule set with this checksum (None if never stored)."""
    return session.execute(
        select(RuleSetTextOrm.text).where(RuleSetTextOrm.checksum == checksum)
    ).scalar_one_or_none()


def previous_check(session: Session, check: PlanCheckOrm) -> tuple[int, int] | None:
    """Return (id, version number) of the proposal's previous finished check, if any.

    That is the newest finished check made before this one of this version or an earlier
    one: a check of a later version (a re-run of an old version) is never the previous one.
    """
    version = check.version
    row = session.execute(
        select(PlanCheckOrm.id, ProposalVersionOrm.version)
        .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
        .where(
            ProposalVersionOrm.proposal_id == version.proposal_id,
            ProposalVersionOrm.version <= version.version,
            PlanCheckOrm.status == "done",
            PlanCheckOrm.id < check.id,
        )
        .order_by(ProposalVersionOrm.version.desc(), PlanCheckOrm.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def store_result(session: Session, check: PlanCheckOrm, result: CheckResult) -> None:
    """Write a finished check's findings and figures, matched against the previous check's
    findings, and carry the reviews of unchanged findings over (the caller commits)."""
    records = [finding.record() for finding in result.findings]
    previous = previous_check(session, check)
    comparison: list[str | None] = [None] * len(records)
    previous_ids: list[int | None] = [None] * len(records)
    if previous is not None:
        old = session.execute(
            select(
                CheckFindingOrm.id,
                CheckFindingOrm.fingerprint,
                CheckFindingOrm.severity,
                CheckFindingOrm.measures,
            )
            .where(CheckFindingOrm.check_id == previous[0])
            .order_by(CheckFindingOrm.position)
        ).all()
        matches = match_findings([row._mapping for row in old], records)
        comparison = list(matches.comparison)
        previous_ids = [None if i is None else old[i].id for i in matches.previous]
    rows = [
        {
            "check_id": check.id,
            "position": position,
            **record,
            "comparison": comparison[position],
            "previous_finding_id": previous_ids[position],
            "geom": None
            if finding.geometry is None
            else from_shape(finding.geometry, srid=CANONICAL_SRID),
        }
        for position, (finding, record) in enumerate(zip(result.findings, records, strict=True))
    ]
    if rows:
        session.execute(insert(CheckFindingOrm), rows)
    check.previous_check_id = None if previous is None else previous[0]
    if previous is not None:
        carry_reviews(session, check.id, previous[1])
    check.layer_versions = result.layer_versions
    check.timings_ms = result.timings_ms
    check.summary = result.summary()
    check.status = "done"
    check.finished_at = func.clock_timestamp()


def carry_reviews(session: Session, check_id: int, previous_version: int) -> None:
    """Copy the reviews and review histories of the previous check's findings onto the
    unchanged findings of this check, each marked with the version it was made on."""
    new = CheckFindingOrm
    review = FindingReviewOrm
    made_on = func.coalesce(review.carried_from_version, literal(previous_version))
    session.execute(
        insert(review).from_select(
            [
                "finding_id",
                "status",
                "comment",
                "reviewer",
                "key_name",
                "user_name",
                "carried_from_version",
                "updated_at",
            ],
            select(
                new.id,
                review.status,
                review.comment,
                review.reviewer,
                review.key_name,
                review.user_name,
                made_on,
                review.updated_at,
            )
            .join(review, review.finding_id == new.previous_finding_id)
            .where(new.check_id == check_id, new.comparison == UNCHANGED),
        )
    )
    event = FindingReviewEventOrm
    event_made_on = func.coalesce(event.carried_from_version, literal(previous_version))
    session.execute(
        insert(event).from_select(
            [
                "finding_id",
                "from_status",
                "to_status",
                "comment",
                "reviewer",
                "key_name",
                "user_name",
                "carried_from_version",
                "created_at",
            ],
            select(
                new.id,
                event.from_status,
                event.to_status,
                event.comment,
                event.reviewer,
                event.key_name,
                event.user_name,
                event_made_on,
                event.created_at,
            )
            .join(event, event.finding_id == new.previous_finding_id)
            .where(new.check_id == check_id, new.comparison == UNCHANGED)
            .order_by(new.id, event.id),
        )
    )


def finding_rows(
    session: Session, check_id: int, severity: str | None = None, rule_id: str | None = None
) -> list[CheckFindingOrm]:
    """Return a check's findings in their stored order, optionally filtered."""
    query = select(CheckFindingOrm).where(CheckFindingOrm.check_id == check_id)
    if severity:
        query = query.where(CheckFindingOrm.severity == severity)
    if rule_id:
        query = query.where(CheckFindingOrm.rule_id == rule_id)
    return list(session.execute(query.order_by(CheckFindingOrm.position)).scalars())


def finding_dict(row: CheckFindingOrm) -> dict[str, Any]:
    """Return a stored finding's fields as a JSON-ready dict, with how it compares to the
    previous check's findings."""
    return {
        "id": row.id,
        **{name: getattr(row, name) for name in FINDING_FIELDS},
        "comparison": row.comparison,
        "previous_finding_id": row.previous_finding_id,
    }


def review_fields(review: FindingReviewOrm | None) -> dict[str, Any]:
    """Return a review as a dict (status 'open' when there is none)."""
    if review is None:
        return {
            "status": "open",
            "comment": None,
            "reviewer": None,
            "key_name": None,
            "user_name": None,
            "carried_from_version": None,
            "updated_at": None,
        }
    return {
        "status": review.status,
        "comment": review.comment,
        "reviewer": review.reviewer,
        "key_name": review.key_name,
        "user_name": review.user_name,
        "carried_from_version": review.carried_from_version,
        "updated_at": review.updated_at,
    }


def check_comparison(session: Session, check: PlanCheckOrm) -> dict[str, Any] | None:
    """Return how a finished check compares with the previous one: counts of new, unchanged,
    changed and resolved findings, and the resolved ones with their reviews (None: no
    previous check)."""
    if check.status != "done" or check.previous_check_id is None:
        return None
    previous_version = session.execute(
        select(ProposalVersionOrm.version)
        .join(PlanCheckOrm, PlanCheckOrm.proposal_version_id == ProposalVersionOrm.id)
        .where(PlanCheckOrm.id == check.previous_check_id)
    ).scalar_one()
    counts = dict.fromkeys(("new", "unchanged", "changed"), 0)
    counts.update(
        session.execute(
            select(CheckFindingOrm.comparison, func.count())
            .where(CheckFindingOrm.check_id == check.id, CheckFindingOrm.comparison.is_not(None))
            .group_by(CheckFindingOrm.comparison)
        ).all()
    )
    resolved = [
        {
            "id": finding.id,
            "rule_id": finding.rule_id,
            "check": finding.check,
            "severity": finding.severity,
            "plan_feature_keys": finding.plan_feature_keys,
            "plan_feature_names": finding.plan_feature_names,
            "message": finding.message,
            "fingerprint": finding.fingerprint,
            "review": review_fields(review),
        }
        for finding, review in session.execute(resolved_query(check.id, check.previous_check_id))
    ]
    counts["resolved"] = len(resolved)
    return {
        "previous_check_id": check.previous_check_id,
        "previous_version": previous_version,
        "counts": counts,
        "resolved": resolved,
    }


def resolved_query(check_id: Any, previous_check_id: Any):
    """Select (finding, review) of the previous check's findings that no finding of this
    check continues: those resolved in this check."""
    continuing = aliased(CheckFindingOrm)
    continued = (
        select(continuing.id)
        .where(
            continuing.check_id == check_id, continuing.previous_finding_id == CheckFindingOrm.id
        )
        .exists()
    )
    return (
        select(CheckFindingOrm, FindingReviewOrm)
        .outerjoin(FindingReviewOrm, FindingReviewOrm.finding_id == CheckFindingOrm.id)
        .where(CheckFindingOrm.check_id == previous_check_id, ~continued)
        .order_by(CheckFindingOrm.position)
    )


def finding_features(
    session: Session,
    check_id: int,
    srid: int,
    severity: str | None = None,
    rule_id: str | None = None,
) -> list[dict[str, Any]]:
    """Return a check's findings as GeoJSON features with their intersection geometry."""
    query = select(CheckFindingOrm, geometry_json(CheckFindingOrm.geom, srid).label("g")).where(
        CheckFindingOrm.check_id == check_id
    )
    if severity:
        query = query.where(CheckFindingOrm.severity == severity)
    if rule_id:
        query = query.where(CheckFindingOrm.rule_id == rule_id)
    rows = session.execute(query.order_by(CheckFindingOrm.position))
    return [finding_geojson(finding_dict(row), geometry, row.id) for row, geometry in rows]


def finding_geojson(
    properties: dict[str, Any], geometry: dict[str, Any] | None, feature_id: int | None = None
) -> dict[str, Any]:
    """Return a finding as a GeoJSON feature: its fields as properties, `id` if it is stored."""
    feature: dict[str, Any] = {"type": "Feature"}
    if feature_id is not None:
        feature["id"] = feature_id
    return feature | {"properties": properties, "geometry": geometry}


def latest_done_check(session: Session, version_id: int) -> PlanCheckOrm | None:
    """Return the newest finished check of a proposal version."""
    return session.execute(
        select(PlanCheckOrm)
        .where(PlanCheckOrm.proposal_version_id == version_id, PlanCheckOrm.status == "done")
        .order_by(PlanCheckOrm.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def checks_of_version(session: Session, version_id: int) -> list[PlanCheckOrm]:
    """Return the checks of a proposal version, newest first."""
    return list(
        session.execute(
            select(PlanCheckOrm)
            .where(PlanCheckOrm.proposal_version_id == version_id)
            .order_by(PlanCheckOrm.id.desc())
        ).scalars()
    )


def empty_summary() -> dict[str, Any]:
    """A summary with zero counts, for checks that have not finished."""
    return {"total": 0, "by_severity": dict.fromkeys(SEVERITIES, 0), "by_rule": {}}
