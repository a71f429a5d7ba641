"""Any filter a client sends is either SQL or a 400: never another exception (no database)."""

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from app.ogcapi import InvalidParameterError
from app.ogcapi.cql2 import FilterCrs, parse_filter, to_condition
from app.ogcapi.queryables import layer_schema
from app.repositories.ogcapi import layer_source
from layers.registry import get_layer_config
from spatial.crs import CRS84, parse_crs

SOURCE = layer_source(1, "Polygon")
SCHEMA = layer_schema(get_layer_config("tettsteder"), SOURCE)
TOKENS = [
    "name", "population", "geometry", "tettsted_id", "colour", "=", "<>", "<", ">=", "AND",
    "OR", "NOT", "(", ")", "'Gol'", "3", "2.5", "-", "+", "*", "LIKE", "'%a'", "IN",
    "('a','b')", "BETWEEN", "1", "2", "IS", "NULL", ",", "TRUE", "CASEI(name)",
    "S_INTERSECTS(geometry, POINT(8 60))", "BBOX(1,2,3,4)", "DATE('2020-01-01')",
    "TIMESTAMP('2020-01-01T00:00:00Z')", "POLYGON((8 60, 9 60, 9 61, 8 60))", "S_WITHIN",
    "POINT(1e400 2)", "POLYGON((1 2))", "ENVELOPE(1 2 3 4)", "INTERVAL('2020-01-01','..')",
    "A_CONTAINS", "T_AFTER", '"name"', "accenti(name)",
]  # fmt: skip
JSON_LEAVES = st.sampled_from(
    [
        {"property": "name"},
        {"property": "population"},
        {"property": "geometry"},
        {"property": "nope"},
        "a",
        1,
        None,
        True,
        [],
        [1, 2],
        {"op": "="},
        {"type": "Point", "coordinates": [1]},
        {"type": "Point", "coordinates": [8, 60]},
        {"bbox": [1, 2, 3]},
        {"bbox": [8, 60, 9, 61]},
        {"date": "x"},
        {"timestamp": "2020"},
        {"interval": ["..", ".."]},
        {"function": {"name": "f", "arguments": []}},
    ]
)
OPERATORS = st.sampled_from(
    ["=", "<", "like", "in", "between", "and", "or", "not", "isNull", "s_intersects",
     "casei", "t_after", "a_contains", "+", "accenti", "foo"]
)  # fmt: skip
JSON_FILTERS = st.recursive(
    JSON_LEAVES,
    lambda children: st.builds(
        lambda op, args: {"op": op, "args": args}, OPERATORS, st.lists(children, max_size=3)
    ),
    max_leaves=8,
)


def translate(text: str, language: str) -> None:
    """Parse and translate a filter; only InvalidParameterError may come out."""
    try:
        node = parse_filter(text, language)
        condition = to_condition(node, SCHEMA, SOURCE.geom, FilterCrs(CRS84))
    except InvalidParameterError as exc:
        assert exc.problems[0].field == "filter"
        return
    str(condition.compile(dialect=postgresql.dialect()))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=9))
@example(["NOT", "-", "'%a'"])  # pygeofilter's parser raises TypeError here
def test_cql2_text_never_fails_otherwise(tokens):
    """Random cql2-text from CQL2's own words."""
    translate(" ".join(tokens), "cql2-text")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_fails_otherwise(text):
    """Arbitrary characters, as cql2-text and as cql2-json."""
    translate(text, "cql2-text")
    translate(text, "cql2-json")


@settings(max_examples=400, deadline=None)
@given(JSON_FILTERS)
# Shapes pygeofilter passes on: IN with a bare value, IS NULL of a literal.
@example({"op": "in", "args": [{"property": "name"}, 1]})
@example({"op": "in", "args": ["a", {"type": "Point", "coordinates": [1]}]})
@example({"op": "isNull", "args": [{"bbox": [1, 2, 3, 4]}]})
def test_cql2_json_never_fails_otherwise(document):
    """Random cql2-json documents, well-formed JSON but not always CQL2."""
    translate(json.dumps(document), "cql2-json")


def test_long_chains_and_deep_nesting():
    """A long OR chain becomes SQL; brackets nested past the limit are a 400 naming where."""
    translate(" OR ".join(["name = 'a'"] * 1500), "cql2-text")  # 1,500 operands, one level
    deep_text = "(" * 41 + "name = 'a'" + ")" * 41
    deep_json = '{"op": "not", "args": [' * 300 + '{"property": "name"}' + "]}" * 300
    for text, language in ((deep_text, "cql2-text"), (deep_json, "cql2-json")):
        try:
            parse_filter(text, language)
        except InvalidParameterError as exc:
            assert "dypere enn 40 nivåer" in exc.detail.nb
        else:
            raise AssertionError("accepted a filter nested deeper than the limit")
    # Brackets inside strings do not count.
    assert parse_filter("name = '" + "(" * 60 + "'", "cql2-text")
    assert parse_filter(
        json.dumps({"op": "=", "args": [{"property": "name"}, "[" * 60]}), "cql2-json"
    )


COORDINATES = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0, -180, 180, 9, 60, 1e12, -1e12]
)
GEOMETRIES = st.one_of(
    st.builds(lambda c: {"type": "Point", "coordinates": c}, st.lists(COORDINATES, max_size=4)),
    st.builds(
        lambda ring: {"type": "Polygon", "coordinates": [ring]},
        st.lists(st.lists(COORDINATES, min_size=2, max_size=3), max_size=6),
    ),
    st.builds(lambda c: {"bbox": c}, st.lists(COORDINATES, min_size=4, max_size=4)),
)


@settings(max_examples=300, deadline=None)
@given(GEOMETRIES, st.sampled_from(["s_intersects", "s_within", "s_disjoint"]))
@example({"type": "Point", "coordinates": [float("nan"), float("nan")]}, "s_intersects")
@example({"bbox": [float("nan")] * 4}, "s_intersects")
@example({"bbox": [-180, -90, 180, 90]}, "s_within")
def test_any_geometry_is_sql_or_a_400(geometry, op):
    """Geometry literals with any numbers (NaN, infinities, beyond the CRS, unclosed rings,
    heights) become SQL or a 400 naming filter; JSON's own NaN is refused when parsing."""
    document = {"op": op, "args": [{"property": "geometry"}, geometry]}
    translate(json.dumps(document), "cql2-json")  # writes NaN as NaN, which json.loads takes
    for crs in (FilterCrs(parse_crs("EPSG:25833")), FilterCrs(parse_crs("EPSG:4326"), True)):
        try:
            to_condition(parse_filter(json.dumps(document), "cql2-json"), SCHEMA, SOURCE.geom, crs)
        except InvalidParameterError as exc:
            assert exc.problems[0].field == "filter"


def test_nan_and_infinity_are_refused_when_parsing():
    """NaN and Infinity are not JSON (RFC 8259 §6): a 400 before any geometry is built."""
    for constant in ("NaN", "Infinity", "-Infinity"):
        text = '{"op": "=", "args": [{"property": "population"}, ' + constant + "]}"
        try:
            parse_filter(text, "cql2-json")
        except InvalidParameterError as exc:
            assert constant in exc.detail.nb and exc.problems[0].field == "filter"
        else:
            raise AssertionError(f"accepted {constant}")
