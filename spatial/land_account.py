"""The land account (natur- og arealregnskap, Buskerudplanen §5.2): the reserves of an adopted
kommuneplan, what of them is built, and how much of each conflicts with the guidelines.

A reserve is the unbuilt part of an adopted area for development. The guidelines are
checked by the rule engine itself: the reserves become the areas of a plan, as if the
municipality proposed them today, so the account's figures are the sums of its findings.
"""

import hashlib
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from shapely.geometry.base import BaseGeometry

from spatial.codelists import get_codelists
from spatial.errors import ArealsjekkError
from spatial.geometry import union
from spatial.plan_model import PlanMetadata
from spatial.rules.base import CodeSet
from spatial.rules.engine import CheckResult, run_rules
from spatial.rules.model import (
    CheckFeature,
    CheckPlan,
    Finding,
    LayerFeature,
    LayerSource,
    MunicipalityInfo,
)
from spatial.rules.ruleset import RULE_ID_PATTERN, ParameterEntry, RuleSet

# The layer the reserves come from, and the building points that tell what is built.
ADOPTED_LAYER = "existing_kommuneplan"
BUILDINGS_LAYER = "buildings"
# Kommuneplanens arealdel (KpPlantype 20): the reserves are checked as kommuneplan areas.
KOMMUNEPLAN_PLANTYPE = 20
# A reserve is checked as a new decision (arealbruksstatus 2, framtidig), whatever its
# status in the adopted plan: the account asks whether it would be accepted today.
AS_NEW_STATUS = 2


# For a warning under a rule the method file gives no adaptation for.
DEFAULT_ADAPTATION = (
    "Vurder ved rulleringen å avgrense reserven eller å sikre hensynet i bestemmelsene."
)


class LandAccountError(ArealsjekkError):
    """The land-account method file is invalid; the message names the file and field."""


class MethodParams(BaseModel):
    """The method's parameters (layers/rules/arealregnskap-2026.yaml explains each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reserve_status: CodeSet
    built_buffer_m: float = Field(ge=0, le=100)
    not_built_statuses: frozenset[str]
    min_reserve_width_m: float = Field(ge=0, le=50)
    min_reserve_m2: float = Field(ge=0)
    lot_size_m2: float = Field(gt=0)
    lot_share: tuple[tuple[float, float], ...]
    capacity_purposes: CodeSet
    capacity_status: CodeSet
    rules: tuple[str, ...] = Field(min_length=1)

    @field_validator("lot_share", mode="before")
    @classmethod
    def _bands(cls, value: Any) -> tuple[tuple[float, float], ...]:
        """Read {"2000": 1.0, "inf": 0.5} as ((2000, 1.0), (inf, 0.5)), upper bounds rising."""
        if not isinstance(value, Mapping) or not value:
            raise ValueError('give the share per area size, e.g. {"2000": 1.0, "inf": 0.5}')
        bands = sorted((float(bound), float(share)) for bound, share in value.items())
        if bands[-1][0] != math.inf:
            raise ValueError('the last band must be "inf" so that every area has a share')
        if any(not 0 <= share <= 1 for _, share in bands):
            raise ValueError("shares are fractions between 0 and 1")
        return tuple(bands)

    @field_validator("rules")
    @classmethod
    def _rule_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Rule ids have the rule-set form (G1, G4)."""
        for rule_id in value:
            if not re.fullmatch(RULE_ID_PATTERN, rule_id):
                raise ValueError(f"'{rule_id}' is not a rule id")
        return value


class PurposeGroup(BaseModel):
    """An arealformål group of the account: its label and KpArealformål codes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    codes: CodeSet


class MethodFile(BaseModel):
    """The top level of a land-account method file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    title: str
    source: str
    params: dict[str, ParameterEntry]
    groups: dict[str, PurposeGroup] = Field(min_length=1)
    actions: dict[str, str]
    adaptations: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class LandAccountMethod:
    """A validated land-account method: identity, parameters, groups and planvask actions."""

    id: str
    version: str
    title: str
    source: str
    checksum: str
    params: MethodParams
    groups: dict[str, PurposeGroup]
    actions: dict[str, str]  # for a reserve in conflict with the guideline
    adaptations: dict[str, str]  # for one that must be adapted to it (warnings)

    def action(self, rule_id: str, severity: str) -> str:
        """What the planvask suggests for a reserve a rule finds in conflict or to adapt."""
        if severity == "conflict":
            return self.actions[rule_id]
        return self.adaptations.get(rule_id, DEFAULT_ADAPTATION)

    def group_of(self, arealformal: int | None) -> str | None:
        """The account group of a KpArealformål code, or None if it is not a reserve purpose."""
        for name, group in self.groups.items():
            if arealformal in group.codes:
                return name
        return None

    def lots(self, area_m2: float, unbuilt_m2: float) -> int:
        """Estimated lots in an area's unbuilt part: the share for the area's size, per lot."""
        share = next(share for bound, share in self.params.lot_share if area_m2 <= bound)
        return int(unbuilt_m2 * share // self.params.lot_size_m2)


def parse_method(text: str, name: str) -> LandAccountMethod:
    """Parse and validate a method file; raise LandAccountError naming what is wrong."""
    try:
        raw = MethodFile.model_validate(yaml.safe_load(text))
        params = MethodParams.model_validate({k: v.value for k, v in raw.params.items()})
    except yaml.YAMLError as exc:
        raise LandAccountError(f"{name}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise LandAccountError(f"{name}: {where}: {first['msg']}") from None
    missing = [rule for rule in params.rules if rule not in raw.actions]
    if missing:
        raise LandAccountError(f"{name}: actions: no planvask action for {', '.join(missing)}")
    return LandAccountMethod(
        id=raw.id,
        version=raw.version,
        title=raw.title,
        source=raw.source,
        checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        params=params,
        groups=dict(raw.groups),
        actions=dict(raw.actions),
        adaptations=dict(raw.adaptations),
    )


def load_method(path: Path) -> LandAccountMethod:
    """Read and validate a method file."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LandAccountError(f"{path}: cannot be read as a method file: {exc}") from None
    return parse_method(text, path.name)


@dataclass(frozen=True)
class AdoptedArea:
    """An arealformål area of an adopted kommuneplan, as the layer holds it."""

    feature: LayerFeature
    group: str
    arealformal: int
    arealbruksstatus: int | None
    planidentifikasjon: str | None
    name: str | None

    @property
    def geometry(self) -> BaseGeometry:
        """The area's geometry."""
        return self.feature.geometry


@dataclass(frozen=True)
class MeasuredArea:
    """An adopted area with its built part, unbuilt part and estimated lots."""

    area: AdoptedArea
    area_m2: float
    built_m2: float
    unbuilt: BaseGeometry  # slivers removed (min_reserve_width_m)
    building_count: int
    is_reserve: bool
    lots: int | None  # only in the capacity purposes

    @property
    def unbuilt_m2(self) -> float:
        """Area of the unbuilt part."""
        return self.unbuilt.area


def adopted_areas(
    method: LandAccountMethod, features: Sequence[LayerFeature], municipality: MunicipalityInfo
) -> list[AdoptedArea]:
    """The areas of the municipality's adopted plan whose purpose is in an account group.

    An area belongs to the municipality by its kommunenummer, else (files without it) by
    where its inner point lies.
    """
    out = []
    for feature in features:
        attributes = feature.attributes
        code = attributes.get("arealformal")
        group = method.group_of(code)
        if group is None or feature.geometry.is_empty:
            continue
        kommunenummer = attributes.get("kommunenummer")
        if kommunenummer:
            if str(kommunenummer).zfill(4) != municipality.kommunenummer:
                continue
        elif not municipality.geometry.contains(feature.geometry.representative_point()):
            continue
        out.append(
            AdoptedArea(
                feature,
                group,
                int(code),
                attributes.get("arealbruksstatus"),
                attributes.get("planidentifikasjon"),
                attributes.get("name"),
            )
        )
    return out


# The grid an overlay falls back to when GEOS's floating-point noding fails.
FALLBACK_GRID_M = 0.001


def overlay(
    operation: Callable[..., BaseGeometry], a: BaseGeometry, b: BaseGeometry
) -> BaseGeometry:
    """An overlay (intersection, difference) of two geometries; where GEOS's floating-point
    noding fails on nearly coincident edges (an opened area against its own outline), the
    same overlay of the repaired inputs snapped to a 1 mm grid, which moves no figure."""
    try:
        return operation(a, b)
    except shapely.errors.GEOSException:
        return operation(shapely.make_valid(a), shapely.make_valid(b), grid_size=FALLBACK_GRID_M)


def overlapping_m2(areas: Sequence[AdoptedArea]) -> float:
    """How much of the areas lies under another of them (a kommunedelplan drawn over the
    kommuneplan, or two plan generations loaded together): counted twice in the account."""
    if len(areas) < 2:
        return 0.0
    geometries = [a.geometry for a in areas]
    first, second = shapely.STRtree(geometries).query(geometries, predicate="intersects")
    pairs = [(i, j) for i, j in zip(first.tolist(), second.tolist(), strict=True) if i < j]
    if not pairs:
        return 0.0
    cuts = [overlay(shapely.intersection, geometries[i], geometries[j]) for i, j in pairs]
    shared = [cut for cut in cuts if cut.area > 0]
    return union(shared).area if shared else 0.0


def counts_as_built(method: LandAccountMethod, building: LayerFeature) -> bool:
    """Whether a building point makes its surroundings built (its status is not a not-built one)."""
    status = building.attributes.get("bygningsstatus")
    return not (status and str(status).strip().upper() in method.params.not_built_statuses)


def measure_areas(
    method: LandAccountMethod,
    areas: Sequence[AdoptedArea],
    buildings: Sequence[LayerFeature] | None,
) -> list[MeasuredArea]:
    """Split each area into built (within the buffer of a building) and unbuilt parts.

    `buildings` None means no building layer is loaded: nothing counts as built.
    """
    params = method.params
    built = [b.geometry for b in buildings or () if counts_as_built(method, b)]
    tree = shapely.STRtree(built)
    out = []
    for area in areas:
        geometry = area.geometry
        near = tree.query(geometry, predicate="dwithin", distance=params.built_buffer_m)
        inside = [built[i] for i in near.tolist() if geometry.intersects(built[i])]
        unbuilt, cover = geometry, None
        if len(near):
            cover = union([built[i] for i in near.tolist()]).buffer(params.built_buffer_m)
            unbuilt = overlay(shapely.difference, geometry, cover)
        # A reserve's area is reported to the square metre: its opening is clipped out of the
        # built part, too. Elsewhere (nåværende areas, full of buildings, measured only for
        # the lots left) the opening may reach under a square metre into a building's zone.
        is_reserve_status = area.arealbruksstatus in params.reserve_status
        unbuilt = _without_slivers(
            unbuilt, params.min_reserve_width_m, geometry, cover if is_reserve_status else None
        )
        if unbuilt.area < params.min_reserve_m2:
            unbuilt = shapely.Polygon()
        area_m2 = geometry.area
        lots = None
        if area.arealformal in params.capacity_purposes and (
            area.arealbruksstatus in params.capacity_status
        ):
            lots = method.lots(area_m2, unbuilt.area)
        out.append(
            MeasuredArea(
                area=area,
                area_m2=area_m2,
                built_m2=area_m2 - unbuilt.area,
                unbuilt=unbuilt,
                building_count=len(inside),
                is_reserve=is_reserve_status and unbuilt.area > 0,
                lots=lots,
            )
        )
    return out


def _without_slivers(
    geometry: BaseGeometry,
    half_width_m: float,
    within: BaseGeometry,
    built: BaseGeometry | None,
) -> BaseGeometry:
    """The unbuilt part without the parts narrower than 2 × half_width_m (an opening), kept
    within `within` (the adopted area it is part of) and out of `built`."""
    if half_width_m <= 0 or geometry.is_empty:
        return _polygonal(geometry)
    # Mitred joins keep the corners of an area: a round opening would shave each right
    # angle by (1 - π/4)·w², which is no sliver.
    opened = geometry.buffer(-half_width_m, join_style="mitre").buffer(
        half_width_m, join_style="mitre"
    )
    # Mitred buffers of a ragged outline can cross themselves.
    opened = opened if opened.is_valid else shapely.make_valid(opened)
    # Overshoot is clipped off: past the area's outline, then into the built part. One
    # clip against the unbuilt part itself (the area less a polygon per building) costs
    # several times more: all its edges all but coincide with the opening's.
    kept = overlay(shapely.intersection, opened, within)
    if built is not None:
        kept = overlay(shapely.difference, kept, built)
    return _polygonal(kept)


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygon parts of a geometry (cuts can leave lines and points on edges)."""
    if geometry.is_empty:
        return shapely.Polygon()
    parts = shapely.get_parts(geometry)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    return shapely.union_all(polygons) if polygons else shapely.Polygon()


def reserve_plan(municipality: MunicipalityInfo, reserves: Sequence[MeasuredArea]) -> CheckPlan:
    """The reserves as a kommuneplan to check: area i is reserve i, checked as new."""
    features = tuple(
        CheckFeature(
            id=index,
            key=reserve.area.feature.key,
            kind="arealformal",
            geometry=reserve.unbuilt,
            arealformal=reserve.area.arealformal,
            arealbruksstatus=AS_NEW_STATUS,
            name=reserve_label(reserve.area),
        )
        for index, reserve in enumerate(reserves)
    )
    plan_ids = sorted({r.area.planidentifikasjon for r in reserves if r.area.planidentifikasjon})
    metadata = PlanMetadata(
        municipality.kommunenummer,
        ", ".join(plan_ids) or "gjeldende kommuneplan",
        KOMMUNEPLAN_PLANTYPE,
        None,
        f"Arealreserver i gjeldende kommuneplan for {municipality.name}",
    )
    return CheckPlan(metadata, features, municipality)


def reserve_label(area: AdoptedArea) -> str:
    """How a reserve is named: its områdenavn, else its purpose, plan and source id."""
    if area.name:
        return str(area.name)
    purpose = get_codelists().kp_arealformal.get(
        area.arealformal, f"arealformål {area.arealformal}"
    )
    plan = area.planidentifikasjon or "gjeldende kommuneplan"
    return f"{purpose}, {plan} ({area.feature.key})"


class WithoutLayers:
    """A layer source that hides some layers (reads as not loaded), passing the rest on.

    The land account hides the adopted plan itself: G1 would otherwise find every cabin
    reserve inside an adopted cabin area and call it not new.
    """

    def __init__(self, source: LayerSource, hidden: Collection[str]):
        self._source = source
        self._hidden = frozenset(hidden)

    def version(self, layer_id: str) -> int | None:
        """The wrapped source's version, None for a hidden layer."""
        return None if layer_id in self._hidden else self._source.version(layer_id)

    def features(self, layer_id, area, where=None) -> list[LayerFeature]:
        """The wrapped source's features, none for a hidden layer."""
        return [] if layer_id in self._hidden else self._source.features(layer_id, area, where)

    def features_near(self, layer_id, geometries, reach_m, where=None) -> list[LayerFeature]:
        """The wrapped source's features near, none for a hidden layer."""
        if layer_id in self._hidden:
            return []
        return self._source.features_near(layer_id, geometries, reach_m, where)

    def raster_path(self, layer_id: str) -> Path | None:
        """The wrapped source's raster, None for a hidden layer."""
        return None if layer_id in self._hidden else self._source.raster_path(layer_id)


def account_rule_set(rule_set: RuleSet, method: LandAccountMethod) -> RuleSet:
    """The rule set with only the rules the method checks reserves against, in its order."""
    missing = [r for r in method.params.rules if r not in {rule.id for rule in rule_set.rules}]
    if missing:
        raise LandAccountError(
            f"the land-account method {method.id} checks rules {', '.join(missing)}, which rule "
            f"set {rule_set.id} {rule_set.version} does not have"
        )
    return replace(rule_set, rules=tuple(r for r in rule_set.rules if r.id in method.params.rules))


@dataclass(frozen=True)
class RuleOutcome:
    """How much of one reserve one rule finds in conflict, to adapt, or could not check."""

    conflict: BaseGeometry
    warning: BaseGeometry
    unknown_m2: float
    findings: tuple[Finding, ...]

    def figures(self) -> dict[str, float]:
        """The outcome in m²."""
        return {
            "conflict_m2": self.conflict.area,
            "warning_m2": self.warning.area,
            "unknown_m2": self.unknown_m2,
        }


@dataclass
class ReserveOutcome:
    """One reserve and what each rule found in it."""

    reserve: MeasuredArea
    rules: dict[str, RuleOutcome] = field(default_factory=dict)

    @property
    def conflict(self) -> BaseGeometry:
        """The part of the reserve in conflict with at least one guideline."""
        parts = [o.conflict for o in self.rules.values() if not o.conflict.is_empty]
        return union(parts) if parts else shapely.Polygon()


def check_reserves(
    rule_set: RuleSet,
    method: LandAccountMethod,
    municipality: MunicipalityInfo,
    reserves: Sequence[MeasuredArea],
    layers: LayerSource,
) -> tuple[CheckResult, list[ReserveOutcome]]:
    """Run the method's rules over the reserves and measure each finding within its reserve.

    A finding's drawn geometry is the part concerned (cells above the tree line, the
    overlap, the zone within a buffer); a conflict or warning drawn as a line or not at all
    (a migration corridor cut) concerns the whole reserve.
    """
    plan = reserve_plan(municipality, reserves)
    result = run_rules(
        account_rule_set(rule_set, method), plan, WithoutLayers(layers, [ADOPTED_LAYER])
    )
    outcomes = [ReserveOutcome(reserve) for reserve in reserves]
    by_reserve: dict[tuple[int, str], list[Finding]] = {}
    for finding in result.findings:
        # Findings about the plan as a whole (a deposit no zone safeguards, an environment
        # without hensynssone) say nothing about a reserve: the adopted plan's zones are not
        # part of the account.
        for index in finding.plan_feature_ids:
            by_reserve.setdefault((index, finding.rule_id), []).append(finding)
    for (index, rule_id), findings in by_reserve.items():
        outcomes[index].rules[rule_id] = _outcome(plan.features[index].geometry, findings)
    return result, outcomes


def _outcome(reserve: BaseGeometry, findings: Sequence[Finding]) -> RuleOutcome:
    def concerned(severity: str) -> BaseGeometry:
        parts = []
        for finding in findings:
            if finding.severity != severity:
                continue
            drawn = _polygonal(finding.geometry) if finding.geometry is not None else None
            parts.append(reserve if drawn is None or drawn.is_empty else drawn)
        if not parts:
            return shapely.Polygon()
        return _polygonal(overlay(shapely.intersection, union(parts), reserve))

    conflict = concerned("conflict")
    warning = concerned("warning")
    if not warning.is_empty and not conflict.is_empty:
        warning = _polygonal(overlay(shapely.difference, warning, conflict))
    unknown_m2 = reserve.area if any(f.severity == "unknown" for f in findings) else 0.0
    return RuleOutcome(conflict, warning, unknown_m2, tuple(findings))
