"""Reading municipalities and the boundaries uploads are checked against."""

import threading
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.repositories.geojson import geometry_json
from db.models import CountyOrm, MunicipalityOrm
from spatial.errors import NotFoundError
from spatial.geometry import CoverageArea
from spatial.messages import Text
from spatial.plan_input import Boundaries, MunicipalityBoundary

_PROPERTIES = (
    MunicipalityOrm.kommunenummer,
    MunicipalityOrm.name,
    MunicipalityOrm.region,
    MunicipalityOrm.centrality_class,
    MunicipalityOrm.source,
)


def _feature(row: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": row.kommunenummer,
        "properties": {
            "kommunenummer": row.kommunenummer,
            "name": row.name,
            "region": row.region,
            "centrality_class": row.centrality_class,
            "source": row.source,
        },
        "geometry": row.geometry,
    }


def list_municipality_features(session: Session, srid: int) -> list[dict[str, Any]]:
    """Return all municipalities as GeoJSON features in the given SRID."""
    rows = session.execute(
        select(*_PROPERTIES, geometry_json(MunicipalityOrm.geom, srid).label("geometry")).order_by(
            MunicipalityOrm.kommunenummer
        )
    )
    return [_feature(row) for row in rows]


def get_municipality_feature(session: Session, kommunenummer: str, srid: int) -> dict[str, Any]:
    """Return one municipality as a GeoJSON feature, or raise NotFoundError."""
    row = session.execute(
        select(*_PROPERTIES, geometry_json(MunicipalityOrm.geom, srid).label("geometry")).where(
            MunicipalityOrm.kommunenummer == kommunenummer
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            Text(
                f"ingen kommune i Buskerud har kommunenummer «{kommunenummer}»",
                f"no Buskerud municipality has kommunenummer '{kommunenummer}'",
            )
        )
    return _feature(row)


_boundaries_lock = threading.Lock()
_boundaries_cache: dict[tuple[datetime | None, datetime | None, float], Boundaries] = {}


def load_boundaries(session: Session, tolerance_m: float) -> Boundaries | None:
    """Return county and municipality boundaries, rebuilt only when they were reloaded."""
    stamp = session.execute(
        select(
            select(func.max(MunicipalityOrm.loaded_at)).scalar_subquery(),
            select(func.max(CountyOrm.loaded_at)).scalar_subquery(),
        )
    ).one()
    if stamp[0] is None or stamp[1] is None:
        return None
    key = (stamp[0], stamp[1], tolerance_m)
    with _boundaries_lock:
        if key not in _boundaries_cache:
            county = to_shape(session.execute(select(CountyOrm.geom)).scalars().first())
            municipalities = {
                row.kommunenummer: MunicipalityBoundary.build(
                    row.kommunenummer, row.name, to_shape(row.geom)
                )
                for row in session.execute(
                    select(
                        MunicipalityOrm.kommunenummer, MunicipalityOrm.name, MunicipalityOrm.geom
                    )
                )
            }
            _boundaries_cache.clear()
            _boundaries_cache[key] = Boundaries(
                county=CoverageArea.build(county, tolerance_m), municipalities=municipalities
            )
        return _boundaries_cache[key]
