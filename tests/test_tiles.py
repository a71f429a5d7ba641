"""Tiles (issue 21, item 2): OGC API – Tiles with Mapbox Vector Tiles from PostGIS, PNG tiles of
the WMS layers, in WebMercatorQuad and Kartverket's utm33n grid, cached in tile_cache.

The tile matrix sets, tilesets lists and tilesets are validated against the official OGC
schemas vendored in tests/data/ogc-tiles/ (SOURCE.md); vector tiles are decoded and their
features, properties and positions compared with the data.
"""

import io
import json
from pathlib import Path

import jsonschema_rs
import mapbox_vector_tile
import pytest
import yaml
from PIL import Image
from pyproj import Transformer
from shapely.geometry import box, shape
from sqlalchemy import text

from app.db import get_engine, get_sessionmaker
from app.repositories import ogcapi as repo
from app.tiles import cache, matrix_sets, stamps
from app.tiles.vector import EXTENT, mvt_query, search_box
from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_vector_layer

SCHEMAS = Path(__file__).parent / "data" / "ogc-tiles"
X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
TO_LONLAT = Transformer.from_crs(25832, 4326, always_xy=True)
MVT = "application/vnd.mapbox-vector-tile"
# A tile of each set around (X0, Y0), some 2.4 km (WebMercatorQuad) and 2.7 km (utm33n) wide.
ZOOMS = {"WebMercatorQuad": 14, "utm33n": 11}


def _load(uri: str):
    path = Path(uri.removeprefix("file://"))
    content = path.read_text("utf-8")
    return json.loads(content) if path.suffix == ".json" else yaml.safe_load(content)


def validator(relative: str, pointer: tuple[str, ...] = ()):
    """A validator for a vendored schema (or the part of it at `pointer`), resolving its $refs
    among the vendored files only."""
    path = (SCHEMAS / relative).resolve()
    schema = _load(path.as_uri())
    for key in pointer:
        schema = schema[key]
    return jsonschema_rs.validator_for(schema, retriever=_load, base_uri=path.as_uri())


def assert_valid(check, document) -> None:
    errors = [f"{e.instance_path}: {e.message}" for e in check.iter_errors(document)]
    assert errors == [], errors


def tile_of(tms_id: str, x: float, y: float) -> tuple[int, int, int]:
    """(z, row, column) of the tile at ZOOMS[tms_id] holding the EPSG:25832 point."""
    tms = matrix_sets.tile_matrix_sets()[tms_id]
    lon, lat = TO_LONLAT.transform(x, y)
    tile = tms.tile(lon, lat, ZOOMS[tms_id])
    return tile.z, tile.y, tile.x


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def to_storage(tms_id: str, z: int, y: int, x: int, points) -> list[tuple[float, float]]:
    """MVT grid positions of a tile as EPSG:25832 coordinates."""
    tms = matrix_sets.tile_matrix_sets()[tms_id]
    bounds = matrix_sets.tile_bounds(tms, z, y, x)
    back = Transformer.from_crs(bounds.srid, 25832, always_xy=True)
    width, height = bounds.maxx - bounds.minx, bounds.maxy - bounds.miny
    return [
        back.transform(bounds.minx + px / EXTENT * width, bounds.maxy - py / EXTENT * height)
        for px, py in points
    ]


def cached_rows(kind: str, layer: str) -> list[tuple[str, int]]:
    """(stamp, body length) of every cached tile of a layer."""
    query = text("SELECT stamp, length(body) FROM tile_cache WHERE kind = :kind AND layer = :layer")
    with get_engine().connect() as connection:
        return [tuple(row) for row in connection.execute(query, {"kind": kind, "layer": layer})]


def replace_cached_bodies(kind: str, layer: str, body: bytes) -> int:
    """Overwrite the cached tiles of a layer, to see whether an answer comes from the cache."""
    query = text("UPDATE tile_cache SET body = :body WHERE kind = :kind AND layer = :layer")
    with get_engine().begin() as connection:
        return connection.execute(query, {"body": body, "kind": kind, "layer": layer}).rowcount


@pytest.fixture(autouse=True)
def empty_cache():
    """Start every test with an empty tile cache."""
    with get_engine().begin() as connection:
        connection.execute(text("TRUNCATE tile_cache"))


def squares(importance: str) -> list[dict]:
    """Two 100 m squares, the second 300 m east of the first."""
    return [
        {"geometry": box(X0, Y0, X0 + 100, Y0 + 100), "importance": importance, "name": "A"},
        {"geometry": box(X0 + 300, Y0, X0 + 400, Y0 + 100), "importance": importance, "name": "B"},
    ]


# --- tile matrix sets and tilesets against the OGC schemas -----------------------------------


def test_tile_matrix_sets_follow_the_ogc_schemas_and_kartverkets_grid(anonymous):
    listing = anonymous.get("/ogcapi/tileMatrixSets")
    assert listing.status_code == 200
    assert_valid(
        validator(
            "ogcapi-tiles-1/responses/tiles-core/rTileMatrixSetsList.yaml",
            ("content", "application/json", "schema"),
        ),
        listing.json(),
    )
    ids = [item["id"] for item in listing.json()["tileMatrixSets"]]
    assert ids == ["WebMercatorQuad", "utm33n"]

    schema = validator("tms-2.0/tileMatrixSet.json")
    mercator = anonymous.get("/ogcapi/tileMatrixSets/WebMercatorQuad").json()
    assert_valid(schema, mercator)
    # OGC's registered definition: same CRS, origin, scales and matrix sizes.
    registered = _load((SCHEMAS / "tms-registry" / "WebMercatorQuad.json").as_uri())
    assert mercator["uri"] == registered["uri"] and mercator["crs"] == registered["crs"]
    ours = {m["id"]: m for m in mercator["tileMatrices"]}
    for matrix in registered["tileMatrices"]:
        mine = ours[matrix["id"]]
        assert mine["scaleDenominator"] == pytest.approx(matrix["scaleDenominator"], rel=1e-9)
        assert mine["pointOfOrigin"] == pytest.approx(matrix["pointOfOrigin"], rel=1e-9)
        assert (mine["matrixWidth"], mine["matrixHeight"]) == (
            matrix["matrixWidth"],
            matrix["matrixHeight"],
        )

    utm = anonymous.get("/ogcapi/tileMatrixSets/utm33n").json()
    assert_valid(schema, utm)
    assert utm["crs"] == "http://www.opengis.net/def/crs/EPSG/0/25833"
    levels = utm["tileMatrices"]
    assert [m["id"] for m in levels] == [str(z) for z in range(19)]
    assert levels[0]["pointOfOrigin"] == [-2_500_000, 9_045_984]
    assert levels[0]["cellSize"] == 21664
    assert levels[0]["scaleDenominator"] == pytest.approx(77_371_428.5714, abs=1e-3)
    for z, matrix in enumerate(levels):
        assert matrix["cellSize"] == 21664 / 2**z
        assert matrix["matrixWidth"] == matrix["matrixHeight"] == 2**z
        assert matrix["tileWidth"] == matrix["tileHeight"] == 256
    assert anonymous.get("/ogcapi/tileMatrixSets/GoogleCRS84Quad").status_code == 404


@pytest.mark.parametrize("data_type", ["vector", "map"])
def test_tilesets_follow_the_ogc_schemas(anonymous, data_type, tmp_path):
    load_vector_layer("mineral_deposits", squares("regional"), tmp_path)
    path = "tiles" if data_type == "vector" else "map/tiles"
    listing = anonymous.get(f"/ogcapi/collections/mineral_deposits/{path}")
    assert listing.status_code == 200, listing.text
    assert_valid(
        validator(
            "ogcapi-tiles-1/responses/tiles-core/rTileSetsList.yaml",
            ("content", "application/json", "schema"),
        ),
        listing.json(),
    )
    official = validator("tms-2.0/tileSet.json")
    api_schema = validator(
        "ogcapi-tiles-1/responses/tiles-core/rTileSet.yaml",
        ("content", "application/json", "schema"),
    )
    media_type = MVT if data_type == "vector" else "image/png"
    for item in listing.json()["tilesets"]:
        assert item["dataType"] == data_type
        rels = {link["rel"]: link["href"] for link in item["links"]}
        assert rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"].endswith(
            "/ogcapi/tileMatrixSets/" + rels["self"].rsplit("/", 1)[1]
        )
        tileset = anonymous.get(rels["self"])
        assert tileset.status_code == 200
        assert_valid(official, tileset.json())
        assert_valid(api_schema, tileset.json())
        items = [link for link in tileset.json()["links"] if link["rel"] == "item"]
        templates = {link["href"] for link in items}
        tms_id = rels["self"].rsplit("/", 1)[1]
        base = f"http://testserver/ogcapi/collections/mineral_deposits/{path}/{tms_id}"
        assert templates == {
            f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
            f"{base}/{{z}}/{{y}}/{{x}}",  # as QGIS takes an XYZ template
        }
        assert all(link["templated"] and link["type"] == media_type for link in items)
        if tms_id == "WebMercatorQuad":
            assert tileset.json()["tileMatrixSetURI"].endswith("/WebMercatorQuad")
        # The template names a tile that answers.
        z, y, x = tile_of(tms_id, X0 + 50, Y0 + 50)
        tile = anonymous.get(
            next(iter(templates))
            .replace("{tileMatrix}", str(z))
            .replace("{z}", str(z))
            .replace("{tileRow}", str(y))
            .replace("{y}", str(y))
            .replace("{tileCol}", str(x))
            .replace("{x}", str(x))
        )
        assert tile.status_code == 200 and tile.headers["content-type"] == media_type


# --- vector tiles ------------------------------------------------------------------------------


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "utm33n"])
def test_vector_tile_holds_the_features_where_they_are(anonymous, tms_id, tmp_path):
    load_vector_layer("mineral_deposits", squares("regional"), tmp_path)
    z, y, x = tile_of(tms_id, X0 + 50, Y0 + 50)
    response = anonymous.get(f"/ogcapi/collections/mineral_deposits/tiles/{tms_id}/{z}/{y}/{x}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    assert "max-age" in response.headers["cache-control"]  # public data, revalidated
    unchanged = anonymous.get(
        f"/ogcapi/collections/mineral_deposits/tiles/{tms_id}/{z}/{y}/{x}",
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert unchanged.status_code == 304
    layers = decode(response.content)
    assert list(layers) == ["mineral_deposits"]
    layer = layers["mineral_deposits"]
    assert layer["extent"] == EXTENT
    features = {f["properties"]["name"]: f for f in layer["features"]}
    assert set(features) == {"A", "B"}
    items = anonymous.get("/ogcapi/collections/mineral_deposits/items").json()["features"]
    by_name = {item["properties"]["name"]: item for item in items}
    for name, west in (("A", X0), ("B", X0 + 300)):
        found, item = features[name], by_name[name]
        assert found["id"] == item["id"]  # the OGC API feature id
        # The same properties as the OGC API items (MVT has no null values).
        assert found["properties"] == {k: v for k, v in item["properties"].items() if v is not None}
        assert found["properties"]["importance"] == "regional"
        assert found["geometry"]["type"] == "Polygon"
        ring = to_storage(tms_id, z, y, x, found["geometry"]["coordinates"][0])
        drawn = shape({"type": "Polygon", "coordinates": [ring]})
        # One MVT unit is 0.6 m (WebMercatorQuad z14) or 0.66 m (utm33n z11).
        assert drawn.bounds == pytest.approx((west, Y0, west + 100, Y0 + 100), abs=1.5)

    # A tile of the same level far from the data is empty: 204 No Content.
    far_z, far_y, far_x = tile_of(tms_id, X0 + 60_000, Y0 - 60_000)
    empty = anonymous.get(
        f"/ogcapi/collections/mineral_deposits/tiles/{tms_id}/{far_z}/{far_y}/{far_x}"
    )
    assert empty.status_code == 204 and empty.content == b""


def test_municipalities_tile_in_utm33n(anonymous):
    z, y, x = tile_of("utm33n", X0, Y0)
    body = anonymous.get(f"/ogcapi/collections/municipalities/tiles/utm33n/{z}/{y}/{x}")
    features = decode(body.content)["municipalities"]["features"]
    assert "Hemsedal" in {f["properties"]["name"] for f in features}
    hemsedal = next(f for f in features if f["properties"]["name"] == "Hemsedal")
    assert hemsedal["properties"]["kommunenummer"] == "3326"


def test_the_query_uses_the_spatial_index(tmp_path):
    """`geom && box` with the tile's box made beforehand: an index condition (EXPLAIN)."""
    # A layer of some size, analysed, so the planner weighs the indexes as on real data
    # (on two rows any index is as good as another).
    elsewhere = [
        {
            "geometry": box(X0 + i * 2000, Y0 - j * 2000, X0 + i * 2000 + 100, Y0 - j * 2000 + 100),
            "importance": "lokal",
        }
        for i in range(1, 21)
        for j in range(1, 21)
    ]
    load_vector_layer("mineral_deposits", squares("regional") + elsewhere, tmp_path)
    with get_engine().begin() as connection:
        connection.execute(text("ANALYZE layer_feature"))
    tms = matrix_sets.tile_matrix_sets()["WebMercatorQuad"]
    z, y, x = tile_of("WebMercatorQuad", X0, Y0)
    with get_engine().connect() as connection:
        version = connection.execute(text("SELECT max(id) FROM layer_version")).scalar_one()
        bounds = matrix_sets.tile_bounds(tms, z, y, x)
        query = mvt_query(repo.layer_source(version), "m", bounds, search_box(bounds)).compile(
            get_engine(), compile_kwargs={"literal_binds": True}
        )
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {query}")))
    assert "ix_layer_feature_version_geom" in plan, plan
    assert "Index Cond" in plan and "&&" in plan.split("Index Cond", 1)[1], plan
    # No transform per row in the search: the box is a constant in the storage CRS.
    assert "st_transform" not in plan.split("Index Cond", 1)[1].split("\n")[0].lower(), plan


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "utm33n"])
def test_every_tile_of_the_low_zoom_levels_answers(anonymous, tms_id):
    """Tiles reaching far outside UTM zone 32's domain (most of the world at levels 0-3) are
    empty or hold the data, never an error."""
    levels = {"WebMercatorQuad": 4, "utm33n": 3}[tms_id]
    for z in range(levels):
        for y in range(2**z):
            for x in range(2**z):
                answer = anonymous.get(
                    f"/ogcapi/collections/municipalities/tiles/{tms_id}/{z}/{y}/{x}"
                )
                assert answer.status_code in (200, 204), (z, y, x, answer.text[:200])
    z, y, x = tile_of(tms_id, X0, Y0)
    for up in range(z + 1):  # the tiles holding Hemsedal, at every level
        url = f"/ogcapi/collections/municipalities/tiles/{tms_id}/{z - up}/{y >> up}/{x >> up}"
        assert anonymous.get(url).status_code == 200, url


def test_tiles_are_cached_and_a_new_layer_version_replaces_them(anonymous, tmp_path):
    load_vector_layer("mineral_deposits", squares("regional"), tmp_path)
    z, y, x = tile_of("WebMercatorQuad", X0, Y0)
    url = f"/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/{z}/{y}/{x}"
    first = anonymous.get(url)
    assert first.status_code == 200
    rows = cached_rows("mvt", "mineral_deposits")
    assert len(rows) == 1 and rows[0][1] == len(first.content)
    assert anonymous.get(url).content == first.content
    # Served from the cache: a changed cached body is what the second request gets.
    assert replace_cached_bodies("mvt", "mineral_deposits", b"from the cache") == 1
    assert anonymous.get(url).content == b"from the cache"

    load_vector_layer("mineral_deposits", squares("nasjonal"), tmp_path)
    fresh = anonymous.get(url)
    assert fresh.status_code == 200
    properties = [f["properties"] for f in decode(fresh.content)["mineral_deposits"]["features"]]
    assert {p["importance"] for p in properties} == {"nasjonal"}
    [(stamp, size)] = cached_rows("mvt", "mineral_deposits")
    assert stamp != rows[0][0] and size == len(fresh.content)

    # Tiles of the old stamp elsewhere are swept away once the new stamp is stored.
    uz, uy, ux = tile_of("utm33n", X0, Y0)
    anonymous.get(f"/ogcapi/collections/mineral_deposits/tiles/utm33n/{uz}/{uy}/{ux}")
    assert len(cached_rows("mvt", "mineral_deposits")) == 2
    load_vector_layer("mineral_deposits", squares("lokal"), tmp_path)
    anonymous.get(url)
    assert len({stamp for stamp, _ in cached_rows("mvt", "mineral_deposits")}) == 1
    assert len(cached_rows("mvt", "mineral_deposits")) == 1


def cabin(x: float, name: str) -> dict:
    geometry = box(x, Y0, x + 200, Y0 + 100).__geo_interface__
    return feature(geometry, name, arealformal=1120, arealbruksstatus=2, feltnavn=name)


def upload(client, *features) -> str:
    response = client.post("/api/v1/proposals", content=encode(collection(*features, crs=UTM32)))
    assert response.status_code == 201, response.text
    return response.json()["links"][0]["href"]


def test_proposals_and_findings_tiles_follow_publication_versions_and_checks(
    client, anonymous, tmp_path
):
    deposit = {"geometry": box(X0 + 50, Y0, X0 + 150, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)
    z, y, x = tile_of("WebMercatorQuad", X0, Y0)
    proposals = f"/ogcapi/collections/proposals/tiles/WebMercatorQuad/{z}/{y}/{x}"
    findings = f"/ogcapi/collections/findings/tiles/WebMercatorQuad/{z}/{y}/{x}"

    first = upload(client, cabin(X0, "BFR1"))
    assert client.post(f"{first}/checks").status_code == 201
    # A draft is never in a tile (the same public rule as WMS and OGC API items).
    assert anonymous.get(proposals).status_code == 204
    assert anonymous.get(findings).status_code == 204
    assert client.post("/api/v1/proposals/3326_2024001/publish").status_code == 200
    published = decode(anonymous.get(proposals).content)["proposals"]["features"]
    assert [(f["properties"]["feltnavn"], f["properties"]["version"]) for f in published] == [
        ("BFR1", 1)
    ]
    found = decode(anonymous.get(findings).content)["findings"]["features"]
    assert "conflict" in {f["properties"]["severity"] for f in found}

    second = upload(client, cabin(X0, "BFR1"), cabin(X0 + 300, "BFR2"))
    areas = decode(anonymous.get(proposals).content)["proposals"]["features"]
    assert sorted((f["properties"]["feltnavn"], f["properties"]["version"]) for f in areas) == [
        ("BFR1", 2),
        ("BFR2", 2),
    ]
    assert anonymous.get(findings).status_code == 204  # version 2 is not checked yet
    check = client.post(f"{second}/checks").json()
    found = decode(anonymous.get(findings).content)["findings"]["features"]
    assert {f["properties"]["check_id"] for f in found} == {check["id"]}


# --- raster tiles -------------------------------------------------------------------------------


def alpha_at(png: bytes, x: int, y: int) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return image.getpixel((x, y))[3]


def pixel_of(tms_id: str, z: int, y: int, x: int, point: tuple[float, float]) -> tuple[int, int]:
    """The pixel of a 256 px tile showing an EPSG:25832 point."""
    bounds = matrix_sets.tile_bounds(matrix_sets.tile_matrix_sets()[tms_id], z, y, x)
    px, py = Transformer.from_crs(25832, bounds.srid, always_xy=True).transform(*point)
    return (
        int((px - bounds.minx) / (bounds.maxx - bounds.minx) * 256),
        int((bounds.maxy - py) / (bounds.maxy - bounds.miny) * 256),
    )


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "utm33n"])
def test_map_tiles_draw_the_wms_layer_and_are_cached(anonymous, tms_id, tmp_path):
    big = [{"geometry": box(X0, Y0, X0 + 600, Y0 + 600), "importance": "regional"}]
    load_vector_layer("mineral_deposits", big, tmp_path)
    z, y, x = tile_of(tms_id, X0 + 300, Y0 + 300)
    url = f"/ogcapi/collections/mineral_deposits/map/tiles/{tms_id}/{z}/{y}/{x}"
    response = anonymous.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)
    inside = pixel_of(tms_id, z, y, x, (X0 + 300, Y0 + 300))
    outside = pixel_of(tms_id, z, y, x, (X0 - 600, Y0 + 300))
    assert alpha_at(response.content, *inside) > 0
    if 0 <= outside[0] < 256 and 0 <= outside[1] < 256:
        assert alpha_at(response.content, *outside) == 0  # transparent around the data
    # The XYZ template of the same WMS layer gives the same tile, from the same cache entry.
    xyz = anonymous.get(f"/tiles/mineral_deposits/{tms_id}/{z}/{y}/{x}.png")
    assert xyz.content == response.content
    assert len(cached_rows("png", "mineral_deposits")) == 1
    assert replace_cached_bodies("png", "mineral_deposits", b"cached png") == 1
    assert anonymous.get(url).content == b"cached png"

    load_vector_layer("mineral_deposits", [{**big[0], "geometry": box(0, 0, 1, 1)}], tmp_path)
    moved = anonymous.get(url)
    assert moved.status_code == 200 and moved.content != b"cached png"
    assert alpha_at(moved.content, *inside) == 0  # the new version has nothing here


def test_xyz_tiles_of_every_wms_layer(anonymous):
    listing = anonymous.get("/tiles").json()
    names = {layer["name"] for layer in listing["layers"]}
    assert {"basemap", "elevation", "above_tree_line", "proposals", "findings"} <= names
    assert {"municipalities", "mineral_deposits", "findings_conflict"} <= names
    basemap = next(layer for layer in listing["layers"] if layer["name"] == "basemap")
    assert basemap["templates"]["utm33n"].endswith("/tiles/basemap/utm33n/{z}/{y}/{x}.png")
    z, y, x = tile_of("utm33n", X0, Y0)
    tile = anonymous.get(f"/tiles/basemap/utm33n/{z - 3}/{y // 8}/{x // 8}.png")
    assert tile.status_code == 200
    image = Image.open(io.BytesIO(tile.content)).convert("RGB")
    assert image.size == (256, 256)
    assert len(image.getcolors(256 * 256)) > 1  # municipality boundaries and names on white
    for name in ("elevation", "findings"):  # a raster layer never loaded, and the group
        empty = anonymous.get(f"/tiles/{name}/WebMercatorQuad/{ZOOMS['WebMercatorQuad']}/0/0.png")
        assert empty.status_code == 200 and empty.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("url", "status", "mentions"),
    [
        ("/ogcapi/collections/mineral_deposits/tiles/NoSuchTMS", 404, "NoSuchTMS"),
        ("/ogcapi/collections/mineral_deposits/tiles/NoSuchTMS/0/0/0", 404, "NoSuchTMS"),
        ("/ogcapi/collections/nowhere/tiles", 404, "nowhere"),
        ("/ogcapi/collections/nowhere/tiles/WebMercatorQuad/0/0/0", 404, "nowhere"),
        ("/ogcapi/collections/tree_line/tiles/utm33n/0/0/0", 404, "tree_line"),  # a raster
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/25/0/0", 404, "25/0/0"),
        ("/ogcapi/collections/mineral_deposits/tiles/utm33n/19/0/0", 404, "19/0/0"),
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/1/2/0", 404, "1/2/0"),
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/1/0/2", 404, "1/0/2"),
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/a/0/0", 400, "tileMatrix"),
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/1/-1/0", 400, "tileRow"),
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/1/0/1e0", 400, "tileCol"),
        ("/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/1/0/01", 400, "tileCol"),
        ("/ogcapi/collections/mineral_deposits/map/tiles/utm33n/0/1/0", 404, "0/1/0"),
        ("/tiles/nowhere/WebMercatorQuad/0/0/0.png", 404, "nowhere"),
        ("/tiles/basemap/utm33n/0/0/x.png", 400, "tileCol"),
        ("/ogcapi/tileMatrixSets?color=red", 400, "color"),
    ],
)
def test_problems(anonymous, url, status, mentions):
    response = anonymous.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert mentions in response.json()["detail"]


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "utm33n"])
def test_every_collection_has_vector_tiles(anonymous, tms_id):
    """Each collection the OGC API lists answers its tiles (a collection without a cache stamp
    would be an error, not tiles that never renew)."""
    listed = anonymous.get("/ogcapi/collections").json()["collections"]
    z, y, x = tile_of(tms_id, X0, Y0)
    for entry in listed:
        answer = anonymous.get(f"/ogcapi/collections/{entry['id']}/tiles/{tms_id}/{z}/{y}/{x}")
        assert answer.status_code in (200, 204), (entry["id"], answer.text[:300])


def tile_url(z: int, y: int, x: int) -> str:
    return f"/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/{z}/{y}/{x}"


def test_empty_tiles_are_not_kept_and_the_cache_is_bounded(
    anonymous, override_settings, monkeypatch, tmp_path
):
    """Anyone may ask for any tile: empty ones are not stored, and past the limit the oldest
    tiles are deleted, so ever new tile addresses cannot fill the database."""
    load_vector_layer("mineral_deposits", squares("regional"), tmp_path)
    far = ZOOMS["WebMercatorQuad"]  # tile 0/0 of this level lies in the Arctic Ocean
    empty = anonymous.get(f"/ogcapi/collections/mineral_deposits/tiles/WebMercatorQuad/{far}/0/0")
    assert empty.status_code == 204
    assert (
        anonymous.get(f"/tiles/mineral_deposits/WebMercatorQuad/{far}/0/0.png").status_code == 200
    )
    assert cached_rows("mvt", "mineral_deposits") == []
    assert cached_rows("png", "mineral_deposits") == []

    tile_bytes = len(anonymous.get(tile_url(*tile_of("WebMercatorQuad", X0, Y0))).content)
    # Room for about four such tiles (the tiles up the levels are of much the same size).
    override_settings(tile_cache_max_mb=4.5 * tile_bytes / 1024 / 1024)
    monkeypatch.setattr(cache, "PRUNE_EVERY", 1)
    z, y, x = tile_of("WebMercatorQuad", X0, Y0)
    requested = []
    for up in range(7):  # the tiles holding the squares, from level z up to z - 6
        level, row, col = z - up, y >> up, x >> up
        assert anonymous.get(tile_url(level, row, col)).status_code == 200
        requested.append(level)
    with get_engine().connect() as connection:
        kept = connection.execute(
            text("SELECT z, length(body) FROM tile_cache ORDER BY created_at")
        ).all()
    assert sum(size for _, size in kept) <= 4.5 * tile_bytes
    levels = [level for level, _ in kept]
    assert levels[-1] == requested[-1]  # the newest tile stays; the oldest went first
    assert requested[0] not in levels


def test_a_check_finishing_after_a_newer_one_renews_the_findings_tiles(client, tmp_path):
    """A large plan's background check can finish after a newer quick check: its findings
    must still retire the cached findings tiles."""
    deposit = {"geometry": box(X0 + 50, Y0, X0 + 150, Y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [deposit], tmp_path)
    older = upload(client, cabin(X0, "BFR1"))
    assert client.post(f"{older}/checks").status_code == 201
    newer = upload(client, cabin(X0 + 300, "BFR2"))
    assert client.post(f"{newer}/checks").status_code == 201

    def findings_stamp() -> str:
        with get_sessionmaker()() as session:
            return stamps.vector_stamp(session, "findings", stamps.data_stamps(session))

    first = "(SELECT min(id) FROM plan_check)"
    with get_engine().begin() as connection:
        connection.execute(text(f"UPDATE plan_check SET status = 'running' WHERE id = {first}"))
    while_running = findings_stamp()
    with get_engine().begin() as connection:
        connection.execute(
            text(f"UPDATE plan_check SET status = 'done', finished_at = now() WHERE id = {first}")
        )
    assert findings_stamp() != while_running
