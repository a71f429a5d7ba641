"""CQL2 filters (OGC API – Features Part 3, OGC 21-065 CQL2) as SQL conditions on a collection.

pygeofilter parses cql2-text and cql2-json into its AST; this module turns the AST into a
SQLAlchemy condition over the collection's properties (`FeatureSchema`). Only queryables may
be named (the queryables say additionalProperties: false, Part 3 §6.2 G); a geometry given
in the filter is reprojected from filter-crs to EPSG:25832 here, so the spatial predicate
runs on the stored geometry column and its GiST index.

Implemented: Basic CQL2 (comparisons, AND/OR/NOT, IS NULL), advanced comparison operators
(LIKE, BETWEEN, IN), CASEI, and the spatial functions S_INTERSECTS, S_EQUALS, S_DISJOINT,
S_TOUCHES, S_WITHIN, S_OVERLAPS, S_CROSSES, S_CONTAINS with geometry literals and BBOX.
Temporal, array and arithmetic operators and other functions are answered with 400.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text
from pygeofilter.parsers.cql2_text import parser as text_parser
from pyproj.exceptions import ProjError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, false, func, literal, not_, or_, true
from sqlalchemy.types import Boolean, Date, Numeric, String

from app.dependencies import BboxError, storage_region
from app.ogcapi import InvalidParameterError
from app.ogcapi.queryables import GEOMETRY, FeatureSchema
from spatial.crs import CANONICAL_SRID, CrsRef
from spatial.errors import Problem
from spatial.messages import Text

# pygeofilter builds its cql2-text parser with debug=True, so lark prints its whole state
# stack to stdout for filters such as -'text' (a few kilobytes per bad request a client
# sends); the parse errors themselves are unchanged without it.
text_parser.parser.parser.parser.parser.debug = False

LANGUAGES = ("cql2-text", "cql2-json")
MAX_FILTER_LENGTH = 20_000
# Brackets nested deeper than this are refused before parsing: the parsers and the SQL
# compiler recurse per level, and no real filter (a WKT multipolygon is 3 deep) comes close.
MAX_NESTING = 40
# The geometries of one filter, densified for reprojection, may have this many vertices in all:
# each costs work in every spatial predicate on every candidate feature.
MAX_FILTER_VERTICES = 100_000
_WKT_TYPES = ("POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")

# PostGIS functions of the CQL2 spatial functions, on (first argument, second argument).
_SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: func.ST_Intersects,
    ast.SpatialComparisonOp.DISJOINT: func.ST_Disjoint,
    ast.SpatialComparisonOp.CONTAINS: func.ST_Contains,
    ast.SpatialComparisonOp.WITHIN: func.ST_Within,
    ast.SpatialComparisonOp.TOUCHES: func.ST_Touches,
    ast.SpatialComparisonOp.CROSSES: func.ST_Crosses,
    ast.SpatialComparisonOp.OVERLAPS: func.ST_Overlaps,
    ast.SpatialComparisonOp.EQUALS: func.ST_Equals,
}
_COMPARE = {
    ast.ComparisonOp.EQ: lambda a, b: a == b,
    ast.ComparisonOp.NE: lambda a, b: a != b,
    ast.ComparisonOp.LT: lambda a, b: a < b,
    ast.ComparisonOp.LE: lambda a, b: a <= b,
    ast.ComparisonOp.GT: lambda a, b: a > b,
    ast.ComparisonOp.GE: lambda a, b: a >= b,
}
_SQL_TYPES = {"string": String(), "number": Numeric(), "date": Date(), "boolean": Boolean()}
_TYPE_NB = {"string": "tekst", "number": "tall", "date": "dato", "boolean": "sannhetsverdi"}


def _error(nb: str, en: str, field: str = "filter") -> InvalidParameterError:
    return InvalidParameterError(
        Text(nb, en), [Problem(Text("ugyldig filter", "invalid filter"), field=field)]
    )


@dataclass(frozen=True)
class FilterCrs:
    """The CRS of the filter's geometries; `lat_lon` for EPSG:4326's latitude-first order."""

    ref: CrsRef
    lat_lon: bool = False


@dataclass(frozen=True)
class _Operand:
    """A value in the filter: SQL, and its kind (string, number, date, boolean, geometry)."""

    sql: Any
    kind: str
    name: str  # how the filter names it, for messages


def _syntax_error(exc: UnexpectedInput, text: str) -> InvalidParameterError:
    column = getattr(exc, "column", None)
    token = getattr(exc, "token", None)
    at_end = isinstance(exc, UnexpectedEOF) or getattr(token, "type", None) == "$END"
    if at_end or column in (None, -1):
        column = len(text) + 1
    near = text[max(column - 1, 0) : column + 19]
    before = text[: max(column - 1, 0)].rstrip().upper()
    if near[:1] in "ZzMm" and before.endswith(_WKT_TYPES):
        return _error(
            f"filter har en geometri med høyde eller mål ({before.split()[-1]} {near[:1]}) ved "
            f"posisjon {column}; geometriene i et filter er todimensjonale, skriv for eksempel "
            "POINT(9 60)",
            f"filter has a geometry with height or measure ({before.split()[-1]} {near[:1]}) at "
            f"position {column}; the geometries of a filter are 2D, write e.g. POINT(9 60)",
        )
    if isinstance(exc, UnexpectedCharacters):
        what_nb, what_en = f"uventet tegn «{near[:1]}»", f"unexpected character '{near[:1]}'"
    elif near:
        what_nb, what_en = f"uventet «{near}»", f"unexpected '{near}'"
    else:
        what_nb, what_en = "uttrykket slutter for tidlig", "the expression ends too early"
    return _error(
        f"filter er ikke gyldig cql2-text ved posisjon {column} (linje {exc.line}): {what_nb}",
        f"filter is not valid cql2-text at position {column} (line {exc.line}): {what_en}",
    )


def _normalised_json(node: Any) -> Any:
    """CQL2 1.0 JSON in the form pygeofilter reads: BETWEEN with three arguments, and BBOX
    literals as polygons (pygeofilter reads {"bbox": [...]} with its axes mixed up)."""
    if isinstance(node, list):
        return [_normalised_json(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) == 4:
        return _bbox_polygon(node["bbox"])
    node = {key: _normalised_json(value) for key, value in node.items()}
    args = node.get("args")
    if node.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        node["args"] = [args[0], args[1:]]
    return node


def _bbox_polygon(numbers: list[Any]) -> dict[str, Any]:
    if not all(_is_number(n) for n in numbers):
        raise _error("BBOX tar fire tall", "BBOX takes four numbers")
    minx, miny, maxx, maxy = (float(n) for n in numbers)
    if minx > maxx:
        # CQL2 §6.4.5 (as OGC API Features' bbox): a west edge east of the east edge is a box
        # across the antimeridian, which no data here comes near.
        raise _error(
            f"BBOX({minx:g},{miny:g},{maxx:g},{maxy:g}): minx er større enn maxx, som betyr en "
            "boks over datolinjen (±180°); det støttes ikke, skriv minx først",
            f"BBOX({minx:g},{miny:g},{maxx:g},{maxy:g}): minx is greater than maxx, which means "
            "a box across the antimeridian (±180°); that is not supported, give minx first",
        )
    if miny > maxy:
        raise _error(
            f"BBOX({minx:g},{miny:g},{maxx:g},{maxy:g}): miny er større enn maxy; det nedre "
            "hjørnet kommer først",
            f"BBOX({minx:g},{miny:g},{maxx:g},{maxy:g}): miny is greater than maxy; the lower "
            "corner comes first",
        )
    return shapely.box(minx, miny, maxx, maxy).__geo_interface__


def _refuse_constant(name: str) -> Any:
    # json.loads takes NaN, Infinity and -Infinity, which JSON (RFC 8259 §6) does not.
    raise _error(
        f"filter har {name}, som ikke er et tall i JSON",
        f"filter has {name}, which is not a number in JSON",
    )


def _check_shape(geo: dict[str, Any]) -> None:
    """Refuse what shapely would silently mend: unclosed rings (OGC 06-103r4 §6.1.11.1 and
    RFC 7946 §3.1.6 want them closed) and positions with height, which a 2D filter drops."""
    kind = geo.get("type")
    if kind == "GeometryCollection":
        for part in geo.get("geometries") or ():
            _check_shape(part)
        return
    coordinates = geo.get("coordinates")
    depth = {"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2}.get(kind, 3)
    if kind == "MultiLineString":
        depth = 2
    positions: list[Any] = [coordinates]
    for _ in range(depth):
        positions = [p for group in positions for p in (group or ())]
    if any(not isinstance(p, list | tuple) or len(p) != 2 for p in positions):
        raise _error(
            "filter har en geometri med en posisjon som ikke har to koordinater (x y); "
            "geometriene i et filter er todimensjonale",
            "filter has a geometry with a position that does not have two coordinates (x y); "
            "the geometries of a filter are 2D",
        )
    polygons = [coordinates] if kind == "Polygon" else []
    if kind == "MultiPolygon":
        polygons = list(coordinates or ())
    for rings in polygons:
        for ring in rings or ():
            if len(ring) < 4 or list(ring[0]) != list(ring[-1]):
                raise _error(
                    "filter har et polygon med en ring som ikke er lukket: den må ha minst fire "
                    "posisjoner, og den siste må være lik den første",
                    "filter has a polygon with a ring that is not closed: it needs at least four "
                    "positions, and the last must equal the first",
                )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _nesting(text: str, quote: str) -> tuple[int, int]:
    """The deepest bracket nesting outside quoted strings, and the position reaching it."""
    depth = deepest = at = 0
    quoted = False
    previous = ""
    for position, char in enumerate(text, start=1):
        if quoted:
            # cql2-text doubles a quote inside a string (''), JSON escapes it (\"): either way
            # the string goes on, and toggling twice on '' keeps it open.
            quoted = not (char == quote and previous != "\\")
        elif char == quote:
            quoted = True
        elif char in "([{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, position
        elif char in ")]}":
            depth -= 1
        previous = char
    return deepest, at


def parse_filter(text: str, language: str) -> ast.Node:
    """Parse a filter in cql2-text or cql2-json; raise InvalidParameterError naming where the
    filter goes wrong."""
    if len(text) > MAX_FILTER_LENGTH:
        raise _error(
            f"filter er lengre enn {MAX_FILTER_LENGTH} tegn",
            f"filter is longer than {MAX_FILTER_LENGTH} characters",
        )
    deepest, at = _nesting(text, '"' if language == "cql2-json" else "'")
    if deepest > MAX_NESTING:
        raise _error(
            f"filter har parenteser nøstet dypere enn {MAX_NESTING} nivåer (ved posisjon {at})",
            f"filter nests brackets deeper than {MAX_NESTING} levels (at position {at})",
        )
    if language == "cql2-json":
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise _error(
                f"filter er ikke gyldig JSON ved posisjon {exc.pos + 1} (linje {exc.lineno}, "
                f"kolonne {exc.colno})",
                f"filter is not valid JSON at position {exc.pos + 1} (line {exc.lineno}, "
                f"column {exc.colno})",
            ) from None
        try:
            node = parse_json(_normalised_json(document))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            raise _error(
                f"filter er ikke gyldig cql2-json: {str(exc)[:200]}",
                f"filter is not valid cql2-json: {str(exc)[:200]}",
            ) from None
    else:
        try:
            node = parse_text(text)
        except UnexpectedInput as exc:
            raise _syntax_error(exc, text) from None
        except (
            LarkError,
            ValueError,
            TypeError,
            RecursionError,
        ) as exc:  # e.g. DATE('2020-13-01'), -'text'
            raise _error(
                f"filter er ikke gyldig cql2-text: {str(exc)[:200]}",
                f"filter is not valid cql2-text: {str(exc)[:200]}",
            ) from None
    if not isinstance(node, ast.Node):
        raise _error(
            "filter må være et uttrykk som er sant eller usant",
            "filter must be an expression that is true or false",
        )
    return node


def _chain(node: ast.Node, kind: type[ast.Combination]) -> list[ast.Node]:
    """The operands of a chain of ANDs (or ORs), in order: pygeofilter nests `a AND b AND c`
    one level per operand, which recursion would follow a thousand levels deep."""
    operands: list[ast.Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            stack.extend((current.rhs, current.lhs))
        else:
            operands.append(current)
    return operands


class _Translator:
    """Turns a parsed filter into a SQL condition over a collection's properties."""

    def __init__(self, schema: FeatureSchema, geometry: Any, crs: FilterCrs) -> None:
        self.schema = schema
        self.geometry = geometry
        self.crs = crs
        self.vertices = 0

    def condition(self, node: Any) -> ColumnElement[bool]:  # noqa: C901, PLR0911 - one case each
        """The SQL condition of a predicate or a combination of predicates."""
        if isinstance(node, ast.And):
            return and_(*(self.condition(n) for n in _chain(node, ast.And)))
        if isinstance(node, ast.Or):
            return or_(*(self.condition(n) for n in _chain(node, ast.Or)))
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node))
        if isinstance(node, ast.Include):
            return false() if node.not_ else true()
        if isinstance(node, ast.Comparison):
            return self._comparison(node)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.Between):
            return self._between(node)
        if isinstance(node, ast.In):
            return self._in(node)
        if isinstance(node, ast.IsNull):
            if not isinstance(node.lhs, ast.Attribute):
                raise _error("IS NULL tar en egenskap", "IS NULL takes a property")
            value = self.operand(node.lhs)
            return value.sql.is_not(None) if node.not_ else value.sql.is_(None)
        if isinstance(node, ast.SpatialComparisonPredicate):
            lhs, rhs = self._geometry(node.lhs), self._geometry(node.rhs)
            return _SPATIAL[node.op](lhs, rhs)
        if isinstance(node, ast.BBox):
            area = self._literal_geometry(
                _bbox_polygon([node.minx, node.miny, node.maxx, node.maxy])
            )
            return func.ST_Intersects(self._geometry(node.lhs), area)
        if isinstance(node, ast.Attribute) and self._property_kind(node.name) == "boolean":
            return self.operand(node).sql
        raise self._unsupported(node)

    def _unsupported(self, node: Any) -> InvalidParameterError:
        name = type(node).__name__
        if isinstance(node, ast.TemporalPredicate):
            return _error(
                "filter bruker en tidsoperator (T_…); ingen samling har tid som kan filtreres",
                "filter uses a temporal operator (T_…); no collection has a time to filter on",
            )
        if isinstance(node, ast.ArrayPredicate):
            return _error(
                "filter bruker en listeoperator (A_…), som ikke støttes",
                "filter uses an array operator (A_…), which is not supported",
            )
        if isinstance(node, ast.Arithmetic):
            return _error(
                "filter bruker regning (+ - * /), som ikke støttes",
                "filter uses arithmetic (+ - * /), which is not supported",
            )
        if isinstance(node, ast.Function):
            return _error(
                f"filter bruker funksjonen «{node.name}», som ikke støttes; støttet: CASEI",
                f"filter uses the function '{node.name}', which is not supported; supported: CASEI",
            )
        return _error(
            f"filter bruker {name}, som ikke støttes her",
            f"filter uses {name}, which is not supported here",
        )

    def _property_kind(self, name: str) -> str:
        if name == GEOMETRY:
            return "geometry"
        prop = self.schema.get(name)
        if prop is None:
            known = ", ".join([GEOMETRY, *self.schema.names])
            raise _error(
                f"filter nevner «{name}», som ikke er en queryable i samlingen; bruk en av {known}",
                f"filter names '{name}', which is not a queryable of the collection; use one "
                f"of {known}",
            )
        return "number" if prop.type in ("integer", "number") else prop.type

    def operand(self, node: Any) -> _Operand:
        """A property, literal or CASEI value with its kind."""
        if isinstance(node, ast.Attribute):
            kind = self._property_kind(node.name)
            if kind == "geometry":
                return _Operand(self.geometry, kind, node.name)
            prop = self.schema.get(node.name)
            assert prop is not None
            return _Operand(prop.expression, kind, node.name)
        if isinstance(node, bool):
            return _Operand(literal(node, Boolean()), "boolean", str(node).upper())
        if _is_number(node):
            return _Operand(literal(node, Numeric()), "number", str(node))
        if isinstance(node, str):
            return _Operand(literal(node, String()), "string", f"'{node}'")
        if isinstance(node, datetime):
            raise _error(
                "filter sammenligner med et tidspunkt (TIMESTAMP); ingen egenskap har tidspunkt, "
                "bruk DATE('ÅÅÅÅ-MM-DD')",
                "filter compares with a TIMESTAMP; no property holds one, use DATE('YYYY-MM-DD')",
            )
        if isinstance(node, date):
            return _Operand(literal(node, Date()), "date", node.isoformat())
        if isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei"):
            if len(node.arguments) != 1:
                raise _error("CASEI tar ett argument", "CASEI takes one argument")
            inner = self.operand(node.arguments[0])
            if inner.kind != "string":
                raise self._kind_error(inner, "string", "CASEI")
            return _Operand(func.lower(inner.sql), "string", f"CASEI({inner.name})")
        if isinstance(node, values.Geometry | values.Envelope) or (
            isinstance(node, ast.Function) and node.name.lower() == "bbox"
        ):
            return _Operand(self._geometry(node), "geometry", "geometri")
        raise self._unsupported(node)

    def _kind_error(self, value: _Operand, expected: str, where: str) -> InvalidParameterError:
        wanted_nb = _TYPE_NB.get(expected, expected)
        got_nb = _TYPE_NB.get(value.kind, value.kind)
        return _error(
            f"{where}: {value.name} er {got_nb}, men her trengs {wanted_nb}",
            f"{where}: {value.name} is {value.kind}, but {expected} is needed here",
        )

    def _same_kind(self, values_: list[_Operand], where: str) -> str:
        kind = values_[0].kind
        for value in values_[1:]:
            if value.kind != kind:
                raise self._kind_error(value, kind, where)
        if kind == "geometry":
            raise _error(
                f"{where}: en geometri sammenlignes med S_INTERSECTS og de andre S_-funksjonene",
                f"{where}: a geometry is compared with S_INTERSECTS and the other S_ functions",
            )
        return kind

    def _comparison(self, node: ast.Comparison) -> ColumnElement[bool]:
        lhs, rhs = self.operand(node.lhs), self.operand(node.rhs)
        kind = self._same_kind([lhs, rhs], f"{lhs.name} {node.op.value} {rhs.name}")
        if kind == "boolean" and node.op not in (ast.ComparisonOp.EQ, ast.ComparisonOp.NE):
            raise _error(
                "sannhetsverdier sammenlignes bare med = og <>",
                "booleans are compared with = and <> only",
            )
        return _COMPARE[node.op](lhs.sql, rhs.sql)

    def _like(self, node: ast.Like) -> ColumnElement[bool]:
        lhs = self.operand(node.lhs)
        _check_pattern(node.pattern)
        pattern = self.operand(node.pattern)
        for value in (lhs, pattern):
            if value.kind != "string":
                raise self._kind_error(value, "string", f"{lhs.name} LIKE")
        # CQL2 wildcards are those of SQL (% and _), with \ to escape them, as in PostgreSQL.
        condition = lhs.sql.like(pattern.sql)
        return not_(condition) if node.not_ else condition

    def _between(self, node: ast.Between) -> ColumnElement[bool]:
        values_ = [self.operand(n) for n in (node.lhs, node.low, node.high)]
        where = f"{values_[0].name} BETWEEN"
        kind = self._same_kind(values_, where)
        if kind not in ("number", "date"):
            raise self._kind_error(values_[0], "number", where)
        condition = values_[0].sql.between(values_[1].sql, values_[2].sql)
        return not_(condition) if node.not_ else condition

    def _in(self, node: ast.In) -> ColumnElement[bool]:
        lhs = self.operand(node.lhs)
        if not isinstance(node.sub_nodes, list):
            raise _error("IN tar en liste av verdier", "IN takes a list of values")
        options = [self.operand(n) for n in node.sub_nodes]
        if not options:
            raise _error("IN trenger minst én verdi", "IN needs at least one value")
        self._same_kind([lhs, *options], f"{lhs.name} IN")
        condition = lhs.sql.in_([option.sql for option in options])
        return not_(condition) if node.not_ else condition

    def _geometry(self, node: Any) -> Any:
        if isinstance(node, ast.Attribute):
            if self._property_kind(node.name) != "geometry":
                raise _error(
                    f"S_-funksjonene tar geometrier; «{node.name}» er ikke geometrien "
                    f"(den heter {GEOMETRY})",
                    f"the S_ functions take geometries; '{node.name}' is not the geometry "
                    f"(it is called {GEOMETRY})",
                )
            return self.geometry
        if isinstance(node, values.Geometry | values.Envelope):
            return self._literal_geometry(node.__geo_interface__)
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            if len(node.arguments) not in (4, 6) or not all(map(_is_number, node.arguments)):
                raise _error("BBOX tar fire tall", "BBOX takes four numbers")
            numbers = node.arguments
            if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz
                numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
            return self._literal_geometry(_bbox_polygon(list(numbers)))
        raise _error(
            "S_-funksjonene tar geometrien og en geometri (WKT, GeoJSON eller BBOX)",
            "the S_ functions take the geometry and a geometry (WKT, GeoJSON or BBOX)",
        )

    def _literal_geometry(self, geo: dict[str, Any]) -> Any:
        """A geometry of the filter (in filter-crs) in the storage CRS, as SQL."""
        _check_shape(geo)
        try:
            geometry = shape(geo)
            if self.crs.lat_lon:
                geometry = shapely.transform(geometry, lambda xy: xy[:, ::-1])
            geometry = self._to_storage(geometry)
            if not geometry.is_valid:
                geometry = shapely.make_valid(geometry)
        except BboxError as exc:
            raise InvalidParameterError(exc.detail, exc.problems) from None
        except (ValueError, TypeError, AttributeError, ProjError, shapely.errors.GEOSException):
            raise _error(
                f"filter har en geometri som ikke kan leses i {self.crs.ref.label}",
                f"filter has a geometry that cannot be read in {self.crs.ref.label}",
            ) from None
        self.vertices += shapely.get_num_coordinates(geometry)
        if self.vertices > MAX_FILTER_VERTICES:
            raise _error(
                f"filteret har for store geometrier: over {MAX_FILTER_VERTICES} punkter i alt "
                "etter fortetting for omprojisering; bruk færre eller enklere geometrier",
                f"filter has too large geometries: over {MAX_FILTER_VERTICES} vertices in all "
                "after densifying for reprojection; use fewer or simpler geometries",
            )
        return from_shape(geometry, srid=CANONICAL_SRID)

    def _to_storage(self, geometry: BaseGeometry) -> BaseGeometry:
        # As the bbox parameter: refused beyond the CRS's extent, clipped to the storage CRS's
        # domain (everything stored lies inside it) and densified with bounded steps.
        return storage_region(geometry, self.crs.ref, "filter-crs", "filter", "filter")


def _check_pattern(pattern: Any) -> None:
    """Refuse a LIKE pattern that is not a text literal (CQL2 BNF: patternExpression) or ends
    in an escape character (\\ escapes %, _ and itself; PostgreSQL refuses a lone one)."""
    while isinstance(pattern, ast.Function) and pattern.name.lower() in ("lower", "casei"):
        if len(pattern.arguments) != 1:
            raise _error("CASEI tar ett argument", "CASEI takes one argument")
        pattern = pattern.arguments[0]
    if not isinstance(pattern, str):
        raise _error(
            "LIKE tar et mønster i anførselstegn (eller CASEI av et), ikke en egenskap eller et "
            "annet uttrykk",
            "LIKE takes a quoted pattern (or CASEI of one), not a property or other expression",
        )
    escapes = len(pattern) - len(pattern.rstrip("\\"))
    if escapes % 2 == 1:
        raise _error(
            f"LIKE-mønsteret «{pattern[:100]}» slutter med escape-tegnet \\; skriv \\\\ for en "
            "bakstrek",
            f"the LIKE pattern '{pattern[:100]}' ends with the escape character \\; write \\\\ "
            "for a backslash",
        )


def to_condition(
    node: ast.Node, schema: FeatureSchema, geometry: Any, crs: FilterCrs
) -> ColumnElement[bool]:
    """The SQL condition of a parsed filter over a collection's properties and its stored
    geometry column (EPSG:25832); raise InvalidParameterError for names that are not
    queryables, mismatched types and operators not implemented."""
    try:
        return _Translator(schema, geometry, crs).condition(node)
    except (TypeError, AttributeError, ValueError, RecursionError):
        # pygeofilter's cql2-json reader passes on shapes CQL2 does not allow (an operator
        # where a value belongs, a bare value as an argument list).
        raise _error(
            "filter har et uttrykk som ikke er gyldig CQL2 (et argument av feil slag)",
            "filter has an expression that is not valid CQL2 (an argument of the wrong kind)",
        ) from None
