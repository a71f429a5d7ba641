"""Guideline layers read from PostGIS and the raster directory, for the rule engine."""

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ARRAY, BigInteger, Row, Select, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from db.models import LayerFeatureOrm, LayerVersionOrm
from layers.raster_files import raster_file_missing
from spatial.crs import CANONICAL_SRID
from spatial.rules.model import LayerFeature


class PostgisLayerSource:
    """Reads each layer at one version: the current one, or one pinned for a re-run."""

    def __init__(self, session: Session, raster_dir: Path, pinned: Mapping[str, int] | None = None):
        self._session = session
        self._raster_dir = raster_dir
        self._pinned = dict(pinned or {})
        self._versions: dict[str, LayerVersionOrm | None] = {}
        self._current_loaded = False

    def _version_row(self, layer_id: str) -> LayerVersionOrm | None:
        if layer_id not in self._versions:
            if layer_id in self._pinned:
                row = self._session.execute(
                    select(LayerVersionOrm).where(
                        LayerVersionOrm.layer_id == layer_id,
                        LayerVersionOrm.version == self._pinned[layer_id],
                    )
                ).scalar_one_or_none()
                self._versions[layer_id] = row
            else:
                self._load_current_versions()
                self._versions.setdefault(layer_id, None)  # never loaded
        return self._versions[layer_id]

    def _load_current_versions(self) -> None:
        """Read the newest version of every layer in one query (a check asks for ~14)."""
        if self._current_loaded:
            return
        rows = self._session.execute(
            select(LayerVersionOrm)
            .ext(distinct_on(LayerVersionOrm.layer_id))
            .order_by(LayerVersionOrm.layer_id, LayerVersionOrm.version.desc())
        ).scalars()
        for row in rows:
            if row.layer_id not in self._pinned:
                self._versions.setdefault(row.layer_id, row)
        self._current_loaded = True

    def version(self, layer_id: str) -> int | None:
        """Return the version used for a layer, or None if it is not loaded."""
        row = self._version_row(layer_id)
        return None if row is None else row.version

    def features(
        self,
        layer_id: str,
        area: BaseGeometry,
        where: Mapping[str, Collection[str]] | None = None,
    ) -> list[LayerFeature]:
        """Return features whose bounding box meets the bounding box of `area`, in id order.

        `where` keeps only features whose text attribute has one of the given values
        (filtered in the database, so unwanted features are never transferred or parsed).
        """
        row = self._version_row(layer_id)
        if row is None or area.is_empty:
            return []
        query = _feature_query(row.id, area.bounds, where)
        return _parsed(self._session.execute(query).all())

    def features_near(
        self,
        layer_id: str,
        geometries: Sequence[BaseGeometry],
        reach_m: float,
        where: Mapping[str, Collection[str]] | None = None,
    ) -> list[LayerFeature]:
        """Return features whose bounding box comes within `reach_m` of the bounding box of
        one of `geometries`, in id order.

        The areas of a kommuneplan spread over the municipality: a box around them all
        holds about four times the features any area reaches. So for many areas the boxes
        of the features in that box are read first, matched to the areas' boxes here, and
        only the features that meet one are read whole. For a few areas (a
        reguleringsplan) one read of the box around them costs less than two.
        """
        row = self._version_row(layer_id)
        boxes = shapely.bounds(np.asarray(geometries, dtype=object)).reshape(-1, 4)
        boxes = boxes[~np.isnan(boxes).any(axis=1)] + (-reach_m, -reach_m, reach_m, reach_m)
        if row is None or not len(boxes):
            return []
        around = (*boxes[:, :2].min(axis=0).tolist(), *boxes[:, 2:].max(axis=0).tolist())
        if len(boxes) <= ONE_READ_MAX_AREAS:
            features = _parsed(self._session.execute(_feature_query(row.id, around, where)).all())
            bounds = shapely.bounds(np.asarray([f.geometry for f in features], dtype=object))
            return [f for f, meets in zip(features, _meeting(bounds, boxes), strict=True) if meets]
        candidates = self._session.execute(
            _feature_query(row.id, around, where, columns=_BOX_COLUMNS)
        ).all()
        meets = _meeting(np.array([c[1:] for c in candidates]).reshape(-1, 4), boxes)
        ids = [c.id for c, hit in zip(candidates, meets, strict=True) if hit]
        if not ids:
            return []
        # One array parameter, not an IN list of thousands of parameters.
        wanted = bindparam("ids", ids, type_=ARRAY(BigInteger))
        query = _feature_query(row.id, None, None).where(LayerFeatureOrm.id == any_(wanted))
        return _parsed(self._session.execute(query).all())

    def raster_path(self, layer_id: str) -> Path | None:
        """Return the COG of a raster layer's version, or None if not loaded; raise
        RasterFileMissingError (naming the layer) if the version's file is not on disk."""
        row = self._version_row(layer_id)
        if row is None or row.raster_file is None:
            return None
        path = self._raster_dir / row.raster_file
        # A loaded layer whose file is gone is not "not loaded": the check must not run
        # without it (as unknown findings) nor fail deep inside GDAL.
        if not path.is_file():
            raise raster_file_missing(layer_id, row.version, row.raster_file)
        return path


# Up to this many areas, features_near reads the box around them all in one query.
ONE_READ_MAX_AREAS = 100
_FEATURE_COLUMNS = (
    LayerFeatureOrm.id,
    LayerFeatureOrm.source_fid,
    LayerFeatureOrm.attributes,
    # Raw EWKB, parsed in one vectorised call (`_parsed`) rather than row by row.
    func.ST_AsEWKB(LayerFeatureOrm.geom).label("wkb"),
)
# The bounding box PostGIS keeps in each geometry's header (read without parsing it).
_BOX_COLUMNS = (
    LayerFeatureOrm.id,
    func.ST_XMin(LayerFeatureOrm.geom),
    func.ST_YMin(LayerFeatureOrm.geom),
    func.ST_XMax(LayerFeatureOrm.geom),
    func.ST_YMax(LayerFeatureOrm.geom),
)


def _feature_query(
    version_id: int,
    bounds: tuple[float, float, float, float] | None,
    where: Mapping[str, Collection[str]] | None,
    columns: tuple = _FEATURE_COLUMNS,
) -> Select:
    """Select the features of a layer version whose box meets `bounds`, filtered by `where`."""
    query = select(*columns).where(LayerFeatureOrm.layer_version_id == version_id)
    if bounds is not None:
        # A bbox literal in the column's SRID keeps the GiST index usable.
        envelope = func.ST_MakeEnvelope(*bounds, CANONICAL_SRID)
        query = query.where(LayerFeatureOrm.geom.op("&&")(envelope))
    for name, values in (where or {}).items():
        # Containment (not ->>) so that the GIN index on attributes can answer it.
        query = query.where(
            or_(*(LayerFeatureOrm.attributes.contains({name: v}) for v in sorted(values)))
        )
    return query


def _meeting(bounds: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """For each (minx, miny, maxx, maxy) row of `bounds`, whether it meets one of `boxes`."""
    meets = np.zeros(len(bounds), dtype=bool)
    if len(bounds):
        _, hit = shapely.STRtree(shapely.box(*bounds.T)).query(
            shapely.box(*boxes.T), predicate="intersects"
        )
        meets[hit] = True
    return meets


def _parsed(rows: Sequence[Row]) -> list[LayerFeature]:
    """Turn selected rows into layer features, in id order.

    Sorted here rather than in SQL: PostgreSQL would sort the wide rows (attributes and
    geometry), and spill large sorts to disk.
    """
    rows = sorted(rows, key=lambda r: r.id)
    geometries = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else []
    return [
        LayerFeature(r.id, r.source_fid, r.attributes, geometry)
        for r, geometry in zip(rows, geometries, strict=True)
    ]
