"""The rule base class, the registry of rule classes, and helpers shared by rules."""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np
import shapely
from pydantic import BaseModel, BeforeValidator, ConfigDict
from shapely.geometry.base import BaseGeometry

from spatial.figures import stored
from spatial.geometry import union
from spatial.rules.model import (
    CheckFeature,
    CheckPlan,
    Finding,
    LayerFeature,
    LayerRef,
    LayerSource,
    Severity,
)
from spatial.rules.text import fmt_m, join_words

RULE_CLASSES: dict[str, type["Rule"]] = {}


def register(name: str) -> Callable[[type["Rule"]], type["Rule"]]:
    """Register a rule class under the name rule set files use in `class:`."""

    def decorate(cls: type[Rule]) -> type[Rule]:
        if name in RULE_CLASSES:
            raise ValueError(f"rule class '{name}' is registered twice")
        RULE_CLASSES[name] = cls
        return cls

    return decorate


def _expand_codes(value: Any) -> frozenset[int]:
    """Read a code set given as [1120, "1121-1123", ...]."""
    if isinstance(value, (int, str)):
        value = [value]
    codes: set[int] = set()
    for item in value:
        if isinstance(item, int):
            codes.add(item)
            continue
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(item))
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if low > high:
                raise ValueError(f"code range '{item}' runs backwards")
            codes.update(range(low, high + 1))
        elif str(item).strip().isdigit():
            codes.add(int(str(item).strip()))
        else:
            raise ValueError(f"'{item}' is not a code or a range like '1110-1119'")
    return frozenset(codes)


CodeSet = Annotated[frozenset[int], BeforeValidator(_expand_codes)]


class Rule(BaseModel):
    """A guideline rule: metadata and validated parameters, and one method that evaluates it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    paragraph: str
    title: str
    text: str
    layers: ClassVar[tuple[str, ...]] = ()

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return the findings of this rule for a plan."""
        raise NotImplementedError(f"{type(self).__name__} must implement evaluate()")

    def finding(
        self,
        check: str,
        severity: Severity,
        features: Iterable[CheckFeature],
        message: str,
        action: str,
        measures: dict[str, Any] | None = None,
        layer_refs: Iterable[LayerRef] = (),
        geometry: BaseGeometry | None = None,
    ) -> Finding:
        """Build a finding of this rule."""
        features = list(features)
        if geometry is not None and geometry.is_empty:
            geometry = None
        return Finding(
            rule_id=self.id,
            check=check,
            paragraph=self.paragraph,
            severity=severity,
            plan_feature_ids=tuple(f.id for f in features),
            plan_feature_keys=tuple(f.key for f in features),
            plan_feature_names=tuple(f.label for f in features),
            layer_refs=tuple(layer_refs),
            measures=_rounded(measures or {}),
            message=message,
            suggested_action=action,
            geometry=geometry,
        )

    def buffer_warning(
        self,
        check: str,
        area: CheckFeature,
        found: "WithinReach",
        buffer_m: float,
        layer: tuple[str, int | None],
        naming: "FeatureNaming",
        consequence: str,
        action: str,
    ) -> Finding:
        """A warning for an area within `buffer_m` of layer features it does not overlap.

        `found.nearby` must not be empty; the distance is to the nearest feature and the
        geometry is the part of the area within the buffer.
        """
        hits = [f for f, _ in found.nearby]
        distance = found.nearby[0][1]
        measures = {
            "area_m2": area.geometry.area,
            "distance_m": distance,
            "buffer_m": buffer_m,
            **naming.measures(hits),
            f"{naming.prefix}_distances_m": [stored("distance_m", m) for _, m in found.nearby],
        }
        buffer = fmt_m(buffer_m)
        if len(hits) == 1:
            named = _with_noun(naming.noun_one, naming.describe(hits[0]))
            where = f"{fmt_m(distance)} fra {named}, innenfor {buffer}"
        else:
            named = _with_noun(naming.noun_many, naming.distances(found.nearby))
            where = f"innenfor {buffer} fra {named}"
        return self.finding(
            check,
            "warning",
            [area],
            f"{feature_label(area)} ligger {where}. {consequence}",
            action,
            measures,
            [layer_ref(layer[0], layer[1], hits)],
            found.near_zone(area.geometry, buffer_m),
        )

    def unknown(
        self, check: str, features: Iterable[CheckFeature], reason: str, layer_id: str
    ) -> Finding:
        """A finding saying the check could not be made; never to be read as ok."""
        return self.finding(
            check,
            "unknown",
            features,
            f"Ikke kontrollert: {reason}",
            f"Last inn eller oppdater kartlaget «{layer_id}» og kjør kontrollen på nytt.",
            {"reason": reason},
            [LayerRef(layer_id, None)],
        )


def _rounded(measures: dict[str, Any]) -> dict[str, Any]:
    # Stored as spatial.figures rounds them (step 1 of the one rounding rule).
    out: dict[str, Any] = {}
    for name, value in measures.items():
        if isinstance(value, float):
            out[name] = stored(name, value)
        else:
            out[name] = value
    return out


def feature_label(feature: CheckFeature) -> str:
    """Name a plan area in a message: its feltnavn/id, purpose code in brackets."""
    code = feature.arealformal or feature.hensynssone
    return f"{feature.label} ({code})" if code else feature.label


def overlap(geometry: BaseGeometry, candidates: list[Any]) -> tuple[BaseGeometry, list[Any]]:
    """Return the part of `geometry` inside any candidate and the candidates it meets."""
    hits = [c for c in candidates if shapely.intersects(geometry, c.geometry)]
    if not hits:
        return shapely.Polygon(), []
    inside = shapely.intersection(geometry, union([c.geometry for c in hits]))
    return inside, hits


def overlapping_by_area(geometry: BaseGeometry, features: Sequence[Any]) -> list[Any]:
    """The features sharing some area with `geometry` (not just an edge), in their order."""
    if not features:
        return []
    # The index finds the features that intersect at all; only those are cut.
    near = shapely.STRtree([f.geometry for f in features]).query(geometry, predicate="intersects")
    return [
        features[i]
        for i in sorted(near.tolist())
        if shapely.intersection(geometry, features[i].geometry).area > 0
    ]


def layer_ref(layer_id: str, version: int | None, hits: Iterable[Any]) -> LayerRef:
    """Reference the given layer features."""
    hits = list(hits)
    return LayerRef(
        layer_id,
        version,
        tuple(h.id for h in hits),
        tuple(h.key for h in hits),
    )


def share_pct(part: float, whole: float) -> float:
    """Return part/whole in percent (0 when whole is 0)."""
    return 100.0 * part / whole if whole > 0 else 0.0


@dataclass(frozen=True)
class FeatureNaming:
    """How a rule names the layer features of its findings, in measures and in messages."""

    prefix: str  # measures <prefix>_names, <prefix>_<kind measure>, <prefix>_distances_m
    kind: tuple[str, str]  # (measure suffix, attribute), e.g. ("categories", "category")
    name: Callable[[LayerFeature], str]
    describe: Callable[..., str]  # describe(feature, *extra): «Name» (details, extra)
    noun_one: str = ""  # put before one feature's description ("mineralforekomsten")
    noun_many: str = ""  # put before several

    def measures(self, features: Sequence[LayerFeature]) -> dict[str, Any]:
        """The features' names and kinds, as measures."""
        measure, attribute = self.kind
        return {
            f"{self.prefix}_names": [self.name(f) for f in features],
            f"{self.prefix}_{measure}": [f.attributes.get(attribute) for f in features],
        }

    def distances(self, nearby: Sequence[tuple[LayerFeature, float]]) -> str:
        """Name features with their distances: «A» (…, 70 m unna) og «B» (…, 90 m unna)."""
        return join_words([self.describe(f, f"{fmt_m(m)} unna") for f, m in nearby], "og")


def _with_noun(noun: str, text: str) -> str:
    return f"{noun} {text}" if noun else text


@dataclass(frozen=True)
class WithinReach:
    """The layer features within reach of one plan area, split by how they meet it."""

    overlapping: list[tuple[LayerFeature, BaseGeometry]]  # (feature, the part it shares)
    nearby: list[tuple[LayerFeature, float]]  # (feature, distance in m), nearest first

    def near_zone(self, area: BaseGeometry, reach_m: float) -> BaseGeometry:
        """The part of the area within `reach_m` of the nearby features."""
        return shapely.intersection(
            area, union([f.geometry for f, _ in self.nearby]).buffer(reach_m)
        )


def within_reach(
    areas: Sequence[CheckFeature],
    features: Sequence[LayerFeature],
    reach_m: float,
    min_overlap_m2: float,
) -> list[WithinReach]:
    """For each area, the features within `reach_m`: overlapping by more than
    `min_overlap_m2`, or else nearby with their distance (a touch counts as nearby at 0 m).

    Every (area, feature) pair is measured in one vectorised GEOS call per measure: the
    shared part only where the two meet, the distance only where they do not (else 0).
    """
    area_geometries = np.array([a.geometry for a in areas], dtype=object)
    feature_geometries = np.array([f.geometry for f in features], dtype=object)
    pair_area, pair_feature = shapely.STRtree(feature_geometries).query(
        area_geometries, predicate="dwithin", distance=reach_m
    )
    order = np.lexsort((pair_feature, pair_area))
    pair_area, pair_feature = pair_area[order], pair_feature[order]
    paired_areas, paired_features = area_geometries[pair_area], feature_geometries[pair_feature]
    shapely.prepare(area_geometries)
    meets = shapely.intersects(paired_areas, paired_features)
    shared = np.full(len(pair_area), shapely.Polygon(), dtype=object)
    shared[meets] = shapely.intersection(paired_areas[meets], paired_features[meets])
    shared_m2 = shapely.area(shared)
    distances = np.zeros(len(pair_area))
    distances[~meets] = shapely.distance(paired_areas[~meets], paired_features[~meets])
    first_pair = np.searchsorted(pair_area, np.arange(len(areas) + 1))
    out = []
    for index in range(len(areas)):
        overlapping, nearby = [], []
        for j in range(first_pair[index], first_pair[index + 1]):
            feature = features[pair_feature[j]]
            if shared_m2[j] > min_overlap_m2:
                overlapping.append((feature, shared[j]))
            else:
                nearby.append((feature, float(distances[j])))
        nearby.sort(key=lambda pair: (pair[1], pair[0].id))
        out.append(WithinReach(overlapping, nearby))
    return out
