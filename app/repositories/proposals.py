"""Storing and reading plan proposals, their versions and features."""

import hashlib
import re
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import ColumnElement, exists, func, insert, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.repositories.geojson import geometry_json
from db.models import PlanCheckOrm, PlanFeatureOrm, PlanProposalOrm, ProposalVersionOrm
from spatial.codelists import get_codelists, plan_level
from spatial.crs import CANONICAL_SRID
from spatial.errors import NotFoundError
from spatial.messages import Text
from spatial.plan_model import PreparedPlan

ALL = true()  # a visibility condition that lets every proposal through


def proposal_key(kommunenummer: str, planidentifikasjon: str) -> str:
    """Return the public id of a proposal: the national plan id as 'kommunenummer_planid'."""
    return f"{kommunenummer}_{planidentifikasjon}"


def split_proposal_key(proposal_id: str) -> tuple[str, str]:
    """Split a public proposal id into (kommunenummer, planidentifikasjon)."""
    kommunenummer, sep, planid = proposal_id.partition("_")
    # ASCII digits: str.isdigit() also takes '²' and '٣'.
    if not sep or not re.fullmatch(r"[0-9]{4}", kommunenummer) or not planid:
        raise NotFoundError(
            Text(
                f"«{proposal_id}» er ikke en planforslag-id; slike id-er ser ut som "
                "«3326_2024001» (kommunenummer_planidentifikasjon)",
                f"'{proposal_id}' is not a proposal id; ids look like '3326_2024001' "
                "(kommunenummer_planidentifikasjon)",
            )
        )
    return kommunenummer, planid


def store_version(
    session: Session,
    plan: PreparedPlan,
    body: bytes,
    filename: str | None,
    saksnummer: str | None = None,
    journalpost_id: str | None = None,
) -> ProposalVersionOrm:
    """Store a prepared plan as the next version of its proposal, in one transaction."""
    meta = plan.metadata
    upsert = (
        pg_insert(PlanProposalOrm)
        .values(
            kommunenummer=meta.kommunenummer,
            planidentifikasjon=meta.planidentifikasjon,
            plantype=meta.plantype,
            planstatus=meta.planstatus,
            plannavn=meta.plannavn,
        )
        .on_conflict_do_update(
            constraint="uq_plan_proposal_planid",
            set_={
                "plantype": meta.plantype,
                "planstatus": meta.planstatus,
                "plannavn": meta.plannavn,
                "updated_at": func.now(),
            },
        )
        .returning(PlanProposalOrm.id)
    )
    # The upsert row-locks the proposal until commit, so concurrent uploads of the
    # same plan get consecutive version numbers instead of colliding.
    proposal_id = session.execute(upsert).scalar_one()
    proposal = session.get_one(PlanProposalOrm, proposal_id, populate_existing=True)
    number = session.execute(
        select(func.coalesce(func.max(ProposalVersionOrm.version), 0) + 1).where(
            ProposalVersionOrm.proposal_id == proposal_id
        )
    ).scalar_one()
    version = ProposalVersionOrm(
        proposal_id=proposal_id,
        version=number,
        plantype=meta.plantype,
        planstatus=meta.planstatus,
        plannavn=meta.plannavn,
        source_format=plan.source_format,
        source_crs=plan.source_crs.label,
        source_filename=filename,
        content_sha256=hashlib.sha256(body).hexdigest(),
        feature_count=len(plan.areas),
        report=plan.report.as_dict(),
        saksnummer=saksnummer,
        journalpost_id=journalpost_id,
    )
    session.add(version)
    session.flush()
    # Attached before the commit, so building the answer afterwards needs no query: once the
    # commit is through, the upload must not fail on a database that just went away.
    set_committed_value(version, "proposal", proposal)
    session.execute(
        insert(PlanFeatureOrm),
        [
            {
                "version_id": version.id,
                "position": area.position,
                "source_id": area.source_id,
                "kind": area.kind,
                "arealformal": area.arealformal,
                "arealbruksstatus": area.arealbruksstatus,
                "feltnavn": area.feltnavn,
                "hensynssone": area.hensynssone,
                "hensynssone_navn": area.hensynssone_navn,
                "lokal_id": area.lokal_id,
                "area_key": area.key,
                "properties": area.properties,
                "geom": from_shape(area.geometry, srid=CANONICAL_SRID),
            }
            for area in plan.areas
        ],
    )
    session.commit()
    return version


def lock_plan(session: Session, kommunenummer: str, planidentifikasjon: str) -> None:
    """Serialise uploads of one plan until this transaction ends: concurrent copies of one
    upload (a case system's retry while the first still runs) find the first's version."""
    key = f"upload:{proposal_key(kommunenummer, planidentifikasjon)}"
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def identical_latest_version(
    session: Session,
    plan: PreparedPlan,
    body: bytes,
    saksnummer: str | None = None,
    journalpost_id: str | None = None,
) -> ProposalVersionOrm | None:
    """Return the proposal's latest version if this upload would repeat it: the same bytes
    read with the same plan attributes (query parameters may change those), filed under the
    same case reference when the upload names one."""
    meta = plan.metadata
    latest = session.execute(
        select(ProposalVersionOrm)
        .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
        .where(
            PlanProposalOrm.kommunenummer == meta.kommunenummer,
            PlanProposalOrm.planidentifikasjon == meta.planidentifikasjon,
        )
        .order_by(ProposalVersionOrm.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if latest is None or latest.content_sha256 != hashlib.sha256(body).hexdigest():
        return None
    same_plan = (latest.plantype, latest.planstatus, latest.plannavn) == (
        meta.plantype,
        meta.planstatus,
        meta.plannavn,
    )
    # The same file sent under another case or record is a new filing: a new version keeps it.
    same_case = all(
        given is None or given == stored
        for given, stored in (
            (saksnummer, latest.saksnummer),
            (journalpost_id, latest.journalpost_id),
        )
    )
    return latest if same_plan and same_case else None


def _filed_under(saksnummer: str) -> ColumnElement[bool]:
    """Proposals the forum filed under this saksnummer, or with a version uploaded or a check
    asked for under it."""
    return (
        (PlanProposalOrm.saksnummer == saksnummer)
        | exists().where(
            ProposalVersionOrm.proposal_id == PlanProposalOrm.id,
            ProposalVersionOrm.saksnummer == saksnummer,
        )
        | exists().where(
            ProposalVersionOrm.proposal_id == PlanProposalOrm.id,
            PlanCheckOrm.proposal_version_id == ProposalVersionOrm.id,
            PlanCheckOrm.saksnummer == saksnummer,
        )
    )


def count_proposals(
    session: Session, kommunenummer: str | None, visible: Any = ALL, saksnummer: str | None = None
) -> int:
    """Count the proposals matching `visible`, optionally in one municipality or case."""
    query = select(func.count()).select_from(PlanProposalOrm).where(visible)
    if kommunenummer:
        query = query.where(PlanProposalOrm.kommunenummer == kommunenummer)
    if saksnummer:
        query = query.where(_filed_under(saksnummer))
    return session.execute(query).scalar_one()


def list_proposals(
    session: Session,
    kommunenummer: str | None,
    limit: int,
    offset: int,
    visible: Any = ALL,
    saksnummer: str | None = None,
) -> list[tuple[PlanProposalOrm, int]]:
    """Return a page of proposals (newest upload first) with their latest version number."""
    latest = (
        select(func.max(ProposalVersionOrm.version))
        .where(ProposalVersionOrm.proposal_id == PlanProposalOrm.id)
        .scalar_subquery()
    )
    query = (
        select(PlanProposalOrm, latest)
        .where(visible)
        .order_by(PlanProposalOrm.updated_at.desc(), PlanProposalOrm.id.desc())
    )
    if kommunenummer:
        query = query.where(PlanProposalOrm.kommunenummer == kommunenummer)
    if saksnummer:
        query = query.where(_filed_under(saksnummer))
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return [(row[0], row[1]) for row in rows]


def get_proposal(session: Session, proposal_id: str, visible: Any = ALL) -> PlanProposalOrm:
    """Return a proposal matching `visible` with its versions, or raise NotFoundError.

    One that exists but is not visible is not found alike: same query, same answer.
    """
    kommunenummer, planid = split_proposal_key(proposal_id)
    proposal = session.execute(
        select(PlanProposalOrm).where(
            PlanProposalOrm.kommunenummer == kommunenummer,
            PlanProposalOrm.planidentifikasjon == planid,
            visible,
        )
    ).scalar_one_or_none()
    if proposal is None:
        raise NotFoundError(
            Text(f"finner ikke planforslaget «{proposal_id}»", f"no proposal '{proposal_id}'")
        )
    return proposal


def get_version(
    session: Session, proposal_id: str, version: int, visible: Any = ALL
) -> ProposalVersionOrm:
    """Return one version of a proposal matching `visible`, or raise NotFoundError."""
    # The proposal first: whether it has this version is told only to those who may see it.
    proposal = get_proposal(session, proposal_id, visible)
    found = session.execute(
        select(ProposalVersionOrm).where(
            ProposalVersionOrm.proposal_id == proposal.id, ProposalVersionOrm.version == version
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(
            Text(
                f"planforslaget «{proposal_id}» har ingen versjon {version}",
                f"proposal '{proposal_id}' has no version {version}",
            )
        )
    return found


def version_features(
    session: Session, version: ProposalVersionOrm, srid: int
) -> list[dict[str, Any]]:
    """Return a version's areas as GeoJSON features in the given SRID."""
    codelists = get_codelists()
    purposes = codelists.arealformal(plan_level(version.plantype))
    rows = session.execute(
        select(PlanFeatureOrm, geometry_json(PlanFeatureOrm.geom, srid).label("geometry"))
        .where(PlanFeatureOrm.version_id == version.id)
        .order_by(PlanFeatureOrm.position)
    )
    features = []
    for feature, geometry in rows:
        features.append(
            {
                "type": "Feature",
                "id": feature.id,
                "properties": {
                    "kind": feature.kind,
                    "position": feature.position,
                    "source_id": feature.source_id,
                    "lokal_id": feature.lokal_id,
                    "key": feature.area_key,
                    "arealformal": feature.arealformal,
                    "arealformal_navn": purposes.get(feature.arealformal)
                    if feature.arealformal
                    else None,
                    "arealbruksstatus": feature.arealbruksstatus,
                    "feltnavn": feature.feltnavn,
                    "hensynssone": feature.hensynssone,
                    "hensynssone_beskrivelse": codelists.hensynssone.get(feature.hensynssone)
                    if feature.hensynssone
                    else None,
                    "hensynssone_navn": feature.hensynssone_navn,
                    "original_properties": feature.properties,
                },
                "geometry": geometry,
            }
        )
    return features


def area_counts(plan: PreparedPlan) -> dict[str, int]:
    """Count a prepared plan's areas per kind, as version_area_counts counts stored ones."""
    counts = {"planomrade": 0, "arealformal": 0, "hensynssone": 0}
    for area in plan.areas:
        counts[area.kind] += 1
    return counts


def version_area_counts(session: Session, version_id: int) -> dict[str, int]:
    """Count a version's stored areas per kind."""
    rows = session.execute(
        select(PlanFeatureOrm.kind, func.count())
        .where(PlanFeatureOrm.version_id == version_id)
        .group_by(PlanFeatureOrm.kind)
    )
    counts = {"planomrade": 0, "arealformal": 0, "hensynssone": 0}
    counts.update(dict(rows.all()))
    return counts
