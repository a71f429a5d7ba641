"""No stored script: security headers on every HTML answer, hostile text escaped (issue 16).

The browser side (the same strings on the map and forum pages, under the policy, in Chromium)
is in tests/test_e2e_browser.py; this module checks the headers and the served markup.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from markupsafe import escape
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.headers import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware, is_document
from tests.plans import PLAN, collection, encode
from tests.report_data import HEMSEDAL_XY, UTM32, cabin, housing, load_layers, run_check

# Strings a hostile planner or reviewer could store; each would set window.__xss if it ran.
FELTNAVN_IMG = '<img src=x onerror="window.__xss=1">'
FELTNAVN_SVG = '"><svg onload="window.__xss=2">'
FELTNAVN_LINK = "javascript:window.__xss=3"
FELTNAVN_SCRIPT = "</script><script>window.__xss=4</script>"
PLANNAVN = '<img src=x onerror="window.__xss=5">Hytteplan'
REVIEWER = '<img src=x onerror="window.__xss=6">'
COMMENT = '</textarea><svg onload="window.__xss=7">'
FILENAME = '<img src=x onerror="window.__xss=8">.geojson'
HOSTILE = (FELTNAVN_IMG, FELTNAVN_SVG, FELTNAVN_LINK, FELTNAVN_SCRIPT, PLANNAVN, REVIEWER, COMMENT)

DOCS = "/api/v1/docs"
ALLOWED_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin-when-cross-origin"}


def csp_directives(header: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy into {directive: [source, ...]} (CSP3 §2.2)."""
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            out.setdefault(tokens[0].lower(), tokens[1:])
    return out


def assert_secure_document(response) -> None:
    """The headers every HTML answer must carry (issue 16, acceptance 4)."""
    url = response.url
    csp = response.headers.get("content-security-policy")
    assert csp, f"{url}: no Content-Security-Policy"
    policy = csp_directives(csp)
    assert policy.get("script-src") == ["'self'"], f"{url}: {csp}"
    assert "script-src-elem" not in policy and "script-src-attr" not in policy, csp
    for directive in ("default-src", "script-src", "style-src"):
        assert "'unsafe-eval'" not in policy.get(directive, []), f"{url}: {csp}"
    assert "'unsafe-inline'" not in policy["default-src"], csp
    assert policy.get("object-src") == ["'none'"], csp
    assert policy.get("base-uri") in (["'none'"], ["'self'"]), csp
    assert policy.get("frame-ancestors") == ["'none'"], csp
    assert policy.get("form-action") == ["'self'"], csp
    assert response.headers.get("x-frame-options") == "DENY", url
    assert response.headers.get("x-content-type-options") == "nosniff", url
    assert response.headers.get("referrer-policy") in ALLOWED_REFERRER_POLICIES, url


class ScriptAudit(HTMLParser):
    """Collect what a CSP with script-src 'self' would block, and links that run script."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Flag inline scripts, event-handler attributes and javascript: URLs."""
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and value:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme not in ("", "http", "https", "data"):
                    self.problems.append(f"<{tag} {name}={value!r}>")
                if scheme == "data" and tag not in ("img", "link"):  # images, the icon
                    self.problems.append(f"<{tag} {name}=data:…>")
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.problems.append("<script> without src")
            else:
                self.scripts.append(values["src"])

    def handle_endtag(self, tag: str) -> None:
        """Leave a script element."""
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        """Text inside a script element is an inline script."""
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")


def audit(html: str) -> ScriptAudit:
    """Parse a page and return its script audit."""
    parser = ScriptAudit()
    parser.feed(html)
    parser.close()
    return parser


def hostile_plan() -> dict:
    """A Hemsedal plan (EPSG:25832) whose plan name and area names are markup."""
    x0, y0 = HEMSEDAL_XY
    plan = {**PLAN, "plannavn": PLANNAVN}
    features = [
        cabin(x0, y0, FELTNAVN_IMG),  # half above the tree line: a G1 conflict
        housing(x0 + 300, y0, FELTNAVN_SVG),  # on the deposit: a G3 conflict
        housing(x0 - 300, y0, FELTNAVN_LINK),
        housing(x0 - 300, y0 + 200, FELTNAVN_SCRIPT),
    ]
    return collection(*features, plan=plan, crs=UTM32)


@pytest.fixture
def hostile(client, tmp_path, override_settings) -> dict:
    """The hostile plan uploaded, checked and published, with a hostile review of a conflict."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    response = client.post(
        "/api/v1/proposals",
        params={"filename": FILENAME},
        content=encode(hostile_plan()),
        headers={"Content-Type": "application/geo+json"},
    )
    assert response.status_code == 201, response.text
    check = run_check(client, response.json()["links"][0]["href"])
    published = client.post(f"/api/v1/proposals/{check['proposal_id']}/publish")
    assert published.status_code == 200, published.text
    conflict = next(f for f in check["findings"] if f["severity"] == "conflict")
    review = client.put(
        f"/api/v1/forum/findings/{conflict['id']}/review",
        json={"status": "discussed", "comment": COMMENT, "reviewer": REVIEWER},
    )
    assert review.status_code == 200, review.text
    return check


def feature_info(client, info_format: str = "text/html"):
    """GetFeatureInfo on the published proposals at the middle of the cabin area."""
    x, y = HEMSEDAL_XY[0] + 100, HEMSEDAL_XY[1] + 50
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": "proposals",
        "QUERY_LAYERS": "proposals",
        "STYLES": "",
        "CRS": "EPSG:25832",
        "BBOX": f"{x - 100},{y - 100},{x + 100},{y + 100}",
        "WIDTH": 200,
        "HEIGHT": 200,
        "I": 100,
        "J": 100,
        "INFO_FORMAT": info_format,
    }
    return client.get("/wms", params=params)


class TextOf(HTMLParser):
    """The text a browser would show (entities decoded), scripts and styles left out."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Enter an element."""
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        """Leave an element."""
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        """Keep text outside scripts and styles."""
        if not self._skip:
            self.parts.append(data)


def text_of(html: str) -> str:
    """Return the shown text of an HTML document."""
    parser = TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def html_answers(client, check: dict) -> dict[str, object]:
    """Every kind of HTML answer the service gives, by name."""
    docs_static = "/api/v1/docs/static"
    return {
        "map page": client.get("/"),
        "forum page": client.get("/forum"),
        "API docs": client.get(DOCS),
        "Swagger UI's own index": client.get(f"{docs_static}/index.html"),
        "Swagger UI's OAuth2 redirect": client.get(f"{docs_static}/oauth2-redirect.html"),
        "report": client.get(f"/api/v1/checks/{check['id']}/report.html"),
        "agenda": client.get("/api/v1/forum/agenda.html"),
        "GetFeatureInfo": feature_info(client),
    }


def test_every_html_answer_carries_the_security_headers(client, hostile):
    """Pages, docs, reports, the agenda and GetFeatureInfo HTML: CSP, nosniff, framing, referrer."""
    for name, response in html_answers(client, hostile).items():
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text[:200]}"
        assert response.headers["content-type"].startswith("text/html"), name
        assert_secure_document(response)


def test_hostile_names_are_text_in_reports_agenda_and_feature_info(client, hostile):
    """Plan and area names, reviewer and comment show as the literal text, never as markup."""
    report = client.get(f"/api/v1/checks/{hostile['id']}/report.html").text
    agenda = client.get("/api/v1/forum/agenda.html").text
    info = feature_info(client).text
    expected = {
        "report": (report, (*HOSTILE, FILENAME)),
        "agenda": (agenda, (FELTNAVN_IMG, PLANNAVN, REVIEWER, COMMENT)),
        "GetFeatureInfo": (info, (FELTNAVN_IMG,)),
    }
    for name, (html, strings) in expected.items():
        shown = text_of(html)
        for string in strings:
            # Parsed as markup, the string would be a tag, not this text.
            assert string in shown, f"{name}: {string!r} is not shown as text"
        assert audit(html).problems == [], f"{name}: {audit(html).problems}"
    assert str(escape(PLANNAVN)) in report  # Jinja's own escaping, not stripping


def test_pages_load_script_from_files_of_the_service_only(client):
    """No inline script or handler attribute; every script is a file served as JavaScript."""
    for url in ("/", "/forum", DOCS):
        page = client.get(url)
        found = audit(page.text)
        assert found.problems == [], f"{url}: {found.problems}"
        assert found.scripts, url
        for src in found.scripts:
            assert src.startswith("/") and not src.startswith("//"), src
            script = client.get(src)
            assert script.status_code == 200, src
            # With nosniff a browser runs a script only with a JavaScript media type.
            media_type = script.headers["content-type"].split(";")[0]
            assert media_type in ("text/javascript", "application/javascript"), src
            assert script.headers["x-content-type-options"] == "nosniff", src


def test_every_answer_is_nosniff_with_a_referrer_policy(client, anonymous):
    """JSON, problem details, static files, WMS images and XML: nosniff and a Referrer-Policy."""
    answers = {
        "JSON": anonymous.get("/api/v1/layers"),
        "health": anonymous.get("/healthz"),
        "problem": anonymous.get("/api/v1/checks/999999"),
        "static CSS": anonymous.get("/static/style.css"),
        "WMS capabilities": anonymous.get("/wms?SERVICE=WMS&REQUEST=GetCapabilities"),
        "WMS exception": anonymous.get("/wms?SERVICE=WMS&REQUEST=GetMap"),
        "OpenAPI": anonymous.get("/api/v1/openapi.json"),
    }
    for name, response in answers.items():
        assert response.headers.get("x-content-type-options") == "nosniff", name
        assert response.headers.get("referrer-policy") in ALLOWED_REFERRER_POLICIES, name
    # XML is a document a browser renders (and XHTML in it could run): the policy applies.
    assert_secure_document(answers["WMS capabilities"])
    assert "content-security-policy" not in answers["JSON"].headers


@pytest.mark.parametrize(
    ("content_type", "document"),
    [
        ("text/html; charset=utf-8", True),
        ("TEXT/HTML", True),
        ("application/xhtml+xml", True),
        ("image/svg+xml", True),
        ("text/xml", True),
        ("application/vnd.ogc.se_xml", False),  # not +xml: browsers download it
        ("application/gml+xml; version=3.2", True),
        ("application/json", False),
        ("application/problem+json", False),
        ("image/png", False),
        ("application/pdf", False),
        ("", False),
    ],
)
def test_which_answers_are_documents(content_type, document):
    """The policy goes on what a browser renders as a document that could run script."""
    assert is_document(content_type) is document


def test_a_route_may_send_its_own_policy():
    """The middleware adds the headers where missing and keeps those a route set itself."""
    own = "default-src 'none'"
    app = Starlette(
        routes=[
            Route("/", lambda request: HTMLResponse("<p>hei</p>")),
            Route(
                "/own",
                lambda request: HTMLResponse("<p>", headers={"Content-Security-Policy": own}),
            ),
            Route("/empty", lambda request: Response(status_code=204)),
        ]
    )
    app.add_middleware(SecurityHeadersMiddleware)
    with TestClient(app) as bare:
        default = bare.get("/")
        assert default.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert default.headers["x-frame-options"] == "DENY"
        assert bare.get("/own").headers["content-security-policy"] == own
        empty = bare.get("/empty")
        assert empty.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in empty.headers
