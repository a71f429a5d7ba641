"""A guideline rule is data: a throwaway rule from a test-only rule set flows everywhere.

The rule class is defined here and the rule set entry is tests/fixtures/rules/; the service is
pointed at them with AREALSJEKK_RULE_SET_FILE, and no other file names the rule. Its findings
must then appear in the rules document, the check API, the findings GeoJSON, the report
(HTML and PDF), the forum API and the forum and map pages.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from shapely.geometry import shape

from app.main import create_app
from app.settings import get_settings
from layers.ruleset import default_rule_set
from spatial.rules.base import RULE_CLASSES, Rule, feature_label, register
from spatial.rules.model import CheckPlan, Finding, LayerSource
from spatial.rules.text import fmt_m2
from tests.report_data import assert_pdf, hemsedal_plan, load_layers, run_check, upload
from tests.rule_fixtures import RULE_SET
from tests.test_e2e_browser import browser, page  # noqa: F401 - the browser fixtures

GX_RULE_SET = Path(__file__).parent / "fixtures" / "rules" / "gx-large-areas.yaml"
GX_CLASS = "test_large_area"
GX_TITLE = "Store planområder"
# The shipped rules run beside GX, whichever they are.
SHIPPED_IDS = [rule.id for rule in default_rule_set().rules]
SETTING = "AREALSJEKK_RULE_SET_FILE"


class LargeAreaRule(Rule):
    """Test-only rule: a warning for every arealformål area larger than `max_area_m2`."""

    max_area_m2: float

    def evaluate(self, plan: CheckPlan, layers: LayerSource) -> list[Finding]:
        """Return one warning per area over the limit."""
        findings = []
        for area in plan.areas():
            size = area.geometry.area
            if size > self.max_area_m2:
                findings.append(
                    self.finding(
                        "large_area",
                        "warning",
                        [area],
                        f"{feature_label(area)} er {fmt_m2(size)}, over grensen på "
                        f"{fmt_m2(self.max_area_m2)}.",
                        "Vurder om området bør deles opp.",
                        {"area_m2": size},
                        geometry=area.geometry,
                    )
                )
        return findings


# Registered once per process: pytest may import this module again (e.g. with another
# rootdir), and a second @register of the same name is refused.
if GX_CLASS not in RULE_CLASSES:
    register(GX_CLASS)(LargeAreaRule)


@pytest.fixture
def rule_set_file(tmp_path) -> Path:
    """The shipped rules followed by GX, written as one rule set file."""
    shipped = yaml.safe_load(RULE_SET.read_text("utf-8"))
    test_only = yaml.safe_load(GX_RULE_SET.read_text("utf-8"))
    document = {**test_only, "rules": shipped["rules"] + test_only["rules"]}
    path = tmp_path / "rules-with-gx.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.fixture
def app(rule_set_file) -> Iterator[object]:
    """The application with AREALSJEKK_RULE_SET_FILE set to the test rule set, restored after."""
    previous = os.environ.get(SETTING)
    os.environ[SETTING] = str(rule_set_file)
    get_settings.cache_clear()
    try:
        application = create_app()
        yield application
        application.dependency_overrides.clear()
    finally:
        if previous is None:
            os.environ.pop(SETTING, None)
        else:
            os.environ[SETTING] = previous
        get_settings.cache_clear()


@pytest.fixture
def checked(client, tmp_path, override_settings) -> dict:
    """The Hemsedal plan (a 20 000 m² cabin area and a 2 500 m² housing area), checked."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    return run_check(client, upload(client, hemsedal_plan()))


def gx_findings(check: dict) -> list[dict]:
    return [f for f in check["findings"] if f["rule_id"] == "GX"]


def test_the_rules_document_lists_the_new_rule(client, rule_set_file):
    """GET /api/v1/rules serves the configured file: the shipped rules and GX."""
    rules = client.get("/api/v1/rules").json()
    assert rules["id"] == "buskerudplanen-2026-test-gx"
    assert [rule["id"] for rule in rules["rules"]] == [*SHIPPED_IDS, "GX"]
    gx = rules["rules"][-1]
    assert gx["class"] == GX_CLASS and gx["title"] == GX_TITLE
    assert gx["params"]["max_area_m2"]["value"] == 10000
    # The API description's check group names the rules of the rule set in use.
    tags = {tag["name"]: tag for tag in client.get("/api/v1/openapi.json").json()["tags"]}
    assert "GX" in tags["checks"]["description"]


def test_findings_of_the_new_rule_in_the_check_and_its_geojson(client, checked):
    """The check runs GX beside the shipped rules; its warning has its figures and geometry."""
    assert checked["rule_set"]["id"] == "buskerudplanen-2026-test-gx"
    assert set(checked["timings_ms"]) == {*SHIPPED_IDS, "GX"}
    gx = gx_findings(checked)
    assert [(f["severity"], f["plan_feature_keys"]) for f in gx] == [("warning", ["BFR1"])]
    assert gx[0]["measures"]["area_m2"] == pytest.approx(20_000)
    assert gx[0]["paragraph"] == "Testregel GX (bare for testene)"
    assert checked["summary"]["by_rule"]["GX"]["warning"] == 1
    # The shipped rules still run: the cabin half above the tree line is a G1 conflict.
    assert checked["summary"]["by_rule"]["G1"]["conflict"] == 1

    response = client.get(
        f"/api/v1/checks/{checked['id']}/findings", params={"rule": "GX", "crs": "25832"}
    )
    assert response.status_code == 200, response.text
    (finding,) = response.json()["features"]
    assert finding["properties"]["rule_id"] == "GX"
    assert finding["properties"]["severity"] == "warning"
    bounds = shape(finding["geometry"]).bounds
    assert bounds == pytest.approx((470_000, 6_750_000, 470_200, 6_750_100))


def test_the_report_has_the_new_rule(client, checked, tmp_path):
    """The report's lead, summary and findings name GX with its title, in HTML and PDF."""
    html = client.get(f"/api/v1/checks/{checked['id']}/report.html").text
    lead = html[html.index('class="lead"') : html.index("</p>", html.index('class="lead"'))]
    assert ", ".join([*SHIPPED_IDS, "GX"]) in lead
    summary = html[html.index('id="summary"') : html.index('id="overview"')]
    assert f"<strong>GX</strong> {GX_TITLE}" in summary
    findings = html[html.index('id="findings"') : html.index('id="unknown"')]
    assert f"GX {GX_TITLE}" in findings
    assert "BFR1 (1120) er 20 000 m², over grensen på 10 000 m²." in findings

    pdf = client.get(f"/api/v1/checks/{checked['id']}/report.pdf")
    assert pdf.status_code == 200, pdf.text
    assert_pdf(pdf.content, tmp_path, f"GX {GX_TITLE}", "over grensen på 10 000 m²")


def test_the_forum_lists_the_new_rule(client, checked):
    """The forum API lists the GX warning, and filters on its rule id."""
    response = client.get("/api/v1/forum/findings", params={"rule_id": "GX"})
    assert response.status_code == 200, response.text
    listing = response.json()
    assert listing["total"] == 1
    (item,) = listing["items"]
    assert (item["rule_id"], item["severity"], item["check_id"]) == ("GX", "warning", checked["id"])


def test_the_forum_and_map_pages_offer_the_new_rule(
    client,
    checked,
    page,  # noqa: F811 - the browser page fixture imported above
    live_server,
):
    """In a browser, the forum's rule filter offers GX and shows its finding; the map page
    names GX among the guidelines it checks against."""
    assert page.goto(live_server + "/forum").status == 200
    page.locator("[data-testid=forum-row][data-rule=GX]").wait_for()
    options = page.get_by_test_id("filter-rule").locator("option").all_inner_texts()
    assert options[0] == "Alle retningslinjer"
    assert f"GX {GX_TITLE}" in options
    with page.expect_response(lambda r: "/api/v1/forum/findings?" in r.url):
        page.get_by_test_id("filter-rule").select_option("GX")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=forum-row]')]"
        ".every((row) => row.dataset.rule === 'GX')"
    )
    row = page.locator("[data-testid=forum-row]")
    assert row.count() == 1 and GX_TITLE in row.inner_text()

    assert page.goto(live_server + "/").status == 200
    page.wait_for_selector("body[data-ready]")
    assert ", ".join([*SHIPPED_IDS, "GX"]) in page.locator("#status").inner_text()
    assert not page.errors, page.errors
