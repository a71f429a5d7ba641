"""Issue 20, item 6: the forum's agenda is a meeting document (meeting date, saksnummer per
item, drafts marked, links from the configured public URL, and per plan the findings that
need a decision with their status and a proposed conclusion), as HTML and as PDF."""

import io
import re

import pytest
from pypdf import PdfReader

from app import openapi_examples as ex
from tests.plans import collection, encode
from tests.report_data import (
    PLAN_NAMES,
    UTM32,
    gol_plan,
    hemsedal_plan,
    load_layers,
    pdf_text,
    run_check,
    upload,
)
from tests.test_reports import assert_tagged_pdf

AGENDA = "/api/v1/forum/agenda"
PUBLIC_URL = "https://planforum.buskerud.example/arealsjekk"
GOL = "3324_2026001"
HEMSEDAL = "3326_2024001"
MEETING = {"meeting_date": "2026-12-10"}


@pytest.fixture
def meeting(client, tmp_path, override_settings) -> dict:
    """Hemsedal checked as a draft; Gol checked and published. Links from PUBLIC_URL."""
    override_settings(raster_dir=tmp_path, public_url=PUBLIC_URL)
    load_layers(tmp_path)
    hemsedal = run_check(client, upload(client, hemsedal_plan()))
    gol = run_check(client, upload(client, gol_plan(), "3324", "2026001"))
    assert client.post(f"/api/v1/proposals/{GOL}/publish").status_code == 200
    return {"hemsedal": hemsedal, "gol": gol}


def agenda_html(client, **params) -> str:
    response = client.get(f"{AGENDA}.html", params=params)
    assert response.status_code == 200, response.text
    return response.text


def item(html: str, proposal_id: str) -> str:
    """The HTML of one proposal's item on the agenda."""
    start = html.index(f'id="p-{proposal_id}"')
    end = html.find('<div class="proposal"', start + 1)
    return html[start : end if end > 0 else html.index("</main>")]


def row(html: str, finding_id: int) -> str:
    """The HTML of one finding's row (or list entry) on the agenda."""
    start = html.index(f'id="f-{finding_id}"')
    return html[start : html.index("</tr>" if "<tr" in html[start - 5 : start] else "</li>", start)]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_meeting_date_is_in_the_heading_and_numbers_the_items(client, meeting):
    """meeting_date=2026-12-10 heads the agenda; items without a saksnummer are numbered
    «Møtesak n/26» and marked as the meeting's running number."""
    html = agenda_html(client, **MEETING)
    assert "<h1>Saksliste for møte i regionalt planforum 10. desember 2026</h1>" in html
    assert "<title>Regionalt planforum – saksliste 10. desember 2026</title>" in html
    gol, hemsedal = item(html, GOL), item(html, HEMSEDAL)
    assert "<h3>Møtesak 1/26: " + PLAN_NAMES["3324"] in gol  # Gol before Hemsedal
    assert "<h3>Møtesak 2/26: " + PLAN_NAMES["3326"] in hemsedal
    assert "«Møtesak 2/26» er sakens løpenummer i møtet" in words(hemsedal)
    assert "ikke et arkivsaksnummer" in html

    undated = agenda_html(client)
    assert "Møtedato er ikke satt" in undated and "Saksliste for møte" not in undated
    bad = client.get(f"{AGENDA}.html", params={"meeting_date": "10.12.2026"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_the_forum_sets_a_saksnummer_per_proposal(client, meeting, api_keys):
    """PUT …/saksnummer sets it (forum and admin only, drafts included), the agenda shows it
    instead of the running number; bad numbers are 422, null removes it."""
    url = f"/api/v1/forum/proposals/{GOL}/saksnummer"
    response = client.put(url, json={"saksnummer": " 2026/123 "})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "proposal_id": GOL,
        "saksnummer": "2026/123",
        "links": [
            {"href": f"/api/v1/proposals/{GOL}", "rel": "related", "type": "application/json"}
        ],
    }
    forum = {"Authorization": f"Bearer {api_keys['forum']}"}
    draft = client.put(
        f"/api/v1/forum/proposals/{HEMSEDAL}/saksnummer", json={"saksnummer": "26/9"}, headers=forum
    )
    assert draft.status_code == 200 and draft.json()["saksnummer"] == "26/9"
    listed = client.get("/api/v1/forum/findings?severity=all&status=all&limit=1000").json()
    assert {i["saksnummer"] for i in listed["items"] if i["proposal_id"] == HEMSEDAL} == {"26/9"}

    html = agenda_html(client, **MEETING)
    assert "<h3>Sak 2026/123: " + PLAN_NAMES["3324"] in item(html, GOL)
    assert "<h3>Sak 26/9: " + PLAN_NAMES["3326"] in item(html, HEMSEDAL)
    assert "<th>Saksnummer</th><td>2026/123</td>" in item(html, GOL)

    for bad in ("123", "2026-123", "abcd/12", "2026/", "2026/12<script>", "", "2026/1/2"):
        response = client.put(url, json={"saksnummer": bad})
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert [p["field"] for p in response.json()["problems"]] == ["body.saksnummer"]
    missing = client.put(
        "/api/v1/forum/proposals/3324_NOSUCH/saksnummer", json={"saksnummer": None}
    )
    assert missing.status_code == 404
    planner = {"Authorization": f"Bearer {api_keys['planner_3326']}"}
    refused = client.put(
        f"/api/v1/forum/proposals/{HEMSEDAL}/saksnummer",
        json={"saksnummer": "2026/1"},
        headers=planner,
    )
    assert refused.status_code == 403

    cleared = client.put(url, json={"saksnummer": None})
    assert cleared.status_code == 200 and cleared.json()["saksnummer"] is None
    assert "<h3>Møtesak 1/26: " in item(agenda_html(client, **MEETING), GOL)


def test_drafts_are_marked(client, meeting):
    """A proposal its municipality has not published is marked «Utkast – ikke offentlig» in
    the overview and its item, and the agenda warns before anything else."""
    html = agenda_html(client, **MEETING)
    mark = '<span class="draft">Utkast – ikke offentlig</span>'
    assert mark in item(html, HEMSEDAL)
    assert mark not in item(html, GOL)
    overview = html[html.index('id="agenda-summary"') : html.index('class="municipality"')]
    assert overview.count(mark) == 1
    notice = html[html.index('id="drafts-notice"') :]
    assert "1 av planforslagene er utkast" in words(notice[: notice.index("</p>")])


def test_links_come_from_the_configured_public_url(client, meeting):
    """Every link of the HTML and the PDF starts with AREALSJEKK_PUBLIC_URL (or is an anchor in
    the page); the address the request came to is not used."""
    html = agenda_html(client, **MEETING)
    links = re.findall(r'href="([^"]*)"', html)
    assert links
    for link in links:
        assert link.startswith(f"{PUBLIC_URL}/") or link.startswith("#"), link
    check = meeting["gol"]["id"]
    assert f'href="{PUBLIC_URL}/api/v1/checks/{check}/report.html"' in html
    assert f'href="{PUBLIC_URL}/api/v1/forum/agenda.pdf?meeting_date=2026-12-10"' in html
    for host in ("127.0.0.1", "testserver", "localhost"):
        assert host not in html

    pdf = client.get(f"{AGENDA}.pdf", params=MEETING).content
    uris = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(pdf)).pages
        for annotation in page.get("/Annots", [])
        if "/URI" in annotation.get_object().get("/A", {})
    ]
    assert f"{PUBLIC_URL}/api/v1/checks/{check}/report.html" in uris
    assert all(uri.startswith(f"{PUBLIC_URL}/") for uri in uris), uris


def test_each_plan_lists_what_needs_a_decision_with_status_and_conclusion(client, meeting):
    """Conflicts, warnings and unknowns are listed per plan with their review status and a
    conclusion: the forum's (Innsigelse, Krever endring) or a proposal from the severity."""
    findings = meeting["hemsedal"]["findings"]
    g1 = next(f for f in findings if f["rule_id"] == "G1" and f["severity"] == "conflict")
    g3_conflict = next(f for f in findings if f["rule_id"] == "G3" and f["severity"] == "conflict")
    g3_warning = next(f for f in findings if f["rule_id"] == "G3" and f["severity"] == "warning")
    unknown = next(f for f in findings if f["severity"] == "unknown")
    for finding, status in ((g1, "objection"), (g3_warning, "change_required")):
        response = client.put(
            f"/api/v1/forum/findings/{finding['id']}/review",
            json={"status": status, "comment": "Vedtatt i møtet", "reviewer": "Kari"},
        )
        assert response.status_code == 200, response.text
    client.put(
        f"/api/v1/forum/findings/{g3_conflict['id']}/review",
        json={"status": "discussed", "comment": "Be om ny plassering", "reviewer": "Kari"},
    )

    html = agenda_html(client, **MEETING)
    hemsedal = item(html, HEMSEDAL)
    to_discuss = words(row(hemsedal, g3_conflict["id"]))
    assert "Drøftet" in to_discuss and "Be om ny plassering" in to_discuss
    assert "Forslag: vurdere innsigelse" in to_discuss
    open_unknown = words(row(hemsedal, unknown["id"]))
    assert "Ikke kontrollert" in open_unknown and "Åpen" in open_unknown
    assert "Forslag: be om ny kontroll når kartgrunnlaget er på plass" in open_unknown
    assert "konklusjon Innsigelse" in words(row(hemsedal, g1["id"]))
    assert "konklusjon Krever endring" in words(row(hemsedal, g3_warning["id"]))
    # Every conflict, warning and unknown of the plan is on the agenda, none twice.
    decide = [f for f in findings if f["severity"] in ("conflict", "warning", "unknown")]
    for finding in decide:
        assert hemsedal.count(f'id="f-{finding["id"]}"') == 1, finding["id"]
    gol_conflict = next(f for f in meeting["gol"]["findings"] if f["severity"] == "conflict")
    assert "Forslag: vurdere innsigelse" in words(row(item(html, GOL), gol_conflict["id"]))
    assert "kartlaget «" in html and "kartlaget tree_line" not in html  # titles, not ids


def test_the_agenda_pdf_is_a_tagged_meeting_document(client, meeting, tmp_path):
    """The PDF is tagged (PDF/UA-1, nb, titled), named by the meeting date, and carries the
    meeting date, the numbers, the draft mark and the proposed conclusions."""
    client.put(f"/api/v1/forum/proposals/{GOL}/saksnummer", json={"saksnummer": "2026/123"})
    response = client.get(f"{AGENDA}.pdf", params=MEETING)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'inline; filename="planforum-saksliste-2026-12-10.pdf"'
    )
    assert_tagged_pdf(response.content, "Regionalt planforum – saksliste 10. desember 2026")
    text = " ".join(pdf_text(response.content).split())
    for phrase in (
        "Saksliste for møte i regionalt planforum 10. desember 2026",
        "Sak 2026/123",
        "Møtesak 2/26",
        "Utkast – ikke offentlig",
        "Forslag: vurdere innsigelse",
        PUBLIC_URL,
    ):
        assert phrase in text, phrase


def test_the_documented_saksnummer_problem_is_the_answer(client):
    """The OpenAPI example of a bad saksnummer is what the service answers, word for word."""
    url = f"/api/v1/forum/proposals/{ex.PROPOSAL_ID}/saksnummer"
    response = client.put(url, json={"saksnummer": "2026-123"}, headers={"Accept-Language": "nb"})
    assert response.status_code == 422
    # The title's wording is the problem types' (app.errors); the rest is this endpoint's.
    answer = {k: v for k, v in response.json().items() if k != "title"}
    assert answer == {k: v for k, v in ex.SAKSNUMMER_INVALID.body.items() if k != "title"}


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_names_and_comments_are_text_in_the_agenda_and_report(
    client, tmp_path, override_settings
):
    """A plan name, feltnavn and review comment with markup read as text in the agenda and
    the report (escaped), and the report's maps and legends are still drawn."""
    override_settings(raster_dir=tmp_path, public_url=PUBLIC_URL)
    load_layers(tmp_path)
    cabin, housing = hemsedal_plan()
    cabin["properties"]["feltnavn"] = HOSTILE
    plan = {
        "kommunenummer": "3326",
        "planidentifikasjon": "2024666",
        "plantype": 20,
        "planstatus": 2,
        "plannavn": HOSTILE,
    }
    body = collection(cabin, housing, plan=plan, crs=UTM32)
    response = client.post("/api/v1/proposals", content=encode(body))
    assert response.status_code == 201, response.text
    check = run_check(client, response.json()["links"][0]["href"])
    conflict = next(f for f in check["findings"] if f["severity"] == "conflict")
    client.put(
        f"/api/v1/forum/findings/{conflict['id']}/review",
        json={"status": "discussed", "comment": HOSTILE, "reviewer": HOSTILE},
    )
    agenda = agenda_html(client, **MEETING)
    report = client.get(f"/api/v1/checks/{check['id']}/report.html").text
    for html in (agenda, report):
        assert "<script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert report.count('class="mapimage"') >= 2 and 'aria-label="Tegnforklaring"' in report
