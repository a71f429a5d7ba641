"""The tile matrix sets tiles are offered in (OGC 2D Tile Matrix Set 2.0), built with morecantile.

WebMercatorQuad is OGC's registered set, as morecantile ships it. `utm33n` is the grid of
Kartverket's tile caches in EUREF89 / UTM zone 33 (EPSG:25833), so that tiles line up with
the Norwegian base maps: origin (-2,500,000, 9,045,984), 256 px tiles, level 0 one tile of
21,664 m pixels (scale denominator 77,371,428.57 at OGC's 0.28 mm pixel), halving per level
to level 18, square extent -2,500,000, 3,500,000, 3,045,984, 9,045,984. Sources: the
matrices Kartverket's own Norgeskart sends for its `utm33n` cache (kartverket/norgeskart3,
src/app/components/transclusions/menuPrint/menuPrint.controller.js at 7f43c355, levels 0-18
with topLeftCorner [-2500000, 9045984] and matrix size 2^z), and Kartverket's published
extents (sverres/NTNU-GEO3141-2018, notes/WMTS-kartflisinndelinger.md, "UTM33 -2500000
3500000 3045984 9045984").
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import morecantile
from pyproj import CRS

WEB_MERCATOR_QUAD = "WebMercatorQuad"
UTM33N = "utm33n"
UTM33N_EXTENT = (-2_500_000.0, 3_500_000.0, 3_045_984.0, 9_045_984.0)
UTM33N_MAX_ZOOM = 18


@dataclass(frozen=True)
class TileBounds:
    """A tile's extent in its tile matrix set's CRS (x first) and that CRS's EPSG code."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int


@lru_cache(maxsize=1)
def tile_matrix_sets() -> dict[str, morecantile.TileMatrixSet]:
    """The tile matrix sets offered, by id."""
    utm33n = morecantile.TileMatrixSet.custom(
        list(UTM33N_EXTENT),
        CRS.from_epsg(25833),
        id=UTM33N,
        title="EUREF89 / UTM sone 33N, Kartverkets flisnett (cache.kartverket.no utm33n)",
        minzoom=0,
        maxzoom=UTM33N_MAX_ZOOM,
        ordered_axes=["E", "N"],
    )
    return {WEB_MERCATOR_QUAD: morecantile.tms.get(WEB_MERCATOR_QUAD), UTM33N: utm33n}


# The EPSG code of each set's CRS, as PostGIS names it.
SRIDS = {WEB_MERCATOR_QUAD: 3857, UTM33N: 25833}


def srid(tms: morecantile.TileMatrixSet) -> int:
    """The EPSG code of a tile matrix set's CRS."""
    return SRIDS[str(tms.id)]


def in_range(tms: morecantile.TileMatrixSet, z: int, y: int, x: int) -> bool:
    """Tell whether tile matrix z has a tile at row y, column x."""
    if not tms.minzoom <= z <= tms.maxzoom:
        return False
    matrix = tms.matrix(z)
    return 0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight


def tile_bounds(tms: morecantile.TileMatrixSet, z: int, y: int, x: int) -> TileBounds:
    """The extent of a tile (which must be in range) in the tile matrix set's CRS."""
    box = tms.xy_bounds(morecantile.Tile(x, y, z))
    return TileBounds(box.left, box.bottom, box.right, box.top, srid(tms))


def definition(tms: morecantile.TileMatrixSet) -> dict[str, Any]:
    """The tile matrix set as OGC 2D Tile Matrix Set 2.0 JSON."""
    return json.loads(tms.model_dump_json(exclude_none=True))
