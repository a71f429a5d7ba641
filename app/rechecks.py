"""Re-checking the current plans a new layer version touches, and reading the impact.

A re-check is a batch (`layer_recheck`) asked for when a layer version is loaded
(`?recheck=true`, `arealsjekk layers load --recheck`) or later
(`POST /api/v1/layers/{id}/versions/{v}/recheck`). Its job (`recheck_layer`, app/jobs.py)
does the work on a worker, so the request returns at once:

1. the changed part of the layer: for a vector layer every feature of the new version that
   the previous version does not hold identically (geometry vertex for vertex, attributes and
   source id) and every feature of the previous version the new one does not hold; for a
   raster layer the 512-cell blocks whose cells differ when both versions share a grid,
   otherwise both versions' extents;
2. the current proposal versions (the latest version of each proposal) that have been
   checked, and of which some stored area lies within the rules' reach of a changed feature
   (ST_DWithin on the GiST-indexed EPSG:25832 geometries; `layer_reach` below);
3. one queued check per such version, in one transaction with their jobs, each linked to
   the batch (`plan_check.recheck_id`).

A finished re-check is matched against the version's previous check (app.repositories.checks.
store_result), so the impact of the layer version is read from its findings: new and
resolved conflicts and warnings per plan.

Versions never checked are left alone: there is nothing to compare their findings with, and
whether to check them is their planner's call. A first version of a layer (nothing to
compare with) touches every checked current version: each had an «unknown» finding for the
missing layer.
"""

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.windows
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from app import jobs
from app.access import Principal, visible_proposals
from app.check_runner import get_rule_set
from app.db import get_sessionmaker
from app.errors import DATABASE_UNAVAILABLE, StateConflictError
from app.repositories import checks as checks_repo
from app.repositories import layers as layers_repo
from app.repositories.proposals import proposal_key
from app.settings import Settings
from db.models import (
    LayerRecheckOrm,
    LayerVersionOrm,
    PlanCheckOrm,
    PlanProposalOrm,
    ProposalVersionOrm,
)
from layers.loader import current_version
from layers.raster_files import raster_file_missing
from layers.registry import get_layer_config
from spatial.crs import CANONICAL_SRID
from spatial.messages import Text
from spatial.rules.g1_tree_line import TreeLineRule
from spatial.rules.g2_nature import NatureRecreationRule
from spatial.rules.g3_minerals import MineralsRule
from spatial.rules.g4_heritage import HERITAGE, HeritageRule
from spatial.rules.g5_mobility import MobilityMatrixRule
from spatial.rules.ruleset import RuleSet

logger = logging.getLogger(__name__)

PENDING = ("queued", "running")
# Cells compared at a time when both raster versions share a grid (the COGs' block size).
RASTER_BLOCK = 512


@dataclass(frozen=True)
class Reach:
    """How far from a plan area a rule looks into a layer.

    `metres`: features within this distance of an area can change its findings (inf: any
    feature anywhere, for rule classes this module does not know). `nearest`: the rule also
    measures each area's nearest feature, however far (G5's nearest public-transport hub).
    """

    metres: float
    nearest: bool = False

    def widen(self, other: "Reach") -> "Reach":
        """The reach of two rules reading one layer: the farther, nearest if either is."""
        return Reach(max(self.metres, other.metres), self.nearest or other.nearest)


OVERLAP = Reach(0.0)
EVERYWHERE = Reach(math.inf)


def rule_reach(rule: Any, layer_id: str) -> Reach:
    """How far one rule of the rule set looks from a plan area into one of its layers.

    Read from the rule's own parameters (layers/rules/*.yaml, spatial/rules/):
    G1 tree line, elevation and the adopted kommuneplan: the area itself (cells are weighted by
    the share the area covers; the transition zone is a height, not a distance). G2: overlaps
    and cut corridors. G3: `buffer_m` (100 m) around sterilising areas; the safeguarding check
    reads deposits inside the plan boundary, itself a stored area. G4: `buffer_m` (50 m) for
    protected sites, overlaps with the boundary for environments and heritage plans. G5:
    tettsteder by overlap; transport hubs by the nearest one, however far (`nearest`). A rule
    class not listed here is assumed to look everywhere, so no plan it might judge is missed.
    """
    if isinstance(rule, MineralsRule):
        return Reach(rule.buffer_m)
    if isinstance(rule, HeritageRule):
        return Reach(rule.buffer_m) if layer_id == HERITAGE else OVERLAP
    if isinstance(rule, MobilityMatrixRule):
        return Reach(0.0, nearest=True) if layer_id == "transport_hubs" else OVERLAP
    if isinstance(rule, (TreeLineRule, NatureRecreationRule)):
        return OVERLAP
    return EVERYWHERE


def layer_reach(rule_set: RuleSet, layer_id: str) -> Reach | None:
    """The largest reach of any rule reading the layer (None: no rule reads it)."""
    reach = None
    for rule in rule_set.rules:
        if layer_id in rule.layers:
            found = rule_reach(rule, layer_id)
            reach = found if reach is None else reach.widen(found)
    return reach


# --- asking for a re-check --------------------------------------------------------------


def _not_current(layer_id: str, asked: int, current: int) -> StateConflictError:
    return StateConflictError(
        Text(
            f"kartlaget «{layer_id}» versjon {asked} er ikke gjeldende versjon (det er versjon "
            f"{current}); planer kontrolleres alltid mot gjeldende versjoner, så bare versjon "
            f"{current} kan kontrolleres mot på nytt",
            f"layer '{layer_id}' version {asked} is not the current version ({current}); plans "
            f"are always checked against current versions, so only version {current} can be "
            "re-checked against",
        )
    )


def pending_recheck(session: Session, layer_id: str, version: int) -> LayerRecheckOrm | None:
    """The newest batch of this layer version still at work: waiting, selecting plans, or
    with checks that have not finished."""
    unfinished = (
        select(PlanCheckOrm.id)
        .where(PlanCheckOrm.recheck_id == LayerRecheckOrm.id, PlanCheckOrm.status.in_(PENDING))
        .exists()
    )
    return session.execute(
        select(LayerRecheckOrm)
        .where(
            LayerRecheckOrm.layer_id == layer_id,
            LayerRecheckOrm.layer_version == version,
            LayerRecheckOrm.status.in_(PENDING) | ((LayerRecheckOrm.status == "done") & unfinished),
        )
        .order_by(LayerRecheckOrm.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def request_recheck(
    session: Session, layer_id: str, version: int, requested_by: str
) -> tuple[LayerRecheckOrm, bool]:
    """Queue a re-check against a layer's current version, committed with its job; return the
    batch and whether it is new. A batch still at work or done is returned instead of a
    second: the impact compares each plan's check against this version with its check
    before it, which a second round would overwrite with "unchanged". Only after a failed
    batch is a new one made."""
    get_layer_config(layer_id)  # an unknown layer is a 404 naming it
    found = layers_repo.get_version(session, layer_id, version)
    # Requests for one layer take turns, so two at once make one batch.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"recheck:{layer_id}"))))
    current = current_version(session, layer_id)
    if current is not None and current.version != found.version:
        raise _not_current(layer_id, found.version, current.version)
    existing = pending_recheck(session, layer_id, found.version)
    if existing is None:
        done = latest_recheck(session, layer_id, found.version)
        existing = done if done is not None and done.status == "done" else None
    if existing is not None:
        session.commit()
        return existing, False
    previous = session.execute(
        select(func.max(LayerVersionOrm.version)).where(
            LayerVersionOrm.layer_id == layer_id, LayerVersionOrm.version < found.version
        )
    ).scalar_one()
    batch = LayerRecheckOrm(
        layer_version_id=found.id,
        layer_id=layer_id,
        layer_version=found.version,
        previous_version=previous,
        status="queued",
        requested_by=requested_by,
    )
    session.add(batch)
    session.flush()
    jobs.defer_recheck(session, batch.id)
    session.commit()
    return batch, True


# --- the batch's job --------------------------------------------------------------------


@dataclass(frozen=True)
class RecheckBatch:
    """What a batch found and queued."""

    recheck_id: int
    changed_features: int
    proposal_versions: list[int]
    check_ids: list[int]
    seconds: float


CHANGED_TABLE = "recheck_changed"

# Features one version holds and the other does not hold identically. `=` on geometries is
# PostGIS's exact equality (same vertices in the same order) and hashable, so with the
# attributes it makes a hash anti-join that reads each version once; `~=` (same bounding box)
# lets the (layer_version_id, geom) GiST index find the twin where a nested loop is cheaper.
CHANGED_VECTOR_FEATURES = f"""
INSERT INTO {CHANGED_TABLE} (geom)
SELECT n.geom FROM layer_feature n
WHERE n.layer_version_id = :new_id AND NOT EXISTS (
  SELECT 1 FROM layer_feature o
  WHERE o.layer_version_id = :old_id AND o.geom ~= n.geom AND o.geom = n.geom
    AND o.attributes = n.attributes AND o.source_fid IS NOT DISTINCT FROM n.source_fid)
UNION ALL
SELECT o.geom FROM layer_feature o
WHERE o.layer_version_id = :old_id AND NOT EXISTS (
  SELECT 1 FROM layer_feature n
  WHERE n.layer_version_id = :new_id AND n.geom ~= o.geom AND n.geom = o.geom
    AND n.attributes = o.attributes AND n.source_fid IS NOT DISTINCT FROM o.source_fid)
"""

# The current (latest) version of each proposal, if it has a finished check to compare with.
CANDIDATES = """
SELECT cur.id FROM (
  SELECT DISTINCT ON (v.proposal_id) v.id FROM proposal_version v
  ORDER BY v.proposal_id, v.version DESC
) cur
WHERE EXISTS (
  SELECT 1 FROM plan_check k WHERE k.proposal_version_id = cur.id AND k.status = 'done')
"""

# Candidates with a stored area (boundary, purpose or zone) within reach of a changed
# feature. The spatial join stands alone (MATERIALIZED), driven from the few changed features
# through the plan_feature GiST index, whatever the planner guesses about the candidates.
WITHIN_REACH = f"""
WITH reached AS MATERIALIZED (
  SELECT DISTINCT f.version_id
  FROM {CHANGED_TABLE} c
  JOIN plan_feature f ON ST_DWithin(f.geom, c.geom, :reach_m)
)
SELECT r.version_id FROM reached r WHERE r.version_id IN ({CANDIDATES})
"""

# Candidates with an area whose nearest feature of the previous version is no nearer than
# some changed feature (added, removed, moved or renamed): its nearest feature may change.
# The nearest is found by the index's distance ordering (KNN).
NEAREST_MAY_CHANGE = f"""
SELECT DISTINCT f.version_id
FROM plan_feature f
LEFT JOIN LATERAL (
  SELECT ST_Distance(o.geom, f.geom) AS d FROM layer_feature o
  WHERE o.layer_version_id = :old_id ORDER BY o.geom <-> f.geom LIMIT 1
) nearest ON true
WHERE f.version_id IN ({CANDIDATES})
  AND EXISTS (
    SELECT 1 FROM {CHANGED_TABLE} c
    WHERE nearest.d IS NULL OR ST_DWithin(f.geom, c.geom, nearest.d))
"""


def _changed_table(session: Session) -> None:
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {CHANGED_TABLE} "
            f"(geom geometry(Geometry, {CANONICAL_SRID})) ON COMMIT DROP"
        )
    )
    session.execute(text(f"TRUNCATE {CHANGED_TABLE}"))


def raster_changes(old_path: Path, new_path: Path) -> tuple[BaseGeometry, dict[str, Any]]:
    """The area where two raster versions differ: the blocks whose cells differ when both
    share a grid (size, transform, CRS, nodata), else both extents. Streams block by block."""
    with rasterio.open(old_path) as old, rasterio.open(new_path) as new:
        same_grid = (
            old.shape == new.shape
            and old.transform == new.transform
            and old.crs == new.crs
            and old.nodata == new.nodata
            and old.dtypes[0] == new.dtypes[0]
        )
        if not same_grid:
            extents = shapely.union(box(*old.bounds), box(*new.bounds))
            return extents, {"grid": "different", "cell_m": max(*old.res, *new.res)}
        floating = np.issubdtype(np.dtype(new.dtypes[0]), np.floating)
        changed, blocks = [], 0
        for row in range(0, new.height, RASTER_BLOCK):
            for col in range(0, new.width, RASTER_BLOCK):
                width = min(RASTER_BLOCK, new.width - col)
                height = min(RASTER_BLOCK, new.height - row)
                window = rasterio.windows.Window(col, row, width, height)
                blocks += 1
                a, b = old.read(1, window=window), new.read(1, window=window)
                if not np.array_equal(a, b, equal_nan=floating):
                    changed.append(box(*rasterio.windows.bounds(window, new.transform)))
        area = shapely.union_all(changed) if changed else shapely.Polygon()
        return area, {
            "grid": "same",
            "cell_m": max(new.res),
            "blocks": blocks,
            "changed_blocks": len(changed),
        }


def _fill_changed(
    session: Session, batch: LayerRecheckOrm, old: LayerVersionOrm | None, settings: Settings
) -> tuple[int, dict[str, Any], float]:
    """Put the changed features (or raster area) into the temp table; return their number,
    what to record about them, and how much to add to the rules' reach (a raster's cell)."""
    new = layers_repo.get_version(session, batch.layer_id, batch.layer_version)
    _changed_table(session)
    if old is None:
        return 0, {"first_version": True}, 0.0
    if new.raster_file is None:
        count = session.execute(
            text(CHANGED_VECTOR_FEATURES), {"new_id": new.id, "old_id": old.id}
        ).rowcount
        details: dict[str, Any] = {"changed_features": count}
        extra = 0.0
    else:
        for version in (old, new):
            if not (settings.raster_dir / version.raster_file).is_file():
                raise raster_file_missing(version.layer_id, version.version, version.raster_file)
        area, details = raster_changes(
            settings.raster_dir / old.raster_file, settings.raster_dir / new.raster_file
        )
        parts = [] if area.is_empty else list(shapely.get_parts(area))
        for part in parts:
            session.execute(
                text(f"INSERT INTO {CHANGED_TABLE} (geom) VALUES (ST_GeomFromWKB(:g, :srid))"),
                {"g": shapely.to_wkb(part), "srid": CANONICAL_SRID},
            )
        count = len(parts)
        # A cell an area only partly covers still counts (G1 weights cells by coverage).
        extra = float(details["cell_m"]) * math.sqrt(2)
    if count:
        session.execute(text(f"ANALYZE {CHANGED_TABLE}"))
        bounds = session.execute(
            text(
                f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                f"(SELECT ST_Extent(geom) e FROM {CHANGED_TABLE}) x"
            )
        ).one()
        details["changed_bounds"] = [round(float(v), 2) for v in bounds]
    return count, details, extra


def select_versions(session: Session, reach: Reach, old_id: int | None, changed: int) -> list[int]:
    """The candidate versions the changes in the temp table reach (all of them for a first
    version or an unknown rule)."""
    if old_id is None or math.isinf(reach.metres):
        return list(session.execute(text(CANDIDATES)).scalars())
    if not changed:
        return []
    found = set(session.execute(text(WITHIN_REACH), {"reach_m": reach.metres}).scalars())
    if reach.nearest:
        found |= set(session.execute(text(NEAREST_MAY_CHANGE), {"old_id": old_id}).scalars())
    return sorted(found)


def queue_checks(
    session: Session, batch: LayerRecheckOrm, version_ids: list[int], settings: Settings
) -> list[int]:
    """Record a queued check of each version, linked to the batch, with its job (the caller
    commits, so checks and jobs appear together or not at all)."""
    if not version_ids:
        return []
    rule_set = get_rule_set(settings)
    checks_repo.store_rule_set(session, rule_set)
    # A re-check belongs to the case its version was filed under.
    cases = {
        row.id: row
        for row in session.execute(
            select(
                ProposalVersionOrm.id,
                ProposalVersionOrm.saksnummer,
                ProposalVersionOrm.journalpost_id,
            ).where(ProposalVersionOrm.id.in_(version_ids))
        )
    }
    rows = [
        {
            "proposal_version_id": version_id,
            "status": "queued",
            "rule_set_id": rule_set.id,
            "rule_set_version": rule_set.version,
            "rule_set_checksum": rule_set.checksum,
            "recheck_id": batch.id,
            "saksnummer": cases[version_id].saksnummer,
            "journalpost_id": cases[version_id].journalpost_id,
        }
        for version_id in version_ids
    ]
    ids = list(session.execute(insert(PlanCheckOrm).returning(PlanCheckOrm.id), rows).scalars())
    for check_id in ids:
        jobs.defer_check(session, check_id)
    return ids


def queue_rechecks(session: Session, batch: LayerRecheckOrm, settings: Settings) -> RecheckBatch:
    """Find what changed, select the versions it reaches and queue their checks; the batch
    is marked done in the same transaction (the caller commits)."""
    started = time.perf_counter()
    reach = layer_reach(get_rule_set(settings), batch.layer_id)
    old = (
        None
        if batch.previous_version is None
        else layers_repo.get_version(session, batch.layer_id, batch.previous_version)
    )
    if reach is None:
        count, details, extra, versions = 0, {"no_rule_reads_layer": True}, 0.0, []
    else:
        count, details, extra = _fill_changed(session, batch, old, settings)
        reach = Reach(reach.metres + extra, reach.nearest)
        versions = select_versions(session, reach, None if old is None else old.id, count)
    check_ids = queue_checks(session, batch, versions, settings)
    if reach is not None:
        details["nearest"] = reach.nearest
    batch.reach_m = None if reach is None or math.isinf(reach.metres) else reach.metres
    batch.proposal_versions = len(versions)
    batch.details = details
    batch.status = "done"
    batch.finished_at = func.clock_timestamp()
    seconds = time.perf_counter() - started
    return RecheckBatch(batch.id, count, versions, check_ids, seconds)


def run_recheck(recheck_id: int, settings: Settings) -> RecheckBatch | None:
    """Run a queued batch in its own session: its checks are queued all at once or not at
    all; a failure is recorded on the batch. One process at a time runs a batch."""
    with (
        jobs.exclusively(jobs.RECHECK_LOCK, recheck_id) as connection,
        get_sessionmaker()(bind=connection) as session,
    ):
        batch = session.get(LayerRecheckOrm, recheck_id)
        if batch is None or batch.status in ("done", "failed"):
            return None  # its layer version was deleted, or a job run again at the very end
        batch.status = "running"
        batch.started_at = func.clock_timestamp()
        session.commit()
        try:
            result = queue_rechecks(session, batch, settings)
            session.commit()
            logger.info(
                "re-check %s of %s v%s: %d changed, %d checks queued in %.2f s",
                recheck_id,
                batch.layer_id,
                batch.layer_version,
                result.changed_features,
                len(result.check_ids),
                result.seconds,
            )
            return result
        except DATABASE_UNAVAILABLE:
            session.rollback()
            raise
        except Exception as exc:
            session.rollback()
            logger.exception("re-check %s failed", recheck_id)
            jobs.record_failure(session.get(LayerRecheckOrm, recheck_id), exc)
            session.commit()
            return None


# --- the impact -------------------------------------------------------------------------

# Per re-check: findings that became a conflict or warning (new, or changed from another
# severity), findings that were one and are another now, and findings changed at all.
MOVED = """
SELECT n.check_id,
  count(*) FILTER (WHERE n.severity = 'conflict'
                   AND (p.id IS NULL OR p.severity <> 'conflict')) AS new_conflicts,
  count(*) FILTER (WHERE p.severity = 'conflict' AND n.severity <> 'conflict') AS left_conflicts,
  count(*) FILTER (WHERE n.severity = 'warning'
                   AND (p.id IS NULL OR p.severity <> 'warning')) AS new_warnings,
  count(*) FILTER (WHERE p.severity = 'warning' AND n.severity <> 'warning') AS left_warnings,
  count(*) FILTER (WHERE n.comparison IN ('new', 'changed')) AS changed
FROM check_finding n
LEFT JOIN check_finding p ON p.id = n.previous_finding_id
WHERE n.check_id = ANY(:ids)
GROUP BY n.check_id
"""

# Per re-check: the previous check's findings no finding continues (resolved).
RESOLVED = """
SELECT c.id AS check_id,
  count(*) FILTER (WHERE o.severity = 'conflict') AS conflicts,
  count(*) FILTER (WHERE o.severity = 'warning') AS warnings,
  count(*) AS findings
FROM plan_check c
JOIN check_finding o ON o.check_id = c.previous_check_id
WHERE c.id = ANY(:ids) AND NOT EXISTS (
  SELECT 1 FROM check_finding n WHERE n.check_id = c.id AND n.previous_finding_id = o.id)
GROUP BY c.id
"""

COUNT_NAMES = ("new_conflicts", "resolved_conflicts", "new_warnings", "resolved_warnings")


def latest_recheck(session: Session, layer_id: str, version: int) -> LayerRecheckOrm | None:
    """The newest batch made against a layer version."""
    return session.execute(
        select(LayerRecheckOrm)
        .where(LayerRecheckOrm.layer_id == layer_id, LayerRecheckOrm.layer_version == version)
        .order_by(LayerRecheckOrm.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _finding_counts(session: Session, check_ids: list[int]) -> dict[int, dict[str, int]]:
    counts = {i: dict.fromkeys((*COUNT_NAMES, "changed_findings"), 0) for i in check_ids}
    if not check_ids:
        return counts
    for row in session.execute(text(MOVED), {"ids": check_ids}):
        entry = counts[row.check_id]
        entry["new_conflicts"] += row.new_conflicts
        entry["resolved_conflicts"] += row.left_conflicts
        entry["new_warnings"] += row.new_warnings
        entry["resolved_warnings"] += row.left_warnings
        entry["changed_findings"] += row.changed
    for row in session.execute(text(RESOLVED), {"ids": check_ids}):
        entry = counts[row.check_id]
        entry["resolved_conflicts"] += row.conflicts
        entry["resolved_warnings"] += row.warnings
        entry["changed_findings"] += row.findings
    return counts


def impact(
    session: Session, layer_id: str, version: int, principal: Principal | None
) -> dict[str, Any]:
    """The plans whose findings changed in the newest re-check against a layer version, with
    totals; only proposals the caller may see (drafts of other municipalities are left out
    of the list and the totals alike)."""
    get_layer_config(layer_id)
    found = layers_repo.get_version(session, layer_id, version)
    batch = latest_recheck(session, layer_id, found.version)
    totals = dict.fromkeys(
        ("rechecks", "queued", "running", "done", "failed", "changed", "unchanged", *COUNT_NAMES),
        0,
    )
    plans: list[dict[str, Any]] = []
    if batch is not None:
        rows = session.execute(
            select(PlanCheckOrm, ProposalVersionOrm.version, PlanProposalOrm)
            .join(ProposalVersionOrm, ProposalVersionOrm.id == PlanCheckOrm.proposal_version_id)
            .join(PlanProposalOrm, PlanProposalOrm.id == ProposalVersionOrm.proposal_id)
            .where(PlanCheckOrm.recheck_id == batch.id, visible_proposals(principal))
            .order_by(PlanProposalOrm.kommunenummer, PlanProposalOrm.planidentifikasjon)
        ).all()
        done = [check.id for check, _, _ in rows if check.status == "done"]
        counts = _finding_counts(session, done)
        for check, number, proposal in rows:
            totals["rechecks"] += 1
            totals[check.status] += 1
            entry_counts = counts.get(check.id)
            changed = entry_counts is not None and entry_counts["changed_findings"] > 0
            if entry_counts is not None:
                totals["changed" if changed else "unchanged"] += 1
                for name in COUNT_NAMES:
                    totals[name] += entry_counts[name]
            if check.status == "done" and not changed:
                continue  # the impact lists what changed, and what is not known yet
            key = proposal_key(proposal.kommunenummer, proposal.planidentifikasjon)
            plans.append(
                {
                    "proposal_id": key,
                    "kommunenummer": proposal.kommunenummer,
                    "version": number,
                    "check_id": check.id,
                    "status": check.status,
                    "previous_check_id": check.previous_check_id,
                    "findings_changed": changed if check.status == "done" else None,
                    "counts": entry_counts,
                    "links": [
                        {"href": f"/api/v1/checks/{check.id}", "rel": "check"},
                        {
                            "href": f"/api/v1/proposals/{key}/versions/{number}",
                            "rel": "proposal-version",
                        },
                    ],
                }
            )
    return {"version": found, "recheck": batch, "totals": totals, "plans": plans}
