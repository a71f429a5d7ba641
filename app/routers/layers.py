"""Guideline layers: registry metadata, versions and features."""

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam

from app import openapi_examples as ex
from app.access import Principal
from app.db import SessionDep
from app.dependencies import (
    INT4_MAX,
    OutputCrsDep,
    PageDep,
    SettingsDep,
    UploadDep,
    bbox_region,
    parse_bbox,
)
from app.rechecks import impact, request_recheck
from app.repositories import layers as repo
from app.repositories.geojson import content_crs_header, feature_collection
from app.responses import GeoJSONResponse
from app.schemas import (
    LayerAttributePublic,
    LayerImpactPublic,
    LayerPublic,
    LayerVersionPublic,
    Link,
    RecheckPublic,
)
from app.security import AdminDep, OptionalPrincipalDep
from app.urls import absolute, base_url_or_none
from db.models import LayerRecheckOrm, LayerVersionOrm
from layers.loader import LoadOptions, current_versions, load_layer
from layers.registry import LayerConfig, get_layer_config, get_registry
from spatial.crs import parse_crs
from spatial.errors import InvalidInputError, Problem, UnsupportedCRSError
from spatial.messages import Text

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
PREFIX = router.prefix

LayerIdPath = Annotated[
    str, PathParam(description="layer id from the registry", examples=["mineral_deposits"])
]
LAYER_PATH = f"{PREFIX}/mineral_deposits"


def _version_public(version: LayerVersionOrm) -> LayerVersionPublic:
    base = f"{PREFIX}/{version.layer_id}"
    links = [Link(href=f"{base}/versions", rel="version-history")]
    if version.raster_file is None:
        links.append(
            Link(
                href=f"{base}/items?version={version.version}",
                rel="items",
                type="application/geo+json",
            )
        )
    return LayerVersionPublic(
        layer_id=version.layer_id,
        version=version.version,
        checksum=version.checksum,
        feature_count=version.feature_count,
        source=version.source,
        source_date=version.source_date,
        licence=version.licence,
        file_name=version.file_name,
        loaded_at=version.loaded_at,
        raster=version.details if version.raster_file else None,
        links=links,
    )


def _layer_public(config: LayerConfig, current: LayerVersionOrm | None) -> LayerPublic:
    links = [Link(href=f"{PREFIX}/{config.id}/versions", rel="version-history")]
    if config.kind == "vector":
        links.append(
            Link(href=f"{PREFIX}/{config.id}/items", rel="items", type="application/geo+json")
        )
    return LayerPublic(
        id=config.id,
        title=config.title,
        description=config.description.strip(),
        kind=config.kind,
        geometry_type=config.geometry_type,
        guidelines=config.guidelines,
        optional=config.optional,
        attributes={
            name: LayerAttributePublic(
                description=a.description,
                type=a.type,
                allowed=a.allowed,
                source_names=a.source_names,
                values=a.values,
            )
            for name, a in config.attributes.items()
        },
        source=config.source.model_dump(),
        current_version=_version_public(current) if current else None,
        links=links,
    )


@router.get(
    "",
    response_model=list[LayerPublic],
    responses={200: ex.example_response([ex.LAYER, ex.LAYER_RASTER], "The layers (two shown)")},
)
def list_layers(session: SessionDep) -> list[LayerPublic]:
    """List every registered guideline layer with its current version (null if not loaded)."""
    current = current_versions(session)
    return [_layer_public(config, current.get(config.id)) for config in get_registry().values()]


@router.get(
    "/{layer_id}",
    response_model=LayerPublic,
    responses={200: ex.example_response(ex.LAYER), **ex.problems(ex.NO_LAYER)},
)
def get_layer(layer_id: LayerIdPath, session: SessionDep) -> LayerPublic:
    """Show one layer with its current version."""
    config = get_layer_config(layer_id)
    return _layer_public(config, current_versions(session).get(layer_id))


@router.get(
    "/{layer_id}/versions",
    response_model=list[LayerVersionPublic],
    responses={
        200: ex.example_response(
            ex.LAYER_VERSION_HISTORY,
            "The versions, newest first",
        ),
        **ex.problems(ex.at(ex.NO_LAYER, "/api/v1/layers/skoggrense/versions")),
    },
)
def list_layer_versions(layer_id: LayerIdPath, session: SessionDep) -> list[LayerVersionPublic]:
    """List all versions of a layer, newest first; old versions stay queryable."""
    get_layer_config(layer_id)
    return [_version_public(v) for v in repo.list_versions(session, layer_id)]


@router.get(
    "/{layer_id}/items",
    response_class=GeoJSONResponse,
    responses={
        200: ex.geojson_response(ex.LAYER_ITEMS, "A page of features (one shown)"),
        **ex.problems(
            ex.at(ex.NO_LAYER, "/api/v1/layers/skoggrense/items"),
            ex.RASTER_HAS_NO_ITEMS,
            ex.BAD_BBOX,
        ),
    },
)
def list_layer_items(
    layer_id: LayerIdPath,
    session: SessionDep,
    page: PageDep,
    crs: OutputCrsDep,
    bbox: Annotated[
        str | None,
        Query(description="minx,miny,maxx,maxy in bbox-crs", examples=["9.5,59.6,9.8,59.8"]),
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(alias="bbox-crs", description="CRS of bbox (default CRS84)", examples=["CRS84"]),
    ] = None,
    version: Annotated[
        int | None,
        Query(ge=1, le=INT4_MAX, description="layer version (default newest)", examples=[2]),
    ] = None,
) -> Any:
    """Return a page of a vector layer's features as GeoJSON, optionally within a bbox."""
    config = get_layer_config(layer_id)
    if config.kind != "vector":
        raise InvalidInputError(
            Text(
                f"kartlaget «{layer_id}» er et rasterlag og har ingen objekter; se versjonene "
                "i stedet",
                f"layer '{layer_id}' is a raster layer and has no items; see its versions instead",
            )
        )
    try:
        bbox_ref = parse_crs(bbox_crs or "CRS84", what="bbox-crs")
    except UnsupportedCRSError as exc:
        raise UnsupportedCRSError(
            exc.detail, [Problem(Text("ukjent koordinatsystem", "unknown CRS"), field="bbox-crs")]
        ) from None
    area = None if bbox is None else bbox_region(parse_bbox(bbox), bbox_ref)
    found = repo.get_version(session, layer_id, version)
    features, total = repo.feature_page(session, found, area, crs.srid, page.limit, page.offset)
    links = []
    if page.offset + page.limit < total:
        query = f"limit={page.limit}&offset={page.offset + page.limit}&version={found.version}"
        output_crs = None if crs.label == "CRS84" else crs.label
        for name, value in (("bbox", bbox), ("bbox-crs", bbox_crs), ("crs", output_crs)):
            if value:
                query += f"&{name}={value}"
        links.append({"href": f"{PREFIX}/{layer_id}/items?{query}", "rel": "next"})
    body = feature_collection(
        features,
        crs.label,
        layer_id=layer_id,
        version=found.version,
        licence=found.licence,
        numberMatched=total,
        numberReturned=len(features),
        links=links,
    )
    return GeoJSONResponse(body, headers=content_crs_header(crs.label))


@router.post(
    "/{layer_id}/versions",
    response_model=LayerVersionPublic,
    status_code=201,
    openapi_extra=ex.LAYER_UPLOAD_BODY,
    responses={
        201: ex.example_response(
            ex.LAYER_VERSION_VECTOR, "Loaded as a new version", location="the version history"
        ),
        200: ex.example_response(
            ex.LAYER_VERSION_VECTOR,
            "The file equals the current version; nothing new was stored",
            location="the version history",
        ),
        **ex.problems(
            ex.at(ex.NO_LAYER, "/api/v1/layers/skoggrense/versions"),
            *(
                ex.at(example, f"{LAYER_PATH}/versions")
                for example in (ex.UPLOAD_TOO_LARGE, ex.UPLOAD_MEDIA_TYPE)
            ),
            ex.LAYER_FILE_INVALID,
        ),
    },
)
def load_layer_version(
    layer_id: LayerIdPath,
    # The key is checked before the body is read: an anonymous upload costs nothing.
    principal: AdminDep,
    upload: UploadDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    source: Annotated[
        str | None,
        Query(
            description="source (default: the config's)",
            examples=["NGU Grus og pukk, nedlastet fra Geonorge"],
        ),
    ] = None,
    source_date: Annotated[
        date | None, Query(description="date of the data", examples=["2026-03-01"])
    ] = None,
    licence: Annotated[
        str | None, Query(description="licence (default: the config's)", examples=["NLOD 2.0"])
    ] = None,
    attr_map: Annotated[
        list[str] | None,
        Query(description="ATTRIBUTE=COLUMN, repeatable", examples=[["importance=BETYDNING"]]),
    ] = None,
    recheck: Annotated[
        bool,
        Query(
            description="queue a re-check of the current plans the new version touches (its "
            "progress and findings: the `impact` link)",
        ),
    ] = False,
) -> LayerVersionPublic:
    """Load a file as a new version of a guideline layer (admin; same rules as the CLI);
    with `recheck=true` a new version also queues a re-check of the plans it touches."""
    config = get_layer_config(layer_id)
    mapping = {}
    for item in attr_map or []:
        name, sep, column = item.partition("=")
        if not sep:
            raise InvalidInputError(
                Text(
                    f"attr_map «{item}» må ha formen ATTRIBUTT=KOLONNE",
                    f"attr_map '{item}' must be ATTRIBUTE=COLUMN",
                ),
                [Problem(Text("ugyldig form", "malformed"), field="attr_map")],
            )
        mapping[name.strip()] = column.strip()
    suffix = Path(upload.filename or "").suffix.lower() or (
        ".tif" if config.kind == "raster" else ".geojson"
    )
    with tempfile.TemporaryDirectory(prefix="arealsjekk-layer-") as work:
        path = Path(work) / f"{Path(upload.filename or layer_id).stem}{suffix}"
        path.write_bytes(upload.body)
        options = LoadOptions(
            source=source, source_date=source_date, licence=licence, attr_map=mapping
        )
        result = load_layer(session, layer_id, path, options, raster_dir=settings.raster_dir)
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = absolute(
        base_url_or_none(request, settings), f"{PREFIX}/{layer_id}/versions"
    )
    public = _version_public(repo.get_version(session, layer_id, result.version))
    if recheck and result.created:
        request_recheck(session, layer_id, result.version, principal.name)
        public.links.append(Link(href=_impact_path(layer_id, result.version), rel="impact"))
    return public


VersionPath = Annotated[
    int, PathParam(ge=1, le=INT4_MAX, description="layer version number", examples=[2])
]


def _impact_path(layer_id: str, version: int) -> str:
    return f"{PREFIX}/{layer_id}/versions/{version}/impact"


def _recheck_public(batch: LayerRecheckOrm, principal: Principal | None) -> RecheckPublic:
    # Who asked, and how many plans were touched (drafts among them), is the county's
    # business: shown to county roles only.
    county = principal is not None and principal.is_county
    return RecheckPublic(
        id=batch.id,
        layer_id=batch.layer_id,
        layer_version=batch.layer_version,
        previous_version=batch.previous_version,
        status=batch.status,
        requested_by=batch.requested_by if county else None,
        reach_m=batch.reach_m,
        proposal_versions=batch.proposal_versions if county else None,
        details=batch.details,
        error=batch.error,
        created_at=batch.created_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        links=[
            Link(href=_impact_path(batch.layer_id, batch.layer_version), rel="impact"),
            Link(href=f"{PREFIX}/{batch.layer_id}/versions", rel="version-history"),
        ],
    )


@router.post(
    "/{layer_id}/versions/{version}/recheck",
    response_model=RecheckPublic,
    status_code=202,
    responses={
        202: ex.example_response(
            ex.RECHECK_QUEUED,
            "Queued (or the re-check still at work against this version, not a second one)",
            location="the version's impact",
        ),
        **ex.problems(
            ex.at(ex.NO_LAYER, "/api/v1/layers/skoggrense/versions/1/recheck"),
            ex.NOT_CURRENT_VERSION,
        ),
    },
)
def recheck_layer_version(
    layer_id: LayerIdPath,
    version: VersionPath,
    principal: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> RecheckPublic:
    """Queue a re-check of every current, checked proposal version the change from the
    previous version touches (admin). Only the current version can be re-checked against;
    while a re-check against it is at work, that one is answered instead of a second."""
    batch, _ = request_recheck(session, layer_id, version, principal.name)
    response.headers["Location"] = absolute(
        base_url_or_none(request, settings), _impact_path(layer_id, version)
    )
    return _recheck_public(batch, principal)


@router.get(
    "/{layer_id}/versions/{version}/impact",
    response_model=LayerImpactPublic,
    responses={
        200: ex.example_response(ex.IMPACT, "The plans whose findings changed"),
        **ex.problems(
            ex.at(ex.NO_LAYER, "/api/v1/layers/skoggrense/versions/1/impact"),
            ex.NO_LAYER_VERSION,
        ),
    },
)
def layer_version_impact(
    layer_id: LayerIdPath,
    version: VersionPath,
    principal: OptionalPrincipalDep,
    session: SessionDep,
) -> LayerImpactPublic:
    """The plans whose findings changed in the newest re-check against a layer version: new
    and resolved conflicts and warnings per proposal version against its previous check, the
    re-checks still queued or running, and totals. Drafts are listed (and counted) only for
    those who may see them; published proposals for everyone."""
    found = impact(session, layer_id, version, principal)
    previous = found["recheck"].previous_version if found["recheck"] else None
    if found["recheck"] is None and version > 1:
        previous = version - 1
    path = _impact_path(layer_id, version)
    return LayerImpactPublic(
        layer_id=layer_id,
        version=found["version"].version,
        previous_version=previous,
        recheck=None if found["recheck"] is None else _recheck_public(found["recheck"], principal),
        totals=found["totals"],
        plans=found["plans"],
        links=[
            Link(href=path, rel="self"),
            Link(href=f"{PREFIX}/{layer_id}/versions", rel="version-history"),
        ],
    )
