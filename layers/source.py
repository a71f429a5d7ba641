"""Guideline layers read from PostGIS and the raster directory, for the rule engine."""

from collections.abc import Collection, Mapping
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from app.models import LayerFeatureOrm, LayerVersionOrm
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
        """Return features whose bounding box meets the bounding box of `area`.

        `where` keeps only features whose text attribute has one of the given values
        (filtered in the database, so unwanted features are never transferred or parsed).
        """
        row = self._version_row(layer_id)
        if row is None or area.is_empty:
            return []
        # A bbox literal in the column's SRID keeps the GiST index on geom usable.
        envelope = func.ST_MakeEnvelope(*area.bounds, CANONICAL_SRID)
        query = (
            select(
                LayerFeatureOrm.id,
                LayerFeatureOrm.source_fid,
                LayerFeatureOrm.attributes,
                # Raw EWKB, parsed below in one vectorised call rather than row by row.
                func.ST_AsEWKB(LayerFeatureOrm.geom).label("wkb"),
            )
            .where(LayerFeatureOrm.layer_version_id == row.id)
            .where(LayerFeatureOrm.geom.op("&&")(envelope))
            .order_by(LayerFeatureOrm.id)
        )
        for name, values in (where or {}).items():
            query = query.where(LayerFeatureOrm.attributes[name].astext.in_(sorted(values)))
        rows = self._session.execute(query).all()
        geometries = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else []
        return [
            LayerFeature(r.id, r.source_fid, r.attributes, geometry)
            for r, geometry in zip(rows, geometries, strict=True)
        ]

    def raster_path(self, layer_id: str) -> Path | None:
        """Return the COG of a raster layer's version, or None if not loaded."""
        row = self._version_row(layer_id)
        if row is None or row.raster_file is None:
            return None
        return self._raster_dir / row.raster_file
