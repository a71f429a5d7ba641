"""What every reader builds: source features numbered in reading order, handed over as one
SourcePlan, with their attributes and why a geometry could not be read."""

from collections import Counter
from typing import Any

from shapely.geometry.base import BaseGeometry

from spatial.codelists import fold_name
from spatial.crs import CrsRef
from spatial.errors import PayloadTooLargeError, Problem
from spatial.messages import Text, localize
from spatial.numbers import CODE_DIGITS
from spatial.plan_model import SourceFeature, SourcePlan


class GeometryReadError(Exception):
    """A geometry cannot be built; the message says why, for the feature's problem entry.

    `point` is where it goes wrong, in the file's CRS, when known (the reader turns it into
    the feature's geometry_error_location).
    """

    def __init__(self, message: Text | str, point: tuple[float, float] | None = None):
        super().__init__(message)
        self.message = message
        self.point = point


def cannot_read(reason: object) -> Text:
    """The geometry_error of a feature whose geometry cannot be built, and why."""
    if isinstance(reason, GeometryReadError):
        reason = reason.message
    elif isinstance(reason, Exception) and reason.args and isinstance(reason.args[0], Text):
        reason = reason.args[0]  # e.g. ogr.WkbError
    if isinstance(reason, Text):
        return Text("geometrien kan ikke leses: ", "geometry cannot be read: ") + reason
    # A message of GEOS, shapely or GDAL: quoted as it is, with a bokmål explanation.
    return Text(
        nb=f"geometrien kan ikke leses (melding fra programvaren: «{reason}»)",
        en=f"geometry cannot be read: {reason}",
    )


# What a reader calls the things in its file, for check_feature_count.
FEATURES = Text("objekter", "features")


def check_feature_count(
    count: int, max_features: int, what: Text | str, noun: Text | str = FEATURES
) -> None:
    """Refuse a file holding more features than an upload may (PayloadTooLargeError).

    `what` names the file, e.g. Text("GML-filen", "the GML").
    """
    if count > max_features:
        raise PayloadTooLargeError(
            Text(
                nb=f"{localize(what, 'nb')} har {count} {localize(noun, 'nb')}; grensen er "
                f"{max_features}",
                en=f"{localize(what, 'en')} has {count} {localize(noun, 'en')}; the limit is "
                f"{max_features}",
            )
        )


class SourcePlanBuilder:
    """Collects the features a reader reads, numbered in reading order, into a SourcePlan."""

    def __init__(self, source_format: str) -> None:
        self.source_format = source_format
        self.features: list[SourceFeature] = []

    @property
    def next_position(self) -> int:
        """The position the next feature added gets (for messages while it is being read)."""
        return len(self.features)

    def add(
        self,
        source_id: str | None,
        properties: dict[str, Any],
        geometry: BaseGeometry | None = None,
        geometry_error: Text | str | None = None,
        geometry_error_location: tuple[float, float] | None = None,
    ) -> SourceFeature:
        """Append a feature at the next position and return it."""
        feature = SourceFeature(
            position=len(self.features),
            source_id=source_id,
            properties=properties,
            geometry=geometry,
            geometry_error=geometry_error,
            geometry_error_location=geometry_error_location,
        )
        self.features.append(feature)
        return feature

    def plan(
        self,
        crs: CrsRef,
        plan_attributes: dict[str, Any] | None = None,
        warnings: list[Problem] | None = None,
    ) -> SourcePlan:
        """The features read, in the file's CRS, with any plan-level attributes and warnings."""
        return SourcePlan(
            features=self.features,
            crs=crs,
            source_format=self.source_format,
            plan_attributes=plan_attributes or {},
            warnings=warnings or [],
        )


# Plan attributes whose values are integer codes (SOSI type Heltall, Plan-GML code lists of
# numbers). Their text is handed over as int, as a GeoJSON upload would give it.
INTEGER_CODES = frozenset(
    {
        "plantype",
        "planstatus",
        "arealbruksstatus",
        "arealformal",
        "angitthensyn",
        "sikring",
        "stoy",
        "fare",
        "bandlegging",
        "infrastruktur",
        "gjennomforing",
        "detaljering",
        "lovreferanse",
        "planbestemmelse",
        "vertikalniva",
        "eierform",
    }
)


def typed_value(name: str, text: str) -> str | int:
    """Return an integer-coded attribute's text as int (e.g. plantype '35' → 35); only ASCII
    digits are a number ('٣٥' stays text, an unknown code)."""
    if fold_name(name) in INTEGER_CODES and CODE_DIGITS.fullmatch(text):
        return int(text)
    return text


def leaves_to_properties(leaves: list[tuple[tuple[str, ...], str]]) -> dict[str, Any]:
    """Key each value by its leaf name (nasjonalArealplanId/…/kommunenummer → kommunenummer)."""
    by_path: dict[tuple[str, ...], list[str]] = {}
    for path, text in leaves:
        by_path.setdefault(path, []).append(text)
    names = Counter(path[-1] for path in by_path)
    properties: dict[str, Any] = {}
    for path, values in by_path.items():
        key = path[-1] if names[path[-1]] == 1 else ".".join(path)
        typed = [typed_value(path[-1], value) for value in values]
        properties[key] = typed[0] if len(typed) == 1 else typed
    return properties
