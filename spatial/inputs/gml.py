"""Reading plan proposals from Plan-GML 5.0 (reguleringsplanforslag, GML 3.2)."""

import math
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

from spatial.crs import CrsRef, parse_crs_name
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
    arc_frame,
    arc_point_count,
    arc_points,
    center_arc_point_count,
    center_arc_points,
    circle_points,
    closed_ring,
    join_parts,
    join_tolerance_for,
)
from spatial.inputs.features import (
    GeometryReadError,
    SourcePlanBuilder,
    cannot_read,
    check_feature_count,
    leaves_to_properties,
)
from spatial.inputs.locations import feature_names, lon_lat, within
from spatial.messages import Text
from spatial.numbers import parse_double
from spatial.plan_model import (
    MAX_COORDINATE,
    Z_DROPPED_WARNING,
    SourceFeature,
    SourcePlan,
    UploadBudget,
)

GML_NAMESPACES = ("http://www.opengis.net/gml/3.2", "http://www.opengis.net/gml")
# GML 3.2 solids (volumes): plan areas are surfaces, a solid is refused by name.
_SOLIDS = ("Solid", "CompositeSolid", "MultiSolid")
_ARC_SEGMENTS = ("Arc", "ArcString", "Circle", "ArcByCenterPoint", "CircleByCenterPoint")
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


# The longest srsName spelling (a compound CRS URI of two http URIs) is under 200 characters.
_MAX_SRS_NAME = 200


@lru_cache(maxsize=32)
def _crs_info(srs_name: str) -> _CrsInfo:
    if len(srs_name) > _MAX_SRS_NAME:
        raise UnsupportedCRSError(
            Text(
                nb=f"srsName «{srs_name[:60]}…» ({len(srs_name)} tegn) er ikke et "
                "koordinatsystem vi kjenner; bruk en EPSG-kode som «EPSG:25832»",
                en=f"srsName '{srs_name[:60]}…' ({len(srs_name)} characters) is not a CRS we "
                "know; use an EPSG code such as 'EPSG:25832'",
            )
        )
    name = parse_crs_name(srs_name, what="srsName")
    ref = name.ref
    if ref.epsg is None:
        return _CrsInfo(ref, 2, False, True)
    axes = CRS.from_epsg(ref.epsg).axis_info
    # GML 3.2 follows the CRS definition's axis order: easting first for ETRS89/UTM
    # (25832/25833/5972), latitude first for geographic ETRS89 (4258).
    northing_first = bool(axes) and axes[0].direction.lower() in ("north", "south")
    return _CrsInfo(ref, name.dimension, northing_first, ref.is_geographic)


@dataclass(frozen=True)
class _Context:
    crs: _CrsInfo | None
    dimension: int | None  # srsDimension given on a geometry: binding
    hint: int | None = None  # srsDimension of an enclosing envelope: used where lists allow


# --- reading ---------------------------------------------------------------------------------


def read_gml(body: bytes, max_features: int, budget: UploadBudget | None = None) -> SourcePlan:
    """Parse a Plan-GML FeatureCollection into source features; raise on unsafe or bad input."""
    budget = budget or UploadBudget()
    root = _parse_xml(body, budget)
    members = _feature_elements(root)
    if not members:
        raise InvalidInputError(
            Text(
                nb=f"XML-dokumentet <{_local(root.tag)}> har ingen GML-objekter "
                "(gml:featureMember); en Plan-GML 5.0 FeatureCollection var ventet",
                en=f"the XML document <{_local(root.tag)}> holds no GML features "
                "(gml:featureMember); expected a Plan-GML 5.0 FeatureCollection",
            )
        )
    plans = [m for m in members if _local(m.tag) == _PLAN_OBJECT]
    features = [m for m in members if _local(m.tag) != _PLAN_OBJECT]
    check_feature_count(len(features), max_features, Text("GML-filen", "the GML"))
    if len(plans) > 1:
        raise InvalidInputError(
            Text(
                nb=f"GML-filen har {len(plans)} Arealplan-objekter; last opp én plan per fil",
                en=f"the GML holds {len(plans)} Arealplan objects; upload one plan per file",
            )
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
        budget.check_time(Text("leser objektene i GML-filen", "reading the GML features"))
        source_id = _gml_id(element)
        properties, geometry_element = _properties(element, ids)
        properties = {"objtype": _local(element.tag), **properties}
        feltnavn, lokal_id = feature_names(properties)
        where: dict[str, Any] = {
            "feature": position,
            "feature_id": source_id,
            "feltnavn": feltnavn,
            "lokal_id": lokal_id,
        }

        geometry = None
        geometry_error = None
        location = None
        used: set[CrsRef] = set()
        if geometry_element is not None:
            try:
                geometry, used, missing = reader.read(geometry_element, position, source_id)
            except UnsupportedCRSError as exc:
                problems.append(Problem(exc.detail, **where))
                missing = False
            except GeometryReadError as exc:
                geometry_error = cannot_read(exc)
                used, missing = reader.used, False
                only = next(iter(used)) if len(used) == 1 else None
                location = lon_lat(exc.point, only or (default.crs and default.crs.ref))
            if missing:
                problems.append(
                    Problem(
                        Text(
                            nb="geometrien har ingen srsName, og FeatureCollection oppgir ikke "
                            "noe koordinatsystem",
                            en="geometry has no srsName and the FeatureCollection names no CRS",
                        ),
                        **where,
                    )
                )
        if len(used) > 1:
            labels = ", ".join(sorted(ref.label for ref in used))
            problems.append(
                Problem(
                    Text(
                        nb=f"geometrien blander koordinatsystemer ({labels}); en planfil må "
                        "bruke ett koordinatsystem",
                        en=f"geometry mixes coordinate reference systems ({labels}); "
                        "a plan file must use one CRS",
                    ),
                    **where,
                )
            )
        crs_by_feature.append(next(iter(used)) if len(used) == 1 else None)
        builder.add(source_id, properties, geometry, geometry_error, location)
    crs = _dataset_crs(builder.features, crs_by_feature, default, problems)
    if problems:  # every problem found here is about the CRS; bad geometry is per feature
        raise UnsupportedCRSError(summarize(problems), problems)
    warnings = []
    if reader.z_dropped:
        # The README promises this for 3D GML: heights are read past, not kept.
        warnings.append(Problem(Z_DROPPED_WARNING))
    return builder.plan(crs, plan_attributes, warnings)


def _parse_xml(body: bytes, budget: UploadBudget) -> Element:
    """Parse with defusedxml: no DTD, no entities, nothing external (SPEC: safe XML handling),
    and no more nodes or nesting than Plan-GML needs, fed in chunks between looks at the clock.
    """
    nodes = body.count(b"<") - body.count(b"</") + 2 * body.count(b"=")
    if nodes > MAX_XML_NODES:
        raise PayloadTooLargeError(
            Text(
                nb=f"XML-filen har rundt {nodes} elementer og attributter (attributter teller "
                f"dobbelt); grensen er {MAX_XML_NODES}, langt mer enn Plan-GML trenger for en "
                "plan innenfor opplastingsgrensene",
                en=f"the XML has some {nodes} elements and attributes (attributes count twice); "
                f"the limit is {MAX_XML_NODES}, far more than Plan-GML needs for a plan within "
                "the upload limits",
            )
        )
    builder = _DepthLimitedTreeBuilder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    fed = False
    try:
        for start in range(0, len(body), _XML_CHUNK):
            parser.feed(body[start : start + _XML_CHUNK])
            budget.check_time(Text("leser XML-filen", "parsing the XML"))
        fed = True
        return parser.close()
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        if fed and body.strip():
            # Every byte was read without fault, yet the document is not complete.
            still_open = _still_open(builder.open_elements)
            raise MalformedInputError(
                Text(
                    nb=f"XML-filen slutter for tidlig, på linje {line}, kolonne {column}: filen "
                    f"er avkuttet, {still_open.nb}; last opp hele filen",
                    en=f"the XML ends early, at line {line}, column {column}: the file is cut "
                    f"short (truncated), {still_open.en}; upload the whole file",
                )
            ) from None
        message = _parse_message(exc)
        raise MalformedInputError(
            Text(
                nb=f"innholdet er ikke gyldig XML: {_parse_message_nb(message)} på linje {line}, "
                f"kolonne {column}",
                en=f"body is not well-formed XML: {message} at line {line}, column {column}",
            )
        ) from None
    except DTDForbidden as exc:
        # Parse the start again, still defused, only to name what the DTD tried to do.
        source = exc.sysid or exc.pubid
        reason = _dtd_reason(body[:_XML_CHUNK]) or Text(
            nb=f"<!DOCTYPE {exc.name}>" + (f" som viser til «{source}»" if source else ""),
            en=f"<!DOCTYPE {exc.name}>" + (f" referring to '{source}'" if source else ""),
        )
        raise MalformedInputError(
            Text(
                nb=f"XML-filen har en dokumenttypedeklarasjon (DTD) med {reason.nb}; DTD-er og "
                "entiteter avvises (de kan brukes til å sprenge minnet med entiteter og til å "
                "lese lokale eller eksterne filer), og Plan-GML trenger ingen",
                en=f"the XML has a document type declaration (DTD) with {reason.en}; DTDs and "
                "entities are refused (they allow entity-expansion bombs and reading local or "
                "remote files), and Plan-GML needs none",
            )
        ) from None
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise MalformedInputError(
            Text("XML-filen avvises: ", "the XML is refused: ") + _describe_refusal(exc)
        ) from None
    except LookupError as exc:  # an encoding in the XML declaration Python does not know
        raise MalformedInputError(
            Text(
                nb=f"innholdet er ikke lesbar XML: tegnsettet XML-deklarasjonen oppgir er ukjent "
                f"({exc})",
                en=f"body is not readable XML: {exc}",
            )
        ) from None


def _still_open(tags: list[str]) -> Text:
    if not tags:
        return Text(
            "før det første elementet er fullstendig", "before its first element is complete"
        )
    many = len(tags) > 1
    innermost = _local(tags[-1])
    return Text(
        nb=f"med {len(tags)} element{'er' * many} som ikke er lukket, det innerste <{innermost}>",
        en=f"with {len(tags)} element{'s' * many} not closed, the innermost <{innermost}>",
    )


class _DepthLimitedTreeBuilder(TreeBuilder):
    """Builds the element tree, refusing deeper nesting than Plan-GML needs before it is
    built (the readers walk the tree recursively)."""

    def __init__(self) -> None:
        super().__init__()
        self.open_elements: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        """Open an element, unless it nests too deep."""
        self.open_elements.append(tag)
        if len(self.open_elements) > MAX_XML_DEPTH:
            raise MalformedInputError(
                Text(
                    nb=f"XML-filen har elementer nestet mer enn {MAX_XML_DEPTH} nivåer dypt; "
                    "Plan-GML trenger langt færre",
                    en=f"the XML nests elements more than {MAX_XML_DEPTH} levels deep; "
                    "Plan-GML needs far fewer",
                )
            )
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        """Close the element."""
        self.open_elements.pop()
        return super().end(tag)


def _dtd_reason(body: bytes) -> Text | None:
    try:
        fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        return _describe_refusal(exc)
    except ParseError:
        return None
    return None


def _describe_refusal(exc: EntitiesForbidden | ExternalReferenceForbidden) -> Text:
    source = exc.sysid or exc.pubid
    if isinstance(exc, ExternalReferenceForbidden):
        return Text(
            nb=f"en henvisning til den eksterne ressursen «{source}»",
            en=f"a reference to the external resource '{source}'",
        )
    if source:
        return Text(
            nb=f"en ekstern entitet («{exc.name}») som peker til «{source}»",
            en=f"an external entity ('{exc.name}') pointing to '{source}'",
        )
    return Text(
        nb=f"en entitetsdeklarasjon («{exc.name}»)", en=f"an entity declaration ('{exc.name}')"
    )


def _parse_message(exc: ParseError) -> str:
    return re.sub(r": line \d+, column \d+$", "", str(exc))


# The messages of Python's XML parser (expat's XML_ErrorString) a planner's file meets, in
# bokmål; others are quoted as the parser gives them.
_EXPAT_NB = {
    "syntax error": "syntaksfeil",
    "no element found": "fant ikke noe element",
    "not well-formed (invalid token)": "ugyldig tegn eller tagg",
    "unclosed token": "en tagg som ikke er avsluttet",
    "partial character": "et ufullstendig tegn",
    "mismatched tag": "en slutt-tagg som ikke passer til start-taggen",
    "duplicate attribute": "et attributt som står to ganger",
    "junk after document element": "tekst etter dokumentets siste element",
    "undefined entity": "en entitet som ikke er definert",
    "unbound prefix": "et navnerom-prefiks som ikke er deklarert",
    "XML or text declaration not at start of entity": "XML-deklarasjonen står ikke først i filen",
    "encoding specified in XML declaration is incorrect": (
        "tegnsettet i XML-deklarasjonen stemmer ikke med filen"
    ),
    "unclosed CDATA section": "en CDATA-seksjon som ikke er avsluttet",
}


def _parse_message_nb(message: str) -> str:
    known = _EXPAT_NB.get(message)
    return known if known is not None else f"XML-leseren melder «{message}»"


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
    """The features of a GML FeatureCollection (featureMember, featureMembers or wfs:member),
    also those of collections nested in a member (WFS 2.0 answers to several queries)."""
    members: list[Element] = []
    collections = [root]
    while collections:
        collection = collections.pop(0)
        for child in collection:
            name = _local(child.tag)
            held = child[:1] if name in ("featureMember", "member") else []
            held = list(child) if name == "featureMembers" else held
            for feature in held:
                if _local(feature.tag) == "FeatureCollection":
                    collections.append(feature)
                else:
                    members.append(feature)
    return members


def _id_index(root: Element) -> dict[str, Element]:
    index: dict[str, Element] = {}
    for element in root.iter():
        identifier = _gml_id(element)
        if identifier is not None:
            index[identifier] = element
    return index


def _default_context(root: Element) -> _Context:
    """The CRS named on the collection itself or its boundedBy envelope."""
    try:
        return _wrapper_context(root, _Context(None, None))
    except GeometryReadError as exc:
        raise InvalidInputError(
            within(
                Text(
                    "omhyllingsrektangelet (boundedBy) til FeatureCollection",
                    "the FeatureCollection's envelope",
                ),
                exc,
            ).message
        ) from None


def _wrapper_context(element: Element, context: _Context) -> _Context:
    """The CRS a collection, member wrapper or feature gives the geometries within: its
    srsName, else that of its envelope (gml:boundedBy, or wfs:boundedBy in WFS 2.0). GML 3.2
    (SRSReferenceGroup) lets geometries leave srsName out where the context names it."""
    srs = element.get("srsName")
    dimension = element.get("srsDimension")
    for bounded in element:
        if _local(bounded.tag) != "boundedBy":
            continue
        for envelope in bounded:
            srs = srs or envelope.get("srsName")
            dimension = dimension or envelope.get("srsDimension")
    if srs:
        context = replace(context, crs=_crs_info(srs))
    if dimension:
        context = replace(context, hint=_dimension(dimension))
    return context


def _dimension(value: str | None) -> int | None:
    if value is None:
        return None
    if value.strip() not in ("2", "3"):
        raise GeometryReadError(
            Text(
                nb=f"srsDimension «{value[:20]}» er ikke 2 eller 3",
                en=f"srsDimension '{value[:20]}' is not 2 or 3",
            )
        )
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
                feltnavn, lokal_id = feature_names(feature.properties)
                problems.append(
                    Problem(
                        Text(
                            nb=f"bruker {ref.label}, men objekt nr. {first.position + 1} og "
                            f"{counts[main] - 1} til bruker {main.label}; en planfil må bruke "
                            "ett koordinatsystem",
                            en=f"uses {ref.label} but feature {first.position} and "
                            f"{counts[main] - 1} more use {main.label}; a plan file must use one "
                            "coordinate reference system",
                        ),
                        feature=feature.position,
                        feature_id=feature.source_id,
                        feltnavn=feltnavn,
                        lokal_id=lokal_id,
                    )
                )
        return main
    if counts:
        return next(iter(counts))
    if default.crs is not None:
        return default.crs.ref
    if not problems:
        problems.append(
            Problem(
                Text(
                    nb="GML-filen oppgir ikke noe koordinatsystem (srsName)",
                    en="the GML names no coordinate reference system (srsName)",
                )
            )
        )
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
        self._parsed: dict[tuple[Element, int | None, int, bool], list[Coord]] = {}
        self._parents: dict[Element, Element] | None = None
        self._depth = 0
        self._used: set[CrsRef] = set()
        self._missing = False
        self._list_dimension: int | None = None
        self._declared: dict[Element, _Context] = {}
        self.z_dropped = False  # whether any position had a height

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
                total += self._arc_point_count(element, coords, context)
                if total > limit:
                    position = self._feature_position(element, features)
                    source_id = None if position is None else _gml_id(features[position])
                    name = _local(element.tag)
                    what = Text(
                        f"gml:{name}, sammen med buene før den,",
                        f"gml:{name}, with the arcs before it,",
                    )
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
        context = self._context_at(element)
        named = self._enter(element, context).crs
        if named is not None:  # known even where the geometry cannot be read
            self._used.add(named.ref)
        geometry = self._geometry(element, context)
        return geometry, self._used, self._missing

    @property
    def used(self) -> set[CrsRef]:
        """The CRSs named by the geometry last read, also when reading it failed."""
        return self._used

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
        for ancestor in reversed(chain[1:-1]):  # the root is the default
            if _is_gml(ancestor):
                context = self._enter(ancestor, context)
            else:
                context = self._wrapped(ancestor, context)
        return context

    def _wrapped(self, element: Element, context: _Context) -> _Context:
        """`_wrapper_context`, remembered: a nested collection has many children to look at."""
        declared = self._declared.get(element)
        if declared is None:
            declared = _wrapper_context(element, _Context(None, None))
            self._declared[element] = declared
        if declared.crs is not None:
            context = replace(context, crs=declared.crs)
        if declared.hint is not None:
            context = replace(context, hint=declared.hint)
        return context

    def _deref(self, wrapper: Element, context: _Context) -> tuple[Element, _Context]:
        """The geometry a property element holds inline or refers to with xlink:href."""
        href = wrapper.get(XLINK_HREF)
        if href is None:
            kids = list(wrapper)
            if len(kids) != 1:
                raise GeometryReadError(
                    Text(
                        nb=f"gml:{_local(wrapper.tag)} må inneholde nøyaktig én geometri, den "
                        f"inneholder {len(kids)}",
                        en=f"gml:{_local(wrapper.tag)} must hold exactly one geometry, it holds "
                        f"{len(kids)}",
                    )
                )
            return kids[0], context
        if not href.startswith("#"):
            raise GeometryReadError(
                Text(
                    nb=f"gml:{_local(wrapper.tag)} viser til «{href}» utenfor filen; bare "
                    "henvisninger innenfor filen («#id») leses, ingenting hentes",
                    en=f"gml:{_local(wrapper.tag)} refers to '{href}' outside the file; only "
                    "references within the file ('#id') are read, nothing is fetched",
                )
            )
        target = self._ids.get(href[1:])
        if target is None:
            raise GeometryReadError(
                Text(
                    nb=f"gml:{_local(wrapper.tag)} viser til «{href}», som ikke finnes i filen",
                    en=f"gml:{_local(wrapper.tag)} refers to '{href}', which is not in the file",
                )
            )
        if not _is_gml(target):  # a boundary feature such as RpFormålGrense
            geometry = _properties(target, self._ids)[1]
            if geometry is None:
                raise GeometryReadError(
                    Text(
                        nb=f"«{href}» er en {_local(target.tag)} uten geometri",
                        en=f"'{href}' is a {_local(target.tag)} without geometry",
                    )
                )
            target = geometry
        return target, self._context_at(target)

    def _follow(self, wrapper: Element, context: _Context, read: Callable[..., Any]) -> Any:
        if self._depth >= _MAX_REFERENCE_DEPTH:
            raise GeometryReadError(
                Text(
                    nb="xlink-henvisningene er nestet for dypt eller går i ring",
                    en="xlink references nest too deeply or form a cycle",
                )
            )
        # References may point many times at one geometry: it is parsed once, but every use
        # counts its vertices against the budget, and the clock is looked at on each.
        self._budget.check_time(
            Text("følger xlink-henvisninger i GML-filen", "following xlink references in the GML")
        )
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
            raise GeometryReadError(
                Text(f"<{name}> er ikke en GML-geometri", f"<{name}> is not a GML geometry")
            )
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
        if name in _SOLIDS:
            raise GeometryReadError(
                Text(
                    nb=f"3D-geometri (gml:{name}) støttes ikke; et planområde er en 2D-flate "
                    "(gml:Surface, gml:Polygon eller gml:MultiSurface)",
                    en=f"3D geometry (gml:{name}) is not supported; a plan area is a 2D surface "
                    "(gml:Surface, gml:Polygon or gml:MultiSurface)",
                )
            )
        raise GeometryReadError(
            Text(
                nb=f"geometritypen gml:{name} støttes ikke",
                en=f"gml:{name} geometries are not supported",
            )
        )

    def _point_coord(self, element: Element, context: _Context) -> Coord:
        if not _is_gml(element, "Point"):
            found = _local(element.tag)
            raise GeometryReadError(
                Text(f"ventet gml:Point, fant <{found}>", f"expected a gml:Point, got <{found}>")
            )
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
                raise GeometryReadError(
                    Text("gml:Surface har ingen gml:patches", "gml:Surface has no gml:patches")
                )
            if len(patches) == 1:
                return patches
            return _union(patches, "gml:Surface")
        if name == "OrientableSurface":
            base = [child for child in element if _is_gml(child, "baseSurface")]
            if not base:
                raise GeometryReadError(
                    Text(
                        "gml:OrientableSurface har ingen gml:baseSurface",
                        "gml:OrientableSurface has no gml:baseSurface",
                    )
                )
            return self._follow(base[0], context, self._surface)
        if name in ("MultiSurface", "CompositeSurface"):
            members = self._members(element, "surfaceMember", "surfaceMembers")
            if not members:
                raise GeometryReadError(
                    Text(
                        f"gml:{name} har ingen gml:surfaceMember",
                        f"gml:{name} has no gml:surfaceMember",
                    )
                )
            polygons = [p for m in members for p in self._follow(m, context, self._surface)]
            if name == "CompositeSurface" and len(polygons) > 1:
                return _union(polygons, "gml:CompositeSurface")
            return polygons
        raise GeometryReadError(
            Text(f"ventet en flate, fant gml:{name}", f"expected a surface, got gml:{name}")
        )

    def _polygon(self, element: Element, context: _Context) -> Polygon:
        exterior: list[Coord] | None = None
        holes: list[list[Coord]] = []
        for child in element:
            if _is_gml(child, "exterior"):
                if exterior is not None:
                    raise GeometryReadError(
                        Text(
                            "en polygon har to ytre avgrensninger (gml:exterior)",
                            "a polygon has two gml:exterior rings",
                        )
                    )
                exterior = self._follow(child, context, self._ring)
            elif _is_gml(child, "interior"):
                holes.append(self._follow(child, context, self._ring))
        if exterior is None:
            name = _local(element.tag)
            raise GeometryReadError(
                Text(
                    f"gml:{name} har ingen ytre avgrensning (gml:exterior)",
                    f"gml:{name} has no gml:exterior ring",
                )
            )
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
                raise GeometryReadError(
                    Text("gml:Ring har ingen gml:curveMember", "gml:Ring has no gml:curveMember")
                )
            parts = [
                (_curve_member(i), self._follow(m, context, self._curve))
                for i, m in enumerate(members)
            ]
            return closed_ring(
                join_parts(_oriented(parts, tolerance), tolerance), tolerance, "gml:Ring"
            )
        raise GeometryReadError(
            Text(
                f"ventet gml:LinearRing eller gml:Ring, fant <{name}>",
                f"expected gml:LinearRing or gml:Ring, got <{name}>",
            )
        )

    def _curve(self, element: Element, context: _Context) -> list[Coord]:
        """The coordinates of a curve-like element, arcs linearised."""
        context = self._enter(element, context)
        tolerance = self._tolerance(context)
        name = _local(element.tag)
        if not _is_gml(element):
            raise GeometryReadError(
                Text(f"<{name}> er ikke en GML-kurve", f"<{name}> is not a GML curve")
            )
        if name in ("LineString", "LinearRing", "LineStringSegment"):
            coords = self._coords(element, context)
            if len(coords) < 2:
                raise GeometryReadError(
                    Text(
                        f"gml:{name} har {len(coords)} punkt; den trenger 2",
                        f"gml:{name} has {len(coords)} point; it needs 2",
                    ),
                    coords[0] if coords else None,
                )
            return coords
        if name == "Curve":
            segments = [seg for holder in element if _is_gml(holder, "segments") for seg in holder]
            if not segments:
                raise GeometryReadError(
                    Text("gml:Curve har ingen gml:segments", "gml:Curve has no gml:segments")
                )
            parts = [
                (f"segment {i + 1} (gml:{_local(s.tag)})", self._segment(s, context))
                for i, s in enumerate(segments)
            ]
            return join_parts(parts, tolerance)
        if name == "CompositeCurve":
            members = self._members(element, "curveMember", "curveMembers")
            parts = [
                (_curve_member(i), self._follow(m, context, self._curve))
                for i, m in enumerate(members)
            ]
            return join_parts(parts, tolerance)
        if name == "OrientableCurve":
            base = [child for child in element if _is_gml(child, "baseCurve")]
            if not base:
                raise GeometryReadError(
                    Text(
                        "gml:OrientableCurve har ingen gml:baseCurve",
                        "gml:OrientableCurve has no gml:baseCurve",
                    )
                )
            coords = self._follow(base[0], context, self._curve)
            return coords[::-1] if element.get("orientation", "+") == "-" else coords
        if name == "Ring":
            return self._ring(element, context)
        raise GeometryReadError(
            Text(
                f"gml:{name} er ikke en kurvetype som støttes",
                f"gml:{name} is not a supported curve",
            )
        )

    def _segment(self, element: Element, context: _Context) -> list[Coord]:
        context = self._enter(element, context)
        name = _local(element.tag)
        frame = arc_frame(context.crs.ref if context.crs is not None else None)
        if name == "LineStringSegment":
            return self._curve(element, context)
        coords = self._coords(element, context)

        def take(count: int) -> None:
            self._take(count, f"gml:{name}")

        if name == "Arc":
            if len(coords) != 3:
                raise GeometryReadError(
                    Text(
                        f"gml:Arc har {len(coords)} punkter; en bue trenger 3",
                        f"gml:Arc has {len(coords)} points; it needs 3",
                    ),
                    coords[0],
                )
            return arc_points(*coords, frame=frame, before_building=take)
        if name == "ArcString":
            if len(coords) < 3 or len(coords) % 2 == 0:
                raise GeometryReadError(
                    Text(
                        nb=f"gml:ArcString har {len(coords)} punkter; den trenger et oddetall, "
                        "minst 3",
                        en=f"gml:ArcString has {len(coords)} points; it needs an odd number, "
                        "at least 3",
                    ),
                    coords[0],
                )
            out = [coords[0]]
            for i in range(0, len(coords) - 2, 2):
                arc = arc_points(*coords[i : i + 3], frame=frame, before_building=take)
                out.extend(arc[1:])
            return out
        if name == "Circle":
            if len(coords) != 3:
                raise GeometryReadError(
                    Text(
                        f"gml:Circle har {len(coords)} punkter; en sirkel trenger 3",
                        f"gml:Circle has {len(coords)} points; it needs 3",
                    ),
                    coords[0],
                )
            return circle_points(*coords, frame=frame, before_building=take)
        if name in ("ArcByCenterPoint", "CircleByCenterPoint"):
            if len(coords) != 1:
                raise GeometryReadError(
                    Text(
                        f"gml:{name} har {len(coords)} punkter; den trenger 1 (sentrum)",
                        f"gml:{name} has {len(coords)} points; it needs 1 (the centre)",
                    ),
                    coords[0],
                )
            try:
                radius, start, end = _center_arc(element)
            except GeometryReadError as exc:
                raise GeometryReadError(exc.message, coords[0]) from None
            try:
                return center_arc_points(coords[0], radius, start, end, frame, take)
            except GeometryReadError as exc:
                raise within(f"gml:{name}", exc) from None
        raise GeometryReadError(
            Text(
                f"kurvesegmenter av typen gml:{name} støttes ikke",
                f"curve segments of type gml:{name} are not supported",
            ),
            coords[0],
        )

    def _arc_point_count(self, element: Element, coords: list[Coord], context: _Context) -> int:
        """The points an arc segment will be drawn with (0 if it cannot be drawn)."""
        frame = arc_frame(context.crs.ref if context.crs is not None else None)
        name = _local(element.tag)
        if name in ("ArcByCenterPoint", "CircleByCenterPoint"):
            try:
                radius, start, end = _center_arc(element)
            except GeometryReadError:
                return 0
            return center_arc_point_count(radius, 360.0 if end is None else end - start, frame)
        return arc_point_count(coords, name == "Circle", frame)

    def _coords(self, element: Element, context: _Context, peek: bool = False) -> list[Coord]:
        """Read gml:posList, gml:pos or gml:coordinates children as (x=east, y=north) pairs.

        `peek` reads without noting the CRS or counting the vertices (to estimate arcs). An
        element referred to many times is parsed once, but every use counts its vertices.
        """
        if not peek and context.crs is None:
            self._missing = True
        elif not peek:
            self._used.add(context.crs.ref)
        default = context.hint or (context.crs.dimension if context.crs else 2)
        swap = context.crs is not None and context.crs.northing_first
        key = (element, context.dimension, default, swap)
        coords = self._parsed.get(key)
        if coords is None:
            coords, plain = self._read_coords(element, context, default, swap)
            if plain:
                self._parsed[key] = coords
        if not peek:
            self._take(len(coords), f"gml:{_local(element.tag)}")
        return coords

    def _read_coords(
        self, element: Element, context: _Context, default: int, swap: bool
    ) -> tuple[list[Coord], bool]:
        """The coordinates, and whether they came from the element's own text alone."""
        values: list[tuple[float, ...]] = []
        plain = True
        for child in element:
            if _is_gml(child, "posList"):
                numbers = _numbers(child.text)
                own = _dimension(child.get("srsDimension")) or context.dimension
                if own is None:
                    own = self._infer_dimension(numbers, default, _local(element.tag))
                if len(numbers) % own:
                    raise GeometryReadError(
                        Text(
                            nb=f"gml:posList har {len(numbers)} tall, som ikke går opp i "
                            f"dimensjonen {own} (tall per punkt)",
                            en=f"gml:posList has {len(numbers)} numbers, not a multiple of its "
                            f"dimension {own}",
                        ),
                        _first_point(numbers, swap),
                    )
                values.extend(tuple(numbers[i : i + own]) for i in range(0, len(numbers), own))
            elif _is_gml(child, "pos"):
                numbers = _numbers(child.text)
                if len(numbers) < 2:
                    raise GeometryReadError(
                        Text(
                            f"gml:pos «{child.text}» har færre enn 2 tall",
                            f"gml:pos '{child.text}' has fewer than 2 numbers",
                        )
                    )
                values.append(tuple(numbers))
            elif _is_gml(child, "coordinates"):
                values.extend(_gml2_coordinates(child))
            elif _is_gml(child, "pointProperty", "pointRep"):
                values.append(self._follow(child, context, self._point_coord))
                plain = False
        if not values:
            name = _local(element.tag)
            raise GeometryReadError(
                Text(f"gml:{name} har ingen koordinater", f"gml:{name} has no coordinates")
            )
        if any(len(v) > 2 for v in values):
            self.z_dropped = True
        if swap:
            return [(v[1], v[0]) for v in values], plain
        return [(v[0], v[1]) for v in values], plain

    def _infer_dimension(self, numbers: list[float], default: int, holder: str) -> int:
        """The dimension of a gml:posList without srsDimension (GML 3.2 leaves it to the CRS,
        but files in EPSG:5972/5973 often hold 2D lists): what the number count allows, then
        what makes the geometry whole (a closed ring, three arc points), then what the file's
        other positions show, then the envelope's srsDimension or the CRS's dimension."""
        count = len(numbers)
        candidates = [d for d in (2, 3) if count % d == 0]
        if not candidates:
            raise GeometryReadError(
                Text(
                    nb=f"gml:posList har {count} tall, som verken er 2D- eller 3D-posisjoner; "
                    "oppgi srsDimension",
                    en=f"gml:posList has {count} numbers, which are neither 2D nor 3D "
                    "positions; give its srsDimension",
                )
            )
        if len(candidates) == 1:
            return candidates[0]
        fitting = [d for d in candidates if _fits(numbers, d, holder)]
        if len(fitting) == 1:
            return fitting[0]
        return self._document_dimension() or default

    def _document_dimension(self) -> int | None:
        """2 or 3 if the file's positions whose count tells the dimension (single positions and
        envelope corners, lists whose length only one dimension divides) all tell the same one;
        None otherwise."""
        if self._list_dimension is None:
            seen: set[int] = set()
            for ns in GML_NAMESPACES:
                for element in self._root.iter(f"{{{ns}}}posList"):
                    count = len((element.text or "").split())
                    if count % 2 == 0 and count % 3:
                        seen.add(2)
                    elif count % 3 == 0 and count % 2:
                        seen.add(3)
                for name in ("pos", "lowerCorner", "upperCorner"):
                    for element in self._root.iter(f"{{{ns}}}{name}"):
                        count = len((element.text or "").split())
                        if count in (2, 3):
                            seen.add(count)
            self._list_dimension = seen.pop() if len(seen) == 1 else 0
        return self._list_dimension or None

    def _tolerance(self, context: _Context) -> float:
        return join_tolerance_for(context.crs is not None and context.crs.geographic)

    def _take(self, count: int, what: str) -> None:
        position, source_id = self._feature
        self._budget.take_vertices(
            count,
            Text(f"{what} i dette objektet", f"the {what} of this feature"),
            position,
            source_id,
        )


def _oriented(
    parts: list[tuple[Text, list[Coord]]], tolerance: float
) -> list[tuple[Text, list[Coord]]]:
    """Ring members with those given end first turned round. GML 3.2's gml:Ring wants each
    member to start where the one before ends; Plan-GML rings refer to shared boundary curves,
    and writers leave out the gml:OrientableCurve that would turn one (GDAL turns them too).
    A member is turned only where its end, not its start, meets the end before it."""
    if len(parts) < 2 or not all(coords for _, coords in parts):
        return parts  # join_parts names what is wrong
    out: list[tuple[Text, list[Coord]]] = []
    for i, (label, coords) in enumerate(parts):
        if i == 0:
            following = parts[1][1]
            meets = [p for p in (following[0], following[-1]) if _near(coords[-1], p, tolerance)]
            turns = [p for p in (following[0], following[-1]) if _near(coords[0], p, tolerance)]
            if turns and not meets:
                coords = coords[::-1]
        else:
            end = out[-1][1][-1]
            if not _near(end, coords[0], tolerance) and _near(end, coords[-1], tolerance):
                coords = coords[::-1]
        out.append((label, coords))
    return out


def _curve_member(index: int) -> Text:
    return Text(f"kurvedel {index + 1}", f"curve member {index + 1}")


def _first_point(numbers: list[float], swap: bool) -> Coord | None:
    """The first position of a coordinate list, (east, north), for marking where it is."""
    if len(numbers) < 2:
        return None
    return (numbers[1], numbers[0]) if swap else (numbers[0], numbers[1])


def _near(a: Coord, b: Coord, tolerance: float) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _fits(numbers: list[float], dimension: int, holder: str) -> bool:
    """Whether reading the numbers as `dimension`-D positions makes a whole `holder`."""
    points = len(numbers) // dimension
    if holder == "LinearRing":
        last = len(numbers) - dimension
        return points >= 4 and numbers[0:2] == numbers[last : last + 2]
    if holder in ("Arc", "Circle"):
        return points == 3
    if holder == "ArcString":
        return points >= 3 and points % 2 == 1
    return True


# GML 3.2.1 gml:LengthType/gml:AngleType carry a unit of measure (uom): a symbol, or an
# EPSG unit URN/URI. Units as multiples of metres and degrees.
_LENGTH_UNITS = {"m": 1.0, "metre": 1.0, "meter": 1.0, "9001": 1.0, "km": 1000.0, "9036": 1000.0}
_ANGLE_UNITS = {"deg": 1.0, "degree": 1.0, "9102": 1.0, "rad": 180 / math.pi, "9101": 180 / math.pi}


def _center_arc(element: Element) -> tuple[float, float, float | None]:
    """Radius (metres), start and end angle (degrees; end None for a circle) of
    gml:ArcByCenterPoint or gml:CircleByCenterPoint (GML 3.2.1 geometryPrimitives.xsd)."""
    name = _local(element.tag)
    radius = _measure(element, "radius", _LENGTH_UNITS, name)
    if radius is None:
        raise GeometryReadError(
            Text(f"gml:{name} har ingen gml:radius", f"gml:{name} has no gml:radius")
        )
    start = _measure(element, "startAngle", _ANGLE_UNITS, name)
    end = _measure(element, "endAngle", _ANGLE_UNITS, name)
    if name == "CircleByCenterPoint":
        return radius, start or 0.0, None
    if start is None or end is None:
        raise GeometryReadError(
            Text(
                f"gml:{name} trenger gml:startAngle og gml:endAngle",
                f"gml:{name} needs gml:startAngle and gml:endAngle",
            )
        )
    return radius, start, end


def _measure(element: Element, child_name: str, units: dict[str, float], what: str) -> float | None:
    """The value of a gml:MeasureType child in the units of `units` (None if absent)."""
    child = next((c for c in element if _is_gml(c, child_name)), None)
    if child is None:
        return None
    numbers = _numbers(child.text)
    if len(numbers) != 1:
        raise GeometryReadError(
            Text(
                f"gml:{child_name} i gml:{what} er ikke ett tall",
                f"gml:{child_name} of gml:{what} is not one number",
            )
        )
    uom = (child.get("uom") or "").strip()
    key = re.split(r"[:/#]", uom)[-1].lower() if uom else next(iter(units))
    if key not in units:
        names = ", ".join(k for k in units if not k.isdigit())
        raise GeometryReadError(
            Text(
                nb=f"gml:{child_name} i gml:{what} er oppgitt i «{uom[:40]}», en enhet "
                f"Arealsjekk ikke kan lese; bruk en av {names}",
                en=f"gml:{child_name} of gml:{what} is in '{uom[:40]}', a unit Arealsjekk "
                f"cannot read; use one of {names}",
            )
        )
    return numbers[0] * units[key]


def _numbers(text: str | None) -> list[float]:
    try:
        # xsd:double: ASCII digits, no '_' (float() alone reads Unicode digits and '1_0')
        numbers = [parse_double(value) for value in (text or "").split()]
    except ValueError:
        shown = (text or "")[:60]
        raise GeometryReadError(
            Text(f"koordinatene er ikke tall: «{shown}»", f"coordinates are not numbers: '{shown}'")
        ) from None
    if not all(abs(n) <= MAX_COORDINATE for n in numbers):  # also False for NaN
        bad = next(n for n in numbers if not abs(n) <= MAX_COORDINATE)
        raise GeometryReadError(
            Text(
                nb=f"koordinaten {bad:g} er ikke et endelig tall innenfor ±{MAX_COORDINATE:g}",
                en=f"coordinate {bad:g} is not a finite number within ±{MAX_COORDINATE:g}",
            )
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
        raise GeometryReadError(
            Text(
                nb=f"delflatene i {what} kan ikke slås sammen (feilmelding fra GEOS: {exc})",
                en=f"the patches of {what} cannot be joined: {exc}",
            )
        ) from None


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    return [part for part in shapely.get_parts(geometry) if isinstance(part, Polygon)]
