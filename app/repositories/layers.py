"""Reading guideline layer versions and features."""

from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.repositories.geojson import area_condition, geometry_json
from db.models import LayerFeatureOrm, LayerVersionOrm
from spatial.errors import NotFoundError
from spatial.messages import Text


def list_versions(session: Session, layer_id: str) -> list[LayerVersionOrm]:
    """Return all versions of a layer, newest first."""
    return list(
        session.execute(
            select(LayerVersionOrm)
            .where(LayerVersionOrm.layer_id == layer_id)
            .order_by(LayerVersionOrm.version.desc())
        ).scalars()
    )


def get_version(session: Session, layer_id: str, version: int | None) -> LayerVersionOrm:
    """Return a given version of a layer (the newest when None), or raise NotFoundError."""
    query = select(LayerVersionOrm).where(LayerVersionOrm.layer_id == layer_id)
    if version is None:
        query = query.order_by(LayerVersionOrm.version.desc()).limit(1)
    else:
        query = query.where(LayerVersionOrm.version == version)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        if version is None:
            what = Text("er aldri lastet inn", "has never been loaded")
        else:
            what = Text(f"har ingen versjon {version}", f"has no version {version}")
        raise NotFoundError(
            Text(f"kartlaget «{layer_id}» {what.nb}", f"layer '{layer_id}' {what.en}")
        )
    return found


def feature_page(
    session: Session,
    version: LayerVersionOrm,
    area: BaseGeometry | None,
    srid: int,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Return a page of a version's features (optionally meeting `area`, in the storage CRS) as
    GeoJSON, and how many match in total."""
    conditions = [LayerFeatureOrm.layer_version_id == version.id]
    if area is not None:
        conditions.append(area_condition(LayerFeatureOrm.geom, area))
    total = session.execute(
        select(func.count()).select_from(LayerFeatureOrm).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(
            LayerFeatureOrm.id,
            LayerFeatureOrm.source_fid,
            LayerFeatureOrm.attributes,
            geometry_json(LayerFeatureOrm.geom, srid).label("geometry"),
        )
        .where(*conditions)
        .order_by(LayerFeatureOrm.id)
        .limit(limit)
        .offset(offset)
    )
    features = [
        {
            "type": "Feature",
            "id": row.id,
            "properties": {**row.attributes, "source_fid": row.source_fid},
            "geometry": row.geometry,
        }
        for row in rows
    ]
    return features, total
