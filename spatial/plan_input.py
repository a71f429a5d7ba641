"""Interpreting source features as a plan: attribute mapping, plan id, geometry checks."""

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj.exceptions import ProjError
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from spatial.codelists import CodeLists, fold_name, get_codelists, plan_level
from spatial.crs import CANONICAL_SRID, CRS84, CrsRef, to_canonical, transform_point
from spatial.errors import InvalidInputError, PayloadTooLargeError, Problem, summarize
from spatial.figures import fmt_m2, fmt_number
from spatial.geometry import (
    AREA_TYPE_IDS,
    AREA_TYPES,
    MAX_REPAIR_CROSSINGS,
    MAX_RINGS_PER_FEATURE,
    CoverageArea,
    RepairRefused,
    as_multipolygons,
    looks_projected,
    repair_polygon,
    repeated_points,
    ring_counts,
    vertex_count,
)
from spatial.geometry_errors import parse_explanation
from spatial.messages import Text, join
from spatial.plan_model import (
    MAX_COORDINATE,
    Z_DROPPED_WARNING,
    FeatureKind,
    PlanArea,
    PlanMetadata,
    PreparedPlan,
    SourceFeature,
    SourcePlan,
    UploadBudget,
    UploadReport,
    area_keys,
)

# Attribute names seen in SOSI Plan, Plan-GML, NAP exports and hand-made files,
# compared after folding case, æøå and separators (see codelists.fold_name).
ATTRIBUTE_ALIASES: dict[str, tuple[str, ...]] = {
    "objtype": ("objtype", "objekttype", "featuretype"),
    "arealformal": ("arealformal", "arealformaal"),
    "arealbruksstatus": ("arealbruksstatus",),
    "feltnavn": ("feltnavn", "feltbetegnelse", "omradenavn"),
    # identifikasjon.lokalId (Plan-GML, SOSI ..IDENTIFIKASJON ...LOKALID), flattened by
    # the readers; a GeoJSON `identifikasjon` object is looked into.
    "lokal_id": ("lokalid",),
    # SOSI names the zone code after the zone's group (sikring, støy, fare, ...).
    "hensynssone": (
        "hensynssone",
        "angitthensyn",
        "sikring",
        "stoy",
        "fare",
        "infrastruktur",
        "bandlegging",
        "gjennomforing",
        "detaljering",
    ),
    "hensynssone_navn": ("hensynssonenavn", "hensynsonenavn"),
    "kommunenummer": ("kommunenummer", "kommunenr"),
    "planidentifikasjon": ("planidentifikasjon", "planid", "arealplanid"),
    "plantype": ("plantype",),
    "planstatus": ("planstatus",),
    "plannavn": ("plannavn",),
}
PLAN_FIELDS = ("kommunenummer", "planidentifikasjon", "plantype", "planstatus", "plannavn")
KIND_LABEL = {
    "planomrade": Text("en plangrense", "a plan boundary"),
    "arealformal": Text("et arealformålsområde", "an arealformål area"),
    "hensynssone": Text("en hensynssone", "a hensynssone"),
}
CANONICAL = CrsRef(CANONICAL_SRID)
# Codes as text: "1120", "H570", "H570_1"; ASCII digits only ("١١٢٠" is no code: reported as
# unknown, never read as 1120).
_CODE = re.compile(r"^H?([0-9]{1,4})(?:_[0-9A-Za-z_]*)?$", re.IGNORECASE | re.ASCII)
# planidentifikasjon is text of up to 16 characters (SOSI Plan 5.0, Plan-GML
# NasjonalArealplanId); ours must also be one URL path segment (/plans/{k}/{planid}), so
# only letters, digits, '.', '_' and '-', and never the dot-segments '.' or '..' that
# clients remove from paths (RFC 3986 §5.2.4).
_PLANID = re.compile(r"^[0-9A-Za-zÆØÅæøå._-]{1,16}$")
_DOT_SEGMENTS = (".", "..")
# What a file without plan areas holds is listed this far: a message, not an inventory.
FOUND_TYPES = 10
FOUND_NAME_CHARS = 60


@dataclass(frozen=True)
class InputLimits:
    """Limits and tolerances applied to an upload (values come from the settings)."""

    max_vertices: int
    repair_max_area_change: float
    # What one feature may store (OWASP Input Validation: bound every size): the names and
    # codes kept in columns and quoted in reports, its attributes as JSON, their keys.
    max_text_length: int = 1000
    max_property_bytes: int = 1024 * 1024
    max_property_keys: int = 1000


@dataclass(frozen=True)
class MunicipalityBoundary:
    """A municipality's boundary in the canonical CRS, for the 'outside municipality' note."""

    kommunenummer: str
    name: str
    geometry: BaseGeometry
    prepared: PreparedGeometry = field(compare=False)
    # Prepared geometries are not thread-safe (libgeos/geos#825); the boundaries are shared.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def build(cls, kommunenummer: str, name: str, geometry: BaseGeometry) -> "MunicipalityBoundary":
        """Prepare a municipality boundary for repeated intersection tests."""
        return cls(kommunenummer, name, geometry, prep(geometry))


@dataclass(frozen=True)
class Boundaries:
    """The county and municipality boundaries uploads are checked against."""

    county: CoverageArea
    municipalities: Mapping[str, MunicipalityBoundary]


def prepare_plan(
    source: SourcePlan,
    boundaries: Boundaries,
    limits: InputLimits,
    plan_overrides: Mapping[str, Any] | None = None,
    budget: UploadBudget | None = None,
) -> PreparedPlan:
    """Turn source features into a validated plan; raise with every problem found.

    `budget` carries the upload's time budget on from reading the file (checked per area).
    """
    budget = budget or UploadBudget()
    codelists = get_codelists()
    report = UploadReport(warnings=list(source.warnings))
    problems: list[Problem] = storage_problems(source, plan_overrides or {}, limits)
    if problems:
        raise InvalidInputError(summarize(problems), problems)
    budget.check_time(Text("kontroll av egenskapene", "checking the attributes"))

    total_vertices = vertex_count([f.geometry for f in source.features if f.geometry])
    if total_vertices > limits.max_vertices:
        raise PayloadTooLargeError(
            Text(
                nb=f"planen har {total_vertices} punkter; grensen er {limits.max_vertices}",
                en=f"the plan has {total_vertices} vertices; the limit is {limits.max_vertices}",
            )
        )

    folded = [_fold_attributes(f.properties) for f in source.features]
    kinds = [_kind_of(f, attrs, report) for f, attrs in zip(source.features, folded, strict=True)]
    if not any(kind not in (None, "planomrade") for kind in kinds):
        # Said before any missing plan attribute: a file of buildings or roads is not a plan,
        # and asking for its kommunenummer would send the planner the wrong way.
        raise InvalidInputError(
            NO_AREAS + "; " + _found_objects(source.features, folded),
            [
                Problem(
                    p.message,
                    feature=p.feature,
                    feature_id=p.feature_id,
                    feltnavn=p.feltnavn,
                    lokal_id=p.lokal_id,
                )
                for p in report.ignored
            ],
        )
    metadata = _plan_metadata(source, folded, kinds, plan_overrides or {}, codelists, problems)
    if metadata is not None and metadata.kommunenummer not in boundaries.municipalities:
        problems.append(
            Problem(
                Text(
                    nb=f"'{metadata.kommunenummer}' er ikke en kommune i Buskerud "
                    "(kommunenumrene fra 2024 er 3301–3338)",
                    en=f"'{metadata.kommunenummer}' is not a Buskerud municipality "
                    "(2024 numbers 3301-3338)",
                ),
                field="kommunenummer",
            )
        )
        metadata = None

    areas: list[PlanArea] = []
    z_dropped = False
    budget.check_time(Text("lesing av planens egenskaper", "reading the plan attributes"))
    _refuse_hostile_shapes(source.features, kinds)
    ready = _ready_geometries(source.features, kinds, source.crs, boundaries)
    for index, (feature, attrs, kind) in enumerate(
        zip(source.features, folded, kinds, strict=True)
    ):
        if kind is None:
            continue
        budget.check_time(Text("kontroll av geometriene", "checking the geometries"))
        geometry = ready.get(index)
        if geometry is None:
            geometry = _area_geometry(
                feature, kind, source.crs, limits, boundaries, report, problems, budget, attrs
            )
        if geometry is None:
            continue
        z_dropped |= feature.geometry is not None and feature.geometry.has_z
        area = PlanArea(
            position=feature.position,
            source_id=feature.source_id,
            kind=kind,
            geometry=geometry,
            properties=feature.properties,
            feltnavn=_text(attrs.get("feltnavn")),
            hensynssone_navn=_text(attrs.get("hensynssone_navn")),
            lokal_id=_identifier(attrs.get("lokal_id")),
        )
        if metadata is not None:
            _map_codes(area, attrs, metadata, codelists, report, problems)
        areas.append(area)

    if problems or metadata is None:
        if not problems:  # metadata problems are always recorded; this is a safeguard
            problems.append(
                Problem(Text("planens egenskaper mangler", "plan attributes are missing"))
            )
        raise InvalidInputError(summarize(problems), problems)
    if not any(area.kind != "planomrade" for area in areas):
        raise InvalidInputError(
            NO_AREAS,
            [
                Problem(
                    p.message,
                    feature=p.feature,
                    feature_id=p.feature_id,
                    feltnavn=p.feltnavn,
                    lokal_id=p.lokal_id,
                )
                for p in report.ignored
            ],
        )
    for area, geometry in zip(areas, as_multipolygons([a.geometry for a in areas]), strict=True):
        area.geometry = geometry
    keys, key_notes = area_keys(areas)
    for area, key in zip(areas, keys, strict=True):
        area.key = key
    report.warnings.extend(Problem(note, field="lokalId") for note in key_notes)
    if z_dropped:
        report.warnings.append(Problem(Z_DROPPED_WARNING))
    _note_outside_municipality(areas, boundaries.municipalities[metadata.kommunenummer], report)
    return PreparedPlan(
        metadata=metadata,
        areas=areas,
        report=report,
        source_crs=source.crs,
        source_format=source.source_format,
    )


NO_AREAS = Text(
    nb="planen har ingen arealformålsområder eller hensynssoner som Arealsjekk kan lese",
    en="the plan has no arealformål areas or hensynssoner Arealsjekk can read",
)


def storage_problems(
    source: SourcePlan, overrides: Mapping[str, Any], limits: InputLimits | None = None
) -> list[Problem]:
    """Values PostgreSQL cannot store (text or JSONB) or that break the caps in `limits`,
    one problem per feature or field."""
    problems = []
    for name, value in overrides.items():
        if reason := unstorable(value):
            problems.append(Problem(reason, field=name))
        elif limits is not None and _too_long(value, limits.max_text_length):
            problems.append(Problem(_too_long_message(limits), field=name))
    if reason := unstorable(source.plan_attributes):
        problems.append(Problem(reason, field="plan"))
    elif limits is not None and (
        capped := _over_caps(_flatten_plan_member(source.plan_attributes), limits)
    ):
        reason, name = capped
        problems.append(Problem(reason, field="plan" if name is None else f"plan.{name}"))
    for feature in source.features:
        if reason := unstorable(feature.properties) or unstorable(feature.source_id):
            problems.append(Problem(reason, feature=feature.position))
        elif limits is not None and _too_long(feature.source_id, limits.max_text_length):
            message = _too_long_message(limits)
            problems.append(Problem(message, feature=feature.position, field="id"))
        elif limits is not None and (capped := _over_caps(feature.properties, limits)):
            reason, name = capped
            problems.append(
                Problem(
                    reason,
                    feature=feature.position,
                    feature_id=feature.source_id,
                    field="properties" if name is None else name,
                )
            )
    return problems


def _over_caps(
    properties: Mapping[str, Any], limits: InputLimits
) -> tuple[Text, str | None] | None:
    """Why a feature's attributes break a cap, and the attribute (None: all of them)."""
    size = _json_size(properties)
    # A key takes at least four bytes of JSON ('"":0'): most features need no count.
    keys = _key_count(properties) if size >= 4 * limits.max_property_keys else 0
    if keys > limits.max_property_keys:
        return (
            Text(
                nb=f"har {keys} egenskaper; et objekt kan ha høyst {limits.max_property_keys}",
                en=f"has {keys} attributes; a feature may have at most {limits.max_property_keys}",
            ),
            None,
        )
    if size > limits.max_property_bytes:
        return (
            Text(
                nb=f"har {size} byte med egenskaper (som JSON); et objekt kan ha høyst "
                f"{limits.max_property_bytes}",
                en=f"has {size} bytes of attributes (as JSON); a feature may have at most "
                f"{limits.max_property_bytes}",
            ),
            None,
        )
    if size <= limits.max_text_length // 2:
        return None  # no value can be longer as text than (about) its share of the JSON
    for name, value in properties.items():
        if _too_long(value, limits.max_text_length) and fold_name(str(name)) in _ALIAS_LOOKUP:
            return _too_long_message(limits), str(name)[:100]
    return None


def _key_count(value: Mapping[str, Any]) -> int:
    """The keys of a mapping and of every mapping nested in it (depth is bounded before)."""
    count = len(value)
    stack = [v for v in value.values() if isinstance(v, Mapping | list | tuple)]
    while stack:
        item = stack.pop()
        children = item.values() if isinstance(item, Mapping) else item
        count += len(item) if isinstance(item, Mapping) else 0
        stack.extend(c for c in children if isinstance(c, Mapping | list | tuple))
    return count


def _json_size(value: Any) -> int:
    """The bytes `value` takes as compact JSON, as it is stored (JSONB) and sent back."""
    try:
        return len(orjson.dumps(value))
    except TypeError:  # integers beyond 64 bits, keys that are not text
        return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def _too_long(value: Any, limit: int) -> bool:
    """Whether `value` as text (what a name or code column would hold) exceeds `limit`."""
    if value is None or isinstance(value, bool | float):
        return False
    if isinstance(value, str):
        return len(value) > limit
    if isinstance(value, int):  # only write out integers that may have that many digits
        return value.bit_length() > 3 * limit and len(str(value)) > limit
    return len(str(value)) > limit


def _too_long_message(limits: InputLimits) -> Text:
    return Text(
        nb=f"er lengre enn {limits.max_text_length} tegn, grensen for navn og koder",
        en=f"is longer than {limits.max_text_length} characters, the limit for names and codes",
    )


_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ATTRIBUTE_DEPTH = 32


def unstorable(value: Any) -> Text | None:
    """Why a value cannot be stored as text or JSONB (NUL, lone surrogate, NaN), else None.

    Nested values are walked without recursion, and nesting beyond MAX_ATTRIBUTE_DEPTH
    is refused too: the JSON encoder that stores attributes is recursive.
    """
    if _flat_and_clean(value):
        return None
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return Text(
                    nb="inneholder et NUL-tegn (\\u0000), som tekst ikke kan inneholde",
                    en="contains a NUL character (\\u0000), which text cannot hold",
                )
            if _SURROGATE.search(item):
                return Text(
                    nb="inneholder et uparet UTF-16-surrogattegn, som ikke er Unicode-tekst",
                    en="contains an unpaired UTF-16 surrogate, which is not Unicode text",
                )
        elif isinstance(item, float) and not math.isfinite(item):
            return Text(
                nb="har et tall som ikke er endelig (NaN eller uendelig)",
                en="has a number that is not finite (NaN or infinity)",
            )
        elif isinstance(item, Mapping | list | tuple):
            if depth >= MAX_ATTRIBUTE_DEPTH:
                return Text(
                    nb=f"har egenskapsverdier som ligger mer enn {MAX_ATTRIBUTE_DEPTH} nivåer "
                    "inne i hverandre",
                    en=f"nests attribute values more than {MAX_ATTRIBUTE_DEPTH} levels deep",
                )
            children = [*item.keys(), *item.values()] if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def _flat_and_clean(value: Any) -> bool:
    """True for a dict of plain values with nothing `unstorable` refuses: what most
    features carry, answered without the walk (which says what is wrong otherwise)."""
    if type(value) is not dict:
        return False
    values = value.values()
    if not all(type(v) in _PLAIN_TYPES for v in values):
        return False
    if not all(type(k) is str for k in value):
        return False
    text = "".join([*value, *(v for v in values if type(v) is str)])
    return (
        "\x00" not in text
        and not _SURROGATE.search(text)
        and all(math.isfinite(v) for v in values if type(v) is float)
    )


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


_ALIAS_LOOKUP = {
    fold_name(alias): key for key, aliases in ATTRIBUTE_ALIASES.items() for alias in aliases
}


def _fold_attributes(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Map input attribute names to our field names; unrecognised names are left out."""
    out: dict[str, Any] = {}
    for name, value in properties.items():
        folded = fold_name(str(name))
        if folded == "identifikasjon" and isinstance(value, Mapping):
            lokal_id = next((v for k, v in value.items() if fold_name(str(k)) == "lokalid"), None)
            if lokal_id is not None:
                out.setdefault("lokal_id", lokal_id)
            continue
        key = _ALIAS_LOOKUP.get(folded)
        if key is not None and key not in out:
            out[key] = value
    return out


def _kind_of(
    feature: SourceFeature, attrs: dict[str, Any], report: UploadReport
) -> FeatureKind | None:
    """Decide what a feature is from its object type, else from the attributes it carries."""
    objtype = _text(attrs.get("objtype"))
    kind: FeatureKind | None = None
    if objtype:
        folded = fold_name(objtype)
        if folded in ("kpomrade", "rpomrade"):
            kind = "planomrade"
        elif "arealformalomrade" in folded or "arealbrukomrade" in folded:
            kind = "arealformal"
        elif folded.startswith(("kp", "rp")) and folded.endswith("sone"):
            kind = "hensynssone"
        else:
            reason = Text(
                nb=f"objekttypen '{objtype}' er ikke et område Arealsjekk kontrollerer; "
                "ikke tatt med",
                en=f"object type '{objtype}' is not an area Arealsjekk checks; ignored",
            )
    elif "arealformal" in attrs:
        kind = "arealformal"
    elif "hensynssone" in attrs:
        kind = "hensynssone"
    elif any(name in attrs for name in ("planidentifikasjon", "plannavn")):
        kind = "planomrade"
    else:
        reason = Text(
            nb="har verken arealformål, hensynssone eller objekttype; ikke tatt med",
            en="has no arealformål, hensynssone or object type; ignored",
        )
    if kind is None:
        report.ignored.append(
            Problem(
                reason,
                feature=feature.position,
                feature_id=feature.source_id,
                **_names(attrs),
            )
        )
    return kind


def _plan_metadata(
    source: SourcePlan,
    folded: list[dict[str, Any]],
    kinds: list[FeatureKind | None],
    overrides: Mapping[str, Any],
    codelists: CodeLists,
    problems: list[Problem],
) -> PlanMetadata | None:
    """Find the plan attributes: request overrides, then the `plan` member, then features."""
    plan_member = _fold_attributes(_flatten_plan_member(source.plan_attributes))
    values: dict[str, Any] = {}
    for name in PLAN_FIELDS:
        if overrides.get(name) not in (None, ""):
            values[name] = overrides[name]
        elif plan_member.get(name) not in (None, ""):
            values[name] = plan_member[name]
        else:
            values[name] = _agreed_feature_value(name, source.features, folded, kinds, problems)

    before = len(problems)
    kommunenummer = _kommunenummer(values["kommunenummer"], problems)
    planid = _planid(values["planidentifikasjon"], problems)
    plantype = _code_in(values["plantype"], codelists.plantype, "plantype", problems, required=True)
    planstatus = _code_in(values["planstatus"], codelists.planstatus, "planstatus", problems)
    if len(problems) > before or kommunenummer is None or planid is None or plantype is None:
        return None
    return PlanMetadata(
        kommunenummer=kommunenummer,
        planidentifikasjon=planid,
        plantype=plantype,
        planstatus=planstatus,
        plannavn=_text(values["plannavn"]),
    )


def _planid(value: Any, problems: list[Problem]) -> str | None:
    """The planidentifikasjon as given (not trimmed: it becomes a URL path segment)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(_missing("planidentifikasjon"))
        return None
    planid = value if isinstance(value, str) else str(value)
    if isinstance(value, bool) or not _PLANID.match(planid) or planid in _DOT_SEGMENTS:
        shown = planid if planid.isprintable() else repr(planid)
        problems.append(
            Problem(
                Text(
                    nb=f"'{shown[:40]}' er ikke en gyldig planidentifikasjon: 1–16 bokstaver, "
                    "sifre, '.', '_' eller '-', uten mellomrom, og ikke '.' eller '..'",
                    en=f"'{shown[:40]}' is not a planidentifikasjon: 1-16 letters, digits, '.', "
                    "'_' or '-', without spaces, and not '.' or '..'",
                ),
                field="planidentifikasjon",
            )
        )
        return None
    return planid


def _flatten_plan_member(member: Mapping[str, Any]) -> dict[str, Any]:
    """Accept KS Fiks Plan's shape: nasjonalArealplanId and {kodeverdi} code objects."""
    flat = dict(member)
    national_id = member.get("nasjonalArealplanId")
    if isinstance(national_id, Mapping):
        unit = national_id.get("administrativEnhet") or {}
        if isinstance(unit, Mapping):
            flat.setdefault("kommunenummer", unit.get("kommunenummer") or unit.get("nummer"))
        flat.setdefault("planidentifikasjon", national_id.get("planidentifikasjon"))
    return flat


def _agreed_feature_value(
    name: str,
    features: list[SourceFeature],
    folded: list[dict[str, Any]],
    kinds: list[FeatureKind | None],
    problems: list[Problem],
) -> Any:
    """Return a plan attribute from the plan boundary feature, else the value all features share."""
    candidates = [
        (f, attrs[name], kind)
        for f, attrs, kind in zip(features, folded, kinds, strict=True)
        if attrs.get(name) not in (None, "")
    ]
    boundary = [(f, v) for f, v, kind in candidates if kind == "planomrade"]
    chosen = boundary or [(f, v) for f, v, _ in candidates]
    if not chosen:
        return None
    first_feature, first_value = chosen[0]
    for feature, value in chosen[1:]:
        if str(value).strip() != str(first_value).strip():
            problems.append(
                Problem(
                    Text(
                        nb=f"objektene har ulik {name}: '{first_value}' (objekt nr. "
                        f"{first_feature.position + 1}) og '{value}'",
                        en=f"features disagree on {name}: '{first_value}' (feature "
                        f"{first_feature.position}) and '{value}'",
                    ),
                    feature=feature.position,
                    feature_id=feature.source_id,
                    field=name,
                )
            )
            break
    return first_value


def _missing(name: str) -> Problem:
    return Problem(
        Text(
            nb=f"{name} mangler: oppgi den som parameter i adressen, i FeatureCollection-ens "
            "'plan'-medlem eller på objektet for plangrensen (KpOmråde/RpOmråde)",
            en=f"{name} is missing: give it as a query parameter, in the FeatureCollection's "
            "'plan' member, or on the plan boundary feature (KpOmråde/RpOmråde)",
        ),
        field=name,
    )


def _kommunenummer(value: Any, problems: list[Problem]) -> str | None:
    if value in (None, ""):
        problems.append(_missing("kommunenummer"))
        return None
    text = f"{value:04d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    text = text.strip()
    if not re.fullmatch(r"[0-9]{4}", text):
        problems.append(
            Problem(
                Text(
                    f"'{value}' er ikke et firesifret kommunenummer",
                    f"'{value}' is not a 4-digit kommunenummer",
                ),
                field="kommunenummer",
            )
        )
        return None
    return text


def parse_code(value: Any) -> int | None:
    """Read a code given as 1120, "1120", "H570", "H570_1" or {"kodeverdi": "1120"}."""
    if isinstance(value, Mapping):
        value = value.get("kodeverdi", value.get("code"))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if not isinstance(value, str):
        return None
    match = _CODE.match(value.strip())
    return int(match.group(1)) if match else None


def _code_in(
    value: Any,
    codes: Mapping[int, str],
    name: str,
    problems: list[Problem],
    required: bool = False,
) -> int | None:
    if value in (None, ""):
        if required:
            problems.append(_missing(name))
        return None
    code = parse_code(value)
    if code is None or code not in codes:
        problems.append(
            Problem(
                Text(
                    f"'{value}' er ikke en kjent kode for {name}",
                    f"'{value}' is not a known {name} code",
                ),
                field=name,
            )
        )
        return None
    return code


def _found_objects(features: list[SourceFeature], folded: list[dict[str, Any]]) -> Text:
    """Say what a file without plan areas holds: its object types (or geometry types), counted."""
    counts: Counter[Text | str] = Counter()
    for feature, attrs in zip(features, folded, strict=True):
        objtype = _text(attrs.get("objtype"))
        if objtype is not None:
            counts[objtype[:FOUND_NAME_CHARS]] += 1
        elif feature.geometry is not None:
            kind = feature.geometry.geom_type
            counts[Text(f"{kind} uten objekttype", f"{kind} without object type")] += 1
        else:
            counts[
                Text("objekter uten lesbar geometri", "features without a readable geometry")
            ] += 1
    if not counts:
        return Text("filen inneholder ingen objekter", "the file holds no features")
    listed = join([f"{count} " + name for name, count in counts.most_common(FOUND_TYPES)], ", ")
    others = len(counts) - FOUND_TYPES
    return (
        Text("filen inneholder ", "the file holds ")
        + listed
        + (Text(f" og {others} andre typer", f" and {others} other types") if others > 0 else "")
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _identifier(value: Any) -> str | None:
    # An id is text or a whole number; an object or list where lokalId belongs is no id.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return _text(value)


def _ready_geometries(
    features: list[SourceFeature],
    kinds: list[FeatureKind | None],
    crs: CrsRef,
    boundaries: Boundaries,
) -> dict[int, BaseGeometry]:
    """The areas that pass every check of `_area_geometry` untouched, by index, checked in
    vectorised calls: non-empty (multi)polygons, valid once in 2D and the canonical CRS,
    inside the county. The others go through `_area_geometry`, which says what is wrong.
    tests/unit/test_validation_paths.py checks that the two accept the same areas.
    """
    if crs.is_geographic:  # degrees are first checked for projected coordinates, one by one
        return {}
    indexes = [
        i
        for i, (feature, kind) in enumerate(zip(features, kinds, strict=True))
        if kind is not None and feature.geometry is not None and not feature.geometry_error
    ]
    geometries = np.array([features[i].geometry for i in indexes], dtype=object)
    if not len(geometries):
        return {}
    polygonal = np.isin(shapely.get_type_id(geometries), AREA_TYPE_IDS)
    polygonal &= ~shapely.is_empty(geometries)
    indexes = [i for i, keep in zip(indexes, polygonal, strict=True) if keep]
    try:
        canonical = to_canonical(shapely.force_2d(geometries[polygonal]), crs)
        ready = shapely.is_valid(canonical) & boundaries.county.covers_each(canonical)
    except (ProjError, GEOSException):
        return {}  # checked one by one, to name the feature
    return {i: g for i, g, ok in zip(indexes, canonical, ready, strict=True) if ok}


def _refuse_hostile_shapes(features: list[SourceFeature], kinds: list[FeatureKind | None]) -> None:
    """Mark areas unusable whose validity check alone would cost GEOS super-linear work,
    before GEOS sees them: more rings than MAX_RINGS_PER_FEATURE, or more repeated vertices
    (rings traced over and over, identical holes) than MAX_REPAIR_CROSSINGS."""
    indexes = [
        i
        for i, (feature, kind) in enumerate(zip(features, kinds, strict=True))
        if kind is not None and feature.geometry is not None and not feature.geometry_error
    ]
    if not indexes:
        return
    geometries = np.array([features[i].geometry for i in indexes], dtype=object)
    rings, repeats = ring_counts(geometries), repeated_points(geometries)
    for i, ring_count, repeat_count in zip(indexes, rings, repeats, strict=True):
        if ring_count > MAX_RINGS_PER_FEATURE:
            features[i].geometry_error = Text(
                nb=f"flaten har {ring_count} grenser (yttergrenser og hull); et område kan ha "
                f"høyst {MAX_RINGS_PER_FEATURE}",
                en=f"geometry has {ring_count} rings (outer boundaries and holes); an area may "
                f"have at most {MAX_RINGS_PER_FEATURE}",
            )
        elif repeat_count > MAX_REPAIR_CROSSINGS:
            features[i].geometry_error = Text(
                nb=f"omrisset går {repeat_count} ganger gjennom punkter det allerede har "
                f"passert (høyst {MAX_REPAIR_CROSSINGS}): grenser som gjentas eller tegnes "
                "flere ganger, beskriver ikke et område",
                en=f"geometry passes {repeat_count} times through points it has already passed "
                f"(at most {MAX_REPAIR_CROSSINGS}): rings repeated or traced more than once do "
                "not describe an area",
            )


def _area_geometry(
    feature: SourceFeature,
    kind: FeatureKind,
    crs: CrsRef,
    limits: InputLimits,
    boundaries: Boundaries,
    report: UploadReport,
    problems: list[Problem],
    budget: UploadBudget | None = None,
    attrs: Mapping[str, Any] | None = None,
):
    """Check and reproject one area's geometry; record a problem and return None if unusable.

    The (multi)polygon returned is made a MultiPolygon by the caller, for all areas at once.
    A GEOS error on a hostile shape is a problem of this feature, never a server error.
    The problem names the feature by position, id, feltnavn and lokalId (from `attrs`, the
    folded attributes) and carries the `location` (CRS84) where the geometry goes wrong.
    """
    names = _names(_fold_attributes(feature.properties) if attrs is None else attrs)

    def problem(message: Text, location: tuple[float, float] | None = None) -> None:
        problems.append(
            Problem(
                message,
                feature=feature.position,
                feature_id=feature.source_id,
                location=location,
                **names,
            )
        )

    try:
        return _checked_area(feature, kind, crs, limits, boundaries, report, problem, budget, names)
    except GEOSException as exc:
        said = str(exc)[:200]
        problem(
            Text(
                nb=f"geometrien kan ikke behandles (melding fra GEOS: «{said}»)",
                en=f"geometry cannot be processed: {said}",
            )
        )
        return None


def _names(attrs: Mapping[str, Any]) -> dict[str, str | None]:
    """The names a planner knows a feature by, as Problem fields."""
    return {
        "feltnavn": _text(attrs.get("feltnavn")),
        "lokal_id": _identifier(attrs.get("lokal_id")),
    }


def _checked_area(
    feature: SourceFeature,
    kind: FeatureKind,
    crs: CrsRef,
    limits: InputLimits,
    boundaries: Boundaries,
    report: UploadReport,
    problem: Callable[..., None],
    budget: UploadBudget | None,
    names: Mapping[str, str | None],
):

    geometry = feature.geometry
    label = KIND_LABEL[kind]
    needs = Text(
        f"{label.nb} trenger en flate (Polygon eller MultiPolygon)",
        f"{label.en} needs a Polygon or MultiPolygon",
    )
    if feature.geometry_error:
        problem(feature.geometry_error, feature.geometry_error_location)
        return None
    if geometry is None:
        problem(Text("har ingen geometri; ", "has no geometry; ") + needs)
        return None
    if geometry.geom_type not in AREA_TYPES:
        kind_of = geometry.geom_type
        problem(Text(f"geometrien er en {kind_of}; ", f"geometry is a {kind_of}; ") + needs)
        return None
    if geometry.is_empty:
        problem(Text("geometrien er tom; ", "geometry is empty; ") + needs)
        return None
    geometry = shapely.force_2d(geometry)
    if not _finite_within(geometry, MAX_COORDINATE):
        problem(
            Text(
                nb=f"koordinatene må være endelige tall innenfor ±{MAX_COORDINATE:g}",
                en=f"coordinates must be finite numbers within ±{MAX_COORDINATE:g}",
            )
        )
        return None
    if crs.is_geographic and looks_projected(geometry):
        example = '{"type": "name", "properties": {"name": "EPSG:25832"}}'
        problem(
            Text(
                nb=f"koordinatene er ikke lengde- og breddegrader, men filen sier {crs.label}; "
                f"oppgi koordinatsystemet med et 'crs'-medlem, f.eks. {example}",
                en=f"coordinates are not longitude/latitude degrees but the data say "
                f"{crs.label}; declare the CRS with a 'crs' member, e.g. {example}",
            )
        )
        return None
    try:
        geometry = to_canonical(geometry, crs)
    except ProjError as exc:
        problem(
            Text(
                nb=f"koordinatene kan ikke regnes om fra {crs.label} (melding fra PROJ: «{exc}»)",
                en=f"coordinates cannot be transformed from {crs.label}: {exc}",
            )
        )
        return None

    if not geometry.is_valid:
        try:
            repairing = Text("reparasjon av geometrier", "repairing geometries")
            tick = None if budget is None else lambda: budget.check_time(repairing)
            geometry, repair = repair_polygon(geometry, limits.repair_max_area_change, tick)
        except RepairRefused as refused:
            invalid = parse_explanation(refused.explanation, CANONICAL, crs)
            problem(
                Text(
                    nb=f"{invalid.text.nb} og kan ikke repareres trygt: {refused.why.nb}",
                    en=f"invalid geometry that cannot be repaired safely: {refused.reason}",
                ),
                invalid.location,
            )
            return None
        invalid = parse_explanation(repair.reason, CANONICAL, crs)
        before = fmt_m2(repair.area_before_m2)
        after = fmt_m2(repair.area_after_m2)
        report.repaired.append(
            Problem(
                Text(
                    nb=f"ugyldig geometri er reparert ({invalid.text.nb}); arealet var "
                    f"{before} før og er {after} etter reparasjonen (endret med "
                    f"{fmt_number(100 * repair.relative_change, 2)} %)",
                    en=f"invalid geometry repaired with make_valid ({repair.reason}); area "
                    f"{repair.area_before_m2:.1f} m² before, {repair.area_after_m2:.1f} m² after",
                ),
                feature=feature.position,
                feature_id=feature.source_id,
                location=invalid.location,
                **names,
            )
        )
    if not boundaries.county.covers(geometry):
        beyond, vertex = boundaries.county.farthest_outside(geometry)
        tolerance = boundaries.county.tolerance_m
        problem(
            Text(
                nb=f"ligger utenfor Buskerud: et hjørnepunkt ligger {fmt_number(beyond)} m "
                f"utenfor fylkesgrensen (toleransen er {fmt_number(tolerance)} m); kontroller "
                "koordinatsystemet og koordinatene",
                en=f"lies outside Buskerud: a vertex is {beyond:.0f} m beyond the county "
                f"boundary (tolerance {tolerance:.0f} m); check the CRS and coordinates",
            ),
            _crs84(vertex),
        )
        return None
    return geometry


def _crs84(point: tuple[float, float]) -> tuple[float, float] | None:
    """A point of the canonical CRS in CRS84 (longitude, latitude), for the map to mark;
    None when it is no place on the earth (a file whose CRS is wrong)."""
    try:
        lon, lat = transform_point(point, CANONICAL, CRS84)
    except ProjError:
        return None
    return (lon, lat) if abs(lon) <= 180 and abs(lat) <= 90 else None  # False for NaN


def _finite_within(geometry: BaseGeometry, bound: float) -> bool:
    coords = shapely.get_coordinates(geometry)
    return bool((np.abs(coords) <= bound).all())  # False for NaN too


def _map_codes(
    area: PlanArea,
    attrs: dict[str, Any],
    metadata: PlanMetadata,
    codelists: CodeLists,
    report: UploadReport,
    problems: list[Problem],
) -> None:
    """Map arealformål, arealbruksstatus and hensynssone codes; report unknown ones, never guess."""

    names = {"feltnavn": area.feltnavn, "lokal_id": area.lokal_id}

    def unknown(message: Text) -> None:
        report.unknown_codes.append(
            Problem(message, feature=area.position, feature_id=area.source_id, **names)
        )

    level = plan_level(metadata.plantype)
    if area.kind == "arealformal":
        raw = attrs.get("arealformal")
        if raw in (None, ""):
            problems.append(
                Problem(
                    Text(
                        "er et arealformålsområde uten kode for arealformål",
                        "is an arealformål area without an arealformål code",
                    ),
                    feature=area.position,
                    feature_id=area.source_id,
                    field="arealformal",
                    **names,
                )
            )
            return
        code = parse_code(raw)
        if code is not None and code in codelists.arealformal(level):
            area.arealformal = code
        else:
            unknown(
                Text(
                    nb=f"arealformål '{raw}' finnes ikke i kodelisten for {level}; området er "
                    "tatt med uten arealformål",
                    en=f"arealformål '{raw}' is not in the {level} code list; kept without a "
                    "purpose",
                )
            )
        status = attrs.get("arealbruksstatus")
        if status not in (None, ""):
            status_code = parse_code(status)
            if status_code in codelists.arealbruksstatus:
                area.arealbruksstatus = status_code
            else:
                unknown(
                    Text(
                        f"arealbruksstatus '{status}' er ikke en kjent kode (1, 2 eller 3)",
                        f"arealbruksstatus '{status}' is not a known code (1, 2 or 3)",
                    )
                )
        elif level == "kommuneplan":
            report.warnings.append(
                Problem(
                    Text(
                        nb="mangler arealbruksstatus; det er ukjent om området er eksisterende "
                        "eller framtidig",
                        en="has no arealbruksstatus; whether the area is existing or future is "
                        "unknown",
                    ),
                    feature=area.position,
                    feature_id=area.source_id,
                    **names,
                )
            )
    elif area.kind == "hensynssone":
        raw = attrs.get("hensynssone")
        if raw in (None, ""):
            problems.append(
                Problem(
                    Text("er en hensynssone uten sonekode", "is a hensynssone without a zone code"),
                    feature=area.position,
                    feature_id=area.source_id,
                    field="hensynssone",
                    **names,
                )
            )
            return
        code = parse_code(raw)
        if code is not None and code in codelists.hensynssone:
            area.hensynssone = code
        else:
            unknown(
                Text(
                    nb=f"hensynssone '{raw}' er ikke en kjent sonekode; sonen er tatt med uten "
                    "kode",
                    en=f"hensynssone '{raw}' is not a known zone code; kept without a code",
                )
            )


def _note_outside_municipality(
    areas: list[PlanArea], municipality: MunicipalityBoundary, report: UploadReport
) -> None:
    for area in areas:
        with municipality.lock:
            inside = municipality.prepared.intersects(area.geometry)
        if not inside:
            where = f"{municipality.name} ({municipality.kommunenummer})"
            report.warnings.append(
                Problem(
                    Text(
                        f"ligger helt utenfor {where}",
                        f"lies entirely outside {where}",
                    ),
                    feature=area.position,
                    feature_id=area.source_id,
                    feltnavn=area.feltnavn,
                    lokal_id=area.lokal_id,
                )
            )
