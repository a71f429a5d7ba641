"""Guideline layers read from PostGIS and the raster directory, for the rule engine."""

from collections.abc import Mapping
from pathlib import Path

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import LayerFeatureOrm, LayerVersionOrm
from layers.loader import current_version
from spatial.crs import CANONICAL_SRID
from spatial.rules.model import LayerFeature


class PostgisLayerSource:
    """Reads each layer at one version: the current one, or one pinned for a re-run."""

    def __init__(self, session: Session, raster_dir: Path, pinned: Mapping[str, int] | None = None):
        self._session = session
        self._raster_dir = raster_dir
        self._pinned = dict(pinned or {})
        self._versions: dict[str, LayerVersionOrm | None] = {}

    def _version_row(self, layer_id: str) -> LayerVersionOrm | None:
        if layer_id not in self._versions:
            if layer_id in self._pinned:
                row = self._session.execute(
                    select(LayerVersionOrm).where(
                        LayerVersionOrm.layer_id == layer_id,
                        LayerVersionOrm.version == self._pinned[layer_id],
                    )
                ).scalar_one_or_none()
            else:
                row = current_version(self._session, layer_id)
            self._versions[layer_id] = row
        return self._versions[layer_id]

    def version(self, layer_id: str) -> int | None:
        """Return the version used for a layer, or None if it is not loaded."""
        row = self._version_row(layer_id)
        return None if row is None else row.version

    def features(self, layer_id: str, area: BaseGeometry) -> list[LayerFeature]:
        """Return features whose bounding box meets the bounding box of `area`."""
        row = self._version_row(layer_id)
        if row is None or area.is_empty:
            return []
        # A bbox literal in the column's SRID keeps the GiST index on geom usable.
        envelope = func.ST_MakeEnvelope(*area.bounds, CANONICAL_SRID)
        result = self._session.execute(
            select(
                LayerFeatureOrm.id,
                LayerFeatureOrm.source_fid,
                LayerFeatureOrm.attributes,
                LayerFeatureOrm.geom,
            )
            .where(LayerFeatureOrm.layer_version_id == row.id)
            .where(LayerFeatureOrm.geom.op("&&")(envelope))
            .order_by(LayerFeatureOrm.id)
        )
        return [LayerFeature(r.id, r.source_fid, r.attributes, to_shape(r.geom)) for r in result]

    def raster_path(self, layer_id: str) -> Path | None:
        """Return the COG of a raster layer's version, or None if not loaded."""
        row = self._version_row(layer_id)
        if row is None or row.raster_file is None:
            return None
        return self._raster_dir / row.raster_file
