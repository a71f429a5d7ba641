"""The web pages in a real headless Chromium: upload, findings on the map, report, forum review.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright; a test tool's own browser
download does not work on our machines, so `playwright install` is never used. Screenshots go
to tests/artifacts/ and, for the README, docs/img/map-page.png and docs/img/forum-page.png.
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import get_engine, get_sessionmaker
from app.settings import get_settings
from layers.demo import load_demo_data

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
    # The pages keep the key in sessionStorage (as a user pasting it would); links the
    # browser follows itself (report, agenda) get it as a header.
    context.add_init_script(f"sessionStorage.setItem('arealsjekk.apiKey', {key!r});")
    context.set_extra_http_headers({"Authorization": f"Bearer {key}"})
    new_page = context.new_page()
    new_page.errors = []
    new_page.on("pageerror", lambda error: new_page.errors.append(f"script error: {error}"))
    new_page.on(
        "response",
        lambda r: (
            new_page.errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/wms" in r.url
            else None
        ),
    )
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
    assert any("Tregrense" in label for label in overlays), overlays
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
    page.wait_for_function(f"({MAP_VIEW})().join() !== {before!r}.join()")
    after = page.evaluate(MAP_VIEW)
    assert after != before
    assert after[2] > before[2]  # zoomed in to the finding
    assert "selected" in (conflict.get_attribute("class") or "")
    wait_for_map(page)
    shoot(page, "map-page", readme=True)

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
