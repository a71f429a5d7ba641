"""Tiles: OGC API – Tiles over the OGC API collections, and XYZ raster tiles of every WMS layer.

- /ogcapi/tileMatrixSets[/{id}]: WebMercatorQuad and Kartverket's utm33n grid (OGC 2D TMS 2.0).
- /ogcapi/collections/{id}/tiles[/{tms}[/{z}/{y}/{x}]]: vector tilesets and Mapbox Vector
  Tiles made by PostGIS from the collection's public rows (as /ogcapi items serves them).
- /ogcapi/collections/{id}/map/tiles[/{tms}[/{z}/{y}/{x}]]: map tilesets and PNG tiles of
  the collection's WMS layer, drawn by the WMS renderer.
- /tiles and /tiles/{layer}/{tms}/{z}/{y}/{x}.png: PNG tiles of every WMS layer (raster
  layers and the base map too), for web maps (the map page) and XYZ clients.

Tiles are kept in the tile cache (app.tiles.cache) until the data or styles behind them
change. An empty vector tile is answered 204 No Content and an out-of-range tile 404, as
OGC API – Tiles /req/core/tc-error allows; a tile row, column or matrix that is not a whole
number is a 400.
"""

import re
import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.check_runner import get_rule_set
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.errors import RETRY_AFTER_S, problem_response
from app.ogcapi import InvalidParameterError
from app.routers import ogcapi
from app.routers.wms import render_gate, wms_error
from app.settings import Settings, get_settings
from app.tiles import cache, matrix_sets, stamps
from app.tiles import examples as ex
from app.tiles.raster import PNG, RasterLayer, is_blank, raster_layer, render_png
from app.tiles.vector import render_mvt
from app.urls import public_base_url
from app.wms.catalog import BASEMAP, FINDINGS_GROUP, wms_layers
from app.wms.pool import RendererBusyError
from layers.raster_files import RasterFileMissingError
from spatial.errors import NotFoundError
from spatial.messages import Text

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"
TILE_SIZE = 256
# app.http_cache gives 200 answers their ETag and Cache-Control (public data, a short max-age,
# then revalidation); an empty tile (204) gets the same kind of lifetime here.
EMPTY_TILE_CACHE_CONTROL = "public, max-age=60, must-revalidate"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
# ASCII digits without leading zeros: one spelling per tile, so HTTP caches hold each once.
_NUMBER = re.compile(r"0|[1-9][0-9]{0,8}")

TmsPath = Annotated[
    str, Path(description="tile matrix set: WebMercatorQuad or utm33n", examples=["utm33n"])
]
CollectionPath = Annotated[
    str, Path(description="collection id, as in /ogcapi/collections", examples=["proposals"])
]
TileMatrixPath = Annotated[str, Path(description="tile matrix (zoom level)", examples=["9"])]
TileRowPath = Annotated[str, Path(description="tile row (y), from the top", examples=["120"])]
TileColPath = Annotated[str, Path(description="tile column (x), from the left", examples=["270"])]


def _root(request: Request) -> str:
    return public_base_url(request, get_settings())


def _tms(tms_id: str) -> Any:
    found = matrix_sets.tile_matrix_sets().get(tms_id)
    if found is None:
        offered = ", ".join(matrix_sets.tile_matrix_sets())
        raise NotFoundError(
            Text(
                f"finner ikke flisrutenettet «{tms_id}»; tilbys: {offered}",
                f"no tile matrix set '{tms_id}'; offered: {offered}",
            )
        )
    return found


def _tile(tms_id: str, z: str, y: str, x: str) -> tuple[Any, int, int, int]:
    """Read a tile's address: 400 unless whole numbers, 404 outside the tile matrix set."""
    tms = _tms(tms_id)
    for name, value in (("tileMatrix", z), ("tileRow", y), ("tileCol", x)):
        if not _NUMBER.fullmatch(value):
            raise InvalidParameterError(
                Text(
                    f"{name} «{value[:20]}» må være et ikke-negativt heltall uten "
                    "innledende nuller",
                    f"{name} '{value[:20]}' must be a non-negative whole number without leading "
                    "zeros",
                )
            )
    zi, yi, xi = int(z), int(y), int(x)
    if not matrix_sets.in_range(tms, zi, yi, xi):
        raise NotFoundError(
            Text(
                f"flisen {zi}/{yi}/{xi} finnes ikke i {tms_id} (nivå {tms.minzoom}–{tms.maxzoom})",
                f"tile {zi}/{yi}/{xi} is outside {tms_id} (levels {tms.minzoom}–{tms.maxzoom})",
            )
        )
    return tms, zi, yi, xi


def _link(href: str, rel: str, media_type: str = JSON, title: str | None = None, **extra) -> dict:
    link = {"href": href, "rel": rel, "type": media_type, **extra}
    if title:
        link["title"] = title
    return link


def _crs_uri(tms: Any) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{matrix_sets.srid(tms)}"


# --- tile matrix sets ------------------------------------------------------------------------


@router.get(
    "/ogcapi/tileMatrixSets",
    summary="Tile matrix sets",
    responses=ex.json_responses(ex.TILE_MATRIX_SETS),
)
def list_tile_matrix_sets(request: Request, f: ogcapi.FormatQuery = None) -> JSONResponse:
    """List the tile matrix sets tiles are offered in."""
    ogcapi.check_params(request, set())
    ogcapi.check_format(f, "json")
    base = _root(request) + "/ogcapi/tileMatrixSets"
    items = []
    for tms_id, tms in matrix_sets.tile_matrix_sets().items():
        item = {
            "id": tms_id,
            "title": tms.title,
            "crs": _crs_uri(tms),
            "links": [_link(f"{base}/{tms_id}", "self", title="definition")],
        }
        if tms.uri:
            item["uri"] = tms.uri
        items.append(item)
    return JSONResponse(
        {"links": [_link(base, "self", title="this document")], "tileMatrixSets": items}
    )


@router.get(
    "/ogcapi/tileMatrixSets/{tile_matrix_set_id}",
    summary="A tile matrix set",
    responses=ex.json_responses(ex.TILE_MATRIX_SET, ex.NO_TILE_MATRIX_SET),
)
def get_tile_matrix_set(
    tile_matrix_set_id: TmsPath, request: Request, f: ogcapi.FormatQuery = None
) -> JSONResponse:
    """Return a tile matrix set as OGC 2D Tile Matrix Set 2.0 JSON."""
    ogcapi.check_params(request, set())
    ogcapi.check_format(f, "json")
    return JSONResponse(matrix_sets.definition(_tms(tile_matrix_set_id)))


# --- tilesets --------------------------------------------------------------------------------


def _tileset(
    request: Request,
    collection: ogcapi.Collection,
    tms_id: str,
    data_type: str,
    full: bool,
) -> dict[str, Any]:
    """A tileset's metadata (full) or its item in a tilesets list."""
    tms = _tms(tms_id)
    root = _root(request)
    collection_href = f"{root}/ogcapi/collections/{collection.id}"
    tiles_href = (
        f"{collection_href}/tiles" if data_type == "vector" else f"{collection_href}/map/tiles"
    )
    media_type = MVT if data_type == "vector" else PNG
    links = [
        _link(f"{tiles_href}/{tms_id}", "self", title=f"{collection.title}, {tms_id}"),
        _link(
            f"{root}/ogcapi/tileMatrixSets/{tms_id}",
            REL_TILING_SCHEME,
            title=f"the tile matrix set {tms_id}",
        ),
    ]
    body: dict[str, Any] = {"title": f"{collection.title} ({tms_id})", "dataType": data_type}
    body["crs"] = _crs_uri(tms)
    if tms.uri:
        body["tileMatrixSetURI"] = tms.uri
    if full:
        links += [
            _link(
                f"{tiles_href}/{tms_id}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
                "item",
                media_type,
                title="tiles",
                templated=True,
            ),
            # The same template with {z}/{y}/{x}, as XYZ clients (QGIS, Leaflet) take it.
            _link(
                f"{tiles_href}/{tms_id}/{{z}}/{{y}}/{{x}}",
                "item",
                media_type,
                title="tiles (XYZ template)",
                templated=True,
            ),
            _link(collection_href, REL_GEODATA, title="the collection"),
        ]
        body["mediaTypes"] = [media_type]
        body["description"] = collection.description
        if collection.attribution:
            body["attribution"] = collection.attribution
        if collection.license:
            body["license"] = collection.license
        if data_type == "vector":
            body["layers"] = [
                {"id": collection.id, "title": collection.title, "dataType": "vector"}
            ]
    body["links"] = links
    return body


def _tilesets_list(request: Request, session: Session, collection_id: str, data_type: str) -> dict:
    ogcapi.check_params(request, set())
    collection = ogcapi.find_collection(session, collection_id)
    path = "tiles" if data_type == "vector" else "map/tiles"
    href = f"{_root(request)}/ogcapi/collections/{collection_id}/{path}"
    return {
        "links": [_link(href, "self", title="this document")],
        "tilesets": [
            _tileset(request, collection, tms_id, data_type, full=False)
            for tms_id in matrix_sets.tile_matrix_sets()
        ],
    }


@router.get(
    "/ogcapi/collections/{collection_id}/tiles",
    summary="Vector tilesets of a collection",
    responses=ex.json_responses(ex.TILESETS, ex.NO_COLLECTION),
)
def vector_tilesets(
    collection_id: CollectionPath,
    request: Request,
    session: SessionDep,
    f: ogcapi.FormatQuery = None,
) -> JSONResponse:
    """List a collection's vector tilesets (one per tile matrix set)."""
    ogcapi.check_format(f, "json")
    return JSONResponse(_tilesets_list(request, session, collection_id, "vector"))


@router.get(
    "/ogcapi/collections/{collection_id}/tiles/{tile_matrix_set_id}",
    summary="A vector tileset of a collection",
    responses=ex.json_responses(ex.TILESET, ex.NO_COLLECTION, ex.NO_TILE_MATRIX_SET),
)
def vector_tileset(
    collection_id: CollectionPath,
    tile_matrix_set_id: TmsPath,
    request: Request,
    session: SessionDep,
    f: ogcapi.FormatQuery = None,
) -> JSONResponse:
    """Describe a collection's vector tiles in a tile matrix set, with the tile URL template."""
    ogcapi.check_params(request, set())
    ogcapi.check_format(f, "json")
    collection = ogcapi.find_collection(session, collection_id)
    return JSONResponse(_tileset(request, collection, tile_matrix_set_id, "vector", full=True))


@router.get(
    "/ogcapi/collections/{collection_id}/map/tiles",
    summary="Map tilesets of a collection",
    responses=ex.json_responses(ex.TILESETS, ex.NO_COLLECTION),
)
def map_tilesets(
    collection_id: CollectionPath,
    request: Request,
    session: SessionDep,
    f: ogcapi.FormatQuery = None,
) -> JSONResponse:
    """List a collection's map (PNG) tilesets (one per tile matrix set)."""
    ogcapi.check_format(f, "json")
    return JSONResponse(_tilesets_list(request, session, collection_id, "map"))


@router.get(
    "/ogcapi/collections/{collection_id}/map/tiles/{tile_matrix_set_id}",
    summary="A map tileset of a collection",
    responses=ex.json_responses(ex.TILESET, ex.NO_COLLECTION, ex.NO_TILE_MATRIX_SET),
)
def map_tileset(
    collection_id: CollectionPath,
    tile_matrix_set_id: TmsPath,
    request: Request,
    session: SessionDep,
    f: ogcapi.FormatQuery = None,
) -> JSONResponse:
    """Describe a collection's map tiles in a tile matrix set, with the tile URL template."""
    ogcapi.check_params(request, set())
    ogcapi.check_format(f, "json")
    collection = ogcapi.find_collection(session, collection_id)
    return JSONResponse(_tileset(request, collection, tile_matrix_set_id, "map", full=True))


# --- vector tiles ----------------------------------------------------------------------------


@router.get(
    "/ogcapi/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="A vector tile (Mapbox Vector Tile)",
    response_class=Response,
    responses=ex.tile_responses(
        MVT, ex.NOT_A_NUMBER, ex.NO_COLLECTION, ex.OUT_OF_RANGE, ex.NO_TILE_MATRIX_SET, empty=True
    ),
)
def vector_tile(
    collection_id: CollectionPath,
    tile_matrix_set_id: TmsPath,
    tile_matrix: TileMatrixPath,
    tile_row: TileRowPath,
    tile_col: TileColPath,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Return a collection's features in one tile as a Mapbox Vector Tile (layer: its id)."""
    tms, z, y, x = _tile(tile_matrix_set_id, tile_matrix, tile_row, tile_col)
    stamp = stamps.vector_stamp(session, collection_id, stamps.data_stamps(session))
    key = cache.TileKey(cache.VECTOR, collection_id, tile_matrix_set_id, z, y, x)
    # Only tiles of existing collections are ever stored, so a hit needs no collection lookup.
    found = cache.lookup(session, key, stamp)
    body = found.body
    if body is None:
        collection = ogcapi.find_collection(session, collection_id)
        bounds = matrix_sets.tile_bounds(tms, z, y, x)
        body = render_mvt(session, collection.source, collection.id, bounds)
        if body:
            cache.store(session, key, stamp, body, found.stale, settings.tile_cache_max_bytes)
    if not body:
        return Response(status_code=204, headers={"Cache-Control": EMPTY_TILE_CACHE_CONTROL})
    return Response(body, media_type=MVT)


# --- raster tiles ----------------------------------------------------------------------------


def _raster_plan(
    session: Session, settings: Settings, name: str, tms_id: str, z: int, y: int, x: int
) -> tuple[RasterLayer, cache.TileKey, str, cache.Lookup]:
    """Find the layer, its stamp and what the cache holds (in a worker thread)."""
    catalog = wms_layers(session, settings, get_rule_set(settings))
    layer = raster_layer(catalog, name)
    if layer is None:
        raise NotFoundError(
            Text(
                f"kartlaget «{name}» tilbys ikke; se /tiles",
                f"layer '{name}' is not offered; see /tiles",
            )
        )
    for member, _ in layer.styled:
        # As the WMS: drawn without its file, the tile would say "no data here".
        if member.kind == "raster" and member.raster_file and not member.raster_file.is_file():
            raise RasterFileMissingError(
                Text(
                    f"rasterfila til kartlaget {member.name} mangler: {member.raster_file.name}; "
                    "flisen kan ikke tegnes før fila er gjenopprettet eller kartlaget er "
                    "lastet på nytt",
                    f"the raster file of layer {member.name} is missing: "
                    f"{member.raster_file.name}; the tile cannot be drawn until the file is "
                    "restored or the layer loaded again",
                )
            )
    stamp = stamps.raster_stamp(layer.styled, stamps.data_stamps(session))
    key = cache.TileKey(cache.RASTER, name, tms_id, z, y, x)
    return layer, key, stamp, cache.lookup(session, key, stamp)


async def _raster_tile(
    request: Request,
    session: Session,
    settings: Settings,
    name: str,
    tms_id: str,
    z: str,
    y: str,
    x: str,
) -> Response:
    """A PNG tile of a WMS layer, from the cache or drawn in the render pool."""
    tms, zi, yi, xi = _tile(tms_id, z, y, x)
    queue_deadline = time.monotonic() + settings.wms_queue_timeout_s
    layer, key, stamp, found = await run_in_threadpool(
        _raster_plan, session, settings, name, tms_id, zi, yi, xi
    )
    if found.body is not None:
        return Response(found.body, media_type=PNG)
    bounds = matrix_sets.tile_bounds(tms, zi, yi, xi)
    background = "#ffffff" if name == BASEMAP else None
    # As /wms: waiting for a renderer holds no thread (app.routers.wms.render_gate).
    gate = render_gate(request, settings)
    try:
        with anyio.move_on_after(max(0.0, queue_deadline - time.monotonic())) as waiting:
            await gate.acquire()
        if waiting.cancelled_caught:
            raise RendererBusyError("every map renderer is busy; try again shortly")
        try:
            body = await run_in_threadpool(
                render_png, layer, bounds, TILE_SIZE, settings, queue_deadline, background
            )
        finally:
            gate.release()
    except Exception as exc:
        status = wms_error(exc, request).status
        if status != 503:
            raise
        response = problem_response(
            503,
            Text(
                "flisen kan ikke tegnes akkurat nå; prøv igjen om litt",
                "the tile cannot be drawn right now; try again shortly",
            ),
            "service-unavailable",
            request.url.path,
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if not is_blank(body):
        await run_in_threadpool(
            cache.store, session, key, stamp, body, found.stale, settings.tile_cache_max_bytes
        )
    return Response(body, media_type=PNG)


@router.get(
    "/ogcapi/collections/{collection_id}/map/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="A map tile (PNG)",
    response_class=Response,
    responses=ex.tile_responses(
        PNG, ex.NOT_A_NUMBER, ex.NO_COLLECTION, ex.OUT_OF_RANGE, ex.NO_TILE_MATRIX_SET
    ),
)
async def map_tile(
    collection_id: CollectionPath,
    tile_matrix_set_id: TmsPath,
    tile_matrix: TileMatrixPath,
    tile_row: TileRowPath,
    tile_col: TileColPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Return a collection's map tile: its WMS layer drawn in 256 × 256 px, transparent."""
    await run_in_threadpool(ogcapi.find_collection, session, collection_id)
    return await _raster_tile(
        request,
        session,
        settings,
        collection_id,
        tile_matrix_set_id,
        tile_matrix,
        tile_row,
        tile_col,
    )


@router.get(
    "/tiles",
    summary="XYZ tile templates of the WMS layers",
    responses=ex.json_responses(ex.XYZ_LAYERS),
)
def xyz_layers(request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """List every WMS layer (and the findings group) with its PNG tile template per tile
    matrix set."""
    catalog = wms_layers(session, settings, get_rule_set(settings))
    root = _root(request)
    layers = []
    for name in [*catalog, FINDINGS_GROUP]:
        layer = raster_layer(catalog, name)
        assert layer is not None
        templates = {
            tms_id: f"{root}/tiles/{name}/{tms_id}/{{z}}/{{y}}/{{x}}.png"
            for tms_id in matrix_sets.tile_matrix_sets()
        }
        layers.append({"name": name, "title": layer.title, "templates": templates})
    return JSONResponse(
        {
            "tileMatrixSets": f"{root}/ogcapi/tileMatrixSets",
            "tileSize": TILE_SIZE,
            "layers": layers,
        }
    )


@router.get(
    "/tiles/{layer}/{tile_matrix_set_id}/{z}/{y}/{x}.png",
    summary="A PNG tile of a WMS layer (XYZ)",
    response_class=Response,
    responses=ex.tile_responses(
        PNG, ex.NOT_A_NUMBER, ex.NO_LAYER, ex.OUT_OF_RANGE, ex.NO_TILE_MATRIX_SET
    ),
)
async def xyz_tile(
    layer: Annotated[str, Path(description="a WMS layer name", examples=["basemap"])],
    tile_matrix_set_id: TmsPath,
    z: TileMatrixPath,
    y: TileRowPath,
    x: TileColPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Return a WMS layer's tile, drawn 256 × 256 px as GetMap draws it (transparent)."""
    return await _raster_tile(request, session, settings, layer, tile_matrix_set_id, z, y, x)
