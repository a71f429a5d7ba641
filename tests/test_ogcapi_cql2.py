"""CQL2 filters, sortby and properties on OGC API – Features items (Parts 3, 6 and 8)."""

import json
import time

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, box
from sqlalchemy import select, text

from app.db import get_sessionmaker
from app.dependencies import storage_region
from app.ogcapi import InvalidParameterError
from app.ogcapi.cql2 import MAX_FILTER_VERTICES, FilterCrs, parse_filter, to_condition
from app.ogcapi.queryables import layer_schema
from app.repositories import ogcapi as repo
from app.repositories.ogcapi import layer_source
from app.routers import ogcapi as ogcapi_router
from layers.registry import get_layer_config
from spatial.crs import CRS84
from tests.rule_fixtures import load_vector_layer

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
ITEMS = "/ogcapi/collections/tettsteder/items"
TO_CRS84 = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True)
SOURCE = layer_source(1, "Polygon")
SCHEMA = layer_schema(get_layer_config("tettsteder"), SOURCE)

TOWNS = [
    # name, population, square's x offset (km)
    ("Gol", 2800, 0),
    ("Hemsedal", 1100, 1),
    ("Geilo", 2500, 2),
    ("Ål", 2200, 3),
    ("Nesbyen", 2000, 4),
    ("Hol", 350, 5),
]


@pytest.fixture
def towns(tmp_path) -> None:
    """Six towns, 200 m squares 1 km apart eastwards from (X0, Y0)."""
    records = [
        {
            "geometry": box(X0 + k * 1000, Y0, X0 + k * 1000 + 200, Y0 + 200),
            "name": name,
            "population": population,
            "tettsted_id": f"{k:04d}" if k % 2 == 0 else None,
        }
        for name, population, k in TOWNS
    ]
    load_vector_layer("tettsteder", records, tmp_path)


def names(client, **params) -> list[str]:
    response = client.get(ITEMS, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return [f["properties"]["name"] for f in response.json()["features"]]


def problem(client, **params) -> dict:
    response = client.get(ITEMS, params=params, headers={"Accept-Language": "nb"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("name = 'Geilo'", {"Geilo"}),
        ("population > 2000", {"Gol", "Geilo", "Ål"}),
        ("population >= 2000 AND population < 2600", {"Geilo", "Ål", "Nesbyen"}),
        ("name <> 'Gol' AND population >= 2500", {"Geilo"}),
        ("name LIKE 'Ge%'", {"Geilo"}),
        ("name LIKE '_ol'", {"Gol", "Hol"}),
        ("name NOT LIKE '%l'", {"Geilo", "Nesbyen"}),
        ("CASEI(name) LIKE CASEI('%L')", {"Gol", "Hemsedal", "Ål", "Hol"}),
        ("CASEI(name) = casei('ÅL')", {"Ål"}),
        ("name IN ('Gol', 'Hol', 'Oslo')", {"Gol", "Hol"}),
        ("name NOT IN ('Gol', 'Hol')", {"Hemsedal", "Geilo", "Ål", "Nesbyen"}),
        ("population BETWEEN 1000 AND 2200", {"Hemsedal", "Ål", "Nesbyen"}),
        ("population NOT BETWEEN 1000 AND 2200", {"Gol", "Geilo", "Hol"}),
        ("tettsted_id IS NULL", {"Hemsedal", "Ål", "Hol"}),
        ("NOT (population < 2000) OR name = 'Hol'", {"Gol", "Geilo", "Ål", "Nesbyen", "Hol"}),
        ("\"name\" = 'Hol'", {"Hol"}),
    ],
)
def test_cql2_text_comparisons(client, towns, cql, expected):
    """Basic CQL2 and the advanced comparison operators select the towns they should."""
    assert set(names(client, filter=cql)) == expected


def test_cql2_json_filters(client, towns):
    """The same operators in cql2-json (CQL2 1.0 form: BETWEEN with three arguments)."""
    cases = [
        ({"op": "=", "args": [{"property": "name"}, "Gol"]}, {"Gol"}),
        ({"op": "like", "args": [{"property": "name"}, "H%"]}, {"Hemsedal", "Hol"}),
        ({"op": "in", "args": [{"property": "name"}, ["Ål", "Geilo"]]}, {"Ål", "Geilo"}),
        (
            {"op": "between", "args": [{"property": "population"}, 2000, 2500]},
            {"Geilo", "Ål", "Nesbyen"},
        ),
        (
            {
                "op": "and",
                "args": [
                    {"op": ">", "args": [{"property": "population"}, 1000]},
                    {
                        "op": "not",
                        "args": [{"op": "isNull", "args": [{"property": "tettsted_id"}]}],
                    },
                ],
            },
            {"Gol", "Geilo", "Nesbyen"},
        ),
        ({"op": "=", "args": [{"op": "casei", "args": [{"property": "name"}]}, "gol"]}, {"Gol"}),
    ]
    for cql, expected in cases:
        assert (
            set(names(client, filter=json.dumps(cql), **{"filter-lang": "cql2-json"})) == expected
        )


def test_spatial_filters_in_filter_crs(client, towns):
    """S_INTERSECTS and friends take geometries in filter-crs (CRS84 by default)."""
    # Around the 2nd and 3rd squares (Hemsedal, Geilo), in EPSG:25832 ...
    area = box(X0 + 900, Y0 - 100, X0 + 2300, Y0 + 300)
    utm = f"S_INTERSECTS(geometry, {area.wkt})"
    assert set(names(client, filter=utm, **{"filter-crs": f"{EPSG}25832"})) == {"Hemsedal", "Geilo"}
    # ... in CRS84 (the default) ...
    lon_lat = [TO_CRS84.transform(x, y) for x, y in area.exterior.coords]
    ring = ", ".join(f"{lon} {lat}" for lon, lat in lon_lat)
    assert set(names(client, filter=f"S_INTERSECTS(geometry, POLYGON(({ring})))")) == {
        "Hemsedal",
        "Geilo",
    }
    # ... latitude first in EPSG:4326, as GeoJSON in cql2-json, and as a BBOX.
    lat_lon = ", ".join(f"{lat} {lon}" for lon, lat in lon_lat)
    cql = f"S_INTERSECTS(geometry, POLYGON(({lat_lon})))"
    assert set(names(client, filter=cql, **{"filter-crs": "EPSG:4326"})) == {"Hemsedal", "Geilo"}
    geojson = {"type": "Polygon", "coordinates": [[list(p) for p in lon_lat]]}
    cql_json = {"op": "s_intersects", "args": [{"property": "geometry"}, geojson]}
    assert set(names(client, filter=json.dumps(cql_json), **{"filter-lang": "cql2-json"})) == {
        "Hemsedal",
        "Geilo",
    }
    bbox = f"S_INTERSECTS(geometry, BBOX({X0 + 900}, {Y0 - 100}, {X0 + 2300}, {Y0 + 300}))"
    assert set(names(client, filter=bbox, **{"filter-crs": "EPSG:25832"})) == {"Hemsedal", "Geilo"}
    bbox_json = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, {"bbox": [X0 + 900, Y0 - 100, X0 + 2300, Y0 + 300]}],
    }
    assert set(
        names(
            client,
            filter=json.dumps(bbox_json),
            **{"filter-lang": "cql2-json", "filter-crs": "EPSG:25832"},
        )
    ) == {"Hemsedal", "Geilo"}

    point = Point(X0 + 3100, Y0 + 100)  # inside Ål's square
    within = f"S_CONTAINS(geometry, {point.wkt}) AND population > 100"
    assert names(client, filter=within, **{"filter-crs": "EPSG:25832"}) == ["Ål"]
    outside = f"S_DISJOINT(geometry, {area.wkt})"
    assert len(names(client, filter=outside, **{"filter-crs": "EPSG:25832"})) == 4
    # With bbox and a filter, both apply.
    together = names(
        client,
        filter="population > 2000",
        bbox=",".join(map(str, TO_CRS84.transform_bounds(X0, Y0, X0 + 2500, Y0 + 200))),
    )
    assert set(together) == {"Gol", "Geilo"}


def test_the_spatial_filter_can_use_the_gist_index(towns):
    """S_INTERSECTS runs on the stored EPSG:25832 column, so PostgreSQL can use the GiST index."""
    with get_sessionmaker()() as session:
        version = session.execute(text("SELECT max(id) FROM layer_version")).scalar_one()
        source = layer_source(version, "Polygon")
        schema = layer_schema(get_layer_config("tettsteder"), source)
        node = parse_filter("S_INTERSECTS(geometry, BBOX(8.5, 60.8, 8.6, 60.9))", "cql2-text")
        condition = to_condition(node, schema, source.geom, FilterCrs(CRS84))
        query = select(source.fid).where(*source.conditions, condition)
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
    assert "ix_layer_feature_version_geom" in "\n".join(plan)


@pytest.mark.parametrize(
    ("params", "field", "mentions"),
    [
        ({"filter": "size > 3"}, "filter", "«size»"),  # not a queryable
        ({"filter": "name = 'Gol' ANDD population > 1"}, "filter", "posisjon 17"),
        ({"filter": "name = "}, "filter", "slutter for tidlig"),
        ({"filter": "population = 'many'"}, "filter", "population"),
        ({"filter": "name BETWEEN 1 AND 2"}, "filter", "name"),
        ({"filter": "S_INTERSECTS(name, POINT(8 60))"}, "filter", "«name»"),
        (
            {
                "filter": '{"op": "t_after", "args": '
                '[{"property": "name"}, {"date": "2020-01-01"}]}',
                "filter-lang": "cql2-json",
            },
            "filter",
            "T_",
        ),
        ({"filter": "accenti(name) = 'a'"}, "filter", "accenti"),
        ({"filter": "population + 1 > 2"}, "filter", "regning"),
        ({"filter": "S_INTERSECTS(geometry, POINT(500000 6700000))"}, "filter", "CRS84"),
        ({"filter": "x", "filter-lang": "cql"}, "filter-lang", "cql"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "filter", "posisjon 2"),
        (
            {
                "filter": '{"op": "=", "args": [{"property": "nope"}, 1]}',
                "filter-lang": "cql2-json",
            },
            "filter",
            "«nope»",
        ),
        (
            {"filter": '{"op": "frobnicate", "args": []}', "filter-lang": "cql2-json"},
            "filter",
            "cql2-json",
        ),
        ({"filter": "name = 'x'", "filter-crs": "EPSG:4258"}, "filter-crs", "EPSG:4258"),
        ({"sortby": "-size"}, "sortby", "«size»"),
        ({"sortby": "name,+colour"}, "sortby", "«colour»"),
        ({"properties": "name,colour"}, "properties", "«colour»"),
    ],
)
def test_bad_filters_sorts_and_selections_are_400_in_bokmal(client, params, field, mentions):
    """A bad filter, sortby or properties is a 400 problem naming the parameter (and where)."""
    body = problem(client, **params)
    assert mentions in body["detail"], body["detail"]
    assert body["problems"][0]["field"] == field


def test_unknown_queryable_in_english_too(client):
    """The same problem in English names the queryables the collection has."""
    response = client.get(ITEMS, params={"filter": "size > 3"}, headers={"Accept-Language": "en"})
    detail = response.json()["detail"]
    assert "'size', which is not a queryable" in detail
    assert "population" in detail and "geometry" in detail


def test_sortby(client, towns):
    """sortby orders by properties, - for descending, + (or a space) for ascending."""
    assert names(client, sortby="-population") == [
        "Gol",
        "Geilo",
        "Ål",
        "Nesbyen",
        "Hemsedal",
        "Hol",
    ]
    assert names(client, sortby="+population")[0] == "Hol"
    assert names(client, sortby=" population")[0] == "Hol"  # an unencoded +
    # (Ål left out: where Å sorts depends on the database's collation.)
    by_name = names(client, sortby="name", filter="name <> 'Ål'")
    assert by_name == ["Geilo", "Gol", "Hemsedal", "Hol", "Nesbyen"]
    # Sorted pages are stable across offset: the id order breaks ties.
    first = names(client, sortby="tettsted_id,-name", limit=3)
    rest = names(client, sortby="tettsted_id,-name", limit=3, offset=3)
    assert sorted(first + rest) == sorted(n for n, _, _ in TOWNS)
    assert first == ["Gol", "Geilo", "Nesbyen"]  # ids 0000, 0002, 0004; then the nulls
    filtered = names(client, sortby="-name", filter="population < 2200")
    assert filtered == ["Nesbyen", "Hol", "Hemsedal"]


def test_properties_selects_what_features_carry(client, towns):
    """properties keeps the named properties only, on items and on an item."""
    page = client.get(ITEMS, params={"properties": "name", "limit": 2}).json()
    assert all(f["properties"].keys() == {"name"} for f in page["features"])
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in page["features"])
    one = page["features"][0]["id"]
    item = client.get(f"{ITEMS}/{one}", params={"properties": "population,name"}).json()
    assert item["properties"].keys() == {"population", "name"}
    none = client.get(ITEMS, params={"properties": "", "limit": 1}).json()
    assert none["features"][0]["properties"] == {}
    everything = client.get(f"{ITEMS}/{one}").json()["properties"]
    assert {"name", "population", "tettsted_id", "source_fid"} <= everything.keys()


def test_filters_on_municipalities_proposals_and_findings(client):
    """The fixed collections filter on their columns (kommunenummer, centrality_class)."""
    response = client.get(
        "/ogcapi/collections/municipalities/items",
        params={
            "filter": "centrality_class <= 4 AND region = 'Hallingdal'",
            "sortby": "-kommunenummer",
        },
    )
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert features, "Hallingdal has municipalities in class 4 or lower"
    assert all(f["properties"]["region"] == "Hallingdal" for f in features)
    numbers = [f["properties"]["kommunenummer"] for f in features]
    assert numbers == sorted(numbers, reverse=True)
    hemsedal = client.get(
        "/ogcapi/collections/municipalities/items",
        params={
            "filter": f"S_INTERSECTS(geometry, {Point(X0, Y0).wkt})",
            "filter-crs": "EPSG:25832",
        },
    ).json()
    assert [f["properties"]["name"] for f in hemsedal["features"]] == ["Hemsedal"]
    empty = client.get(
        "/ogcapi/collections/findings/items", params={"filter": "severity = 'conflict'"}
    )
    assert empty.status_code == 200 and empty.json()["numberMatched"] == 0
    bad = client.get("/ogcapi/collections/proposals/items", params={"filter": "kind = 3"})
    assert bad.status_code == 400 and "kind" in bad.json()["detail"]


def test_parse_errors_name_the_position():
    """A syntax error's message gives the 1-based position in the filter text."""
    with pytest.raises(InvalidParameterError) as caught:
        parse_filter("name = 'Gol' AND = 3", "cql2-text")
    assert caught.value.detail.nb.endswith("ved posisjon 18 (linje 1): uventet «= 3»")
    assert "position 18" in caught.value.detail.en


def test_huge_projected_filter_geometry_is_refused_at_once(client, towns):
    """A projected filter geometry beyond the CRS's extent is a 400 naming filter, as bbox is,
    not minutes of densifying (every 1000 m of a 5 000 000 km square)."""
    huge = "POLYGON((0 0, 5000000000 0, 5000000000 5000000000, 0 5000000000, 0 0))"
    started = time.monotonic()
    body = problem(
        client, filter=f"S_INTERSECTS(geometry, {huge})", **{"filter-crs": f"{EPSG}25832"}
    )
    assert time.monotonic() - started < 5
    assert body["problems"][0]["field"] == "filter"
    assert "utenfor utstrekningen" in body["detail"]


def test_many_world_boxes_are_cheap_and_bounded(client, towns):
    """World boxes are clipped and densified in bounded steps: 50 of them answer in seconds
    (they took half a minute), and geometries beyond MAX_FILTER_VERTICES in all are a 400."""
    world = " OR ".join(["S_INTERSECTS(geometry,BBOX(-179,-89,179,89))"] * 50)
    started = time.monotonic()
    assert len(names(client, filter=world)) == len(TOWNS)
    assert time.monotonic() - started < 10
    per_box = shapely.get_num_coordinates(storage_region(shapely.box(-179, -89, 179, 89), CRS84))
    assert per_box < 5_000
    too_many = MAX_FILTER_VERTICES // per_box + 1
    body = problem(
        client, filter=" OR ".join(["S_INTERSECTS(geometry,BBOX(-179,-89,179,89))"] * too_many)
    )
    assert body["problems"][0]["field"] == "filter"
    assert str(MAX_FILTER_VERTICES) in body["detail"]


@pytest.mark.parametrize(
    "box_",
    ["-180,-90,180,90", "-179,-89,179,89", "-90,-80,90,80", "-60,0,120,89", "0,50,20,70"],
)
def test_world_and_hemisphere_filter_boxes_match_the_bbox_parameter(client, towns, box_):
    """A filter BBOX selects what the bbox parameter with the same box selects."""
    by_bbox = set(names(client, bbox=box_))
    assert by_bbox == {n for n, _, _ in TOWNS}
    assert set(names(client, filter=f"S_INTERSECTS(geometry, BBOX({box_}))")) == by_bbox
    polygon = shapely.box(*map(float, box_.split(","))).wkt
    assert set(names(client, filter=f"S_INTERSECTS(geometry, {polygon})")) == by_bbox
    assert names(client, filter=f"S_DISJOINT(geometry, BBOX({box_}))") == []


def test_filter_geometry_outside_the_storage_domain_matches_nothing(client, towns):
    """A geometry far from Norway (beyond the storage CRS's domain) is clipped away: nothing
    intersects it, everything is disjoint from it."""
    assert names(client, filter="S_INTERSECTS(geometry, BBOX(120,0,130,10))") == []
    assert len(names(client, filter="S_DISJOINT(geometry, POINT(125 5))")) == len(TOWNS)


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        # NaN and Infinity are not JSON numbers (json.loads takes them).
        (
            {
                "filter": '{"op":"s_intersects","args":[{"property":"geometry"},'
                '{"type":"Point","coordinates":[NaN,NaN]}]}',
                "filter-lang": "cql2-json",
            },
            "NaN",
        ),
        (
            {
                "filter": '{"op":"s_intersects","args":[{"property":"geometry"},'
                '{"bbox":[NaN,NaN,NaN,NaN]}]}',
                "filter-lang": "cql2-json",
            },
            "NaN",
        ),
        (
            {
                "filter": '{"op":">","args":[{"property":"population"},-Infinity]}',
                "filter-lang": "cql2-json",
            },
            "-Infinity",
        ),
        ({"filter": "S_INTERSECTS(geometry, POINT(1e400 60))"}, "endelig"),
        # A LIKE pattern ending in its escape character, or not a quoted pattern.
        ({"filter": "name LIKE '\\'"}, "escape-tegnet"),
        ({"filter": "name LIKE 'G\\\\\\'"}, "escape-tegnet"),
        ({"filter": "name LIKE name"}, "mønster i anførselstegn"),
        # minx > maxx crosses the antimeridian (CQL2), which is refused, not reordered.
        ({"filter": "S_INTERSECTS(geometry, BBOX(10,60,9,61))"}, "datolinjen"),
        ({"filter": "BBOX(geometry, 10,60,9,61)"}, "datolinjen"),
        ({"filter": "S_INTERSECTS(geometry, BBOX(9,61,10,60))"}, "nedre"),
        ({"filter": "S_INTERSECTS(geometry, POLYGON((8 60, 9 60, 9 61)))"}, "ikke er lukket"),
        (
            {"filter": "S_INTERSECTS(geometry, POLYGON((8 60, 9 60, 9 61, 8 60.5)))"},
            "ikke er lukket",
        ),
        (
            {
                "filter": '{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon",'
                '"coordinates":[[[8,60],[9,60],[9,61],[8,61]]]}]}',
                "filter-lang": "cql2-json",
            },
            "ikke er lukket",
        ),
        # Heights are refused alike with and without Z.
        ({"filter": "S_INTERSECTS(geometry, POINT(9 60 100))"}, "todimensjonale"),
        ({"filter": "S_INTERSECTS(geometry, POINT Z(9 60 100))"}, "todimensjonale"),
        ({"filter": "S_INTERSECTS(geometry, LINESTRING Z(9 60 1, 9 61 1))"}, "todimensjonale"),
        (
            {
                "filter": '{"op":"s_intersects","args":[{"property":"geometry"},'
                '{"type":"Point","coordinates":[9,60,100]}]}',
                "filter-lang": "cql2-json",
            },
            "todimensjonale",
        ),
    ],
)
def test_bad_filter_values_are_400_naming_filter(client, towns, params, mentions):
    """Values that used to be a 500 (NaN), a 422 from PostgreSQL (a LIKE pattern ending in \\)
    or silently mended (reversed BBOX, unclosed ring, heights) are a 400 naming filter."""
    body = problem(client, **params)
    assert mentions in body["detail"], body["detail"]
    assert body["problems"][0]["field"] == "filter"


def test_like_escapes_work(client, towns):
    """\\ escapes %, _ and itself in a LIKE pattern (CQL2 §7.5.2)."""
    assert names(client, filter="name LIKE 'G\\%'") == []
    assert names(client, filter="name LIKE 'G\\\\'") == []
    assert set(names(client, filter="name LIKE 'G%'")) == {"Gol", "Geilo"}


def test_a_slow_query_is_cancelled_and_answered_503(client, towns, monkeypatch):
    """Items and item queries run under a statement timeout; a cancelled one is a 503 with
    Retry-After (problem+json, or a page for f=html), not a query running for minutes."""
    real_page, real_item = repo.feature_page, repo.get_feature

    def slow(real):
        def run(session, *args, **kwargs):
            session.execute(text("SELECT pg_sleep(2)"))
            return real(session, *args, **kwargs)

        return run

    monkeypatch.setattr(ogcapi_router, "STATEMENT_TIMEOUT_MS", 100)
    monkeypatch.setattr(repo, "feature_page", slow(real_page))
    monkeypatch.setattr(repo, "get_feature", slow(real_item))
    started = time.monotonic()
    response = client.get(ITEMS, headers={"Accept-Language": "nb"})
    assert time.monotonic() - started < 1.5
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert response.json()["type"].endswith("/query-timeout")
    item = client.get(f"{ITEMS}/1")
    assert item.status_code == 503 and item.headers["retry-after"]
    page = client.get(ITEMS, params={"f": "html"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "ble avbrutt" in page.text
