"""G1: no new or expanded cabin areas above the tree line (Buskerudplanen §6.2.4, guideline 1)."""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import shapely
from pydantic import Field, StringConstraints

from spatial.geometry import union
from spatial.raster import draw_exposures, open_surfaces
from spatial.rules.base import (
    CodeSet,
    feature_label,
    layer_ref,
    register,
    share_pct,
)
from spatial.rules.cabins import CabinAreaRule
from spatial.rules.model import CheckPlan, Finding, LayerRef, LayerSource
from spatial.rules.text import fmt_m, fmt_m2, fmt_masl, fmt_pct
from spatial.treeline import derivation_note

# The verdicts whose findings carry a drawing of the cells concerned.
DRAWN = ("conflict", "warning")
Kommunenummer = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
TreeLineHeight = Annotated[float, Field(ge=0, le=2500)]


@dataclass(frozen=True)
class TreeLineChoice:
    """The tree line a check measures against: a raster or one height, and how it is named."""

    surface: Path | float
    text: str  # bokmål, after "Tregrense fra "
    measures: dict[str, Any] = field(default_factory=dict)


@register("tree_line")
class TreeLineRule(CabinAreaRule):
    """Measures each new cabin area against the tree-line surface and the terrain model."""

    layers = ("elevation", "tree_line", "existing_kommuneplan")

    existing_cabin_purposes: CodeSet
    conflict_min_area_m2: float
    conflict_min_share_pct: float
    transition_zone_m: float
    min_data_coverage_pct: float
    # kommunenummer -> tree line (m a.s.l.) used where no tree_line layer is loaded
    tree_line_fallback_m: dict[Kommunenummer, TreeLineHeight] = Field(default_factory=dict)

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return a finding per new cabin area: conflict, warning, ok or unknown."""
        cabins = self.new_cabin_areas(plan)
        if not cabins:
            return [self.no_new_cabin_areas()]
        dem = layers.raster_path("elevation")
        if dem is None:
            return [
                self.unknown("above_tree_line", cabins, "kartlaget elevation mangler", "elevation")
            ]
        choice = self.tree_line(plan, layers)
        if choice is None:
            municipality = plan.municipality
            reason = (
                "kartlaget tree_line mangler, og regelsettet har ingen reservehøyde for "
                f"skoggrensen i {municipality.name} ({municipality.kommunenummer})"
            )
            unknown = self.unknown("above_tree_line", cabins, reason, "tree_line")
            return [replace(unknown, measures={**unknown.measures, "tree_line_source": "none"})]
        refs = [LayerRef("elevation", layers.version("elevation"))]
        if not isinstance(choice.surface, float):
            refs.append(LayerRef("tree_line", layers.version("tree_line")))
        existing_version = layers.version("existing_kommuneplan")
        # The layer source selects by bounding box: the cabins' total bounds suffice.
        search = shapely.box(*shapely.total_bounds([c.geometry for c in cabins]))
        existing = [
            e
            for e in layers.features("existing_kommuneplan", search)
            if e.attributes.get("arealformal") in self.existing_cabin_purposes
        ]
        existing_index = shapely.STRtree([e.geometry for e in existing])
        new_parts, cabin_refs = [], []
        for cabin in cabins:
            near = existing_index.query(cabin.geometry, predicate="intersects")
            hits = [existing[i] for i in sorted(near.tolist())]
            new_part = cabin.geometry
            if hits:
                new_part = shapely.difference(cabin.geometry, union([e.geometry for e in hits]))
            new_parts.append(new_part)
            refs_here = [*refs]
            if existing_version is not None:
                refs_here.append(layer_ref("existing_kommuneplan", existing_version, hits))
            cabin_refs.append(refs_here)
        # Only the parts that are really new are measured, all in one pass over the rasters.
        measured = [i for i, part in enumerate(new_parts) if part.area >= 1.0]
        surfaces = open_surfaces(dem, choice.surface)
        exposures = surfaces.exposures([new_parts[i] for i in measured], self.transition_zone_m)
        exposure_of = dict(zip(measured, exposures, strict=True))
        verdicts = [self._verdict(new_parts[i], exposure_of.get(i)) for i in range(len(cabins))]
        # Conflicts show the part above the tree line, warnings also the transition zone;
        # all are drawn together (a few polygonize calls instead of one per area).
        drawn = iter(
            draw_exposures(
                [(exposure_of[i], v == "warning") for i, v in enumerate(verdicts) if v in DRAWN]
            )
        )
        assessed = [
            self._assess(
                cabin,
                new_parts[i],
                existing_version is not None,
                cabin_refs[i],
                exposure_of.get(i),
                verdicts[i],
                next(drawn) if verdicts[i] in DRAWN else None,
                choice,
            )
            for i, cabin in enumerate(cabins)
        ]
        return self.with_remaining_capacity(plan, assessed)

    def tree_line(self, plan: CheckPlan, layers: LayerSource) -> TreeLineChoice | None:
        """The loaded tree_line layer, else the municipality's configured height, else None."""
        path = layers.raster_path("tree_line")
        if path is not None:
            version = layers.version("tree_line")
            note = derivation_note(path)
            return TreeLineChoice(
                path,
                f"kartlaget tree_line v{version}, " + (note or "innlest datasett"),
                {
                    "tree_line_source": "derived" if note else "loaded",
                    "tree_line_version": version,
                },
            )
        height = self.tree_line_fallback_m.get(plan.municipality.kommunenummer)
        if height is None:
            return None
        return TreeLineChoice(
            float(height),
            f"regelsettets reservehøyde for {plan.municipality.name}: {fmt_masl(height)} "
            "(ingen tregrenseflate er lastet inn)",
            {"tree_line_source": "municipality_fallback", "tree_line_fallback_m": float(height)},
        )

    def _verdict(self, new_part, exposure) -> str:
        """existing (inside adopted cabin areas), unknown, conflict, warning or ok."""
        if exposure is None:
            return "existing"
        if exposure.covered_pct < self.min_data_coverage_pct:
            return "unknown"
        threshold = max(
            self.conflict_min_area_m2, self.conflict_min_share_pct / 100 * new_part.area
        )
        if exposure.above_m2 > threshold:
            return "conflict"
        if exposure.above_m2 > 0 or exposure.transition_m2 > 0:
            return "warning"
        return "ok"

    def _assess(self, cabin, new_part, existing_loaded, refs, exposure, verdict, drawing, choice):
        finding = self._measured(cabin, new_part, existing_loaded, refs, exposure, verdict, drawing)
        # Every finding names the tree line it was measured against (findings are frozen).
        measures = {**finding.measures, **choice.measures}
        message = finding.message
        if verdict != "existing":
            message = f"{message} Tregrense fra {choice.text}."
        return replace(finding, measures=measures, message=message)

    def _measured(self, cabin, new_part, existing_loaded, refs, exposure, verdict, drawing):
        label = feature_label(cabin)
        measures = {
            "area_m2": cabin.geometry.area,
            "new_area_m2": new_part.area,
            "existing_plan_loaded": existing_loaded,
        }
        if verdict == "existing":
            return self.finding(
                "above_tree_line",
                "ok",
                [cabin],
                f"{label} ligger i fritidsbebyggelse i gjeldende kommuneplan og er ikke nytt.",
                "Ingen.",
                measures,
                refs,
            )
        measures |= {
            "data_coverage_pct": exposure.covered_pct,
            "above_tree_line_m2": exposure.above_m2,
            "above_tree_line_pct": share_pct(exposure.above_m2, new_part.area),
            "transition_zone_m2": exposure.transition_m2,
            "transition_zone_pct": share_pct(exposure.transition_m2, new_part.area),
            "max_elevation_m": exposure.max_elevation_m,
            "tree_line_m": exposure.tree_line_at_max_m,
            "max_height_above_tree_line_m": exposure.max_margin_m,
            "transition_zone_width_m": self.transition_zone_m,
        }
        if verdict == "unknown":
            return self.finding(
                "above_tree_line",
                "unknown",
                [cabin],
                f"Ikke kontrollert: terrengmodell og tregrense dekker bare "
                f"{fmt_pct(exposure.covered_pct, 0)} av {label}.",
                "Last inn terrengmodell og tregrense som dekker området og kjør kontrollen igjen.",
                measures,
                refs,
            )
        heights = (
            f"høyeste punkt {fmt_masl(exposure.max_elevation_m)}, "
            f"skoggrensen der {fmt_masl(exposure.tree_line_at_max_m)}"
        )
        if verdict == "conflict":
            return self.finding(
                "above_tree_line",
                "conflict",
                [cabin],
                f"{label}: {fmt_m2(exposure.above_m2)} "
                f"({fmt_pct(measures['above_tree_line_pct'])}) av det nye området ligger over "
                f"skoggrensen ({heights}).",
                "Trekk grensen for fritidsbebyggelsen ned under skoggrensen eller ta området ut "
                "av planen; ellers kan det gi grunnlag for innsigelse.",
                measures,
                refs,
                drawing,
            )
        if verdict == "warning":
            return self.finding(
                "above_tree_line",
                "warning",
                [cabin],
                f"{label}: {fmt_m2(exposure.transition_m2)} ligger i overgangssonen inntil "
                f"{fmt_m(self.transition_zone_m)} under skoggrensen ({heights}).",
                "Vurder å trekke området lenger ned, og sikre i bestemmelsene at bebyggelse "
                "ikke kommer over skoggrensen.",
                measures,
                refs,
                drawing,
            )
        return self.finding(
            "above_tree_line",
            "ok",
            [cabin],
            f"{label} ligger mer enn {fmt_m(self.transition_zone_m)} under skoggrensen "
            f"({heights}).",
            "Ingen.",
            measures,
            refs,
        )
