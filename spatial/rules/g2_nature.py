"""G2: cabin areas must spare recreation areas and large contiguous nature (§6.2.4, guideline 2).

Each new or expanded cabin area is overlaid exactly (polygon overlay, line clipping) with
five guideline layers: mapped recreation areas (value A/B), state-secured recreation areas,
wild reindeer areas, wild reindeer corridors (lines) and intact nature (INON). A layer that
is not loaded yields one `unknown` finding; the other layers are still checked.
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from pydantic import BeforeValidator, Field, model_validator
from shapely.geometry.base import BaseGeometry

from spatial.rules.base import (
    feature_label,
    layer_ref,
    register,
    share_pct,
)
from spatial.rules.cabins import CabinAreaRule
from spatial.rules.model import (
    CheckFeature,
    CheckPlan,
    Finding,
    LayerFeature,
    LayerRef,
    LayerSource,
)
from spatial.rules.text import fmt_m, fmt_m2, fmt_pct, join_words, unnamed

ParamSeverity = Literal["conflict", "warning", "info"]

RECREATION = "recreation_areas"
STATE_RECREATION = "state_recreation_areas"
VILLREIN = "villrein_areas"
CORRIDORS = "villrein_corridors"
INTACT_NATURE = "intact_nature"

# Check name of each layer's findings (recreation findings add the value: recreation_A).
_CHECKS = {
    RECREATION: "recreation",
    STATE_RECREATION: "state_recreation",
    VILLREIN: "villrein",
    CORRIDORS: "corridor",
    INTACT_NATURE: "intact_nature",
}
# What each layer is, in plain words, for messages.
_LAYER_WORDS = {
    RECREATION: "kartlagte friluftslivsområder",
    STATE_RECREATION: "statlig sikrede friluftslivsområder",
    VILLREIN: "villreinområder",
    CORRIDORS: "villreinens trekkveier",
    INTACT_NATURE: "inngrepsfrie naturområder",
}
_RECREATION_VALUE_WORDS = {"A": "svært viktig", "B": "viktig", "C": "registrert"}
_INON_ZONE_WORDS = {
    "villmarkspreget": "villmarkspreget, mer enn 5 km fra tyngre tekniske inngrep",
    "sone 1": "sone 1, 3–5 km fra tyngre tekniske inngrep",
    "sone 2": "sone 2, 1–3 km fra tyngre tekniske inngrep",
}


def _value_set(value: Any) -> frozenset[str]:
    """Read recreation values given as [A, B] (or one value) as upper-case strings."""
    if isinstance(value, str):
        value = [value]
    return frozenset(str(v).strip().upper() for v in value)


ValueSet = Annotated[frozenset[str], BeforeValidator(_value_set)]


# A layer feature meeting a plan area, with their intersection.
_Cut = tuple[LayerFeature, BaseGeometry]


@register("nature_recreation")
class NatureRecreationRule(CabinAreaRule):
    """Overlays each new cabin area with recreation, wild reindeer and intact nature layers."""

    layers = (RECREATION, STATE_RECREATION, VILLREIN, CORRIDORS, INTACT_NATURE)

    recreation_conflict_values: ValueSet
    recreation_warning_values: ValueSet
    villrein_severity: ParamSeverity
    state_recreation_severity: ParamSeverity
    intact_nature_severity: ParamSeverity
    corridor_severity: ParamSeverity
    min_overlap_m2: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _values_in_one_list_only(self) -> "NatureRecreationRule":
        both = self.recreation_conflict_values & self.recreation_warning_values
        if both:
            raise ValueError(
                f"recreation value(s) {sorted(both)} are both conflict and warning values"
            )
        return self

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return findings per new cabin area and layer; ok if none; unknown per missing layer."""
        cabins = sorted(self.new_cabin_areas(plan), key=lambda f: (f.id, f.key))
        if not cabins:
            return [self.no_new_cabin_areas()]
        versions = {layer_id: layers.version(layer_id) for layer_id in self.layers}
        loaded = [layer_id for layer_id in self.layers if versions[layer_id] is not None]
        missing = [layer_id for layer_id in self.layers if versions[layer_id] is None]
        findings = [
            self.unknown(
                _CHECKS[layer_id],
                cabins,
                f"kartlaget {layer_id} ({_LAYER_WORDS[layer_id]}) er ikke lastet inn, så "
                f"{_count_areas(len(cabins))} er ikke kontrollert mot det.",
                layer_id,
            )
            for layer_id in missing
        ]
        if not loaded:
            return findings
        # The layer source selects by bounding box: the cabins' total bounds suffice.
        search_area = shapely.box(*shapely.total_bounds([c.geometry for c in cabins]))
        cabin_geometries = [c.geometry for c in cabins]
        cuts = {
            layer_id: _Candidates(layers.features(layer_id, search_area)).cut_each(cabin_geometries)
            for layer_id in loaded
        }
        for index, cabin in enumerate(cabins):
            found: list[Finding] = []
            for layer_id in loaded:
                here = cuts[layer_id][index]
                found.extend(self._check_layer(layer_id, versions[layer_id], cabin, here))
            if not found:
                found.append(self._ok(cabin, loaded, missing, versions))
            findings.extend(found)
        return self.with_remaining_capacity(plan, findings)

    # --- per layer -------------------------------------------------------------------

    def _check_layer(
        self, layer_id: str, version: int | None, cabin: CheckFeature, cuts: list[_Cut]
    ) -> list[Finding]:
        if layer_id == CORRIDORS:
            return self._corridors(version, cabin, cuts)
        overlaps = self._area_overlaps(cuts)
        if not overlaps:
            return []
        if layer_id == RECREATION:
            return self._recreation(version, cabin, overlaps)
        if layer_id == STATE_RECREATION:
            return [self._state_recreation(version, cabin, overlaps)]
        if layer_id == VILLREIN:
            return [self._villrein(version, cabin, overlaps)]
        return [self._intact_nature(version, cabin, overlaps)]

    def _area_overlaps(self, cuts: list[_Cut]) -> list[tuple[LayerFeature, BaseGeometry]]:
        """Return (feature, overlap) for features overlapping by more than min_overlap_m2."""
        out = []
        for hit, cut in cuts:
            inside = _polygonal(cut)
            if inside.area > self.min_overlap_m2:
                out.append((hit, inside))
        return out

    def _recreation(
        self,
        version: int | None,
        cabin: CheckFeature,
        overlaps: list[tuple[LayerFeature, BaseGeometry]],
    ) -> list[Finding]:
        by_value: dict[str, list[tuple[LayerFeature, BaseGeometry]]] = {}
        for hit, inside in overlaps:
            value = str(hit.attributes.get("value") or "").strip().upper()
            if value in self.recreation_conflict_values | self.recreation_warning_values:
                by_value.setdefault(value, []).append((hit, inside))
        findings = []
        for value in sorted(by_value):
            group = by_value[value]
            severity = "conflict" if value in self.recreation_conflict_values else "warning"
            inside, measures = _overlap_measures(cabin, group)
            names = join_words(_name(hit) for hit, _ in group)
            word = _RECREATION_VALUE_WORDS.get(value)
            value_text = f"verdi {value} ({word})" if word else f"verdi {value}"
            noun = "friluftslivsområdet" if len(group) == 1 else "friluftslivsområdene"
            if severity == "conflict":
                action = (
                    f"Avgrens området slik at {noun} {names} holdes utenfor, eller ta området "
                    "ut av planen."
                )
            else:
                action = (
                    f"Avgrens området slik at {noun} {names} holdes utenfor, eller tilpass "
                    "utbyggingen så stier, løyper og adkomsten til friluftslivsområdet "
                    "ivaretas, og sikre det i bestemmelsene."
                )
            findings.append(
                self.finding(
                    f"recreation_{value}",
                    severity,
                    [cabin],
                    f"{feature_label(cabin)}: {_overlap_text(measures)} ligger i "
                    f"friluftslivsområde med {value_text}: {names}.",
                    _action(action, severity),
                    measures | {"recreation_value": value},
                    [layer_ref(RECREATION, version, [hit for hit, _ in group])],
                    inside,
                )
            )
        return findings

    def _state_recreation(
        self,
        version: int | None,
        cabin: CheckFeature,
        overlaps: list[tuple[LayerFeature, BaseGeometry]],
    ) -> Finding:
        severity = self.state_recreation_severity
        inside, measures = _overlap_measures(cabin, overlaps)
        names = join_words(_name(hit) for hit, _ in overlaps)
        noun = "friluftslivsområdet" if len(overlaps) == 1 else "friluftslivsområdene"
        return self.finding(
            "state_recreation",
            severity,
            [cabin],
            f"{feature_label(cabin)}: {_overlap_text(measures)} ligger i statlig sikret "
            f"friluftslivsområde: {names}.",
            _action(
                f"Avgrens området slik at det statlig sikrede {noun} {names} holdes utenfor; "
                "sikringen forutsetter at området holdes åpent for allmennheten.",
                severity,
            ),
            measures,
            [layer_ref(STATE_RECREATION, version, [hit for hit, _ in overlaps])],
            inside,
        )

    def _villrein(
        self,
        version: int | None,
        cabin: CheckFeature,
        overlaps: list[tuple[LayerFeature, BaseGeometry]],
    ) -> Finding:
        severity = self.villrein_severity
        inside, measures = _overlap_measures(cabin, overlaps)
        areas = join_words(_villrein_label(hit) for hit, _ in overlaps)
        categories = {str(hit.attributes.get("category") or "").lower() for hit, _ in overlaps}
        what = (
            "villreinens leveområde"
            if "leveområde" in categories or not categories - {""}
            else "villreinens funksjonsområde"
        )
        return self.finding(
            "villrein",
            severity,
            [cabin],
            f"{feature_label(cabin)}: {_overlap_text(measures)} ligger i villreinområde: {areas}.",
            _action(
                f"Ta ut området fra {what} {join_words(_name(hit) for hit, _ in overlaps)}, eller "
                "avgrens det slik at villreinområdet holdes utenfor; villreinområdene er av "
                "nasjonal interesse.",
                severity,
            ),
            measures,
            [layer_ref(VILLREIN, version, [hit for hit, _ in overlaps])],
            inside,
        )

    def _intact_nature(
        self,
        version: int | None,
        cabin: CheckFeature,
        overlaps: list[tuple[LayerFeature, BaseGeometry]],
    ) -> Finding:
        severity = self.intact_nature_severity
        inside, measures = _overlap_measures(cabin, overlaps)
        zones = sorted({str(hit.attributes.get("zone") or "") for hit, _ in overlaps} - {""})
        zone_text = (
            " (" + "; ".join(_INON_ZONE_WORDS.get(z.lower(), z) for z in zones) + ")"
            if zones
            else ""
        )
        return self.finding(
            "intact_nature",
            severity,
            [cabin],
            f"{feature_label(cabin)}: {_overlap_text(measures)} ligger i inngrepsfritt "
            f"naturområde{zone_text}.",
            _action(
                "Avgrens området slik at det inngrepsfrie naturområdet holdes utenfor, eller "
                "legg det inntil eksisterende veier og bebyggelse så det sammenhengende "
                "naturområdet ikke blir mindre.",
                severity,
            ),
            measures,
            [layer_ref(INTACT_NATURE, version, [hit for hit, _ in overlaps])],
            inside,
        )

    def _corridors(
        self, version: int | None, cabin: CheckFeature, meeting: list[_Cut]
    ) -> list[Finding]:
        cuts = []
        for hit, cut in meeting:
            inside = _linear(cut)
            if inside.length > 0:
                cuts.append((hit, inside))
        if not cuts:
            return []
        severity = self.corridor_severity
        inside = shapely.union_all([part for _, part in cuts])
        length = inside.length
        names = join_words(_corridor_label(hit) for hit, _ in cuts)
        route, the_route = (
            ("trekkvei", "trekkveien") if len(cuts) == 1 else ("trekkveier", "trekkveiene")
        )
        return [
            self.finding(
                "corridor",
                severity,
                [cabin],
                f"{feature_label(cabin)} krysser villreinens {route} {names}: "
                f"{fmt_m(length)} av {the_route} ligger inne i området.",
                _action(
                    f"Avgrens området slik at {the_route} {names} holdes fri for bebyggelse, "
                    "veier og løyper med god avstand på begge sider, eller ta området ut av "
                    "planen.",
                    severity,
                ),
                {
                    "area_m2": cabin.geometry.area,
                    "cut_length_m": length,
                    "corridors_cut": len(cuts),
                },
                [layer_ref(CORRIDORS, version, [hit for hit, _ in cuts])],
                inside,
            )
        ]

    def _ok(
        self,
        cabin: CheckFeature,
        loaded: Sequence[str],
        missing: Sequence[str],
        versions: dict[str, int | None],
    ) -> Finding:
        values = sorted(self.recreation_conflict_values | self.recreation_warning_values)
        words = [
            f"{_LAYER_WORDS[layer_id]} med verdi {join_words(values, 'eller')}"
            if layer_id == RECREATION and values
            else _LAYER_WORDS[layer_id]
            for layer_id in loaded
        ]
        message = f"{feature_label(cabin)} berører ikke {join_words(words, 'eller')}."
        action = "Ingen."
        if missing:
            message += (
                f" Ikke kontrollert mot {join_words(_LAYER_WORDS[m] for m in missing)}: "
                f"{'kartlaget mangler' if len(missing) == 1 else 'kartlagene mangler'}."
            )
            action = "Last inn de manglende kartlagene og kjør kontrollen på nytt."
        return self.finding(
            "nature_recreation",
            "ok",
            [cabin],
            message,
            action,
            {
                "area_m2": cabin.geometry.area,
                "checked_layers": list(loaded),
                "unchecked_layers": list(missing),
            },
            [LayerRef(layer_id, versions[layer_id]) for layer_id in loaded],
        )


# --- helpers (private to G2) ---------------------------------------------------------


class _Candidates:
    """A layer's candidate features with a spatial index, for exact per-area tests."""

    def __init__(self, features: list[LayerFeature]):
        self._features = sorted(features, key=lambda f: f.id)
        self._tree = shapely.STRtree([f.geometry for f in self._features])

    def cut_each(self, geometries: list[BaseGeometry]) -> list[list[_Cut]]:
        """Return for each geometry the features that really intersect it, by id, each with
        the intersection (all pairs cut in one vectorised call)."""
        out: list[list[_Cut]] = [[] for _ in geometries]
        if not self._features or not geometries:
            return out
        shapes = np.asarray(geometries, dtype=object)
        which, hit = self._tree.query(shapes, predicate="intersects")
        order = np.lexsort((hit, which))
        which, hit = which[order], hit[order]
        cuts = shapely.intersection(shapes[which], self._tree.geometries[hit])
        for i, j, cut in zip(which.tolist(), hit.tolist(), cuts, strict=True):
            out[i].append((self._features[j], cut))
        return out


def _parts(geometry: BaseGeometry) -> list[BaseGeometry]:
    """Return the single-part geometries of a (nested) collection."""
    out: list[BaseGeometry] = []
    stack = [geometry]
    while stack:
        g = stack.pop()
        if g.is_empty:
            continue
        if hasattr(g, "geoms"):
            stack.extend(g.geoms)
        else:
            out.append(g)
    return out


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Keep the area parts of an intersection (drop touching edges and points)."""
    polygons = [p for p in _parts(geometry) if p.geom_type == "Polygon"]
    if not polygons:
        return shapely.Polygon()
    return polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)


def _linear(geometry: BaseGeometry) -> BaseGeometry:
    """Keep the line parts of an intersection (drop touching points)."""
    lines = [p for p in _parts(geometry) if p.geom_type in ("LineString", "LinearRing")]
    if not lines:
        return shapely.LineString()
    return lines[0] if len(lines) == 1 else shapely.union_all(lines)


def _overlap_measures(
    cabin: CheckFeature, overlaps: list[tuple[LayerFeature, BaseGeometry]]
) -> tuple[BaseGeometry, dict[str, Any]]:
    """Union the overlaps (no double counting) and measure them against the cabin area."""
    inside = shapely.union_all([part for _, part in overlaps])
    area = cabin.geometry.area
    return inside, {
        "area_m2": area,
        "overlap_m2": inside.area,
        "overlap_pct": share_pct(inside.area, area),
    }


def _overlap_text(measures: dict[str, Any]) -> str:
    return f"{fmt_m2(measures['overlap_m2'])} ({fmt_pct(measures['overlap_pct'])}) av området"


def _action(text: str, severity: str) -> str:
    """Add what a conflict can lead to: an objection (innsigelse)."""
    if severity == "conflict":
        return f"{text} Ellers kan det gi grunnlag for innsigelse."
    return text


def _name(feature: LayerFeature) -> str:
    name = str(feature.attributes.get("name") or "").strip()
    return f"«{name}»" if name else f"uten navn ({unnamed(feature.key)})"


def _villrein_label(feature: LayerFeature) -> str:
    category = str(feature.attributes.get("category") or "").strip()
    function = str(feature.attributes.get("function") or "").strip()
    kind = f"{category}: {function}" if category and function else category or function
    return f"{_name(feature)} ({kind})" if kind else _name(feature)


def _corridor_label(feature: LayerFeature) -> str:
    area = str(feature.attributes.get("villrein_area") or "").strip()
    return f"{_name(feature)} ({area})" if area else _name(feature)


def _count_areas(count: int) -> str:
    return "1 nytt fritidsboligområde" if count == 1 else f"{count} nye fritidsboligområder"
