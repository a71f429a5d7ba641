"""Conflict reports per check: HTML with header, summary, maps, findings and sources; PDF."""

import base64
import io
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import box
from sqlalchemy import text as sql

import app
from app.check_runner import create_check, get_rule_set
from app.db import get_sessionmaker
from app.reports import maps
from app.reports.data import without_layer_ids
from app.reports.formatting import CHECK_LABELS, measure_rows, tree_line_margin
from app.repositories.proposals import get_version
from app.settings import get_settings
from app.wms.catalog import wms_layers
from db.models import PlanCheckOrm
from layers.registry import get_registry
from spatial.figures import fmt_m2, fmt_masl, fmt_pct, stored
from tests.plans import feature
from tests.report_data import (
    HEMSEDAL_XY,
    PLAN_NAMES,
    assert_pdf,
    hemsedal_plan,
    load_layers,
    pdf_text,
    run_check,
    upload,
)
from tests.rule_fixtures import load_vector_layer

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
        # Layer ids in a rule's words read as the layer's title (see test_no_internal_ids).
        assert str(escape(without_layer_ids(finding["message"]))) in findings
        assert str(escape(without_layer_ids(finding["suggested_action"]))) in findings
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
        assert str(escape(without_layer_ids(reason))) in unknown
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
    registry = get_registry()
    for layer_id in ("tree_line", "mineral_deposits", "villrein_areas"):
        assert f"<li>{escape(registry[layer_id].title)} <span" in unknown
        assert layer_id not in unknown
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


# Issue 20, item 5: reports fit for the forum.


def _text(html: str) -> str:
    """What a reader sees of an HTML page: the body without tags, spaces collapsed."""
    body = html[html.index("<body") :]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


@pytest.mark.parametrize("raw", [61_306.5, 61_306.54, 61_306.46])
def test_one_rounding_rule_for_message_and_table(raw):
    """The issue's area reads 61 307 m² in a rule's message (made from the measurement) and in
    the report's table (made from the stored measure), however the raw figure rounds."""
    message_figure = fmt_m2(raw)
    table_figure = dict(measure_rows({"above_tree_line_m2": stored("above_tree_line_m2", raw)}))
    assert message_figure == table_figure["Areal over skoggrensen"] == "61 307 m²"
    # Shares likewise: stored to 0.01 %, shown to 0.1 %, half away from zero.
    share = dict(measure_rows({"overlap_pct": stored("overlap_pct", 12.345)}))
    assert fmt_pct(12.345) == share["Andel av området"] == "12,4 %"
    # Heights are whole metres, written as maps write them.
    assert fmt_masl(1100.46) == dict(measure_rows({"max_elevation_m": 1100.5}))["Høyeste punkt"]


def test_a_measured_half_square_metre_reads_the_same_in_message_and_table(
    client, tmp_path, override_settings
):
    """A cabin whose area above the tree line is not whole: the message and the report's
    figures table show the same whole m²."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    x0, y0 = HEMSEDAL_XY
    # 100 m above the tree line (terrain 1100 m west of x0 + 100) times 100.0054 m.
    geometry = box(x0, y0, x0 + 200, y0 + 100.0054).__geo_interface__
    cabin = feature(geometry, "BFR9", arealformal=1120, arealbruksstatus=2, feltnavn="BFR9")
    check = run_check(client, upload(client, [cabin]))
    g1 = next(f for f in check["findings"] if f["rule_id"] == "G1")
    measured = g1["measures"]["above_tree_line_m2"]
    assert measured % 1, measured  # not a whole number, or the test proves nothing
    figure = fmt_m2(measured)
    assert f": {figure} (" in g1["message"]
    html = client.get(f"/api/v1/checks/{check['id']}/report.html").text
    assert f"<th>Areal over skoggrensen</th><td>{figure}</td>" in html
    assert html.count(figure) >= 2  # the message and the table


def test_an_area_below_the_tree_line_is_said_in_words():
    """A negative margin reads «Ikke over skoggrensen; høyeste punkt 42 m under», never −42 m."""
    assert tree_line_margin(-42.0) == (
        "Over skoggrensen",
        "Ikke over skoggrensen; høyeste punkt 42 m under",
    )
    assert tree_line_margin(12.5) == ("Høyest over skoggrensen", "13 m")
    assert tree_line_margin(-0.04)[1] == "Ikke over skoggrensen; høyeste punkt i skoggrensen"
    rows = measure_rows({"max_height_above_tree_line_m": -41.6, "tree_line_source": "derived"})
    assert ("Over skoggrensen", "Ikke over skoggrensen; høyeste punkt 42 m under") in rows
    assert ("Tregrense fra", "avledet fra terrengmodell og skogdata") in rows
    assert not any("-" in value or "−" in value for _, value in rows)


@pytest.fixture
def named_deposit(client, tmp_path, override_settings) -> dict:
    """The Hemsedal plan checked against a deposit that has a name."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    x0, y0 = HEMSEDAL_XY
    named = {"geometry": box(x0 + 300, y0, x0 + 400, y0 + 100), "importance": "regional"}
    load_vector_layer("mineral_deposits", [{**named, "name": "Grøndalen grustak"}], tmp_path)
    return run_check(client, upload(client, hemsedal_plan()))


def test_no_internal_ids_in_what_a_planner_reads(client, checked):
    """Checks, layers and layer features read as words and titles in the HTML and the PDF;
    the JSON keeps the ids for machines."""
    registry = get_registry()
    # Ids that are also Norwegian words (villrein, tettsteder) may be read as words.
    internal = [
        i
        for i in (*registry, *CHECK_LABELS)
        if "_" in i or i in ("elevation", "corridor", "recreation")
    ]
    html = client.get(f"/api/v1/checks/{checked['id']}/report.html").text
    text = _text(html)
    for word in internal:
        assert not re.search(rf"\b{word}\b", text), word
    assert "kontroll: over skoggrensen" in text
    assert f"Tregrense fra kartlaget «{registry['tree_line'].title}» v1" in text
    deposits = registry["mineral_deposits"].title
    assert re.search(rf"{re.escape(deposits)} \(versjon 1\): objekt \w+", text)
    pdf = " ".join(
        pdf_text(client.get(f"/api/v1/checks/{checked['id']}/report.pdf").content).split()
    )
    assert "over skoggrensen" in pdf
    for word in ("above_tree_line", "mineral_deposits", "tree_line v1", "deposit_overlap"):
        assert word not in pdf, word
    # The JSON keeps the ids.
    body = client.get(f"/api/v1/checks/{checked['id']}").json()
    g1 = next(f for f in body["findings"] if f["rule_id"] == "G1")
    assert g1["check"] == "above_tree_line"
    assert "kartlaget tree_line v1" in g1["message"]


def test_layer_features_are_named_by_their_name(client, named_deposit):
    """A layer feature with a name reads as «its name»; its key stays in the JSON."""
    deposits = get_registry()["mineral_deposits"].title
    html = client.get(f"/api/v1/checks/{named_deposit['id']}/report.html").text
    assert f"{deposits} (versjon 2): «Grøndalen grustak»" in _text(html)
    g3 = next(f for f in named_deposit["findings"] if f["rule_id"] == "G3")
    assert g3["layer_refs"][0]["feature_keys"]


def test_maps_have_base_map_north_arrow_scale_bar_and_legend(client, checked):
    """Every map has the base map named, a north arrow, a scale bar for its width and a legend
    of what it draws (in bokmål, from the styles)."""
    html = client.get(f"/api/v1/checks/{checked['id']}/report.html").text
    maps_shown = html.count('class="mapimage"')
    assert maps_shown == 1 + len([f for f in checked["findings"] if f["severity"] != "ok"])
    assert html.count('class="north"') == maps_shown
    assert html.count(f'src="{maps.NORTH_ARROW_URI}"') == maps_shown
    assert html.count('class="scalebar"') == maps_shown
    assert html.count('aria-label="Tegnforklaring"') == maps_shown
    assert html.count("Bakgrunn: Bakgrunnskart") == maps_shown

    overview = html[html.index('id="overview"') : html.index('id="findings"')]
    legend = re.findall(r'<li><span class="swatch" style="[^"]*"></span>([^<]+)</li>', overview)
    legend = [" ".join(entry.split()) for entry in legend]
    # The plan's areas in the SOSI colours, the findings it has; nothing it does not draw.
    assert {"Konflikt", "Fritidsbebyggelse (1120)", "Boligbebyggelse (1110)"} <= set(legend)
    assert "Hensynssone" not in legend and "Planområde" not in legend
    assert "Kommunegrense" not in legend  # no boundary crosses this map
    width = re.search(r"Utsnittet er ca\. ([0-9,]+) km bredt", overview)
    assert width is not None
    bar = re.search(
        r'class="scalebar" style="width: ([0-9.]+)%".*?class="end">([^<]+)<', overview, re.S
    )
    assert bar is not None
    metres = float(bar.group(2).split()[0].replace(",", ".")) * (
        1000 if bar.group(2).endswith("km") else 1
    )
    km = float(width.group(1).replace(",", "."))
    # The bar's share of the map is its length over the map's width (the caption rounds).
    assert float(bar.group(1)) == pytest.approx(100 * metres / (km * 1000), rel=0.05)


@pytest.mark.parametrize(
    ("width_m", "label", "share"),
    [
        (2400.0, "500 m", 500 / 2400),
        (600.0, "100 m", 100 / 600),
        (1500.0, "200 m", 200 / 1500),
        (15_000.0, "2 km", 2000 / 15_000),
        (90_000.0, "20 km", 20_000 / 90_000),
    ],
)
def test_scale_bar_is_a_round_length_of_about_a_quarter(width_m, label, share):
    """1, 2 or 5 × 10^n metres, at most a quarter of the map, its share of the width exact."""
    bar = maps.scale_bar(width_m)
    assert bar.label == label
    assert bar.width_pct == pytest.approx(100 * share)
    assert bar.metres <= width_m * maps.SCALE_BAR_SHARE


def test_a_map_across_a_municipal_boundary_draws_and_lists_it(client, checked):
    """Kommunegrense is in the legend exactly when the map draws a boundary (its pixels)."""
    with get_sessionmaker()() as session:
        x, y = session.execute(
            sql(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_ClosestPoint(ST_Boundary(h.geom), "
                "ST_Centroid(g.geom)) AS p FROM municipality h, municipality g "
                "WHERE h.kommunenummer = '3326' AND g.kommunenummer = '3324') AS q"
            )
        ).one()
        settings = get_settings()
        catalog = wms_layers(session, settings, get_rule_set(settings))
        check = session.get(PlanCheckOrm, checked["id"])
        drawer = maps.ReportMaps(
            session, settings, catalog, check.proposal_version_id, check.id, {}
        )
        municipalities = replace(catalog["municipalities"], extra_styles=())
        across = (x - 1000, y - 700, x + 1000, y + 700)
        inside = (
            HEMSEDAL_XY[0] - 500,
            HEMSEDAL_XY[1] - 350,
            HEMSEDAL_XY[0] + 500,
            HEMSEDAL_XY[1] + 350,
        )
        drawn = drawer._render(("test", across), [municipalities], across, (400, 280))
        assert "Kommunegrense" in [e.label for e in drawn.legend]
        assert "Kommunegrense" not in [e.label for e in drawer.legend([municipalities], inside)]
    png = Image.open(io.BytesIO(base64.b64decode(drawn.uri.split(",", 1)[1]))).convert("RGB")
    boundary = (0x34, 0x49, 0x5E)  # layers/styles/municipalities.xml
    pixels = sum(
        1
        for pixel in png.getdata()
        if max(abs(p - b) for p, b in zip(pixel, boundary, strict=True)) < 16
    )
    assert pixels > 20


def assert_tagged_pdf(pdf: bytes, title: str) -> None:
    """PDF/UA-1 (kept beside PDF/A-3a, tests/test_report_pdfa.py): a structure tree, /MarkInfo
    /Marked true, /Lang nb, the title in the info dictionary and the XMP, shown as the window
    title."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/Lang"] == "nb"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert reader.metadata.title == title
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert 'pdfuaid:part="1"' in xmp and f">{escape(title)}</rdf:li>" in xmp


def test_pdfs_are_tagged_with_language_and_title(client, checked):
    """The report PDF is tagged (PDF/A-3a, identified as PDF/UA-1 too) with language and title."""
    pdf = client.get(f"/api/v1/checks/{checked['id']}/report.pdf").content
    assert_tagged_pdf(pdf, f"Konfliktrapport: {PLAN_NAME} – versjon 1")


def _luminance(hex_colour: str) -> float:
    # WCAG 2.1, relative luminance (sRGB).
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _long(colour: str) -> str:
    return colour if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:])


def test_report_colours_reach_wcag_aa():
    """White on each severity badge, and every text colour on white, is at least 4.5:1."""
    assert contrast("#ffffff", "#ef6c00") == pytest.approx(3.08, abs=0.01)  # the figure
    assert contrast("#ffffff", "#b45309") >= 4.5  # the warning colour the pages use too
    css = (Path(app.__file__).parent / "templates" / "reports" / "report.css").read_text()
    badges = dict(re.findall(r"\.sev-(\w+) \{ background: (#[0-9a-f]{6}); \}", css))
    assert set(badges) == {"conflict", "warning", "unknown", "info", "ok"}
    for severity, background in badges.items():
        assert contrast("#ffffff", background) >= 4.5, severity
    texts = set(re.findall(r"(?<![-\w])color: (#[0-9a-fA-F]{3,6})\b", css)) - {"#fff"}
    assert texts
    for colour in texts:
        assert contrast(_long(colour), "#ffffff") >= 4.5, colour
