"""Rendered tiles kept in PostgreSQL (table tile_cache), shared by every replica of the service.

A tile is stored with the stamp of what it was made from (app.tiles.stamps). A tile is served
from the cache only while its stamp is the current one; once the data or styles change, the
stamp changes, the tile is made again and the tiles of older stamps of that layer are deleted.

Anyone may ask for any tile, so what is kept is bounded: empty tiles (no feature, or a fully
transparent image) are not stored, since they cost little to make again, and the cache holds
at most `tile_cache_max_mb` of tiles; past that the oldest are deleted (OWASP API4:2023,
unrestricted resource consumption).
"""

from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import TileCacheOrm

VECTOR = "mvt"
RASTER = "png"


@dataclass(frozen=True)
class TileKey:
    """Which tile: vector or raster, of which layer, in which tile matrix set, where."""

    kind: str
    layer: str
    tile_matrix_set: str
    z: int
    y: int
    x: int


@dataclass
class Lookup:
    """What the cache holds for a tile: the body if current, and whether an older one is kept."""

    body: bytes | None
    stale: bool


# The stamp each (kind, layer) was last swept for in this process: the sweep runs once per
# change of stamp here, and again whenever a request finds a tile of an older stamp (which a
# replica that has not swept yet leaves behind).
_swept: dict[tuple[str, str], str] = {}


def _where(key: TileKey) -> tuple:
    return (
        TileCacheOrm.kind == key.kind,
        TileCacheOrm.layer == key.layer,
        TileCacheOrm.tile_matrix_set == key.tile_matrix_set,
        TileCacheOrm.z == key.z,
        TileCacheOrm.x == key.x,
        TileCacheOrm.y == key.y,
    )


def lookup(session: Session, key: TileKey, stamp: str) -> Lookup:
    """Return the cached tile if it was made from the current stamp."""
    row = session.execute(
        select(TileCacheOrm.stamp, TileCacheOrm.body).where(*_where(key))
    ).one_or_none()
    if row is None:
        return Lookup(None, stale=False)
    if row.stamp != stamp:
        return Lookup(None, stale=True)
    return Lookup(bytes(row.body), stale=False)


# The cache's size is counted after this many stores in a process, not after every one.
PRUNE_EVERY = 100
# Pruning deletes down to this share of the limit, so it is not needed again at once.
PRUNE_TO = 0.9
_stores_since_count = 0


def prune(session: Session, max_bytes: int) -> int:
    """Delete the oldest tiles while the cache holds more than `max_bytes`; return how many."""
    # length() of a stored bytea reads its size from the row, not the value out of TOAST.
    held = session.execute(
        select(func.coalesce(func.sum(func.length(TileCacheOrm.body)), 0))
    ).scalar_one()
    if held <= max_bytes:
        return 0
    deleted = session.execute(
        text(
            "DELETE FROM tile_cache WHERE ctid = ANY(ARRAY(SELECT ctid FROM ("
            "SELECT ctid, sum(length(body)) OVER (ORDER BY created_at DESC, ctid) AS newer "
            "FROM tile_cache) AS t WHERE newer > :keep))"
        ),
        {"keep": int(max_bytes * PRUNE_TO)},
    ).rowcount
    session.commit()
    return deleted


def store(
    session: Session, key: TileKey, stamp: str, body: bytes, stale: bool, max_bytes: int
) -> None:
    """Keep a tile made from `stamp`; delete the layer's tiles of other stamps when due, and
    the oldest tiles when the cache holds over `max_bytes`."""
    global _stores_since_count
    values = {"stamp": stamp, "body": body}
    session.execute(
        insert(TileCacheOrm)
        .values(
            kind=key.kind,
            layer=key.layer,
            tile_matrix_set=key.tile_matrix_set,
            z=key.z,
            x=key.x,
            y=key.y,
            **values,
        )
        .on_conflict_do_update(
            index_elements=["kind", "layer", "tile_matrix_set", "z", "x", "y"], set_=values
        )
    )
    if stale or _swept.get((key.kind, key.layer)) != stamp:
        session.execute(
            delete(TileCacheOrm).where(
                TileCacheOrm.kind == key.kind,
                TileCacheOrm.layer == key.layer,
                TileCacheOrm.stamp != stamp,
            )
        )
        _swept[(key.kind, key.layer)] = stamp
    session.commit()
    _stores_since_count += 1
    if _stores_since_count >= PRUNE_EVERY:
        _stores_since_count = 0
        prune(session, max_bytes)
