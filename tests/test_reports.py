"""Conflict reports per check: HTML with header, summary, maps, findings and sources; PDF."""

import base64
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from app.check_runner import create_check
from app.db import get_sessionmaker
from app.reports import maps
from app.repositories.proposals import get_version
from app.settings import get_settings
from layers.registry import get_registry
from tests.report_data import (
    PLAN_NAMES,
    assert_pdf,
    hemsedal_plan,
    load_layers,
    run_check,
    upload,
)

PLAN_NAME = PLAN_NAMES["3326"]


@pytest.fixture
def checked(client, tmp_path, override_settings) -> dict:
    """Demo-licensed deposits, test rasters; the Hemsedal plan uploaded and checked."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path, deposit_licence="synthetic demo data")
    return run_check(client, upload(client, hemsedal_plan()))


def oslo_date(timestamp: str) -> str:
    return (
        datetime.fromisoformat(timestamp).astimezone(ZoneInfo("Europe/Oslo")).strftime("%d.%m.%Y")
    )


def test_html_report_has_header_summary_maps_findings_and_sources(client, checked):
    """The report names plan, check, rule set and layers, and shows every finding not ok."""
    response = client.get(f"/api/v1/checks/{checked['id']}/report.html")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="nb">' in html

    # Header: municipality, plan, code-list names, version, date, rule set, layers.
    for text in (
        "Hemsedal (3326)",
        PLAN_NAME,
        "2024001",
        "3326_2024001",
        "20 – Kommuneplanens arealdel",
        "2 – Planforslag",
        f"Nr. {checked['id']}, ferdig {oslo_date(checked['finished_at'])}",
        checked["rule_set"]["id"],
        f"versjon {checked['rule_set']['version']}",
        checked["rule_set"]["checksum"],
    ):
        assert text in html, text
    registry = get_registry()
    for layer_id in ("tree_line", "elevation", "mineral_deposits"):
        assert str(escape(registry[layer_id].title)) in html
    assert "ikke lastet" in html  # e.g. villrein_areas

    # Summary: a row per guideline with its counts.
    summary = html[html.index('id="summary"') : html.index('id="overview"')]
    for rule_id in ("G1", "G2", "G3", "G4", "G5"):
        assert f"<strong>{rule_id}</strong>" in summary
    total = sum(checked["summary"]["by_severity"].values())
    assert f"Kontrollen ga {total} funn" in summary

    # Maps: the overview and a detail map per finding, as embedded PNGs.
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    not_ok = [f for f in checked["findings"] if f["severity"] != "ok"]
    assert len(images) == 1 + len(not_ok)
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)

    # Findings: each one not ok with its message and action, most serious first.
    findings = html[html.index('id="findings"') : html.index('id="unknown"')]
    positions = []
    for finding in not_ok:
        assert str(escape(finding["message"])) in findings
        assert str(escape(finding["suggested_action"])) in findings
        positions.append((findings.index(f'id="finding-{finding["id"]}"'), finding["severity"]))
    order = ["conflict", "warning", "unknown", "info"]
    shown = [severity for _, severity in sorted(positions)]
    assert shown == sorted(shown, key=order.index)
    assert "Konflikt" in findings and "Forslag til tiltak" in findings
    g1 = next(f for f in not_ok if f["rule_id"] == "G1")
    assert g1["measures"]["above_tree_line_m2"] == pytest.approx(10_000)
    assert "10 000 m²" in findings  # thousands separated by a space, the Norwegian way
    assert "50,0 %" in findings  # decimal comma

    # Not checkable: the unknown findings and why, and the layers that were not loaded.
    unknown = html[html.index('id="unknown"') : html.index('id="sources"')]
    unknown_findings = [f for f in checked["findings"] if f["severity"] == "unknown"]
    assert unknown_findings
    for finding in unknown_findings:
        reason = finding["measures"].get("reason") or finding["message"]
        assert str(escape(reason)) in unknown
    assert "Kartlag som ikke var lastet" in unknown

    # Sources and licences.
    sources = html[html.index('id="sources"') :]
    assert "Kommunegrenser © Kartverket, CC BY 4.0" in sources
    assert "synthetic demo data" in sources and "syntetiske demodata" in sources
    assert ">test<" in sources  # the rasters' licence
    assert "Syntetiske demodata" in html  # the notice at the top


def test_pdf_report_is_a_pdf_with_the_plan_name(client, checked, tmp_path):
    """report.pdf is an A4 PDF whose text has the plan name and the findings."""
    response = client.get(f"/api/v1/checks/{checked['id']}/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "filename=" in response.headers["content-disposition"]
    assert_pdf(response.content, tmp_path, PLAN_NAME, "Funn som må vurderes", "Side 1 av")


def test_a_check_without_layers_lists_what_was_not_checked(client):
    """With no layers loaded every guideline is unknown, and the report says so, never ok."""
    check = run_check(client, upload(client, hemsedal_plan()))
    assert check["summary"]["by_severity"]["ok"] == 0
    html = client.get(f"/api/v1/checks/{check['id']}/report.html").text
    unknown = html[html.index('id="unknown"') : html.index('id="sources"')]
    assert "Disse forholdene kunne ikke kontrolleres" in unknown
    assert "Kartlag som ikke var lastet" in unknown
    for layer_id in ("tree_line", "mineral_deposits", "villrein_areas"):
        assert f"({layer_id};" in unknown
    assert "Alle kontrollene kunne gjennomføres" not in html
    assert "Kommunegrenser © Kartverket, CC BY 4.0" in html
    assert "Syntetiske demodata" not in html


def test_detail_maps_are_bounded(client, checked, monkeypatch):
    """Past MAX_DETAIL_MAPS the findings are listed without a map, and the report says so."""
    monkeypatch.setattr(maps, "MAX_DETAIL_MAPS", 1)
    html = client.get(f"/api/v1/checks/{checked['id']}/report.html").text
    assert html.count("data:image/png;base64,") == 2  # the overview and one detail map
    assert "funn er vist uten detaljkart" in html


def test_report_of_an_unfinished_or_unknown_check(client):
    """A queued check has no report yet (409); an unknown check is a 404 problem."""
    upload(client, hemsedal_plan())
    with get_sessionmaker()() as session:
        check = create_check(session, get_version(session, "3326_2024001", 1), get_settings())
    for suffix in ("html", "pdf"):
        response = client.get(f"/api/v1/checks/{check.id}/report.{suffix}")
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert "queued" in response.json()["detail"]
        assert client.get(f"/api/v1/checks/999999/report.{suffix}").status_code == 404
