"""OGC API – Features over Arealsjekk's data: Part 1 Core (GeoJSON and HTML), Part 2 CRS by
reference, Part 3 queryables and CQL2 filters, and the drafts of Part 5 (schemas), Part 6
(property selection) and Part 8 (sorting).

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
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import openapi_examples as ex
from app.db import SessionDep
from app.dependencies import INT8_MAX, BboxError, bbox_region, parse_bbox
from app.errors import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_S,
    STATUS_BY_ERROR,
    problem_response,
    problem_title,
    validation_problems,
)
from app.ogcapi import (
    ITEMS_PARAMETERS,
    InvalidParameterError,
    cql2,
    examples,
    html,
    openapi,
    selection,
)
from app.ogcapi.queryables import (
    FeatureSchema,
    feature_schema_json,
    fixed_schema,
    geojson_schema_json,
    geometry_format,
    layer_schema,
    queryables_json,
    sortables_json,
)
from app.repositories import ogcapi as repo
from app.repositories.geojson import crs_uri
from app.responses import GeoJSONResponse
from app.settings import get_settings
from app.urls import public_base_url
from layers.loader import current_versions
from layers.registry import get_registry
from spatial.crs import CRS84, CRS84_URI, parse_crs
from spatial.errors import ArealsjekkError, NotFoundError, Problem, UnsupportedCRSError
from spatial.messages import Text, join, localize

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    # service-desc is /ogcapi/api, an OpenAPI 3.0 document of this API (app.ogcapi.openapi).
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/properties",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/properties-features",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/features-sorting",
    # OGC API – Tiles – Part 1 (app/routers/tiles.py).
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
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
# The longest an items or item query may run: a filter or bbox that would take longer is
# cancelled by PostgreSQL and answered 503 rather than holding a connection for minutes.
STATEMENT_TIMEOUT_MS = 10_000
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"

JSON = "application/json"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
HTML = html.HTML
# Link relations of OGC API – Features Part 3 (queryables) and Part 5 (schema).
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SCHEMA = "http://www.opengis.net/def/rel/ogc/1.0/schema"
REL_SORTABLES = "http://www.opengis.net/def/rel/ogc/1.0/sortables"


class _OgcRoute(APIRoute):
    """A route answering invalid parameters with 400, as OGC API – Features requires."""

    invalid_parameter_status = 400  # read by app.openapi for the docs

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so validation errors become InvalidParameterError."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    problems = validation_problems(exc.errors())
                    detail = join(problem.describe() for problem in problems)
                    raise InvalidParameterError(detail, problems) from None
            except ArealsjekkError as exc:
                if not _error_as_html(request):
                    raise
                status = next(s for kind, s, _ in STATUS_BY_ERROR if isinstance(exc, kind))
                return _error_page(request, status, exc.detail, exc.problems)
            except DATABASE_UNAVAILABLE as exc:
                if getattr(getattr(exc, "orig", None), "sqlstate", None) != QUERY_CANCELED:
                    raise
                return _query_timeout(request)

        return route


def _error_as_html(request: Request) -> bool:
    """Whether an error of this request is shown as a page (f=html, or a browser's Accept)."""
    return html.wants_html(request, request.query_params.get("f"))


QUERY_TIMEOUT = Text(
    f"spørringen tok over {STATEMENT_TIMEOUT_MS // 1000} sekunder og ble avbrutt; prøv et "
    "mindre område, et enklere filter eller en mindre side (limit)",
    f"the query took over {STATEMENT_TIMEOUT_MS // 1000} seconds and was cancelled; try a "
    "smaller area, a simpler filter or a smaller page (limit)",
)


def _query_timeout(request: Request) -> Response:
    if _error_as_html(request):
        response = _error_page(request, 503, QUERY_TIMEOUT, [])
    else:
        response = problem_response(503, QUERY_TIMEOUT, "query-timeout", request.url.path)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _error_page(
    request: Request, status: int, detail: Text | str, problems: list[Problem] | None
) -> HTMLResponse:
    """An error of an HTML request as a page in bokmål, with the status of the problem."""
    base = _base_url(request)
    title = problem_title(status, "nb")
    response = html.render(
        request,
        "error",
        title,
        crumbs=_crumbs(base, (title, f"{_public_root(request)}{request.url.path}")),
        detail=localize(detail, "nb"),
        problems=[problem.as_dict("nb") for problem in problems or ()],
        back_href=f"{_public_root(request)}{request.url.path}?f=html",
        alternates=[],
    )
    response.status_code = status
    response.headers["Content-Language"] = "nb"
    return response


def _public_root(request: Request) -> str:
    return public_base_url(request, get_settings())


router = APIRouter(prefix="/ogcapi", tags=["ogcapi"], route_class=_OgcRoute)
PREFIX = router.prefix

CollectionIdPath = Annotated[
    str,
    Path(
        description="collection id: a guideline layer id, municipalities, proposals or findings",
        examples=["mineral_deposits"],
    ),
]
FormatQuery = Annotated[
    str | None,
    Query(
        description="response format: json, or html for browsers (without f, an Accept header "
        "preferring text/html gives html)",
        examples=["json"],
    ),
]


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
    schema: FeatureSchema
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
        "Findings with an area (overlaps, areas within a buffer) of the latest finished check "
        "of each proposal's latest version.",
        repo.finding_source,
    ),
    "finding_lines": (
        "Funn langs linjer (siste kontroll)",
        "Findings along a line (the part of a wild reindeer corridor inside a plan area) of "
        "the latest finished check of each proposal's latest version.",
        repo.finding_line_source,
    ),
}


def _base_url(request: Request) -> str:
    return public_base_url(request, get_settings()) + PREFIX


def _link(href: str, rel: str, media_type: str = JSON, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def check_params(request: Request, allowed: set[str]) -> None:
    """Refuse query parameters this resource does not take (400 naming them)."""
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


def check_format(f: str | None, *accepted: str) -> None:
    """Refuse an `f` this resource does not offer (400 naming the formats it does)."""
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


def _layer_collections(
    session: Session, with_extent: bool, only: str | None = None
) -> list[Collection]:
    current = current_versions(session)
    configs = [c for c in get_registry().values() if c.kind == "vector" and only in (None, c.id)]
    loaded = [current[c.id] for c in configs if c.id in current]
    extents = repo.layer_extents(session, [v.id for v in loaded]) if with_extent else {}
    collections = []
    for config in configs:
        version = current.get(config.id)
        source = repo.layer_source(version.id if version else None, config.geometry_type)
        collections.append(
            Collection(
                id=config.id,
                title=config.title,
                description=config.description.strip(),
                source=source,
                schema=layer_schema(config, source),
                extent=extents.get(version.id) if version else None,
                attribution=version.source if version else None,
                license=version.licence if version else None,
            )
        )
    return collections


def _fixed_collection(session: Session, collection_id: str, with_extent: bool) -> Collection:
    title, description, build = FIXED_COLLECTIONS[collection_id]
    source = build()
    schema = fixed_schema(collection_id, source)
    extent = repo.source_extent(session, source) if with_extent else None
    if collection_id == "municipalities":
        return Collection(
            collection_id,
            title,
            description,
            source,
            schema,
            extent,
            attribution="© Kartverket",
            license="CC BY 4.0",
        )
    return Collection(collection_id, title, description, source, schema, extent)


def find_collection(session: Session, collection_id: str, with_extent: bool = False) -> Collection:
    """Return the collection of an id, or raise NotFoundError naming it."""
    if collection_id in FIXED_COLLECTIONS:
        return _fixed_collection(session, collection_id, with_extent)
    found = _layer_collections(session, with_extent, only=collection_id)
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
            _link(f"{href}?f=html", "alternate", HTML, title="this collection as HTML"),
            _link(f"{href}/items", "items", GEOJSON, title="its features"),
            _link(f"{href}/queryables", REL_QUERYABLES, SCHEMA_JSON, title="queryables"),
            _link(f"{href}/schema", REL_SCHEMA, SCHEMA_JSON, title="schema of its features"),
            _link(f"{href}/sortables", REL_SORTABLES, SCHEMA_JSON, title="sortables"),
            # GDAL (3.6) reads its fields from a describedBy link, spelt so, of this type.
            _link(
                f"{href}/geojson-schema", "describedBy", SCHEMA_JSON, "JSON Schema of its features"
            ),
            _link(
                f"{href}/tiles",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                title="vector tiles",
            ),
            _link(
                f"{href}/map/tiles",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                title="map tiles",
            ),
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


def _wants_html(request: Request, f: str | None, *json_formats: str) -> bool:
    """Check `f` and tell whether to answer with HTML (f=html or a browser's Accept)."""
    check_format(f, *json_formats, "html")
    return html.wants_html(request, f)


def _crumbs(base: str, *pages: tuple[str, str]) -> list[dict[str, str]]:
    trail = [("OGC API", base), *pages]
    return [{"title": title, "href": f"{href}?f=html"} for title, href in trail]


def _alternates(request: Request, *media: tuple[str, str, str]) -> list[dict[str, str]]:
    """Links to this resource as JSON (and GeoJSON), for the HTML pages."""
    return [
        {"href": _request_href(request, f=f), "type": media_type, "title": title}
        for f, media_type, title in media
    ]


AS_JSON = ("json", JSON, "JSON")


@router.get("", summary="Landing page", responses=_ogc_responses(ex.OGC_LANDING, ex.OGC_BAD_FORMAT))
@router.get("/", include_in_schema=False)
def landing_page(request: Request, f: FormatQuery = None) -> Response:
    """Describe the OGC API – Features service and link to its parts."""
    check_params(request, set())
    as_html = _wants_html(request, f, "json")
    base = _base_url(request)
    root = public_base_url(request, get_settings())
    body = {
        "title": "Arealsjekk – OGC API Features",
        "description": "Buskerud's regional guideline layers, municipalities, plan "
        "proposals and the findings of their checks against Buskerudplanen.",
        "links": [
            _link(base, "self", title="this document"),
            _link(f"{base}?f=html", "alternate", HTML, "this document as HTML"),
            _link(f"{base}/api", "service-desc", openapi.MEDIA_TYPE, "API definition"),
            _link(f"{root}/api/v1/docs", "service-doc", HTML, "API documentation"),
            _link(f"{base}/conformance", "conformance", title="conformance classes"),
            _link(f"{base}/collections", "data", title="feature collections"),
            _link(
                f"{base}/tileMatrixSets",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                title="tile matrix sets",
            ),
        ],
    }
    if as_html:
        return html.render(
            request,
            "landing",
            "Arealsjekk – OGC API Features",
            crumbs=_crumbs(base),
            description="Regionale retningslinjelag for Buskerud, kommunene, planforslag og "
            "funnene fra kontrollene mot Buskerudplanen, som objektsamlinger.",
            self_href=base,
            collections_href=f"{base}/collections?f=html",
            conformance_href=f"{base}/conformance?f=html",
            api_href=f"{base}/api",
            docs_href=f"{root}/api/v1/docs",
            alternates=_alternates(request, AS_JSON),
        )
    return JSONResponse(body)


@router.get(
    "/api",
    summary="OpenAPI document of the OGC API",
    responses={200: ex.example_response(examples.OPENAPI, media_type=openapi.MEDIA_TYPE)},
)
def api_definition(request: Request, session: SessionDep, f: FormatQuery = None) -> Response:
    """The OpenAPI 3.0 definition of /ogcapi (its service-desc), with each collection's items
    described by that collection's properties."""
    check_params(request, set())
    as_html = _wants_html(request, f, "json")
    collections = _layer_collections(session, with_extent=False) + [
        _fixed_collection(session, collection_id, with_extent=False)
        for collection_id in FIXED_COLLECTIONS
    ]
    document = openapi.document(
        _base_url(request),
        [(c.id, c.title, c.schema) for c in collections],
        CRS_URIS,
        MAX_LIMIT,
        DEFAULT_LIMIT,
    )
    if as_html:
        base = _base_url(request)
        operations = [
            {"path": path, "summary": item["get"]["summary"]}
            for path, item in document["paths"].items()
        ]
        return html.render(
            request,
            "api",
            "API-definisjon",
            crumbs=_crumbs(base, ("API-definisjon", f"{base}/api")),
            operations=operations,
            docs_href=f"{public_base_url(request, get_settings())}/api/v1/docs",
            alternates=_alternates(request, ("json", openapi.MEDIA_TYPE, "OpenAPI 3.0 (JSON)")),
        )
    return JSONResponse(document, media_type=openapi.MEDIA_TYPE)


@router.get(
    "/conformance",
    responses=_ogc_responses(ex.OGC_CONFORMANCE, ex.at(ex.OGC_BAD_FORMAT, f"{PREFIX}/conformance")),
)
def conformance(request: Request, f: FormatQuery = None) -> Response:
    """List the conformance classes this service implements."""
    check_params(request, set())
    if _wants_html(request, f, "json"):
        base = _base_url(request)
        return html.render(
            request,
            "conformance",
            "Samsvarsklasser",
            crumbs=_crumbs(base, ("Samsvarsklasser", f"{base}/conformance")),
            conforms_to=CONFORMANCE,
            alternates=_alternates(request, AS_JSON),
        )
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get(
    "/collections",
    responses=_ogc_responses(ex.OGC_COLLECTIONS, ex.OGC_UNKNOWN_PARAMETER),
)
def list_collections(request: Request, session: SessionDep, f: FormatQuery = None) -> Response:
    """List the collections: vector guideline layers, municipalities, proposals, findings."""
    check_params(request, set())
    as_html = _wants_html(request, f, "json")
    base = _base_url(request)
    collections = _layer_collections(session, with_extent=True) + [
        _fixed_collection(session, collection_id, with_extent=True)
        for collection_id in FIXED_COLLECTIONS
    ]
    if as_html:
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "description": c.description,
                "license": c.license,
                "href": f"{base}/collections/{c.id}?f=html",
                "items_href": f"{base}/collections/{c.id}/items?f=html",
            }
            for c in collections
        ]
        return html.render(
            request,
            "collections",
            "Samlinger",
            crumbs=_crumbs(base, ("Samlinger", f"{base}/collections")),
            collections=rows,
            alternates=_alternates(request, AS_JSON),
        )
    return JSONResponse(
        {
            "links": [
                _link(f"{base}/collections", "self", title="this document"),
                _link(f"{base}/collections?f=html", "alternate", HTML, "this document as HTML"),
            ],
            "collections": [_collection_json(c, base) for c in collections],
        }
    )


def _property_rows(schema: FeatureSchema) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "title": p.title,
            "type": p.type,
            "enum": p.enum,
            "minimum": p.minimum,
            "maximum": p.maximum,
        }
        for p in schema.properties
    ]


@router.get(
    "/collections/{collection_id}",
    responses=_ogc_responses(ex.OGC_COLLECTION, ex.NO_COLLECTION),
)
def get_collection(
    collection_id: CollectionIdPath, request: Request, session: SessionDep, f: FormatQuery = None
) -> Response:
    """Describe one feature collection."""
    check_params(request, set())
    as_html = _wants_html(request, f, "json")
    collection = find_collection(session, collection_id, with_extent=True)
    base = _base_url(request)
    if as_html:
        href = f"{base}/collections/{collection_id}"
        return html.render(
            request,
            "collection",
            collection.title,
            crumbs=_crumbs(base, ("Samlinger", f"{base}/collections"), (collection.title, href)),
            collection=collection,
            geometry_type=collection.schema.geometry_type,
            extent=collection.extent,
            storage_crs=STORAGE_CRS,
            crss=CRS_URIS,
            items_href=f"{href}/items?f=html",
            queryables_href=f"{href}/queryables?f=html",
            schema_href=f"{href}/schema?f=html",
            sortables_href=f"{href}/sortables?f=html",
            properties=_property_rows(collection.schema),
            alternates=_alternates(request, AS_JSON),
        )
    return JSONResponse(_collection_json(collection, base))


@dataclass(frozen=True)
class _SchemaPage:
    """One of a collection's JSON Schema resources: how to build it and its HTML page."""

    title: str
    intro: str
    build: Callable[[FeatureSchema, str, str], dict[str, Any]]
    filterable: bool = False


SCHEMA_PAGES = {
    "queryables": _SchemaPage(
        "Queryables",
        "Disse egenskapene kan brukes i filter (CQL2) og i sortby.",
        queryables_json,
        filterable=True,
    ),
    "sortables": _SchemaPage(
        "Sortables",
        "Disse egenskapene kan brukes i sortby (med - foran navnet for synkende rekkefølge).",
        sortables_json,
    ),
    "schema": _SchemaPage(
        "Skjema",
        "Skjemaet for objektene i samlingen: id, geometri og egenskapene med typer.",
        feature_schema_json,
    ),
    "geojson-schema": _SchemaPage(
        "GeoJSON-skjema",
        "JSON Schema for GeoJSON-objektene i samlingen; GDAL leser feltene sine fra det.",
        geojson_schema_json,
    ),
}


def _schema_answer(
    request: Request, session: Session, collection_id: str, part: str, f: str | None
) -> Response:
    """A collection's queryables, sortables or schema: JSON Schema, or HTML for browsers."""
    check_params(request, set())
    as_html = _wants_html(request, f, "json")
    collection = find_collection(session, collection_id)
    page = SCHEMA_PAGES[part]
    base = _base_url(request)
    href = f"{base}/collections/{collection_id}"
    if as_html:
        return html.render(
            request,
            "queryables",
            f"{page.title}: {collection.title}",
            crumbs=_crumbs(
                base,
                ("Samlinger", f"{base}/collections"),
                (collection.title, href),
                (page.title, f"{href}/{part}"),
            ),
            intro=page.intro,
            caption=page.title,
            spatial_note=page.filterable,
            geometry_format=geometry_format(collection.schema.geometry_type),
            properties=_property_rows(collection.schema),
            alternates=_alternates(request, ("json", SCHEMA_JSON, "JSON Schema")),
        )
    body = page.build(collection.schema, f"{href}/{part}", collection.title)
    return JSONResponse(body, media_type=SCHEMA_JSON)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Queryables of a collection",
    responses={
        200: ex.example_response(examples.QUERYABLES, media_type=SCHEMA_JSON),
        **ex.problems(ex.NO_COLLECTION),
    },
)
def get_queryables(
    collection_id: CollectionIdPath, request: Request, session: SessionDep, f: FormatQuery = None
) -> Response:
    """The properties a filter or sortby may name, as JSON Schema (OGC API Features Part 3);
    present for an empty collection too."""
    return _schema_answer(request, session, collection_id, "queryables", f)


@router.get(
    "/collections/{collection_id}/sortables",
    summary="Sortables of a collection",
    responses={
        200: ex.example_response(
            {
                **examples.QUERYABLES,
                "$id": examples.QUERYABLES["$id"].replace("queryables", "sortables"),
            },
            media_type=SCHEMA_JSON,
        ),
        **ex.problems(ex.NO_COLLECTION),
    },
)
def get_sortables(
    collection_id: CollectionIdPath, request: Request, session: SessionDep, f: FormatQuery = None
) -> Response:
    """The properties sortby may name, as JSON Schema (OGC API Features Part 8, draft)."""
    return _schema_answer(request, session, collection_id, "sortables", f)


@router.get(
    "/collections/{collection_id}/schema",
    summary="Schema of a collection's features",
    responses={
        200: ex.example_response(examples.SCHEMA, media_type=SCHEMA_JSON),
        **ex.problems(ex.NO_COLLECTION),
    },
)
def get_schema(
    collection_id: CollectionIdPath, request: Request, session: SessionDep, f: FormatQuery = None
) -> Response:
    """The features' id, geometry type and properties as JSON Schema (OGC API Features Part 5,
    draft); present for an empty collection too, so GIS clients get its fields."""
    return _schema_answer(request, session, collection_id, "schema", f)


@router.get(
    "/collections/{collection_id}/geojson-schema",
    summary="JSON Schema of a collection's GeoJSON features",
    responses={
        200: ex.example_response(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"properties": {"type": "object", "properties": {}}},
            },
            media_type=SCHEMA_JSON,
        ),
        **ex.problems(ex.NO_COLLECTION),
    },
)
def get_geojson_schema(
    collection_id: CollectionIdPath, request: Request, session: SessionDep, f: FormatQuery = None
) -> Response:
    """The collection's GeoJSON features as JSON Schema (its describedBy link), from which
    GDAL builds its fields, for an empty collection too."""
    return _schema_answer(request, session, collection_id, "geojson-schema", f)


@dataclass(frozen=True)
class ItemsQuery:
    """The query parameters of an items request, before CRS, bbox and filter are parsed."""

    bbox: str | None
    bbox_crs: str | None
    limit: int
    offset: int
    crs: str | None
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: str | None = None
    sortby: str | None = None
    properties: str | None = None


PropertiesQuery = Annotated[
    str | None,
    Query(
        description="comma-separated property names to return (Part 6, draft); an empty value "
        "returns none",
        examples=["name,importance"],
    ),
]


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
    filter_: Annotated[
        str | None,
        Query(
            alias="filter",
            description="a CQL2 filter over the collection's queryables (see its queryables), "
            "e.g. importance IN ('nasjonal','regional') AND S_INTERSECTS(geometry, "
            "BBOX(8.9,60.6,9.1,60.8))",
            examples=["importance = 'regional'"],
        ),
    ] = None,
    filter_lang: Annotated[
        str | None,
        Query(alias="filter-lang", description="cql2-text (default) or cql2-json"),
    ] = None,
    filter_crs: Annotated[
        str | None,
        Query(alias="filter-crs", description="CRS of the filter's geometries (default CRS84)"),
    ] = None,
    sortby: Annotated[
        str | None,
        Query(
            description="comma-separated property names to sort by, - before a name for "
            "descending (Part 8, draft)",
            examples=["-importance,name"],
        ),
    ] = None,
    properties: PropertiesQuery = None,
) -> ItemsQuery:
    """Read the items query parameters, capping the limit."""
    if datetime_ is not None:
        _check_datetime(datetime_)
    # An empty filter or sortby (as the HTML form sends) is none; an empty properties keeps
    # no property (Part 6).
    return ItemsQuery(
        bbox,
        bbox_crs,
        min(limit, MAX_LIMIT),
        offset,
        crs,
        (filter_ or "").strip() or None,
        filter_lang,
        filter_crs,
        (sortby or "").strip() or None,
        properties,
    )


def _filter_condition(query: ItemsQuery, collection: Collection) -> Any:
    language = query.filter_lang or "cql2-text"
    if language not in cql2.LANGUAGES:
        raise InvalidParameterError(
            Text(
                f"filter-lang «{language}» støttes ikke; bruk cql2-text eller cql2-json",
                f"filter-lang '{language}' is not supported; use cql2-text or cql2-json",
            ),
            [Problem(Text("ukjent filterspråk", "unknown filter language"), field="filter-lang")],
        )
    label, crs = _parse_crs(query.filter_crs, "filter-crs")
    ref = CRS84 if label == "CRS84" else parse_crs(label)
    node = cql2.parse_filter(query.filter or "", language)
    return cql2.to_condition(
        node, collection.schema, collection.source.geom, cql2.FilterCrs(ref, crs.lat_lon)
    )


def _page_query(query: ItemsQuery, collection: Collection) -> repo.PageQuery:
    """The filter, sort keys and property selection of an items request."""
    where = () if query.filter is None else (_filter_condition(query, collection),)
    order = () if query.sortby is None else selection.sort_keys(query.sortby, collection.schema)
    kept = (
        None
        if query.properties is None
        else selection.selected_properties(query.properties, collection.schema)
    )
    return repo.PageQuery(where, order, kept)


def _limit_statement_time(session: Session) -> None:
    """Bound the queries of this request's transaction (as WMS GetFeatureInfo does)."""
    session.execute(
        text("SELECT set_config('statement_timeout', :ms, true)"),
        {"ms": str(STATEMENT_TIMEOUT_MS)},
    )


def _request_href(request: Request, drop: tuple[str, ...] = (), **changes: str) -> str:
    """This request's URL (with `changes` to its query, without the `drop` parameters) under the
    public base URL, so that no link carries the client's Host header."""
    params = {k: v for k, v in request.query_params.items() if k not in drop} | changes
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
        examples.BAD_FILTER,
        examples.UNKNOWN_SORT,
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
) -> Response:
    """Return a page of a collection's features as GeoJSON, optionally within a bbox, matching
    a CQL2 filter, sorted and with selected properties."""
    check_params(request, set(ITEMS_PARAMETERS))
    as_html = _wants_html(request, f, "json", "geojson")
    collection = find_collection(session, collection_id)
    label, output = _parse_crs(query.crs, "crs")
    bbox_label, bbox_crs = _parse_crs(query.bbox_crs, "bbox-crs")
    area = None if query.bbox is None else _parse_bbox(query.bbox, bbox_label, bbox_crs)
    page_query = _page_query(query, collection)
    limit, offset = query.limit, query.offset
    _limit_statement_time(session)
    features, matched = repo.feature_page(
        session, collection.source, area, output, limit, offset, page_query
    )
    collection_href = f"{_base_url(request)}/collections/{collection_id}"
    has_next = offset + len(features) < matched
    if as_html:
        return _items_page(request, collection, features, matched, query, has_next)
    links = [
        _link(_request_href(request), "self", GEOJSON, title="this page"),
        _link(_request_href(request, f="html"), "alternate", HTML, title="this page as HTML"),
        _link(collection_href, "collection", title="the collection"),
    ]
    if has_next:
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


def _items_page(
    request: Request,
    collection: Collection,
    features: list[dict[str, Any]],
    matched: int,
    query: ItemsQuery,
    has_next: bool,
) -> HTMLResponse:
    base = _base_url(request)
    href = f"{base}/collections/{collection.id}"
    limit, offset = query.limit, query.offset
    columns = collection.schema.names
    if query.properties is not None:
        kept = selection.selected_properties(query.properties, collection.schema)
        columns = [name for name in columns if name in kept]
    rows = [
        {
            "id": feature["id"],
            "href": f"{href}/items/{feature['id']}?f=html",
            "properties": feature["properties"],
        }
        for feature in features
    ]
    return html.render(
        request,
        "items",
        f"Objekter: {collection.title}",
        crumbs=_crumbs(
            base,
            ("Samlinger", f"{base}/collections"),
            (collection.title, href),
            ("Objekter", f"{href}/items"),
        ),
        collection=collection,
        features=rows,
        columns=columns,
        number_matched=matched,
        number_returned=len(features),
        first=offset + 1,
        last=offset + len(features),
        limit=limit,
        filter=query.filter,
        sortby=query.sortby,
        items_href=f"{href}/items",
        queryables_href=f"{href}/queryables?f=html",
        # The map draws this page in CRS84, whatever crs the page was asked in.
        geojson_href=_request_href(request, drop=("crs",), f="json"),
        next_href=_request_href(request, offset=str(offset + limit)) if has_next else None,
        prev_href=(
            _request_href(request, offset=str(max(offset - limit, 0))) if offset > 0 else None
        ),
        alternates=_alternates(request, ("json", GEOJSON, "GeoJSON")),
    )


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
    properties: PropertiesQuery = None,
    f: FormatQuery = None,
) -> Response:
    """Return one feature of a collection."""
    check_params(request, {"crs", "properties"})
    as_html = _wants_html(request, f, "json", "geojson")
    collection = find_collection(session, collection_id)
    label, output = _parse_crs(crs, "crs")
    kept = (
        None if properties is None else selection.selected_properties(properties, collection.schema)
    )
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
    _limit_statement_time(session)
    feature = repo.get_feature(session, collection.source, fid, output, kept)
    if feature is None:
        raise missing
    base = _base_url(request)
    collection_href = f"{base}/collections/{collection_id}"
    if as_html:
        return html.render(
            request,
            "item",
            f"{collection.title}: {feature_id}",
            crumbs=_crumbs(
                base,
                ("Samlinger", f"{base}/collections"),
                (collection.title, collection_href),
                ("Objekter", f"{collection_href}/items"),
                (feature_id, f"{collection_href}/items/{feature_id}"),
            ),
            collection=collection,
            feature=feature,
            items_href=f"{collection_href}/items?f=html",
            geojson_href=_request_href(request, drop=("crs",), f="json"),
            alternates=_alternates(request, ("json", GEOJSON, "GeoJSON")),
        )
    feature["links"] = [
        _link(_request_href(request), "self", GEOJSON, title="this feature"),
        _link(_request_href(request, f="html"), "alternate", HTML, title="this feature as HTML"),
        _link(collection_href, "collection", title="the collection"),
    ]
    return GeoJSONResponse(feature, headers={"Content-Crs": f"<{crs_uri(label)}>"})
