"""The FastAPI application."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__, webhook_payloads
from app.check_runner import get_rule_set
from app.compression import CompressionMiddleware
from app.cors import CorsMiddleware
from app.db import get_engine
from app.errors import add_exception_handlers
from app.headers import SecurityHeadersMiddleware
from app.http_cache import HttpCacheMiddleware
from app.idempotency import IdempotencyMiddleware
from app.land_account import get_method
from app.language import LanguageMiddleware
from app.limits import BodyLimitMiddleware
from app.metrics import RequestMiddleware
from app.openapi import install_openapi, operation_id, tags
from app.routers import (
    checks,
    docs,
    forum,
    health,
    land_account,
    layers,
    metrics,
    municipalities,
    ogcapi,
    pages,
    plans,
    proposals,
    reports,
    rules,
    session,
    tiles,
    webhooks,
    wms,
)
from app.runtime import tune_garbage_collector
from app.settings import get_settings
from app.wire import HeaderCaseMiddleware, HeadMiddleware
from app.wms.pool import prepare_render_pool, stop_render_pool

logger = logging.getLogger(__name__)

DESCRIPTION = """
Arealsjekk checks municipal land-use plan proposals in Buskerud against the regional
land-use guidelines of *Buskerudplanen* (chapter 6).

Errors are RFC 7807 problem details (`application/problem+json`); input errors list
every problem with the feature it concerns. GeoJSON is CRS84 unless `crs` asks otherwise.

**API keys.** Uploads, checks, the forum, webhooks and layer loading need an API key
(`Authorization: Bearer ask_…`, or `X-API-Key: ask_…`; use *Authorize* below). Reading
published proposals and their checks needs none; with a key you also see the drafts you
may see. Roles: *planner* (one municipality), *case_system* (one municipality or
county-wide; webhooks), *forum* (the regional plan forum) and *admin* (everything). Each
operation says whether it needs a key and which roles may call it.

**Retries.** A POST with an `Idempotency-Key` header is done at most once; a retry with
the same Idempotency-Key, API key and request within 24 hours gets the first answer again.

The examples are the Hemsedal kommuneplan `3326_KPA2026` (`samples/hemsedal-kpa-2026.geojson`)
checked against the demo guideline layers. The map page (`/`) and the forum page
(`/forum`) are HTML pages for people, outside this API description.

Municipality boundaries © Kartverket, CC BY 4.0.
"""


API_ROUTERS = (
    docs.router,
    health.router,
    metrics.router,
    municipalities.router,
    land_account.router,
    proposals.router,
    layers.router,
    checks.router,
    rules.router,
    ogcapi.router,
    tiles.router,
    wms.router,
    webhooks.router,
    plans.router,
    reports.router,
    forum.router,
    session.router,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Prepare the renderers; release resources on exit. Background work is not done here:
    `arealsjekk worker` processes run the queued jobs (app/jobs.py)."""
    tune_garbage_collector(get_settings().gc_generation0_threshold)
    prepare_render_pool()
    yield
    stop_render_pool()
    get_engine().dispose()


def create_app() -> FastAPI:
    """Build the application with its routers and error handlers."""
    app = FastAPI(
        title="Arealsjekk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by app.routers.docs from local files
        redoc_url=None,
        # Resolving the rule set here checks it against the layer registry: a layer config
        # naming a rule the rule set lacks stops the service at start rather than mid-check.
        openapi_tags=tags(get_rule_set(get_settings())),
        generate_unique_id_function=operation_id,
    )
    get_method(get_settings())  # a broken land-account method file stops the start, too
    add_exception_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware)  # outside idempotency: it caps what that reads
    app.add_middleware(HttpCacheMiddleware)  # tags the body before gzip (gzip's bytes vary)
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(CorsMiddleware)  # outside gzip and caching: preflights end here
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(LanguageMiddleware)  # every answer, errors too, has a language
    app.add_middleware(HeadMiddleware)  # every middleware inside sees a HEAD as its GET
    app.add_middleware(RequestMiddleware)  # request id, latency, access log: the whole request
    app.add_middleware(HeaderCaseMiddleware)  # outermost: names every header canonically
    app.mount(docs.STATIC_PATH, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path))
    for router in API_ROUTERS:
        app.include_router(router)
    app.mount(pages.STATIC_PATH, StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.include_router(pages.router)
    # What the service sends to case systems, documented under the document's `webhooks`.
    app.webhooks.include_router(webhook_payloads.events)
    install_openapi(app, API_ROUTERS)
    return app
