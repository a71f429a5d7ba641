"""The regional plan forum: findings of the latest checks across municipalities, and reviews."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, insert, select
from sqlalchemy.orm import Session, aliased

from app.repositories.checks import resolved_query, review_fields
from app.webhooks import enqueue_finding_reviewed
from db.models import (
    CheckFindingOrm,
    FindingReviewEventOrm,
    FindingReviewOrm,
    MunicipalityOrm,
    PlanCheckOrm,
    PlanProposalOrm,
    ProposalVersionOrm,
)
from spatial.errors import NotFoundError
from spatial.messages import Text
from spatial.rules.compare import CHANGED, NEW, UNCHANGED
from spatial.rules.model import SEVERITIES

REVIEW_STATUSES = ("open", "discussed", "accepted", "change_required", "objection")
DEFAULT_SEVERITIES = ("conflict", "warning", "unknown")
DEFAULT_STATUSES = ("open",)
COMPARISONS = (NEW, UNCHANGED, CHANGED)


@dataclass(frozen=True)
class ForumFilters:
    """What the forum list is narrowed to; an empty tuple means no restriction."""

    kommunenummer: tuple[str, ...] = ()
    rule_id: tuple[str, ...] = ()
    severity: tuple[str, ...] = DEFAULT_SEVERITIES
    status: tuple[str, ...] = DEFAULT_STATUSES
    comparison: tuple[str, ...] = ()


def latest_checks_query() -> Select:
    """Select the id of the newest finished check of the newest version of each proposal."""
    newer = aliased(ProposalVersionOrm)
    newest_version = (
        select(func.max(newer.version))
        .where(newer.proposal_id == ProposalVersionOrm.proposal_id)
        .scalar_subquery()
    )
    return (
        select(func.max(PlanCheckOrm.id))
        .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
        .where(PlanCheckOrm.status == "done", ProposalVersionOrm.version == newest_version)
        .group_by(PlanCheckOrm.proposal_version_id)
    )


def severity_rank(column: Any) -> Any:
    """Order severities most serious first."""
    return case({s: i for i, s in enumerate(SEVERITIES)}, value=column, else_=len(SEVERITIES))


REVIEW_STATUS = func.coalesce(FindingReviewOrm.status, "open")
REVIEW_COLUMNS = ("comment", "reviewer", "key_name", "user_name", "carried_from_version")
# The review of the finding a changed finding continues, shown "from version N".
PreviousReview = aliased(FindingReviewOrm)
PreviousCheck = aliased(PlanCheckOrm)
PreviousVersion = aliased(ProposalVersionOrm)


def _finding_query(filters: ForumFilters) -> Select:
    query = (
        select(
            CheckFindingOrm.id,
            CheckFindingOrm.check_id,
            CheckFindingOrm.rule_id,
            CheckFindingOrm.paragraph,
            CheckFindingOrm.severity,
            CheckFindingOrm.message,
            CheckFindingOrm.suggested_action,
            CheckFindingOrm.measures,
            CheckFindingOrm.plan_feature_keys,
            CheckFindingOrm.plan_feature_names,
            CheckFindingOrm.comparison,
            CheckFindingOrm.previous_finding_id,
            ProposalVersionOrm.version,
            PreviousVersion.version.label("previous_version"),
            func.coalesce(ProposalVersionOrm.plannavn, PlanProposalOrm.plannavn).label("plannavn"),
            PlanProposalOrm.kommunenummer,
            PlanProposalOrm.planidentifikasjon,
            PlanProposalOrm.saksnummer,
            MunicipalityOrm.name.label("municipality"),
            REVIEW_STATUS.label("review_status"),
            *(getattr(FindingReviewOrm, c).label(f"review_{c}") for c in REVIEW_COLUMNS),
            FindingReviewOrm.updated_at.label("review_updated_at"),
            PreviousReview.status.label("previous_status"),
            *(getattr(PreviousReview, c).label(f"previous_{c}") for c in REVIEW_COLUMNS),
            PreviousReview.updated_at.label("previous_updated_at"),
        )
        .join(PlanCheckOrm, PlanCheckOrm.id == CheckFindingOrm.check_id)
        .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
        .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
        .join(MunicipalityOrm, MunicipalityOrm.kommunenummer == PlanProposalOrm.kommunenummer)
        .outerjoin(FindingReviewOrm, FindingReviewOrm.finding_id == CheckFindingOrm.id)
        .outerjoin(PreviousCheck, PreviousCheck.id == PlanCheckOrm.previous_check_id)
        .outerjoin(PreviousVersion, PreviousVersion.id == PreviousCheck.proposal_version_id)
        .outerjoin(
            PreviousReview,
            and_(
                PreviousReview.finding_id == CheckFindingOrm.previous_finding_id,
                CheckFindingOrm.comparison == CHANGED,
            ),
        )
        .where(CheckFindingOrm.check_id.in_(latest_checks_query()))
    )
    query = _narrowed(query, filters)
    if filters.status:
        query = query.where(REVIEW_STATUS.in_(filters.status))
    if filters.comparison:
        query = query.where(CheckFindingOrm.comparison.in_(filters.comparison))
    return query


def _narrowed(query: Select, filters: ForumFilters) -> Select:
    """Narrow a query of findings to the filters' municipalities, rules and severities."""
    if filters.kommunenummer:
        query = query.where(PlanProposalOrm.kommunenummer.in_(filters.kommunenummer))
    if filters.rule_id:
        query = query.where(CheckFindingOrm.rule_id.in_(filters.rule_id))
    if filters.severity:
        query = query.where(CheckFindingOrm.severity.in_(filters.severity))
    return query


def _ordered(query: Select) -> Select:
    return query.order_by(
        MunicipalityOrm.name,
        PlanProposalOrm.kommunenummer,
        PlanProposalOrm.planidentifikasjon,
        severity_rank(CheckFindingOrm.severity),
        CheckFindingOrm.rule_id,
        CheckFindingOrm.position,
    )


def _count(session: Session, query: Select) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def count_findings(session: Session, filters: ForumFilters) -> int:
    """Count the forum findings that match the filters."""
    return _count(session, _finding_query(filters))


def list_findings(
    session: Session, filters: ForumFilters, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Return a page of forum findings as dicts, by municipality, proposal and severity."""
    rows = session.execute(_ordered(_finding_query(filters)).limit(limit).offset(offset))
    return [_finding_row(row) for row in rows]


def _finding_row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out["proposal_id"] = f"{row.kommunenummer}_{row.planidentifikasjon}"
    fields = ("status", *REVIEW_COLUMNS, "updated_at")
    out["review"] = {name: out.pop(f"review_{name}") for name in fields}
    previous = {name: out.pop(f"previous_{name}") for name in fields}
    out["previous_review"] = None
    if previous["status"] is not None:
        # Made on the version it was carried from, else on the previous check's version.
        previous["version"] = previous["carried_from_version"] or out["previous_version"]
        out["previous_review"] = previous
    return out


def _resolved_query(filters: ForumFilters) -> Select:
    """Select the findings of the previous checks that the latest checks no longer have."""
    latest = aliased(PlanCheckOrm)
    latest_version = aliased(ProposalVersionOrm)
    found = resolved_query(latest.id, latest.previous_check_id)
    query = (
        found.add_columns(
            latest.id.label("resolved_in_check_id"),
            latest_version.version.label("resolved_in_version"),
            ProposalVersionOrm.version,
            func.coalesce(latest_version.plannavn, PlanProposalOrm.plannavn).label("plannavn"),
            PlanProposalOrm.kommunenummer,
            PlanProposalOrm.planidentifikasjon,
            MunicipalityOrm.name.label("municipality"),
        )
        .join(latest, latest.previous_check_id == CheckFindingOrm.check_id)
        .join(latest_version, latest_version.id == latest.proposal_version_id)
        .join(PlanCheckOrm, PlanCheckOrm.id == CheckFindingOrm.check_id)
        .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
        .join(PlanProposalOrm, PlanProposalOrm.id == latest_version.proposal_id)
        .join(MunicipalityOrm, MunicipalityOrm.kommunenummer == PlanProposalOrm.kommunenummer)
        .where(latest.id.in_(latest_checks_query()))
        .order_by(None)
    )
    return _narrowed(query, filters)


def count_resolved(session: Session, filters: ForumFilters) -> int:
    """Count the resolved findings that match the filters."""
    return _count(session, _resolved_query(filters))


def list_resolved(
    session: Session, filters: ForumFilters, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Return a page of findings resolved by the latest checks, with their last reviews."""
    rows = session.execute(_ordered(_resolved_query(filters)).limit(limit).offset(offset))
    out = []
    for row in rows:
        finding, review = row[0], row[1]
        out.append(
            {
                "id": finding.id,
                "check_id": finding.check_id,
                "version": row.version,
                "resolved_in_check_id": row.resolved_in_check_id,
                "resolved_in_version": row.resolved_in_version,
                "proposal_id": f"{row.kommunenummer}_{row.planidentifikasjon}",
                "kommunenummer": row.kommunenummer,
                "municipality": row.municipality,
                "plannavn": row.plannavn,
                "rule_id": finding.rule_id,
                "paragraph": finding.paragraph,
                "severity": finding.severity,
                "message": finding.message,
                "plan_feature_keys": finding.plan_feature_keys,
                "plan_feature_names": finding.plan_feature_names,
                "review": review_fields(review),
            }
        )
    return out


@dataclass(frozen=True)
class AgendaCheck:
    """A proposal's latest check that finished in the agenda's period."""

    check: PlanCheckOrm
    version: ProposalVersionOrm
    proposal: PlanProposalOrm
    municipality: str


def agenda_checks(
    session: Session, first: date | None, last: date | None, kommunenummer: tuple[str, ...] = ()
) -> list[AgendaCheck]:
    """Return the latest checks that finished between two dates (Norwegian time, inclusive)."""
    finished_on = func.date(func.timezone("Europe/Oslo", PlanCheckOrm.finished_at))
    query = (
        select(PlanCheckOrm, ProposalVersionOrm, PlanProposalOrm, MunicipalityOrm.name)
        .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
        .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
        .join(MunicipalityOrm, MunicipalityOrm.kommunenummer == PlanProposalOrm.kommunenummer)
        .where(PlanCheckOrm.id.in_(latest_checks_query()))
        .order_by(
            MunicipalityOrm.name, PlanProposalOrm.kommunenummer, PlanProposalOrm.planidentifikasjon
        )
    )
    if first is not None:
        query = query.where(finished_on >= first)
    if last is not None:
        query = query.where(finished_on <= last)
    if kommunenummer:
        query = query.where(PlanProposalOrm.kommunenummer.in_(kommunenummer))
    return [AgendaCheck(*row) for row in session.execute(query)]


def agenda_findings(
    session: Session, check_ids: list[int], severities: tuple[str, ...]
) -> dict[int, list[dict[str, Any]]]:
    """Return the findings of the given checks with their reviews, grouped by check id."""
    if not check_ids:
        return {}
    query = (
        select(CheckFindingOrm, FindingReviewOrm)
        .outerjoin(FindingReviewOrm, FindingReviewOrm.finding_id == CheckFindingOrm.id)
        .where(CheckFindingOrm.check_id.in_(check_ids), CheckFindingOrm.severity.in_(severities))
        .order_by(
            CheckFindingOrm.check_id,
            severity_rank(CheckFindingOrm.severity),
            CheckFindingOrm.rule_id,
            CheckFindingOrm.position,
        )
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for finding, review in session.execute(query):
        out.setdefault(finding.check_id, []).append(
            {"finding": finding, "review": review_dict(review)}
        )
    return out


def reviews_of_check(session: Session, check_id: int) -> dict[int, dict[str, Any]]:
    """Return the reviews of a check's findings, keyed by finding id (reviewed ones only)."""
    rows = session.execute(
        select(FindingReviewOrm)
        .join(CheckFindingOrm, CheckFindingOrm.id == FindingReviewOrm.finding_id)
        .where(CheckFindingOrm.check_id == check_id)
    ).scalars()
    return {row.finding_id: review_dict(row) for row in rows}


def review_dict(row: FindingReviewOrm | None) -> dict[str, Any]:
    """Return a review as a dict, with who made it; a finding never reviewed is open."""
    return review_fields(row)


def _require_finding(session: Session, finding_id: int, lock: bool = False) -> None:
    query = select(CheckFindingOrm.id).where(CheckFindingOrm.id == finding_id)
    if lock:
        # Serialises concurrent reviews of one finding, so each event's from_status is right.
        query = query.with_for_update()
    if session.execute(query).scalar_one_or_none() is None:
        raise NotFoundError(Text(f"finner ikke funn nr. {finding_id}", f"no finding {finding_id}"))


def get_review(session: Session, finding_id: int) -> dict[str, Any]:
    """Return a finding's review with its history (oldest first); raise NotFoundError."""
    _require_finding(session, finding_id)
    review = session.get(FindingReviewOrm, finding_id)
    # Carried-over events keep their times: by time first, they interleave correctly.
    events = session.execute(
        select(FindingReviewEventOrm)
        .where(FindingReviewEventOrm.finding_id == finding_id)
        .order_by(FindingReviewEventOrm.created_at, FindingReviewEventOrm.id)
    ).scalars()
    return {
        "finding_id": finding_id,
        **review_dict(review),
        "history": [
            {
                "from_status": e.from_status,
                "to_status": e.to_status,
                "comment": e.comment,
                "reviewer": e.reviewer,
                "key_name": e.key_name,
                "user_name": e.user_name,
                "carried_from_version": e.carried_from_version,
                "created_at": e.created_at,
            }
            for e in events
        ],
    }


def set_review(
    session: Session,
    finding_id: int,
    status: str,
    comment: str | None,
    reviewer: str,
    key_name: str | None = None,
    user_name: str | None = None,
) -> dict[str, Any]:
    """Record a review with the API key and login user that made it; a change appends an
    event, repeating the current review changes nothing."""
    _require_finding(session, finding_id, lock=True)
    review = session.get(FindingReviewOrm, finding_id, populate_existing=True)
    before = review_dict(review)
    if review is not None and (review.status, review.comment, review.reviewer) == (
        status,
        comment,
        reviewer,
    ):
        session.commit()
        return get_review(session, finding_id)
    now: datetime = session.execute(select(func.now())).scalar_one()
    if review is None:
        review = FindingReviewOrm(finding_id=finding_id)
        session.add(review)
    review.status, review.comment, review.reviewer, review.updated_at = (
        status,
        comment,
        reviewer,
        now,
    )
    # Made on this finding's version now: no longer one carried over from an earlier one.
    review.key_name, review.user_name, review.carried_from_version = key_name, user_name, None
    session.execute(
        insert(FindingReviewEventOrm).values(
            finding_id=finding_id,
            from_status=before["status"],
            to_status=status,
            comment=comment,
            reviewer=reviewer,
            key_name=key_name,
            user_name=user_name,
            created_at=now,
        )
    )
    # Queued in the same transaction: a recorded decision always reaches the case systems.
    enqueue_finding_reviewed(session, finding_id, before["status"])
    session.commit()
    return get_review(session, finding_id)
