"""OGC API – Features (Part 1 Core + GeoJSON, Part 2 CRS by reference) over Arealsjekk's data.

Written to the standard on our repositories rather than with tipg: tipg serves whole tables,
views or SQL functions through its own asyncpg pool, so our versioned collections (the
current `layer_version` of `layer_feature`, the latest proposal versions, the latest
finished checks) would need per-version views kept in step with every load, and tipg does
not implement Part 2 (CRS by reference), which planners in EPSG:25832/25833 need.
"""

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import INT8_MAX, BboxError, bbox_region, parse_bbox
from app.errors import validation_problems
from app.repositories import ogcapi as repo
from app.repositories.geojson import crs_uri
from app.responses import GeoJSONResponse
from app.settings import get_settings
from app.urls import public_base_url
from layers.loader import current_versions
from layers.registry import get_registry
from spatial.crs import CRS84, CRS84_URI, parse_crs
from spatial.errors import ArealsjekkError, NotFoundError, Problem, UnsupportedCRSError
from spatial.messages import Text, join

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    # Not oas30: FastAPI writes OpenAPI 3.1, which the service-desc link names.
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

# CRSs offered for output and bbox-crs, with the PostGIS SRID each is written in.
# EPSG:4326 is latitude-first as its definition (and OGC API Part 2) says; CRS84 is
# the same datum longitude-first.
CRSS: dict[str, repo.OutputCrs] = {
    "CRS84": repo.OutputCrs(4326),
    "EPSG:4326": repo.OutputCrs(4326, lat_lon=True),
    "EPSG:25832": repo.OutputCrs(25832),
    "EPSG:25833": repo.OutputCrs(25833),
    "EPSG:3857": repo.OutputCrs(3857),
}
CRS_URIS = [crs_uri(label) for label in CRSS]
STORAGE_CRS = crs_uri("EPSG:25832")
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000

JSON = "application/json"
GEOJSON = "application/geo+json"


class InvalidParameterError(ArealsjekkError):
    """A query parameter is unknown or has a value the OGC API cannot use (answered with 400)."""


class _OgcRoute(APIRoute):
    """A route answering invalid parameters with 400, as OGC API – Features requires."""

    invalid_parameter_status = 400  # read by app.openapi for the docs

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so validation errors become InvalidParameterError."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                problems = validation_problems(exc.errors())
                detail = join(problem.describe() for problem in problems)
                raise InvalidParameterError(detail, problems) from None

        return route


router = APIRouter(prefix="/ogcapi", tags=["ogcapi"], route_class=_OgcRoute)
PREFIX = router.prefix

CollectionIdPath = Annotated[
    str,
    Path(
        description="collection id: a guideline layer id, municipalities, proposals or findings",
        examples=["mineral_deposits"],
    ),
]
FormatQuery = Annotated[str | None, Query(description="response format: json", examples=["json"])]


def _ogc_responses(example: Any, *problems: ex.ProblemExample, geojson: bool = False) -> dict:
    ok = ex.geojson_response(example) if geojson else ex.example_response(example)
    return {200: ok, **ex.problems(*problems)}


@dataclass(frozen=True)
class Collection:
    """One feature collection: what describes it and where its features come from."""

    id: str
    title: str
    description: str
    source: repo.FeatureSource
    extent: list[float] | None = None
    attribution: str | None = None
    license: str | None = None


FIXED_COLLECTIONS: dict[str, tuple[str, str, Callable[[], repo.FeatureSource]]] = {
    "municipalities": (
        "Kommuner i Buskerud",
        "Buskerud's 18 municipalities (2024 boundaries) with region and SSB centrality class.",
        repo.municipality_source,
    ),
    "proposals": (
        "Planforslag (siste versjon)",
        "Areas (planområde, arealformål, hensynssoner) of the latest version of every plan "
        "proposal.",
        repo.proposal_source,
    ),
    "findings": (
        "Funn (siste kontroll)",
        "Findings with geometry of the latest finished check of each proposal's latest version.",
        repo.finding_source,
    ),
}


def _base_url(request: Request) -> str:
    return public_base_url(request, get_settings()) + PREFIX


def _link(href: str, rel: str, media_type: str = JSON, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def _check_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed - {"f"})
    if unknown:
        taken = ", ".join(sorted(allowed | {"f"}))
        raise InvalidParameterError(
            Text(
                f"ukjent spørreparameter {', '.join(unknown)}; denne ressursen tar {taken}",
                f"unknown query parameter(s) {', '.join(unknown)}; this resource takes {taken}",
            ),
            [Problem(Text("ukjent parameter", "unknown parameter"), field=n) for n in unknown],
        )


def _check_format(f: str | None, *accepted: str) -> None:
    if f is not None and f not in accepted:
        raise InvalidParameterError(
            Text(
                f"f «{f}» tilbys ikke her; bruk {' eller '.join(accepted)}",
                f"f '{f}' is not offered here; use {' or '.join(accepted)}",
            ),
            [Problem(Text("formatet støttes ikke", "unsupported format"), field="f")],
        )


def _parse_crs(value: str | None, name: str) -> tuple[str, repo.OutputCrs]:
    if value is None:
        return "CRS84", CRSS["CRS84"]
    try:
        label = parse_crs(value, what=name).label
    except UnsupportedCRSError:
        label = ""
    if label not in CRSS:
        raise InvalidParameterError(
            Text(
                f"{name} «{value}» støttes ikke; bruk en av {', '.join(CRS_URIS)}",
                f"{name} '{value}' is not supported; use one of {', '.join(CRS_URIS)}",
            ),
            [Problem(Text("koordinatsystemet støttes ikke", "unsupported CRS"), field=name)],
        )
    return label, CRSS[label]


def _parse_bbox(text: str, label: str, crs: repo.OutputCrs) -> BaseGeometry:
    """Read bbox in bbox-crs (axis order of that CRS) as an area in the storage CRS."""
    try:
        values = parse_bbox(text)
        if crs.lat_lon:
            values = (values[1], values[0], values[3], values[2])
        return bbox_region(values, CRS84 if label == "CRS84" else parse_crs(label))
    except BboxError as exc:
        raise InvalidParameterError(exc.detail, exc.problems) from None


# RFC 3339 full-date, or date-time with a UTC offset (ASCII digits only).
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2}))?"
)


def _instant(text: str) -> datetime | None:
    if not _INSTANT.fullmatch(text):
        return None
    try:
        value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:  # e.g. month 13 or 30 February
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check_datetime(value: str) -> None:
    """Refuse a datetime that is not an instant or an interval (OGC API Features §7.15.4).

    Nothing here has a temporal extent, so a valid value selects every feature.
    """
    ends = value.split("/")
    instants = [_instant(end) for end in ends]
    open_ends = [end in ("", "..") for end in ends]
    valid = (len(ends) == 1 and instants[0] is not None) or (
        len(ends) == 2
        and all(i is not None or o for i, o in zip(instants, open_ends, strict=True))
        and not all(open_ends)
        and (None in instants or instants[0] <= instants[1])
    )
    if not valid:
        raise InvalidParameterError(
            Text(
                f"datetime «{value[:100]}» må være en dato eller et tidspunkt etter RFC 3339, "
                "eller et intervall «start/slutt» av dem («..» for en åpen ende, start før slutt)",
                f"datetime '{value[:100]}' must be an RFC 3339 date or date-time, or an interval "
                "'start/end' of them ('..' for an open end, start before end)",
            ),
            [
                Problem(
                    Text(
                        "ikke en dato, et tidspunkt eller et intervall",
                        "not a date, date-time or interval",
                    ),
                    field="datetime",
                )
            ],
        )


def _layer_collections(session: Session, only: str | None = None) -> list[Collection]:
    current = current_versions(session)
    configs = [c for c in get_registry().values() if c.kind == "vector" and only in (None, c.id)]
    loaded = [current[c.id] for c in configs if c.id in current]
    extents = repo.layer_extents(session, [v.id for v in loaded])
    collections = []
    for config in configs:
        version = current.get(config.id)
        collections.append(
            Collection(
                id=config.id,
                title=config.title,
                description=config.description.strip(),
                source=repo.layer_source(version.id if version else None),
                extent=extents.get(version.id) if version else None,
                attribution=version.source if version else None,
                license=version.licence if version else None,
            )
        )
    return collections


def _fixed_collection(session: Session, collection_id: str, with_extent: bool) -> Collection:
    title, description, build = FIXED_COLLECTIONS[collection_id]
    source = build()
    extent = repo.source_extent(session, source) if with_extent else None
    if collection_id == "municipalities":
        return Collection(
            collection_id,
            title,
            description,
            source,
            extent,
            attribution="© Kartverket",
            license="CC BY 4.0",
        )
    return Collection(collection_id, title, description, source, extent)


def _collection(session: Session, collection_id: str, with_extent: bool = False) -> Collection:
    if collection_id in FIXED_COLLECTIONS:
        return _fixed_collection(session, collection_id, with_extent)
    found = _layer_collections(session, only=collection_id)
    if not found:
        raise NotFoundError(
            Text(
                f"finner ingen samling «{collection_id}»; se {PREFIX}/collections",
                f"no collection '{collection_id}'; see {PREFIX}/collections",
            )
        )
    return found[0]


def _collection_json(collection: Collection, base: str) -> dict[str, Any]:
    href = f"{base}/collections/{collection.id}"
    body: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "links": [
            _link(href, "self", title="this collection"),
            _link(f"{href}/items", "items", GEOJSON, title="its features"),
        ],
        "itemType": "feature",
        "crs": CRS_URIS,
        "storageCrs": STORAGE_CRS,
    }
    if collection.extent is not None:
        body["extent"] = {"spatial": {"bbox": [collection.extent], "crs": CRS84_URI}}
    if collection.attribution:
        body["attribution"] = collection.attribution
    if collection.license:
        body["license"] = collection.license
    return body


@router.get("", summary="Landing page", responses=_ogc_responses(ex.OGC_LANDING, ex.OGC_BAD_FORMAT))
@router.get("/", include_in_schema=False)
def landing_page(request: Request, f: FormatQuery = None) -> JSONResponse:
    """Describe the OGC API – Features service and link to its parts."""
    _check_params(request, set())
    _check_format(f, "json")
    base = _base_url(request)
    root = public_base_url(request, get_settings())
    openapi = f"application/vnd.oai.openapi+json;version={request.app.openapi_version[:3]}"
    return JSONResponse(
        {
            "title": "Arealsjekk – OGC API Features",
            "description": "Buskerud's regional guideline layers, municipalities, plan "
            "proposals and the findings of their checks against Buskerudplanen.",
            "links": [
                _link(base, "self", title="this document"),
                _link(f"{root}/api/v1/openapi.json", "service-desc", openapi, "API definition"),
                _link(f"{root}/api/v1/docs", "service-doc", "text/html", "API documentation"),
                _link(f"{base}/conformance", "conformance", title="conformance classes"),
                _link(f"{base}/collections", "data", title="feature collections"),
            ],
        }
    )


@router.get(
    "/conformance",
    responses=_ogc_responses(ex.OGC_CONFORMANCE, ex.at(ex.OGC_BAD_FORMAT, f"{PREFIX}/conformance")),
)
def conformance(request: Request, f: FormatQuery = None) -> JSONResponse:
    """List the conformance classes this service implements."""
    _check_params(request, set())
    _check_format(f, "json")
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get(
    "/collections",
    responses=_ogc_responses(ex.OGC_COLLECTIONS, ex.OGC_UNKNOWN_PARAMETER),
)
def list_collections(request: Request, session: SessionDep, f: FormatQuery = None) -> JSONResponse:
    """List the collections: vector guideline layers, municipalities, proposals, findings."""
    _check_params(request, set())
    _check_format(f, "json")
    base = _base_url(request)
    collections = _layer_collections(session) + [
        _fixed_collection(session, collection_id, with_extent=True)
        for collection_id in FIXED_COLLECTIONS
    ]
    return JSONResponse(
        {
            "links": [_link(f"{base}/collections", "self", title="this document")],
            "collections": [_collection_json(c, base) for c in collections],
        }
    )


@router.get(
    "/collections/{collection_id}",
    responses=_ogc_responses(ex.OGC_COLLECTION, ex.NO_COLLECTION),
)
def get_collection(
    collection_id: CollectionIdPath, request: Request, session: SessionDep, f: FormatQuery = None
) -> JSONResponse:
    """Describe one feature collection."""
    _check_params(request, set())
    _check_format(f, "json")
    collection = _collection(session, collection_id, with_extent=True)
    return JSONResponse(_collection_json(collection, _base_url(request)))


@dataclass(frozen=True)
class ItemsQuery:
    """The query parameters of an items request, before CRS and bbox are parsed."""

    bbox: str | None
    bbox_crs: str | None
    limit: int
    offset: int
    crs: str | None


def items_query(
    bbox: Annotated[
        str | None,
        Query(
            description="minx,miny,maxx,maxy in bbox-crs (axis order of that CRS)",
            examples=["9.5,59.6,9.8,59.8"],
        ),
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs",
            description="CRS of bbox (default CRS84)",
            examples=[CRS84_URI],
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, description=f"items per page; at most {MAX_LIMIT:,}, larger is capped")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=INT8_MAX, description="items to skip")] = 0,
    crs: Annotated[
        str | None,
        Query(description="output CRS URI (default CRS84)", examples=[STORAGE_CRS]),
    ] = None,
    datetime_: Annotated[
        str | None,
        Query(
            alias="datetime",
            description="accepted as OGC API Core requires; no collection has a temporal "
            "extent, so it does not restrict the result",
        ),
    ] = None,
) -> ItemsQuery:
    """Read the items query parameters, capping the limit."""
    if datetime_ is not None:
        _check_datetime(datetime_)
    return ItemsQuery(bbox, bbox_crs, min(limit, MAX_LIMIT), offset, crs)


def _request_href(request: Request, **changes: str) -> str:
    """This request's URL (with `changes` to its query) under the public base URL, so that no
    link carries the client's Host header."""
    params = {**request.query_params, **changes}
    query = f"?{urlencode(params)}" if params else ""
    return f"{public_base_url(request, get_settings())}{request.url.path}{query}"


def _page_link(request: Request, rel: str, offset: int, limit: int) -> dict:
    href = _request_href(request, offset=str(offset), limit=str(limit))
    return _link(href, rel, GEOJSON, title=f"{rel} page")


@router.get(
    "/collections/{collection_id}/items",
    response_class=GeoJSONResponse,
    responses=_ogc_responses(
        ex.OGC_ITEMS,
        ex.OGC_BAD_CRS,
        ex.at(ex.NO_COLLECTION, "/ogcapi/collections/skoggrense/items"),
        geojson=True,
    ),
)
def list_items(
    collection_id: CollectionIdPath,
    request: Request,
    session: SessionDep,
    query: Annotated[ItemsQuery, Depends(items_query)],
    f: FormatQuery = None,
) -> GeoJSONResponse:
    """Return a page of a collection's features as GeoJSON, optionally within a bbox."""
    _check_params(request, {"bbox", "bbox-crs", "limit", "offset", "crs", "datetime"})
    _check_format(f, "json", "geojson")
    collection = _collection(session, collection_id)
    label, output = _parse_crs(query.crs, "crs")
    bbox_label, bbox_crs = _parse_crs(query.bbox_crs, "bbox-crs")
    area = None if query.bbox is None else _parse_bbox(query.bbox, bbox_label, bbox_crs)
    limit, offset = query.limit, query.offset
    features, matched = repo.feature_page(session, collection.source, area, output, limit, offset)
    collection_href = f"{_base_url(request)}/collections/{collection_id}"
    links = [
        _link(_request_href(request), "self", GEOJSON, title="this page"),
        _link(collection_href, "collection", title="the collection"),
    ]
    if offset + len(features) < matched:
        links.append(_page_link(request, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(request, "prev", max(offset - limit, 0), limit))
    body = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
        "features": features,
    }
    # Part 2 names the CRS in Content-Crs; no legacy GeoJSON "crs" member, whose readers
    # would take EPSG:4326 coordinates as longitude first.
    return GeoJSONResponse(body, headers={"Content-Crs": f"<{crs_uri(label)}>"})


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_class=GeoJSONResponse,
    responses=_ogc_responses(ex.OGC_ITEM, ex.NO_ITEM, geojson=True),
)
def get_item(
    collection_id: CollectionIdPath,
    feature_id: Annotated[
        str, Path(description="feature id, e.g. 3326 in municipalities", examples=["406"])
    ],
    request: Request,
    session: SessionDep,
    crs: Annotated[
        str | None,
        Query(description="output CRS URI (default CRS84)", examples=[STORAGE_CRS]),
    ] = None,
    f: FormatQuery = None,
) -> GeoJSONResponse:
    """Return one feature of a collection."""
    _check_params(request, {"crs"})
    _check_format(f, "json", "geojson")
    collection = _collection(session, collection_id)
    label, output = _parse_crs(crs, "crs")
    missing = NotFoundError(
        Text(
            f"samlingen «{collection_id}» har ikke objektet «{feature_id}»",
            f"collection '{collection_id}' has no feature '{feature_id}'",
        )
    )
    fid: int | str = feature_id
    if collection.source.numeric_ids:
        # ASCII digits only: str.isdigit() takes '²' and '٣', which int() then refuses or reads.
        if not re.fullmatch(r"[0-9]{1,18}", feature_id):
            raise missing
        fid = int(feature_id)
    feature = repo.get_feature(session, collection.source, fid, output)
    if feature is None:
        raise missing
    collection_href = f"{_base_url(request)}/collections/{collection_id}"
    feature["links"] = [
        _link(_request_href(request), "self", GEOJSON, title="this feature"),
        _link(collection_href, "collection", title="the collection"),
    ]
    return GeoJSONResponse(feature, headers={"Content-Crs": f"<{crs_uri(label)}>"})
