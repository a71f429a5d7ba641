"""G3: safeguard mineral resources (Buskerudplanen §6.2.5).

(a) Plan areas whose purpose would sterilise extraction (building, cabins, transport, green
structure, spread development) are measured against NGU deposits of protected importance:
an overlap larger than `min_overlap_m2` is a conflict, anything else within `buffer_m` a
warning (noise and dust complaints restrict extraction), otherwise ok. There is one finding
per plan area: every deposit the area overlaps goes into that one conflict (all their ids in
the layer reference, each deposit's own loss in the message), so an area is never reported
twice and the per-area ok reads the same way. An overlap no larger than `min_overlap_m2` is
a digitising sliver: the area then touches the deposit and gets the buffer warning at 0 m.

(b) Kommuneplan only: each deposit of protected importance inside the plan boundary should
be covered by arealformål råstoffutvinning or hensynssone H590; one finding per deposit,
measured only inside the boundary, with the uncovered part as geometry.
"""

from collections.abc import Iterable

import shapely

from spatial.geometry import union
from spatial.rules.base import (
    CodeSet,
    FeatureNaming,
    Rule,
    WithinReach,
    feature_label,
    layer_ref,
    overlapping_by_area,
    register,
    share_pct,
    within_reach,
)
from spatial.rules.model import CheckFeature, CheckPlan, Finding, LayerFeature, LayerSource
from spatial.rules.selection import areas_except_status
from spatial.rules.text import fmt_m, fmt_m2, fmt_pct, join_words, unnamed

LAYER = "mineral_deposits"


@register("minerals")
class MineralsRule(Rule):
    """Checks sterilising plan areas against mineral deposits, and their safeguarding."""

    layers = (LAYER,)

    sterilising_purposes: CodeSet
    protected_importance: list[str]
    existing_status: CodeSet
    buffer_m: float
    safeguard_purposes: CodeSet
    safeguard_zones: CodeSet
    omission_min_uncovered_pct: float
    min_overlap_m2: float

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return a finding per sterilising area and, in a kommuneplan, per deposit."""
        areas = sorted(
            areas_except_status(plan, self.sterilising_purposes, self.existing_status),
            key=lambda f: f.id,
        )
        if not areas and not plan.is_kommuneplan:
            return [
                self.finding(
                    "no_sterilising_areas",
                    "info",
                    [],
                    "Retningslinjen gjelder ikke: planen har ingen områder for bebyggelse, "
                    "samferdsel, grønnstruktur eller fritidsbebyggelse som kan båndlegge "
                    "mineralressurser.",
                    "Ingen.",
                )
            ]
        version = layers.version(LAYER)
        if version is None:
            return [
                self.unknown(
                    "deposit_overlap",
                    areas,
                    f"kartlaget {LAYER} (mineralressurser fra NGU) mangler, så verken "
                    "overlapp med forekomster eller sikring av dem er kontrollert",
                    LAYER,
                )
            ]
        findings = []
        if areas:
            reach = shapely.box(*shapely.total_bounds([a.geometry for a in areas]))
            deposits = self._protected(layers.features(LAYER, reach.buffer(self.buffer_m)))
            found = within_reach(areas, deposits, self.buffer_m, self.min_overlap_m2)
            findings.extend(
                self._sterilising(area, near, version)
                for area, near in zip(areas, found, strict=True)
            )
        if plan.is_kommuneplan:
            findings.extend(self._safeguarding(plan, layers, version))
        return findings

    def _protected(self, features: Iterable[LayerFeature]) -> list[LayerFeature]:
        wanted = {i.lower() for i in self.protected_importance}
        return sorted(
            (f for f in features if str(f.attributes.get("importance", "")).lower() in wanted),
            key=lambda f: f.id,
        )

    def _importance_text(self) -> str:
        return join_words(self.protected_importance, "eller") + " betydning"

    def _sterilising(self, area: CheckFeature, found: WithinReach, version: int) -> Finding:
        """(a) One finding for one sterilising area and the deposits within the buffer."""
        label = feature_label(area)
        overlapping, nearby = found.overlapping, found.nearby
        area_m2 = area.geometry.area
        if overlapping:
            hits = [d for d, _ in overlapping]
            lost = union([inside for _, inside in overlapping])
            deposit_m2 = union([d.geometry for d in hits]).area
            measures = {
                "area_m2": area_m2,
                "overlap_m2": lost.area,
                "overlap_pct": share_pct(lost.area, area_m2),
                "deposit_area_m2": deposit_m2,
                "deposit_lost_pct": share_pct(lost.area, deposit_m2),
                **DEPOSITS.measures(hits),
            }
            parts = [
                f"{_describe(d)} med {fmt_m2(inside.area)} "
                f"({fmt_pct(share_pct(inside.area, d.geometry.area))} av forekomstens "
                f"{fmt_m2(d.geometry.area)})"
                for d, inside in overlapping
            ]
            noun = "mineralforekomsten" if len(hits) == 1 else "mineralforekomstene"
            message = (
                f"{label} overlapper {noun} {join_words(parts, 'og')}. "
                f"{fmt_m2(lost.area)} ({fmt_pct(measures['overlap_pct'])} av området) blir "
                "bygd ned eller båndlagt og kan ikke tas ut senere."
            )
            if nearby:
                also = DEPOSITS.distances(nearby)
                message += f" I tillegg ligger {also} innenfor {fmt_m(self.buffer_m)}."
            return self.finding(
                "deposit_overlap",
                "conflict",
                [area],
                message,
                "Ta forekomsten ut av området, eller legg den inn som arealformål "
                f"råstoffutvinning ({min(self.safeguard_purposes)}) eller hensynssone "
                f"{_zone_codes(self.safeguard_zones)}; nedbygging av forekomsten kan gi "
                "grunnlag for innsigelse.",
                measures,
                [layer_ref(LAYER, version, hits)],
                lost,
            )
        if nearby:
            return self.buffer_warning(
                "deposit_buffer",
                area,
                found,
                self.buffer_m,
                (LAYER, version),
                DEPOSITS,
                "Støy og støv fra uttak kan gi konflikter som begrenser uttaket.",
                f"Trekk området minst {fmt_m(self.buffer_m)} unna forekomsten, eller velg en "
                "arealbruk som tåler støy og støv fra framtidig uttak.",
            )
        return self.finding(
            "deposit_overlap",
            "ok",
            [area],
            f"{label} ligger mer enn {fmt_m(self.buffer_m)} fra mineralforekomster av "
            f"{self._importance_text()}.",
            "Ingen.",
            {"area_m2": area_m2, "buffer_m": self.buffer_m},
            [layer_ref(LAYER, version, [])],
        )

    def _safeguarding(self, plan: CheckPlan, layers: LayerSource, version: int) -> list[Finding]:
        """(b) Whether each protected deposit inside the plan boundary is safeguarded."""
        boundary = plan.boundary()
        covering = sorted(
            [a for a in plan.areas() if a.arealformal in self.safeguard_purposes]
            + plan.zones(self.safeguard_zones),
            key=lambda f: f.id,
        )
        safeguard = (
            f"arealformål råstoffutvinning ({min(self.safeguard_purposes)}) eller "
            f"hensynssone {_zone_codes(self.safeguard_zones)}"
        )
        findings = []
        for deposit in self._protected(layers.features(LAYER, boundary)):
            inside = shapely.intersection(deposit.geometry, boundary)
            if inside.area <= self.min_overlap_m2:
                continue  # outside, or a sliver along the boundary
            cover = overlapping_by_area(inside, covering)
            uncovered = inside
            if cover:
                uncovered = shapely.difference(inside, union([c.geometry for c in cover]))
            measures = {
                "deposit_area_m2": inside.area,
                "covered_m2": inside.area - uncovered.area,
                "uncovered_m2": uncovered.area,
                "uncovered_pct": share_pct(uncovered.area, inside.area),
                "deposit_name": _name(deposit),
                "deposit_importance": deposit.attributes.get("importance"),
            }
            refs = [layer_ref(LAYER, version, [deposit])]
            if measures["uncovered_pct"] > self.omission_min_uncovered_pct:
                findings.append(
                    self.finding(
                        "not_safeguarded",
                        "warning",
                        cover,
                        f"Mineralforekomsten {_describe(deposit)} er ikke sikret: "
                        f"{fmt_m2(uncovered.area)} ({fmt_pct(measures['uncovered_pct'])}) av "
                        f"forekomsten innenfor planområdet er ikke dekket av {safeguard}.",
                        f"Legg forekomsten inn som {safeguard} (sikring av mineralressurser), "
                        "slik at den ikke bygges ned.",
                        measures,
                        refs,
                        uncovered,
                    )
                )
            else:
                findings.append(
                    self.finding(
                        "not_safeguarded",
                        "ok",
                        cover,
                        f"Mineralforekomsten {_describe(deposit)} er sikret med {safeguard} "
                        f"innenfor planområdet ({fmt_m2(inside.area)}).",
                        "Ingen.",
                        measures,
                        refs,
                    )
                )
        if not findings:
            findings.append(
                self.finding(
                    "not_safeguarded",
                    "ok",
                    [],
                    f"Ingen mineralforekomster av {self._importance_text()} ligger innenfor "
                    "planområdet.",
                    "Ingen.",
                    {},
                    [layer_ref(LAYER, version, [])],
                )
            )
        return findings


def _name(deposit: LayerFeature) -> str:
    return str(
        deposit.attributes.get("name")
        or deposit.attributes.get("deposit_id")
        or unnamed(deposit.key)
    )


def _describe(deposit: LayerFeature, *extra: str) -> str:
    """Name a deposit in a message: «Skollenborg» (grus, regional betydning)."""
    details = [
        str(value)
        for value in (deposit.attributes.get("resource_type"), deposit.attributes.get("importance"))
        if value
    ]
    if deposit.attributes.get("importance"):
        details[-1] += " betydning"
    details.extend(extra)
    return f"«{_name(deposit)}» ({', '.join(details)})" if details else f"«{_name(deposit)}»"


# Deposits in measures (deposit_names, deposit_importance) and messages.
DEPOSITS = FeatureNaming(
    "deposit",
    ("importance", "importance"),
    _name,
    _describe,
    "mineralforekomsten",
    "mineralforekomstene",
)


def _zone_codes(codes: Iterable[int]) -> str:
    return join_words([f"H{code}" for code in sorted(codes)], "eller")
