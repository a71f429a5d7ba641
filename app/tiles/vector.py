"""Mapbox Vector Tiles of a feature collection, made by PostGIS (ST_AsMVTGeom, ST_AsMVT).

The rows are those of the OGC API – Features collection (app.repositories.ogcapi
FeatureSource: the current layer version, published proposals' latest versions, the latest
finished checks), with the same properties. The tile's box, widened by the tile buffer, is
turned into a box in the storage CRS before the query (as the `bbox` parameter is: clipped to
where UTM zone 32 is defined, densified so the curved edges of a Web Mercator or UTM 33 tile
stay inside it), so `geom && box` compares with a constant and uses the GiST index; a tile
wholly outside that domain (most of the world at zoom levels 0–3) is empty without a query.
"""

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from app.dependencies import bbox_region
from app.repositories.ogcapi import FeatureSource
from app.tiles.matrix_sets import TileBounds
from spatial.crs import CANONICAL_SRID, parse_crs

# MVT 2.1 §4.3.1: the default extent, 4096 units across a tile.
EXTENT = 4096
# Units of the tile drawn outside it on every side, so that lines and outlines meet across
# tile edges (PostGIS's default for ST_AsMVTGeom).
BUFFER = 256


def search_box(bounds: TileBounds) -> tuple[float, float, float, float] | None:
    """The tile with its buffer as a box in the storage CRS; None where no stored feature can
    be (outside the storage CRS's domain)."""
    margin = (bounds.maxx - bounds.minx) * BUFFER / EXTENT
    tile = (bounds.minx - margin, bounds.miny - margin, bounds.maxx + margin, bounds.maxy + margin)
    region = bbox_region(tile, parse_crs(f"EPSG:{bounds.srid}"))
    return None if region.is_empty else region.bounds


def mvt_query(
    source: FeatureSource,
    layer_name: str,
    bounds: TileBounds,
    box: tuple[float, float, float, float],
):
    """The query returning one MVT (bytea; empty when no feature meets the tile), reading the
    features within `box` (the tile's search_box)."""
    envelope = func.ST_MakeEnvelope(bounds.minx, bounds.miny, bounds.maxx, bounds.maxy, bounds.srid)
    search = func.ST_MakeEnvelope(*box, CANONICAL_SRID)
    geometry = func.ST_AsMVTGeom(
        func.ST_Transform(source.geom, bounds.srid), envelope, EXTENT, BUFFER, True
    )
    columns = [*source.properties]
    if source.numeric_ids:
        columns.insert(0, source.fid.label("ogc_fid"))
    if source.attributes is not None:
        # ST_AsMVT writes each key of a jsonb column as a property of its own.
        columns.append(source.attributes.label("ogc_attributes"))
    rows = (
        select(*columns, geometry.label("mvt_geom"))
        .where(*source.conditions, source.geom.op("&&")(search))
        .subquery("tile")
    )
    feature_id = "ogc_fid" if source.numeric_ids else None
    mvt = func.ST_AsMVT(
        rows.table_valued(), literal(layer_name), EXTENT, literal("mvt_geom"), literal(feature_id)
    )
    return select(func.coalesce(mvt, b"")).select_from(rows)


def render_mvt(
    session: Session, source: FeatureSource, layer_name: str, bounds: TileBounds
) -> bytes:
    """Make the vector tile of a collection for a tile's bounds."""
    box = search_box(bounds)
    if box is None:
        return b""
    return bytes(session.execute(mvt_query(source, layer_name, bounds, box)).scalar_one())
