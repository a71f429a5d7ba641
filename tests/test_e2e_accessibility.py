"""The pages in a real Chromium (issue 20): accessibility by axe-core, signing in, phones.

axe-core (vendored from npm by frontend/build.sh into app/static/vendor/axe-core/, served but
included in no page) is injected into `/` (empty, and with a check's findings), `/forum` (with
findings, signed in as the forum) and a report page; any violation of impact serious or
critical fails the test, printed rule by rule with its nodes. The sign-in is the pages' own:
the key once, then a session cookie that new tabs and report links share. At 390 × 844 (a
phone) the pages do not scroll sideways, the map page shows map and list as tabs and every
control is on screen. Debian's Chromium through Playwright, as tests/test_e2e_browser.py.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_e2e_browser import (  # noqa: F401 (fixtures used by name)
    CSP_WATCH,
    SAMPLE,
    browser,
    demo_layers,
    shoot,
    wait_for_map,
)

pytestmark = pytest.mark.keep_layers

ROOT = Path(__file__).parent.parent
AXE = ROOT / "app" / "static" / "vendor" / "axe-core" / "axe.min.js"
AXE_URL = "/static/vendor/axe-core/axe.min.js"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")
# axe.run's result, cut down to what a failure message needs.
RUN_AXE = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  if (!result.passes.length) throw new Error("axe checked nothing");
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary,
                                 html: n.html.slice(0, 200) })),
  }));
}
"""
# How wide the page is, against the window: more means sideways scrolling.
SCROLL_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def axe_violations(page, what: str) -> list[dict]:
    """Run axe-core on the page; return the serious and critical violations (and print all)."""
    # From its address on this service: the pages' policy (script-src 'self') refuses the
    # inline script that add_script_tag(path=…) would make.
    assert AXE.is_file(), f"{AXE} is missing: bash frontend/build.sh"
    page.add_script_tag(url=AXE_URL)
    violations = page.evaluate(RUN_AXE)
    for violation in violations:
        print(f"axe on {what}: {violation['impact']} {violation['id']}: {violation['help']}")
        for node in violation["nodes"]:
            print(f"    {node['target']}: {node['html']}\n      {node['summary']}")
    return [v for v in violations if v["impact"] in BLOCKING]


def assert_accessible(page, what: str) -> None:
    """No serious or critical axe-core violation on the page."""
    blocking = axe_violations(page, what)
    assert blocking == [], f"{what}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at "
        + ", ".join(node["target"] for node in v["nodes"][:5])
        for v in blocking
    )


@pytest.fixture
def new_context(browser) -> Iterator:  # noqa: F811
    """Make browser contexts (closed after the test), recording script errors and CSP reports."""
    contexts = []

    def make(viewport=LAPTOP):
        context = browser.new_context(viewport=viewport, locale="nb-NO")
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_WATCH)
        context.errors = []
        context.on("weberror", lambda error: context.errors.append(str(error.error)))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(context, live_server: str, key: str) -> dict:
    """Sign the context's browser in through POST /api/v1/session (the cookie is shared)."""
    response = context.request.post(
        f"{live_server}/api/v1/session",
        data=json.dumps({"api_key": key}),
        headers={"Content-Type": "application/json", "Origin": live_server},
    )
    assert response.status == 200, response.text()
    return response.json()


def checked_sample(context, live_server: str) -> int:
    """Upload and check the Hemsedal sample with the context's session; return the check id."""
    headers = {"Origin": live_server}
    upload = context.request.post(
        f"{live_server}/api/v1/proposals?filename=hemsedal-kpa-2026.geojson",
        data=SAMPLE.read_bytes(),
        headers={"Content-Type": "application/geo+json", **headers},
    )
    assert upload.status in (200, 201), upload.text()
    version = upload.json()
    url = f"{live_server}/api/v1/proposals/{version['proposal_id']}/versions/"
    checked = context.request.post(f"{url}{version['version']}/checks", headers=headers)
    assert checked.status in (200, 201), checked.text()
    return checked.json()["id"]


def test_pages_have_no_serious_accessibility_violations(new_context, live_server, api_keys):
    context = new_context()
    page = context.new_page()
    sign_in(context, live_server, api_keys["planner_3326"])

    # The map page before anything is chosen.
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready]")
    wait_for_map(page)
    assert page.locator("h1").count() == 1
    assert_accessible(page, "/ (empty)")

    # A refused file: the error is an alert (announced at once), not a polite status.
    page.set_input_files(
        "[data-testid=upload-file]",
        {"name": "tom.geojson", "mimeType": "application/geo+json", "buffer": b"{}"},
    )
    page.click("[data-testid=upload-button]")
    page.get_by_test_id("problem-box").wait_for()
    assert page.get_by_test_id("status").get_attribute("role") == "alert"
    assert_accessible(page, "/ (upload refused)")

    # The sample uploaded and checked: findings in the list and on the map.
    page.set_input_files("[data-testid=upload-file]", SAMPLE)
    page.click("[data-testid=upload-button]")
    page.locator("[data-testid=finding][data-severity=conflict]").first.wait_for()
    assert page.get_by_test_id("status").get_attribute("role") == "status"
    page.locator("[data-testid=finding][data-severity=warning]").first.click()
    wait_for_map(page)
    shoot(page, "a11y-map-findings")
    assert_accessible(page, "/ (with findings)")

    # The report, at the address its link gives (no blob:), in the signed-in browser.
    report_href = page.get_by_test_id("report-html").get_attribute("href")
    assert report_href.startswith("/api/v1/checks/") and report_href.endswith("/report.html")
    response = page.goto(live_server + report_href)
    assert response.status == 200
    assert_accessible(page, report_href)

    # The forum, signed in as the forum, with the sample's findings listed.
    forum = new_context()
    sign_in(forum, live_server, api_keys["forum"])
    forum_page = forum.new_page()
    forum_page.goto(live_server + "/forum")
    forum_page.locator("[data-testid=forum-row]").first.wait_for()
    assert (
        "Innlogget som test forum (planforum" in forum_page.get_by_test_id("key-who").inner_text()
    )
    assert_accessible(forum_page, "/forum (with findings)")
    assert context.errors == [] and forum.errors == []


def test_sign_in_once_and_share_report_links(new_context, live_server, api_keys):
    """The key once per browser: every tab is signed in, report links are plain addresses
    checked by the server for whoever opens them."""
    context = new_context()
    page = context.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready]")
    # Not signed in: the page says so before any upload, and the sign-in box is one click away.
    note = page.get_by_test_id("login-needed")
    note.wait_for()
    assert "Du må være logget inn med en API-nøkkel for å laste opp" in note.inner_text()
    note.get_by_role("button", name="Logg inn").click()
    key_input = page.get_by_test_id("key-input")
    assert key_input.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "key-input"

    # A wrong key is refused, as an alert in the box.
    key_input.fill("ask_00000000_feil")
    page.get_by_test_id("key-save").click()
    page.get_by_test_id("key-status").wait_for()
    assert "Ikke logget inn" in page.get_by_test_id("key-status").inner_text()

    # The Hemsedal planner's key: the page reloads signed in and says who.
    key_input.fill(api_keys["planner_3326"])
    with page.expect_navigation():
        page.get_by_test_id("key-save").click()
    who = page.get_by_test_id("key-who")
    who.wait_for()
    assert who.inner_text() == "Innlogget som test planner_3326 (planlegger, Hemsedal (3326))"
    assert page.get_by_test_id("login-needed").is_hidden()
    assert page.evaluate("() => document.cookie") == ""  # HttpOnly: out of script's reach
    assert page.evaluate("() => sessionStorage.length + localStorage.length") == 0

    # Upload from the page (a POST with the cookie and our Origin), then open the report link.
    page.wait_for_selector("body[data-ready]")
    page.set_input_files("[data-testid=upload-file]", SAMPLE)
    page.click("[data-testid=upload-button]")
    page.locator("[data-testid=finding]").first.wait_for()
    link = page.get_by_test_id("report-html")
    href = link.get_attribute("href")
    with context.expect_page() as opened:
        link.click()
    report_tab = opened.value
    report_tab.wait_for_load_state()
    assert report_tab.url == live_server + href  # a URL to share, not blob:
    assert "Kommuneplanens arealdel 2026-2038" in report_tab.inner_text("body")

    # A new tab of the same browser is signed in without the key.
    other_tab = context.new_page()
    other_tab.goto(live_server + "/forum")
    other_tab.get_by_test_id("key-who").wait_for()
    assert "test planner_3326" in other_tab.get_by_test_id("key-who").inner_text()

    # The link sent to a planner of another municipality: the draft is not found there.
    stranger = new_context()
    sign_in(stranger, live_server, api_keys["planner_3303"])
    stranger_tab = stranger.new_page()
    assert stranger_tab.goto(live_server + href).status == 404
    assert stranger_tab.goto(live_server + href.replace(".html", ".pdf")).status == 404

    # Signing out ends it for every tab.
    page.get_by_test_id("key-logout").click()
    page.get_by_test_id("login-needed").wait_for()
    assert page.get_by_test_id("key-who").is_hidden()
    assert other_tab.goto(live_server + href).status == 404
    assert context.errors == [] and stranger.errors == []


def assert_fits(page, what: str) -> None:
    """No sideways scrolling: the document is no wider than the window."""
    width, window = page.evaluate(SCROLL_WIDTH)
    assert width <= window, f"{what} is {width} px wide in a {window} px window"


def assert_on_screen(locator, what: str) -> None:
    """The element is inside the phone's viewport (reachable without sideways scrolling)."""
    box = locator.bounding_box()
    assert box is not None, f"{what} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{what}: {box}"
    assert box["width"] > 0 and box["height"] > 0, f"{what}: {box}"


def test_phone_layout(new_context, live_server, api_keys):
    context = new_context(PHONE)
    page = context.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready]")
    assert_fits(page, "/ (signed out)")
    # The sign-in box opens on screen.
    page.get_by_test_id("key-summary").click()
    assert_on_screen(page.get_by_test_id("key-input"), "the key input")
    assert_on_screen(page.get_by_test_id("key-save"), "the sign-in button")
    assert_fits(page, "/ (sign-in box open)")
    page.get_by_test_id("key-input").fill(api_keys["planner_3326"])
    with page.expect_navigation():
        page.get_by_test_id("key-save").click()
    page.wait_for_selector("body[data-ready]")
    page.get_by_test_id("key-who").wait_for()
    assert_on_screen(page.get_by_test_id("key-logout"), "«Logg ut»")
    assert_fits(page, "/ (signed in)")

    # Two tabs, «Kart» and «Liste»; the list (with the upload) first.
    tab_map, tab_list = page.get_by_role("tab", name="Kart"), page.get_by_role("tab", name="Liste")
    assert tab_list.get_attribute("aria-selected") == "true"
    assert page.get_by_role("tabpanel").get_attribute("id") == "sidebar"
    assert page.get_by_test_id("map").is_hidden()
    for control in ("upload-file", "upload-button"):
        assert_on_screen(page.get_by_test_id(control), control)
    page.set_input_files("[data-testid=upload-file]", SAMPLE)
    page.click("[data-testid=upload-button]")
    finding = page.locator("[data-testid=finding][data-severity=conflict]").first
    finding.wait_for()
    assert_fits(page, "/ (findings listed)")
    assert_on_screen(finding, "a finding")
    assert_accessible(page, "/ at 390 px (list)")

    # Choosing a finding shows it on the map tab, which fills the width and has a height.
    finding.click()
    assert tab_map.get_attribute("aria-selected") == "true"
    assert page.get_by_test_id("findings").is_hidden()
    box = page.get_by_test_id("map").bounding_box()
    assert box["height"] > 300 and box["width"] == PHONE["width"], box
    wait_for_map(page)
    assert page.evaluate("() => window.arealsjekkMap.getSize().y") > 300
    assert_fits(page, "/ (map tab)")
    for selector in (".leaflet-control-zoom-in", ".leaflet-control-layers"):
        assert_on_screen(page.locator(selector).first, selector)
    shoot(page, "phone-map-tab")
    assert_accessible(page, "/ at 390 px (map)")

    # Arrow keys move between the tabs (WAI-ARIA tabs pattern).
    tab_map.focus()
    page.keyboard.press("ArrowRight")
    assert tab_list.get_attribute("aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.id") == "tab-list"
    assert page.get_by_test_id("findings").is_visible()
    shoot(page, "phone-list-tab")

    # The forum, with findings, signed in as the forum.
    forum = new_context(PHONE)
    sign_in(forum, live_server, api_keys["forum"])
    forum_page = forum.new_page()
    forum_page.goto(live_server + "/forum")
    row = forum_page.locator("[data-testid=forum-row]").first
    row.wait_for()
    assert_fits(forum_page, "/forum")
    for control in ("review-status", "review-comment", "review-save"):
        assert_on_screen(row.get_by_test_id(control), control)
    for control in ("filter-kommune", "agenda-button", "key-logout"):
        assert_on_screen(forum_page.get_by_test_id(control), control)
    shoot(forum_page, "phone-forum")
    assert context.errors == [] and forum.errors == []
