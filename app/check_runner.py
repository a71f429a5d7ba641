"""Running checks: the plan to check, the rule set, storing results, and background jobs."""

import logging
import time
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import jobs
from app.db import get_sessionmaker
from app.errors import DATABASE_UNAVAILABLE
from app.metrics import observe_check
from app.repositories import checks as repo
from app.repositories.land_accounts import cabin_capacity
from app.settings import Settings
from app.webhooks import enqueue_check_completed
from db.models import MunicipalityOrm, PlanCheckOrm, PlanFeatureOrm, ProposalVersionOrm
from layers.ruleset import configured_rule_set
from layers.source import PostgisLayerSource
from spatial.crs import from_canonical
from spatial.errors import NotFoundError
from spatial.messages import Text
from spatial.plan_model import PlanArea, PlanMetadata, PreparedPlan, area_name
from spatial.rules.engine import CheckResult, run_rules
from spatial.rules.model import CheckFeature, CheckPlan, Finding, MunicipalityInfo
from spatial.rules.ruleset import RuleSet, RuleSetError, parse_rule_set

logger = logging.getLogger(__name__)

# How long a check run in the request may take before a worker takes over its job.
SAFETY_NET_S = 60.0


def get_rule_set(settings: Settings) -> RuleSet:
    """Return the configured rule set (the shipped Buskerudplanen 2026 set by default)."""
    return configured_rule_set(settings.rule_set_file)


def _check_feature(
    feature_id: int, area: PlanFeatureOrm | PlanArea, geometry: BaseGeometry
) -> CheckFeature:
    """One plan area as the rules see it, from a stored row or an area of an unstored upload."""
    return CheckFeature(
        id=feature_id,
        key=area.area_key if isinstance(area, PlanFeatureOrm) else area.key,
        name=area_name(area.feltnavn, area.source_id, area.position),
        kind=area.kind,
        geometry=geometry,
        arealformal=area.arealformal,
        arealbruksstatus=area.arealbruksstatus,
        hensynssone=area.hensynssone,
        properties=area.properties,
    )


def municipality_info(
    session: Session, kommunenummer: str, with_cabin_capacity: bool = False
) -> MunicipalityInfo:
    """Return a municipality's name, centrality class and boundary (and, for a check, the
    remaining capacity of its adopted cabin areas from its latest land account)."""
    row = session.get(MunicipalityOrm, kommunenummer)
    if row is None:
        raise NotFoundError(
            Text(
                f"ingen kommune i Buskerud har kommunenummer «{kommunenummer}»",
                f"no Buskerud municipality '{kommunenummer}'",
            )
        )
    capacity = cabin_capacity(session, kommunenummer) if with_cabin_capacity else None
    return MunicipalityInfo(
        row.kommunenummer, row.name, row.centrality_class, to_shape(row.geom), capacity
    )


def plan_from_version(session: Session, version: ProposalVersionOrm) -> CheckPlan:
    """Build the plan to check from a stored proposal version."""
    proposal = version.proposal
    rows = session.execute(
        select(PlanFeatureOrm)
        .where(PlanFeatureOrm.version_id == version.id)
        .order_by(PlanFeatureOrm.position)
    ).scalars()
    features = tuple(_check_feature(row.id, row, to_shape(row.geom)) for row in rows)
    metadata = PlanMetadata(
        proposal.kommunenummer,
        proposal.planidentifikasjon,
        version.plantype,
        version.planstatus,
        version.plannavn,
    )
    municipality = municipality_info(session, proposal.kommunenummer, with_cabin_capacity=True)
    return CheckPlan(metadata, features, municipality)


def plan_from_prepared(session: Session, plan: PreparedPlan) -> CheckPlan:
    """Build the plan to check from an upload that is not stored (ids are positions)."""
    features = tuple(_check_feature(area.position, area, area.geometry) for area in plan.areas)
    municipality = municipality_info(session, plan.metadata.kommunenummer, with_cabin_capacity=True)
    return CheckPlan(plan.metadata, features, municipality)


class RuleSetUnavailableError(RuleSetError):
    """The rule set a check recorded cannot be run any more: the check fails rather than run
    other rules under that rule set's name."""


def evaluate(
    session: Session,
    plan: CheckPlan,
    settings: Settings,
    pinned_layer_versions: dict[str, int] | None = None,
    rule_set: RuleSet | None = None,
) -> CheckResult:
    """Run a rule set (by default the configured one) over a plan against the current (or
    pinned) layer versions."""
    source = PostgisLayerSource(session, settings.raster_dir, pinned_layer_versions)
    return run_rules(rule_set or get_rule_set(settings), plan, source)


def create_check(
    session: Session,
    version: ProposalVersionOrm,
    settings: Settings,
    pinned_layer_versions: dict[str, int] | None = None,
    background: bool = False,
    saksnummer: str | None = None,
    journalpost_id: str | None = None,
) -> PlanCheckOrm:
    """Record a queued check of a version with the rule set it is to run, committed with
    its job (run by `arealsjekk worker` at once when `background`, else only as a safety net
    for the caller, which runs it and then calls `finished_in_request`). The check is filed
    under the case reference given (either part), else the version's."""
    rule_set = get_rule_set(settings)
    repo.store_rule_set(session, rule_set)
    check = PlanCheckOrm(
        proposal_version_id=version.id,
        status="queued",
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        rule_set_checksum=rule_set.checksum,
        requested_layer_versions=pinned_layer_versions,
        # A pair: a check that names either is filed under what it names, never under its
        # own saksnummer with the version's journalpost.
        **(
            {"saksnummer": saksnummer, "journalpost_id": journalpost_id}
            if saksnummer or journalpost_id
            else {"saksnummer": version.saksnummer, "journalpost_id": version.journalpost_id}
        ),
    )
    session.add(check)
    session.flush()
    # A check run by the caller (a small plan, in the request) has a job too, starting later:
    # if the process dies mid-check, a worker runs it; when it finishes, the job is cancelled.
    jobs.defer_check(session, check.id, None if background else SAFETY_NET_S)
    session.commit()
    return check


def check_rule_set(session: Session, check: PlanCheckOrm, settings: Settings) -> RuleSet:
    """Return the rule set a check recorded, parsed from its stored text.

    A check made before rule sets were stored (migration 0008) runs the configured rule set
    only if it is the one the check recorded.
    """
    name = f"{check.rule_set_id} {check.rule_set_version}"
    text = repo.rule_set_text(session, check.rule_set_checksum)
    if text is None:
        configured = get_rule_set(settings)
        if configured.checksum == check.rule_set_checksum:
            return configured
        raise RuleSetUnavailableError(
            f"the rule set this check recorded ({name}, checksum {check.rule_set_checksum}) "
            f"is not stored, and the configured one ({configured.id} {configured.version}, "
            f"checksum {configured.checksum}) is another; run a new check"
        )
    try:
        return _parsed_rule_set(text, name)
    except RuleSetError as exc:
        raise RuleSetUnavailableError(
            f"the rule set this check recorded can no longer be run: {exc.detail}; run a new check"
        ) from None


@lru_cache(maxsize=16)
def _parsed_rule_set(text: str, name: str) -> RuleSet:
    # Checks mostly share a few rule sets: each text is parsed once per process.
    return parse_rule_set(text, name)


def execute_check(check_id: int, settings: Settings) -> None:
    """Run a queued check in its own session with the rule set it recorded; findings are
    stored all at once or not at all. One process at a time runs a check (jobs.exclusively):
    a second one, e.g. a retry while a stopping worker still finishes it, waits its turn."""
    with (
        jobs.exclusively(jobs.CHECK_LOCK, check_id) as connection,
        get_sessionmaker()(bind=connection) as session,
    ):
        check = repo.get_check(session, check_id)
        if check.status in ("done", "failed"):
            return  # a job run again after its worker stopped at the very end
        check.status = "running"
        check.started_at = func.clock_timestamp()
        session.commit()
        try:
            rule_set = check_rule_set(session, check, settings)
            plan = plan_from_version(session, check.version)
            started = time.perf_counter()
            result = evaluate(session, plan, settings, check.requested_layer_versions, rule_set)
            seconds = time.perf_counter() - started
            repo.store_result(session, check, result)
            # Queued in the same transaction: a finished check always has its events.
            if enqueue_check_completed(session, check):
                jobs.defer_webhook_round(session)
            session.commit()
            observe_check(result.timings_ms, seconds)
        except DATABASE_UNAVAILABLE:
            # Not the check's fault: the job is tried again (app.jobs.JOB_RETRY).
            session.rollback()
            raise
        except Exception as exc:
            session.rollback()
            logger.exception("check %s failed", check_id)
            check = repo.get_check(session, check_id)
            jobs.record_failure(check, exc)
            # A case system waiting for the check hears that it failed, too.
            if enqueue_check_completed(session, check):
                jobs.defer_webhook_round(session)
            session.commit()


def finished_in_request(session: Session, check_id: int) -> None:
    """Cancel the safety-net job of a check the request ran itself (create_check)."""
    jobs.cancel_check_job(session, check_id)
    session.commit()


def finding_feature(finding: Finding, srid: int) -> dict[str, Any]:
    """Return an unstored finding as a GeoJSON feature in the given SRID."""
    geometry = None
    if finding.geometry is not None:
        # ~1 cm either way, as the stored findings' GeoJSON (app.repositories.geojson).
        digits = 7 if srid == 4326 else 2
        projected = from_canonical(finding.geometry, srid)
        geometry = shapely.transform(projected, lambda xy: np.round(xy, digits)).__geo_interface__
    return repo.finding_geojson(finding.record(), geometry)
