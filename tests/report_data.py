"""Small layers and proposals for the report and forum tests (Hemsedal and Gol)."""

import io
from pathlib import Path

import numpy as np
from pypdf import PdfReader
from shapely.geometry import box

from tests.plans import collection, encode, feature
from tests.rule_fixtures import load_raster_layer, load_vector_layer

HEMSEDAL_XY = (470_000.0, 6_750_000.0)  # EPSG:25832
GOL_XY = (500_600.0, 6_735_300.0)
UTM32 = {"type": "name", "properties": {"name": "EPSG:25832"}}
PLAN_NAMES = {
    "3326": "Kommuneplanens arealdel Hemsedal",
    "3324": "Kommuneplan Gol, hytter og boliger",
}


def load_layers(folder: Path, deposit_licence: str = "test") -> None:
    """A tree line at 1,000 m and terrain at 1,100 m in Hemsedal; a deposit in each municipality."""
    x0, y0 = HEMSEDAL_XY
    origin = (x0 - 500.0, y0 + 600.0)
    load_raster_layer("tree_line", np.full((20, 20), 1000.0), folder, origin, cell=50.0)
    terrain = np.full((100, 100), 800.0)
    terrain[:, :60] = 1100.0
    load_raster_layer("elevation", terrain, folder, origin)
    gx, gy = GOL_XY
    deposits = [
        {"geometry": box(x0 + 300, y0, x0 + 400, y0 + 100), "importance": "regional"},
        {"geometry": box(gx, gy, gx + 200, gy + 200), "importance": "nasjonal"},
    ]
    load_vector_layer("mineral_deposits", deposits, folder, licence=deposit_licence)


def cabin(x: float, y: float, key: str) -> dict:
    """A new cabin area (1120, framtidig) of 200 x 100 m."""
    geometry = box(x, y, x + 200, y + 100).__geo_interface__
    return feature(geometry, key, arealformal=1120, arealbruksstatus=2, feltnavn=key)


def housing(x: float, y: float, key: str, size: float = 50.0) -> dict:
    """A new housing area (1110, framtidig)."""
    geometry = box(x, y, x + size, y + size).__geo_interface__
    return feature(geometry, key, arealformal=1110, arealbruksstatus=2, feltnavn=key)


def hemsedal_plan() -> list[dict]:
    """A cabin half above the tree line (G1 conflict) and housing over the deposit (G3)."""
    x0, y0 = HEMSEDAL_XY
    return [cabin(x0, y0, "BFR1"), housing(x0 + 300, y0, "B1")]


def gol_plan() -> list[dict]:
    """Housing over Gol's deposit (G3 conflict)."""
    gx, gy = GOL_XY
    return [housing(gx + 50, gy + 50, "B7", size=100.0)]


def upload(
    client,
    features: list[dict],
    kommunenummer: str = "3326",
    planid: str = "2024001",
    params: dict[str, str] | None = None,
) -> str:
    """Upload a plan version (with query parameters such as a saksnummer); return its URL."""
    plan = {
        "kommunenummer": kommunenummer,
        "planidentifikasjon": planid,
        "plantype": 20,
        "planstatus": 2,
        "plannavn": PLAN_NAMES[kommunenummer],
    }
    body = collection(*features, plan=plan, crs=UTM32)
    response = client.post("/api/v1/proposals", content=encode(body), params=params)
    assert response.status_code == 201, response.text
    return response.json()["links"][0]["href"]


def run_check(client, version_url: str) -> dict:
    """Check a version; return the finished check."""
    response = client.post(f"{version_url}/checks")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "done"
    return response.json()


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as pypdf reads it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def assert_pdf(pdf: bytes, folder: Path, *phrases: str) -> None:
    """A valid PDF of at least one page whose text has the phrases."""
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    for phrase in phrases:
        assert phrase in flat, f"{phrase!r} not in the PDF text"
