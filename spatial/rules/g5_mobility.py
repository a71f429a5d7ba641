"""G5: coordinated land use and mobility, centrality × development pressure (Buskerudplanen §6.1).

Each new development area (housing, business, retail, public service) falls in one cell of a
3 × 3 matrix: the municipality's centrality (storbyområde, omland/forstedsområde, ytre del av
regionen) against the development pressure where the area lies (større tettsted, mindre
tettsted, spredtbygd). The cell gives the requirements for the area's use, which are measured:

- `max_hub_distance_m`: the exact distance from the area polygon to the nearest public-transport
  hub (0 when a hub lies inside the area) must not exceed the limit;
- `inside_tettsted`: met when at least 50 % of the area lies inside a tettsted (any tettsted,
  not only the one that sets the pressure); `false` means no requirement;
- `min_utilisation_pct_bra`: judged only where the plan states a utilisation in %-BRA for the
  area (utnyttingstype 18 with utnyttingstall, or a `%-BRA` number); when the plan does not
  state it the requirement is reported "not stated" and does not change the severity.

The pressure comes from the tettsted polygon containing the area's representative point:
population at or above `larger_tettsted_population` is større tettsted, below it mindre
tettsted, no tettsted spredtbygd.
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry.base import BaseGeometry

from spatial.codelists import fold_name
from spatial.figures import stored
from spatial.geometry import union
from spatial.rules.base import CodeSet, Rule, feature_label, layer_ref, register, share_pct
from spatial.rules.model import (
    CENTRALITY_OMLAND,
    CENTRALITY_STORBY,
    CENTRALITY_YTRE,
    CheckFeature,
    CheckPlan,
    Finding,
    LayerFeature,
    LayerRef,
    LayerSource,
)
from spatial.rules.selection import new_areas
from spatial.rules.text import fmt_m, fmt_pct, thousands

PRESSURE_LARGE = "større tettsted"
PRESSURE_SMALL = "mindre tettsted"
PRESSURE_SPREAD = "spredtbygd"

# Literal of the model's constants: pydantic checks names against exactly these strings.
Centrality = Literal[CENTRALITY_STORBY, CENTRALITY_OMLAND, CENTRALITY_YTRE]
Pressure = Literal[PRESSURE_LARGE, PRESSURE_SMALL, PRESSURE_SPREAD]
CENTRALITIES: tuple[str, ...] = (CENTRALITY_STORBY, CENTRALITY_OMLAND, CENTRALITY_YTRE)
PRESSURES: tuple[str, ...] = (PRESSURE_LARGE, PRESSURE_SMALL, PRESSURE_SPREAD)
SSB_CENTRALITY_CLASSES = frozenset(range(1, 7))

# Hubs are searched in growing squares around the areas; the last one covers all of Buskerud.
HUB_SEARCH_RADII_M = (2_000.0, 10_000.0, 50_000.0, 250_000.0)
# Distances to the candidate hubs are measured for this many areas at a time (bounded memory).
DISTANCE_BLOCK_ROWS = 1024
# SOSI Utnyttingstype 18: prosent bruksareal (%-BRA).
UTNYTTINGSTYPE_PCT_BRA = 18

CHECK = "matrix_cell"

USE_LABELS = {
    "housing": ("bolig", "boligområdet"),
    "business": ("næring", "næringsområdet"),
    "retail": ("handel", "handelsområdet"),
    "public_service": ("offentlig tjenesteyting", "området for offentlig tjenesteyting"),
}


class Requirements(BaseModel):
    """What a matrix cell demands of one use; a requirement left out does not apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_hub_distance_m: float | None = Field(default=None, gt=0)
    inside_tettsted: bool | None = None
    min_utilisation_pct_bra: float | None = Field(default=None, gt=0)


class MatrixCell(BaseModel):
    """One cell of the centrality × pressure matrix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity_if_unmet: Literal["conflict", "warning", "info"]
    reason: str = Field(min_length=5)
    requirements: dict[str, Requirements] = Field(default_factory=dict)


def _municipality_key(value: Any) -> str:
    text = str(value).strip()
    return text.zfill(4) if text.isdigit() else text


@register("mobility_matrix")
class MobilityMatrixRule(Rule):
    """Places each new development area in the matrix and measures the cell's requirements."""

    layers = ("tettsteder", "transport_hubs")

    centrality_by_class: dict[int, Centrality]
    centrality_overrides: dict[str, Centrality]
    larger_tettsted_population: int = Field(gt=0)
    inside_tettsted_min_pct: float = Field(gt=0, le=100)
    new_status: CodeSet
    uses: dict[str, CodeSet]
    matrix: dict[Centrality, dict[Pressure, MatrixCell]]

    @field_validator("centrality_overrides", mode="before")
    @classmethod
    def _override_keys(cls, value: Any) -> Any:
        # YAML reads `3301: storbyområde` with an int key; kommunenummer are 4-digit strings.
        if isinstance(value, Mapping):
            return {_municipality_key(k): v for k, v in value.items()}
        return value

    @field_validator("centrality_by_class")
    @classmethod
    def _every_ssb_class(cls, value: dict[int, str]) -> dict[int, str]:
        if set(value) != SSB_CENTRALITY_CLASSES:
            missing = sorted(SSB_CENTRALITY_CLASSES - set(value))
            extra = sorted(set(value) - SSB_CENTRALITY_CLASSES)
            raise ValueError(
                "must map each SSB centrality class 1-6 to a centrality"
                + (f"; missing {missing}" if missing else "")
                + (f"; not SSB classes {extra}" if extra else "")
            )
        return value

    @field_validator("uses")
    @classmethod
    def _uses_apart(cls, value: dict[str, frozenset[int]]) -> dict[str, frozenset[int]]:
        if not value:
            raise ValueError("name at least one use")
        names = list(value)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                shared = value[first] & value[second]
                if shared:
                    raise ValueError(
                        f"uses '{first}' and '{second}' share arealformål {sorted(shared)}; "
                        "each code must belong to one use"
                    )
        return value

    @field_validator("matrix")
    @classmethod
    def _nine_cells(
        cls, value: dict[str, dict[str, MatrixCell]]
    ) -> dict[str, dict[str, MatrixCell]]:
        missing = [
            _cell_name(c, p) for c in CENTRALITIES for p in PRESSURES if p not in value.get(c, {})
        ]
        if missing:
            raise ValueError(
                "the matrix must have all 9 cells (3 centralities × 3 pressures); missing: "
                + ", ".join(missing)
            )
        return value

    @model_validator(mode="after")
    def _known_uses(self) -> "MobilityMatrixRule":
        for centrality in CENTRALITIES:
            for pressure in PRESSURES:
                unknown = sorted(
                    set(self.matrix[centrality][pressure].requirements) - set(self.uses)
                )
                if unknown:
                    raise ValueError(
                        f"matrix cell {_cell_name(centrality, pressure)} has requirements for "
                        f"{unknown}, which are not among the uses {sorted(self.uses)}"
                    )
        return self

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return one finding per new development area: its cell and each requirement."""
        all_codes = frozenset().union(*self.uses.values())
        areas = new_areas(plan, all_codes, all_codes, self.new_status)
        if not areas:
            return [
                self.finding(
                    "no_development_areas",
                    "info",
                    [],
                    "Planen har ingen nye områder for bolig, næring, handel eller offentlig "
                    "tjenesteyting.",
                    "Ingen.",
                )
            ]
        missing = [layer for layer in self.layers if layers.version(layer) is None]
        if missing:
            reasons = {
                "tettsteder": "kartlaget tettsteder mangler, så utbyggingspresset er ukjent",
                "transport_hubs": "kartlaget transport_hubs mangler, så avstand til "
                "kollektivknutepunkt kan ikke måles",
            }
            return [self.unknown(CHECK, areas, reasons[layer], layer) for layer in missing]
        centrality, source, overridden = self._centrality(plan)
        if centrality is None:
            return [
                self.finding(
                    CHECK,
                    "unknown",
                    areas,
                    f"Ikke kontrollert: {source}.",
                    "Legg inn sentralitet for kommunen i regelsettet (centrality_by_class eller "
                    "centrality_overrides) og kjør kontrollen på nytt.",
                    {"reason": source},
                )
            ]
        tettsted_version = layers.version("tettsteder")
        hub_version = layers.version("transport_hubs")
        bounds = shapely.GeometryCollection([a.geometry for a in areas]).bounds
        tettsteder = layers.features("tettsteder", shapely.box(*bounds))
        hubs = _nearest_hubs([a.geometry for a in areas], layers)
        meeting = _tettsteder_meeting([a.geometry for a in areas], tettsteder)
        findings = []
        for area, (hub, distance), (covering, touching) in zip(areas, hubs, meeting, strict=True):
            placed = _place(area.geometry, covering, touching, self.larger_tettsted_population)
            refs = [
                layer_ref("tettsteder", tettsted_version, placed.tettsted_refs),
                layer_ref("transport_hubs", hub_version, [hub] if hub else []),
            ]
            measures = {
                "centrality": centrality,
                "centrality_source": source,
                "centrality_class": plan.municipality.centrality_class,
                "centrality_overridden": overridden,
            }
            findings.append(self._assess(area, measures, placed, hub, distance, refs))
        return findings

    def _centrality(self, plan: CheckPlan) -> tuple[str | None, str, bool]:
        """Return the centrality, where it comes from (for messages) and if it is overridden."""
        kommunenummer = _municipality_key(plan.municipality.kommunenummer)
        if kommunenummer in self.centrality_overrides:
            return (
                self.centrality_overrides[kommunenummer],
                f"regelsettets overstyring for kommune {kommunenummer}",
                True,
            )
        klass = plan.municipality.centrality_class
        if klass in self.centrality_by_class:
            return self.centrality_by_class[klass], f"SSB-sentralitetsklasse {klass}", False
        return None, f"kommunens sentralitetsklasse ({klass}) er ikke i regelsettet", False

    def _use_of(self, area: CheckFeature) -> str:
        return next(use for use, codes in self.uses.items() if area.arealformal in codes)

    def _assess(
        self,
        area: CheckFeature,
        measures: dict[str, Any],
        placed: "_Placement",
        hub: LayerFeature | None,
        distance: float | None,
        refs: list[LayerRef],
    ) -> Finding:
        use = self._use_of(area)
        centrality, centrality_source = measures["centrality"], measures["centrality_source"]
        cell = self.matrix[centrality][placed.pressure]
        wanted = cell.requirements.get(use, Requirements())
        utilisation = stated_utilisation_pct_bra(area.properties)
        inside_pct = stored("inside_tettsted_pct", placed.inside_pct)
        hub_distance = None if distance is None else stored("hub_distance_m", distance)
        checks = _requirement_checks(
            wanted, hub_distance, inside_pct, self.inside_tettsted_min_pct, utilisation
        )
        unmet = [c for c in checks if c["met"] is False]
        severity = cell.severity_if_unmet if unmet else "ok"
        cell_name = _cell_name(centrality, placed.pressure)
        hub_name = hub.attributes.get("name") if hub else None
        measures = {
            **measures,
            "pressure": placed.pressure,
            "cell": cell_name,
            "use": use,
            "tettsted": placed.name,
            "tettsted_population": placed.population,
            "inside_tettsted_pct": inside_pct,
            "nearest_hub": hub_name,
            "nearest_hub_type": hub.attributes.get("hub_type") if hub else None,
            "hub_distance_m": hub_distance,
            "utilisation_pct_bra": utilisation,
            "area_m2": area.geometry.area,
            "severity_if_unmet": cell.severity_if_unmet,
            "cell_reason": cell.reason,
            "requirements": checks,
        }
        noun, definite = USE_LABELS.get(use, (use, f"området ({use})"))
        if placed.name is None:
            place = "utenfor tettsted"
        else:
            place = f"i tettstedet {placed.name} med {thousands(placed.population)} innbyggere"
        lines = [
            f"{feature_label(area)}, {noun}, ligger i ruten «{cell_name}» (sentralitet etter "
            f"{centrality_source}; {place})."
        ]
        lines += [_requirement_text(c, hub_name) for c in checks]
        judged = [c for c in checks if c["met"] is not None]
        if not checks:
            lines.append(f"Ruten stiller ingen krav til {noun}.")
        elif unmet:
            lines.append(f"{len(unmet)} av {len(judged)} vurderte krav er ikke oppfylt.")
        elif not judged:
            lines.append("Ingen av kravene kunne vurderes ut fra planen.")
        elif len(judged) < len(checks):
            lines.append("De vurderte kravene i ruten er oppfylt.")
        else:
            lines.append("Kravene i ruten er oppfylt.")
        action = _action(checks, definite, placed.name, severity)
        geometry = area.geometry if unmet else None
        return self.finding(
            CHECK, severity, [area], " ".join(lines), action, measures, refs, geometry
        )


@dataclass(frozen=True)
class _Placement:
    """Where an area lies relative to the tettsteder."""

    pressure: str
    name: str | None
    population: int | None
    inside_pct: float
    tettsted_refs: tuple[LayerFeature, ...]


def _tettsteder_meeting(
    geometries: Sequence[BaseGeometry], tettsteder: Sequence[LayerFeature]
) -> list[tuple[list[LayerFeature], list[LayerFeature]]]:
    """For each geometry: the tettsteder covering its representative point, and those it
    intersects (both in the order of `tettsteder`), from one spatial-index query each."""
    out: list[tuple[list[LayerFeature], list[LayerFeature]]] = [([], []) for _ in geometries]
    if not tettsteder or not geometries:
        return out
    tree = shapely.STRtree([t.geometry for t in tettsteder])
    shapes = np.asarray(geometries, dtype=object)
    for kind, (which, hit) in enumerate(
        (
            tree.query(shapely.point_on_surface(shapes), predicate="covered_by"),
            tree.query(shapes, predicate="intersects"),
        )
    ):
        for i, j in sorted(zip(which.tolist(), hit.tolist(), strict=True)):
            out[i][kind].append(tettsteder[j])
    return out


def _place(
    geometry: BaseGeometry,
    covering: Sequence[LayerFeature],
    touching: Sequence[LayerFeature],
    larger_population: int,
) -> _Placement:
    """Place an area by the tettsteder covering its representative point and touching it."""
    containing = sorted(covering, key=lambda t: (-_population(t), t.key, t.id))
    inside = 0.0
    if touching:
        inside = shapely.intersection(geometry, union([t.geometry for t in touching])).area
    refs = sorted({t.id: t for t in [*containing, *touching]}.values(), key=lambda t: t.id)
    if not containing:
        return _Placement(
            PRESSURE_SPREAD, None, None, share_pct(inside, geometry.area), tuple(refs)
        )
    home = containing[0]
    population = _population(home)
    pressure = PRESSURE_LARGE if population >= larger_population else PRESSURE_SMALL
    return _Placement(
        pressure,
        str(home.attributes.get("name")),
        population,
        share_pct(inside, geometry.area),
        tuple(refs),
    )


def _population(tettsted: LayerFeature) -> int:
    value = tettsted.attributes.get("population")
    return int(value) if value is not None else 0


def _nearest_hubs(
    geometries: Sequence[BaseGeometry], layers: LayerSource
) -> list[tuple[LayerFeature | None, float | None]]:
    """Return the nearest hub and its exact distance for each geometry (None, None if none).

    Hubs are fetched for the bounding box of the geometries still unresolved, grown by each
    radius in turn. A nearest hub found within the radius is the true nearest: any hub closer
    than it lies within the radius of that geometry, and so inside the box that was fetched.
    Ties go to the hub with the lowest key, so the answer does not depend on row order.
    """
    result: list[tuple[LayerFeature | None, float | None]] = [(None, None)] * len(geometries)
    pending = list(range(len(geometries)))
    for radius in HUB_SEARCH_RADII_M:
        if not pending:
            break
        minx, miny, maxx, maxy = shapely.GeometryCollection([geometries[i] for i in pending]).bounds
        search = shapely.box(minx - radius, miny - radius, maxx + radius, maxy + radius)
        candidates = layers.features("transport_hubs", search)
        if not candidates:
            continue
        points = np.array([c.geometry for c in candidates], dtype=object)
        still = []
        for i, row in _distance_rows(geometries, pending, points):
            best = float(row.min())
            if best > radius:
                still.append(i)
                continue
            ties = [candidates[j] for j in np.flatnonzero(row == best)]
            result[i] = (min(ties, key=lambda c: (c.key, c.id)), best)
        pending = still
    return result


def _distance_rows(
    geometries: Sequence[BaseGeometry], indexes: list[int], points: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """(index, distances to every point) per geometry, measured a block of rows at a time."""
    for start in range(0, len(indexes), DISTANCE_BLOCK_ROWS):
        block = indexes[start : start + DISTANCE_BLOCK_ROWS]
        shapes = np.array([geometries[i] for i in block], dtype=object)
        yield from zip(block, shapely.distance(shapes[:, None], points[None, :]), strict=True)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(?:%|%-?BRA)?\s*", value, re.IGNORECASE)
        if match:
            return float(match.group(1).replace(",", "."))
    return None


_PCT_BRA_KEYS = frozenset({"%bra", "bra%", "prosentbra", "pctbra", "utnyttingprosentbra"})
_UTILISATION_GROUP_KEYS = frozenset({"utnytting", "utnyttingsgrad", "utnyttelse"})


def _is_pct_bra_type(value: Any) -> bool:
    if isinstance(value, str) and fold_name(str(value)) in ("%bra", "prosentbra"):
        return True
    number = _as_number(value)
    return number is not None and number == UTNYTTINGSTYPE_PCT_BRA


def _typed_utilisation(properties: Mapping[str, Any]) -> list[float]:
    folded = {fold_name(str(k)): v for k, v in properties.items()}
    if _is_pct_bra_type(folded.get("utnyttingstype")):
        number = _as_number(folded.get("utnyttingstall"))
        if number is not None:
            return [number]
    return []


def stated_utilisation_pct_bra(properties: Mapping[str, Any]) -> float | None:
    """Return the utilisation in %-BRA the plan states for an area, or None if not stated.

    Read from `utnyttingstype` 18 with `utnyttingstall` (also nested under `utnytting`, as a
    dict or a list of dicts) or a number under a key like `%-BRA` or `prosent_bra`. Where
    several are stated, the highest counts. Other utilisation types (%-BYA, BRA m²) are not
    converted: they count as not stated.
    """
    found = _typed_utilisation(properties)
    for key, value in properties.items():
        folded = fold_name(str(key))
        if folded in _PCT_BRA_KEYS:
            number = _as_number(value)
            if number is not None:
                found.append(number)
        elif folded in _UTILISATION_GROUP_KEYS:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, Mapping):
                    found.extend(_typed_utilisation(item))
    return max(found) if found else None


def _requirement_checks(
    wanted: Requirements,
    hub_distance: float | None,
    inside_pct: float,
    inside_min_pct: float,
    utilisation: float | None,
) -> list[dict[str, Any]]:
    """Measure each requirement; values are rounded before comparing, as they are reported."""
    checks: list[dict[str, Any]] = []
    if wanted.max_hub_distance_m is not None:
        met = hub_distance is not None and hub_distance <= wanted.max_hub_distance_m
        checks.append(
            _check("max_hub_distance_m", wanted.max_hub_distance_m, hub_distance, "m", met)
        )
    if wanted.inside_tettsted:
        met = inside_pct >= inside_min_pct
        checks.append(_check("inside_tettsted", inside_min_pct, inside_pct, "%", met))
    if wanted.min_utilisation_pct_bra is not None:
        limit = wanted.min_utilisation_pct_bra
        met = None if utilisation is None else utilisation >= limit
        checks.append(_check("min_utilisation_pct_bra", limit, utilisation, "%-BRA", met))
    return checks


def _check(
    name: str, limit: float, measured: float | None, unit: str, met: bool | None
) -> dict[str, Any]:
    status = "not stated" if met is None else ("met" if met else "not met")
    return {
        "requirement": name,
        "limit": limit,
        "measured": measured,
        "unit": unit,
        "met": met,
        "status": status,
    }


def _verdict(met: bool | None) -> str:
    return {True: "oppfylt", False: "ikke oppfylt", None: "ikke vurdert"}[met]


def _requirement_text(check: dict[str, Any], hub_name: str | None) -> str:
    limit, measured, verdict = check["limit"], check["measured"], _verdict(check["met"])
    if check["requirement"] == "max_hub_distance_m":
        wanted = f"krav høyst {fmt_m(limit)}"
        if measured is None:
            return (
                f"Ingen kollektivknutepunkt innen {fmt_m(HUB_SEARCH_RADII_M[-1])} "
                f"({wanted}): {verdict}."
            )
        return (
            f"Avstand til nærmeste kollektivknutepunkt ({hub_name}): {fmt_m(measured)} "
            f"({wanted}): {verdict}."
        )
    if check["requirement"] == "inside_tettsted":
        wanted = f"krav minst {fmt_pct(limit, 0)}"
        return f"Andel innenfor tettsted: {fmt_pct(measured)} ({wanted}): {verdict}."
    wanted = f"krav minst {_number(limit)} %-BRA"
    if measured is None:
        return f"Utnytting i %-BRA er ikke angitt i planen ({wanted}): {verdict}."
    return f"Utnytting: {_number(measured)} %-BRA ({wanted}): {verdict}."


def _action(
    checks: list[dict[str, Any]], definite: str, tettsted: str | None, severity: str
) -> str:
    unmet = {c["requirement"]: c for c in checks if c["met"] is False}
    actions = []
    where = []
    if "max_hub_distance_m" in unmet:
        limit = fmt_m(unmet["max_hub_distance_m"]["limit"])
        where.append(f"nærmere kollektivknutepunktet (høyst {limit})")
    if "inside_tettsted" in unmet:
        where.append(f"innenfor tettstedet {tettsted}" if tettsted else "innenfor et tettsted")
    if where:
        actions.append(f"Flytt {definite} {' og '.join(where)}, eller ta det ut av planen.")
    if "min_utilisation_pct_bra" in unmet:
        limit = _number(unmet["min_utilisation_pct_bra"]["limit"])
        actions.append(f"Øk minste utnytting i bestemmelsene til minst {limit} %-BRA.")
    for check in checks:
        if check["requirement"] == "min_utilisation_pct_bra" and check["met"] is None:
            actions.append(
                f"Angi minste utnytting (%-BRA) i bestemmelsene; ruten krever minst "
                f"{_number(check['limit'])} %-BRA."
            )
    if not actions:
        return "Ingen."
    if severity == "conflict" and unmet:
        actions.append("Ellers kan det gi grunnlag for innsigelse.")
    return " ".join(actions)


def _cell_name(centrality: str, pressure: str) -> str:
    return f"{centrality} × {pressure}"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
