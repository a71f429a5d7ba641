"""What rules see (the plan, the layers) and what they produce (findings)."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from shapely import union_all
from shapely.geometry.base import BaseGeometry

from spatial.codelists import plan_level
from spatial.plan_model import PlanMetadata

Severity = Literal["conflict", "warning", "unknown", "info", "ok"]
# Most serious first; summaries and reports list severities in this order.
SEVERITIES: tuple[Severity, ...] = ("conflict", "warning", "unknown", "info", "ok")

CENTRALITY_STORBY = "storbyområde"
CENTRALITY_OMLAND = "omland/forstedsområde"
CENTRALITY_YTRE = "ytre del av regionen"


@dataclass(frozen=True)
class CheckFeature:
    """A plan area as rules see it; `id` is the stored feature id (or position if not stored).

    `key` recognises the area in the plan's next version (lokalId first, see
    spatial.plan_model.area_keys); `name` is what people read (feltnavn first).
    """

    id: int
    key: str
    kind: str
    geometry: BaseGeometry
    arealformal: int | None = None
    arealbruksstatus: int | None = None
    hensynssone: int | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def label(self) -> str:
        """Return the name people read: the area's name, else its key."""
        return self.name or self.key


@dataclass(frozen=True)
class CabinCapacity:
    """What is left in the municipality's adopted cabin areas, from its latest land account
    (app/land_account.py): the unbuilt area and share, and the estimated lots."""

    account_id: int
    computed_on: date  # the account's date, in Norway
    unbuilt_m2: float
    unbuilt_share_pct: float
    lots: int
    areas: int


@dataclass(frozen=True)
class MunicipalityInfo:
    """The plan's municipality: name, SSB centrality class, boundary and, when a land account
    has been computed, the remaining capacity of its adopted cabin areas."""

    kommunenummer: str
    name: str
    centrality_class: int
    geometry: BaseGeometry
    cabin_capacity: CabinCapacity | None = None


@dataclass(frozen=True)
class CheckPlan:
    """A plan version to check: plan attributes, areas, municipality."""

    metadata: PlanMetadata
    features: tuple[CheckFeature, ...]
    municipality: MunicipalityInfo

    @property
    def is_kommuneplan(self) -> bool:
        """True for kommuneplan-level plans (plantype 10-22)."""
        return plan_level(self.metadata.plantype) == "kommuneplan"

    def areas(self) -> list[CheckFeature]:
        """Return the arealformål areas."""
        return [f for f in self.features if f.kind == "arealformal"]

    def zones(self, codes: frozenset[int]) -> list[CheckFeature]:
        """Return the hensynssoner with one of the given codes."""
        return [f for f in self.features if f.kind == "hensynssone" and f.hensynssone in codes]

    def boundary(self) -> BaseGeometry:
        """Return the plan boundary: the planområde features, else the union of all areas."""
        boundary = [f.geometry for f in self.features if f.kind == "planomrade"]
        return union_all(boundary or [f.geometry for f in self.features])


@dataclass(frozen=True)
class LayerFeature:
    """A feature of a guideline layer version."""

    id: int
    source_fid: str | None
    attributes: dict[str, Any]
    geometry: BaseGeometry

    @property
    def key(self) -> str:
        """Return a key stable across layer versions: the source id, else the stored id."""
        return self.source_fid or str(self.id)


class LayerSource(Protocol):
    """Access to the guideline layers a check uses; records which versions were read."""

    def version(self, layer_id: str) -> int | None:
        """Return the version a check uses (None if the layer is not loaded)."""
        ...

    def features(
        self,
        layer_id: str,
        area: BaseGeometry,
        where: Mapping[str, Collection[str]] | None = None,
    ) -> list[LayerFeature]:
        """Return the layer's features whose bounding boxes meet `area`'s bounding box.

        `where` keeps only features whose text attribute has one of the given values.
        """
        ...

    def features_near(
        self,
        layer_id: str,
        geometries: Sequence[BaseGeometry],
        reach_m: float,
        where: Mapping[str, Collection[str]] | None = None,
    ) -> list[LayerFeature]:
        """Return the layer's features whose bounding boxes come within `reach_m` of the
        bounding box of one of `geometries`, in id order.
        """
        ...

    def raster_path(self, layer_id: str) -> Path | None:
        """Return the COG file of a raster layer's version (None if not loaded)."""
        ...


@dataclass(frozen=True)
class LayerRef:
    """Which features of which layer version a finding concerns."""

    layer_id: str
    version: int | None
    feature_ids: tuple[int, ...] = ()
    feature_keys: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "layer_id": self.layer_id,
            "version": self.version,
            "feature_ids": list(self.feature_ids),
            "feature_keys": list(self.feature_keys),
        }


# A finding's fields as stored (check_finding's columns) and served, in this order; the
# geometry goes apart (a column of its own, a GeoJSON feature's geometry).
FINDING_FIELDS = (
    "rule_id",
    "check",
    "paragraph",
    "severity",
    "plan_feature_ids",
    "plan_feature_keys",
    "plan_feature_names",
    "layer_refs",
    "measures",
    "message",
    "suggested_action",
    "fingerprint",
)


@dataclass(frozen=True)
class Finding:
    """One result of one rule for one or more plan areas."""

    rule_id: str
    check: str
    paragraph: str
    severity: Severity
    plan_feature_ids: tuple[int, ...]
    plan_feature_keys: tuple[str, ...]
    plan_feature_names: tuple[str, ...]
    layer_refs: tuple[LayerRef, ...]
    measures: dict[str, Any]
    message: str
    suggested_action: str
    geometry: BaseGeometry | None = None

    @property
    def fingerprint(self) -> str:
        """Identify the finding across plan versions: rule, check, plan keys, layer keys."""
        layers = ";".join(
            f"{ref.layer_id}:{','.join(sorted(ref.feature_keys))}" for ref in self.layer_refs
        )
        return f"{self.rule_id}|{self.check}|{','.join(sorted(self.plan_feature_keys))}|{layers}"

    def record(self) -> dict[str, Any]:
        """Return the FINDING_FIELDS as JSON-ready values (lists, dicts), without the geometry."""
        return {name: _json_ready(getattr(self, name)) for name in FINDING_FIELDS}


def _json_ready(value: Any) -> Any:
    if isinstance(value, LayerRef):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_json_ready(item) for item in value]
    return value
