"""The land account per municipality: computed from the adopted kommuneplan, the building
points and the rule engine (spatial.land_account), stored with what it used, and read back
as figures, reserves and the indicator's series."""

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from app.check_runner import get_rule_set, municipality_info
from app.db import get_sessionmaker
from app.errors import DATABASE_UNAVAILABLE
from app.reports.formatting import OSLO
from app.repositories.checks import store_rule_set
from app.settings import Settings
from db.models import (
    LandAccountAreaOrm,
    LandAccountFindingOrm,
    LandAccountOrm,
    MunicipalityOrm,
)
from layers.ruleset import configured_land_account_method
from layers.source import PostgisLayerSource
from spatial.codelists import get_codelists
from spatial.crs import CANONICAL_SRID
from spatial.errors import ArealsjekkError, NotFoundError
from spatial.figures import fmt_m2
from spatial.land_account import (
    ADOPTED_LAYER,
    BUILDINGS_LAYER,
    LandAccountMethod,
    MeasuredArea,
    ReserveOutcome,
    adopted_areas,
    check_reserves,
    measure_areas,
    overlapping_m2,
    reserve_label,
)
from spatial.messages import Text
from spatial.rules.model import LayerSource, MunicipalityInfo
from spatial.rules.ruleset import RuleSet

logger = logging.getLogger(__name__)


class LandAccountUnavailableError(ArealsjekkError):
    """The land account cannot be computed: the adopted kommuneplaner are not loaded."""


def get_method(settings: Settings) -> LandAccountMethod:
    """Return the configured land-account method (the shipped one by default)."""
    return configured_land_account_method(settings.land_account_method_file)


def layers_read(method: LandAccountMethod, rule_set: RuleSet) -> set[str]:
    """The layers a land account reads: the adopted plans, the buildings and the rules' layers."""
    rules = [rule for rule in rule_set.rules if rule.id in method.params.rules]
    return {ADOPTED_LAYER, BUILDINGS_LAYER} | {layer for rule in rules for layer in rule.layers}


def compute_land_accounts(
    settings: Settings,
    kommunenummer: str | None = None,
    trigger: str = "cli",
    only_missing: bool = False,
    only_stale: bool = False,
) -> list[int]:
    """Compute and store the land account of one municipality (or all; with `only_missing`
    those without one, with `only_stale` those whose latest account read other layer versions,
    method or rule set), one transaction each, all against the same layer versions; return
    the accounts' ids. One municipality that fails does not stop the others: the error names
    them after the rest are stored (LandAccountFailedError)."""
    method = get_method(settings)
    rule_set = get_rule_set(settings)
    with get_sessionmaker()() as session:
        if kommunenummer is None:
            numbers = session.scalars(
                select(MunicipalityOrm.kommunenummer).order_by(MunicipalityOrm.kommunenummer)
            ).all()
        else:
            numbers = [municipality_info(session, kommunenummer).kommunenummer]
        if only_missing:
            done = set(session.scalars(select(LandAccountOrm.kommunenummer).distinct()))
            numbers = [number for number in numbers if number not in done]
            if not numbers:
                return []
        source = PostgisLayerSource(session, settings.raster_dir)
        if source.version(ADOPTED_LAYER) is None:
            raise LandAccountUnavailableError(
                Text(
                    "arealregnskapet kan ikke beregnes: kartlaget «existing_kommuneplan» "
                    "(gjeldende kommuneplaner) er ikke lastet inn",
                    "the land account needs the layer 'existing_kommuneplan' (the adopted "
                    "kommuneplaner), which is not loaded",
                )
            )
        # Every municipality of one run reads the same versions, even if a load lands meanwhile.
        pinned = {layer: source.version(layer) for layer in layers_read(method, rule_set)}
        if only_stale:
            latest = {a.kommunenummer: a for a in latest_accounts(session)}
            numbers = [
                number
                for number in numbers
                if number in latest and is_stale(latest[number], pinned, method, rule_set)
            ]
        source = PostgisLayerSource(
            session, settings.raster_dir, {k: v for k, v in pinned.items() if v is not None}
        )
        store_rule_set(session, rule_set)
        session.commit()
        ids, failed = [], []
        for number in numbers:
            try:
                account = compute_account(
                    session, source, rule_set, method, municipality_info(session, number), trigger
                )
                session.commit()
                ids.append(account.id)
            except DATABASE_UNAVAILABLE:
                raise  # not the municipality's fault: the job is tried again
            except Exception as exc:
                session.rollback()
                logger.exception("the land account of %s failed", number)
                failed.append((number, exc))
        if failed:
            raise LandAccountFailedError(failed, ids)
        return ids


def is_stale(
    account: LandAccountOrm,
    current: dict[str, int | None],
    method: LandAccountMethod,
    rule_set: RuleSet,
) -> bool:
    """Whether an account read other layer versions, or another method or rule set, than a
    computation now would."""
    if (account.method_checksum, account.rule_set_checksum) != (method.checksum, rule_set.checksum):
        return True
    used = account.layer_versions
    return any(used.get(layer) != version for layer, version in current.items())


class LandAccountFailedError(ArealsjekkError):
    """The land account of some municipalities could not be computed (the others are stored)."""

    def __init__(self, failed: list[tuple[str, Exception]], computed: list[int]):
        self.computed = computed
        reasons = "; ".join(f"{number}: {_reason(exc)}" for number, exc in failed)
        numbers = ", ".join(number for number, _ in failed)
        super().__init__(
            Text(
                f"arealregnskapet kunne ikke beregnes for kommune {numbers} ({reasons})",
                f"the land account of municipality {numbers} could not be computed ({reasons})",
            )
        )


def _reason(exc: Exception) -> str:
    # A domain error's own words; any other may hold SQL or paths: the log has it.
    return str(exc.detail) if isinstance(exc, ArealsjekkError) else "intern feil, se loggen"


def compute_account(
    session: Session,
    layers: LayerSource,
    rule_set: RuleSet,
    method: LandAccountMethod,
    municipality: MunicipalityInfo,
    trigger: str,
) -> LandAccountOrm:
    """Measure a municipality's adopted areas, check the reserves and store it all (the caller
    commits)."""
    features = layers.features(ADOPTED_LAYER, municipality.geometry)
    areas = adopted_areas(method, features, municipality)
    notes = []
    buildings = None
    if layers.version(BUILDINGS_LAYER) is None:
        notes.append(
            "Kartlaget «buildings» (bygningspunkt) er ikke lastet inn: ingen del av områdene er "
            "regnet som bebygd, og reservene er hele områdene."
        )
    elif areas:
        bounds = shapely.box(*shapely.total_bounds([a.geometry for a in areas]))
        buildings = layers.features(
            BUILDINGS_LAYER, bounds.buffer(method.params.built_buffer_m, join_style="mitre")
        )
    if not areas:
        notes.append(
            f"Kartlaget «existing_kommuneplan» har ingen områder for utbygging i "
            f"{municipality.name}."
        )
    doubled = overlapping_m2(areas)
    if doubled >= 1.0:
        notes.append(
            f"{fmt_m2(doubled)} av områdene i kartlaget «existing_kommuneplan» ligger over "
            "hverandre (flere planer eller plangenerasjoner over samme areal) og telles der to "
            "ganger; last inn bare de gjeldende områdene."
        )
    measured = measure_areas(method, areas, buildings)
    reserves = [m for m in measured if m.is_reserve]
    result, outcomes = check_reserves(rule_set, method, municipality, reserves, layers)
    layer_versions = {
        **result.layer_versions,
        ADOPTED_LAYER: layers.version(ADOPTED_LAYER),
        BUILDINGS_LAYER: layers.version(BUILDINGS_LAYER),
    }
    account = LandAccountOrm(
        kommunenummer=municipality.kommunenummer,
        trigger=trigger,
        method_id=method.id,
        method_version=method.version,
        method_checksum=method.checksum,
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        rule_set_checksum=rule_set.checksum,
        layer_versions=layer_versions,
        totals=account_totals(method, rule_set, measured, outcomes),
        notes=notes,
    )
    session.add(account)
    session.flush()
    _store_areas(session, account, measured, sorted(outcomes, key=weight))
    return account


def weight(outcome: ReserveOutcome) -> tuple[float, float]:
    """The planvask's order (stored as the areas' positions, so that every list and number
    agrees): the area in conflict with any guideline, then the largest area to adapt under
    one guideline, heaviest first."""
    warning = max((o.warning.area for o in outcome.rules.values()), default=0.0)
    return (-round(outcome.conflict.area, 1), -round(warning, 1))


def _store_areas(
    session: Session,
    account: LandAccountOrm,
    measured: list[MeasuredArea],
    outcomes: list[ReserveOutcome],
) -> None:
    """Write the measured areas (reserves first, in the given order) and their findings."""
    of_reserve = {id(o.reserve): o for o in outcomes}
    ordered = [o.reserve for o in outcomes] + [m for m in measured if not m.is_reserve]
    rows = []
    for position, area in enumerate(ordered):
        outcome = of_reserve.get(id(area))
        rows.append(
            {
                "account_id": account.id,
                "position": position,
                "feature_key": area.area.feature.key,
                "name": reserve_label(area.area),
                "planidentifikasjon": area.area.planidentifikasjon,
                "arealformal": area.area.arealformal,
                "arealbruksstatus": area.area.arealbruksstatus,
                "purpose_group": area.area.group,
                "is_reserve": area.is_reserve,
                "area_m2": round(area.area_m2, 1),
                "built_m2": round(area.built_m2, 1),
                "unbuilt_m2": round(area.unbuilt_m2, 1),
                "building_count": area.building_count,
                "lots": area.lots,
                "conflicts": {}
                if outcome is None
                else {rule: _rounded(o.figures()) for rule, o in outcome.rules.items()},
                "conflict_m2": 0.0 if outcome is None else round(outcome.conflict.area, 1),
                # The reserves' geometry is what maps and GeoJSON show; the other areas are
                # kept as figures (their outlines are the adopted plan's).
                "geom": None
                if area.unbuilt.is_empty or not area.is_reserve
                else from_shape(_multi(area.unbuilt), CANONICAL_SRID),
            }
        )
    if not rows:
        return
    ids = session.scalars(insert(LandAccountAreaOrm).returning(LandAccountAreaOrm.id), rows).all()
    findings = []
    for area_id, outcome in zip(ids, outcomes, strict=False):
        reserve = outcome.reserve.unbuilt
        for rule_outcome in outcome.rules.values():
            for finding in rule_outcome.findings:
                record = finding.record()
                concerned = _concerned(finding.geometry, reserve)
                findings.append(
                    {
                        "account_id": account.id,
                        "area_id": area_id,
                        **{
                            name: record[name]
                            for name in (
                                "rule_id",
                                "check",
                                "paragraph",
                                "severity",
                                "layer_refs",
                                "measures",
                                "message",
                                "suggested_action",
                                "fingerprint",
                            )
                        },
                        "area_m2": round(concerned, 1),
                        "geom": None
                        if finding.geometry is None or finding.geometry.is_empty
                        else from_shape(finding.geometry, CANONICAL_SRID),
                    }
                )
    if findings:
        session.execute(insert(LandAccountFindingOrm), findings)


def _concerned(geometry, reserve) -> float:
    """The area of the reserve a finding's geometry covers (0 for lines or none)."""
    if geometry is None or geometry.is_empty:
        return 0.0
    return shapely.intersection(geometry, reserve).area


def _multi(geometry):
    if geometry.geom_type == "Polygon":
        return shapely.MultiPolygon([geometry])
    return geometry


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 1) for name, value in figures.items()}


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


def account_totals(
    method: LandAccountMethod,
    rule_set: RuleSet,
    measured: list[MeasuredArea],
    outcomes: list[ReserveOutcome],
) -> dict[str, Any]:
    """The account's figures: reserves and conflicts per arealformål group and per guideline,
    and the remaining capacity of the cabin areas."""
    rules = [rule for rule in rule_set.rules if rule.id in method.params.rules]
    empty_rules = {
        rule.id: {"conflict_m2": 0.0, "warning_m2": 0.0, "unknown_m2": 0.0} for rule in rules
    }

    def group_entry(label: str) -> dict[str, Any]:
        return {
            "label": label,
            "area_m2": 0.0,
            "built_m2": 0.0,
            "reserve_m2": 0.0,
            "reserve_count": 0,
            "conflict_m2": 0.0,
            "reserves_in_conflict": 0,
            "rules": {rule: dict(figures) for rule, figures in empty_rules.items()},
        }

    groups = {name: group_entry(group.label) for name, group in method.groups.items()}
    for area in measured:
        if area.area.arealbruksstatus in method.params.reserve_status:
            entry = groups[area.area.group]
            entry["area_m2"] += area.area_m2
            entry["built_m2"] += area.built_m2
    for outcome in outcomes:
        entry = groups[outcome.reserve.area.group]
        entry["reserve_m2"] += outcome.reserve.unbuilt_m2
        entry["reserve_count"] += 1
        conflict = outcome.conflict.area
        entry["conflict_m2"] += conflict
        entry["reserves_in_conflict"] += conflict > 0
        for rule_id, rule_outcome in outcome.rules.items():
            for name, value in rule_outcome.figures().items():
                entry["rules"][rule_id][name] += value
    totals: dict[str, Any] = {
        "area_m2": sum(g["area_m2"] for g in groups.values()),
        "built_m2": sum(g["built_m2"] for g in groups.values()),
        "reserve_m2": sum(g["reserve_m2"] for g in groups.values()),
        "reserve_count": sum(g["reserve_count"] for g in groups.values()),
        "conflict_m2": sum(g["conflict_m2"] for g in groups.values()),
        "reserves_in_conflict": sum(g["reserves_in_conflict"] for g in groups.values()),
    }
    totals["conflict_share_pct"] = _pct(totals["conflict_m2"], totals["reserve_m2"])
    by_rule = {}
    for rule in rules:
        figures = {
            name: sum(g["rules"][rule.id][name] for g in groups.values())
            for name in ("conflict_m2", "warning_m2", "unknown_m2")
        }
        by_rule[rule.id] = {
            "title": rule.title,
            "paragraph": rule.paragraph,
            **{name: round(value, 1) for name, value in figures.items()},
            "conflict_share_pct": _pct(figures["conflict_m2"], totals["reserve_m2"]),
            "reserves_in_conflict": sum(
                1 for o in outcomes if rule.id in o.rules and o.rules[rule.id].conflict.area > 0
            ),
        }
    for entry in groups.values():
        entry["conflict_share_pct"] = _pct(entry["conflict_m2"], entry["reserve_m2"])
        for key in ("area_m2", "built_m2", "reserve_m2", "conflict_m2"):
            entry[key] = round(entry[key], 1)
        entry["rules"] = {r: _rounded(f) for r, f in entry["rules"].items()}
    for key in ("area_m2", "built_m2", "reserve_m2", "conflict_m2"):
        totals[key] = round(totals[key], 1)
    totals["by_group"] = groups
    totals["by_rule"] = by_rule
    totals["cabin_capacity"] = cabin_capacity_totals(method, measured)
    return totals


def cabin_capacity_totals(
    method: LandAccountMethod, measured: list[MeasuredArea]
) -> dict[str, Any]:
    """The adopted cabin areas' unbuilt share and estimated remaining lots (§6.2.4)."""
    cabins = [m for m in measured if m.lots is not None]
    area = sum(m.area_m2 for m in cabins)
    unbuilt = sum(m.unbuilt_m2 for m in cabins)
    by_status: dict[str, dict[str, float]] = defaultdict(
        lambda: {"area_m2": 0.0, "unbuilt_m2": 0.0, "lots": 0}
    )
    for m in cabins:
        entry = by_status[str(m.area.arealbruksstatus)]
        entry["area_m2"] += m.area_m2
        entry["unbuilt_m2"] += m.unbuilt_m2
        entry["lots"] += m.lots or 0
    return {
        "areas": len(cabins),
        "area_m2": round(area, 1),
        "unbuilt_m2": round(unbuilt, 1),
        "unbuilt_share_pct": _pct(unbuilt, area),
        "lots": sum(m.lots or 0 for m in cabins),
        "buildings": sum(m.building_count for m in cabins),
        "lot_size_m2": method.params.lot_size_m2,
        "by_status": {
            status: {k: round(v, 1) if isinstance(v, float) else v for k, v in entry.items()}
            for status, entry in sorted(by_status.items())
        },
    }


# --- reading -----------------------------------------------------------------------------


def reserve_properties(area: LandAccountAreaOrm) -> dict[str, Any]:
    """A stored reserve's figures as the GeoJSON, CSV and XLSX give them."""
    return {
        "name": area.name,
        "planidentifikasjon": area.planidentifikasjon,
        "arealformal": area.arealformal,
        "arealformal_name": get_codelists().kp_arealformal.get(area.arealformal),
        "arealbruksstatus": area.arealbruksstatus,
        "purpose_group": area.purpose_group,
        "area_m2": area.area_m2,
        "built_m2": area.built_m2,
        "reserve_m2": area.unbuilt_m2,
        "building_count": area.building_count,
        "lots": area.lots,
        "conflict_m2": area.conflict_m2,
        "conflict_share_pct": round(100 * area.conflict_m2 / area.unbuilt_m2, 2)
        if area.unbuilt_m2
        else 0.0,
        "conflicts": area.conflicts,
    }


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in Norway: accounts computed before it count for it."""
    if day >= date.max:  # the day after cannot be written: every account counts
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time(), OSLO)


def account_at(session: Session, kommunenummer: str, day: date | None = None) -> LandAccountOrm:
    """The municipality's latest account (computed on or before `day`); NotFoundError if none."""
    municipality_info(session, kommunenummer)  # a 404 naming an unknown kommunenummer
    query = select(LandAccountOrm).where(LandAccountOrm.kommunenummer == kommunenummer)
    if day is not None:
        query = query.where(LandAccountOrm.computed_at < end_of_day(day))
    account = session.scalars(
        query.order_by(LandAccountOrm.computed_at.desc(), LandAccountOrm.id.desc()).limit(1)
    ).first()
    if account is None:
        when = "" if day is None else f" på eller før {day.isoformat()}"
        raise NotFoundError(
            Text(
                f"arealregnskapet for kommune {kommunenummer} er ikke beregnet{when}; kjør "
                f"«arealsjekk land-account --kommune {kommunenummer}»",
                f"no land account for municipality {kommunenummer}"
                + ("" if day is None else f" on or before {day.isoformat()}")
                + f"; run 'arealsjekk land-account --kommune {kommunenummer}'",
            )
        )
    return account


def latest_accounts(session: Session, day: date | None = None) -> list[LandAccountOrm]:
    """Each municipality's latest account (on or before `day`), by kommunenummer."""
    query = select(LandAccountOrm)
    if day is not None:
        query = query.where(LandAccountOrm.computed_at < end_of_day(day))
    latest = query.order_by(
        LandAccountOrm.kommunenummer,
        LandAccountOrm.computed_at.desc(),
        LandAccountOrm.id.desc(),
    ).ext(distinct_on(LandAccountOrm.kommunenummer))
    return list(session.scalars(latest))


def indicator_series(
    session: Session, kommunenummer: str | None = None, day: date | None = None
) -> list[dict[str, Any]]:
    """The indicator «konflikter i arealregnskapet»: per municipality and year, the year's last
    account (computed on or before `day`): reserve area, area and reserves in conflict."""
    year = func.extract("year", func.timezone("Europe/Oslo", LandAccountOrm.computed_at))
    query = select(LandAccountOrm, year.label("year"))
    if kommunenummer is not None:
        query = query.where(LandAccountOrm.kommunenummer == kommunenummer)
    if day is not None:
        query = query.where(LandAccountOrm.computed_at < end_of_day(day))
    rows = session.execute(
        query.order_by(
            LandAccountOrm.kommunenummer,
            year,
            LandAccountOrm.computed_at.desc(),
            LandAccountOrm.id.desc(),
        ).ext(distinct_on(LandAccountOrm.kommunenummer, year))
    ).all()
    return [
        {
            "kommunenummer": account.kommunenummer,
            "year": int(year_value),
            "account_id": account.id,
            "computed_at": account.computed_at.isoformat(),
            "reserve_m2": account.totals["reserve_m2"],
            "conflict_m2": account.totals["conflict_m2"],
            "conflict_share_pct": account.totals["conflict_share_pct"],
            "reserves_in_conflict": account.totals["reserves_in_conflict"],
        }
        for account, year_value in rows
    ]
