"""Examples of the tile endpoints' answers for the API documentation (English callers)."""

from typing import Any

from app.openapi_examples.common import ProblemExample, example_response, problem, problems
from app.tiles import matrix_sets

BASE = "https://arealsjekk.example.no"
MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"


def _utm33n_first_levels() -> dict[str, Any]:
    definition = matrix_sets.definition(matrix_sets.tile_matrix_sets()[matrix_sets.UTM33N])
    return {**definition, "tileMatrices": definition["tileMatrices"][:2]}


TILE_MATRIX_SETS = {
    "links": [{"href": f"{BASE}/ogcapi/tileMatrixSets", "rel": "self", "type": "application/json"}],
    "tileMatrixSets": [
        {
            "id": "WebMercatorQuad",
            "title": "Google Maps Compatible for the World",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "links": [{"href": f"{BASE}/ogcapi/tileMatrixSets/WebMercatorQuad", "rel": "self"}],
        },
        {
            "id": "utm33n",
            "title": "EUREF89 / UTM sone 33N, Kartverkets flisnett (cache.kartverket.no utm33n)",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/25833",
            "links": [{"href": f"{BASE}/ogcapi/tileMatrixSets/utm33n", "rel": "self"}],
        },
    ],
}
TILE_MATRIX_SET = _utm33n_first_levels()
_TILES = f"{BASE}/ogcapi/collections/proposals/tiles"
TILESETS = {
    "links": [{"href": _TILES, "rel": "self", "type": "application/json"}],
    "tilesets": [
        {
            "title": "Planforslag (siste versjon) (utm33n)",
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/25833",
            "links": [
                {"href": f"{_TILES}/utm33n", "rel": "self", "type": "application/json"},
                {"href": f"{BASE}/ogcapi/tileMatrixSets/utm33n", "rel": TILING_SCHEME},
            ],
        }
    ],
}
TILESET = {
    "title": "Planforslag (siste versjon) (utm33n)",
    "dataType": "vector",
    "crs": "http://www.opengis.net/def/crs/EPSG/0/25833",
    "mediaTypes": [MVT],
    "layers": [{"id": "proposals", "title": "Planforslag (siste versjon)", "dataType": "vector"}],
    "links": [
        {"href": f"{_TILES}/utm33n", "rel": "self", "type": "application/json"},
        {"href": f"{BASE}/ogcapi/tileMatrixSets/utm33n", "rel": TILING_SCHEME},
        {
            "href": f"{_TILES}/utm33n/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
            "rel": "item",
            "type": MVT,
            "templated": True,
        },
        {
            "href": f"{_TILES}/utm33n/{{z}}/{{y}}/{{x}}",
            "rel": "item",
            "type": MVT,
            "templated": True,
        },
    ],
}
XYZ_LAYERS = {
    "tileMatrixSets": f"{BASE}/ogcapi/tileMatrixSets",
    "tileSize": 256,
    "layers": [
        {
            "name": "basemap",
            "title": "Bakgrunnskart (eget, frakoblet)",
            "templates": {
                "WebMercatorQuad": f"{BASE}/tiles/basemap/WebMercatorQuad/{{z}}/{{y}}/{{x}}.png",
                "utm33n": f"{BASE}/tiles/basemap/utm33n/{{z}}/{{y}}/{{x}}.png",
            },
        }
    ],
}

NO_TILE_MATRIX_SET = problem(
    404,
    "not-found",
    "no tile matrix set 'EPSG:25833'; offered: WebMercatorQuad, utm33n",
    "/ogcapi/collections/proposals/tiles/EPSG:25833",
    summary="No such tile matrix set",
)
NO_COLLECTION = problem(
    404,
    "not-found",
    "no collection 'skoggrense'; see /ogcapi/collections",
    "/ogcapi/collections/skoggrense/tiles",
    summary="No such collection",
)
OUT_OF_RANGE = problem(
    404,
    "not-found",
    "tile 19/0/0 is outside utm33n (levels 0–18)",
    "/ogcapi/collections/proposals/tiles/utm33n/19/0/0",
    summary="The tile is outside the tile matrix set",
)
NOT_A_NUMBER = problem(
    400,
    "bad-request",
    "tileRow 'a' must be a non-negative whole number",
    "/ogcapi/collections/proposals/tiles/utm33n/9/a/270",
    summary="A tile matrix, row or column that is not a whole number",
)
NO_LAYER = problem(
    404,
    "not-found",
    "layer 'skoggrense' is not offered; see /tiles",
    "/tiles/skoggrense/WebMercatorQuad/9/150/270.png",
    summary="No such WMS layer",
)


def json_responses(example: Any, *errors: ProblemExample) -> dict:
    """`responses=` of a JSON endpoint: its example and its problems."""
    return {200: example_response(example), **problems(*errors)}


def tile_responses(media_type: str, *errors: ProblemExample, empty: bool = False) -> dict:
    """`responses=` of a tile endpoint: the binary tile, 204 for an empty one, its problems."""
    responses: dict[int | str, Any] = {
        200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}},
        **problems(*errors),
    }
    if empty:
        responses[204] = {"description": "No feature of the collection meets the tile"}
    return responses
