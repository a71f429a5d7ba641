"""Interactive API documentation served from the bundled Swagger UI (no CDN at run time)."""

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS_PATH = "/api/v1/docs"
STATIC_PATH = "/api/v1/docs/static"

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH, response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """Serve Swagger UI for the OpenAPI document."""
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="Arealsjekk API",
        swagger_js_url=f"{STATIC_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PATH}/favicon-32x32.png",
    )
