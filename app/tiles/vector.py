"""Mapbox Vector Tiles of a feature collection, made by PostGIS (ST_AsMVTGeom, ST_AsMVT).

The rows are those of the OGC API – Features collection (app.repositories.ogcapi
FeatureSource: the current layer version, published proposals' latest versions, the latest
finished checks), with the same properties. The tile's box is transformed to the storage
CRS once per query, densified so the curved edges of a Web Mercator or UTM 33 tile in UTM 32
stay inside it, and widened by the tile buffer: `geom && box` then uses the GiST index.
"""

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from app.repositories.ogcapi import FeatureSource
from app.tiles.matrix_sets import TileBounds
from spatial.crs import CANONICAL_SRID

# MVT 2.1 §4.3.1: the default extent, 4096 units across a tile.
EXTENT = 4096
# Units of the tile drawn outside it on every side, so that lines and outlines meet across
# tile edges (PostGIS's default for ST_AsMVTGeom).
BUFFER = 256
# Points per tile edge when the box is reprojected: ~0.1 % of a tile at most lies outside.
DENSIFY = 16


def _search_box(bounds: TileBounds):
    """The tile with its buffer, as a box in the storage CRS (a constant of the query)."""
    margin = (bounds.maxx - bounds.minx) * BUFFER / EXTENT
    tile = func.ST_MakeEnvelope(
        bounds.minx - margin,
        bounds.miny - margin,
        bounds.maxx + margin,
        bounds.maxy + margin,
        bounds.srid,
    )
    step = (bounds.maxx - bounds.minx) / DENSIFY
    return func.ST_Envelope(func.ST_Transform(func.ST_Segmentize(tile, step), CANONICAL_SRID))


def mvt_query(source: FeatureSource, layer_name: str, bounds: TileBounds):
    """The query returning one MVT (bytea; empty when no feature meets the tile)."""
    envelope = func.ST_MakeEnvelope(bounds.minx, bounds.miny, bounds.maxx, bounds.maxy, bounds.srid)
    # A scalar subquery is computed once (an InitPlan), and its value is an index condition.
    box = select(_search_box(bounds)).scalar_subquery()
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
        .where(*source.conditions, source.geom.op("&&")(box))
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
    return bytes(session.execute(mvt_query(source, layer_name, bounds)).scalar_one())
