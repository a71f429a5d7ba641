"""Reports for the archive: report.pdf and agenda.pdf as PDF/A-3a (also PDF/UA-1), the findings
GeoJSON as an associated file, case references in the header, absolute links.

Read with pikepdf (qpdf), not with the code that wrote them: ISO 19005-3 (PDF/A-3) and
ISO 14289-1 (PDF/UA-1) as far as a structural check can tell; no veraPDF run.
"""

import io
import json
import re
import time
from xml.etree import ElementTree

import pikepdf
import pytest
from sqlalchemy import text as sql

from app import openapi_examples as ex
from app.db import get_sessionmaker
from tests.report_data import (
    PLAN_NAMES,
    gol_plan,
    hemsedal_plan,
    load_layers,
    pdf_text,
    upload,
)
from tests.test_agenda import item

PUBLIC_URL = "https://arealsjekk.example"
SAKSNUMMER = "2026/4711"
JOURNALPOST = "2026/4711-3"
VERSION_SAKSNUMMER = "26/815"
VERSION_JOURNALPOST = "26/815-1"
FORUM_SAKSNUMMER = "2026/123"
GOL = "3324_2026001"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
PDFUAID = "http://www.aiim.org/pdfua/ns/id/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def upload_and_check(client, features, kommunenummer, planid, version_refs, check_refs) -> dict:
    """Upload a plan filed under version_refs, check it filed under check_refs; the check."""
    version_url = upload(client, features, kommunenummer, planid, version_refs)
    response = client.post(f"{version_url}/checks", json=check_refs)
    assert response.status_code == 201, response.text
    check = response.json()
    assert check["status"] == "done"
    return check


@pytest.fixture
def checked(client, tmp_path, override_settings) -> dict:
    """Hemsedal checked under a case and record; links from PUBLIC_URL."""
    override_settings(raster_dir=tmp_path, public_url=PUBLIC_URL)
    load_layers(tmp_path)
    return upload_and_check(
        client,
        hemsedal_plan(),
        "3326",
        "2024001",
        {"saksnummer": VERSION_SAKSNUMMER, "journalpostId": VERSION_JOURNALPOST},
        {"saksnummer": SAKSNUMMER, "journalpostId": JOURNALPOST},
    )


def get_pdf(client, url: str, **params) -> bytes:
    started = time.monotonic()
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    print(
        f"\n{url} {params}: {len(response.content) / 1e3:.0f} kB, "
        f"{time.monotonic() - started:.2f} s"
    )
    return response.content


def xmp_identification(pdf: pikepdf.Pdf) -> dict[str, str]:
    """The XMP packet's identification: PDF/A part and conformance, PDF/UA part, and which
    namespaces its extension schemas describe. Exactly one rdf:RDF."""
    packet = pdf.Root.Metadata.read_bytes().decode()
    root = ElementTree.fromstring(
        packet[packet.index("<x:xmpmeta") : packet.index("<?xpacket end")]
    )
    rdfs = root.findall(f"{{{RDF}}}RDF")
    assert len(rdfs) == 1
    found: dict[str, str] = {}
    for description in rdfs[0].findall(f"{{{RDF}}}Description"):
        for key, value in description.attrib.items():
            if key.startswith(f"{{{PDFAID}}}") or key.startswith(f"{{{PDFUAID}}}"):
                assert key not in found, f"{key} twice"
                found[key] = value
    found["extension schemas"] = " ".join(
        e.text or "" for e in rdfs[0].iter(f"{{{PDFA_SCHEMA}}}namespaceURI")
    )
    return found


def fonts(resources: pikepdf.Dictionary, seen: set) -> list[pikepdf.Dictionary]:
    """Every font of a resource dictionary, its form XObjects' and patterns' too."""
    found = []
    for font in (resources.get("/Font") or {}).values():
        if font.objgen not in seen:
            seen.add(font.objgen)
            found.append(font)
    for kind in ("/XObject", "/Pattern"):
        for child in (resources.get(kind) or {}).values():
            if child.objgen not in seen and "/Resources" in child:
                seen.add(child.objgen)
                found += fonts(child.Resources, seen)
    return found


def unembedded_fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Fonts whose descriptor (a Type0 font's: its descendants') has no font program."""
    seen: set = set()
    all_fonts = [f for page in pdf.pages for f in fonts(page.Resources, seen)]
    assert all_fonts, "no fonts found"
    missing = []
    for font in all_fonts:
        # ISO 19005-3 §6.2.11.4.1: every font used for rendering is embedded. Type 3 glyphs
        # are content streams of the PDF itself.
        if font.Subtype == "/Type3":
            continue
        parts = list(font.DescendantFonts) if font.Subtype == "/Type0" else [font]
        for part in parts:
            descriptor = part.get("/FontDescriptor")
            if descriptor is None or not any(key in descriptor for key in FONT_FILES):
                missing.append(str(part.get("/BaseFont")))
    return missing


def link_uris(pdf: pikepdf.Pdf) -> list[str]:
    """The URIs of the PDF's link annotations."""
    return [
        str(annotation.A.URI)
        for page in pdf.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation and "/URI" in annotation.A
    ]


def assert_archive_pdf(content: bytes, title: str) -> pikepdf.Pdf:
    """PDF/A-3 level A, identified as PDF/UA-1 too: what can be read off the file."""
    assert content.startswith(b"%PDF-1.7\n")  # PDF/A-3 is based on PDF 1.7 (ISO 32000-1)
    pdf = pikepdf.open(io.BytesIO(content))
    assert pdf.check_pdf_syntax() == []  # qpdf finds no damage in its objects and streams
    # Identification in the XMP (ISO 19005-3 §6.6.4, ISO 14289-1 §5), with the extension
    # schema PDF/A asks for pdfuaid (§6.6.2.3.2).
    assert xmp_identification(pdf) == {
        f"{{{PDFAID}}}part": "3",
        f"{{{PDFAID}}}conformance": "A",
        f"{{{PDFUAID}}}part": "1",
        "extension schemas": PDFUAID,
    }
    with pdf.open_metadata() as xmp:
        assert xmp["dc:title"] == title
    assert str(pdf.docinfo.Title) == title
    # An sRGB output intent with its ICC profile (§6.2.3).
    (intent,) = pdf.Root.OutputIntents
    assert intent.S == "/GTS_PDFA1"
    profile = intent.DestOutputProfile
    icc = profile.read_bytes()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB " and profile.N == 3
    # Tagged (level A, PDF/UA-1): structure tree, marked content, language, title shown.
    assert "/StructTreeRoot" in pdf.Root
    assert bool(pdf.Root.MarkInfo.Marked) is True
    assert str(pdf.Root.Lang) == "nb"
    assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
    # Every font embedded (§6.2.11.4), no encryption (§6.1.3), no external content (§6.1.7).
    assert unembedded_fonts(pdf) == []
    assert not pdf.is_encrypted and "/Encrypt" not in pdf.trailer
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            assert "/F" not in obj.stream_dict and "/Ref" not in obj.stream_dict
    # Links are followed from the archive: absolute, from the configured public URL.
    uris = link_uris(pdf)
    assert uris and all(uri.startswith(f"{PUBLIC_URL}/") for uri in uris), uris
    return pdf


def test_report_pdf_is_pdf_a_3a_and_pdf_ua_1_with_case_references(client, checked):
    """report.pdf is PDF/A-3a and PDF/UA-1, embeds every font, names case and record, and
    carries nothing attached unless asked."""
    content = get_pdf(client, f"/api/v1/checks/{checked['id']}/report.pdf")
    pdf = assert_archive_pdf(content, f"Konfliktrapport: {PLAN_NAMES['3326']} – versjon 1")
    assert "/AF" not in pdf.Root and len(pdf.attachments) == 0
    text = " ".join(pdf_text(content).split())
    assert f"Saksnummer {SAKSNUMMER}" in text and f"Journalpost {JOURNALPOST}" in text
    assert f"saksnummer {SAKSNUMMER} · journalpost {JOURNALPOST}" in text  # the header
    assert f"{PUBLIC_URL}/api/v1/checks/{checked['id']}/findings" in link_uris(pdf)


def test_findings_are_attached_as_a_pdf_a_3_associated_file(client, checked):
    """?attach=findings embeds the findings GeoJSON, as the API answers it, as an associated
    file of the document (catalog /AF, AFRelationship Data, MIME type application/geo+json)."""
    check_id = checked["id"]
    content = get_pdf(client, f"/api/v1/checks/{check_id}/report.pdf", attach="findings")
    pdf = assert_archive_pdf(content, f"Konfliktrapport: {PLAN_NAMES['3326']} – versjon 1")
    name = f"funn-kontroll-{check_id}.geojson"
    (spec,) = pdf.Root.AF  # ISO 19005-3 §6.8: the document's associated files
    assert spec.Type == "/Filespec" and str(spec.F) == name and str(spec.UF) == name
    assert spec.AFRelationship == "/Data"
    assert str(spec.Desc) == f"Funn fra kontroll {check_id} som GeoJSON (RFC 7946)"
    stream = spec.EF.F
    assert stream.Type == "/EmbeddedFile" and stream.Subtype == "/application/geo+json"
    assert "/ModDate" in stream.Params
    # Listed in the name tree too, so that viewers show it as an attachment.
    assert list(pdf.attachments) == [name]
    attached = json.loads(stream.read_bytes())
    api = client.get(f"/api/v1/checks/{check_id}/findings")
    assert attached == api.json()
    assert attached["type"] == "FeatureCollection" and attached["features"]
    assert {f["properties"]["severity"] for f in attached["features"]} >= {"conflict"}


def test_an_unknown_attachment_is_refused_naming_the_parameter(client, checked):
    """attach takes only `findings`; anything else is a 422 naming the parameter, as the
    OpenAPI example says, before a layout slot is taken."""
    url = f"/api/v1/checks/{checked['id']}/report.pdf"
    response = client.get(url, params={"attach": "maps"})
    assert response.status_code == 422
    assert response.json() == ex.at(ex.REPORT_BAD_ATTACH, url).body
    documented = client.get("/api/v1/openapi.json").json()
    parameters = documented["paths"]["/api/v1/checks/{check_id}/report.pdf"]["get"]["parameters"]
    (attach,) = [p for p in parameters if p["name"] == "attach"]
    assert "findings" in json.dumps(attach["schema"]) and "associated file" in attach["description"]


def test_report_links_are_absolute_and_case_references_escaped(client, checked):
    """Every link of report.html starts with the public URL (or is an anchor); case references
    are text, escaped like any user input."""
    html = client.get(f"/api/v1/checks/{checked['id']}/report.html").text
    links = re.findall(r'href="([^"]*)"', html)
    assert links
    for link in links:
        assert link.startswith(f"{PUBLIC_URL}/") or link.startswith("#"), link
    for host in ("testserver", "127.0.0.1", "localhost"):
        assert host not in html
    assert f"<th>Saksnummer</th><td>{SAKSNUMMER}</td>" in html
    assert f"<th>Journalpost</th><td>{JOURNALPOST}</td>" in html

    # The API refuses such text; a row written some other way is still shown as text.
    with get_sessionmaker()() as session:
        session.execute(
            sql("UPDATE plan_check SET journalpost_id = :j WHERE id = :id"),
            {"j": '<a href="https://evil.example">x</a>&', "id": checked["id"]},
        )
        session.commit()
    html = client.get(f"/api/v1/checks/{checked['id']}/report.html").text
    assert "evil.example" not in re.findall(r'href="([^"]*)"', html)
    assert "&lt;a href=&#34;https://evil.example&#34;&gt;x&lt;/a&gt;&amp;" in html


def test_agenda_pdf_is_pdf_a_3a_with_the_case_references(client, checked, tmp_path):
    """agenda.pdf is PDF/A-3a and PDF/UA-1 with every font embedded; each proposal shows the
    forum's saksnummer and the checked version's case and record when there are any."""
    gol = upload_and_check(client, gol_plan(), "3324", "2026001", {}, {})
    assert client.post(f"/api/v1/proposals/{GOL}/publish").status_code == 200
    response = client.put(
        f"/api/v1/forum/proposals/{GOL}/saksnummer", json={"saksnummer": FORUM_SAKSNUMMER}
    )
    assert response.status_code == 200, response.text
    html = client.get("/api/v1/forum/agenda.html", params={"meeting_date": "2026-12-10"}).text
    assert f"<th>Saksnummer, versjon 1</th><td>{VERSION_SAKSNUMMER}</td>" in html
    assert f"<th>Journalpost, versjon 1</th><td>{VERSION_JOURNALPOST}</td>" in html
    gol_item = item(html, GOL)
    assert "Saksnummer, versjon" not in gol_item  # none given for Gol
    assert f"<th>Saksnummer</th><td>{FORUM_SAKSNUMMER}</td>" in gol_item

    content = get_pdf(client, "/api/v1/forum/agenda.pdf", meeting_date="2026-12-10")
    pdf = assert_archive_pdf(content, "Regionalt planforum – saksliste 10. desember 2026")
    text = " ".join(pdf_text(content).split())
    for phrase in (
        f"Sak {FORUM_SAKSNUMMER}",
        f"Saksnummer, versjon 1 {VERSION_SAKSNUMMER}",
        f"Journalpost, versjon 1 {VERSION_JOURNALPOST}",
    ):
        assert phrase in text, phrase
    assert f"{PUBLIC_URL}/api/v1/checks/{gol['id']}/report.html" in link_uris(pdf)
