"""Interactive API documentation served from the bundled Swagger UI (no CDN at run time)."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.routers.pages import STATIC_PATH as PAGES_STATIC_PATH

DOCS_PATH = "/api/v1/docs"
STATIC_PATH = "/api/v1/docs/static"
OPENAPI_URL = "/api/v1/openapi.json"

# Swagger UI is started by a script file, not an inline script: the pages' Content-Security-
# Policy allows scripts from this service's files only (script-src 'self', app/headers.py).
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Arealsjekk API</title>
<link rel="stylesheet" href="{STATIC_PATH}/swagger-ui.css">
<link rel="icon" href="{STATIC_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
<script src="{STATIC_PATH}/swagger-ui-bundle.js"></script>
<script src="{PAGES_STATIC_PATH}/api-docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH, response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """Serve Swagger UI for the OpenAPI document."""
    return HTMLResponse(PAGE)
