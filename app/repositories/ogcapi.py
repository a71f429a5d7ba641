"""Queries behind the OGC API – Features collections, each over the current rows of a shared table.

A collection is a `FeatureSource`: an id column, the geometry column (EPSG:25832, GiST
indexed) and property columns, with the conditions that pick the current rows — the
current layer version, the latest version of each proposal, the latest finished check
of each proposal's latest version.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, cast, false, func, select
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Session, aliased

from app.repositories.geojson import area_condition
from db.models import (
    CheckFindingOrm,
    LayerFeatureOrm,
    LayerVersionOrm,
    MunicipalityOrm,
    PlanCheckOrm,
    PlanFeatureOrm,
    PlanProposalOrm,
    ProposalVersionOrm,
)
from spatial.crs import CANONICAL_SRID


@dataclass(frozen=True)
class FeatureSource:
    """The rows of one collection: id, geometry, properties and what selects them."""

    fid: ColumnElement[Any]
    geom: ColumnElement[Any]
    properties: tuple[ColumnElement[Any], ...]
    conditions: tuple[ColumnElement[bool], ...]
    # A JSONB column whose keys become properties too (a layer's kept attributes).
    attributes: ColumnElement[Any] | None = None
    numeric_ids: bool = True
    # The one geometry type features are written as (a Multi* type), so that a client such as
    # GDAL sees one type per collection; None writes each geometry as stored.
    geometry_type: str | None = None


@dataclass(frozen=True)
class OutputCrs:
    """The CRS features are written in; `lat_lon` for EPSG:4326's latitude-first order."""

    srid: int
    lat_lon: bool = False


def multi_type(geometry_type: str) -> str:
    """The Multi* type a collection of `geometry_type` features is written as."""
    return geometry_type if geometry_type.startswith("Multi") else f"Multi{geometry_type}"


def layer_source(version_id: int | None, geometry_type: str | None = None) -> FeatureSource:
    """Features of one layer version (none when the layer has never been loaded), written as
    the Multi* type of the layer's `geometry_type` when given."""
    selects = LayerFeatureOrm.layer_version_id == version_id if version_id else false()
    return FeatureSource(
        fid=LayerFeatureOrm.id,
        geom=LayerFeatureOrm.geom,
        properties=(LayerFeatureOrm.source_fid,),
        conditions=(selects,),
        attributes=LayerFeatureOrm.attributes,
        geometry_type=None if geometry_type is None else multi_type(geometry_type),
    )


def municipality_source() -> FeatureSource:
    """Buskerud's municipalities, identified by kommunenummer."""
    return FeatureSource(
        fid=MunicipalityOrm.kommunenummer,
        geom=MunicipalityOrm.geom,
        properties=(
            MunicipalityOrm.kommunenummer,
            MunicipalityOrm.name,
            MunicipalityOrm.region,
            MunicipalityOrm.centrality_class,
            MunicipalityOrm.source,
        ),
        conditions=(),
        numeric_ids=False,
        geometry_type="MultiPolygon",
    )


def _public_proposal_id() -> ColumnElement[Any]:
    return (PlanProposalOrm.kommunenummer + "_" + PlanProposalOrm.planidentifikasjon).label(
        "proposal_id"
    )


def _latest_proposal_versions() -> tuple[ColumnElement[bool], ...]:
    newer = aliased(ProposalVersionOrm)
    newest = (
        select(func.max(newer.version))
        .where(newer.proposal_id == ProposalVersionOrm.proposal_id)
        .scalar_subquery()
    )
    # GIS clients send no API key: only published proposals are served (drafts stay private).
    return (
        ProposalVersionOrm.proposal_id == PlanProposalOrm.id,
        ProposalVersionOrm.version == newest,
        PlanProposalOrm.published_at.is_not(None),
    )


def proposal_source() -> FeatureSource:
    """Areas of the latest version of every proposal."""
    return FeatureSource(
        fid=PlanFeatureOrm.id,
        geom=PlanFeatureOrm.geom,
        properties=(
            _public_proposal_id(),
            ProposalVersionOrm.version,
            PlanFeatureOrm.kind,
            PlanFeatureOrm.arealformal,
            PlanFeatureOrm.arealbruksstatus,
            PlanFeatureOrm.feltnavn,
            PlanFeatureOrm.lokal_id,
            PlanFeatureOrm.hensynssone,
        ),
        conditions=(
            PlanFeatureOrm.version_id == ProposalVersionOrm.id,
            *_latest_proposal_versions(),
        ),
        geometry_type="MultiPolygon",
    )


def finding_source(dimension: int = 2) -> FeatureSource:
    """Findings with geometry of the latest finished check of each proposal's latest version:
    those with areas (dimension 2), or those along lines (1, a wild reindeer corridor's part
    inside a plan area), so that each collection has one geometry type."""
    other = aliased(PlanCheckOrm)
    latest_done = (
        select(func.max(other.id))
        .where(other.proposal_version_id == PlanCheckOrm.proposal_version_id)
        .where(other.status == "done")
        .scalar_subquery()
    )
    return FeatureSource(
        fid=CheckFindingOrm.id,
        geom=CheckFindingOrm.geom,
        properties=(
            CheckFindingOrm.check_id,
            _public_proposal_id(),
            CheckFindingOrm.rule_id,
            CheckFindingOrm.severity,
            CheckFindingOrm.message,
            CheckFindingOrm.paragraph,
        ),
        conditions=(
            CheckFindingOrm.geom.is_not(None),
            func.ST_Dimension(CheckFindingOrm.geom) == dimension,
            CheckFindingOrm.check_id == PlanCheckOrm.id,
            PlanCheckOrm.id == latest_done,
            PlanCheckOrm.proposal_version_id == ProposalVersionOrm.id,
            *_latest_proposal_versions(),
        ),
        geometry_type="MultiPolygon" if dimension == 2 else "MultiLineString",
    )


def finding_line_source() -> FeatureSource:
    """Findings along lines (corridors crossed) of the latest finished checks."""
    return finding_source(dimension=1)


# ST_CollectionExtract's type numbers: 1 points, 2 lines, 3 polygons.
_EXTRACT = {"MultiPoint": 1, "MultiLineString": 2, "MultiPolygon": 3}


def output_geometry(source: FeatureSource) -> ColumnElement[Any]:
    """The source's geometry as its collection's one geometry type (still in EPSG:25832)."""
    if source.geometry_type not in _EXTRACT:
        return source.geom
    return func.ST_Multi(func.ST_CollectionExtract(source.geom, _EXTRACT[source.geometry_type]))


def _geometry_json(column: ColumnElement[Any], crs: OutputCrs) -> ColumnElement[Any]:
    geometry = func.ST_Transform(column, crs.srid)
    if crs.lat_lon:
        geometry = func.ST_FlipCoordinates(geometry)
    # ~1 cm precision either way: 7 decimals of a degree, 2 decimals of a metre.
    digits = 7 if crs.srid == 4326 else 2
    return cast(func.ST_AsGeoJSON(geometry, digits, 0), JSON)


def _select_features(source: FeatureSource, crs: OutputCrs) -> Select[Any]:
    columns = [source.fid.label("ogc_fid"), *source.properties]
    if source.attributes is not None:
        columns.append(source.attributes.label("ogc_attributes"))
    columns.append(_geometry_json(output_geometry(source), crs).label("ogc_geometry"))
    return select(*columns).where(*source.conditions)


def _feature(
    source: FeatureSource, row: Any, selected: Collection[str] | None = None
) -> dict[str, Any]:
    mapping = row._mapping
    properties: dict[str, Any] = {}
    if source.attributes is not None:
        properties.update(mapping["ogc_attributes"] or {})
    for column in source.properties:
        properties[column.key] = mapping[column.key]
    if selected is not None:
        properties = {name: value for name, value in properties.items() if name in selected}
    return {
        "type": "Feature",
        "id": mapping["ogc_fid"],
        "geometry": mapping["ogc_geometry"],
        "properties": properties,
    }


@dataclass(frozen=True)
class PageQuery:
    """What selects, orders and shapes a page beyond the bbox: a filter, sort keys (applied
    before the id order) and the properties to keep (None: all)."""

    where: tuple[ColumnElement[bool], ...] = ()
    order_by: tuple[ColumnElement[Any], ...] = ()
    properties: frozenset[str] | None = None


def feature_page(
    session: Session,
    source: FeatureSource,
    area: BaseGeometry | None,
    crs: OutputCrs,
    limit: int,
    offset: int,
    query: PageQuery = PageQuery(),
) -> tuple[list[dict[str, Any]], int]:
    """Return a page of a collection's features (in id order after the query's sort keys,
    optionally meeting `area`, in the storage CRS, and the query's filter) and how many match
    in all."""
    conditions: list[ColumnElement[bool]] = list(query.where)
    if area is not None:
        conditions.append(area_condition(source.geom, area))
    total = session.execute(
        select(func.count(source.fid)).where(*source.conditions, *conditions)
    ).scalar_one()
    rows = session.execute(
        _select_features(source, crs)
        .where(*conditions)
        .order_by(*query.order_by, source.fid)
        .limit(limit)
        .offset(offset)
    )
    return [_feature(source, row, query.properties) for row in rows], total


def get_feature(
    session: Session,
    source: FeatureSource,
    fid: int | str,
    crs: OutputCrs,
    properties: frozenset[str] | None = None,
) -> dict[str, Any] | None:
    """Return one feature of a collection (with only the given properties, when given), or
    None when the collection has no such feature."""
    row = session.execute(_select_features(source, crs).where(source.fid == fid)).one_or_none()
    return None if row is None else _feature(source, row, properties)


def _crs84_bounds(envelope: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    # Densified, so the curved edges of a UTM rectangle in lon/lat are inside the bounds.
    geographic = func.ST_Transform(func.ST_Segmentize(envelope, 1000.0), 4326)
    return (
        func.ST_XMin(geographic),
        func.ST_YMin(geographic),
        func.ST_XMax(geographic),
        func.ST_YMax(geographic),
    )


def _rounded(values: Sequence[float | None]) -> list[float] | None:
    if any(value is None for value in values):
        return None
    return [round(float(value), 7) for value in values if value is not None]


def source_extent(session: Session, source: FeatureSource) -> list[float] | None:
    """Return the CRS84 bounding box of a collection's features, or None when it is empty."""
    box = select(func.ST_Extent(source.geom).label("box")).where(*source.conditions).subquery()
    envelope = func.ST_MakeEnvelope(
        func.ST_XMin(box.c.box),
        func.ST_YMin(box.c.box),
        func.ST_XMax(box.c.box),
        func.ST_YMax(box.c.box),
        CANONICAL_SRID,
    )
    return _rounded(session.execute(select(*_crs84_bounds(envelope))).one())


def layer_extents(session: Session, version_ids: Sequence[int]) -> dict[int, list[float]]:
    """Return the CRS84 bounding box of each given layer version's stored extent."""
    if not version_ids:
        return {}
    rows = session.execute(
        select(LayerVersionOrm.id, *_crs84_bounds(LayerVersionOrm.extent)).where(
            and_(LayerVersionOrm.id.in_(version_ids), LayerVersionOrm.extent.is_not(None))
        )
    )
    extents = {}
    for version_id, *bounds in rows:
        rounded = _rounded(bounds)
        if rounded is not None:
            extents[version_id] = rounded
    return extents
