"""The shipped sample proposals, checked against the demo data, give what samples/README.md says."""

from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import get_engine, get_sessionmaker
from app.settings import get_settings
from layers.demo import load_demo_data

pytestmark = pytest.mark.keep_layers
SAMPLES = Path(__file__).parent.parent / "samples"


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


def check(client, name: str) -> dict[str, list[dict]]:
    """Upload a sample, check it, and return its findings by rule."""
    upload = client.post(
        "/api/v1/proposals",
        content=(SAMPLES / name).read_bytes(),
        headers={"content-type": "application/geo+json"},
    )
    assert upload.status_code == 201, upload.text
    response = client.post(upload.json()["links"][0]["href"] + "/checks")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "done"
    assert body["summary"]["by_severity"]["unknown"] == 0  # every demo layer is loaded
    by_rule: dict[str, list[dict]] = {}
    for finding in body["findings"]:
        by_rule.setdefault(finding["rule_id"], []).append(finding)
    return by_rule


def severities(findings: list[dict]) -> dict[str, str]:
    """Map each finding's first plan key (or check name) to its severity."""
    return {
        (f["plan_feature_keys"][0] if f["plan_feature_keys"] else f["check"]): f["severity"]
        for f in findings
    }


def by_key(findings: list[dict], prefix: str) -> dict:
    return next(f for f in findings if any(k.startswith(prefix) for k in f["plan_feature_keys"]))


def test_hemsedal_kpa_2026(client):
    """G1: BFR10 conflict, BFR11 and BFR13 (new part only) warnings, BFR12/LSF1 ok; G2: B area."""
    findings = check(client, "hemsedal-kpa-2026.geojson")
    g1 = findings["G1"]
    bfr10 = by_key(g1, "BFR10")
    assert bfr10["severity"] == "conflict"
    # README: 60,000 m² counting cell centres; coverage weighting gives a few % more.
    assert bfr10["measures"]["above_tree_line_m2"] == pytest.approx(60_000, rel=0.05)
    assert bfr10["measures"]["max_elevation_m"] == pytest.approx(1046, abs=5)
    assert by_key(g1, "BFR11")["severity"] == "warning"
    bfr13 = by_key(g1, "BFR13")
    assert bfr13["severity"] == "warning"
    assert bfr13["measures"]["new_area_m2"] == pytest.approx(102_854, rel=0.001)
    assert by_key(g1, "BFR12")["severity"] == "ok"
    assert by_key(g1, "LSF1")["severity"] == "ok"
    g2_warnings = [f for f in findings["G2"] if f["severity"] == "warning"]
    assert [f["plan_feature_keys"][0][:5] for f in g2_warnings] == ["BFR10"]
    assert g2_warnings[0]["measures"]["overlap_m2"] == pytest.approx(57_742, rel=0.001)
    assert not [f for f in findings["G4"] if f["severity"] in ("conflict", "warning")]


def test_hemsedal_quick_tour_sample(client):
    """G1: BFR2 wholly above the tree line; G4 (b): Tuv 43 % outside H570_1."""
    findings = check(client, "hemsedal-kpa-demo.geojson")
    bfr2 = by_key(findings["G1"], "BFR2")
    assert bfr2["severity"] == "conflict"
    assert bfr2["measures"]["above_tree_line_pct"] == pytest.approx(100)
    tuv = next(f for f in findings["G4"] if f["check"] == "no_consideration_zone")
    assert tuv["severity"] == "warning"
    assert tuv["measures"]["uncovered_m2"] == pytest.approx(230_588, rel=0.001)


def test_kongsberg_housing_over_gravel(client):
    """G3: B12 conflict over Skollenborg, N3 buffer warning, deposit not safeguarded; G4 (b)."""
    findings = check(client, "kongsberg-kpa-boliger.geojson")
    b12 = by_key(findings["G3"], "B12")
    assert b12["severity"] == "conflict"
    assert b12["measures"]["overlap_m2"] == pytest.approx(95_804, rel=0.001)
    n3 = by_key(findings["G3"], "N3")
    assert n3["severity"] == "warning"
    assert n3["measures"]["distance_m"] == pytest.approx(69.9, abs=0.2)
    omission = next(f for f in findings["G3"] if f["check"] == "not_safeguarded")
    assert omission["severity"] == "warning"
    assert omission["measures"]["uncovered_m2"] == pytest.approx(407_349, rel=0.001)
    skrubbmoen = [
        f
        for f in findings["G4"]
        if f["check"] == "no_consideration_zone" and f["severity"] == "warning"
    ]
    assert len(skrubbmoen) == 1 and "Skrubbmoen" in skrubbmoen[0]["message"]
    g5 = by_key(findings["G5"], "B12")
    assert g5["measures"]["cell"] == "omland/forstedsområde × spredtbygd"


def test_hole_next_to_steinsletta(client):
    """G4 (a): BFS2 28 m from a sikringssone (warning); BFS1 43 % in Steinsletta (info)."""
    findings = check(client, "hole-steinsletta-regulering.geojson")
    bfs2 = by_key(findings["G4"], "BFS2")
    assert bfs2["severity"] == "warning"
    assert bfs2["measures"]["distance_m"] == pytest.approx(28.3, abs=0.2)
    ukl = next(f for f in findings["G4"] if f["check"] == "environment_overlap")
    assert ukl["severity"] == "info" and "Steinsletta" in ukl["message"]
    assert ukl["measures"]["overlap_m2"] == pytest.approx(47_240, rel=0.001)
    g5 = by_key(findings["G5"], "BFS1")
    assert g5["measures"]["pressure"] == "spredtbygd"


def test_drammen_near_the_station(client):
    """G5: storby × større tettsted, about 220 m from Drammen stasjon, requirements met."""
    findings = check(client, "drammen-stasjon-regulering.geojson")
    g5 = findings["G5"]
    assert {f["severity"] for f in g5} == {"ok"}
    bb1 = by_key(g5, "BB1")
    assert bb1["measures"]["cell"] == "storbyområde × større tettsted"
    assert bb1["measures"]["hub_distance_m"] == pytest.approx(220, abs=2)
    assert not [f for rule in ("G3", "G4") for f in findings[rule] if f["severity"] != "ok"]
