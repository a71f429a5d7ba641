"""Storing and reading checks and their findings."""

from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from app.repositories.geojson import geometry_json
from db.models import (
    CheckFindingOrm,
    PlanCheckOrm,
    PlanProposalOrm,
    ProposalVersionOrm,
    RuleSetTextOrm,
)
from spatial.crs import CANONICAL_SRID
from spatial.errors import NotFoundError
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
        raise NotFoundError(f"no check {check_id}")
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


def store_result(session: Session, check: PlanCheckOrm, result: CheckResult) -> None:
    """Write a finished check's findings and figures (the caller commits)."""
    rows = [
        {
            "check_id": check.id,
            "position": position,
            **finding.record(),
            "geom": None
            if finding.geometry is None
            else from_shape(finding.geometry, srid=CANONICAL_SRID),
        }
        for position, finding in enumerate(result.findings)
    ]
    if rows:
        session.execute(insert(CheckFindingOrm), rows)
    check.layer_versions = result.layer_versions
    check.timings_ms = result.timings_ms
    check.summary = result.summary()
    check.status = "done"
    check.finished_at = func.now()


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
    """Return a stored finding's fields as a JSON-ready dict."""
    return {"id": row.id, **{name: getattr(row, name) for name in FINDING_FIELDS}}


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


def unfinished_check_ids(session: Session) -> list[int]:
    """Return checks left queued or running (e.g. by a restart), oldest first."""
    return list(
        session.execute(
            select(PlanCheckOrm.id)
            .where(PlanCheckOrm.status.in_(("queued", "running")))
            .order_by(PlanCheckOrm.id)
        ).scalars()
    )


def requeue(session: Session, check_id: int) -> None:
    """Put an interrupted check back in the queue, dropping any partial findings."""
    session.execute(
        update(PlanCheckOrm)
        .where(PlanCheckOrm.id == check_id)
        .values(status="queued", started_at=None)
    )
    session.execute(delete(CheckFindingOrm).where(CheckFindingOrm.check_id == check_id))


def empty_summary() -> dict[str, Any]:
    """A summary with zero counts, for checks that have not finished."""
    return {"total": 0, "by_severity": dict.fromkeys(SEVERITIES, 0), "by_rule": {}}
