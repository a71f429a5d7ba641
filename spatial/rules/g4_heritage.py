"""G4: cultural heritage (Buskerudplanen §6.2.2, guidelines 1 and 2).

(a) Plan areas for development are measured against every protected heritage feature
(lokalitet, enkeltminne, sikringssone, fredet kulturmiljø): an overlap larger than
`min_overlap_m2` is a conflict, anything else within `buffer_m` a warning ("must be
adapted"), otherwise ok. There is one finding per plan area: every heritage feature the area
overlaps goes into that one conflict (a site and its sikringssone are separate features and
are both named), and the distance of a warning is to the nearest feature. An overlap no
larger than `min_overlap_m2` counts as touching: a warning at 0 m.

(b) Kommuneplan only: cultural environments (all categories), environments of municipal
cultural-heritage plans and protected cultural environments inside the plan boundary should
be covered by hensynssone H570 (H570 or H730 for protected ones); one finding per
environment, measured inside the boundary, the uncovered part as geometry. A layer that is
not loaded gives an unknown finding for its part only.

In a reguleringsplan, a development area reaching into a cultural environment of national
interest or a selected cultural landscape (UKL) gets an info finding with the overlap, since
(b) only applies to kommuneplaner.
"""

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

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
from spatial.rules.model import (
    CheckFeature,
    CheckPlan,
    Finding,
    LayerFeature,
    LayerRef,
    LayerSource,
)
from spatial.rules.selection import areas_except_status
from spatial.rules.text import fmt_m, fmt_m2, fmt_pct, join_words, unnamed

HERITAGE = "heritage_protected"
ENVIRONMENTS = "cultural_environments"
HERITAGE_PLANS = "municipal_heritage_plans"
PROTECTED_ENVIRONMENT = "fredet kulturmiljø"
# SOSI code list Vernetype as Riksantikvaren uses it (layers/config/heritage_protected.yaml).
VERNETYPER = {
    "AUT": "automatisk fredet",
    "VED": "vedtaksfredet",
    "FOR": "forskriftsfredet",
    "MID": "midlertidig fredet",
    "FPG": "fredningssak pågår",
    "LIST": "listeført",
    "UAV": "uavklart vernestatus",
    "IKKEV": "ikke fredet",
    "FJE": "fjernet",
}


@register("heritage")
class HeritageRule(Rule):
    """Checks development areas against protected heritage, and consideration zones."""

    layers = (HERITAGE, ENVIRONMENTS, HERITAGE_PLANS)

    development_purposes: CodeSet
    existing_status: CodeSet
    buffer_m: float
    environment_zones: CodeSet
    protected_environment_zones: CodeSet
    omission_min_uncovered_pct: float
    min_overlap_m2: float
    overlap_info_categories: frozenset[str]
    unprotected_vernetyper: frozenset[str]

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return a finding per development area and, in a kommuneplan, per environment."""
        areas = sorted(
            areas_except_status(plan, self.development_purposes, self.existing_status),
            key=lambda f: f.id,
        )
        if not areas and not plan.is_kommuneplan:
            return [
                self.finding(
                    "no_development_areas",
                    "info",
                    [],
                    "Retningslinjen gjelder ikke: planen har ingen områder for utbygging "
                    "(bebyggelse, samferdsel eller spredt utbygging).",
                    "Ingen.",
                )
            ]
        findings: list[Finding] = []
        if areas:
            findings.extend(self._protected_sites(areas, layers))
            if not plan.is_kommuneplan:
                findings.extend(self._environment_overlaps(areas, layers))
        if plan.is_kommuneplan:
            findings.extend(self._consideration_zones(plan, layers))
        return findings

    # --- (a) development near protected heritage -------------------------------------

    def _protected_sites(self, areas: list[CheckFeature], layers: LayerSource) -> list[Finding]:
        version = layers.version(HERITAGE)
        if version is None:
            return [
                self.unknown(
                    "protected_overlap",
                    areas,
                    f"kartlaget {HERITAGE} (fredete kulturminner og sikringssoner) mangler",
                    HERITAGE,
                )
            ]
        sites = [
            site
            for site in _candidates(layers, HERITAGE, areas, self.buffer_m)
            if str(site.attributes.get("vernetype") or "") not in self.unprotected_vernetyper
        ]
        reach = within_reach(areas, sites, self.buffer_m, self.min_overlap_m2)
        return [
            self._assess_site(area, found, version)
            for area, found in zip(areas, reach, strict=True)
        ]

    def _assess_site(self, area: CheckFeature, found: WithinReach, version: int) -> Finding:
        """Judge one area by the protected heritage features within reach of it."""
        label = feature_label(area)
        overlapping, nearby = found.overlapping, found.nearby
        area_m2 = area.geometry.area
        if overlapping:
            hits = [s for s, _ in overlapping]
            inside = union([i for _, i in overlapping])
            measures = {
                "area_m2": area_m2,
                "overlap_m2": inside.area,
                "overlap_pct": share_pct(inside.area, area_m2),
                **SITES.measures(hits),
            }
            message = (
                f"{label} overlapper {join_words([_describe_site(s) for s in hits], 'og')} med "
                f"{fmt_m2(inside.area)} ({fmt_pct(measures['overlap_pct'])} av området). Inngrep i "
                "fredete kulturminner, sikringssoner og fredete kulturmiljøer er forbudt uten "
                "dispensasjon etter kulturminneloven."
            )
            if nearby:
                also = SITES.distances(nearby)
                message += f" I tillegg ligger {also} innenfor {fmt_m(self.buffer_m)}."
            return self.finding(
                "protected_overlap",
                "conflict",
                [area],
                message,
                "Ta kulturminnet med sikringssone ut av utbyggingsområdet (f.eks. som "
                "grønnstruktur eller hensynssone H730), og kontakt fylkeskommunen (kulturarv); "
                "ellers kan planen få innsigelse.",
                measures,
                [layer_ref(HERITAGE, version, hits)],
                inside,
            )
        if nearby:
            return self.buffer_warning(
                "protected_buffer",
                area,
                found,
                self.buffer_m,
                (HERITAGE, version),
                SITES,
                "Utbyggingen må tilpasses kulturminnet.",
                "Tilpass tiltaket til kulturminnet (plassering, høyder, terrenginngrep og "
                "vegetasjon), gjerne med en buffer av grønnstruktur; kontakt fylkeskommunen "
                "(kulturarv).",
            )
        return self.finding(
            "protected_overlap",
            "ok",
            [area],
            f"{label} ligger mer enn {fmt_m(self.buffer_m)} fra fredete kulturminner, "
            "sikringssoner og fredete kulturmiljøer.",
            "Ingen.",
            {"area_m2": area_m2, "buffer_m": self.buffer_m},
            [layer_ref(HERITAGE, version, [])],
        )

    # --- reguleringsplan: development in notable cultural environments (info) --------

    def _environment_overlaps(
        self, areas: list[CheckFeature], layers: LayerSource
    ) -> list[Finding]:
        version = layers.version(ENVIRONMENTS)
        if version is None:
            return [
                self.unknown(
                    "environment_overlap",
                    areas,
                    f"kartlaget {ENVIRONMENTS} (kulturmiljøer og kulturlandskap av nasjonal "
                    "interesse) mangler",
                    ENVIRONMENTS,
                )
            ]
        environments = [
            e
            for e in _candidates(layers, ENVIRONMENTS, areas, 0.0)
            if str(e.attributes.get("category", "")).lower() in self.overlap_info_categories
        ]
        findings = []
        for area in areas:
            overlapping = [
                (e, inside)
                for e in environments
                if (inside := shapely.intersection(area.geometry, e.geometry)).area
                > self.min_overlap_m2
            ]
            if not overlapping:
                continue
            hits = [e for e, _ in overlapping]
            inside = union([i for _, i in overlapping])
            measures = {
                "area_m2": area.geometry.area,
                "overlap_m2": inside.area,
                "overlap_pct": share_pct(inside.area, area.geometry.area),
                "environment_names": [_name(e) for e in hits],
                "environment_categories": [e.attributes.get("category") for e in hits],
            }
            findings.append(
                self.finding(
                    "environment_overlap",
                    "info",
                    [area],
                    f"{fmt_m2(inside.area)} ({fmt_pct(measures['overlap_pct'])}) av "
                    f"{feature_label(area)} ligger i "
                    f"{join_words([_describe_environment(ENVIRONMENTS, e) for e in hits], 'og')}.",
                    "Vis i planbeskrivelsen hvordan utbyggingen tilpasses kulturmiljøet og "
                    "landskapet, og ta kontakt med fylkeskommunen (kulturarv) tidlig.",
                    measures,
                    [layer_ref(ENVIRONMENTS, version, hits)],
                    inside,
                )
            )
        return findings

    # --- (b) kommuneplan: consideration zones over cultural environments --------------

    def _consideration_zones(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        boundary = plan.boundary()
        findings: list[Finding] = []
        checked: list[LayerRef] = []
        for layer_id in (ENVIRONMENTS, HERITAGE_PLANS, HERITAGE):
            version = layers.version(layer_id)
            if version is None:
                part = (
                    "fredete kulturmiljøer" if layer_id == HERITAGE else "kulturmiljøer"
                ) + " innenfor planområdet er ikke kontrollert for hensynssone"
                findings.append(
                    self.unknown(
                        "no_consideration_zone",
                        [],
                        f"kartlaget {layer_id} mangler; {part}",
                        layer_id,
                    )
                )
                continue
            checked.append(layer_ref(layer_id, version, []))
            if layer_id == HERITAGE:
                # Only protected environments need a zone; the database leaves out the
                # (many thousand) single sites and their sikringssoner.
                where = {"category": [PROTECTED_ENVIRONMENT]}
                features = sorted(layers.features(layer_id, boundary, where), key=lambda f: f.id)
                codes = self.protected_environment_zones
            else:
                features = sorted(layers.features(layer_id, boundary), key=lambda f: f.id)
                codes = self.environment_zones
            zones = sorted(plan.zones(codes), key=lambda f: f.id)
            for feature in features:
                inside = shapely.intersection(feature.geometry, boundary)
                if inside.area <= self.min_overlap_m2:
                    continue  # outside, or a sliver along the boundary
                findings.append(self._assess_zone(layer_id, version, feature, inside, zones, codes))
        if checked and not any(f.severity != "unknown" for f in findings):
            findings.append(
                self.finding(
                    "no_consideration_zone",
                    "ok",
                    [],
                    "Ingen kulturmiljøer eller kulturlandskap som skal ha hensynssone ligger "
                    "innenfor planområdet.",
                    "Ingen.",
                    {},
                    checked,
                )
            )
        return findings

    def _assess_zone(
        self,
        layer_id: str,
        version: int,
        feature: LayerFeature,
        inside: BaseGeometry,
        zones: list[CheckFeature],
        codes: frozenset[int],
    ) -> Finding:
        cover = overlapping_by_area(inside, zones)
        uncovered = inside
        if cover:
            uncovered = shapely.difference(inside, union([z.geometry for z in cover]))
        measures: dict[str, Any] = {
            "environment_area_m2": inside.area,
            "covered_m2": inside.area - uncovered.area,
            "uncovered_m2": uncovered.area,
            "uncovered_pct": share_pct(uncovered.area, inside.area),
            "environment_name": _name(feature),
            "required_zones": [f"H{c}" for c in sorted(codes)],
        }
        described = _describe_environment(layer_id, feature)
        zone_text = join_words([f"H{c}" for c in sorted(codes)], "eller")
        refs = [layer_ref(layer_id, version, [feature])]
        if measures["uncovered_pct"] > self.omission_min_uncovered_pct:
            if layer_id == HERITAGE:
                action = (
                    "Legg inn hensynssone H730 (båndlegging etter kulturminneloven) eller H570 "
                    "(bevaring kulturmiljø) over det fredete kulturmiljøet."
                )
            else:
                action = (
                    "Legg inn hensynssone H570 (bevaring kulturmiljø) over kulturmiljøet, med "
                    "retningslinjer som sikrer verdiene."
                )
            return self.finding(
                "no_consideration_zone",
                "warning",
                cover,
                f"{_capitalise(described)}: {fmt_m2(uncovered.area)} "
                f"({fmt_pct(measures['uncovered_pct'])}) innenfor planområdet er ikke dekket av "
                f"hensynssone {zone_text}.",
                action,
                measures,
                refs,
                uncovered,
            )
        return self.finding(
            "no_consideration_zone",
            "ok",
            cover,
            f"{_capitalise(described)} er dekket av hensynssone {zone_text} innenfor "
            f"planområdet ({fmt_m2(inside.area)}).",
            "Ingen.",
            measures,
            refs,
        )


def _candidates(
    layers: LayerSource, layer_id: str, areas: list[CheckFeature], reach_m: float
) -> list[LayerFeature]:
    """Features whose bounding box comes within `reach_m` of an area's bounding box."""
    return layers.features_near(layer_id, [a.geometry for a in areas], reach_m)


def _name(feature: LayerFeature) -> str:
    return str(
        feature.attributes.get("name")
        or feature.attributes.get("heritage_id")
        or unnamed(feature.key)
    )


def _describe_site(site: LayerFeature, *extra: str) -> str:
    """Name a protected feature: «Gravhaug ved Stein» (lokalitet, automatisk fredet)."""
    attributes = site.attributes
    vernetype = attributes.get("vernetype")
    details = [
        str(value)
        for value in (attributes.get("category"), VERNETYPER.get(vernetype or "", vernetype))
        if value
    ]
    details.extend(extra)
    return f"«{_name(site)}» ({', '.join(details)})" if details else f"«{_name(site)}»"


# Protected heritage in measures (heritage_names, heritage_categories) and messages.
SITES = FeatureNaming("heritage", ("categories", "category"), _name, _describe_site)


def _describe_environment(layer_id: str, feature: LayerFeature) -> str:
    """Name a cultural environment with what makes it one."""
    if layer_id == HERITAGE:
        return f"det fredete kulturmiljøet «{_name(feature)}»"
    if layer_id == HERITAGE_PLANS:
        source = feature.attributes.get("plan_name") or "kommunal kulturminneplan"
        return f"kulturmiljøet «{_name(feature)}» ({source})"
    category = feature.attributes.get("category")
    return (
        f"kulturmiljøet «{_name(feature)}» ({category})"
        if category
        else f"kulturmiljøet «{_name(feature)}»"
    )


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
