"""Reading plan proposals from Plan-GML 5.0 (reguleringsplanforslag, GML 3.2)."""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

import numpy as np
import shapely
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, fromstring
from pyproj import CRS
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from spatial.crs import CrsRef, parse_crs
from spatial.errors import (
    InvalidInputError,
    MalformedInputError,
    PayloadTooLargeError,
    Problem,
    UnsupportedCRSError,
    summarize,
)
from spatial.inputs.curves import (
    Coord,
    arc_point_count,
    arc_points,
    circle_points,
    closed_ring,
    join_parts,
    join_tolerance_for,
    max_deviation_for,
)
from spatial.inputs.features import (
    GeometryReadError,
    SourcePlanBuilder,
    cannot_read,
    check_feature_count,
    leaves_to_properties,
)
from spatial.numbers import parse_double
from spatial.plan_model import MAX_COORDINATE, SourceFeature, SourcePlan, UploadBudget

GML_NAMESPACES = ("http://www.opengis.net/gml/3.2", "http://www.opengis.net/gml")
_ARC_SEGMENTS = ("Arc", "ArcString", "Circle")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_GML_IDS = tuple(f"{{{ns}}}id" for ns in GML_NAMESPACES)
_MAX_REFERENCE_DEPTH = 16
# Plan-GML nests about 15 levels (collection, member, feature, property, surface, patch, ring,
# curve, segment, posList); the readers walk the tree recursively, so depth is bounded first.
MAX_XML_DEPTH = 100
# A parsed element takes some 150 bytes and an attribute some 300 (its name and value), however
# few bytes it takes in the file ('<a/>' is four): a 20 MB file of empty elements would take
# 750 MB. Plan-GML needs some 40 elements and a few attributes a feature (coordinates are
# posList text), so a plan at the feature limit fits in this budget (elements count 1,
# attributes 2), which keeps a parsed tree under some 190 MB. It is checked on the bytes
# before parsing: every start tag has a '<' that is not '</', every attribute an '='.
MAX_XML_NODES = 1_200_000
# Bytes handed to the parser at a time, with a look at the clock in between.
_XML_CHUNK = 1 << 20
# The plan object of Plan-GML 5.0: its attributes are the plan's, not an area's.
_PLAN_OBJECT = "Arealplan"


# --- CRS handling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _CrsInfo:
    ref: CrsRef
    dimension: int
    northing_first: bool
    geographic: bool


# The longest srsName spelling (an http URI of an EPSG code) is under 60 characters.
_MAX_SRS_NAME = 200
_LEGACY_SRS = re.compile(r"^https?://www\.opengis\.net/gml/srs/epsg\.xml#(\d+)$", re.IGNORECASE)


@lru_cache(maxsize=32)
def _crs_info(srs_name: str) -> _CrsInfo:
    if len(srs_name) > _MAX_SRS_NAME:
        raise UnsupportedCRSError(
            f"srsName '{srs_name[:60]}…' ({len(srs_name)} characters) is not a CRS we know; "
            "use an EPSG code such as 'EPSG:25832'"
        )
    legacy = _LEGACY_SRS.match(srs_name.strip())
    ref = parse_crs(f"EPSG:{legacy.group(1)}" if legacy else srs_name, what="srsName")
    if ref.epsg is None:
        return _CrsInfo(ref, 2, False, True)
    crs = CRS.from_epsg(ref.epsg)
    axes = crs.axis_info
    # GML 3.2 follows the CRS definition's axis order: easting first for ETRS89/UTM
    # (25832/25833/5972), latitude first for geographic ETRS89 (4258).
    northing_first = bool(axes) and axes[0].direction.lower() in ("north", "south")
    geographic = ref.is_geographic
    return _CrsInfo(ref, max(2, len(axes)), northing_first, geographic)


@dataclass(frozen=True)
class _Context:
    crs: _CrsInfo | None
    dimension: int | None


# --- reading ---------------------------------------------------------------------------------


def read_gml(body: bytes, max_features: int, budget: UploadBudget | None = None) -> SourcePlan:
    """Parse a Plan-GML FeatureCollection into source features; raise on unsafe or bad input."""
    budget = budget or UploadBudget()
    root = _parse_xml(body, budget)
    members = _feature_elements(root)
    if not members:
        raise InvalidInputError(
            f"the XML document <{_local(root.tag)}> holds no GML features "
            "(gml:featureMember); expected a Plan-GML 5.0 FeatureCollection"
        )
    plans = [m for m in members if _local(m.tag) == _PLAN_OBJECT]
    features = [m for m in members if _local(m.tag) != _PLAN_OBJECT]
    check_feature_count(len(features), max_features, "the GML")
    if len(plans) > 1:
        raise InvalidInputError(
            f"the GML holds {len(plans)} Arealplan objects; upload one plan per file"
        )

    ids = _id_index(root)
    default = _default_context(root)
    reader = _GeometryReader(root, ids, default, budget)
    reader.count_arcs(features)
    plan_attributes = _properties(plans[0], ids)[0] if plans else {}

    builder = SourcePlanBuilder("gml")
    crs_by_feature: list[CrsRef | None] = []
    problems: list[Problem] = []
    for position, element in enumerate(features):
        budget.check_time("reading the GML features")
        source_id = _gml_id(element)
        properties, geometry_element = _properties(element, ids)
        properties = {"objtype": _local(element.tag), **properties}
        geometry = None
        geometry_error = None
        used: set[CrsRef] = set()
        if geometry_element is not None:
            try:
                geometry, used, missing = reader.read(geometry_element, position, source_id)
            except UnsupportedCRSError as exc:
                problems.append(Problem(exc.detail, feature=position, feature_id=source_id))
                missing = False
            except GeometryReadError as exc:
                geometry_error = cannot_read(exc)
                missing = False
            if missing:
                problems.append(
                    Problem(
                        "geometry has no srsName and the FeatureCollection names no CRS",
                        feature=position,
                        feature_id=source_id,
                    )
                )
        if len(used) > 1:
            labels = ", ".join(sorted(ref.label for ref in used))
            problems.append(
                Problem(
                    f"geometry mixes coordinate reference systems ({labels}); "
                    "a plan file must use one CRS",
                    feature=position,
                    feature_id=source_id,
                )
            )
        crs_by_feature.append(next(iter(used)) if len(used) == 1 else None)
        builder.add(source_id, properties, geometry, geometry_error)
    crs = _dataset_crs(builder.features, crs_by_feature, default, problems)
    if problems:  # every problem found here is about the CRS; bad geometry is per feature
        raise UnsupportedCRSError(summarize(problems), problems)
    return builder.plan(crs, plan_attributes)


def _parse_xml(body: bytes, budget: UploadBudget) -> Element:
    """Parse with defusedxml: no DTD, no entities, nothing external (SPEC: safe XML handling),
    and no more nodes or nesting than Plan-GML needs, fed in chunks between looks at the clock.
    """
    nodes = body.count(b"<") - body.count(b"</") + 2 * body.count(b"=")
    if nodes > MAX_XML_NODES:
        raise PayloadTooLargeError(
            f"the XML has some {nodes} elements and attributes (attributes count twice); the "
            f"limit is {MAX_XML_NODES}, far more than Plan-GML needs for a plan within the "
            "upload limits"
        )
    builder = _DepthLimitedTreeBuilder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        for start in range(0, len(body), _XML_CHUNK):
            parser.feed(body[start : start + _XML_CHUNK])
            budget.check_time("parsing the XML")
        return parser.close()
    except DTDForbidden as exc:
        # Parse the start again, still defused, only to name what the DTD tried to do.
        external = f" referring to '{exc.sysid or exc.pubid}'" if exc.sysid or exc.pubid else ""
        reason = _dtd_reason(body[:_XML_CHUNK]) or f"<!DOCTYPE {exc.name}>{external}"
        raise MalformedInputError(
            f"the XML has a document type declaration (DTD) with {reason}; DTDs and entities "
            "are refused (they allow entity-expansion bombs and reading local or remote files), "
            "and Plan-GML needs none"
        ) from None
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise MalformedInputError(f"the XML is refused: {_describe_refusal(exc)}") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise MalformedInputError(
            f"body is not well-formed XML: {_parse_message(exc)} at line {line}, column {column}"
        ) from None
    except LookupError as exc:  # an encoding in the XML declaration Python does not know
        raise MalformedInputError(f"body is not readable XML: {exc}") from None


class _DepthLimitedTreeBuilder(TreeBuilder):
    """Builds the element tree, refusing deeper nesting than Plan-GML needs before it is
    built (the readers walk the tree recursively)."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        """Open an element, unless it nests too deep."""
        self._depth += 1
        if self._depth > MAX_XML_DEPTH:
            raise MalformedInputError(
                f"the XML nests elements more than {MAX_XML_DEPTH} levels deep; "
                "Plan-GML needs far fewer"
            )
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        """Close the element."""
        self._depth -= 1
        return super().end(tag)


def _dtd_reason(body: bytes) -> str | None:
    try:
        fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        return _describe_refusal(exc)
    except ParseError:
        return None
    return None


def _describe_refusal(exc: EntitiesForbidden | ExternalReferenceForbidden) -> str:
    source = exc.sysid or exc.pubid
    if isinstance(exc, ExternalReferenceForbidden):
        return f"a reference to the external resource '{source}'"
    if source:
        return f"an external entity ('{exc.name}') pointing to '{source}'"
    return f"an entity declaration ('{exc.name}')"


def _parse_message(exc: ParseError) -> str:
    return re.sub(r": line \d+, column \d+$", "", str(exc))


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_gml(element: Element, *names: str) -> bool:
    return _ns(element.tag) in GML_NAMESPACES and (not names or _local(element.tag) in names)


def _gml_id(element: Element) -> str | None:
    for attribute in _GML_IDS:
        if attribute in element.attrib:
            return element.attrib[attribute]
    return None


def _feature_elements(root: Element) -> list[Element]:
    """The features of a GML FeatureCollection (featureMember, featureMembers or wfs:member)."""
    members: list[Element] = []
    for child in root:
        name = _local(child.tag)
        if name in ("featureMember", "member"):
            members.extend(child[:1])
        elif name == "featureMembers":
            members.extend(list(child))
    return members


def _id_index(root: Element) -> dict[str, Element]:
    index: dict[str, Element] = {}
    for element in root.iter():
        identifier = _gml_id(element)
        if identifier is not None:
            index[identifier] = element
    return index


def _default_context(root: Element) -> _Context:
    """The CRS named on the collection itself or its gml:boundedBy envelope."""
    srs = root.get("srsName")
    dimension = root.get("srsDimension")
    for bounded in root:
        if _is_gml(bounded, "boundedBy"):
            for envelope in bounded:
                srs = srs or envelope.get("srsName")
                dimension = dimension or envelope.get("srsDimension")
    crs = _crs_info(srs) if srs else None
    try:
        return _Context(crs, _dimension(dimension))
    except GeometryReadError as exc:
        raise InvalidInputError(f"the FeatureCollection's envelope: {exc}") from None


def _dimension(value: str | None) -> int | None:
    if value is None:
        return None
    if value.strip() not in ("2", "3"):
        raise GeometryReadError(f"srsDimension '{value[:20]}' is not 2 or 3")
    return int(value)


def _properties(feature: Element, ids: dict[str, Element]) -> tuple[dict[str, Any], Element | None]:
    """A feature's attributes, flattened to leaf names, and its first geometry element."""
    leaves: list[tuple[tuple[str, ...], str]] = []
    geometry: Element | None = None
    for child in feature:
        if _ns(child.tag) in GML_NAMESPACES:
            continue  # gml:boundedBy, gml:name, ...
        kids = list(child)
        if kids and _is_gml(kids[0]):
            geometry = kids[0] if geometry is None else geometry
            continue
        if not kids and child.get(XLINK_HREF) is not None:
            target = _local_target(child.get(XLINK_HREF, ""), ids)
            if geometry is None and target is not None and _is_gml(target):
                geometry = target
            continue  # an association (planområde, formål, ...), not an attribute
        _collect_leaves(child, (), leaves)
    return leaves_to_properties(leaves), geometry


def _collect_leaves(
    element: Element, path: tuple[str, ...], out: list[tuple[tuple[str, ...], str]]
) -> None:
    name = _local(element.tag)
    kids = list(element)
    if kids:
        for kid in kids:
            _collect_leaves(kid, (*path, name), out)
        return
    text = (element.text or "").strip()
    if text:
        out.append(((*path, name), text))


def _local_target(href: str, ids: dict[str, Element]) -> Element | None:
    return ids.get(href[1:]) if href.startswith("#") else None


def _dataset_crs(
    features: list[SourceFeature],
    crs_by_feature: list[CrsRef | None],
    default: _Context,
    problems: list[Problem],
) -> CrsRef:
    """The one CRS of the file; a file mixing CRSs is refused (as DiBK's Plan-GML rules do)."""
    counts = Counter(ref for ref in crs_by_feature if ref is not None)
    if len(counts) > 1:
        main = counts.most_common(1)[0][0]
        first = next(f for f, ref in zip(features, crs_by_feature, strict=True) if ref == main)
        for feature, ref in zip(features, crs_by_feature, strict=True):
            if ref is not None and ref != main:
                problems.append(
                    Problem(
                        f"uses {ref.label} but feature {first.position} and "
                        f"{counts[main] - 1} more use {main.label}; a plan file must use one "
                        "coordinate reference system",
                        feature=feature.position,
                        feature_id=feature.source_id,
                    )
                )
        return main
    if counts:
        return next(iter(counts))
    if default.crs is not None:
        return default.crs.ref
    if not problems:
        problems.append(Problem("the GML names no coordinate reference system (srsName)"))
    return CrsRef(None)


class _GeometryReader:
    """Builds shapely geometries from GML 3.2 elements, following local xlink references."""

    def __init__(
        self, root: Element, ids: dict[str, Element], default: _Context, budget: UploadBudget
    ):
        self._root = root
        self._ids = ids
        self._default = default
        self._budget = budget
        self._feature: tuple[int | None, str | None] = (None, None)
        self._parsed: dict[tuple[Element, int, bool], list[Coord]] = {}
        self._parents: dict[Element, Element] | None = None
        self._depth = 0
        self._used: set[CrsRef] = set()
        self._missing = False

    def count_arcs(self, features: list[Element]) -> None:
        """Refuse a file whose arcs alone need more vertices than the budget holds, before
        any is linearised (each arc estimated from its radius, angle and the chord
        tolerance)."""
        limit = self._budget.max_vertices
        if limit is None:
            return
        total = 0
        for tag in (f"{{{ns}}}{name}" for ns in GML_NAMESPACES for name in _ARC_SEGMENTS):
            for element in self._root.iter(tag):
                try:
                    context = self._enter(element, self._context_at(element))
                    coords = self._coords(element, context, peek=True)
                except (GeometryReadError, UnsupportedCRSError):
                    continue  # reading its feature says what is wrong
                geographic = context.crs is not None and context.crs.geographic
                circle = _local(element.tag) == "Circle"
                total += arc_point_count(coords, circle, max_deviation_for(geographic))
                if total > limit:
                    position = self._feature_position(element, features)
                    source_id = None if position is None else _gml_id(features[position])
                    what = f"gml:{_local(element.tag)}, with the arcs before it,"
                    self._budget.refuse_vertices(what, position, source_id)

    def _feature_position(self, element: Element, features: list[Element]) -> int | None:
        positions = {feature: i for i, feature in enumerate(features)}
        assert self._parents is not None  # built by _context_at
        while element not in positions and element in self._parents:
            element = self._parents[element]
        return positions.get(element)

    def read(
        self, element: Element, position: int | None = None, source_id: str | None = None
    ) -> tuple[BaseGeometry, set[CrsRef], bool]:
        """Return the geometry, the CRSs its parts named, and whether any part had none."""
        self._feature = (position, source_id)
        self._used = set()
        self._missing = False
        geometry = self._geometry(element, self._context_at(element))
        return geometry, self._used, self._missing

    # context: srsName and srsDimension are inherited from enclosing geometry elements

    def _enter(self, element: Element, context: _Context) -> _Context:
        srs = element.get("srsName")
        dimension = element.get("srsDimension")
        if srs is not None:
            context = replace(context, crs=_crs_info(srs))
        if dimension is not None:
            context = replace(context, dimension=_dimension(dimension))
        return context

    def _context_at(self, element: Element) -> _Context:
        """The context an element inherits from its ancestors (for referenced elements)."""
        if self._parents is None:
            self._parents = {child: parent for parent in self._root.iter() for child in parent}
        chain = [element]
        while chain[-1] in self._parents:
            chain.append(self._parents[chain[-1]])
        context = self._default
        for ancestor in reversed(chain[1:]):
            if _is_gml(ancestor):
                context = self._enter(ancestor, context)
        return context

    def _deref(self, wrapper: Element, context: _Context) -> tuple[Element, _Context]:
        """The geometry a property element holds inline or refers to with xlink:href."""
        href = wrapper.get(XLINK_HREF)
        if href is None:
            kids = list(wrapper)
            if len(kids) != 1:
                raise GeometryReadError(
                    f"gml:{_local(wrapper.tag)} must hold exactly one geometry, it holds "
                    f"{len(kids)}"
                )
            return kids[0], context
        if not href.startswith("#"):
            raise GeometryReadError(
                f"gml:{_local(wrapper.tag)} refers to '{href}' outside the file; only "
                "references within the file ('#id') are read, nothing is fetched"
            )
        target = self._ids.get(href[1:])
        if target is None:
            raise GeometryReadError(
                f"gml:{_local(wrapper.tag)} refers to '{href}', which is not in the file"
            )
        if not _is_gml(target):  # a boundary feature such as RpFormålGrense
            geometry = _properties(target, self._ids)[1]
            if geometry is None:
                raise GeometryReadError(f"'{href}' is a {_local(target.tag)} without geometry")
            target = geometry
        return target, self._context_at(target)

    def _follow(self, wrapper: Element, context: _Context, read: Callable[..., Any]) -> Any:
        if self._depth >= _MAX_REFERENCE_DEPTH:
            raise GeometryReadError("xlink references nest too deeply or form a cycle")
        # References may point many times at one geometry: it is parsed once, but every use
        # counts its vertices against the budget, and the clock is looked at on each.
        self._budget.check_time("following xlink references in the GML")
        self._depth += 1
        try:
            target, target_context = self._deref(wrapper, context)
            return read(target, target_context)
        finally:
            self._depth -= 1

    # geometry types

    def _geometry(self, element: Element, context: _Context) -> BaseGeometry:
        name = _local(element.tag)
        if not _is_gml(element):
            raise GeometryReadError(f"<{name}> is not a GML geometry")
        if name in ("Polygon", "Surface", "PolygonPatch", "OrientableSurface", "CompositeSurface"):
            polygons = self._surface(element, context)
            return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
        if name == "MultiSurface":
            return MultiPolygon(self._surface(element, context))
        if name in ("LineString", "Curve", "CompositeCurve", "OrientableCurve", "LinearRing"):
            return LineString(np.asarray(self._curve(element, context), dtype=float))
        if name == "MultiCurve":
            context = self._enter(element, context)
            return MultiLineString(
                [
                    self._follow(member, context, self._curve)
                    for member in self._members(element, "curveMember", "curveMembers")
                ]
            )
        if name == "Point":
            context = self._enter(element, context)
            return Point(self._coords(element, context)[0])
        if name == "MultiPoint":
            context = self._enter(element, context)
            points = [
                self._follow(m, context, self._point_coord)
                for m in self._members(element, "pointMember", "pointMembers")
            ]
            return MultiPoint(points)
        raise GeometryReadError(f"gml:{name} geometries are not supported")

    def _point_coord(self, element: Element, context: _Context) -> Coord:
        if not _is_gml(element, "Point"):
            raise GeometryReadError(f"expected a gml:Point, got <{_local(element.tag)}>")
        return self._coords(element, self._enter(element, context))[0]

    def _members(self, element: Element, single: str, plural: str) -> list[Element]:
        members: list[Element] = []
        for child in element:
            if _is_gml(child, single):
                members.append(child)
            elif _is_gml(child, plural):
                # gml:curveMembers holds the curves directly: wrap each as a member
                for kid in child:
                    wrapper = Element(child.tag)
                    wrapper.append(kid)
                    members.append(wrapper)
        return members

    def _surface(self, element: Element, context: _Context) -> list[Polygon]:
        """The polygons of a surface-like element (always at least one)."""
        context = self._enter(element, context)
        name = _local(element.tag)
        if name in ("Polygon", "PolygonPatch"):
            return [self._polygon(element, context)]
        if name == "Surface":
            patches = [
                self._polygon(patch, self._enter(patch, context))
                for holder in element
                if _is_gml(holder, "patches")
                for patch in holder
            ]
            if not patches:
                raise GeometryReadError("gml:Surface has no gml:patches")
            if len(patches) == 1:
                return patches
            return _union(patches, "gml:Surface")
        if name == "OrientableSurface":
            base = [child for child in element if _is_gml(child, "baseSurface")]
            if not base:
                raise GeometryReadError("gml:OrientableSurface has no gml:baseSurface")
            return self._follow(base[0], context, self._surface)
        if name in ("MultiSurface", "CompositeSurface"):
            members = self._members(element, "surfaceMember", "surfaceMembers")
            if not members:
                raise GeometryReadError(f"gml:{name} has no gml:surfaceMember")
            polygons = [p for m in members for p in self._follow(m, context, self._surface)]
            if name == "CompositeSurface" and len(polygons) > 1:
                return _union(polygons, "gml:CompositeSurface")
            return polygons
        raise GeometryReadError(f"expected a surface, got gml:{name}")

    def _polygon(self, element: Element, context: _Context) -> Polygon:
        exterior: list[Coord] | None = None
        holes: list[list[Coord]] = []
        for child in element:
            if _is_gml(child, "exterior"):
                if exterior is not None:
                    raise GeometryReadError("a polygon has two gml:exterior rings")
                exterior = self._follow(child, context, self._ring)
            elif _is_gml(child, "interior"):
                holes.append(self._follow(child, context, self._ring))
        if exterior is None:
            raise GeometryReadError(f"gml:{_local(element.tag)} has no gml:exterior ring")
        return _polygon(exterior, holes)

    def _ring(self, element: Element, context: _Context) -> list[Coord]:
        context = self._enter(element, context)
        tolerance = self._tolerance(context)
        name = _local(element.tag)
        if _is_gml(element, "LinearRing"):
            return closed_ring(self._coords(element, context), tolerance, "gml:LinearRing")
        if _is_gml(element, "Ring"):
            members = self._members(element, "curveMember", "curveMembers")
            if not members:
                raise GeometryReadError("gml:Ring has no gml:curveMember")
            parts = [
                (f"curve member {i + 1}", self._follow(m, context, self._curve))
                for i, m in enumerate(members)
            ]
            return closed_ring(join_parts(parts, tolerance), tolerance, "gml:Ring")
        raise GeometryReadError(f"expected gml:LinearRing or gml:Ring, got <{name}>")

    def _curve(self, element: Element, context: _Context) -> list[Coord]:
        """The coordinates of a curve-like element, arcs linearised."""
        context = self._enter(element, context)
        tolerance = self._tolerance(context)
        name = _local(element.tag)
        if not _is_gml(element):
            raise GeometryReadError(f"<{name}> is not a GML curve")
        if name in ("LineString", "LinearRing", "LineStringSegment"):
            coords = self._coords(element, context)
            if len(coords) < 2:
                raise GeometryReadError(f"gml:{name} has {len(coords)} point; it needs 2")
            return coords
        if name == "Curve":
            segments = [seg for holder in element if _is_gml(holder, "segments") for seg in holder]
            if not segments:
                raise GeometryReadError("gml:Curve has no gml:segments")
            parts = [
                (f"segment {i + 1} (gml:{_local(s.tag)})", self._segment(s, context))
                for i, s in enumerate(segments)
            ]
            return join_parts(parts, tolerance)
        if name == "CompositeCurve":
            members = self._members(element, "curveMember", "curveMembers")
            parts = [
                (f"curve member {i + 1}", self._follow(m, context, self._curve))
                for i, m in enumerate(members)
            ]
            return join_parts(parts, tolerance)
        if name == "OrientableCurve":
            base = [child for child in element if _is_gml(child, "baseCurve")]
            if not base:
                raise GeometryReadError("gml:OrientableCurve has no gml:baseCurve")
            coords = self._follow(base[0], context, self._curve)
            return coords[::-1] if element.get("orientation", "+") == "-" else coords
        if name == "Ring":
            return self._ring(element, context)
        raise GeometryReadError(f"gml:{name} is not a supported curve")

    def _segment(self, element: Element, context: _Context) -> list[Coord]:
        context = self._enter(element, context)
        name = _local(element.tag)
        deviation = max_deviation_for(context.crs is not None and context.crs.geographic)
        if name == "LineStringSegment":
            return self._curve(element, context)
        coords = self._coords(element, context)

        def take(count: int) -> None:
            self._take(count, f"gml:{name}")

        if name == "Arc":
            if len(coords) != 3:
                raise GeometryReadError(f"gml:Arc has {len(coords)} points; it needs 3")
            return arc_points(*coords, max_deviation=deviation, before_building=take)
        if name == "ArcString":
            if len(coords) < 3 or len(coords) % 2 == 0:
                raise GeometryReadError(
                    f"gml:ArcString has {len(coords)} points; it needs an odd number, at least 3"
                )
            out = [coords[0]]
            for i in range(0, len(coords) - 2, 2):
                arc = arc_points(*coords[i : i + 3], max_deviation=deviation, before_building=take)
                out.extend(arc[1:])
            return out
        if name == "Circle":
            if len(coords) != 3:
                raise GeometryReadError(f"gml:Circle has {len(coords)} points; it needs 3")
            return circle_points(*coords, max_deviation=deviation, before_building=take)
        raise GeometryReadError(f"curve segments of type gml:{name} are not supported")

    def _coords(self, element: Element, context: _Context, peek: bool = False) -> list[Coord]:
        """Read gml:posList, gml:pos or gml:coordinates children as (x=east, y=north) pairs.

        `peek` reads without noting the CRS or counting the vertices (to estimate arcs). An
        element referred to many times is parsed once, but every use counts its vertices.
        """
        if not peek and context.crs is None:
            self._missing = True
        elif not peek:
            self._used.add(context.crs.ref)
        dimension = context.dimension or (context.crs.dimension if context.crs else 2)
        swap = context.crs is not None and context.crs.northing_first
        key = (element, dimension, swap)
        coords = self._parsed.get(key)
        if coords is None:
            coords, plain = self._read_coords(element, context, dimension, swap)
            if plain:
                self._parsed[key] = coords
        if not peek:
            self._take(len(coords), f"gml:{_local(element.tag)}")
        return coords

    def _read_coords(
        self, element: Element, context: _Context, dimension: int, swap: bool
    ) -> tuple[list[Coord], bool]:
        """The coordinates, and whether they came from the element's own text alone."""
        values: list[tuple[float, ...]] = []
        plain = True
        for child in element:
            if _is_gml(child, "posList"):
                own = _dimension(child.get("srsDimension")) or dimension
                numbers = _numbers(child.text)
                if len(numbers) % own:
                    raise GeometryReadError(
                        f"gml:posList has {len(numbers)} numbers, not a multiple of its "
                        f"dimension {own}"
                    )
                values.extend(tuple(numbers[i : i + own]) for i in range(0, len(numbers), own))
            elif _is_gml(child, "pos"):
                numbers = _numbers(child.text)
                if len(numbers) < 2:
                    raise GeometryReadError(f"gml:pos '{child.text}' has fewer than 2 numbers")
                values.append(tuple(numbers))
            elif _is_gml(child, "coordinates"):
                values.extend(_gml2_coordinates(child))
            elif _is_gml(child, "pointProperty", "pointRep"):
                values.append(self._follow(child, context, self._point_coord))
                plain = False
        if not values:
            raise GeometryReadError(f"gml:{_local(element.tag)} has no coordinates")
        if swap:
            return [(v[1], v[0]) for v in values], plain
        return [(v[0], v[1]) for v in values], plain

    def _tolerance(self, context: _Context) -> float:
        return join_tolerance_for(context.crs is not None and context.crs.geographic)

    def _take(self, count: int, what: str) -> None:
        position, source_id = self._feature
        self._budget.take_vertices(count, f"the {what} of this feature", position, source_id)


def _numbers(text: str | None) -> list[float]:
    try:
        # xsd:double: ASCII digits, no '_' (float() alone reads Unicode digits and '1_0')
        numbers = [parse_double(value) for value in (text or "").split()]
    except ValueError:
        raise GeometryReadError(f"coordinates are not numbers: '{(text or '')[:60]}'") from None
    if not all(abs(n) <= MAX_COORDINATE for n in numbers):  # also False for NaN
        bad = next(n for n in numbers if not abs(n) <= MAX_COORDINATE)
        raise GeometryReadError(
            f"coordinate {bad:g} is not a finite number within ±{MAX_COORDINATE:g}"
        )
    return numbers


def _gml2_coordinates(element: Element) -> list[tuple[float, ...]]:
    decimal = element.get("decimal", ".")
    cs = element.get("cs", ",")
    ts = element.get("ts", " ")
    tuples = []
    for chunk in (element.text or "").strip().split(ts):
        if not chunk.strip():
            continue
        tuples.append(tuple(_numbers(" ".join(chunk.replace(decimal, ".").split(cs)))))
    return tuples


def _polygon(exterior: list[Coord], holes: list[list[Coord]]) -> Polygon:
    """A polygon from coordinate lists; as arrays, shapely takes them in one step."""
    return Polygon(np.asarray(exterior, dtype=float), [np.asarray(h, dtype=float) for h in holes])


def _union(polygons: list[Polygon], what: str) -> list[Polygon]:
    """The union of a surface's patches. Only valid patches are unioned (an overlay of
    invalid ones fails or takes super-linear work); invalid ones are kept as parts, for the
    bounded validity check and repair every area goes through."""
    if not shapely.is_valid(np.array(polygons, dtype=object)).all():
        return polygons
    try:
        return _polygons(shapely.union_all(polygons))
    except shapely.errors.GEOSException as exc:
        raise GeometryReadError(f"the patches of {what} cannot be joined: {exc}") from None


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    return [part for part in shapely.get_parts(geometry) if isinstance(part, Polygon)]
