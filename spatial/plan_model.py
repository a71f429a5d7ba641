"""The internal model of a plan proposal that every input format is read into."""

from dataclasses import dataclass, field
from typing import Any, Literal

from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from spatial.crs import CrsRef
from spatial.errors import Problem

FeatureKind = Literal["planomrade", "arealformal", "hensynssone"]


@dataclass
class SourceFeature:
    """A feature as read from an input file, before interpretation."""

    position: int
    source_id: str | None
    properties: dict[str, Any]
    geometry: BaseGeometry | None
    geometry_error: str | None = None


@dataclass
class SourcePlan:
    """What a format reader hands over: features, their CRS and any plan-level member."""

    features: list[SourceFeature]
    crs: CrsRef
    source_format: str
    plan_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanMetadata:
    """Plan-level attributes; (kommunenummer, planidentifikasjon) is the national plan id."""

    kommunenummer: str
    planidentifikasjon: str
    plantype: int
    planstatus: int | None
    plannavn: str | None


@dataclass
class PlanArea:
    """An area of the plan as stored: geometry in the canonical CRS plus mapped codes."""

    position: int
    source_id: str | None
    kind: FeatureKind
    geometry: MultiPolygon
    properties: dict[str, Any]
    arealformal: int | None = None
    arealbruksstatus: int | None = None
    feltnavn: str | None = None
    hensynssone: int | None = None
    hensynssone_navn: str | None = None


@dataclass
class UploadReport:
    """Everything Arealsjekk changed, dropped or could not interpret in an upload."""

    repaired: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)
    unknown_codes: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """Return the report as JSON-ready lists."""
        return {
            "repaired": [p.as_dict() for p in self.repaired],
            "ignored": [p.as_dict() for p in self.ignored],
            "unknown_codes": [p.as_dict() for p in self.unknown_codes],
            "warnings": [p.as_dict() for p in self.warnings],
        }


@dataclass
class PreparedPlan:
    """A validated plan version, ready to be stored in one transaction."""

    metadata: PlanMetadata
    areas: list[PlanArea]
    report: UploadReport
    source_crs: CrsRef
    source_format: str
