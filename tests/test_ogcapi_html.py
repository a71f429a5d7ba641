"""The OGC API's HTML representation: f=html and browsers' Accept, links, map, accessibility."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from shapely.geometry import box

from tests.rule_fixtures import load_vector_layer
from tests.test_e2e_accessibility import LAPTOP, axe_violations
from tests.test_e2e_browser import CSP_WATCH, browser  # noqa: F401 (fixture used by name)

X0, Y0 = 470_000.0, 6_750_000.0  # Hemsedal, EPSG:25832
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
PAGES = [
    "/ogcapi",
    "/ogcapi/conformance",
    "/ogcapi/collections",
    "/ogcapi/collections/mineral_deposits",
    "/ogcapi/collections/mineral_deposits/items",
    "/ogcapi/collections/mineral_deposits/queryables",
    "/ogcapi/collections/villrein_areas/items",  # never loaded: an empty page
    "/ogcapi/collections/villrein_areas/queryables",
    "/ogcapi/collections/municipalities/items/3326",
    "/ogcapi/collections/findings/sortables",
    "/ogcapi/collections/proposals/schema",
    "/ogcapi/collections/transport_hubs/geojson-schema",
    "/ogcapi/api",
]


class Page(HTMLParser):
    """What the tests look at in a page: links, scripts, tables, the map element."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.alternates: list[dict[str, str]] = []
        self.scripts: list[str | None] = []
        self.tables = 0
        self.captions = 0
        self.header_cells: list[dict[str, str]] = []
        self.map: dict[str, str] | None = None
        self.lang: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect the attributes the tests need."""
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if tag in ("a", "link") and "href" in values:
            self.hrefs.append(values["href"])
            if values.get("rel") == "alternate" and tag == "a":
                self.alternates.append(values)
        if tag == "script":
            self.scripts.append(values.get("src"))
        if tag == "table":
            self.tables += 1
        if tag == "caption":
            self.captions += 1
        if tag == "th":
            self.header_cells.append(values)
        if values.get("id") == "ogc-map":
            self.map = values


@pytest.fixture
def deposits(tmp_path) -> None:
    records = [
        {
            "geometry": box(X0 + i * 1000, Y0, X0 + i * 1000 + 100, Y0 + 100),
            "importance": "regional",
            "name": f"Forekomst {i}",
        }
        for i in range(3)
    ]
    load_vector_layer("mineral_deposits", records, tmp_path)


def get_page(client, url: str, **params) -> Page:
    response = client.get(url, params={"f": "html", **params})
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"].startswith("text/html")
    # Documents carry the Content-Security-Policy; the pages need no inline script.
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return Page(response.text)


@pytest.mark.parametrize("url", PAGES)
def test_pages_are_accessible_bokmal_documents(client, deposits, url):
    """Each page is lang="nb", labels its tables and header cells, and runs scripts from files."""
    page = get_page(client, url)
    assert page.lang == "nb"
    assert page.tables == page.captions
    assert all(cell.get("scope") in ("col", "row") for cell in page.header_cells)
    assert None not in page.scripts  # no inline script (CSP script-src 'self')
    assert page.alternates, "a link to the JSON representation"


@pytest.mark.parametrize("url", PAGES)
def test_every_link_on_the_pages_works(client, deposits, url):
    """Every link of a page within this service answers 200 (HTML pages, JSON, static files)."""
    page = get_page(client, url)
    own = [href for href in page.hrefs if href.startswith(("/", "http://testserver"))]
    assert own
    for href in own:
        parts = urlsplit(href)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.get(target)
        assert response.status_code == 200, (url, href, response.text[:300])
    for alternate in page.alternates:
        response = client.get(alternate["href"])
        assert response.headers["content-type"].split(";")[0] == alternate["type"].split(";")[0]


def test_items_page_shows_features_map_and_paging(client, deposits):
    """The items page lists the features, links the next page and gives the map its GeoJSON."""
    page = get_page(client, "/ogcapi/collections/mineral_deposits/items", limit=2)
    item_links = [h for h in page.hrefs if "/items/" in h]
    assert len(item_links) == 2 and all(h.endswith("?f=html") for h in item_links)
    next_pages = [h for h in page.hrefs if "offset=2" in h]
    assert next_pages
    assert page.map is not None
    geojson = client.get(page.map["data-geojson"])
    assert geojson.headers["content-type"] == "application/geo+json"
    body = geojson.json()
    assert body["numberReturned"] == 2
    lon, lat = body["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 8 < lon < 9 and 60 < lat < 61  # CRS84 for Leaflet, whatever crs the page used
    scripts = [src for src in page.scripts if src]
    assert any("leaflet.js" in src for src in scripts)
    assert any("ogcapi-map.js" in src for src in scripts)
    for src in scripts:
        assert client.get(src).status_code == 200

    utm = get_page(client, "/ogcapi/collections/mineral_deposits/items", crs="EPSG:25832", limit=1)
    assert "crs=" not in utm.map["data-geojson"]


def test_items_page_filters_and_sorts(client, deposits):
    """The items page takes filter and sortby like the JSON does, and shows the count."""
    response = client.get(
        "/ogcapi/collections/mineral_deposits/items",
        params={"f": "html", "filter": "name = 'Forekomst 1'", "sortby": "-name"},
    )
    assert response.status_code == 200
    assert "1 objekter" in response.text
    assert "Forekomst 1" in response.text and "Forekomst 2" not in response.text
    assert 'value="name = &#39;Forekomst 1&#39;"' in response.text  # the form keeps it, escaped


@pytest.mark.parametrize(
    ("accept", "f", "media_type"),
    [
        (BROWSER, None, "text/html"),
        ("text/html", None, "text/html"),
        (BROWSER, "json", "application/json"),  # an explicit f wins
        ("application/json", "html", "text/html"),
        ("*/*", None, "application/json"),  # curl, requests
        ("application/json, text/html;q=0.5", None, "application/json"),
        ("text/html;q=0.5, */*", None, "application/json"),
        ("", None, "application/json"),
    ],
)
def test_content_negotiation(client, accept, f, media_type):
    """Browsers get HTML; every other client JSON, unless f asks otherwise."""
    params = {} if f is None else {"f": f}
    response = client.get("/ogcapi/collections", params=params, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type


def test_items_and_item_negotiate_geojson_too(client, deposits):
    """Items answer GeoJSON to clients, HTML to browsers."""
    url = "/ogcapi/collections/mineral_deposits/items"
    assert client.get(url).headers["content-type"] == "application/geo+json"
    assert (
        client.get(url, headers={"Accept": BROWSER}).headers["content-type"].startswith("text/html")
    )
    first = client.get(url).json()["features"][0]["id"]
    item = client.get(f"{url}/{first}", headers={"Accept": BROWSER})
    assert item.headers["content-type"].startswith("text/html")
    assert "Forekomst" in item.text and 'id="ogc-map"' in item.text


def test_html_escapes_data(client, tmp_path):
    """Values from the data are inserted as text."""
    record = {"geometry": box(X0, Y0, X0 + 100, Y0 + 100), "importance": "regional"}
    record["name"] = "<script>alert(1)</script>"
    load_vector_layer("mineral_deposits", [record], tmp_path)
    response = client.get("/ogcapi/collections/mineral_deposits/items?f=html")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_pages_in_a_browser_are_accessible_and_draw_the_map(
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    deposits,
):
    """In Chromium: axe-core finds no serious or critical violation, the policy blocks
    nothing and the items map draws the features."""
    context = browser.new_context(viewport=LAPTOP, locale="nb-NO")
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for url in PAGES:
        page.goto(f"{live_server}{url}", wait_until="networkidle")  # Accept: a browser's
        assert page.evaluate("document.documentElement.lang") == "nb"
        assert axe_violations(page, url) == [], url
        assert page.evaluate("window.__cspViolations") == [], url
    page.goto(f"{live_server}/ogcapi/collections/mineral_deposits/items", wait_until="networkidle")
    page.wait_for_selector("#ogc-map path.leaflet-interactive")
    assert page.locator("#ogc-map path.leaflet-interactive").count() == 3
    assert errors == []
    context.close()


def test_the_form_with_empty_fields_shows_everything(client, deposits):
    """The items form sends filter= and sortby= when they are empty: that is no filter and no
    sorting, for the page and for the JSON alike; an empty properties keeps no property."""
    url = "/ogcapi/collections/mineral_deposits/items"
    page = client.get(url, params={"f": "html", "filter": "", "sortby": "", "limit": "10"})
    assert page.status_code == 200, page.text
    assert "3 objekter" in page.text
    as_json = client.get(url, params={"filter": " ", "sortby": ""})
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["numberMatched"] == 3
    bare = client.get(url, params={"properties": ""}).json()
    assert all(feature["properties"] == {} for feature in bare["features"])
    table = Page(client.get(url, params={"f": "html", "properties": ""}).text)
    columns = [cell for cell in table.header_cells if cell.get("scope") == "col"]
    assert len(columns) == 1  # the id column only


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"f": "html", "filter": "size > 3"}, {}, 400),
        ({"filter": "name LIKE"}, {"Accept": BROWSER}, 400),
        ({"f": "html", "limit": "0"}, {}, 400),
        ({"f": "html", "crs": "EPSG:9999"}, {}, 400),
    ],
)
def test_errors_of_html_requests_are_pages(client, deposits, params, headers, status):
    """An error of an HTML request is a page in bokmål with the problem and a link back, with
    the problem's status; JSON clients still get problem+json."""
    url = "/ogcapi/collections/mineral_deposits/items"
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    assert page.lang == "nb"
    assert "Ugyldig forespørsel" in response.text
    assert f"{url}?f=html" in " ".join(page.hrefs)
    as_json = client.get(
        url,
        params={k: v for k, v in params.items() if k != "f"},
        headers={"Accept-Language": "nb"},
    )
    assert as_json.status_code == status
    assert as_json.headers["content-type"] == "application/problem+json"
    assert as_json.json()["detail"].split(";")[0] in response.text.replace("&#39;", "'").replace(
        "&#34;", '"'
    )


def test_a_missing_collection_or_item_is_a_page_too(client, deposits):
    """404s of the OGC API HTML representation are pages, with the status kept."""
    missing = client.get("/ogcapi/collections/nope/items", params={"f": "html"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "«nope»" in missing.text
    item = client.get("/ogcapi/collections/mineral_deposits/items/999999", params={"f": "html"})
    assert item.status_code == 404 and "Finnes ikke" in item.text
