"""The HTML representation of the OGC API (Core §7.2.4 recommends HTML besides JSON).

Browsers get HTML: `f=html`, or an Accept header preferring text/html. Every other client
gets JSON as before (an explicit `f` wins; a tie, as with `Accept: */*`, is JSON).
"""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.routers.pages import APP_DIR, STATIC_PATH, basemap_config
from app.settings import get_settings
from spatial.messages import weighted_items

HTML = "text/html"
templates = Jinja2Templates(directory=APP_DIR / "templates" / "ogcapi")
_JSON_TYPES = ("application/json", "application/geo+json", "application/schema+json")


def _quality(entries: list[tuple[str, float]], media_type: str) -> float:
    """The q-value the Accept entries give a media type (most specific match wins)."""
    kind = media_type.split("/")[0]
    for candidate in (media_type, f"{kind}/*", "*/*"):
        for name, quality in entries:
            if name == candidate:
                return quality
    return 0.0


def wants_html(request: Request, f: str | None) -> bool:
    """Tell whether to answer with HTML: f=html, or no f and an Accept preferring text/html."""
    if f is not None:
        return f == "html"
    entries = weighted_items(request.headers.get("accept"))
    html = _quality(entries, HTML)
    return html > 0 and html > max(_quality(entries, t) for t in _JSON_TYPES)


def render(request: Request, template: str, title: str, **context: Any) -> HTMLResponse:
    """Render an OGC API page with the shared context (static path, version, base map)."""
    values = {
        "title": title,
        "static": STATIC_PATH,
        "version": __version__,
        "basemap": basemap_config(get_settings()),
        **context,
    }
    return templates.TemplateResponse(request, f"{template}.html", values)


def display(value: Any) -> str:
    """A property value as page text (empty for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


templates.env.filters["display"] = display
