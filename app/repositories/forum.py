"""The regional plan forum: findings of the latest checks across municipalities, and reviews."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, case, func, insert, select
from sqlalchemy.orm import Session, aliased

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
from spatial.rules.model import SEVERITIES

REVIEW_STATUSES = ("open", "discussed", "accepted", "change_required", "objection")
DEFAULT_SEVERITIES = ("conflict", "warning", "unknown")
DEFAULT_STATUSES = ("open",)


@dataclass(frozen=True)
class ForumFilters:
    """What the forum list is narrowed to; an empty tuple means no restriction."""

    kommunenummer: tuple[str, ...] = ()
    rule_id: tuple[str, ...] = ()
    severity: tuple[str, ...] = DEFAULT_SEVERITIES
    status: tuple[str, ...] = DEFAULT_STATUSES


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
            ProposalVersionOrm.version,
            func.coalesce(ProposalVersionOrm.plannavn, PlanProposalOrm.plannavn).label("plannavn"),
            PlanProposalOrm.kommunenummer,
            PlanProposalOrm.planidentifikasjon,
            MunicipalityOrm.name.label("municipality"),
            REVIEW_STATUS.label("review_status"),
            FindingReviewOrm.comment.label("review_comment"),
            FindingReviewOrm.reviewer.label("review_reviewer"),
            FindingReviewOrm.updated_at.label("review_updated_at"),
        )
        .join(PlanCheckOrm, PlanCheckOrm.id == CheckFindingOrm.check_id)
        .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
        .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
        .join(MunicipalityOrm, MunicipalityOrm.kommunenummer == PlanProposalOrm.kommunenummer)
        .outerjoin(FindingReviewOrm, FindingReviewOrm.finding_id == CheckFindingOrm.id)
        .where(CheckFindingOrm.check_id.in_(latest_checks_query()))
    )
    if filters.kommunenummer:
        query = query.where(PlanProposalOrm.kommunenummer.in_(filters.kommunenummer))
    if filters.rule_id:
        query = query.where(CheckFindingOrm.rule_id.in_(filters.rule_id))
    if filters.severity:
        query = query.where(CheckFindingOrm.severity.in_(filters.severity))
    if filters.status:
        query = query.where(REVIEW_STATUS.in_(filters.status))
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


def count_findings(session: Session, filters: ForumFilters) -> int:
    """Count the forum findings that match the filters."""
    subquery = _finding_query(filters).subquery()
    return session.execute(select(func.count()).select_from(subquery)).scalar_one()


def list_findings(
    session: Session, filters: ForumFilters, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Return a page of forum findings as dicts, by municipality, proposal and severity."""
    rows = session.execute(_ordered(_finding_query(filters)).limit(limit).offset(offset))
    return [_finding_row(row) for row in rows]


def _finding_row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out["proposal_id"] = f"{row.kommunenummer}_{row.planidentifikasjon}"
    out["review"] = {
        "status": out.pop("review_status"),
        "comment": out.pop("review_comment"),
        "reviewer": out.pop("review_reviewer"),
        "updated_at": out.pop("review_updated_at"),
    }
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
    """Return a review as a dict; a finding never reviewed is open."""
    if row is None:
        return {"status": "open", "comment": None, "reviewer": None, "updated_at": None}
    return {
        "status": row.status,
        "comment": row.comment,
        "reviewer": row.reviewer,
        "updated_at": row.updated_at,
    }


def _require_finding(session: Session, finding_id: int, lock: bool = False) -> None:
    query = select(CheckFindingOrm.id).where(CheckFindingOrm.id == finding_id)
    if lock:
        # Serialises concurrent reviews of one finding, so each event's from_status is right.
        query = query.with_for_update()
    if session.execute(query).scalar_one_or_none() is None:
        raise NotFoundError(f"no finding {finding_id}")


def get_review(session: Session, finding_id: int) -> dict[str, Any]:
    """Return a finding's review with its history (oldest first); raise NotFoundError."""
    _require_finding(session, finding_id)
    review = session.get(FindingReviewOrm, finding_id)
    events = session.execute(
        select(FindingReviewEventOrm)
        .where(FindingReviewEventOrm.finding_id == finding_id)
        .order_by(FindingReviewEventOrm.id)
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
                "created_at": e.created_at,
            }
            for e in events
        ],
    }


def set_review(
    session: Session, finding_id: int, status: str, comment: str | None, reviewer: str
) -> dict[str, Any]:
    """Record a review; a change appends an event, repeating the current review changes nothing."""
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
    session.execute(
        insert(FindingReviewEventOrm).values(
            finding_id=finding_id,
            from_status=before["status"],
            to_status=status,
            comment=comment,
            reviewer=reviewer,
            created_at=now,
        )
    )
    session.commit()
    return get_review(session, finding_id)
