"""Variants of the real plan files in tests/data/plans, for the corpus test (issue 18).

Each variant changes one thing the standards allow (or forbid) in the way real writers do,
and says what reading it must give: the same areas as the original, the same areas with a
warning, or a refusal naming the problem. Plan-GML variants are edits of the real document
(GML 3.2.1); SOSI variants are SOSI 4.5 renditions of the same plan (SOSI realisering:
.FLATE with ..REF to .KURVE/.BUEP, ..IDENTIFIKASJON ...LOKALID = the GML feature's gml:id),
moved into Hemsedal so that they also pass the plan validation.
"""

import copy
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from xml.etree import ElementTree as etree

from pyproj import Transformer
from shapely.geometry import Polygon

GML = "http://www.opengis.net/gml/3.2"
XLINK = "http://www.w3.org/1999/xlink"
WFS = "http://www.opengis.net/wfs/2.0"
APP = "http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0"
BOM = b"\xef\xbb\xbf"
EPSG_25832_URI = "http://www.opengis.net/def/crs/EPSG/0/25832"
# Hemsedal (kommune 3326) in EPSG:25832: where relocated plans are put.
HEMSEDAL = (468150.0, 6748050.0)
KOMMUNENUMMER = "3326"
PLANID = "2026901"
# SOSI Plan 4.5/5.0 hensynssone groups: object type stem, attribute stem, a code in the group.
HENSYN_GROUPS = [
    ("Sikring", "SIKRING", 140),
    ("Støy", "STØY", 210),
    ("Fare", "FARE", 310),
    ("Infrastruktur", "INFRASTRUKTUR", 410),
    ("Båndlegging", "BÅNDLEGGING", 720),
    ("Detaljering", "DETALJERING", 910),
    ("AngittHensyn", "ANGITTHENSYN", 570),
    ("Gjennomføring", "GJENNOMFØRING", 810),
]
_POSITION_TAGS = ("posList", "pos", "lowerCorner", "upperCorner")
_TO_4258 = Transformer.from_crs(25832, 4258, always_xy=True)


@dataclass(frozen=True)
class Variant:
    """One generated file and what reading it must give.

    `expect` is 'same' (the areas of the original, within 0.1 %), 'own' (the areas GDAL
    reads in this file, which differ from the original's), 'refused' (a 4xx whose
    message contains `match`) or 'no_areas' (read, then refused by the validation as a file
    without plan areas). `warning` is text one reader warning must contain (None: no
    warning). `relocated` variants lie in Hemsedal and go through the validation too.
    """

    name: str
    filename: str
    body: bytes
    expect: str = "same"
    match: str = ""
    warning: str | None = None
    relocated: bool = False
    hensynssone: tuple[str, int] | None = None  # (lokalId, code) of an added hensynssone
    # extra["reference"]: the GML GDAL reads for the relocated validation (default: the body)
    extra: dict = field(default_factory=dict)


# --- GML document helpers ----------------------------------------------------------------------


# ElementTree keeps no parents: each parsed tree's are kept here, for ancestors and replacing.
_PARENTS: "weakref.WeakKeyDictionary[etree.Element, etree.Element]" = weakref.WeakKeyDictionary()
for _prefix, _uri in (("gml", GML), ("app", APP), ("xlink", XLINK), ("wfs", WFS)):
    etree.register_namespace(_prefix, _uri)


def _tree(body: bytes) -> etree.Element:
    """Parse one of the test documents (trusted files of this repository)."""
    root = etree.fromstring(body)
    _PARENTS.update((child, parent) for parent in root.iter() for child in parent)
    return root


def _ancestors(element: etree.Element) -> list[etree.Element]:
    out = []
    while (element := _PARENTS.get(element)) is not None:
        out.append(element)
    return out


def _replace(old: etree.Element, new: etree.Element) -> None:
    parent = _PARENTS[old]
    parent[list(parent).index(old)] = new


def _bytes(root: etree.Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _dimension(element: etree.Element) -> int:
    for node in (element, *_ancestors(element)):
        value = node.get("srsDimension")
        if value:
            return int(value)
    return 2


def _map_positions(root: etree.Element, move: Callable[[list[float]], list[float]]) -> None:
    """Apply `move` to every position (posList, pos, envelope corners) of the document."""
    for element in root.iter():
        if _local(element.tag) not in _POSITION_TAGS or not (element.text or "").strip():
            continue
        numbers = [float(v) for v in element.text.split()]
        size = _dimension(element)
        if len(numbers) % size:
            continue  # a broken list (DiBK's *-fail files) stays as broken as it was
        out = []
        for i in range(0, len(numbers), size):
            out.extend(move(numbers[i : i + size]))
        element.text = " ".join(repr(v) for v in out)


def _set_attribute_everywhere(root: etree.Element, name: str, value: str | None) -> None:
    for element in root.iter():
        if element.get(name) is not None:
            if value is None:
                del element.attrib[name]
            else:
                element.set(name, value)


def _geometry_srs_removed(root: etree.Element) -> None:
    """Remove srsName from every element but the collection's boundedBy envelope."""
    for element in root.iter():
        if element.get("srsName") is not None and _local(element.tag) != "Envelope":
            del element.attrib["srsName"]


def _collection_envelope(root: etree.Element) -> etree.Element | None:
    for child in root:
        if _local(child.tag) == "boundedBy":
            return child.find(f"{{{GML}}}Envelope")
    return None


def _members(root: etree.Element) -> list[etree.Element]:
    return [c for c in root if _local(c.tag) in ("featureMember", "member")]


def _features(root: etree.Element) -> list[etree.Element]:
    return [f for m in _members(root) for f in m if isinstance(f.tag, str)]


def _gml_id(element: etree.Element) -> str | None:
    return element.get(f"{{{GML}}}id")


def _is_area(feature: etree.Element) -> bool:
    return any(_local(e.tag) in ("Polygon", "Surface") for e in feature.iter())


# --- GML variants --------------------------------------------------------------------------------


def _srs_renamed(body: bytes, srs: str) -> bytes:
    return body.replace(EPSG_25832_URI.encode(), srs.encode())


def _srs_on_bounded_by_only(body: bytes) -> bytes | None:
    root = _tree(body)
    envelope = _collection_envelope(root)
    if envelope is None or envelope.get("srsName") is None:
        return None
    _geometry_srs_removed(root)
    return _bytes(root)


def _srs_on_collection(body: bytes) -> bytes | None:
    """The CRS only as srsName on the gml:FeatureCollection itself, no envelope (as some
    writers do; the geometries inherit it)."""
    root = _tree(body)
    envelope = _collection_envelope(root)
    srs = envelope.get("srsName") if envelope is not None else None
    srs = srs or next((e.get("srsName") for e in root.iter() if e.get("srsName")), None)
    if srs is None:
        return None
    for child in list(root):
        if _local(child.tag) == "boundedBy":
            root.remove(child)
    _set_attribute_everywhere(root, "srsName", None)
    root.set("srsName", srs)
    return _bytes(root)


def _wfs_members(body: bytes) -> bytes | None:
    """A WFS 2.0 answer: wfs:FeatureCollection, wfs:member, the CRS on each feature's own
    gml:boundedBy envelope only (as GeoServer writes), none on the geometries."""
    root = _tree(body)
    envelope = _collection_envelope(root)
    if envelope is None or envelope.get("srsName") is None:
        return None
    out = etree.Element(f"{{{WFS}}}FeatureCollection")
    out.set("numberMatched", "unknown")
    out.set("numberReturned", str(len(_features(root))))
    _geometry_srs_removed(root)
    for feature in _features(root):
        member = etree.SubElement(out, f"{{{WFS}}}member")
        feature = copy.deepcopy(feature)
        bounded = etree.Element(f"{{{GML}}}boundedBy")
        bounded.append(copy.deepcopy(envelope))
        feature.insert(0, bounded)
        member.append(feature)
    return _bytes(out)


def _with_heights(body: bytes, srs: str, keep_dimension: bool = True) -> bytes:
    """Every position gets a height; srsDimension 3 where it was given (or removed)."""
    root = _tree(body)
    _map_positions(root, lambda p: [*p[:2], 612.5])
    _set_attribute_everywhere(root, "srsDimension", "3" if keep_dimension else None)
    return _bytes(root).replace(EPSG_25832_URI.encode(), srs.encode())


def _without_dimension(body: bytes, srs: str) -> bytes:
    root = _tree(body)
    _set_attribute_everywhere(root, "srsDimension", None)
    return _bytes(root).replace(EPSG_25832_URI.encode(), srs.encode())


def _points(element: etree.Element) -> list[list[float]]:
    """The positions of a segment or ring: a posList or gml:pos children."""
    pos_list = element.find(f"{{{GML}}}posList")
    size = _dimension(pos_list if pos_list is not None else element)
    if pos_list is not None:
        numbers = [float(v) for v in pos_list.text.split()]
    else:
        numbers = [float(v) for p in element.findall(f"{{{GML}}}pos") for v in p.text.split()]
    if len(numbers) % size:
        raise ValueError("a position list that is not whole positions")
    return [numbers[i : i + size] for i in range(0, len(numbers), size)]


def _segment(kind: str, points: list[list[float]]) -> etree.Element:
    segment = etree.Element(f"{{{GML}}}{kind}")
    pos_list = etree.SubElement(segment, f"{{{GML}}}posList")
    pos_list.text = " ".join(repr(v) for p in points for v in p)
    return segment


def _ring_parts(ring: etree.Element, ids: dict) -> list[tuple[str, list[list[float]]]]:
    """A ring as (segment kind, points) parts in order: LinearRing, or Ring of curves."""
    if _local(ring.tag) == "LinearRing":
        return [("LineStringSegment", _points(ring))]
    parts = []
    for member in ring.findall(f"{{{GML}}}curveMember"):
        curve = next((c for c in member if isinstance(c.tag, str)), None)
        if curve is None:
            curve = ids[member.get(f"{{{XLINK}}}href").lstrip("#")]
        if _local(curve.tag) == "LineString":
            parts.append(("LineStringSegment", _points(curve)))
            continue
        for segment in curve.find(f"{{{GML}}}segments"):
            if isinstance(segment.tag, str):
                parts.append((_local(segment.tag), _points(segment)))
    return parts


def _ids(root: etree.Element) -> dict[str, etree.Element]:
    return {i: e for e in root.iter() if (i := _gml_id(e))}


def _reversed_members(body: bytes) -> bytes | None:
    """Every ring rewritten as a gml:Ring with one curve member per segment, every second
    member written in reverse and referenced without gml:OrientableCurve (as some writers
    do); a straight ring is first split in two at its middle position."""
    root = _tree(body)
    ids = _ids(root)
    rings = [r for r in root.iter() if _local(r.tag) in ("LinearRing", "Ring") and _in_surface(r)]
    if not rings:
        return None
    for number, ring in enumerate(rings):
        try:
            parts = _ring_parts(ring, ids)
        except ValueError:
            continue  # a broken ring (DiBK's *-fail files) is left as it is
        if len(parts) == 1 and parts[0][0] == "LineStringSegment":
            points = parts[0][1]
            middle = len(points) // 2
            parts = [
                ("LineStringSegment", points[: middle + 1]),
                ("LineStringSegment", points[middle:]),
            ]
        new = etree.Element(f"{{{GML}}}Ring")
        for index, (kind, points) in enumerate(parts):
            member = etree.SubElement(new, f"{{{GML}}}curveMember")
            curve = etree.SubElement(member, f"{{{GML}}}Curve")
            curve.set(f"{{{GML}}}id", f"corpus-curve-{number}-{index}")
            segments = etree.SubElement(curve, f"{{{GML}}}segments")
            segments.append(_segment(kind, points[::-1] if index % 2 else points))
        _replace(ring, new)
    return _bytes(root)


def _in_surface(ring: etree.Element) -> bool:
    return any(_local(a.tag) in ("Polygon", "PolygonPatch") for a in _ancestors(ring))


def _arc_strings(body: bytes) -> bytes | None:
    """gml:Arc written as gml:ArcString of three positions (GML 3.2.1 §10.5.9: an Arc is an
    ArcString with one arc)."""
    if b"<gml:Arc>" not in body:
        return None
    return body.replace(b"<gml:Arc>", b"<gml:ArcString>").replace(
        b"</gml:Arc>", b"</gml:ArcString>"
    )


def _arc_by_center_point(body: bytes) -> bytes | None:
    """Every gml:Arc written as the same arc by its centre, radius and angles (GML 3.2.1
    §10.5.12, gml:ArcByCenterPoint: angles counter-clockwise from the x axis)."""
    root = _tree(body)
    arcs = list(root.iter(f"{{{GML}}}Arc"))
    if not arcs:
        return None
    for arc in arcs:
        (x0, y0), (x2, y2), (x3, y3) = (p[:2] for p in _points(arc))
        # the centre is where the perpendicular bisectors of the chords meet; computed from
        # the first point so that squares of six-figure coordinates lose no millimetres
        x1, y1, x2, y2, x3, y3 = 0.0, 0.0, x2 - x0, y2 - y0, x3 - x0, y3 - y0
        d = 2 * (x2 * y3 - x3 * y2)
        s2, s3 = x2 * x2 + y2 * y2, x3 * x3 + y3 * y3
        cx, cy = (s2 * y3 - s3 * y2) / d, (s3 * x2 - s2 * x3) / d
        radius = math.hypot(x1 - cx, y1 - cy)
        start = math.degrees(math.atan2(y1 - cy, x1 - cx))
        through = (math.degrees(math.atan2(y2 - cy, x2 - cx)) - start) % 360
        sweep = (math.degrees(math.atan2(y3 - cy, x3 - cx)) - start) % 360
        if through > sweep:  # the arc passes the middle point turning clockwise
            sweep -= 360
        new = etree.Element(f"{{{GML}}}ArcByCenterPoint", numArc="1")
        etree.SubElement(new, f"{{{GML}}}pos").text = f"{cx + x0!r} {cy + y0!r}"
        etree.SubElement(new, f"{{{GML}}}radius", uom="m").text = repr(radius)
        etree.SubElement(new, f"{{{GML}}}startAngle", uom="deg").text = repr(start)
        etree.SubElement(new, f"{{{GML}}}endAngle", uom="deg").text = repr(start + sweep)
        _replace(arc, new)
    return _bytes(root)


def _circular_islands(body: bytes, kind: str) -> bytes | None:
    """Each surface gets a small round island: gml:CircleByCenterPoint (centre, radius) or
    gml:Circle (three points on it), inside a gml:Ring. The reference is GDAL's reading of
    this file itself."""
    root = _tree(body)
    ids = _ids(root)
    changed = False
    for polygon in root.iter(f"{{{GML}}}Polygon"):
        exterior = polygon.find(f"{{{GML}}}exterior")
        try:
            ring = next(r for r in exterior if isinstance(r.tag, str))
            shell = [p[:2] for _, points in _ring_parts(ring, ids) for p in points]
        except (ValueError, StopIteration, TypeError):
            continue
        outline = Polygon(shell)
        if not outline.is_valid or polygon.find(f"{{{GML}}}interior") is not None:
            continue
        centre = outline.representative_point()
        radius = outline.exterior.distance(centre) / 4
        if radius <= 0.01:
            continue
        if kind == "CircleByCenterPoint":
            segment = etree.Element(f"{{{GML}}}CircleByCenterPoint", numArc="1")
            etree.SubElement(segment, f"{{{GML}}}pos").text = f"{centre.x!r} {centre.y!r}"
            etree.SubElement(segment, f"{{{GML}}}radius", uom="m").text = repr(radius)
        else:
            segment = etree.Element(f"{{{GML}}}Circle")
            points = [
                (centre.x + radius * math.cos(a), centre.y + radius * math.sin(a))
                for a in (0.3, 2.4, 4.1)
            ]
            etree.SubElement(segment, f"{{{GML}}}posList").text = " ".join(
                repr(v) for p in points for v in p
            )
        interior = etree.SubElement(polygon, f"{{{GML}}}interior")
        curve = etree.SubElement(
            etree.SubElement(etree.SubElement(interior, f"{{{GML}}}Ring"), f"{{{GML}}}curveMember"),
            f"{{{GML}}}Curve",
        )
        curve.set(f"{{{GML}}}id", f"corpus-island-{len(ids)}-{id(polygon)}")
        etree.SubElement(curve, f"{{{GML}}}segments").append(segment)
        changed = True
    return _bytes(root) if changed else None


def _without_areas(body: bytes) -> bytes | None:
    root = _tree(body)
    members = [m for m in _members(root) if any(_is_area(f) for f in m if isinstance(f.tag, str))]
    if not members or len(members) == len(_members(root)):
        return None
    for member in members:
        root.remove(member)
    return _bytes(root)


def _offset(root: etree.Element) -> tuple[float, float]:
    """The shift that puts the plan's first position in Hemsedal."""
    for element in root.iter():
        if _local(element.tag) in ("posList", "pos") and (element.text or "").strip():
            x, y = (float(v) for v in element.text.split()[:2])
            return HEMSEDAL[0] - x, HEMSEDAL[1] - y
    raise ValueError("the document has no positions")


def _relocated(body: bytes) -> bytes:
    """Moved into Hemsedal and given a Hemsedal plan id, so the validation accepts the plan."""
    root = _tree(body)
    dx, dy = _offset(root)
    _map_positions(root, lambda p: [p[0] + dx, p[1] + dy, *p[2:]])
    for element in root.iter():
        if _local(element.tag) == "kommunenummer":
            element.text = KOMMUNENUMMER
        elif _local(element.tag) == "planidentifikasjon":
            element.text = PLANID
    return _bytes(root)


def _geographic(body: bytes) -> bytes:
    """Moved into Hemsedal, then every position given as latitude, longitude in EPSG:4258
    (the EPSG axis order, which urn:ogc:def:crs:EPSG::4258 names)."""
    root = _tree(_relocated(body))

    def to_degrees(p: list[float]) -> list[float]:
        lon, lat = _TO_4258.transform(p[0], p[1])
        return [lat, lon, *p[2:]]

    _map_positions(root, to_degrees)
    return _bytes(root).replace(EPSG_25832_URI.encode(), b"urn:ogc:def:crs:EPSG::4258")


def gml_variants(stem: str, body: bytes) -> list[Variant]:
    """The Plan-GML variants of one real document (items 3, 4, 5, 6 and 7 of issue 18)."""
    name = f"{stem}.gml"
    out = [
        # The byte-order mark toggled: DiBK's files start with one, others do not.
        Variant("bom-toggled", name, body[len(BOM) :] if body.startswith(BOM) else BOM + body),
        Variant("srs-urn-x-ogc", name, _srs_renamed(body, "urn:x-ogc:def:crs:EPSG:25832")),
        Variant("srs-urn", name, _srs_renamed(body, "urn:ogc:def:crs:EPSG::25832")),
        Variant("srs-epsg-short", name, _srs_renamed(body, "EPSG:25832")),
        Variant(
            "compound-3d",
            name,
            _with_heights(body, "urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5941"),
            warning="Z coordinates were dropped",
        ),
        Variant(
            "epsg5972-2d-no-dimension",
            name,
            _without_dimension(body, "http://www.opengis.net/def/crs/EPSG/0/5972"),
        ),
        Variant(
            "epsg5972-3d-no-dimension",
            name,
            _with_heights(body, "urn:ogc:def:crs:EPSG::5972", keep_dimension=False),
            warning="Z coordinates were dropped",
        ),
        Variant("relocated", name, _relocated(body), relocated=True),
        # GDAL draws arcs in a geographic CRS in degrees: its reference is the projected file.
        Variant(
            "geographic-epsg4258",
            name,
            _geographic(body),
            relocated=True,
            extra={"reference": _relocated(body)},
        ),
    ]
    optional = [
        ("srs-on-boundedby-only", _srs_on_bounded_by_only(body), "same", ""),
        ("wfs-member-boundedby", _wfs_members(body), "same", ""),
        ("srs-on-collection-only", _srs_on_collection(body), "same", ""),
        ("reversed-ring-members", _reversed_members(body), "same", ""),
        ("arcstring", _arc_strings(body), "same", ""),
        ("arc-by-center-point", _arc_by_center_point(body), "same", ""),
        (
            "circle-by-center-point-islands",
            _circular_islands(body, "CircleByCenterPoint"),
            "own",
            "",
        ),
        ("circle-islands", _circular_islands(body, "Circle"), "own", ""),
        ("no-plan-areas", _without_areas(body), "no_areas", ""),
    ]
    out += [Variant(n, name, b, e, m) for n, b, e, m in optional if b is not None]
    for share in (0.3, 0.7):
        cut = body[: int(len(body) * share)]
        out.append(Variant(f"truncated-{int(share * 100)}", name, cut, "refused", "cut short"))
    return out


# --- SOSI renditions -----------------------------------------------------------------------------


@dataclass
class _Area:
    lokal_id: str
    objtype: str
    attributes: list[str]
    rings: list[list[tuple[str, list[list[float]]]]]


def _text_of(feature: etree.Element, name: str) -> str | None:
    for element in feature.iter():
        if _local(element.tag) == name and (element.text or "").strip():
            return element.text.strip()
    return None


def _plan_areas(body: bytes) -> list[_Area]:
    """The surfaces of a Plan-GML document as rings of parts, with the SOSI attributes the
    validation reads (SOSI Plan 4.5 names), keyed by gml:id."""
    root = _tree(body)
    ids = _ids(root)
    plan = next((f for f in _features(root) if _local(f.tag) == "Arealplan"), None)
    plantype = _text_of(plan, "plantype") if plan is not None else None
    areas = []
    for feature in _features(root):
        polygons = [e for e in feature.iter() if _local(e.tag) == "Polygon"]
        if len(polygons) != 1:
            continue
        rings = []
        try:
            for boundary in polygons[0]:
                if _local(boundary.tag) in ("exterior", "interior"):
                    ring = next(r for r in boundary if isinstance(r.tag, str))
                    rings.append(_ring_parts(ring, ids))
        except ValueError:
            continue  # a broken surface (DiBK's *-fail files): GDAL skips it too
        objtype = _local(feature.tag)
        attributes = []
        if objtype == "RpOmråde":
            attributes += [
                "..NASJONALAREALPLANID",
                f"...KOMM {KOMMUNENUMMER}",
                f"...PLANID {PLANID}",
                f"..PLANTYPE {plantype or 35}",
                "..PLANSTAT 2",
                '..PLANNAVN "Områderegulering for Ølstølen"',
            ]
        elif objtype == "RpArealformålOmråde":
            attributes.append(f"..RPAREALFORMÅL {_text_of(feature, 'arealformål') or 1001}")
            if (feltnavn := _text_of(feature, "feltnavn")) is not None:
                attributes.append(f'..FELTNAVN "{feltnavn}"')
        areas.append(_Area(_gml_id(feature), objtype, attributes, rings))
    return areas


@dataclass
class _SosiWriter:
    """Writes a SOSI 4.5 file in EPSG:25832 (KOORDSYS 22) with ENHET 0.0001."""

    origin: tuple[float, float]
    offset: tuple[float, float]
    heights: bool = False
    reverse_refs: bool = False
    geographic: bool = False
    lines: list[str] = field(default_factory=list)
    serial: int = 0

    def point(self, p: list[float]) -> str:
        x, y = p[0] + self.offset[0], p[1] + self.offset[1]
        if self.geographic:
            # KOORDSYS 84 (EUREF89 geographic): latitude and longitude in units of 1e-9°.
            lon, lat = _TO_4258.transform(x, y)
            north, east = round(Decimal(repr(lat)) * 10**9), round(Decimal(repr(lon)) * 10**9)
        else:
            east = round((Decimal(repr(x)) - Decimal(repr(self.origin[0]))) * 10000)
            north = round((Decimal(repr(y)) - Decimal(repr(self.origin[1]))) * 10000)
        return f"{north} {east}" + (" 6125000" if self.heights else "")

    def curve(self, kind: str, points: list[list[float]]) -> str:
        """A .KURVE or .BUEP; its reference in ..REF (reversed curves as '-serial')."""
        self.serial += 1
        backwards = self.reverse_refs and self.serial % 2 == 0
        points = points[::-1] if backwards else points
        sosi_kind = {"Arc": ".BUEP", "Circle": ".SIRKELP"}.get(kind, ".KURVE")
        coordinate = "..NØH" if self.heights else "..NØ"
        self.lines += [f"{sosi_kind} {self.serial}:", "..OBJTYPE RpFormålGrense", coordinate]
        self.lines += [self.point(p) for p in points]
        return f"-{self.serial}" if backwards else f":{self.serial}"

    def ring_refs(self, ring: list[tuple[str, list[list[float]]]]) -> list[str]:
        refs = []
        for kind, points in ring:
            if kind in ("Arc", "ArcString") and len(points) > 3:
                for i in range(0, len(points) - 2, 2):
                    refs.append(self.curve("Arc", points[i : i + 3]))
            else:
                refs.append(self.curve(kind, points))
        return refs

    def area(self, area: _Area, serial: int, refs: str, objtype: str | None = None) -> None:
        shell = [p for _, points in area.rings[0] for p in points]
        inside = Polygon([p[:2] for p in shell]).representative_point()
        self.lines += [f".FLATE {serial}:", f"..OBJTYPE {objtype or area.objtype}"]
        self.lines += area.attributes if objtype is None else []
        self.lines += [
            "..IDENTIFIKASJON",
            f'...LOKALID "{area.lokal_id if objtype is None else area.lokal_id + "-hensyn"}"',
            '...NAVNEROM "http://data.geonorge.no/3326/Reguleringsplaner/so"',
            f"..REF {refs}",
            "..NØ",
            self.point([inside.x, inside.y]),
        ]


def _sosi_text(
    areas: list[_Area],
    offset: tuple[float, float],
    charset: str | None = "UTF-8",
    heights: bool = False,
    reverse_refs: bool = False,
    island_by_reference: bool = False,
    hensyn: tuple[str, str, int] | None = None,
    only_curves: bool = False,
    geographic: bool = False,
) -> str:
    writer = _SosiWriter(HEMSEDAL, offset, heights, reverse_refs, geographic)
    tegnsett = [f"..TEGNSETT {charset}"] if charset else []
    if geographic:
        head = [".HODE", *tegnsett, "..TRANSPAR", "...KOORDSYS 84"]
        head += ["...ORIGO-NØ 0 0", "...ENHET 0.000000001"]
    else:
        head = [".HODE", *tegnsett, "..TRANSPAR", "...KOORDSYS 22"]
        head += [f"...ORIGO-NØ {HEMSEDAL[1]:.0f} {HEMSEDAL[0]:.0f}", "...ENHET 0.0001"]
    head += ["..SOSI-VERSJON 4.5", "..SOSI-NIVÅ 4"]
    surfaces: list[str] = []
    for index, area in enumerate(areas):
        serial = 10000 + index
        groups = [" ".join(writer.ring_refs(ring)) for ring in area.rings]
        refs = groups[0]
        for number, hole in enumerate(area.rings[1:], 1):
            if island_by_reference:
                # The island is its own area: SOSI realisering lets ..REF name a .FLATE in
                # parentheses; that .FLATE's outer boundary is the island.
                island_serial = 20000 + 100 * index + number
                island = _Area(
                    f"{area.lokal_id}-island-{number}", "RpBestemmelseOmråde", [], [hole]
                )
                start = len(writer.lines)
                writer.area(island, island_serial, groups[number])
                surfaces += writer.lines[start:]
                del writer.lines[start:]
                refs += f" (:{island_serial})"
            else:
                refs += f" ({groups[number]})"
        if only_curves:
            continue
        start = len(writer.lines)
        writer.area(area, serial, refs)
        if hensyn is not None and area.objtype.endswith("ArealformålOmråde"):
            hensyn_type, attribute, code = hensyn
            writer.area(area, 30000 + index, refs, hensyn_type)
            writer.lines.insert(-6, f"..{attribute} {code}")
            hensyn = None
        surfaces += writer.lines[start:]
        del writer.lines[start:]
    return "\n".join([*head, *surfaces, *writer.lines, ".SLUTT", ""])


def sosi_variants(stem: str, body: bytes) -> list[Variant]:
    """SOSI renditions of one real Plan-GML document (items 1, 2, 3, 5, 6 and 7 of issue 18)."""
    areas = _plan_areas(body)
    if not areas:
        return []
    offset = _offset(_tree(body))
    name = f"{stem}.sos"
    # Only a rendition with the plan boundary (RpOmråde, which carries the plan's id and type)
    # and an arealformål area is a whole plan for the validation.
    whole = {"RpOmråde", "RpArealformålOmråde"} <= {a.objtype for a in areas}
    text = _sosi_text(areas, offset)
    utf8 = text.encode("utf-8")
    latin = text.replace("..TEGNSETT UTF-8", "..TEGNSETT ISO8859-10").encode("iso8859_10")
    declared_latin = text.replace("..TEGNSETT UTF-8", "..TEGNSETT ISO8859-10").encode("utf-8")
    out = [
        Variant("sosi-utf8", name, utf8, relocated=whole),
        Variant("sosi-iso8859-10", name, latin, relocated=whole),
        Variant("sosi-utf8-declared-iso8859-10", name, declared_latin, warning="..TEGNSETT"),
        Variant("sosi-bom-declared-iso8859-10", name, BOM + declared_latin, warning="..TEGNSETT"),
        Variant(
            "sosi-no-tegnsett", name, _sosi_text(areas, offset, None).encode(), warning="..TEGNSETT"
        ),
        Variant(
            "sosi-iso8859-10-declared-utf8",
            name,
            text.encode("iso8859_10"),
            "refused",
            "TEGNSETT",
        ),
        Variant(
            "sosi-noh-heights",
            name,
            _sosi_text(areas, offset, heights=True).encode(),
            relocated=whole,
            warning="Z coordinates were dropped",
        ),
        Variant(
            "sosi-reversed-refs",
            name,
            _sosi_text(areas, offset, reverse_refs=True).encode(),
            relocated=whole,
        ),
        Variant(
            "sosi-geographic-koordsys-84",
            name,
            _sosi_text(areas, offset, geographic=True).encode(),
            relocated=whole,
        ),
        Variant(
            "sosi-only-curves",
            name,
            _sosi_text(areas, offset, only_curves=True).encode(),
            "no_areas",
        ),
        Variant("sosi-no-slutt", name, utf8[: utf8.rindex(b".SLUTT")], "refused", ".SLUTT"),
        Variant("sosi-cut-in-object", name, utf8[: int(len(utf8) * 0.8)], "refused", ".SLUTT"),
    ]
    circles = _circular_islands(body, "Circle")
    if circles is not None:
        # The GML with round islands (gml:Circle), written with .SIRKELP: GDAL's reading of
        # that GML, moved the same way, is the reference.
        out.append(
            Variant(
                "sosi-sirkelp-islands",
                name,
                _sosi_text(_plan_areas(circles), offset).encode(),
                relocated=whole,
                extra={"reference": _relocated(circles)},
            )
        )
    if any(len(a.rings) > 1 for a in areas):
        out.append(
            Variant(
                "sosi-island-by-reference",
                name,
                _sosi_text(areas, offset, island_by_reference=True).encode(),
                relocated=whole,
            )
        )
    arealformal = next((a for a in areas if a.objtype == "RpArealformålOmråde"), None)
    if arealformal is not None:
        for level, plan_areas in (("Rp", areas), ("Kp", _as_kommuneplan(areas))):
            for stem_name, attribute, code in HENSYN_GROUPS:
                hensyn = (f"{level}{stem_name}Sone", f"{level.upper()}{attribute}", code)
                out.append(
                    Variant(
                        f"sosi-hensyn-{level.lower()}{attribute.lower()}",
                        name,
                        _sosi_text(plan_areas, offset, hensyn=hensyn).encode(),
                        relocated=whole,
                        hensynssone=(f"{arealformal.lokal_id}-hensyn", code),
                    )
                )
    return out


def _as_kommuneplan(areas: list[_Area]) -> list[_Area]:
    """The plan as a kommuneplan (SOSI Kommuneplan 4.5): Kp object types, plantype 20 and
    KPAREALFORMÅL 1001 (bebyggelse og anlegg) for every arealformål area."""
    out = []
    for area in areas:
        attributes = []
        for line in area.attributes:
            if line.startswith("..PLANTYPE"):
                line = "..PLANTYPE 20"
            elif line.startswith("..RPAREALFORMÅL"):
                line = "..KPAREALFORMÅL 1001"
            attributes.append(line)
        objtype = "Kp" + area.objtype[2:] if area.objtype.startswith("Rp") else area.objtype
        out.append(_Area(area.lokal_id, objtype, attributes, area.rings))
    return out


def sosi_lokal_id(properties: dict) -> str | None:
    """The ..IDENTIFIKASJON ...LOKALID of a SOSI object as the reader hands it over (the
    group's leaves may be flattened or nested)."""
    for key, value in properties.items():
        if isinstance(value, dict):
            if (found := sosi_lokal_id(value)) is not None:
                return found
        elif key.lower().replace("_", "") == "lokalid":
            return str(value)
    return None
