"""The web pages: the planner's map page (/) and the regional plan forum's overview (/forum).

The pages are plain HTML with vanilla ES modules in app/static/; Leaflet is vendored from
npm into app/static/vendor/ by frontend/build.sh, so nothing is loaded from a CDN.
"""

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.land_account_export import daa, page_view
from app.reports.formatting import fmt_datetime
from app.settings import OFFLINE_BASEMAP, Settings
from spatial.errors import InvalidInputError
from spatial.figures import fmt_number, fmt_pct
from spatial.inputs.formats import EXTENSIONS, FORMAT_TITLES_NB
from spatial.messages import Text

APP_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = APP_DIR / "static"
STATIC_PATH = "/static"
# The WMS layer drawn as the base map when no tile service is configured (app.wms.catalog).
OFFLINE_BASEMAP_LAYER = "basemap"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=APP_DIR / "templates" / "pages")


def _page(request: Request, template: str, title: str, **extra: object) -> HTMLResponse:
    context = {"title": title, "version": __version__, "static": STATIC_PATH, "page": template}
    return templates.TemplateResponse(request, f"{template}.html", {**context, **extra})


def basemap_config(settings: Settings) -> dict[str, str]:
    """The map page's base map: Kartverket's tiles (or another XYZ template), or our WMS."""
    if settings.basemap_url == OFFLINE_BASEMAP:
        return {
            "kind": "wms",
            "url": "/wms",
            "layer": OFFLINE_BASEMAP_LAYER,
            "attribution": "Bakgrunnskart: Arealsjekk, av terrengmodell og kommunegrenser "
            "(© Kartverket)",
        }
    return {
        "kind": "xyz",
        "url": settings.basemap_url,
        "layer": "",
        "attribution": settings.basemap_attribution,
    }


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The planner's page: upload a proposal, see it and its findings on the map."""
    return _page(
        request,
        "map",
        "Arealsjekk – kontroll av planforslag",
        upload_accept=",".join(EXTENSIONS),
        upload_formats=FORMAT_TITLES_NB,
        basemap=basemap_config(settings),
    )


@router.get("/forum", response_class=HTMLResponse)
def forum_page(request: Request) -> HTMLResponse:
    """The regional plan forum's overview of findings across municipalities, with review."""
    return _page(request, "forum", "Arealsjekk – regionalt planforum")


@router.get("/arealregnskap", response_class=HTMLResponse)
def land_account_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    # Empty values are what the page's own form sends for «Hele fylket» and no date.
    kommune: Annotated[str, Query(pattern=r"^([0-9]{4})?$")] = "",
    day: Annotated[str, Query(alias="date", pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")] = "",
) -> HTMLResponse:
    """The land account: the county table, a municipality's charts, map and files."""
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError:
        raise InvalidInputError(Text(f"ugyldig dato: {day}", f"invalid date: {day}")) from None
    view = page_view(session, kommune or None, on)
    response = _page(
        request,
        "arealregnskap",
        "Arealsjekk – arealregnskap" + (f" for {view['selected_name']}" if view["account"] else ""),
        basemap=basemap_config(settings),
        daa=daa,
        fmt_pct=fmt_pct,
        fmt_number=fmt_number,
        fmt_datetime=fmt_datetime,
        **view,
    )
    response.status_code = view["status"]
    return response
