"""The internal model of a plan proposal that every input format is read into."""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from spatial.crs import CrsRef
from spatial.errors import PayloadTooLargeError, Problem, TimeBudgetExceededError
from spatial.messages import Text, localize

FeatureKind = Literal["planomrade", "arealformal", "hensynssone"]

# No coordinate of a CRS Arealsjekk reads comes near this (UTM northings are below 1e7 m,
# degrees below 360): larger values are broken files, and squaring them (arcs) or
# reprojecting them gives infinities.
MAX_COORDINATE = 1e10


class UploadBudget:
    """What reading and validating one upload may still spend: time and vertices.

    Hostile files are small and expensive (an arc of a million chords, one curve referred to
    by thousands of areas, SQL that never ends), so readers take from the budget *before*
    they build coordinates, and check the time in their loops (cooperative: no thread is
    killed). `None` means unlimited.
    """

    def __init__(self, max_vertices: int | None = None, time_budget_s: float | None = None):
        self.max_vertices = max_vertices
        self.time_budget_s = time_budget_s
        self.vertices = 0
        self._deadline = None if time_budget_s is None else time.monotonic() + time_budget_s

    def take_vertices(
        self,
        count: int,
        what: Text | str,
        feature: int | None = None,
        feature_id: str | None = None,
    ) -> None:
        """Count `count` vertices about to be built for `what`; raise past the limit."""
        self.vertices += count
        if self.max_vertices is not None and self.vertices > self.max_vertices:
            self.refuse_vertices(what, feature, feature_id)

    def fits(self, count: int) -> bool:
        """Whether `count` more vertices stay within the limit (nothing is taken)."""
        return self.max_vertices is None or self.vertices + count <= self.max_vertices

    def refuse_vertices(
        self, what: Text | str, feature: int | None = None, feature_id: str | None = None
    ) -> None:
        """Raise PayloadTooLargeError: `what` takes the plan past the vertex limit."""
        message = Text(
            nb=f"{localize(what, 'nb')} gir planen mer enn {self.max_vertices} punkter, "
            "grensen for én opplasting (buer telles med punktene de tegnes med)",
            en=f"{localize(what, 'en')} takes the plan past {self.max_vertices} vertices, the "
            "limit per upload (arcs count the chords they are drawn with)",
        )
        where = Problem(message, feature=feature, feature_id=feature_id)
        raise PayloadTooLargeError(where.describe(), [where])

    def expired(self) -> bool:
        """Whether the time budget is used up."""
        return self._deadline is not None and time.monotonic() > self._deadline

    def check_time(self, what: Text | str) -> None:
        """Raise TimeBudgetExceededError once the time budget is used up.

        `what` says what was being done, e.g. Text("kontroll av geometriene", "checking
        the geometries").
        """
        if self.expired():
            seconds = f"{self.time_budget_s:g}"
            raise TimeBudgetExceededError(
                Text(
                    nb=f"lesing og kontroll av filen tok mer enn {seconds.replace('.', ',')} s "
                    f"(stoppet under {localize(what, 'nb')}); forenkle filen eller del den opp",
                    en=f"reading and checking the upload took longer than {seconds} s "
                    f"(stopped while {localize(what, 'en')}); simplify or split the file",
                )
            )


# Heights are read past by the readers that meet them (GML) or by the validation (GeoJSON).
Z_DROPPED_WARNING = Text(
    nb="høyder (z-koordinater) er fjernet; planer kontrolleres i to dimensjoner",
    en="Z coordinates were dropped; plans are checked in 2D",
)


@dataclass
class SourceFeature:
    """A feature as read from an input file, before interpretation."""

    position: int
    source_id: str | None
    properties: dict[str, Any]
    geometry: BaseGeometry | None
    geometry_error: Text | str | None = None
    # Where the geometry goes wrong (longitude, latitude in CRS84), for the map to mark.
    geometry_error_location: tuple[float, float] | None = None


@dataclass
class SourcePlan:
    """What a format reader hands over: features, their CRS and any plan-level member."""

    features: list[SourceFeature]
    crs: CrsRef
    source_format: str
    plan_attributes: dict[str, Any] = field(default_factory=dict)
    # What the reader changed or assumed while reading (e.g. a character set other than the
    # declared one); handed on to the upload report's warnings.
    warnings: list[Problem] = field(default_factory=list)


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
    lokal_id: str | None = None
    key: str = ""


def area_name(feltnavn: str | None, source_id: str | None, position: int) -> str:
    """What people read for a plan area: its feltnavn, else its feature id or position."""
    return feltnavn or source_id or f"#{position}"


def area_keys(areas: Sequence[PlanArea]) -> tuple[list[str], list[Text]]:
    """Key each area so the same area is recognised in the plan's next version.

    The key is the first of lokalId (the national object id, SOSI/Plan-GML
    identifikasjon), feltnavn, feature id and position that no other area of the plan
    shares: two areas under one key would merge their findings. Returns the keys and one
    note per lokalId that several areas share.
    """
    choices = [
        (area.lokal_id, area.feltnavn, area.source_id, f"#{area.position}") for area in areas
    ]
    counts = [Counter(choice[level] for choice in choices) for level in range(3)]
    keys: list[str] = []
    for choice in choices:
        level = next(
            (n for n in range(3) if choice[n] and counts[n][choice[n]] == 1),
            3,
        )
        keys.append(choice[level])  # type: ignore[arg-type]
    notes = [
        Text(
            nb=f"lokalId «{lokal_id}» er gitt til {count} områder; de skilles i stedet fra "
            "hverandre med feltnavn, objekt-id eller plassering i filen",
            en=f"lokalId '{lokal_id}' is given to {count} areas; they are told apart by "
            "feltnavn, feature id or position instead",
        )
        for lokal_id, count in counts[0].items()
        if lokal_id and count > 1
    ]
    return keys, notes


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
