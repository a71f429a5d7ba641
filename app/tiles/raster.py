"""Raster tiles (PNG) of the WMS layers, drawn by the WMS renderer (app.wms.render).

A tile is a 256 px GetMap of the tile's box in the tile matrix set's CRS, transparent
around the data. Labels need no metatiles: the renderer draws the features a buffer around
the map too (the base map's LABEL_BUFFER_PX) and places municipality names on a fixed grid,
so neighbouring tiles draw a name the same way.
"""

import io
from dataclasses import dataclass

from PIL import Image

from app.settings import Settings
from app.tiles.matrix_sets import TileBounds
from app.wms.catalog import FINDINGS_GROUP, WmsLayer
from app.wms.render import render_map

PNG = "image/png"


@dataclass(frozen=True)
class RasterLayer:
    """A WMS layer (or group) to draw as tiles, with each member's styles."""

    name: str
    title: str
    styled: list[tuple[WmsLayer, tuple[str, ...]]]


def raster_layer(catalog: dict[str, WmsLayer], name: str) -> RasterLayer | None:
    """The WMS layer (or the findings group) of a name, as GetMap with default styles draws it."""
    if name == FINDINGS_GROUP:
        # Least serious first, so conflicts are drawn on top (as the WMS draws the group).
        members = [x for x in catalog.values() if x.group == FINDINGS_GROUP]
        styled = [(layer, layer.styles) for layer in reversed(members)]
        return RasterLayer(name, "Funn (siste kontroll)", styled)
    layer = catalog.get(name)
    if layer is None:
        return None
    return RasterLayer(name, layer.title, [(layer, layer.styles)])


def render_png(
    layer: RasterLayer,
    bounds: TileBounds,
    size: int,
    settings: Settings,
    queue_deadline: float,
    background: str | None = None,
) -> bytes:
    """Draw one tile in the render pool (raises app.wms.pool.RenderError when it cannot)."""
    return render_map(
        layer.styled,
        f"epsg:{bounds.srid}",
        (bounds.minx, bounds.miny, bounds.maxx, bounds.maxy),
        size,
        size,
        settings.database_url,
        background,
        settings=settings,
        queue_deadline=queue_deadline,
    )


def is_blank(png: bytes) -> bool:
    """Tell whether a PNG tile is fully transparent (nothing drawn: not worth keeping)."""
    with Image.open(io.BytesIO(png)) as image:
        if "A" not in image.getbands() and "transparency" not in image.info:
            return False
        alpha = image.convert("RGBA").getchannel("A")
        return alpha.getextrema()[1] == 0
