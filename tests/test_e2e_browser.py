"""The web pages in a real headless Chromium: upload, findings on the map, report, forum review.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright; a test tool's own browser
download does not work on our machines, so `playwright install` is never used. Screenshots go
to tests/artifacts/ and, for the README, docs/img/map-page.png and docs/img/forum-page.png.
"""

import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import shape
from sqlalchemy import text

from app.db import get_engine, get_sessionmaker
from app.settings import get_settings
from layers.demo import load_demo_data
from tests.test_security_pages import (
    COMMENT,
    FELTNAVN_IMG,
    FELTNAVN_LINK,
    FELTNAVN_SCRIPT,
    FELTNAVN_SVG,
    FILENAME,
    PLANNAVN,
    REVIEWER,
)

pytestmark = pytest.mark.keep_layers

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "samples" / "hemsedal-kpa-2026.geojson"
PLAN_NAME = "Kommuneplanens arealdel 2026-2038, høringsforslag"
ARTIFACTS = Path(__file__).parent / "artifacts"
README_IMAGES = ROOT / "docs" / "img"
CHROMIUM = Path(os.environ.get("AREALSJEKK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
SQUARE = [[8.40, 60.86], [8.41, 60.86], [8.41, 60.865], [8.40, 60.865], [8.40, 60.86]]
BROKEN_PLAN = {
    "type": "FeatureCollection",
    "plan": {"kommunenummer": "3326", "planidentifikasjon": "FEIL1", "plantype": 20},
    "features": [
        {  # in Vestland, far outside Buskerud
            "type": "Feature",
            "id": "A1",
            "properties": {"arealformal": 1120, "arealbruksstatus": 2},
            "geometry": {"type": "Polygon", "coordinates": [[[x - 3.2, y] for x, y in SQUARE]]},
        },
        {  # a ring of two points
            "type": "Feature",
            "id": "A2",
            "properties": {"arealformal": 1120, "arealbruksstatus": 2},
            "geometry": {"type": "Polygon", "coordinates": [SQUARE[:2]]},
        },
    ],
}
# Records the page's CSP violations in window.__cspViolations (CSP3 §5.4, the
# securitypolicyviolation event); Playwright runs it before any script of the page.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
));
"""
# More strings that would set window.__xss if they ran (the rest: tests/test_security_pages.py).
BAD_PLAN = {"planidentifikasjon": '<svg onload="window.__xss=9">'}
LAYER_TITLE = '<img src=x onerror="window.__xss=10">'
RULE_TITLE = '<svg onload="window.__xss=11">'
MAP_VIEW = (
    "() => { const m = window.arealsjekkMap, c = m.getCenter();"
    " return [c.lat, c.lng, m.getZoom()]; }"
)
# Every WMS tile layer has its tiles and no zoom animation runs (networkidle is reached once
# per navigation, so it cannot tell when the tiles of a later zoom have arrived).
MAP_IDLE = (
    "() => { const m = window.arealsjekkMap; let busy = Boolean(m._animatingZoom);"
    " m.eachLayer((l) => { if (l.isLoading && l.isLoading()) busy = true; }); return !busy; }"
)


@pytest.fixture(scope="module", autouse=True)
def demo_layers(tmp_path_factory):
    """Load the synthetic demo layers once for this module."""
    with get_sessionmaker()() as session:
        load_demo_data(
            session, tmp_path_factory.mktemp("demo"), raster_dir=get_settings().raster_dir
        )
    yield
    with get_engine().begin() as connection:
        connection.execute(text("TRUNCATE layer_version RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed (test extras)"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, api_keys):
    """A fresh page at laptop size, signed in with the admin key, recording errors."""
    context = browser.new_context(viewport=VIEWPORT, locale="nb-NO")
    context.set_default_timeout(15_000)
    key = api_keys["admin"]
    # The key as a header on every request of the browser, links it follows too (the pages'
    # own sign-in, a session cookie, is tested in tests/test_e2e_accessibility.py).
    context.set_extra_http_headers({"Authorization": f"Bearer {key}"})
    # Every page of the context (reports and popups too) records what the
    # Content-Security-Policy blocked, from its own event and from Chromium's console.
    context.add_init_script(CSP_WATCH)
    errors: list[str] = []
    context.on(
        "weberror",
        lambda error: errors.append(
            f"script error on {error.page.url if error.page else None}: {error.error}"
        ),
    )
    context.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    context.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}") if r.status >= 400 and "/wms" in r.url else None
        ),
    )
    new_page = context.new_page()
    new_page.errors = errors
    yield new_page
    context.close()


def wait_for_map(page) -> None:
    """Wait until the map's tiles are in, and for Leaflet's fade-in of them."""
    page.wait_for_function(MAP_IDLE)
    page.wait_for_timeout(400)


def shoot(page, name: str, readme: bool = False) -> None:
    """Save a screenshot to tests/artifacts/ (and to docs/img/ when asked to refresh them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path)
    # README images change only on purpose: AREALSJEKK_UPDATE_SCREENSHOTS=1 make test.
    if readme and os.environ.get("AREALSJEKK_UPDATE_SCREENSHOTS") == "1":
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_IMAGES / path.name)


def test_planner_uploads_and_forum_reviews(page, live_server, tmp_path):
    broken_file = tmp_path / "broken.geojson"
    broken_file.write_text(json.dumps(BROKEN_PLAN), encoding="utf-8")

    # The map page: our WMS as the base map, the layer switcher offers the guideline layers.
    response = page.goto(live_server + "/")
    assert response.status == 200
    page.wait_for_selector("body[data-ready]")
    wait_for_map(page)
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    # G1's layer: the area above the tree line where the WMS offers it, else the tree line.
    assert any("Over skoggrensen" in label or "Tregrense" in label for label in overlays)
    assert any("Funn i alle planforslag" in label for label in overlays), overlays
    shoot(page, "01-map-empty")

    # A broken file is refused, and each bad feature is named by its number in the file.
    page.set_input_files("[data-testid=upload-file]", broken_file)
    page.click("[data-testid=upload-button]")
    page.get_by_test_id("problem-box").wait_for()
    problems = page.get_by_test_id("problem").all_inner_texts()
    assert len(problems) == 2, problems
    assert problems[0].startswith("objekt nr. 1, id «A1»") and "Buskerud" in problems[0]
    assert problems[1].startswith("objekt nr. 2, id «A2»")
    shoot(page, "01-upload-refused")

    # Upload the Hemsedal sample; the check runs and the findings are listed by severity.
    page.set_input_files("[data-testid=upload-file]", SAMPLE)
    page.click("[data-testid=upload-button]")
    conflict = page.locator("[data-testid=finding][data-severity=conflict]").first
    conflict.wait_for()
    assert "BFR10" in conflict.inner_text()
    assert page.locator("[data-testid=group-ok]").get_attribute("open") is None  # collapsed
    assert page.get_by_test_id("result-title").inner_text() == PLAN_NAME
    wait_for_map(page)
    before = page.evaluate(MAP_VIEW)

    # Clicking the conflict zooms the map to it and highlights it.
    conflict.click()
    # A function, not an expression: Playwright polls an expression with eval(), which the
    # page's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    page.wait_for_function(f"() => ({MAP_VIEW})().join() !== {before!r}.join()")
    after = page.evaluate(MAP_VIEW)
    assert after != before
    assert after[2] > before[2]  # zoomed in to the finding
    assert "selected" in (conflict.get_attribute("class") or "")
    wait_for_map(page)
    shoot(page, "02-map-selected")  # the README's map-page.png: tests/test_e2e_map.py

    # The report of the check (HTML and PDF), from the links next to the findings.
    report_href = page.get_by_test_id("report-html").get_attribute("href")
    pdf_href = page.get_by_test_id("report-pdf").get_attribute("href")
    report_page = page.context.new_page()
    report = report_page.goto(live_server + report_href)
    assert report.status == 200, f"{report_href} answered {report.status}"
    assert PLAN_NAME in report_page.content()
    shoot(report_page, "02-report")
    report_page.close()
    pdf = page.request.get(live_server + pdf_href)
    assert pdf.status == 200, f"{pdf_href} answered {pdf.status}"
    assert pdf.body().startswith(b"%PDF")

    # A second municipality's plan, uploaded and checked through the API.
    upload = page.request.post(
        live_server + "/api/v1/proposals",
        data=(ROOT / "samples" / "kongsberg-kpa-boliger.geojson").read_bytes(),
        headers={"content-type": "application/geo+json"},
    )
    assert upload.status == 201, upload.text()
    checked = page.request.post(live_server + upload.json()["links"][0]["href"] + "/checks")
    assert checked.status == 201, checked.text()

    # The forum page lists the open findings of both; a reviewer records a status and comment.
    assert page.goto(live_server + "/forum").status == 200
    row = page.locator("[data-testid=forum-row][data-severity=conflict][data-rule=G1]").first
    row.wait_for()
    assert row.get_attribute("data-municipality") == "Hemsedal"
    municipalities = page.locator("[data-testid=forum-plan] .plan-municipality")
    assert municipalities.all_inner_texts() == ["Hemsedal", "Kongsberg"]
    row.get_by_test_id("review-status").select_option("discussed")
    row.get_by_test_id("review-comment").fill("Drøftet i planforum; tas opp med kommunen.")
    row.get_by_test_id("review-reviewer").fill("Kari Nordmann")
    with page.expect_response(
        lambda r: r.url.endswith("/review") and r.request.method == "PUT"
    ) as put:
        row.get_by_test_id("review-save").click()
    assert put.value.ok, put.value.text()
    assert put.value.json()["status"] == "discussed"
    history = row.get_by_test_id("review-history")
    history.get_by_test_id("history-entry").first.wait_for()
    assert "Drøftet" in history.inner_text()
    assert "Kari Nordmann" in history.inner_text()
    assert "Lagret" in row.get_by_test_id("review-result").inner_text()
    shoot(page, "03-forum-review")

    # Filters: one municipality; the reviewed finding is no longer open, so it leaves the list.
    with page.expect_response(lambda r: "/api/v1/forum/findings?" in r.url):
        page.get_by_test_id("filter-kommune").select_option("3303")
    page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('[data-testid=forum-row]')];"
        " return rows.length > 0 && rows.every((e) => e.dataset.municipality === 'Kongsberg'); }"
    )
    assert page.locator("[data-testid=forum-row][data-rule=G3]").count() >= 1
    with page.expect_response(lambda r: "status=discussed" in r.url):
        page.get_by_test_id("filter-kommune").select_option("")
        page.get_by_test_id("filter-status").select_option("discussed")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=forum-row]').length === 1"
    )
    assert "Kari Nordmann" in page.get_by_test_id("review-result").inner_text()

    # Every conflict, whatever its review: both plans; the history is read back from the server.
    with page.expect_response(lambda r: "severity=conflict" in r.url and "status=all" in r.url):
        page.get_by_test_id("filter-status").select_option("all")
        page.get_by_test_id("filter-severity").select_option("conflict")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=forum-plan]').length === 2"
    )
    hemsedal = page.locator("[data-testid=forum-row][data-municipality=Hemsedal]").first
    with page.expect_response(lambda r: r.url.endswith("/review") and r.request.method == "GET"):
        hemsedal.locator("[data-testid=review-history] summary").click()
    hemsedal.get_by_test_id("history-entry").first.wait_for()
    assert "Kari Nordmann" in hemsedal.get_by_test_id("review-history").inner_text()
    shoot(page, "forum-page", readme=True)

    # The agenda form links to the agenda PDF for the chosen dates.
    action = page.get_by_test_id("agenda-form").get_attribute("action")
    assert action == "/api/v1/forum/agenda.pdf"
    agenda_from = page.get_by_test_id("agenda-from").input_value()
    agenda_to = page.get_by_test_id("agenda-to").input_value()
    agenda = page.request.get(f"{live_server}{action}?from={agenda_from}&to={agenda_to}")
    assert agenda.status == 200 and agenda.body().startswith(b"%PDF")

    # From the forum to the finding on the map.
    hemsedal.get_by_role("link", name="vis i kart").click()
    page.wait_for_selector("[data-testid=finding].selected[data-severity=conflict]")
    assert "BFR10" in page.locator("[data-testid=finding].selected").inner_text()

    # No map tile may fail (a 500 here has been Mapnik's PostGIS pool running dry).
    assert page.errors == []


def open_pdf(page, control, url_pattern: str) -> tuple[str, bytes]:
    """Click a link or button that opens a PDF at its address in a new tab; fetch that PDF."""
    with page.context.expect_page() as opened:
        control.click()
    tab = opened.value
    tab.wait_for_url(url_pattern)
    url = tab.url
    tab.close()
    response = page.request.get(url)  # the same browser's request, signed in as it is
    assert response.ok, f"{url}: {response.status}"
    return response.headers.get("content-disposition", ""), response.body()


def assert_clean(page, response=None) -> None:
    """No injected script ran, the policy blocked nothing, no link runs script; CSP was sent."""
    assert page.evaluate("() => window.__xss") is None, f"injected script ran on {page.url}"
    assert page.evaluate("() => window.__cspViolations") == [], page.url
    script_links = page.evaluate(
        "() => [...document.querySelectorAll('[href],[src],[action],[formaction]')]"
        ".flatMap((e) => ['href', 'src', 'action', 'formaction'].map((a) => e.getAttribute(a)))"
        ".filter((v) => v && /^\\s*(javascript:|vbscript:|data:text)/i.test(v))"
    )
    assert script_links == [], f"{page.url}: {script_links}"
    if response is not None:
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, f"{response.url}: {policy!r}"
        assert response.headers.get("x-content-type-options") == "nosniff", response.url


def hostile_sample() -> dict:
    """The Hemsedal sample with markup for its plan name and the names of four areas."""
    body = json.loads(SAMPLE.read_text(encoding="utf-8"))
    body["plan"].update(planidentifikasjon="XSS2026", plannavn=PLANNAVN)
    names = {
        "BFR10": FELTNAVN_IMG,
        "BFR11": FELTNAVN_SVG,
        "BFR12": FELTNAVN_LINK,
        "BFR13": FELTNAVN_SCRIPT,
    }
    for feature in body["features"]:
        if feature["id"] in names:
            feature["properties"]["omradenavn"] = names[feature["id"]]
        if "plannavn" in feature["properties"]:
            feature["properties"]["plannavn"] = PLANNAVN
    return body


def point_in(body: dict, feature_id: str) -> tuple[float, float]:
    """A point inside one area of a plan (in the plan's CRS)."""
    feature = next(f for f in body["features"] if f["id"] == feature_id)
    point = shape(feature["geometry"]).representative_point()
    return point.x, point.y


# For each layer of the map with a tooltip: a viewport point where that layer is the topmost
# element (so the mouse reaches it), or null when other layers cover all of it.
HOVER_TARGETS = """
() => {
  const out = [];
  window.arealsjekkMap.eachLayer((layer) => {
    if (!layer.getTooltip || !layer.getTooltip() || !layer._path) return;
    const box = layer._path.getBoundingClientRect();
    let hit = null;
    for (let y = box.top + 2; y < box.bottom && !hit; y += 4)
      for (let x = box.left + 2; x < box.right && !hit; x += 4)
        if (document.elementFromPoint(x, y) === layer._path) hit = [x, y];
    out.push({ id: L.stamp(layer), hit });
  });
  return out;
}
"""
# Open the tooltip of every layer that the mouse cannot reach; return every tooltip's text.
OPEN_OTHER_TOOLTIPS = """
(reached) => {
  const texts = [];
  window.arealsjekkMap.eachLayer((layer) => {
    if (!layer.getTooltip || !layer.getTooltip() || reached.includes(L.stamp(layer))) return;
    layer.openTooltip(layer.getBounds ? layer.getBounds().getCenter() : undefined);
    texts.push(layer.getTooltip().getElement().textContent);
    layer.closeTooltip();
  });
  return texts;
}
"""


def hover_every_tooltip(page) -> list[str]:
    """Move the mouse onto every map layer with a tooltip (or open it); return their texts."""
    texts, reached = [], []
    for target in page.evaluate(HOVER_TARGETS):
        if not target["hit"]:
            continue
        x, y = target["hit"]
        page.mouse.move(x - 1, y - 1)
        page.mouse.move(x, y)
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.last.wait_for()
        texts.append(tooltip.last.inner_text())
        reached.append(target["id"])
        page.mouse.move(5, 5)  # off the map: the tooltip closes
        page.locator(".leaflet-tooltip").wait_for(state="detached")
    return texts + page.evaluate(OPEN_OTHER_TOOLTIPS, reached)


def test_hostile_names_show_as_text_under_the_policy(page, live_server, tmp_path):
    """Markup in names and reviews shows as text on every page, no script runs (issue 16).

    A feltnavn `<img src=x onerror=…>` used to run in the browser of anyone hovering the area
    on /?check=N. Each string here sets window.__xss if it runs; the policy (script-src 'self')
    must block nothing of the pages' own.
    """
    # The agenda's days are Norwegian days (the service counts them in Europe/Oslo).
    today = datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat()
    body = hostile_sample()
    hostile_file = {
        "name": FILENAME,
        "mimeType": "application/geo+json",
        "buffer": json.dumps(body).encode(),
    }
    refused_file = {
        "name": FILENAME,
        "mimeType": "application/geo+json",
        "buffer": json.dumps({**BROKEN_PLAN, "plan": {**BROKEN_PLAN["plan"], **BAD_PLAN}}).encode(),
    }

    # Values from the API the server does not make: layer and rule titles, here with markup.
    def hostile_layers(route):
        response = route.fetch()
        layers = response.json()
        for layer in layers:
            layer["title"] = LAYER_TITLE + layer["title"]
        route.fulfill(response=response, json=layers)

    def hostile_rules(route):
        response = route.fetch()
        rules = response.json()
        for rule in rules["rules"]:
            rule["title"] = RULE_TITLE + rule["title"]
        route.fulfill(response=response, json=rules)

    page.route("**/api/v1/layers", hostile_layers)
    page.route("**/api/v1/rules", hostile_rules)

    # A planner uploads a file whose name is markup; first a refused one, then the plan.
    response = page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready]")
    assert_clean(page, response)
    page.set_input_files("[data-testid=upload-file]", refused_file)
    page.click("[data-testid=upload-button]")
    page.get_by_test_id("problem-box").wait_for()
    problems = page.get_by_test_id("problem-box").inner_text()
    assert BAD_PLAN["planidentifikasjon"] in problems, problems
    page.set_input_files("[data-testid=upload-file]", hostile_file)
    page.click("[data-testid=upload-button]")
    page.locator("[data-testid=finding][data-severity=conflict]").first.wait_for()
    assert page.get_by_test_id("result-title").inner_text() == PLANNAVN
    check_id = int(page.url.rsplit("check=", 1)[1])
    assert_clean(page)

    # Published and reviewed (by a reviewer whose name and comment are markup).
    proposal = page.request.post(f"{live_server}/api/v1/proposals/3326_XSS2026/publish")
    assert proposal.ok, proposal.text()
    check = page.request.get(f"{live_server}/api/v1/checks/{check_id}").json()
    conflict = next(f for f in check["findings"] if f["severity"] == "conflict")
    review = page.request.put(
        f"{live_server}/api/v1/forum/findings/{conflict['id']}/review",
        data=json.dumps({"status": "discussed", "comment": COMMENT, "reviewer": REVIEWER}),
        headers={"Content-Type": "application/json"},
    )
    assert review.ok, review.text()

    # Anyone opening the check: tooltips, layer switcher, findings list, proposal list.
    response = page.goto(f"{live_server}/?check={check_id}")
    page.locator("[data-testid=finding][data-severity=conflict]").first.wait_for()
    wait_for_map(page)
    tooltips = " | ".join(hover_every_tooltip(page))
    assert page.evaluate("() => window.__xss") is None, f"a tooltip ran script: {tooltips}"
    for name in (FELTNAVN_IMG, FELTNAVN_SVG, FELTNAVN_LINK, FELTNAVN_SCRIPT):
        assert name in tooltips, f"{name!r} not in the tooltips: {tooltips}"
    page.locator(".leaflet-control-layers").hover()
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert sum(LAYER_TITLE in label for label in overlays) >= 5, overlays
    findings = page.get_by_test_id("findings").inner_text()
    for string in (FELTNAVN_IMG, FELTNAVN_SVG, RULE_TITLE):
        assert string in findings, f"{string!r} not in the findings list"
    assert page.get_by_test_id("result-title").inner_text() == PLANNAVN
    assert PLANNAVN in page.get_by_test_id("proposal-list").text_content()  # panel closed
    page.locator("[data-testid=finding][data-severity=conflict]").first.click()
    shoot(page, "04-hostile-names-map")
    assert_clean(page, response)

    # The report opened from its link: its own address, which can be shared. (Without the
    # routes above: while a page has routes, Chromium here sometimes opened no tab for it.)
    page.unroute_all()
    with page.context.expect_page() as opened:
        page.get_by_test_id("report-html").click()
    report_tab = opened.value
    report_tab.wait_for_url(f"**/api/v1/checks/{check_id}/report.html")
    report_tab.wait_for_load_state()
    shown = report_tab.inner_text("body")
    for string in (PLANNAVN, FELTNAVN_IMG, FELTNAVN_SCRIPT, REVIEWER, COMMENT, FILENAME):
        assert string in shown, f"{string!r} not in the report opened from its link"
    assert_clean(report_tab)
    report_tab.close()
    # The PDF link opens the PDF at its own address.
    disposition, pdf = open_pdf(
        page, page.get_by_test_id("report-pdf"), f"**/api/v1/checks/{check_id}/report.pdf"
    )
    assert f'filename="arealsjekk-kontroll-{check_id}.pdf"' in disposition
    assert pdf.startswith(b"%PDF")
    page.route("**/api/v1/layers", hostile_layers)
    page.route("**/api/v1/rules", hostile_rules)

    # The report and the agenda at their own addresses, and GetFeatureInfo as HTML.
    x, y = point_in(body, "BFR10")
    info = (
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=proposals&STYLES="
        "&QUERY_LAYERS=proposals&FEATURE_COUNT=10&CRS=EPSG:25832&WIDTH=101&HEIGHT=101&I=50&J=50"
        f"&BBOX={x - 50},{y - 50},{x + 50},{y + 50}&INFO_FORMAT=text/html"
    )
    documents = {
        f"/api/v1/checks/{check_id}/report.html": (PLANNAVN, FELTNAVN_IMG, REVIEWER, COMMENT),
        f"/api/v1/forum/agenda.html?from={today}&to={today}": (PLANNAVN, FELTNAVN_IMG, COMMENT),
        info: (FELTNAVN_IMG,),
    }
    for url, texts in documents.items():
        response = page.goto(live_server + url)
        assert response.status == 200, f"{url}: {response.status}"
        shown = page.inner_text("body")
        for string in texts:
            assert string in shown, f"{string!r} not shown as text on {url}"
        assert_clean(page, response)

    # The forum page: plan row, finding, review, history, the rule filter.
    response = page.goto(live_server + "/forum")
    page.get_by_test_id("forum-plan").first.wait_for()
    with page.expect_response(lambda r: "status=all" in r.url):
        page.get_by_test_id("filter-status").select_option("all")
    row = page.locator(f"[data-testid=forum-row][data-finding-id='{conflict['id']}']")
    row.wait_for()
    assert PLANNAVN in page.get_by_test_id("forum-plan").first.inner_text()
    assert FELTNAVN_IMG in row.inner_text() or FELTNAVN_SVG in row.inner_text()
    assert REVIEWER in row.get_by_test_id("review-result").inner_text()
    assert row.get_by_test_id("review-comment").input_value() == COMMENT
    with page.expect_response(lambda r: r.url.endswith("/review") and r.request.method == "GET"):
        row.locator("[data-testid=review-history] summary").click()
    row.get_by_test_id("history-entry").first.wait_for()
    history = row.get_by_test_id("review-history").inner_text()
    assert REVIEWER in history and COMMENT in history, history
    rules = page.get_by_test_id("filter-rule").locator("option").all_inner_texts()
    assert any(RULE_TITLE in rule for rule in rules), rules
    shoot(page, "05-hostile-names-forum")
    # The agenda from the form: as a page in a new tab, and as a PDF file.
    with page.context.expect_page() as opened:
        page.get_by_test_id("agenda-html").click()
    agenda_tab = opened.value
    agenda_tab.wait_for_url("**/api/v1/forum/agenda.html?**")
    agenda_tab.wait_for_load_state()
    assert PLANNAVN in agenda_tab.inner_text("body") and COMMENT in agenda_tab.inner_text("body")
    assert_clean(agenda_tab)
    agenda_tab.close()
    disposition, pdf = open_pdf(
        page, page.get_by_test_id("agenda-button"), "**/api/v1/forum/agenda.pdf?**"
    )
    assert 'filename="planforum-saksliste-' in disposition
    assert pdf.startswith(b"%PDF")
    assert_clean(page, response)

    # The API documentation (Swagger UI) works under the same policy.
    response = page.goto(live_server + "/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Arealsjekk" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert_clean(page, response)

    assert page.errors == []
